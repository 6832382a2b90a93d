#!/usr/bin/env bash
# The one prepared GPU run of issue #6, for the device tool (bench/README.md has the call).
# Needs, carried: bench/wheels (bash bench/fetch_wheels.sh) and bench/data
# (python bench/make_compact_data.py). Writes at most 8 files into $OUT:
#   run_on_gpu.log, augment-bench.json, gpu.json/.log/.details.json (the fast-augmentation run,
#   dtype auto = mixed_bfloat16 on H100/H200), gpu-float32.json/.log/.details.json (accuracy
#   check of mixed precision on model1 and model4, if time is left).
# RUN_SECONDS (default 360) bounds the whole script so a rerun fits the 15-minute budget.
set -uo pipefail
T0=$SECONDS
BUDGET=${RUN_SECONDS:-360}
OUT=${OUT:-bench/results/gpu-run}
mkdir -p "$OUT"
exec > >(tee "$OUT/run_on_gpu.log") 2>&1
left() { echo $((BUDGET - (SECONDS - T0))); }
echo "== $(date -u +%FT%TZ) run_on_gpu.sh, budget ${BUDGET}s"
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv || true
ls bench/wheels/*.whl >/dev/null 2>&1 || { echo "no bench/wheels: run bench/fetch_wheels.sh and carry bench/wheels"; exit 2; }
[ -f bench/data/cats_and_dogs_160.zip ] || { echo "no bench/data: run bench/make_compact_data.py and carry bench/data"; exit 2; }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site bench/wheels/*.whl || { echo "pip install of the carried wheels failed"; exit 3; }
export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=jax KERAS_HOME=/tmp/keras PYTHONUNBUFFERED=1
python3 -c "import sys, jax, keras; print('python', sys.version.split()[0], 'jax', jax.__version__, 'keras', keras.__version__, jax.devices())" || exit 4

echo "== kernel stack (issue #6 part 4): a notebook in a real kernel"
timeout 90 python3 bench/kernel_smoke.py || echo "kernel smoke FAILED (rc $?)"

echo "== augmentation alone, 160x160, batch 32: the seeds' Keras layers vs one batched warp"
for f in flip=horizontal,rotation=0.1 flip=horizontal,rotation=0.111,zoom=0.2,shift=0.2,shear=0.2; do
  timeout 60 python3 bench/gpu_augment.py --bench --image-size 160 --batches 20 --factors "$f" \
    | tee -a "$OUT/augment-bench.json" || echo "augment bench FAILED for $f"
done

echo "== post 1's models, fast augmentation, dtype auto ($(left)s left)"
LIMIT=$(( $(left) - 100 )); [ "$LIMIT" -gt 60 ] || LIMIT=60
timeout $((LIMIT + 60)) python3 bench/gpu.py --block-tensorflow --augment fast --time-limit "$LIMIT" \
  --out "$OUT/gpu.json" || echo "gpu.py FAILED (rc $?)"

if [ "$(left)" -gt 60 ]; then
  echo "== mixed precision check: model1 and model4 in float32 ($(left)s left)"
  LIMIT=$(( $(left) - 20 ))
  timeout $((LIMIT + 30)) python3 bench/gpu.py --block-tensorflow --augment fast --dtype float32 \
    --models model1,model4 --time-limit "$LIMIT" --out "$OUT/gpu-float32.json" \
    || echo "gpu.py float32 FAILED (rc $?)"
fi
echo "== done in $((SECONDS - T0))s"
