"End-to-end tests of the `fer_inspect` console script: a good dataset, every kind of bad input, and the real FER-2013."
import json, shutil, zipfile
from pathlib import Path
import pytest
from cli_helpers import run_script
from fer_nbdev.core import find_fer2013
from fer_nbdev.data import synthetic_faces, write_faces

def run(*args, cache=None, timeout=300):
    return run_script('fer_inspect', *args, env=None if cache is None else dict(FER_NBDEV_CACHE=str(cache)), timeout=timeout)

@pytest.fixture(scope='module')
def kaggle(tmp_path_factory):
    "A small synthetic dataset in the Kaggle layout: 3 images per class in train, val (PublicTest_) and test (PrivateTest_)."
    return write_faces(synthetic_faces(n_per_class=3), tmp_path_factory.mktemp('syn')/'kaggle')

def test_good_folder_prints_the_report(kaggle, tmp_path):
    r = run(kaggle, '--json', tmp_path/'rep.json', cache=tmp_path/'cache')
    assert r.returncode == 0, r.stderr
    assert r.stderr == ''
    out = r.stdout.splitlines()
    assert out[0].startswith(f'{kaggle}: 63 images 48x48, 7 classes (folder, layout kaggle, splits from file-name prefixes)')
    assert 'cache miss' in out[0]
    rows = {l.split()[0]: l.split()[1:] for l in out if l.split() and l.split()[0] in ('split', 'train', 'val', 'test', 'combined', 'all')}
    assert rows['split'] == ['images', 'angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']
    assert rows['train'] == rows['val'] == rows['test'] == ['21'] + ['3'] * 7
    assert rows['combined'] == ['42'] + ['6'] * 7 and rows['all'] == ['63'] + ['9'] * 7
    for key in ('original sizes: 48x48 (63); modes: L (63)', 'exact duplicates: 0 groups',
                'cross-split leakage: 0 duplicate groups', 'near-blank images (pixel std < 1): 0'):
        assert any(l.startswith(key) for l in out), key
    rep = json.loads((tmp_path/'rep.json').read_text())
    assert rep['counts']['train']['total'] == 21 and rep['counts']['combined']['happy'] == 6
    r2 = run(kaggle, cache=tmp_path/'cache')                     # second run: from the cache
    assert r2.returncode == 0 and 'cache hit' in r2.stdout.splitlines()[0]

def test_lenient_and_drop_leaks(kaggle, tmp_path):
    d = synthetic_faces(n_per_class=3)
    d.images[25] = d.images[50] = d.images[0]                     # a train face also in val and test
    d.images[7] = 100                                             # a blank face
    p = write_faces(d, tmp_path/'planted.zip', 'zip')
    r = run(p, cache=tmp_path/'cache')
    assert r.returncode == 0, r.stderr
    assert 'exact duplicates: 1 groups of byte-identical images (3 images)' in r.stdout
    assert 'cross-split leakage: 1 duplicate groups span two or more splits (train-val 1, train-test 1, val-test 1)' in r.stdout
    assert 'near-blank images (pixel std < 1): 1 e.g. train/fear/Training_00007.png' in r.stdout
    r = run(p, '--drop_leaks', cache=tmp_path/'cache')
    assert r.returncode == 0, r.stderr
    assert 'dropped from train: 1 images whose pixels also occur in val/test' in r.stdout
    assert '0 link train to val/test' in r.stdout
    bad = Path(shutil.copytree(kaggle, tmp_path/'bad'))
    (bad/'train'/'sad'/'notes.txt').write_text('labels')
    r = run(bad, '--lenient', cache=tmp_path/'cache')
    assert r.returncode == 0, r.stderr
    assert 'skipped bad entries: 1' in r.stdout and 'train/sad/notes.txt: not an image' in r.stdout

