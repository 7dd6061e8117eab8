#!/usr/bin/env python
"""Train fer_nbdev's recipes one after another on FER-2013 and print a table of speed and accuracy (issue 3).

Every recipe trains with `fer_nbdev.train.train` on the same decoded data, in one process, on one device; its best
checkpoint (selected on PublicTest) is then evaluated once on PublicTest, PrivateTest and the combined test folder. The
speed-up of a recipe is the seed recipe's full training time divided by the recipe's training time, both measured in
this run. The seed recipe is slow (20 epochs of vgg19_bn at batch 16), so by default it runs `--seed-epochs 2` epochs and
its 20-epoch time is extrapolated from the mean epoch time; the table says so. Its accuracy is then that of the short run.

  python benchmarks/train_speed.py --data .data/fer2013.tar.xz                   # seed (2 epochs), fast, best
  python benchmarks/train_speed.py --recipes fast --set compile=true
  python benchmarks/train_speed.py --device cpu --limit 256 --val-limit 128 --epochs-scale 0.05 --set model=fer_tiny   # smoke
"""
from __future__ import annotations
import sys, json, time, argparse, datetime, platform
from pathlib import Path

def _device_name(device:str) -> str:
    import torch
    d = torch.device(device)
    if d.type == 'cuda': return torch.cuda.get_device_name(d)
    return f"{d.type} ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"

def _accuracy(best_pt, data, tta, device) -> dict:
    "PublicTest, PrivateTest and combined accuracy of a checkpoint (fer_nbdev.eval.evaluate, else predict_proba)."
    try:
        from fer_nbdev.eval import evaluate
        res = evaluate(best_pt, data=data, splits=('val', 'test', 'combined'), tta=tta, device=device)
        return {s: res['splits'][s]['accuracy'] for s in ('val', 'test', 'combined')}
    except ImportError:
        from fer_nbdev.checkpoint import load_checkpoint
        from fer_nbdev.predict import predict_proba
        model, _ = load_checkpoint(best_pt)
        out = {}
        for s in ('val', 'test', 'combined'):
            d = data.subset(s)
            out[s] = (predict_proba(model, d.images, tta=tta, device=device).argmax(1) == d.labels).float().mean().item()
        return out

