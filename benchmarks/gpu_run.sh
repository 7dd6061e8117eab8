#!/usr/bin/env bash
# The one prepared device script for a 15-minute GPU lease (issue 3): benchmark the recipes (seed, fast, best) in one
# process, then export the 'best' model (the shipped default) and evaluate it on PublicTest / PrivateTest / combined.
# Everything it writes lands in $OUT (at most 8 files come back): gpu.txt, bench.log, bench.md, bench.json, eval.json,
# fer_default_fp16.safetensors, fer_default_int8.safetensors.
#
# Prepare here, once (both folders are ignored by git; .data/ by .gitignore, .pydeps/ via .git/info/exclude):
#   mkdir -p .data && cp ../shared/data/fer2013.tar.xz .data/
#   echo /.pydeps/ >> .git/info/exclude; mkdir -p .pydeps && cp -r "$(python -c 'import fastcore,os;print(os.path.dirname(fastcore.__file__))')" .pydeps/
# Then, with the device tool (about 8 minutes of GPU time; 600 s is the per-call limit):
#   run(command="bash benchmarks/gpu_run.sh", carry=[".data", ".pydeps"], timeout_s=600)
# Variables: DATA (archive), RECIPES (default seed,fast,best), SEED_EPOCHS (2), EXTRA (more train_speed.py options),
# SKIP_EXPORT=1 to skip the export. A CPU smoke test of every piece (seconds):
#   OUT=/tmp/gpu_smoke DEVICE=cpu EXTRA="--limit 256 --val-limit 128 --epochs-scale 0.02 --set model=fer_tiny" bash benchmarks/gpu_run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out}; mkdir -p "$OUT"
DATA=${DATA:-.data/fer2013.tar.xz}
RECIPES=${RECIPES:-seed,fast,best}
SEED_EPOCHS=${SEED_EPOCHS:-2}
DEVICE=${DEVICE:-}
EXTRA=${EXTRA:-}
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export FER_NBDEV_CACHE=${FER_NBDEV_CACHE:-/tmp/fer_nbdev_cache}
PY=$(command -v python3 || command -v python)
$PY -c 'import fastcore' 2>/dev/null || export PYTHONPATH="$PWD/.pydeps:$PYTHONPATH"
$PY -c 'import fastcore, timm, tqdm, PIL, safetensors' || { echo "gpu_run: missing Python packages (see the header)"; exit 2; }
[ -e "$DATA" ] || { echo "gpu_run: $DATA not found (copy the archive into .data/ and carry it)"; exit 2; }

{ date -u; nvidia-smi 2>&1 || echo "no nvidia-smi"; $PY -c 'import torch, timm; print("torch", torch.__version__, "timm", timm.__version__, "cuda", torch.cuda.is_available())'; } > "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"

DEV_OPT=(); [ -n "$DEVICE" ] && DEV_OPT=(--device "$DEVICE")
# shellcheck disable=SC2086
$PY benchmarks/train_speed.py --data "$DATA" --recipes "$RECIPES" --seed-epochs "$SEED_EPOCHS" --out /tmp/bench \
    --quiet "${DEV_OPT[@]}" $EXTRA 2>&1 | tee "$OUT/bench.log"
rc=${PIPESTATUS[0]}
cp /tmp/bench/bench.md /tmp/bench/bench.json "$OUT/" 2>/dev/null
[ "$rc" = 0 ] || { echo "gpu_run: benchmark failed (exit $rc)"; exit "$rc"; }

if [ -z "${SKIP_EXPORT:-}" ] && [ -e /tmp/bench/best/best.pt ]; then
  $PY - "$OUT" "$DATA" "${DEVICE:-}" <<'EOF' 2>&1 | tee -a "$OUT/bench.log"
import sys, json
from fer_nbdev.models import export_weights, load_checkpoint
from fer_nbdev.eval import evaluate
out, data, device = sys.argv[1], sys.argv[2], sys.argv[3] or None
best = '/tmp/bench/best/best.pt'
for dt in ('float16', 'int8'):
    export_weights(best, f"{out}/fer_default_{'fp16' if dt == 'float16' else dt}.safetensors", dtype=dt)
res = {tta: evaluate(best, data=data, tta=tta, device=device) for tta in ('none', 'flip', 'crops')}
# the exported weights must give the checkpoint's accuracy
for f in ('fp16', 'int8'):
    res[f'weights_{f}'] = evaluate(f"{out}/fer_default_{f}.safetensors", data=data, splits=('test',), device=device)
json.dump(res, open(f"{out}/eval.json", 'w'), indent=1, default=str)
for k, r in res.items():
    print(k, {s: round(100 * m['accuracy'], 2) for s, m in r['splits'].items()})
EOF
fi
ls -la "$OUT"
