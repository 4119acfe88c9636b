#!/usr/bin/env bash
# A zoo shard on a CUDA GPU: the medium and large configs, which cost a CPU most of the zoo's
# time, in one short device run. From the repository root on a machine whose python3 has torch,
# timm, click, safetensors, scikit-learn, pillow, mlxtend and scikit-image:
#
#     bash benchmarks/zoo_cuda.sh OUTDIR [STOP_AFTER]     # e.g. $OUT 7m
#
# Writes the zoo's tasks (the same pixels on every machine), then records cells not yet in
# zoo_results/records/ with --device cuda --tiers medium,large until STOP_AFTER, into
# OUTDIR/records/ (copy those files into zoo_results/records/ to merge: the records are keyed by
# task content and config, so the CPU shards skip what the GPU did).
set -u
OUT=${1:-zoo-cuda}
STOP=${2:-7m}
mkdir -p "$OUT/records"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
export AUTOPRESET_CACHE=${AUTOPRESET_CACHE:-$(mktemp -d)}
TASKS=$(mktemp -d)
cp zoo_results/candidates.json "$OUT/"
cp zoo_results/records/*.jsonl "$OUT/records/" 2>/dev/null   # what is done already is skipped
ls "$OUT/records" > "$OUT/had.txt"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc
  python3 -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__)"
} 2>&1 | tee "$OUT/machine.txt"
python3 -m autopreset zoo tasks "$TASKS" > "$OUT/tasks.txt"
# Small tasks leave a big GPU mostly idle with one process: run P shards side by side (each its
# own process and CUDA context, two CPU threads each for decoding and the optimizer step).
P=${P:-$(( $(nproc) / 2 < 8 ? $(nproc) / 2 : 8 ))}
[ "$P" -ge 1 ] || P=1
for i in $(seq 0 $((P - 1))); do
    python3 -m autopreset zoo run "$TASKS"/* --out "$OUT" --device cuda --threads 2 \
        --shard "$i/$P" --tiers "${TIERS:-medium,large}" --stop-after "$STOP" > "$OUT/run$i.txt" 2>&1 &
done
wait
tail -n 3 "$OUT"/run*.txt
# keep only the new GPU shard file(s): the copies of the CPU shards are not needed back
for f in $(cat "$OUT/had.txt"); do rm -f "$OUT/records/$f"; done
ls -la "$OUT/records"
