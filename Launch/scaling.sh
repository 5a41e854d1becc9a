#!/usr/bin/env bash
# The scaling benchmark: `deepcluster bench scaling` sweeps the rank counts over the training step,
# extraction, k-means, allreduce and one epoch, under weak and strong scaling, and writes
# scaling.json, scaling.md and scaling.svg (efficiency = throughput(N) / (N × throughput(1))).
#   Launch/scaling.sh [RANKS=1,2,4] [OUT=benchmarks/results/scaling-$(date +%F)-$(hostname)] [bench scaling flags...]
#   Launch/scaling.sh 1,2,4,8,16 benchmarks/results/scaling-16core --threads 1     # a 16-core machine
# Each rank keeps --threads BLAS threads (default 1) at every count, so N ranks use N cores; past the
# core count the ranks are oversubscribed (--bind-to none lets them float). For several hosts pass
# e.g. --mpirun "mpirun --hostfile hostfiles/cluster --map-by slot:PE=1 --bind-to core".
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-1,2,4}
out=${2:-benchmarks/results/scaling-$(date +%F)-$(hostname)}
shift $(( $# < 2 ? $# : 2 ))
exe=.build/release/deepcluster
[ -x "$exe" ] || { echo "scaling: $exe missing; run bash Launch/setup.sh first" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
exec "$exe" bench scaling --ranks "$ranks" --out "$out" "$@"
