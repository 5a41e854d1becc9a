#!/usr/bin/env bash
# The clustering stage beside faiss on the same points: `deepcluster bench cluster` (2 ranks × 1
# thread) writes the synthetic features after PCA, then ours and faiss (2 OpenMP threads) cluster
# them, alternating, REPS times each. One JSON line per run in OUT/cluster.jsonl.
#   bash benchmarks/cluster_side_by_side.sh OUT [POINTS] [K] [ITERATIONS] [REPS]
# The paper's size: bash benchmarks/cluster_side_by_side.sh runs/cluster 1280000 10000 2 1
set -euo pipefail
out=${1:?usage: cluster_side_by_side.sh OUT [POINTS] [K] [ITERATIONS] [REPS]}
points=${2:-1280000}; k=${3:-10000}; iterations=${4:-2}; reps=${5:-1}
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"
exe=.build/release/deepcluster
ours() { mpirun --oversubscribe --bind-to none -np 2 "$exe" bench cluster --json --points "$points" --k "$k" --iterations "$iterations" "$@" | tail -1; }
ours --write-npy "$out/points.npy" >> "$out/cluster.jsonl"
for r in $(seq "$reps"); do
  /usr/bin/python3 benchmarks/faiss_cluster.py "$out/points.npy" --k "$k" --iterations "$iterations" --threads 2 >> "$out/cluster.jsonl"
  [ "$r" -lt "$reps" ] || break
  ours >> "$out/cluster.jsonl"
done
rm -f "$out/points.npy"
cat "$out/cluster.jsonl"
