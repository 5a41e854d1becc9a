#!/usr/bin/env bash
# The benchmark figures of ../shared/BENCHMARKS.md, ours beside the PyTorch + faiss peer, measured in
# one session, alternating, ROUNDS times (medians are what to compare: the machine is noisy).
#   benchmarks/side_by_side.sh [ROUNDS=3] [OUT=benchmarks/results/side_by_side]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; out=${2:-benchmarks/results/side_by_side}
peer=${PEER_DIR:-../shared/peer}
exe=.build/release/deepcluster
mkdir -p "$out"; rm -f "$out"/*.jsonl
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi="mpirun --oversubscribe --bind-to none"
for r in $(seq 1 "$rounds"); do
  echo "round $r"
  $exe bench step --json --steps 10 >> "$out/ours_step.jsonl"
  $mpi -np 2 $exe bench step --json --steps 10 >> "$out/ours_step.jsonl"
  $mpi -np 4 $exe bench step --json --steps 10 >> "$out/ours_step.jsonl"
  $exe bench extract --json >> "$out/ours_extract.jsonl"
  $mpi -np 2 $exe bench extract --json >> "$out/ours_extract.jsonl"
  /usr/bin/python3 "$peer/bench_torch_step.py" --threads 2 --train-steps 10 --eval-steps 10 --warmup 2 --json "$out/peer_step_$r.json" > /dev/null
  $exe bench kmeans --json --reps 3 >> "$out/ours_kmeans.jsonl"
  $mpi -np 2 $exe bench kmeans --json --reps 3 >> "$out/ours_kmeans.jsonl"
  /usr/bin/python3 "$peer/bench_kmeans.py" --reps 3 --quick --json "$out/peer_kmeans_$r.json" > /dev/null
  $mpi -np 2 $exe bench allreduce --json >> "$out/ours_allreduce.jsonl"
  $mpi -np 2 /usr/bin/python3 "$peer/bench_allreduce.py" > "$out/peer_allreduce_$r.txt" 2>&1 || true
done
echo "results in $out"
