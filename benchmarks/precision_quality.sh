#!/usr/bin/env bash
# bf16 training beside fp32 on quality: --preset PRESET (default recommended, DeepCluster-v2; recommended-v1 is the
# paper's DeepCluster, which extracts features for k-means each epoch) on LIMIT Fashion-MNIST images for EPOCHS epochs
# (0: the preset's own), 2 ranks, once per seed and precision, each checkpoint scored by the same fp32 `eval
# --json` (headline clustering NMI, the linear probe on the 10,000 test images). Prints a table with the
# means over seeds. Needs a CPU with AVX512-BF16 or AMX.
# PRECISIONS (default "fp32 bf16") picks which to train, TRAIN=0 none (the table alone); the table reads both
# precisions' results for every seed of SEEDS under OUT.
# Checkpoints go under CHECKPOINTS (default /tmp/precision-quality: a few hundred MB), the rest under OUT.
#   SEEDS="0 1 2" LIMIT=20000 EPOCHS=0 OUT=benchmarks/results/precision-quality bash benchmarks/precision_quality.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-"0 1 2"}; limit=${LIMIT:-20000}; epochs=${EPOCHS:-0}; out=${OUT:-benchmarks/results/precision-quality}
bin=${DEEPCLUSTER:-.build/release/deepcluster}
preset=${PRESET:-recommended}
checkpoints=${CHECKPOINTS:-/tmp/precision-quality}
mkdir -p "$out" "$checkpoints"
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi="mpirun --oversubscribe --bind-to none -np 2"
length=(); [ "$epochs" != 0 ] && length=(--epochs "$epochs")
[ "${TRAIN:-1}" = 0 ] && seeds_to_train="" || seeds_to_train=$seeds
for s in $seeds_to_train; do
  for p in ${PRECISIONS:-fp32 bf16}; do
    run="$out/$p-seed$s" checkpoint="$checkpoints/$p-seed$s"
    rm -rf "$checkpoint"
    $mpi "$bin" train --preset "$preset" --limit "$limit" "${length[@]}" --seed "$s" --precision "$p" --quiet \
      --metrics "$run.jsonl" --checkpoint-dir "$checkpoint" > "$run.log" 2>&1
    $mpi "$bin" eval --checkpoint "$checkpoint" --limit "$limit" --json 2> "$run-eval.log" | tail -1 > "$run-eval.json"
  done
done
python3 - "$out" $seeds <<'PY' | tee "$out/table.md"
import json, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
print("| precision | seed | headline NMI | probe top-1 |\n|---|---|---|---|")
means = {}
for p in ("fp32", "bf16"):
    for s in seeds:
        e = json.load(open(f"{out}/{p}-seed{s}-eval.json"))
        nmi, probe = e["kmeans_nmi"], e["probe_top1"]
        means.setdefault(p, []).append((nmi, probe))
        print(f"| {p} | {s} | {nmi:.3f} | {probe:.3f} |")
for p, v in means.items():
    print(f"| {p} | mean | {statistics.mean(a for a, _ in v):.3f} | {statistics.mean(b for _, b in v):.3f} |")
d_nmi = statistics.mean(a for a, _ in means["bf16"]) - statistics.mean(a for a, _ in means["fp32"])
d_probe = statistics.mean(b for _, b in means["bf16"]) - statistics.mean(b for _, b in means["fp32"])
print(f"\nbf16 − fp32 (means): NMI {d_nmi:+.3f}, probe {d_probe:+.3f}")
PY
