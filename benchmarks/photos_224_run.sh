#!/usr/bin/env bash
# A 224-px `alexnet` DeepCluster run on real-size JPEGs (2 ranks, default --workers), to see whether the
# steps wait for their input: prints each epoch's seconds.input_wait as a share of seconds.train.
#   bash benchmarks/photos_224_run.sh OUT [DATA=/tmp/photos/folder] [EPOCHS=7] [extra train flags...]
# DATA from benchmarks/make_photo_folder.py (2,000 images: 31 steps of 64 an epoch, 7 epochs = 217 steps).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; data=${2:-/tmp/photos/folder}; epochs=${3:-7}; shift $(( $# < 3 ? $# : 3 ))
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
lscpu | grep 'Model name' > "$out/machine.txt"
mpirun -np 2 --oversubscribe --bind-to none .build/release/deepcluster train --data "$data" --arch alexnet --clusters 100 \
  --batch-size 64 --epochs "$epochs" --metrics "$out/metrics.jsonl" --log-dir "$out" "$@" | tee "$out/train.log"
/usr/bin/python3 - "$out/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
wait = sum(r["seconds"]["input_wait"] for r in rows); train = sum(r["seconds"]["train"] for r in rows)
for r in rows:
    s = r["seconds"]
    print(f"epoch {r['epoch']}: train {s['train']:.1f} s, input wait {s['input_wait']:.2f} s ({100 * s['input_wait'] / s['train']:.2f}%), extract {s['extract']:.1f} s")
print(f"all epochs: input wait {wait:.2f} s of {train:.1f} s training = {100 * wait / train:.2f}%")
PY
