"DDP on the CPU: `torchrun --nproc_per_node=2 -m fer_nbdev.train` with the gloo backend on synthetic faces."
import os, sys, json, subprocess
import pytest

@pytest.fixture(scope='module')
def faces_dir(tmp_path_factory):
    from fer_nbdev.data import synthetic_faces, write_faces
    d = tmp_path_factory.mktemp('faces')/'fer'
    write_faces(synthetic_faces(n_per_class=10, seed=0), d)
    return d

def test_ddp_two_processes(faces_dir, tmp_path):
    runs = tmp_path/'runs'
    out = runs/'ddp'
    env = dict(os.environ, FER_NBDEV_CACHE=str(tmp_path/'cache'), OMP_NUM_THREADS='1',
               PYTHONUNBUFFERED='1')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '-m', 'fer_nbdev.train',
           '--data', str(faces_dir), '--out', str(out), '--epochs', '2', '--device', 'cpu',
           '--set', 'model=fer_tiny', 'batch_size=32', 'save_every_min=0', 'ema=0.9']
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # one run folder, written by rank 0 only, and each file once
    assert [p.name for p in runs.iterdir()] == ['ddp']
    assert sorted(p.name for p in out.iterdir()) == ['best.pt', 'config.json', 'history.html', 'history.png',
                                                    'history.svg', 'last.pt', 'metrics.csv', 'metrics.json', 'plotly.min.js']
    hist = json.loads((out/'metrics.json').read_text())
    assert [h['epoch'] for h in hist] == [1, 2]
    assert len((out/'metrics.csv').read_text().splitlines()) == 3
    assert r.stdout.count('fer_train: done') == 1 and r.stdout.count('epoch   2/2') == 1, r.stdout
    # the saved state is unwrapped (no 'module.' prefix) and loads as a plain model; the global batch is split in two
    from fer_nbdev.checkpoint import load_checkpoint
    from fer_nbdev.train import state_digest
    model, ck = load_checkpoint(out/'last.pt')
    assert not any(k.startswith('module.') for k in ck['state_dict'])
    ts = ck['train_state']
    # every rank ends with bit-identical weights (each rank's digest, gathered when last.pt is saved), and they are the file's
    assert len(ts['rank_digests']) == 2 and ts['rank_digests'][0] == ts['rank_digests'][1], ts['rank_digests']
    assert state_digest(model) == ts['rank_digests'][0]
    assert ts['world_size'] == 2 and ts['steps_per_epoch'] == 3       # 70 images / 2 ranks = 35 each, 16 per step
