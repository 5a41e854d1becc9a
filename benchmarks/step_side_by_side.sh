#!/usr/bin/env bash
# The training step beside the peer in its two fp32 modes, alternating in each round: ours 2 ranks x 1
# thread (bench step) and PyTorch 2 threads (bench_torch_step.py train steps, NCHW and channels_last),
# fmnist-alexnet at global batch 256; WITH_224=1 adds alexnet at 224 px (global batch 64, k = 10,000;
# bench_torch_imagenet_arch.py). Ours also runs with --no-winograd-training (training's convolutions on
# oneDNN) in the same round; the first "ours" figure is the default. Medians are taken by the reader.
#   ROUNDS=3 [WITH_224=1] [BIN=.build/release/deepcluster] bash benchmarks/step_side_by_side.sh
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
bin=${BIN:-.build/release/deepcluster}
field() { python3 -c "import json,sys; print(round(json.loads(open(sys.argv[1]).read().splitlines()[-1])[sys.argv[2]], 1))" "$@"; }
for r in $(seq ${ROUNDS:-3}); do
  ours() { mpirun --oversubscribe -np 2 $bin bench step --json "$@" | tail -1 | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['images_per_s'])"; }
  a="$(ours --steps 10) no-winograd-training $(ours --steps 10 --no-winograd-training)"
  out=""
  for cl in "" "--channels-last"; do
    rm -f /tmp/ps.json
    (cd ../shared/peer && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench_torch_step.py --threads 2 --train-steps 10 --eval-steps 2 --warmup 2 $cl --json /tmp/ps.json > /dev/null 2>&1)
    out="$out peer${cl:-_nchw} $(field /tmp/ps.json train_img_s)"
  done
  echo "step round $r: ours 2x1 $a,$out"
  if [ -n "${WITH_224:-}" ]; then
    flags=(--arch alexnet --batch-size 64 --clusters 10000 --steps 3 --warmup 1)
    b="$(ours "${flags[@]}") no-winograd-training $(ours "${flags[@]}" --no-winograd-training)"
    out=""
    for cl in "" "--channels-last"; do
      rm -f /tmp/pi.json
      (cd ../shared/peer && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench_torch_imagenet_arch.py --arch alexnet --threads 2 --batch 64 --k 10000 --train-steps 3 --eval-steps 1 --warmup 1 $cl --json /tmp/pi.json > /dev/null 2>&1)
      out="$out peer${cl:-_nchw} $(field /tmp/pi.json train_img_s)"
    done
    echo "224 step round $r: ours 2x1 $b,$out"
  fi
done
