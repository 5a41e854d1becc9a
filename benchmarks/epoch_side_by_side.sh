#!/usr/bin/env bash
# One DeepCluster epoch on the 60,000 Fashion-MNIST images beside the peer, alternating, ROUNDS times:
# ours `bench epoch` at 2 ranks x 1 thread (BEFORE, when given, and AFTER: two release binaries), the
# peer's deepcluster.py (one epoch, 2 threads, OPENBLAS_NUM_THREADS=1, OpenBLAS kernel variables unset),
# with its peak resident set (/usr/bin/time). One line per run; the peer's phase times are in its log.
# OURS_FLAGS and PEER_FLAGS go to each side: "--precision bf16" and "--bf16 --channels-last" for bf16.
#   ROUNDS=2 [BEFORE=/path/deepcluster] AFTER=.build/release/deepcluster OUT=DIR [OURS_FLAGS=..] [PEER_FLAGS=..] bash benchmarks/epoch_side_by_side.sh
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=${OUT:-/tmp/epoch_side_by_side}; mkdir -p "$out"; out=$(cd "$out" && pwd)
peer=$(cd "${PEER_DIR:-../shared/peer}" && pwd)
for r in $(seq ${ROUNDS:-2}); do
  for b in ${BEFORE:-} ${AFTER:-.build/release/deepcluster}; do
    echo "round $r ours $b: $(mpirun --oversubscribe --bind-to none -np 2 $b bench epoch --limit 60000 ${OURS_FLAGS:-} | tail -1)"
  done
  start=$(date +%s.%N)
  (cd "$peer" && /usr/bin/time -f "%M" -o "$out/peer_rss_$r.txt" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
      /usr/bin/python3 deepcluster.py --threads 2 --limit 60000 --max-epochs 1 --min-epochs 1 --save "" ${PEER_FLAGS:-} \
      --log "$out/peer_epoch_$r.jsonl" --summary /dev/null > "$out/peer_stdout_$r.txt" 2>&1)
  echo "round $r peer: wall $(python3 -c "import time; print(round(time.time() - $start, 1))") s, peak rss $(cat "$out/peer_rss_$r.txt") kB, log $out/peer_epoch_$r.jsonl"
done
