"""Turn a finished training run into the shipped default model and its model card.

    python benchmarks/make_default.py runs/cpu_default --data ../shared/data/fer2013.tar.xz

Steps, all by the protocol (nothing is chosen on PrivateTest):
1. `best.pt` of the run (chosen by PublicTest accuracy during training) gets a temperature fitted on PublicTest;
2. the calibrated checkpoint is written as float16 safetensors (`fer_nbdev/weights/default.safetensors` by default);
3. that file itself, read back as users will read it, is evaluated on PublicTest, PrivateTest and the combined test folder,
   without and with flip test-time augmentation; the figures, the training history and the calibration go into the
   file's metadata (so `fer_serve`'s /v1/model and the docs show them) and into MODEL_CARD.md.
"""
import argparse, json, platform, shlex, sys, time
from pathlib import Path

import torch
from fer_nbdev.core import cli_errors, atomic_write
from fer_nbdev.data import load_faces
from fer_nbdev.eval import evaluate
from fer_nbdev.models import count_params, models_table
from fer_nbdev.checkpoint import export_weights, load_weights
from fer_nbdev.calibrate import calibrate_checkpoint
from fer_nbdev.plots import load_history

ROOT = Path(__file__).resolve().parents[1]
KEEP = ('accuracy', 'macro_f1', 'loss', 'n')


def _short(res):
    "Accuracy, macro-F1, loss and counts per split, and per-class recall, from an `evaluate` result."
    out = {}
    for s, m in res['splits'].items():
        out[s] = {k: m[k] for k in KEEP if k in m}
        out[s]['recall'] = {c: m['per_class'][c]['recall'] for c in res['classes']} if 'per_class' in m else None
    return out


def _history(run):
    "The run's per-epoch records (`plots.load_history`), floats rounded to 6 digits to keep the weights' header small."
    return [{k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()} for r in load_history(run)]


def _pct(x): return f"{100 * x:.2f}%"


TTAS = ('none', 'flip', 'crops')

def evaluate_file(path:Path, data, tta_choices=TTAS) -> dict:
    "The `_short` evaluation of the file at `path` on every split, per test-time augmentation."
    return {t: _short(evaluate(path, data, tta=t, device='cpu')) for t in tta_choices}

def make_file(run:Path, out:Path, data, tta_choices=TTAS) -> dict:
    "Calibrate `run`'s best.pt, export it as float16 safetensors, evaluate the file per TTA, record the PublicTest-chosen TTA."
    cal = calibrate_checkpoint(run/'best.pt', data=data, out=run/'calibrated.pt', device='cpu')
    print(f"temperature {cal['temperature']:.3f}; ECE {cal['ece']}")
    extra = dict(history=_history(run), calibration={k: cal[k] for k in ('temperature', 'fit_split', 'ece')})
    export_weights(run/'calibrated.pt', out, extra=extra)
    ev = evaluate_file(out, data, tta_choices)
    tta = max(tta_choices, key=lambda t: ev[t]['val']['accuracy'])   # chosen on PublicTest (a tie: the cheaper, listed first)
    metrics = {s: {k: v for k, v in ev['none'][s].items() if k != 'recall'} for s in ev['none']}
    for t in tta_choices[1:]: metrics[t] = {s: ev[t][s]['accuracy'] for s in ev[t]}
    return export_weights(run/'calibrated.pt', out, extra=dict(extra, evaluation=ev, metrics=metrics, tta=tta))