# Each bad input: how to make it (from a fresh copy of the good folder) and what the one-line message must say.
def _corrupt(p):
    f = p/'train'/'sad'/'Training_00015.png'; b = f.read_bytes()
    f.write_bytes(b[:len(b) // 2] + bytes(200) + b[len(b) // 2 + 200:]); return p, 'train/sad/Training_00015.png: corrupt image'
def _truncated(p):
    f = p/'train'/'fear'/'Training_00006.png'; f.write_bytes(f.read_bytes()[:300]); return p, 'train/fear/Training_00006.png: truncated image'
def _nonimage(p):
    (p/'train'/'happy'/'labels.csv').write_text('a,b\n'); return p, 'train/happy/labels.csv: not an image'
def _empty_class(p):
    (p/'train'/'contempt').mkdir(); return p, 'train/contempt: empty class folder'
def _unknown_class(p):
    (p/'test'/'contempt').mkdir(); shutil.copy(p/'test'/'fear'/'PublicTest_00027.png', p/'test'/'contempt')
    return p, "test/contempt: class folder 'contempt' is not in train/"
def _flat(p):
    flat = p.parent/'flat'; flat.mkdir()
    for f in sorted(p.rglob('*.png'))[:5]: shutil.copy(f, flat)
    return flat, 'flat: wrong layout: images directly in it and no class folders'
def _no_train(p):
    z = p.parent/'test_only.zip'
    with zipfile.ZipFile(z, 'w') as zf:
        for f in sorted((p/'test').rglob('*.png')): zf.write(f, f.relative_to(p).as_posix())
    return z, 'test_only.zip: wrong layout: no train/ folder (found test/)'
def _missing(p): return p.parent/'nowhere.tar.xz', 'nowhere.tar.xz: no such file or folder'
def _bad_csv_row(p):
    c = write_faces(synthetic_faces(n_per_class=2), p.parent/'fer2013.csv', 'csv')
    lines = c.read_text().splitlines(); lines[6] = '4,1 2 3,PublicTest'; c.write_text('\n'.join(lines) + '\n')
    return c, 'fer2013.csv: row 5 (line 7): 3 pixel values do not make a square image'
def _truncated_zip(p):
    z = write_faces(synthetic_faces(n_per_class=2), p.parent/'fer.zip', 'zip')
    z.write_bytes(z.read_bytes()[:4000]); return z, 'fer.zip: corrupt or truncated zip archive'

BAD = [_corrupt, _truncated, _nonimage, _empty_class, _unknown_class, _flat, _no_train, _missing, _bad_csv_row, _truncated_zip]

@pytest.mark.parametrize('make', BAD, ids=[f.__name__.strip('_') for f in BAD])
def test_bad_input_is_one_line_and_exit_2(make, kaggle, tmp_path):
    path, expected = make(Path(shutil.copytree(kaggle, tmp_path/'data')))
    r = run(path, cache=tmp_path/'cache')
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.count('\n') == 1 and r.stderr.endswith('\n'), r.stderr
    assert r.stderr.startswith('fer_inspect: error: ') and 'Traceback' not in r.stderr
    assert expected in r.stderr, r.stderr
    assert r.stdout == ''

FER = find_fer2013()

@pytest.mark.skipif(FER is None or not FER.exists(), reason='FER-2013 archive not found (set $FER2013)')
def test_real_fer2013_figures(tmp_path):
    "The published figures of the real archive; uses the user's decode cache, so only the first run decodes."
    r = run(FER, '--json', tmp_path/'rep.json')
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert 'exact duplicates: 1,516 groups of byte-identical images (3,369 images)' in out
    assert 'cross-split leakage: 557 duplicate groups span two or more splits (train-val 270, train-test 278, val-test 43)' in out
    assert '531 link train to val/test, holding 703 train images' in out
    assert 'near-blank images (pixel std < 1): 13' in out
    rows = {l.split()[0]: l.split()[1:] for l in out.splitlines() if l.split()}
    assert rows['train'] == ['28,709', '3,995', '436', '4,097', '7,215', '4,965', '4,830', '3,171']
    assert rows['val'] == ['3,589', '467', '56', '496', '895', '607', '653', '415']
    assert rows['test'] == ['3,589', '491', '55', '528', '879', '626', '594', '416']
    assert rows['combined'][0] == '7,178'
    rep = json.loads((tmp_path/'rep.json').read_text())
    assert (rep['duplicates']['groups'], rep['duplicates']['images'], rep['leakage']['groups'], rep['blank']['count']) == (1516, 3369, 557, 13)
    r = run(FER, '--drop_leaks')
    assert r.returncode == 0, r.stderr
    assert 'dropped from train: 703 images whose pixels also occur in val/test' in r.stdout
    assert 'cache hit' in r.stdout.splitlines()[0]
