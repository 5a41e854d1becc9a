#!/usr/bin/env bash
# Trains one recipe and scores its final checkpoint beside the random network and the raw pixels:
#   benchmarks/recipe_eval.sh OUT LIMIT [train flags...]
# e.g. benchmarks/recipe_eval.sh /tmp/v2 20000 --preset fmnist-v2 --epochs 6
# Writes OUT/train.log, OUT/m.jsonl (+ m.svg, the curves), OUT/eval.json and OUT/eval.log (a summary).
# 2 ranks × 1 BLAS thread; the k=10 k-means and the linear probe of `eval --baselines` use the same
# LIMIT training images and the 10,000 test images. Set DEEPCLUSTER to use another binary.
set -euo pipefail
out=$1 limit=$2; shift 2
bin=${DEEPCLUSTER:-$(dirname "$0")/../.build/release/deepcluster}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun -np 2 --oversubscribe --bind-to none)
mkdir -p "$out"
rm -rf "$out/ck" "$out/m.jsonl"
start=$(date +%s)
"${mpi[@]}" "$bin" train --limit "$limit" --checkpoint-dir "$out/ck" --keep-checkpoints 1 --metrics "$out/m.jsonl" "$@" 2>&1 | tee "$out/train.log"
echo "train wall seconds: $(( $(date +%s) - start ))" | tee -a "$out/train.log"
"${mpi[@]}" "$bin" eval --checkpoint "$out/ck" --limit "$limit" --baselines --json > "$out/eval.json"
python3 - "$out/eval.json" <<'PY' | tee "$out/eval.log"
import json, sys
e = json.load(open(sys.argv[1]))
def row(name, d, probe):
    ks = [k for k in d if k.startswith("pca") or k == "no_pca"]
    cells = "  ".join(f"{k}: NMI {d[k]['nmi']:.3f} acc {d[k]['acc']:.3f}" for k in ks)
    print(f"{name:12s} {cells}  probe {probe:.3f}")
row("features", {k[7:]: v for k, v in e.items() if k.startswith("kmeans_pca")}, e["probe_top1"])
for b in ("random_init", "pixels"):
    d = e["baseline_" + b]
    row(b, d, d["probe_top1"])
PY
