#!/usr/bin/env bash
# The refactoring check: trains both methods on 2 ranks for 3 epochs, and for 2 epochs then a resume
# to 3, and prints the SHA-256 of each run's final model.safetensors. Run it with the binary before a
# change and after it; the four lines must be the same (the structure changed, not the arithmetic).
#   bash benchmarks/identity_check.sh [BINARY] [OUT]     (defaults: .build/release/deepcluster, /tmp/identity)
# FLAGS adds training flags (FLAGS="--precision bf16": the bf16 paths, whose hashes differ from fp32's but must
# still agree straight and resumed).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/release/deepcluster}
out=${2:-/tmp/identity}
rm -rf "$out"
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
read -r -a extra <<< "${FLAGS:-}"
run() { mpirun -np 2 "$binary" train --limit 2000 --batch-size 128 --threads 1 --quiet "${extra[@]}" "$@"; }
for method in deepcluster deepcluster-v2; do
  flags=(--method "$method" --clusters 20)
  run "${flags[@]}" --epochs 3 --checkpoint-dir "$out/$method-straight"
  run "${flags[@]}" --epochs 2 --checkpoint-dir "$out/$method-resumed"
  run "${flags[@]}" --epochs 3 --checkpoint-dir "$out/$method-resumed" --resume
  for kind in straight resumed; do
    echo "$method $kind $(sha256sum "$out/$method-$kind/epoch-0003/model.safetensors" | cut -c1-16)"
  done
done
