#!/usr/bin/env bash
# DeepCluster beside the PyTorch + faiss peer over several seeds: both runs' per-epoch figures vary
# with the seed by more than the ±0.03 the tracking asks for, so the comparison is between the two
# seed envelopes (mean, min, max per epoch), not between two single runs.
#   benchmarks/seed_sweep.sh [SEEDS="0 1 2"] [LIMIT=20000] [EPOCHS=10] [OUT=benchmarks/results/seed_sweep] [train flags...]
# Ours: 2 MPI ranks × 1 thread with the train flags given (none: the defaults); the peer: 2 threads.
# Runs one after another (2 cores). REUSE=1 keeps runs whose metrics file already has EPOCHS lines
# (copy another sweep's peer-*.jsonl into OUT to compare other flags of ours with the same peer runs).
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-"0 1 2"}; limit=${2:-20000}; epochs=${3:-10}; out=${4:-benchmarks/results/seed_sweep}
shift $(( $# < 4 ? $# : 4 ))
peer=${PEER_DIR:-../shared/peer}
bin=${DEEPCLUSTER:-.build/release/deepcluster}
mkdir -p "$out"
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
done_runs() { [ -n "${REUSE:-}" ] && [ -f "$1" ] && [ "$(grep -c '"epoch"' "$1")" -ge "$epochs" ]; }
for s in $seeds; do
  done_runs "$out/ours-$s.jsonl" || { rm -f "$out/ours-$s.jsonl"
    mpirun --oversubscribe --bind-to none -np 2 "$bin" train --limit "$limit" --epochs "$epochs" --clusters 100 \
      --seed "$s" --metrics "$out/ours-$s.jsonl" "$@" > "$out/ours-$s.log" 2>&1; }
  done_runs "$out/peer-$s.jsonl" || /usr/bin/python3 "$peer/deepcluster.py" --limit "$limit" --min-epochs "$epochs" \
    --max-epochs "$epochs" --k 100 --threads 2 --seed "$s" --log "$out/peer-$s.jsonl" \
    --summary "$out/peer-$s-summary.json" --save "" > "$out/peer-$s.log" 2>&1
done
/usr/bin/python3 - "$out" $seeds <<'PY' | tee "$out/table.md"
import json, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
def rows(p, peer):
    r = [json.loads(l) for l in open(p) if '"epoch"' in l and '"meta"' not in l]
    if peer: return [(x["nmi_vs_prev"], x["nmi_vs_labels"], x["kmeans_obj"], x["loss"]) for x in r]
    return [(x["nmi_prev"], x["nmi_labels"], x["kmeans_objective"][-1], x["loss"]) for x in r]
ours = [rows(f"{out}/ours-{s}.jsonl", False) for s in seeds]
peer = [rows(f"{out}/peer-{s}.jsonl", True) for s in seeds]
def env(runs, e, i):
    v = [r[e][i] for r in runs if e < len(r) and r[e][i] is not None]
    if not v: return "–"
    fmt = "%.0f" if i == 2 else "%.3f"
    return (fmt + " (" + fmt + "–" + fmt + ")") % (statistics.mean(v), min(v), max(v))
def mean(runs, e, i):
    v = [r[e][i] for r in runs if e < len(r) and r[e][i] is not None]
    return statistics.mean(v) if v else None
print(f"Seeds {' '.join(seeds)}: mean (min–max) per epoch. Ours: 2 ranks × 1 thread; peer: PyTorch + faiss, 2 threads.\n")
print("| epoch | NMI(t,t−1) ours | NMI(t,t−1) peer | Δ mean | NMI(labels) ours | NMI(labels) peer | Δ mean | k-means obj ours | k-means obj peer | loss ours | loss peer |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for e in range(max(len(r) for r in ours + peer)):
    d = lambda i: (lambda a, b: "–" if a is None or b is None else "%+.3f" % (a - b))(mean(ours, e, i), mean(peer, e, i))
    print(f"| {e} | {env(ours, e, 0)} | {env(peer, e, 0)} | {d(0)} | {env(ours, e, 1)} | {env(peer, e, 1)} | {d(1)} | "
          f"{env(ours, e, 2)} | {env(peer, e, 2)} | {env(ours, e, 3)} | {env(peer, e, 3)} |")
PY
