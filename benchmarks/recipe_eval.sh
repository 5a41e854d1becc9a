#!/usr/bin/env bash
# Trains one recipe and scores its final checkpoint beside the random network and the raw pixels:
#   benchmarks/recipe_eval.sh OUT LIMIT [train flags...]
# e.g. benchmarks/recipe_eval.sh /tmp/v2 20000 --preset fmnist-v2 --epochs 6
# Writes OUT/train.log, OUT/m.jsonl (+ m.svg, the curves), OUT/eval.json and OUT/eval.log (a summary).
# 2 ranks × 1 BLAS thread; the k=10 k-means and the linear probe of `eval --baselines` use the same
# LIMIT training images and the 10,000 test images (a --data and --labels among the train flags are evaluated too:
# a single file has no test split, so the probe is scored on a seeded 20% held out of it).
# Set DEEPCLUSTER to use another binary.
set -euo pipefail
out=$1 limit=$2; shift 2
bin=${DEEPCLUSTER:-$(dirname "$0")/../.build/release/deepcluster}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun -np 2 --oversubscribe --bind-to none)
data=()
prev=
for a in "$@"; do
  [ "$prev" = --data ] && data+=(--data "$a")
  [ "$prev" = --labels ] && data+=(--labels "$a")
  prev=$a
done
mkdir -p "$out"
rm -rf "$out/ck" "$out/m.jsonl"
start=$(date +%s)
"${mpi[@]}" "$bin" train --limit "$limit" --checkpoint-dir "$out/ck" --keep-checkpoints 1 --metrics "$out/m.jsonl" "$@" 2>&1 | tee "$out/train.log"
echo "train wall seconds: $(( $(date +%s) - start ))" | tee -a "$out/train.log"
start=$(date +%s)
"${mpi[@]}" "$bin" eval --checkpoint "$out/ck" --limit "$limit" "${data[@]}" --baselines --json > "$out/eval.json"
echo "eval wall seconds: $(( $(date +%s) - start ))" | tee -a "$out/train.log"
python3 - "$out/eval.json" <<'PY' | tee "$out/eval.log"
import json, sys
e = json.load(open(sys.argv[1]))
def row(name, d, probe):
    ks = [k for k in d if k.startswith("pca") or k in ("no_pca", "umap", "umap_balanced")]
    cells = "  ".join(f"{k}: NMI {d[k]['nmi']:.3f} acc {d[k]['acc']:.3f}" for k in ks)
    print(f"{name:12s} {cells}  probe {probe:.3f}")
row("features", {k[7:]: v for k, v in e.items() if k.startswith("kmeans_pca") or k in ("kmeans_no_pca", "kmeans_umap", "kmeans_umap_balanced")}, e["probe_top1"])
print(f"{'':12s} headline ({e.get('kmeans_headline', '?')}): NMI {e['kmeans_nmi']:.3f} acc {e['kmeans_acc']:.3f}  spectral: NMI {e['spectral_nmi']:.3f} acc {e['spectral_acc']:.3f}")
for b in ("random_init", "pixels"):
    d = e["baseline_" + b]
    row(b, {k: v for k, v in d.items() if k != "spectral" and k != "probe_top1"}, d["probe_top1"])
    print(f"{'':12s} spectral: NMI {d['spectral']['nmi']:.3f} acc {d['spectral']['acc']:.3f}")
PY
