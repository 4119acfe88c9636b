#!/usr/bin/env bash
# Continue the zoo on this machine's CPU cores: one `zoo run` shard per core, one thread each,
# each pinned to its core, until STOP_AFTER; cells already in zoo_results/records/ are skipped.
#
#     bash benchmarks/zoo_cpu.sh [STOP_AFTER] [TASKS_DIR]     # e.g. 2h /work/zoo/tasks
#
# The tasks are written first if TASKS_DIR has none (the same pixels on every machine). Logs go
# to TASKS_DIR/../shard<i>.log; commit zoo_results/records/ as the shards go. NICE=19 leaves the
# cores to interactive work first (the zoo prices cells by CPU seconds, not wall time).
# TIERS (default tiny,small,medium) picks the configs by backbone tier: the large tier costs
# 5-25 times resnet18's CPU time per step at 32 px (vgg16_bn alone would take about 9 of the
# zoo's remaining core-hours), so it is recorded on a GPU (zoo_cuda.sh) or last; TIERS= runs all.
# SOURCES=local records only the second round of candidates (`autopreset zoo candidates`).
# ORDER=cheapest records the configs cheapest to complete on every task first (default: rank).
set -eu
STOP=${1:-2h}
TASKS=${2:-/work/zoo/tasks}
TIERS=${TIERS-tiny,small,medium}
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
N=$(nproc)
mkdir -p "$TASKS"
"$PY" -m autopreset zoo tasks "$TASKS" > /dev/null
for i in $(seq 0 $((N - 1))); do
    nohup nice -n "${NICE:-0}" taskset -c "$i" "$PY" -m autopreset zoo run "$TASKS"/*/ --out zoo_results \
        --shard "$i/$N" --threads 1 --stop-after "$STOP" ${TIERS:+--tiers "$TIERS"} ${SOURCES:+--sources "$SOURCES"} ${ORDER:+--order "$ORDER"} > "$(dirname "$TASKS")/shard$i.log" 2>&1 &
done
echo "started $N shard(s) until $STOP; logs in $(dirname "$TASKS")/shard*.log"
