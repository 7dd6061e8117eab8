#!/usr/bin/env python
"""Keep a finished run as a small model in `models/`: float16 safetensors plus a JSON of its metrics and commands.

    python benchmarks/keep_model.py runs/long_w16_c40 --name vgg_w16_c40_long --data ../shared/data/fer2013.tar.xz \\
        --train-command 'fer_train --recipe fast ...'

Steps, by the protocol (nothing is chosen on PrivateTest): `best.pt` (chosen on PublicTest during training) gets a
temperature fitted on PublicTest; the calibrated checkpoint is written as float16 safetensors `models/NAME.safetensors`;
that file, read back as users read it, is evaluated on PublicTest, PrivateTest and the combined test folder with each
test-time augmentation (none, flip, crops); the TTA that is best on PublicTest is recorded in the file as its default.
A `.safetensors` file instead of a run is copied unchanged and evaluated the same way (its recorded TTA stays).
`models/NAME.json` gets the figures, the file's size and sha256, and the commands. See `models/README.md`.
"""
import argparse, hashlib, json, shlex, sys, time
from pathlib import Path

from fer_nbdev.core import cli_errors, atomic_write
from fer_nbdev.data import load_faces
from fer_nbdev.models import count_params
from fer_nbdev.checkpoint import load_weights

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from make_default import make_file, evaluate_file   # one definition of calibrate, export, evaluate per TTA and choose the TTA


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('run', help='run folder from fer_train (with best.pt and metrics.json), or a .safetensors file to keep as it is')
    ap.add_argument('--name', required=True, help='file name in models/ (without suffix)')
    ap.add_argument('--data', default=None, help="FER-2013 archive or folder (default: the run's)")
    ap.add_argument('--dir', default=str(ROOT/'models'))
    ap.add_argument('--train-command', default='', help='the fer_train command that made the run')
    a = ap.parse_args()
    with cli_errors('keep_model'):
        run, d = Path(a.run), Path(a.dir)
        out = d/f'{a.name}.safetensors'
        t0 = time.time()
        if run.is_file():   # a weights file already made (e.g. an earlier shipped default): copied unchanged, evaluated
            meta = load_weights(run)[1]
            data = load_faces(a.data or meta['config']['data'])
            with atomic_write(out, 'wb') as f: f.write(run.read_bytes())
            meta['evaluation'] = evaluate_file(out, data)
        else:
            data = load_faces(a.data or json.loads((run/'config.json').read_text())['data'])
            meta = make_file(run, out, data)
        model, stored = load_weights(out)
        if not run.is_file(): assert stored['evaluation'] == meta['evaluation']
        ev, h = meta['evaluation'], meta['history']
        rec = dict(file=out.name, bytes=out.stat().st_size, sha256=hashlib.sha256(out.read_bytes()).hexdigest(),
                   arch=meta['arch'], arch_kwargs=meta['arch_kwargs'], params=count_params(model), tta=meta['tta'],
                   temperature=meta['temperature'], epochs=len(h), train_minutes=round(h[-1]['time'] / 60, 1),
                   accuracy={t: {s: round(ev[t][s]['accuracy'], 4) for s in ev[t]} for t in ev},
                   macro_f1={t: {s: round(ev[t][s]['macro_f1'], 4) for s in ev[t]} for t in ev},
                   commands=dict(train=a.train_command or '(not given)',
                                 keep='python benchmarks/keep_model.py ' + shlex.join(sys.argv[1:]),
                                 evaluate=[f'fer_eval models/{out.name} --tta {t}' for t in ev]))
        with atomic_write(d/f'{a.name}.json', 'w') as f: f.write(json.dumps(rec, indent=1) + '\n')
        print(json.dumps({k: rec[k] for k in ('file', 'bytes', 'tta', 'accuracy', 'macro_f1')}, indent=1))
        print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) and {a.name}.json in {time.time() - t0:.0f} s")


if __name__ == '__main__': main()
