"`fer_train` end to end as users run it: a real subprocess, exit codes, stderr, Ctrl-C and --resume."
import os, sys, json, time, signal, subprocess
import pytest, torch

@pytest.fixture(scope='module')
def faces_dir(tmp_path_factory):
    "A small synthetic dataset in the Kaggle folder layout."
    from fer_nbdev.data import synthetic_faces, write_faces
    d = tmp_path_factory.mktemp('faces')/'fer'
    write_faces(synthetic_faces(n_per_class=10, seed=0), d)
    return d

@pytest.fixture(scope='module')
def env(tmp_path_factory):
    e = dict(os.environ, FER_NBDEV_CACHE=str(tmp_path_factory.mktemp('cache')), OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    e.pop('FER_DEBUG', None)
    return e

def fer_train(*args, env, timeout=300, **kw):
    return subprocess.run([sys.executable, '-m', 'fer_nbdev.train', *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=timeout, **kw)

TINY = ['--device', 'cpu', '--set', 'model=fer_tiny', 'batch_size=32', 'save_every_min=0']

def test_train_end_to_end(faces_dir, env, tmp_path):
    out = tmp_path/'run'
    r = fer_train('--data', faces_dir, '--out', out, '--epochs', 2, '--quiet', *TINY, env=env)
    assert r.returncode == 0, r.stderr
    assert 'Traceback' not in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ['best.pt', 'config.json', 'history.html', 'history.png',
                                                    'history.svg', 'last.pt', 'metrics.csv', 'metrics.json', 'plotly.min.js']
    hist = json.loads((out/'metrics.json').read_text())
    assert [h['epoch'] for h in hist] == [1, 2]
    assert {'train_loss', 'train_acc', 'val_loss', 'val_acc', 'lr', 'epoch_time', 'time'} <= set(hist[0])
    cfg = json.loads((out/'config.json').read_text())
    assert (cfg['recipe'], cfg['model'], cfg['epochs'], cfg['batch_size']) == ('seed', 'fer_tiny', 2, 32)
    assert 'best epoch' in r.stdout and str(out/'best.pt') in r.stdout
    from fer_nbdev.checkpoint import load_checkpoint
    model, ck = load_checkpoint(out/'best.pt')
    assert ck['arch'] == 'fer_tiny' and ck['config']['model'] == 'fer_tiny' and 'train_state' not in ck
    assert load_checkpoint(out/'last.pt')[1]['train_state']['epoch'] == 2

def test_progress_lines_when_not_quiet(faces_dir, env, tmp_path):
    r = fer_train('--data', faces_dir, '--out', tmp_path/'run', '--epochs', 1, *TINY, env=env)
    assert r.returncode == 0, r.stderr
    assert 'epoch   1/1' in r.stdout and 'val loss' in r.stdout      # no TTY: one line per epoch, no bars

@pytest.mark.parametrize('args,msg', [
    (['--set', 'lrr=0.1'], "unknown setting 'lrr'; did you mean lr?"),
    (['--set', 'epochs=two'], "epochs='two': expected int"),
    (['--set', 'compile=maybe'], "compile='maybe': expected bool"),
    (['--set', 'schedule=linear'], "schedule must be one of constant, onecycle, cosine"),
    (['--recipe', 'slowest'], "unknown recipe 'slowest'"),
    (['--data', '/no/such/dataset'], "/no/such/dataset"),
    (['--resume', '/no/such/run'], "no such checkpoint"),
    (['--set', 'model=no_such_net'], "unknown model 'no_such_net'"),
    (['--device', 'foo'], "device 'foo': unknown device"),
    pytest.param(['--device', 'cuda'], "CUDA is not available", marks=pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU')),
    (['--set', 'lr=inf'], "lr must be a finite number, got inf"),
    (['--set', 'ema=nan'], "ema must be a finite number, got nan"),
    (['--data', '/no/such\nfaces'], "/no/such\\nfaces: no such file or folder"),     # a newline in a name: still one line
    (['--recipe', 'distill'], "the distill recipe needs teachers"),
    (['--recipe', 'distill', '--set', 'teachers=[/no/teacher.pt]'], "teacher /no/teacher.pt: no such checkpoint"),
])
def test_bad_input_one_line_exit_2(faces_dir, env, tmp_path, args, msg):
    base = ['--out', tmp_path/'run', '--device', 'cpu', '--quiet']
    if '--data' not in args: base += ['--data', faces_dir]
    r = fer_train(*base, *args, env=env)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert 'Traceback' not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('fer_train: error:') and msg in lines[0], r.stderr
    assert not (tmp_path/'run'/'last.pt').exists()

def test_distill_recipe(faces_dir, env, tmp_path):
    "--recipe distill with a teacher ensemble: the teachers' probabilities are cached in the run folder; wrong classes are refused."
    from fer_nbdev.data import load_faces
    from fer_nbdev.models import create_model
    from fer_nbdev.checkpoint import save_checkpoint
    classes = load_faces(faces_dir).classes
    t1, t2 = (save_checkpoint(tmp_path/f't{i}.pt', create_model('fer_tiny', num_classes=len(classes)), classes) for i in (1, 2))
    out = tmp_path/'student'
    r = fer_train('--recipe', 'distill', '--data', faces_dir, '--out', out, '--epochs', 1, *TINY, f'teachers=[{t1},{t2}]',
                  'figures=false', env=env)
    assert r.returncode == 0, r.stderr
    assert f"written to {out/'teacher_probs.pt'}" in r.stdout
    cache = torch.load(out/'teacher_probs.pt', weights_only=True)
    assert cache['teachers'] == [str(t1), str(t2)] and cache['probs'].shape[1:] == (2, len(classes))
    assert json.loads((out/'config.json').read_text())['distill_alpha'] == 0.7
    bad = save_checkpoint(tmp_path/'bad.pt', create_model('fer_tiny', num_classes=3), ['a', 'b', 'c'])
    r = fer_train('--recipe', 'distill', '--data', faces_dir, '--out', tmp_path/'x', '--epochs', 1, *TINY, f'teachers={bad}', env=env)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "differ from the data's" in r.stderr, r.stderr

def test_ctrl_c_then_resume(faces_dir, env, tmp_path):
    "SIGINT saves last.pt at the current step and exits 130; --resume then finishes the run."
    out = tmp_path/'run'
    # small batches: many steps per epoch, so that the interrupt lands mid-epoch
    p = subprocess.Popen([sys.executable, '-m', 'fer_nbdev.train', '--data', str(faces_dir), '--out', str(out),
                          '--epochs', '50', '--device', 'cpu', '--quiet', '--set', 'model=fer_tiny', 'batch_size=4',
                          'save_every_min=0'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not (out/'metrics.json').exists():           # the first epoch is done: last.pt exists
        assert p.poll() is None, p.communicate()
        assert time.time() - t0 < 240, 'no epoch finished in 4 minutes'
        time.sleep(0.2)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, stderr)
    assert 'Traceback' not in stderr
    assert stderr.strip().splitlines()[-1].startswith('fer_train: interrupted') and '--resume' in stderr, stderr
    from fer_nbdev.checkpoint import load_checkpoint
    ts = load_checkpoint(out/'last.pt')[1]['train_state']
    assert ts['epoch'] >= 1 and ts['epoch'] < 50
    done = len(json.loads((out/'metrics.json').read_text()))
    target = ts['epoch'] + 1                           # finish the interrupted epoch and stop there
    r = fer_train('--resume', out, '--epochs', target, '--quiet', env=env)
    assert r.returncode == 0, r.stderr
    hist = json.loads((out/'metrics.json').read_text())
    assert [h['epoch'] for h in hist] == list(range(1, target + 1)) and done <= target
    assert load_checkpoint(out/'last.pt')[1]['train_state']['epoch'] == target
    assert json.loads((out/'config.json').read_text())['epochs'] == target


def test_out_is_a_file(faces_dir, env, tmp_path):
    f = tmp_path/'notes.txt'; f.write_text('mine')
    r = fer_train('--data', faces_dir, '--out', f, '--quiet', *TINY, env=env)
    assert r.returncode == 2 and r.stderr == f'fer_train: error: {f}: is a file, not a run folder\n', r.stderr
    assert f.read_text() == 'mine'

def test_a_finished_run_is_never_overwritten(faces_dir, env, tmp_path):
    out = tmp_path/'old'
    assert fer_train('--data', faces_dir, '--out', out, '--epochs', 3, '--quiet', *TINY, env=env).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.suffix in ('.pt', '.csv', '.json')}
    r = fer_train('--data', faces_dir, '--out', out, '--epochs', 1, '--quiet', *TINY, env=env)
    assert r.returncode == 2 and r.stderr.count('\n') == 1, r.stderr
    assert f'{out} already holds a training run' in r.stderr and f'--resume {out}' in r.stderr and '--overwrite' in r.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.suffix in ('.pt', '.csv', '.json')} == before
    r = fer_train('--data', faces_dir, '--out', out, '--epochs', 1, '--quiet', '--overwrite', *TINY, env=env)
    assert r.returncode == 0, r.stderr
    assert len((out/'metrics.csv').read_text().splitlines()) == 2          # header + the new run's one epoch

def _no_times(rows): return [{k: v for k, v in r.items() if 'time' not in k} for r in rows]

def test_kill_9_then_resume_with_the_fast_recipe(tmp_path_factory, env, tmp_path):
    "SIGKILL after epoch 2 (no chance to save): the fast recipe's last.pt is at most one epoch old, and --resume ends bit-identical."
    from fer_nbdev.data import synthetic_faces, write_faces
    from fer_nbdev.checkpoint import load_checkpoint
    data = write_faces(synthetic_faces(n_per_class=30, seed=1), tmp_path/'faces')
    args = ['--recipe', 'fast', '--data', data, '--epochs', 6, '--limit', 140, '--device', 'cpu', '--quiet',
            '--set', 'model=fer_tiny', 'batch_size=4', 'save_every_min=0', 'figures=false']
    r = fer_train('--out', tmp_path/'a', *args, env=env)
    assert r.returncode == 0, r.stderr
    out = tmp_path/'b'
    p = subprocess.Popen([sys.executable, '-m', 'fer_nbdev.train', '--out', str(out), *map(str, args)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not ((out/'metrics.csv').exists() and len((out/'metrics.csv').read_text().splitlines()) >= 3):   # 2 epochs written
        assert p.poll() is None, p.communicate()
        assert time.time() - t0 < 240, 'two epochs did not finish in 4 minutes'
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL); p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL
    done = len((out/'metrics.csv').read_text().splitlines()) - 1
    assert 2 <= done < 6, done
    assert load_checkpoint(out/'last.pt')[1]['train_state']['epoch'] >= done   # at most the running epoch is lost
    (out/'.last.pt.k1ll9ed0.tmp').write_bytes(b'half a checkpoint')           # what a kill during a save leaves
    r = fer_train('--resume', out, '--quiet', env=env)
    assert r.returncode == 0, r.stderr
    assert not (out/'.last.pt.k1ll9ed0.tmp').exists()
    a, b = (json.loads((tmp_path/n/'metrics.json').read_text()) for n in ('a', 'b'))
    assert len(b) == 6 and _no_times(b) == _no_times(a)
    digests = [load_checkpoint(tmp_path/n/'last.pt')[1]['train_state']['rank_digests'] for n in ('a', 'b')]
    assert digests[0] == digests[1] and len(digests[0]) == 1, digests     # the final weights, bit for bit

def test_lenient_skips_a_corrupt_jpg(env, tmp_path):
    from fer_nbdev.data import synthetic_faces, write_faces
    data = write_faces(synthetic_faces(n_per_class=10, seed=2), tmp_path/'faces', ext='jpg')
    bad = sorted((data/'train'/'happy').glob('*.jpg'))[0]; bad.write_bytes(bad.read_bytes()[:200])
    r = fer_train('--data', data, '--out', tmp_path/'strict', '--epochs', 1, '--quiet', *TINY, env=env)
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and bad.name in r.stderr and '--lenient' in r.stderr, r.stderr
    r = fer_train('--data', data, '--out', tmp_path/'run', '--epochs', 1, '--lenient', *TINY, env=env)
    assert r.returncode == 0, r.stderr
    assert '(1 bad files skipped)' in r.stdout + r.stderr
