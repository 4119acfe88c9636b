#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one go (CI has none): run from the repository root on a
# machine whose python3 has torch, timm, click, safetensors, scikit-learn, pillow and pytest
# (and mlxtend for step 3).
#
#     bash benchmarks/cuda_check.sh OUTDIR
#
# 1. the GPU tests (tests/training/test_cuda.py, tests/fit/test_fit_cuda.py);
# 2. `autopreset fit --device cuda` on digits with a 60 s budget, then evaluate, predict and
#    export the model it saved (which serves on the CPU);
# 3. the trainer against a plain timm loop on the GPU (benchmarks/trainer.py speed --device cuda).
set -u
OUT=${1:-cuda-check}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
export AUTOPRESET_CACHE=${AUTOPRESET_CACHE:-$(mktemp -d)}
WORK=$(mktemp -d)

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  nproc
  python3 -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__)"
} 2>&1 | tee "$OUT/machine.txt"

echo "== 1. GPU tests"
timeout 240 python3 -m pytest -q -p no:cacheprovider tests/training/test_cuda.py \
    tests/fit/test_fit_cuda.py 2>&1 | tee "$OUT/pytest.txt"

echo "== 2. fit --device cuda on digits, 60 s"
python3 -m autopreset demo-data digits "$WORK/digits" --test-fraction 0.2
start=$(date +%s.%N)
timeout 150 python3 -m autopreset fit "$WORK/digits/train" --budget 60s --device cuda \
    --out "$WORK/run" 2>&1 | tail -n 25 | tee "$OUT/fit.txt"
end=$(date +%s.%N)
echo "fit wall seconds: $(python3 -c "print(round($end - $start, 1))")" | tee -a "$OUT/fit.txt"
{ python3 -m autopreset evaluate "$WORK/run/model" "$WORK/digits/test"
  python3 -m autopreset predict "$WORK/run/model" "$WORK/digits/test/3" | head -n 4
  python3 -m autopreset export "$WORK/run/model" --format onnx
  python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['backbone'], c['latency_ms'], c['metrics'])" \
      "$WORK/run/model/model.json"
  tail -n +1 "$WORK/run/leaderboard.csv" | head -n 6
} 2>&1 | tee -a "$OUT/fit.txt"

echo "== 3. trainer vs plain timm loop on the GPU"
timeout 150 python3 benchmarks/trainer.py speed --device cuda --backbone resnet18 --runs 5 \
    --threads 4 --workdir "$WORK/bench" 2>&1 | tail -n 30 | tee "$OUT/trainer.txt"
cp benchmarks/results/trainer.json "$OUT/trainer.json" 2>/dev/null
echo "== done"
