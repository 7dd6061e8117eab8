"End-to-end tests of `fer_models` and of checkpoints read back in a fresh interpreter."
import os, subprocess, sys, textwrap

ENV = dict(os.environ, OMP_NUM_THREADS='2')

def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=300, env=ENV, **kw)

def test_fer_models_lists_every_model():
    from fer_nbdev.models import list_models
    r = run('fer_models')
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ['name', 'params', '(M)']
    names = [l.split()[0] for l in lines[2:]]
    assert names == list_models() + ['timm/<name>']
    assert set(names) >= {'seed_vgg19_bn', 'fer_vgg', 'fer_resnet', 'fer_tiny'}
    row = {l.split()[0]: l.split() for l in lines[2:]}
    assert 7.0 < float(row['fer_vgg'][1]) < 7.8 and float(row['fer_tiny'][1]) < 0.1
    assert row['fer_vgg'][2] == '1x48x48' and row['seed_vgg19_bn'][2] == '3x48x48'

def test_fer_models_pattern_and_timm():
    r = run('fer_models', '--pattern', 'fer_*')
    assert r.returncode == 0, r.stderr
    assert [l.split()[0] for l in r.stdout.splitlines()[2:]] == ['fer_resnet', 'fer_tiny', 'fer_vgg']
    r = run('fer_models', '--pattern', 'timm/resnet18')
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[2].split()[:3] == ['timm/resnet18', '11.180', '3x48x48']

def test_fer_models_no_match_is_one_line_error():
    r = run('fer_models', '--pattern', 'nope*')
    assert r.returncode == 2
    assert r.stderr == "fer_models: error: no model matches 'nope*'; try fer_models without a pattern\n"

def test_checkpoint_loads_in_a_fresh_process(tmp_path):
    "A checkpoint needs nothing but the file: a new interpreter rebuilds the same model, and bad files fail in one line."
    save = textwrap.dedent(f"""
        import torch
        from fer_nbdev.models import create_model
        from fer_nbdev.checkpoint import save_checkpoint, export_weights
        torch.manual_seed(0)
        m = create_model('fer_tiny', num_classes=3, drop_rate=0.2).eval()
        save_checkpoint(r'{tmp_path}/m.pt', m, ['a', 'b', 'c'], metrics=dict(acc=0.5))
        export_weights(r'{tmp_path}/m.pt', r'{tmp_path}/m.safetensors')
        x = torch.randn(2, 1, 48, 48); torch.save(dict(x=x, y=m(x).detach()), r'{tmp_path}/xy.pt')
    """)
    assert run(sys.executable, '-c', save).returncode == 0
    (tmp_path/'bad.pt').write_bytes(b'not a checkpoint at all')
    load = textwrap.dedent(f"""
        import sys, torch
        from fer_nbdev.core import cli_errors
        from fer_nbdev.checkpoint import load_checkpoint
        xy = torch.load(r'{tmp_path}/xy.pt')
        for f in ('m.pt', 'm.safetensors'):
            m, ck = load_checkpoint(r'{tmp_path}/' + f)
            assert ck['classes'] == ['a', 'b', 'c'] and ck['metrics'] == dict(acc=0.5), ck
            torch.testing.assert_close(m(xy['x']), xy['y'], atol=(0 if f.endswith('.pt') else 1e-3), rtol=0)
        with cli_errors('load'): load_checkpoint(sys.argv[1])
    """)
    r = run(sys.executable, '-c', load, str(tmp_path/'bad.pt'))
    assert r.returncode == 2, r.stderr
    assert r.stderr == f"load: error: {tmp_path/'bad.pt'}: cannot be read as a checkpoint: not a torch file, or corrupt\n"
    r = run(sys.executable, '-c', load, str(tmp_path/'missing.pt'))
    assert r.returncode == 2 and r.stderr.endswith("missing.pt: no such checkpoint file\n"), r.stderr