def run(recipes=('seed', 'fast', 'best'), data=None, out=None, device=None, epochs_scale=1.0, seed_epochs=2, limit=0,
        val_limit=0, tta='none', overrides=None, quiet=False) -> list[dict]:
    "Train and evaluate each recipe; returns one row per recipe."
    from fer_nbdev.core import default_device, ConfigError
    from fer_nbdev.data import load_faces, resolve_data
    from fer_nbdev.config import get_config, RECIPES
    from fer_nbdev.train import train
    bad = [r for r in recipes if r not in RECIPES]
    if bad: raise ConfigError(f"unknown recipe(s) {', '.join(bad)}; choose from {', '.join(RECIPES)}")
    path = resolve_data(data)
    out = Path(out or f"runs/bench-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    dev = str(default_device(device))
    t0 = time.perf_counter()
    faces = load_faces(path)
    print(f"data: {path} ({len(faces)} images, decoded/cached in {time.perf_counter() - t0:.1f}s); device: {_device_name(dev)}", flush=True)
    rows = []
    for r in recipes:
        full = RECIPES[r].get('epochs', 20)
        epochs = max(1, round(full * epochs_scale))
        if r == 'seed' and seed_epochs: epochs = min(epochs, seed_epochs)
        cfg = get_config(r, **{**(overrides or {}), 'epochs': epochs, 'limit': limit, 'val_limit': val_limit, 'device': dev,
                               'out': str(out/r), 'quiet': quiet, 'save_every_min': 0.0})
        print(f"== {r}: {cfg.model}, {epochs} epoch(s) of batch {cfg.batch_size}", flush=True)
        s = train(cfg, data=faces)
        acc = _accuracy(s['best_path'], faces, tta, dev)
        per_epoch = s['train_seconds'] / s['epochs']
        rows.append(dict(recipe=r, device=_device_name(dev), model=cfg.model, params=s['params'], epochs=s['epochs'],
                         recipe_epochs=max(1, round(full * epochs_scale)), train_seconds=s['train_seconds'],
                         wall_seconds=s['wall_seconds'], per_epoch=per_epoch, images_per_second=s['images_per_second'],
                         best_epoch=s['best_epoch'], public=acc['val'], private=acc['test'], combined=acc['combined'],
                         tta=tta, run=s['out']))
        table = _save(rows, out)      # after every recipe, so that a run cut short still leaves its table
        print(f"   {r}: {rows[-1]['train_seconds']:.1f}s training, PrivateTest {100 * acc['test']:.2f}%", flush=True)
    print(table, flush=True)
    return rows

def _save(rows:list[dict], out:Path) -> str:
    "Add the derived columns (full-recipe time, speed-up) and write bench.json and bench.md; returns the table."
    seed = next((x for x in rows if x['recipe'] == 'seed'), None)
    for x in rows:
        x['extrapolated'] = x['epochs'] < x['recipe_epochs']
        x['full_seconds'] = x['per_epoch'] * x['recipe_epochs']
        x['speedup'] = seed['full_seconds'] / x['full_seconds'] if seed else None
    out.mkdir(parents=True, exist_ok=True)
    (out/'bench.json').write_text(json.dumps(rows, indent=2) + '\n')
    table = format_table(rows)
    (out/'bench.md').write_text(table + '\n')
    return table

def format_table(rows:list[dict]) -> str:
    "A markdown table of `run`'s rows."
    head = ('recipe', 'device', 'model', 'params', 'epochs', 'train s', 'wall s', 'images/s', 'PublicTest', 'PrivateTest',
            'combined', 'speed-up vs seed')
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for x in rows:
        ep = f"{x['epochs']}" if not x['extrapolated'] else f"{x['epochs']} of {x['recipe_epochs']}*"
        secs = f"{x['train_seconds']:.1f}" if not x['extrapolated'] else f"{x['train_seconds']:.1f} ({x['full_seconds']:.1f}*)"
        sp = '' if x['speedup'] is None else f"{x['speedup']:.1f}x"
        lines.append('| ' + ' | '.join([x['recipe'], x['device'], x['model'], f"{x['params'] / 1e6:.2f}M", ep, secs,
                                        f"{x['wall_seconds']:.1f}", f"{x['images_per_second']:.0f}", f"{100 * x['public']:.2f}%",
                                        f"{100 * x['private']:.2f}%", f"{100 * x['combined']:.2f}%", sp]) + ' |')
    if any(x['extrapolated'] for x in rows):
        lines.append('\n\\* fewer epochs than the recipe: the full-recipe training time in parentheses is extrapolated from '
                     'the mean epoch time, and the accuracy is that of the short run.')
    lines.append(f"\ntrain s: training time (CUDA events on GPU); wall s: the whole run with per-epoch validation; "
                 f"accuracy of best.pt (selected on PublicTest), tta={rows[0]['tta'] if rows else 'none'}; "
                 "speed-up: the seed recipe's full training time / the recipe's, same run, same device.")
    return '\n'.join(lines)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', help='FER-2013 archive or folder (default: find it)')
    p.add_argument('--recipes', default='seed,fast,best', help='comma-separated recipes (default: seed,fast,best)')
    p.add_argument('--out', help='folder for the runs and the table (default: runs/bench-<timestamp>)')
    p.add_argument('--device', help='cuda, cpu... (default: the best available)')
    p.add_argument('--epochs-scale', type=float, default=1.0, help="multiply every recipe's epochs (at least 1)")
    p.add_argument('--seed-epochs', type=int, default=2, help='epochs actually run for the seed recipe (0: all), time extrapolated')
    p.add_argument('--limit', type=int, default=0, help='train on a stratified subset of this many images')
    p.add_argument('--val-limit', type=int, default=0, help='validate on a stratified subset of this many images')
    p.add_argument('--tta', default='none', help="test-time augmentation of the final evaluation: none, flip or crops")
    p.add_argument('--set', nargs='+', default=[], metavar='KEY=VALUE', help='settings applied to every recipe')
    p.add_argument('--quiet', action='store_true', help='no progress bars or per-epoch lines')
    a = p.parse_args(argv)
    from fer_nbdev.core import cli_errors
    from fer_nbdev.config import parse_overrides
    with cli_errors('train_speed'):
        run([r.strip() for r in a.recipes.split(',') if r.strip()], a.data, a.out, a.device, a.epochs_scale, a.seed_epochs,
            a.limit, a.val_limit, a.tta, parse_overrides(a.set), a.quiet)

if __name__ == '__main__': main()
