#!/usr/bin/env bash
# Extraction beside the peer in its two fp32 modes, alternating in each round: ours (1 rank x 2 threads,
# 2 ranks x 1 thread) and PyTorch (2 threads, NCHW and channels_last), fmnist-alexnet, batch 256.
# WITH_224=1 adds alexnet at 224 px (batch 64 per rank). Each round also runs ours 2 x 1 with
# --no-winograd (oneDNN's direct kernels for every convolution). Medians are taken by the reader.
#   ROUNDS=5 [WITH_224=1] [BIN=.build/release/deepcluster] bash benchmarks/extract_side_by_side.sh
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
bin=${BIN:-.build/release/deepcluster}
for r in $(seq ${ROUNDS:-3}); do
  a=$($bin bench extract --json --steps 20 | tail -1 | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['images_per_s'])")
  b=$(mpirun --oversubscribe -np 2 $bin bench extract --json --steps 20 | tail -1 | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['images_per_s'])")
  e=$(mpirun --oversubscribe -np 2 $bin bench extract --no-winograd --json --steps 20 | tail -1 | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['images_per_s'])")
  rm -f /tmp/p1.json /tmp/p2.json
  (cd ../shared/peer && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench_torch_step.py --threads 2 --train-steps 2 --eval-steps 20 --warmup 2 --json /tmp/p1.json > /dev/null 2>&1)
  (cd ../shared/peer && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench_torch_step.py --threads 2 --train-steps 2 --eval-steps 20 --warmup 2 --channels-last --json /tmp/p2.json > /dev/null 2>&1)
  c=$(python3 -c "import json; print(round(json.loads(open('/tmp/p1.json').read().splitlines()[-1])['eval_img_s']))")
  d=$(python3 -c "import json; print(round(json.loads(open('/tmp/p2.json').read().splitlines()[-1])['eval_img_s']))")
  echo "round $r: ours 1x2 $a, ours 2x1 $b, ours 2x1 --no-winograd $e, peer nchw $c, peer channels_last $d"
done
# 224-px alexnet, batch 64 per rank: the same alternation with bench_torch_imagenet_arch.py.
if [ -n "${WITH_224:-}" ]; then
  for r in $(seq ${ROUNDS:-3}); do
    b=$(mpirun --oversubscribe -np 2 $bin bench extract --arch alexnet --batch-size 64 --json --steps 4 | tail -1 | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['images_per_s'])")
    e=$(mpirun --oversubscribe -np 2 $bin bench extract --arch alexnet --batch-size 64 --no-winograd --json --steps 4 | tail -1 | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['images_per_s'])")
    out=""
    for cl in "" "--channels-last"; do
      rm -f /tmp/pi.json
      (cd ../shared/peer && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench_torch_imagenet_arch.py --arch alexnet --threads 2 --batch 64 --train-steps 1 --eval-steps 4 --warmup 1 $cl --json /tmp/pi.json > /dev/null 2>&1)
      out="$out peer${cl:-_nchw} $(python3 -c "import json; j=json.loads(open('/tmp/pi.json').read().splitlines()[-1]); print(round(j.get('eval_img_s', -1),1))")"
    done
    echo "224 round $r: ours 2x1 $b, ours 2x1 --no-winograd $e,$out"
  done
fi
