#!/usr/bin/env python
"""What saliency maps cost (issue 14, "Cost"): time per face with and without explanations, batched, on this machine.

For the shipped default model (or --checkpoint), at batch --batch (64), on FER-2013 PrivateTest faces when the archive is
found (else random 48x48 faces: the time does not depend on the content), it times
- prediction alone: `predict_proba` (preprocessing, temperature, test-time views), with no TTA and with flip TTA;
- prediction and maps: `explain(model, faces)` (it predicts the class, then explains it), with no TTA and with flip TTA,
  for each method in --methods.

Timing: time.perf_counter, --warmup untimed calls, then the fastest of --repeats timed calls; torch.set_num_threads(--threads).

  python benchmarks/explain_speed.py
  python benchmarks/explain_speed.py --methods gradcam gradcam++ eigencam --repeats 9
"""
from __future__ import annotations
import time, argparse, platform, os

def best_time(fn, repeats:int, warmup:int) -> float:
    """Seconds per call of `fn`: `warmup` untimed calls, then the fastest of `repeats` timed calls (as timeit advises: on a
    machine shared with other jobs the slower calls measure the other jobs)."""
    for _ in range(warmup): fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return min(ts)

def faces_for(n:int):
    "`n` uint8 faces [n, 48, 48]: the first of FER-2013 PrivateTest when the archive is found, else random ones."
    import torch
    from fer_nbdev.core import find_fer2013
    path = find_fer2013()
    if path is not None and path.exists():
        from fer_nbdev.data import load_faces
        return load_faces(path).subset('test').images[:n], 'FER-2013 PrivateTest'
    return torch.randint(0, 256, (n, 48, 48), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)), 'random'

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--checkpoint', help='checkpoint or .safetensors weights (default: the shipped model)')
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--methods', nargs='+', default=['gradcam', 'gradcam++', 'eigencam'])
    ap.add_argument('--repeats', type=int, default=7)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    from fer_nbdev.checkpoint import load_checkpoint
    from fer_nbdev.predict import predict_proba
    from fer_nbdev.explain import explain
    from fer_nbdev.recognize import default_weights
    ckpt = args.checkpoint or default_weights()
    model, _ = load_checkpoint(ckpt, device='cpu')
    x, source = faces_for(args.batch)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"Python {platform.python_version()}; model: {model.fer_cfg['arch']} {model.fer_cfg['arch_kwargs']} ({ckpt}); "
          f"batch {len(x)} faces ({source}); fastest of {args.repeats} after {args.warmup} warm-ups")
    print(f"{'what':<40} {'tta':<5} {'ms/face':>8} {'faces/s':>8} {'x prediction':>13}")
    for tta in ('none', 'flip'):
        base = best_time(lambda: predict_proba(model, x, tta=tta, device='cpu'), args.repeats, args.warmup) / len(x)
        print(f"{'prediction (predict_proba)':<40} {tta:<5} {1e3 * base:8.2f} {1 / base:8.0f} {1:13.1f}")
        for m in args.methods:
            t = best_time(lambda: explain(model, x, method=m, tta=tta), args.repeats, args.warmup) / len(x)
            print(f"{'prediction + map (explain, ' + m + ')':<40} {tta:<5} {1e3 * t:8.2f} {1 / t:8.0f} {t / base:13.1f}")

if __name__ == '__main__':
    main()
