"`fer_eval` end to end, as users run it: a subprocess on a synthetic dataset folder and tiny checkpoints."
import json
import pytest
from cli_helpers import run_script
import torch

from fer_nbdev.data import synthetic_faces, write_faces
from fer_nbdev.models import create_model
from fer_nbdev.checkpoint import save_checkpoint


@pytest.fixture(scope='module')
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp('fer_eval')
    faces = synthetic_faces(n_per_class=6, seed=0)
    write_faces(faces, d / 'faces', fmt='folder')
    torch.manual_seed(0)
    save_checkpoint(d / 'run' / 'a.pt', create_model('fer_tiny', num_classes=len(faces.classes)), faces.classes)
    torch.manual_seed(1)
    save_checkpoint(d / 'b.pt', create_model('fer_tiny', num_classes=len(faces.classes)), faces.classes)
    save_checkpoint(d / 'k3.pt', create_model('fer_tiny', num_classes=3), ['x', 'y', 'z'])
    (d / 'broken.pt').write_bytes((d / 'run' / 'a.pt').read_bytes()[:200])
    torch.save({'state_dict': {}}, d / 'foreign.pt')
    (d / 'notes.txt').write_text('not a dataset\n')
    (d / 'empty').mkdir()
    return d


def run(work, *args):
    return run_script('fer_eval', *args, cwd=work, env=dict(FER_NBDEV_CACHE=str(work / 'cache'), FER2013=''))


def test_eval_ok(work):
    r = run(work, work / 'run' / 'a.pt', '--data', work / 'faces', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    res = json.loads((work / 'run' / 'eval.json').read_text())       # default: eval.json beside the checkpoint
    assert list(res['splits']) == ['val', 'test', 'combined']
    s = res['splits']
    assert s['combined']['n'] == s['val']['n'] + s['test']['n'] > 0
    for m in s.values():
        assert abs(m['accuracy'] - sum(m['confusion'][i][i] for i in range(7)) / m['n']) < 1e-9
    out = r.stdout
    assert 'accuracy' in out and 'macro-F1' in out and 'per class on test' in out and 'surprise' in out
    assert 'Traceback' not in r.stderr


def test_eval_ensemble_tta_out(work):
    out = work / 'sub' / 'ens.json'
    r = run(work, work / 'run' / 'a.pt', work / 'b.pt', '--data', work / 'faces', '--splits', 'test',
            '--tta', 'flip', '--out', out, '--device', 'cpu', '--batch_size', '5')
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert list(res['splits']) == ['test'] and res['tta'] == 'flip' and res['views'] == 2
    assert len(res['checkpoints']) == 2


@pytest.mark.parametrize('case, args, words', [
    ('missing checkpoint', ['nope.pt', '--data', 'faces'], 'nope.pt'),
    ('truncated checkpoint', ['broken.pt', '--data', 'faces'], 'broken.pt'),
    ('foreign checkpoint', ['foreign.pt', '--data', 'faces'], 'foreign.pt'),
    ('ensemble of other classes', ['run/a.pt', 'k3.pt', '--data', 'faces'], 'classes'),
    ('checkpoint classes differ from data', ['k3.pt', '--data', 'faces'], 'classes'),
    ('missing data path', ['run/a.pt', '--data', 'no_such_dir'], 'no_such_dir'),
    ('data not a dataset', ['run/a.pt', '--data', 'notes.txt'], 'notes.txt'),
    ('empty data folder', ['run/a.pt', '--data', 'empty'], 'empty'),
    ('unknown split', ['run/a.pt', '--data', 'faces', '--splits', 'val,private'], 'private'),
    ('unknown tta', ['run/a.pt', '--data', 'faces', '--tta', 'tencrop'], 'tencrop'),
    ('unknown device', ['run/a.pt', '--data', 'faces', '--device', 'foo'], "device 'foo': unknown device"),
    pytest.param('cuda without a GPU', ['run/a.pt', '--data', 'faces', '--device', 'cuda'], 'CUDA is not available',
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU')),
])
def test_eval_bad_input(work, case, args, words):
    r = run(work, '--device', 'cpu', *args, '--out', work / f'bad-{case}.json')
    assert r.returncode == 2, (case, r.returncode, r.stderr)
    err = r.stderr.strip()
    assert '\n' not in err and err.startswith('fer_eval: error:'), (case, r.stderr)
    assert words in err, (case, err)
    assert 'Traceback' not in r.stderr + r.stdout
    assert not (work / f'bad-{case}.json').exists()


def test_eval_lenient_skips_a_corrupt_jpg(work):
    data = write_faces(synthetic_faces(n_per_class=6, seed=0), work / 'jpgs', ext='jpg')
    bad = sorted((data / 'test' / 'happy').glob('*.jpg'))[0]; bad.write_bytes(bad.read_bytes()[:200])
    r = run(work, work / 'run' / 'a.pt', '--data', data, '--device', 'cpu', '--out', work / 'strict.json', '--no_figures')
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and bad.name in r.stderr and '--lenient' in r.stderr, r.stderr
    r = run(work, work / 'run' / 'a.pt', '--data', data, '--device', 'cpu', '--out', work / 'lenient.json', '--no_figures', '--lenient')
    assert r.returncode == 0, r.stderr
    res = json.loads((work / 'lenient.json').read_text())
    assert res['skipped'] == 1 and '(1 bad files skipped)' in r.stdout
    assert res['splits']['combined']['n'] == 6 * 7 * 2 - 1
