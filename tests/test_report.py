"`fer_report` end to end, as users run it: a short real training run on synthetic faces, then the console script."
import base64, io, re, shutil
import pytest
from cli_helpers import run_script
import torch

from fer_nbdev.data import synthetic_faces, write_faces
from fer_nbdev.models import create_model
from fer_nbdev.checkpoint import save_checkpoint, load_checkpoint

# anything that would make a browser fetch a resource from the network
REMOTE = re.compile(r'''<(?:img|script|link|iframe|source|video|audio|embed|object|image|use)\b[^>]*?\b(?:src|href|data|xlink:href)'''
                    r'''\s*=\s*["']?\s*(?:https?:)?//''', re.I)


@pytest.fixture(scope='module')
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp('fer_report')
    faces = synthetic_faces(n_per_class=10, seed=0)
    write_faces(faces, d / 'faces', fmt='folder')
    torch.manual_seed(0)
    try:
        from fer_nbdev.train import train, get_config
        torch.set_num_threads(2)
        cfg = get_config('seed', model='fer_tiny', model_kwargs={}, epochs=2, batch_size=32, lr=3e-3, rotate=10.0,
                         device='cpu', quiet=True, save_every_min=0.0, out=str(d / 'run'))
        train(cfg, data=faces)
    except ImportError:                     # no trainer yet: a run folder made by hand, as fer_train writes it
        from fer_nbdev.core import save_json
        save_checkpoint(d / 'run' / 'best.pt', create_model('fer_tiny', num_classes=7), faces.classes, config={'select': 'val_loss'})
        hist = [dict(epoch=e, train_loss=2 - .3 * e, train_acc=.2 + .1 * e, val_loss=2 - .2 * e, val_acc=.2 + .05 * e, lr=1e-3)
                for e in (1, 2)]
        save_json(hist, d / 'run' / 'metrics.json'); save_json({'model': 'fer_tiny', 'select': 'val_loss'}, d / 'run' / 'config.json')
    save_checkpoint(d / 'k3.pt', create_model('fer_tiny', num_classes=3), ['x', 'y', 'z'])
    (d / 'broken.pt').write_bytes((d / 'run' / 'best.pt').read_bytes()[:200])
    torch.save({'state_dict': {}}, d / 'foreign.pt')
    (d / 'empty').mkdir()
    return d


def run(work, *args):
    return run_script('fer_report', *args, cwd=work, env=dict(FER_NBDEV_CACHE=str(work / 'cache'), FER2013=''))


def _check_page(page):
    assert page.startswith('<!DOCTYPE html>') and page.rstrip().endswith('</html>')
    assert not REMOTE.search(page), REMOTE.search(page).group(0)
    assert 'url(http' not in page and '@import' not in page and '<link' not in page


def _pngs(page):
    from PIL import Image
    import numpy as np
    out = []
    for b in re.findall(r'src="data:image/png;base64,([^"]+)"', page):
        im = Image.open(io.BytesIO(base64.b64decode(b)))
        out.append((im.size, float(np.asarray(im.convert('L'), dtype=float).std())))
    return out


