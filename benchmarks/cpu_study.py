#!/usr/bin/env python
"""The CPU training study (issue 13): accuracy on PublicTest against wall-clock training time on this machine.

Each point is one `fer_train` run (the `fast` recipe plus the point's settings), launched as its own process so that its
wall time is that of a user's run: data loading from the cache, training, validation after every epoch. A point's
accuracy is its best checkpoint (chosen on PublicTest by the recipe) evaluated on PublicTest once per test-time
augmentation: none, flip, and the 10 shifted crops. PrivateTest is never read here.

Three families of settings, as short proxy runs (a stratified subset of `--limit` training faces, 10 epochs):
architecture (width, depth, network), framing (random 40x40 / 44x44 crops of the 48x48 faces, centre crop and crop TTA
at test time) and schedule (epochs, one-cycle vs cosine). The full runs in RESULTS.md show how well the proxies predict
runs on all the faces.

    python benchmarks/cpu_study.py --data ../shared/data/fer2013.tar.xz --out runs/study            # every point
    python benchmarks/cpu_study.py --data ... --out runs/study --only vgg_w16,vgg_w16_c40            # some of them
    python benchmarks/cpu_study.py --data ... --out runs/study --report-only                         # table and plot
    python benchmarks/cpu_study.py --data ... --report-only --proxies benchmarks/cpu_study_proxies.json \
        --full benchmarks/cpu_study_full.json --table t.md --plot benchmarks/cpu_study.png              # from the record

A point's minutes are its median epoch time times its epochs plus its validation time (the wall time is in study.json
too): an epoch slowed by another job on the machine does not count. A finished point is not trained again (its folder holds the metrics); an interrupted one is resumed. Results go to
`<out>/study.json`, and `--table`/`--plot` write the Markdown table and the figure (accuracy vs minutes); `--full` adds the
full runs (all training faces; `benchmarks/cpu_study_full.json`, each row with its command and where its figures come from).
"""
from __future__ import annotations
import os, sys, json, shlex, argparse, subprocess
from pathlib import Path

PROXY = dict(limit=10000, epochs=10)
# name -> (family, fer_train settings beyond the fast recipe, overrides of PROXY)
POINTS = {
    'vgg_w8':      ('architecture', {'model_kwargs': {'width': 8}}, {}),
    'vgg_w16':     ('architecture', {'model_kwargs': {'width': 16}}, {}),
    'vgg_w24':     ('architecture', {'model_kwargs': {'width': 24}}, {}),
    'vgg_w16_c44': ('framing', {'model_kwargs': {'width': 16, 'crop': 44}}, {}),
    'vgg_w16_c40': ('framing', {'model_kwargs': {'width': 16, 'crop': 40}}, {}),
    'vgg_w24_c40': ('framing', {'model_kwargs': {'width': 24, 'crop': 40}}, {}),
    'vgg_w16_c40_e5':  ('schedule', {'model_kwargs': {'width': 16, 'crop': 40}}, {'epochs': 5}),
    'vgg_w16_c40_e20': ('schedule', {'model_kwargs': {'width': 16, 'crop': 40}}, {'epochs': 20}),
    'vgg_w16_c40_cos': ('schedule', {'model_kwargs': {'width': 16, 'crop': 40}, 'schedule': 'cosine', 'warmup': 0.05}, {}),
    # the student vgg_w16_c40 taught by an ensemble of three proxies trained on the same 10,000 faces (same seed, same subset)
    'vgg_w16_c40_kd':  ('distillation', {'recipe': 'distill', 'model_kwargs': {'width': 16, 'crop': 40},
                                         'teachers': [f'{{out}}/{t}/best.pt' for t in ('vgg_w24_c40', 'vgg_w16_c44', 'vgg_w16_c40')]}, {}),
}
TTAS = ('none', 'flip', 'crops')
FULL = 'full run'

def _proxy(name:str) -> dict:
    "The limit and epochs of point `name`."
    return {**PROXY, **POINTS[name][2]}

def _value(v) -> str: return json.dumps(v, separators=(',', ':')) if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v)

def command(name:str, data:str, out:Path) -> list:
    "The fer_train command line of point `name`."
    sets, p = POINTS[name][1], _proxy(name)
    sets = {**sets, 'drop_leaks': True, 'figures': False}
    recipe = sets.pop('recipe', 'fast')
    if 'teachers' in sets: sets['teachers'] = [t.format(out=out) for t in sets['teachers']]
    return (['fer_train', '--recipe', recipe, '--data', data, '--out', str(out/name), '--epochs', str(p['epochs']),
             '--limit', str(p['limit']), '--quiet', '--set'] + [f'{k}={_value(v)}' for k, v in sets.items()])

def _finished(run:Path, epochs:int) -> bool:
    m = run/'metrics.json'
    return m.exists() and len(json.loads(m.read_text())) >= epochs and (run/'best.pt').exists()

def train_point(name:str, data:str, out:Path, threads:int):
    "Train point `name` unless done (resume it when interrupted)."
    run, epochs = out/name, _proxy(name)['epochs']
    if _finished(run, epochs): return
    cmd = command(name, data, out)
    if (run/'last.pt').exists(): cmd = ['fer_train', '--resume', str(run), '--quiet']
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    print('$', shlex.join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env)