def card_markdown(meta, n_params, size, cmd_train, cmd_make, machine):
    ev, cfg, cal = meta['evaluation'], meta['config'], meta['calibration']
    desc = next((r['description'] for r in models_table(meta['arch'])), '')
    names = {'val': 'PublicTest (3,589; model selection, calibration)', 'test': 'PrivateTest (3,589; reported)',
             'combined': 'test folder (7,178 = Public + Private)'}
    ttas = [t for t in TTAS if t in ev]
    rows = '\n'.join(f"| {names[s]} | " + ' | '.join(_pct(ev[t][s]['accuracy']) for t in ttas) +
                     f" | {ev['none'][s]['macro_f1']:.4f} | {ev[meta['tta']][s]['macro_f1']:.4f} |" for s in ('val', 'test', 'combined'))
    tta_names = dict(none='accuracy', flip='accuracy, flip TTA', crops='accuracy, 10-crop TTA')
    side = meta['arch_kwargs'].get('img_size', 48)
    crop = (f"grayscale faces resized to {side}x{side}, of which the network sees the centre "
            f"{meta['input_size'][1]}x{meta['input_size'][2]} window (`crop`; trained on random windows)"
            if meta['arch_kwargs'].get('crop') else 'x'.join(map(str, meta['input_size'])) + ' grayscale')
    rec = ev['none']['test']['recall']
    rec_rows = '\n'.join(f"| {c} | {_pct(r)} |" for c, r in rec.items())
    h = meta['history']; best = max(h, key=lambda r: r['val_acc'])
    leaks = ("FER-2013 (Kaggle layout) Training split, 28,709 faces minus the 703 that are byte-identical to a PublicTest\n"
             "  or PrivateTest face (`drop_leaks`), so no test face was seen in training." if cfg.get('drop_leaks') else
             "FER-2013 (Kaggle layout) Training split, all 28,709 faces (including 703 byte-identical to a test face).")
    return f"""# Model card: fer_nbdev default model

The model `fer_nbdev.Recognizer()` loads when no checkpoint is given: `fer_nbdev/weights/default.safetensors`
({size / 1e6:.2f} MB, float16 safetensors, {n_params / 1e6:.2f}M parameters), shipped inside the package, no download.

**Trained on a CPU.** It was trained on {machine}: {len(h)} epochs in {h[-1]['time'] / 60:.0f} minutes of wall time
(median {sorted(r['epoch_time'] for r in h)[len(h) // 2]:.0f} s per epoch), because no GPU was available to the sessions
that made it; its architecture and framing were chosen by the CPU study in `benchmarks/RESULTS.md` (on PublicTest). The
GPU recipes (`benchmarks/gpu_run.sh`) are built but have not run; expect their models to be better than this one.

## Model
- Architecture: `{meta['arch']}` with `{json.dumps(meta['arch_kwargs'])}`: {desc}
  Input: {crop}, normalised with mean {meta['mean'][0]:.4f},
  std {meta['std'][0]:.4f} (the training split's statistics).
- Classes (output order): {', '.join(meta['classes'])}.
- Temperature {meta['temperature']:.3f}, fitted on PublicTest (expected calibration error on PrivateTest
  {cal['ece']['test']['before']:.4f} before, {cal['ece']['test']['after']:.4f} after); applied by `predict_proba`, so
  probabilities are calibrated; the argmax, and so accuracy, is unchanged.

## Training
- Data: {leaks}
- Recipe: `{cfg['recipe']}` preset with {cfg['epochs']} epochs: AdamW (lr {cfg['lr']}, weight decay {cfg['weight_decay']}),
  {cfg['schedule']} schedule, batch {cfg['batch_size']}, label smoothing {cfg['label_smoothing']}, EMA {cfg['ema']},
  flip {cfg['flip']}, rotation {cfg['rotate']} deg, translation {cfg['translate']}, scale {cfg['scale']},
  random erasing {cfg['erasing']}; seed {cfg['seed']}.
- Checkpoint selection: best PublicTest accuracy (epoch {best['epoch']} of {len(h)}).
- Test-time augmentation: `{meta['tta']}` is recorded in the file as this model's default (chosen on PublicTest: {', '.join(f"{_pct(ev[t]['val']['accuracy'])} with {t}" for t in ttas)}); `Recognizer`,
  `fer_predict`, `fer_video` and `fer_serve` use it unless told otherwise (`tta='none'`).
- Command: `{cmd_train}`

## Evaluation (measured on the shipped file)
Accuracy without and with test-time augmentation (flip: 2 views; crops: 10 shifted and flipped views), and macro-F1
without TTA and with the default one (`{meta['tta']}`). PrivateTest is the figure to compare with papers; the combined
folder is what tutorials report (e.g. the timm VGG19-BN notebook's 66.3%).

| split | {' | '.join(tta_names[t] for t in ttas)} | macro-F1 | macro-F1, {meta['tta']} |
|---|{'---:|' * (len(ttas) + 2)}
{rows}

Recall per class on PrivateTest (no TTA):

| class | recall |
|---|---:|
{rec_rows}

Reproduce: `fer_eval fer_nbdev/weights/default.safetensors --data PATH/TO/fer2013 --tta none` (and `--tta flip`,
`--tta crops`). A flagged test (`nbs/18_recognize.ipynb`, `#| data`) checks the PrivateTest figures above (without TTA
and with the default one) against the file.
Made with: `{cmd_make}`.

## Intended use and limits
- Research, teaching, and applications that treat the output as a noisy signal about posed or spontaneous facial
  expressions, never as a person's felt emotion.
- FER-2013 faces are web images found by keyword search, 48x48, with noisy labels (human accuracy is about 65%);
  `disgust` has 436 training faces and is recognised poorly. Demographic balance is unknown and untested: accuracy may
  differ across age, gender and skin tone. Do not use it to make decisions about people.
- FER-2013 is licensed for research; so are models trained on it.

Environment: Python {platform.python_version()}, torch {torch.__version__}, {platform.machine()}.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('run', help='run folder from fer_train (with best.pt and metrics.csv)')
    ap.add_argument('--data', default=None, help='FER-2013 archive or folder (default: the run\'s)')
    ap.add_argument('--out', default=str(ROOT/'fer_nbdev'/'weights'/'default.safetensors'))
    ap.add_argument('--card', default=None, help="the model card to write (default: MODEL_CARD.md beside --out, which ships with it)")
    ap.add_argument('--train-command', default='', help='the fer_train command that made the run, for the card')
    ap.add_argument('--machine', default='a 2-core x86_64 CPU (no GPU)', help='where the run was trained, for the card')
    a = ap.parse_args()
    with cli_errors('make_default'):
        run, out = Path(a.run), Path(a.out)
        a.card = a.card or str(out.parent/'MODEL_CARD.md')
        data = load_faces(a.data or json.loads((run/'config.json').read_text())['data'])
        t0 = time.time()
        meta = make_file(run, out, data)
        ev = meta['evaluation']
        model, meta2 = load_weights(out)
        assert meta2['evaluation'] == ev and meta2['temperature'] == meta['temperature']
        metrics = meta['metrics']
        cmd_make = 'python benchmarks/make_default.py ' + shlex.join(sys.argv[1:])
        card = card_markdown(meta, count_params(model), out.stat().st_size, a.train_command or '(not given)', cmd_make,
                             a.machine)
        with atomic_write(a.card, 'w') as f: f.write(card)
        print(json.dumps(metrics, indent=1))
        print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) and {a.card} in {time.time() - t0:.0f} s")


if __name__ == '__main__': main()
