#!/usr/bin/env bash
# Rebuild the shipped presets from the zoo (run when zoo_results/ holds the configs it should):
#
#     bash benchmarks/zoo_presets.sh [ZOO] [OUT]        # defaults: zoo_results presets
#
# default: tiers tiny..medium, 16 configs; latency: tiny and small, 12; accuracy: every tier, 12,
# with schedules up to 81 epochs where the budget allows (as the curated accuracy preset had).
# Each is a greedy portfolio serving every --prefer at once (autopreset/zoo/_portfolio.py), with
# the zoo files' hashes and a digest of its cells in its provenance; then every preset is
# validated and checked against the zoo (autopreset zoo check). INNER and PROPOSALS
# (defaults hyperband, random) set what fit runs after the portfolio, as the replay decides.
set -eu
ZOO=${1:-zoo_results}
OUT=${2:-presets}
cd "$(dirname "$0")/.."
AP="${PY:-.venv/bin/python} -m autopreset"
SEARCH="--inner ${INNER:-hyperband} --proposals ${PROPOSALS:-random}"
$AP zoo status "$ZOO" | tail -n 1
$AP zoo portfolio "$ZOO" -o "$OUT/default.json" --tiers tiny,small,medium -k 16 $SEARCH
$AP zoo portfolio "$ZOO" -o "$OUT/latency.json" --tiers tiny,small -k 12 $SEARCH
$AP zoo portfolio "$ZOO" -o "$OUT/accuracy.json" --tiers tiny,small,medium,large -k 12 --max-resource 81 $SEARCH
$AP presets validate "$OUT"/*.json
$AP zoo check "$OUT/default.json" "$OUT/latency.json" "$OUT/accuracy.json" --zoo "$ZOO"