def measure(name:str, data, out:Path) -> dict:
    "Wall time, epochs and PublicTest accuracy (per TTA) of a finished point."
    from fer_nbdev.predict import predict_splits
    run = out/name
    hist = json.loads((run/'metrics.json').read_text())
    ep = sorted(h['epoch_time'] for h in hist)
    med = ep[len(ep) // 2]   # the median epoch: robust to epochs slowed by other jobs on the machine
    row = dict(name=name, family=POINTS[name][0], epochs=len(hist), wall_minutes=hist[-1]['time'] / 60, epoch_s=med,
               minutes=(med * len(hist) + sum(h['val_time'] for h in hist)) / 60,
               command=shlex.join(command(name, '<data>', Path('runs/study'))))
    for tta in TTAS:
        r = predict_splits(run/'best.pt', data=data, splits='val', tta=tta, device='cpu')['splits']['val']
        row[f'val_{tta}'] = (r['probs'].argmax(1) == r['labels']).float().mean().item()
    return row

def table(rows:list) -> str:
    "The Markdown table of the study."
    lines = ['| point | family | epochs | train faces | minutes | s/epoch | PublicTest | flip TTA | 10-crop TTA |',
             '|---|---|---:|---:|---:|---:|---:|---:|---:|']
    pct = lambda v: '-' if v is None else f"{v:.2%}"
    for r in rows:
        lim = _proxy(r['name'])['limit'] if r['name'] in POINTS else r['limit']
        lines.append(f"| `{r['name']}` | {r['family']} | {r['epochs']} | {lim:,} | {r['minutes']:.1f} | {r['epoch_s']:.0f} | "
                     f"{pct(r['val_none'])} | {pct(r['val_flip'])} | {pct(r.get('val_crops'))} |")
    return '\n'.join(lines)

def plot(rows:list, path:Path):
    "PublicTest accuracy (flip TTA) against training minutes, one colour per family."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    fams = sorted({r['family'] for r in rows})
    for fam, c in zip(fams, plt.cm.tab10.colors):
        rs = [r for r in rows if r['family'] == fam]
        ax.scatter([r['minutes'] for r in rs], [100 * r['val_flip'] for r in rs], color=c, label=fam, s=60 if fam == FULL else 30,
                   marker='*' if fam == FULL else 'o')
        for r in rs: ax.annotate(r['name'].replace('vgg_', ''), (r['minutes'], 100 * r['val_flip']), fontsize=7, xytext=(3, 3), textcoords='offset points')
    ax.set_xscale('log'); ax.set_xlabel('wall-clock training minutes on 2 CPU cores (log scale)')
    ax.set_ylabel('PublicTest accuracy, flip TTA (%)'); ax.grid(alpha=.3); ax.legend(fontsize=8)
    ax.set_title('fer_nbdev CPU study: accuracy against training time')
    fig.tight_layout(); path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + '.tmp' + path.suffix); fig.savefig(tmp, dpi=120); os.replace(tmp, path)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', required=True); ap.add_argument('--out', default='runs/study')
    ap.add_argument('--only', default=None, help='comma-separated point names (default: all)')
    ap.add_argument('--threads', type=int, default=2); ap.add_argument('--report-only', action='store_true')
    ap.add_argument('--proxies', default=None, help='JSON list of proxy points measured earlier (benchmarks/cpu_study_proxies.json), for points not measured in --out')
    ap.add_argument('--full', default=None, help=f"JSON list of full runs (all training faces) measured elsewhere, listed as family {FULL!r}")
    ap.add_argument('--table', default=None); ap.add_argument('--plot', default=None)
    a = ap.parse_args(argv)
    out = Path(a.out); names = a.only.split(',') if a.only else list(POINTS)
    bad = [n for n in names if n not in POINTS]
    if bad: sys.exit(f"cpu_study: unknown point {bad[0]!r}; known: {', '.join(POINTS)}")
    if not a.report_only:
        for n in names: train_point(n, a.data, out, a.threads)
    res_path = out/'study.json'
    rows = json.loads(res_path.read_text()) if res_path.exists() else {}
    todo = [n for n in names if _finished(out/n, _proxy(n)['epochs']) and n not in rows]
    if todo:
        from fer_nbdev.data import load_faces, resolve_data
        data = load_faces(resolve_data(a.data))
        for n in todo:
            rows[n] = measure(n, data, out)
            res_path.parent.mkdir(parents=True, exist_ok=True); res_path.write_text(json.dumps(rows, indent=1))
    # points not measured in --out come from the published record (--proxies), so the table and plot can be redrawn anywhere
    kept = {r['name']: r for r in json.loads(Path(a.proxies).read_text())} if a.proxies else {}
    rows = {**kept, **rows}
    rs = [rows[n] for n in POINTS if n in rows] + (json.loads(Path(a.full).read_text()) if a.full else [])
    md = table(rs); print(md)
    if a.table: Path(a.table).write_text(md + '\n')
    if a.plot: plot(rs, Path(a.plot))

if __name__ == '__main__': main()
