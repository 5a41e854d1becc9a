#!/usr/bin/env bash
# The scaling model's network terms against a network that is the bottleneck: 3 "hosts" (network
# namespaces, Launch/netns-cluster.sh) whose links are limited to RATE by tc, the ranks talking TCP.
# Measures `bench allreduce` (1 and 16 MiB) and `bench step` (64 images per rank) on 3 ranks, unshaped
# and shaped, and sets them beside ScalingModel's formulas: ring allreduce 2(R−1)α + 2(R−1)/R · s/β
# with α from the unshaped run and β = RATE, and a step of t₁ · crowding + (1 − h) · allreduce, with
# t₁ and h measured on this machine alone (crowding: 3 ranks on this machine's cores).
#   bash benchmarks/netns_scaling_check.sh OUT [RATE_MBIT=1000]      (root; installs nothing)
set -euo pipefail
out=${1:?usage: netns_scaling_check.sh OUT [RATE_MBIT]}
rate=${2:-1000}
cd "$(dirname "$0")/.."
mkdir -p "$out"
exe=$PWD/.build/release/deepcluster
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cluster=Launch/netns-cluster.sh
bash $cluster up 3 >/dev/null
trap 'bash '"$cluster"' down >/dev/null' EXIT
bench() { bash $cluster run -np 3 "$exe" bench "$@" --json --threads 1 2>/dev/null | grep '^{'; }
alone() { mpirun --oversubscribe --bind-to none -np "$1" "$exe" bench "${@:2}" --json --threads 1 2>/dev/null | grep '^{'; }
alone 1 step --batch-size 64 --steps 10 > "$out/step_1rank.jsonl"
alone 2 step --batch-size 128 --steps 10 > "$out/step_2ranks.jsonl"
for shaping in off "${rate}mbit"; do
  bash $cluster shape "$shaping" >/dev/null
  tag=${shaping/mbit/}
  bench allreduce --sizes 262144 4194304 --reps 10 > "$out/allreduce_$tag.jsonl"
  bench step --batch-size 192 --steps 10 > "$out/step_3hosts_$tag.jsonl"
done
/usr/bin/python3 - "$out" "$rate" "$(nproc)" <<'PY'
import json, math, sys
out, rate, cores = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
def lines(name): return [json.loads(l) for l in open(f"{out}/{name}") if l.strip()]
R = 3
def ring(s, alpha, beta): return 2 * (R - 1) * alpha + 2 * (R - 1) / R * s / beta
free = [x for x in lines("allreduce_off.jsonl") if x.get("bench") == "allreduce"]
# alpha and the unshaped link from the two sizes (ring on 3 ranks)
(s0, t0), (s1, t1) = [(x["size_bytes"], x["seconds"]) for x in free]
beta_free = (s1 - s0) * 2 * (R - 1) / R / (t1 - t0)
alpha = max(0.0, (t0 - 2 * (R - 1) / R * s0 / beta_free) / (2 * (R - 1)))
beta = rate * 1e6 / 8
rows = ["| measurement | measured | predicted | difference |", "|---|---|---|---|"]
for x in lines(f"allreduce_{int(rate)}.jsonl"):
    if x.get("bench") != "allreduce": continue
    p = ring(x["size_bytes"], alpha, beta)
    rows.append(f"| allreduce {x['size_bytes'] / 2**20:.0f} MiB, 3 hosts at {rate:.0f} Mbit/s | {x['seconds'] * 1e3:.1f} ms | {p * 1e3:.1f} ms | {100 * (p / x['seconds'] - 1):+.0f}% |")
one = lines("step_1rank.jsonl")[-1]; two = lines("step_2ranks.jsonl")[-1]
h = two.get("hidden_fraction", 0.0)
crowding = max(1.0, R / cores)
for tag, b in (("off", beta_free), (str(int(rate)), beta)):
    m = lines(f"step_3hosts_{tag}.jsonl")[-1]
    p = one["step_seconds"] * crowding + (1 - h) * ring(one["gradient_bytes"], alpha, b)
    what = "unshaped" if tag == "off" else f"at {rate:.0f} Mbit/s"
    rows.append(f"| step, 64 images per rank, 3 hosts {what} | {m['step_seconds'] * 1e3:.0f} ms | {p * 1e3:.0f} ms | {100 * (p / m['step_seconds'] - 1):+.0f}% |")
text = "\n".join(rows) + f"\n\nFit from the unshaped run: α = {alpha * 1e6:.0f} µs, link {beta_free * 8 / 1e9:.2f} Gbit/s; " \
       f"hidden fraction {h:.2f} (2 ranks alone), 1-rank step {one['step_seconds'] * 1e3:.0f} ms, crowding {crowding:.2f}.\n"
open(f"{out}/check.md", "w").write(text)
print(text)
PY
