#!/usr/bin/env bash
# Single-node DeepCluster training with N ranks; each rank gets cores ÷ N BLAS threads (the
# trainer's default), and --bind-to none lets those threads use the cores they are given.
#   Launch/train-local.sh [N] [deepcluster train flags...]
#   Launch/train-local.sh 2 --epochs 5 --limit 20000 --metrics runs/fmnist/metrics.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-2}
[ $# -gt 0 ] && shift
exe=.build/release/deepcluster
[ -x "$exe" ] || { echo "train-local: $exe missing; run bash Launch/setup.sh first" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
# Pass OpenBLAS's kernel choice on only where it is set (mpirun warns about unset ones).
export_flags=()
for v in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do [ -n "${!v:-}" ] && export_flags+=(-x "$v"); done
exec mpirun --hostfile hostfiles/localhost --oversubscribe --bind-to none -np "$ranks" \
  "${export_flags[@]}" "$exe" train "$@"