def test_report_of_run(work):
    r = run(work, work / 'run', '--data', work / 'faces', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    path = work / 'run' / 'report.html'                              # default: report.html in the run folder
    assert path.exists() and str(path) in r.stdout
    page = path.read_text(encoding='utf-8')
    _check_page(page)
    for title in ('Evaluation', 'Training history', 'Confusion matrices', 'Calibration', 'Faces and predictions', 'Configuration'):
        assert re.search(f'<h2 id="[a-z-]+">{title}', page), title
    assert page.count('<figure') == 20                               # history, 3 x 2 per split, 3 reliability, 5 with faces,
    assert page.count('<svg') == 10                                  # 5 with saliency maps
    assert re.search('<h2 id="[a-z-]+">Where the model looks', page)
    pngs = _pngs(page)
    assert len(pngs) == 10 and all(w > 500 and h > 400 and sd > 10 for (w, h), sd in pngs), pngs
    for split in ('val', 'test', 'combined'): assert f'>{split}<' in page or f'>{split} (' in page
    for c in ('angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'): assert c in page
    assert 'fer_tiny' in page and 'ECE' in page
    # several inline SVGs in one document: their ids carry the figure's prefix, so no two figures share one
    ids = re.findall(r'\bid="([^"]+)"', page)
    dup = {i for i in ids if ids.count(i) > 1}
    assert all(re.match(r'fig\d+-image', i) for i in dup), dup       # (matplotlib reuses an id for identical images)


def test_report_of_checkpoint_with_model_card(work):
    ck = work / 'model' / 'fer_tiny.pt'
    ck.parent.mkdir(exist_ok=True)
    shutil.copy(work / 'run' / 'best.pt', ck)
    (ck.parent / 'MODEL_CARD.md').write_text('# fer_tiny\n\nTrained on **synthetic** faces. ![logo](https://example.com/logo.png)\n'
                                             'Details: <https://example.com/card>\n')
    out = work / 'out' / 'card_report.html'
    r = run(work, ck, '--data', work / 'faces', '--out', out, '--tta', 'flip', '--k', 3)
    assert r.returncode == 0, r.stderr
    page = out.read_text(encoding='utf-8')
    _check_page(page)
    assert '>Model card</h2>' in page and '<strong>synthetic</strong>' in page and 'example.com/logo.png' not in page
    assert 'Training history' not in page                            # the checkpoint's folder has no metrics.json
    assert page.count('<figure') == 19


def test_report_of_weights_with_history(work):
    "Exported weights (.safetensors, as fer_nbdev ships its default model) carrying the training history in their metadata."
    from fer_nbdev.checkpoint import export_weights
    from fer_nbdev.plots import load_history
    w = work / 'weights' / 'model.safetensors'
    w.parent.mkdir(exist_ok=True)
    export_weights(work / 'run' / 'best.pt', w, extra={'history': load_history(work / 'run')})
    out = work / 'out' / 'weights_report.html'
    r = run(work, w, '--data', work / 'faces', '--out', out, '--device', 'cpu', '--no_maps')
    assert r.returncode == 0, r.stderr
    page = out.read_text(encoding='utf-8')
    _check_page(page)
    assert re.search('<h2 id="[a-z-]+">Training history', page) and page.count('<figure') == 15
    assert 'Where the model looks' not in page                       # --no_maps: no saliency maps


def test_report_interactive_is_offline(work):
    from fer_nbdev.report import build_report
    from fer_nbdev.data import load_faces
    out = build_report(work / 'run', data=load_faces(work / 'faces', cache=False), out=work / 'interactive.html',
                       interactive=True, device='cpu')
    page = out.read_text(encoding='utf-8')
    assert '<script src' not in page and 'Plotly.newPlot' in page and page.count('plotly-graph-div') >= 2
    assert len(page) > 4_000_000                                      # plotly.js is inside the page


def test_calibrated_checkpoint(work):
    from fer_nbdev.calibrate import calibrate_checkpoint
    res = calibrate_checkpoint(work / 'run' / 'best.pt', data=work / 'faces', out=work / 'calibrated.pt', device='cpu')
    _, ck = load_checkpoint(work / 'calibrated.pt')
    assert ck['temperature'] == res['temperature'] > 0 and set(res['ece']) == {'val', 'test'}
    assert ck['calibration']['fit_split'] == 'val'


@pytest.mark.parametrize('args,msg', [
    (('nowhere',), 'no such run folder or checkpoint'),
    (('empty',), 'not a fer_train run folder'),
    (('foreign.pt',), 'not a fer_nbdev checkpoint'),
    (('broken.pt',), 'broken.pt'),
    (('run', '--data', 'nowhere'), 'nowhere'),
    (('k3.pt', '--data', 'faces'), 'classes'),
    (('run', '--data', 'faces', '--tta', 'mirror'), 'unknown tta'),
])
def test_bad_input(work, args, msg):
    r = run(work, *args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.count('\n') == 1 and r.stderr.startswith('fer_report: error:') and msg in r.stderr, r.stderr


def test_corrupt_face_is_named_without_a_flag_fer_report_lacks(work):
    data = write_faces(synthetic_faces(n_per_class=4, seed=1), work / 'jpgs', ext='jpg')
    bad = sorted((data / 'test' / 'happy').glob('*.jpg'))[0]; bad.write_bytes(bad.read_bytes()[:200])
    r = run(work, 'run', '--data', data, '--out', work / 'corrupt.html', '--no_maps')
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and bad.name in r.stderr, r.stderr
    assert 'fer_eval --lenient' in r.stderr and 'pass --lenient' not in r.stderr, r.stderr
    assert not (work / 'corrupt.html').exists()
