#!/usr/bin/env bash
# Ours beside the PyTorch + faiss peer (../shared/peer), measured in one session, alternating, ROUNDS
# times; benchmarks/side_by_side.py then writes the medians as OUT/table.md. Each round runs:
#   training step, batch 256: ours 1 rank × 2 threads and 2 ranks × 1 thread (oneDNN fp32; bf16 where
#     the CPU has it, else its one-line refusal is recorded; the im2col reference at 2 × 1);
#     the peer 1 process × 2 threads (bench_torch_step.py) tuned and as set, and DDP 2 × 1 (bench_ddp.py);
#   extraction (eval forward): ours at 1 × 2 and 2 × 1, the peer's eval pass of bench_torch_step.py;
#   one DeepCluster epoch on the 60,000 images: ours `bench epoch` at 2 × 1, the peer's deepcluster.py
#     (one epoch, 2 threads, tuned);
# with the peak resident set of each (ours from getrusage in the JSON, the peer's from /usr/bin/time).
# "Tuned" peer = OPENBLAS_NUM_THREADS=1 with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset (its own threads do
# the work); "as set" = the environment as it is. Our runs leave the environment as it is.
#   benchmarks/side_by_side.sh [ROUNDS=5] [OUT=benchmarks/results/side_by_side] [EPOCH_IMAGES=60000]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}; out=${2:-benchmarks/results/side_by_side}; epoch_images=${3:-60000}
peer=$(cd "${PEER_DIR:-../shared/peer}" && pwd)
exe=$PWD/.build/release/deepcluster
test -x "$exe" || { echo "side_by_side: build first (bash Launch/setup.sh)" >&2; exit 1; }
mkdir -p "$out"; rm -f "$out"/*.jsonl "$out"/*.json "$out"/*.txt
out=$(cd "$out" && pwd)
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi="mpirun --oversubscribe --bind-to none"
tuned=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1)
rss() { /usr/bin/time -f "%M" -o "$1" "${@:2}"; }   # peak RSS in KB of the largest process

for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds: step"
  $exe bench step --json --steps 10 >> "$out/ours_step.jsonl"
  $mpi -np 2 $exe bench step --json --steps 10 >> "$out/ours_step.jsonl"
  $mpi -np 2 $exe bench step --json --steps 10 --kernels reference >> "$out/ours_step.jsonl"
  $mpi -np 2 $exe bench step --json --steps 10 --precision bf16 >> "$out/ours_step.jsonl" 2> "$out/ours_bf16_$r.txt" || true
  (cd "$peer" && rss "$out/peer_step_tuned_rss_$r.txt" "${tuned[@]}" /usr/bin/python3 bench_torch_step.py --threads 2 \
      --train-steps 10 --eval-steps 20 --warmup 2 --json "$out/peer_step_tuned_$r.json" > /dev/null)
  (cd "$peer" && /usr/bin/python3 bench_torch_step.py --threads 2 --train-steps 10 --eval-steps 20 --warmup 2 \
      --json "$out/peer_step_as_set_$r.json" > /dev/null)
  (cd "$peer" && "${tuned[@]}" /usr/bin/python3 bench_ddp.py --steps 10 --warmup 2 --openblas-threads 1 \
      --json "$out/peer_ddp_$r.json" > /dev/null)
  echo "round $r/$rounds: extract"
  $exe bench extract --json --steps 20 >> "$out/ours_extract.jsonl"
  $mpi -np 2 $exe bench extract --json --steps 20 >> "$out/ours_extract.jsonl"
  echo "round $r/$rounds: epoch"
  $mpi -np 2 $exe bench epoch --json --limit "$epoch_images" >> "$out/ours_epoch.jsonl"
  (cd "$peer" && rss "$out/peer_epoch_rss_$r.txt" "${tuned[@]}" /usr/bin/python3 deepcluster.py --threads 2 \
      --limit "$epoch_images" --max-epochs 1 --min-epochs 1 --save "" --log "$out/peer_epoch_$r.jsonl" \
      --summary /dev/null > /dev/null)
done
python3 benchmarks/side_by_side.py "$out" | tee "$out/table.md"
