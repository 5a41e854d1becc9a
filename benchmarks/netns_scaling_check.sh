#!/usr/bin/env bash
# The scaling model against a network that is the bottleneck: 3 "hosts" (network namespaces,
# Launch/netns-cluster.sh), one rank each, talking TCP over links that tc limits to RATE Mbit/s.
# `bench scaling --network-sweep` sweeps 1, 2 and 3 hosts over the shaped links and checks what
# ScalingModel predicts for that network (latency and payload bandwidth fitted from two allreduces
# between 2 hosts) from measurements on this machine alone — the code path of `--predict` on a cluster.
# The hosts share this machine's cores, which the model is told (3 ranks on 2 cores: 1.5× crowding).
#   bash benchmarks/netns_scaling_check.sh OUT [RATE_MBIT=50] [REPEATS=3]     (root, openssh-server)
# Writes OUT/link.jsonl (the 2-host allreduces that give the link) and OUT/scaling.{md,json,svg}
# and OUT/prediction.json (largest_error_here: the worst difference between predicted and measured).
set -euo pipefail
out=${1:?usage: netns_scaling_check.sh OUT [RATE_MBIT] [REPEATS]}
rate=${2:-50}
repeats=${3:-3}
cd "$(dirname "$0")/.."
mkdir -p "$out"
exe=$PWD/.build/release/deepcluster
[ -x "$exe" ] || { echo "netns_scaling_check: $exe missing; run bash Launch/setup.sh first" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cluster=$PWD/Launch/netns-cluster.sh
bash "$cluster" up 3 >/dev/null
trap 'bash "$cluster" down >/dev/null' EXIT
# 3 ranks on 2 cores: a rank that waits in MPI yields its core to the others (Open MPI busy-polls by
# default, as it should on a real host with a core per rank).
export OMPI_MCA_mpi_yield_when_idle=1
# tbf's bucket: rate ÷ HZ (this kernel: 250), the least that still reaches the rate. A message smaller
# than the bucket passes at line rate after the link was idle, so the shaping is felt by the gradient
# (2.4 MB) far more than by the k-means allreduce (52 KB): the check's k-means rows show it.
burst=$(( rate * 1000000 / 8 / 250 ))
bash "$cluster" shape "${rate}mbit" "$burst" >/dev/null
# The shaped link as MPI sees it (TCP and Open MPI's protocol take their share of the rate): latency and
# payload bandwidth fitted from a 256 KiB and a 4 MiB allreduce between 2 hosts (ring: 2α + s/β), as
# `bench scaling --predict` fits this node's own link. A user does the same on their cluster.
bash "$cluster" run -np 2 "$exe" bench allreduce --sizes 262144 4194304 --reps 10 --json --threads 1 2>/dev/null | grep '^{' > "$out/link.jsonl"
read -r gbps latency_us < <(/usr/bin/python3 - "$out/link.jsonl" <<'PY'
import json, sys
(s0, t0), (s1, t1) = [(j["size_bytes"], j["seconds"]) for j in map(json.loads, open(sys.argv[1]))]
beta = (s1 - s0) / (t1 - t0)
print(f"{beta * 8 / 1e9:.5f} {max(0.0, (t0 - s0 / beta) / 2) * 1e6:.1f}")
PY
)
echo "netns_scaling_check: 3 hosts, links shaped to $rate Mbit/s (burst $burst bytes): MPI payload $gbps Gbit/s, latency $latency_us µs"
"$exe" bench scaling --mpirun "bash $cluster run" --ranks 1,2,3 --repeats "$repeats" --epoch-images 0 --steps 5 \
  --predict 3 --network-sweep --link-gbps "$gbps" --link-latency-us "$latency_us" \
  --out "$out" --machine "3 network namespaces on $(nproc) cores, links shaped to $rate Mbit/s by tc tbf ($gbps Gbit/s MPI payload, $latency_us µs)"
