#!/usr/bin/env bash
# Two builds of the trainer beside the peer, alternating in each round: the 28-px training step (global
# batch 256) and extraction (batch 256 per rank), ours 2 ranks x 1 thread, the peer 2 threads in NCHW
# and channels_last (fp32). For a change's A/B: BEFORE and AFTER are two release binaries. WITH_224=1 adds,
# in each round, alexnet at 224 px: the step at global batch 64 (k = 10,000) and extraction at 64 per rank
# (the peer: bench_torch_imagenet_arch.py). WITH_VGG16=1 adds vgg16 at 224 px: the step at global batch 32
# and extraction at 32 per rank; SKIP_28=1 leaves out the 28-px workload. summarise_rounds.py prints the
# medians and per-round ratios. PRECISIONS="fp32 bf16" runs every workload in each precision, one after the
# other within each round: in bf16 ours runs --precision bf16 and the peer --bf16 (autocast) in NCHW and in
# channels_last, and the lines' labels start with "bf16 " (AVX512-BF16 or AMX CPUs only). LAUNCH=1x2 runs ours
# as one rank of 2 threads instead of 2 ranks of 1 (extraction's batch is then the peer's: one batch of the size given).
#   ROUNDS=4 [WITH_224=1] [WITH_VGG16=1] [SKIP_28=1] [PRECISIONS="fp32 bf16"] BEFORE=/path/deepcluster AFTER=.build/release/deepcluster bash benchmarks/ab_side_by_side.sh
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
field() { python3 -c "import json,sys; print(round(json.loads(sys.stdin.read().splitlines()[-1])[sys.argv[1]], 1))" "$1"; }
# One workload: LABEL, ours' step flags, ours' extraction flags, the peer's script and its flags.
workload() {
  local label=$1 step_flags=$2 extract_flags=$3 peer_script=$4 peer_flags=$5 step="" extract="" ours="" theirs=""
  if [ "$precision" = bf16 ]; then label="bf16 $label"; ours="--precision bf16"; theirs="--bf16"; fi
  for b in "$BEFORE" "$AFTER"; do
    if [ "${LAUNCH:-2x1}" = 1x2 ]; then
      step="$step $($b bench step --json --threads 2 $step_flags $ours | field images_per_s)"
      extract="$extract $($b bench extract --json --threads 2 $extract_flags $ours | field images_per_s)"
    else
      step="$step $(mpirun --oversubscribe -np 2 $b bench step --json $step_flags $ours | field images_per_s)"
      extract="$extract $(mpirun --oversubscribe -np 2 $b bench extract --json $extract_flags $ours | field images_per_s)"
    fi
  done
  for cl in "" "--channels-last"; do
    rm -f /tmp/ab_peer.json
    (cd ../shared/peer && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 $peer_script --threads 2 $peer_flags $theirs $cl --json /tmp/ab_peer.json > /dev/null 2>&1)
    step="$step $(field train_img_s < /tmp/ab_peer.json)"
    extract="$extract $(field eval_img_s < /tmp/ab_peer.json)"
  done
  echo "round $r ${label}step (before after peer_nchw peer_channels_last):$step"
  echo "round $r ${label}extract (before after peer_nchw peer_channels_last):$extract"
}
for r in $(seq ${ROUNDS:-4}); do
for precision in ${PRECISIONS:-fp32}; do
  if [ -z "${SKIP_28:-}" ]; then
    workload "" "--steps 10" "--steps 20" bench_torch_step.py "--train-steps 10 --eval-steps 20 --warmup 2"
  fi
  if [ -n "${WITH_224:-}" ]; then
    workload "224 " "--arch alexnet --batch-size 64 --clusters 10000 --steps 3 --warmup 1" "--arch alexnet --batch-size 64 --steps 4" \
      bench_torch_imagenet_arch.py "--arch alexnet --batch 64 --k 10000 --train-steps 3 --eval-steps 4 --warmup 1"
  fi
  if [ -n "${WITH_VGG16:-}" ]; then
    workload "vgg16 " "--arch vgg16 --batch-size 32 --clusters 10000 --steps 2 --warmup 1" "--arch vgg16 --batch-size 32 --steps 2" \
      bench_torch_imagenet_arch.py "--arch vgg16 --batch 32 --k 10000 --train-steps 2 --eval-steps 2 --warmup 1"
  fi
done
done
