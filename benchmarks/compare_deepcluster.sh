#!/usr/bin/env bash
# DeepCluster side by side with the PyTorch + faiss peer (../shared/peer/deepcluster.py): same model
# (fmnist-alexnet), k, images and epochs; ours on 2 MPI ranks × 1 thread, the peer on 2 threads.
# Runs one after the other (2 cores) and prints the per-epoch figures of both.
#   benchmarks/compare_deepcluster.sh [LIMIT=20000] [EPOCHS=10] [OUT=benchmarks/results/compare] [train flags...]
# SKIP_PEER=1 reuses the peer's results already in OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-20000}; epochs=${2:-10}; out=${3:-benchmarks/results/compare}
shift $(( $# < 3 ? $# : 3 ))
peer=${PEER_DIR:-../shared/peer}
mkdir -p "$out"
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -f "$out/ours.jsonl"
[ -n "${SKIP_PEER:-}" ] || /usr/bin/python3 "$peer/deepcluster.py" --limit "$limit" --min-epochs "$epochs" --max-epochs "$epochs" --k 100 \
  --threads 2 --log "$out/peer.jsonl" --summary "$out/peer_summary.json" --save "" > "$out/peer.log" 2>&1
mpirun --oversubscribe --bind-to none -np 2 .build/release/deepcluster train --limit "$limit" --epochs "$epochs" \
  --clusters 100 --metrics "$out/ours.jsonl" "$@" > "$out/ours.log" 2>&1
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
peer = [json.loads(l) for l in open(out + "/peer.jsonl") if '"epoch"' in l]
ours = [json.loads(l) for l in open(out + "/ours.jsonl")]
f = lambda v: "  -  " if v is None else "%.3f" % v
print("epoch | NMI(t,t-1) ours / peer | NMI(labels) ours / peer | k-means obj ours / peer | loss ours / peer")
for o, p in zip(ours, peer):
    print("%5d | %s / %s | %s / %s | %.1f / %.1f | %.3f / %.3f" % (o["epoch"], f(o["nmi_prev"]), f(p["nmi_vs_prev"]),
          f(o["nmi_labels"]), f(p["nmi_vs_labels"]), o["kmeans_objective"][-1], p["kmeans_obj"], o["loss"], p["loss"]))
PY
