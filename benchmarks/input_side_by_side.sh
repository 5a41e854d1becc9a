#!/usr/bin/env bash
# The 224-px input pipeline beside torchvision's, in alternating rounds on the same images:
# ours (`deepcluster bench input`, one process, W decoding threads) on the folder and on the same images as
# tar shards; the peer (benchmarks/bench_input_torch.py: ImageFolder + DataLoader, W worker processes).
# Both: the training transform (RandomResizedCrop 224 + flip) and the clustering transform (resize 256 +
# centre crop 224), batch 64, workers 1 and 2. Every figure is the median over ROUNDS; the table's ratio is
# ours / peer per worker.
#   bash benchmarks/input_side_by_side.sh OUT [PHOTOS=/tmp/photos] [ROUNDS=5] [IMAGES=2048]
# PHOTOS comes from: /usr/bin/python3 benchmarks/make_photo_folder.py PHOTOS 2000
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; photos=${2:-/tmp/photos}; rounds=${3:-5}; images=${4:-2048}
mkdir -p "$out"
bin=.build/release/deepcluster
export OPENBLAS_NUM_THREADS=1
{ lscpu | grep -E 'Model name|Flags' | sed 's/Flags:.*avx512_bf16.*/Flags: (AVX512-BF16)/'; echo "rounds $rounds, images $images"; } > "$out/machine.txt"
: > "$out/ours.jsonl"; : > "$out/peer.jsonl"
for r in $(seq 1 "$rounds"); do
  "$bin" bench input --arch alexnet --folder "$photos/folder" --shards "$photos/shards" --images "$images" --batch-size 64 \
      --workers 1,2 --passes train,cluster --steps 0 --threads 1 --json >> "$out/ours.jsonl"
  /usr/bin/python3 benchmarks/bench_input_torch.py "$photos/folder" --workers 1,2 --passes train,cluster --images "$images" \
      --batch-size 64 --repeats 1 >> "$out/peer.jsonl"
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
ours = [json.loads(l) for l in open(f"{out}/ours.jsonl")]
peer = [json.loads(l) for l in open(f"{out}/peer.jsonl")]
def med(rows, **k):
    v = [r["images_per_s_per_worker"] for r in rows if all(r.get(a) == b for a, b in k.items())]
    return statistics.median(v), min(v), max(v), len(v)
lines = ["| pass | workers | peer (torchvision) img/s per worker | ours, folder | ratio | ours, tar shards | ratio |", "|---|---|---|---|---|---|---|"]
for p in ["train", "cluster"]:
    for w in [1, 2]:
        pm = med(peer, **{"pass": p, "workers": w})
        f = med(ours, source="folder", **{"pass": p, "workers": w})
        s = med(ours, source="shards", **{"pass": p, "workers": w})
        lines.append(f"| {p} | {w} | {pm[0]:.0f} ({pm[1]:.0f}–{pm[2]:.0f}) | {f[0]:.0f} ({f[1]:.0f}–{f[2]:.0f}) | {f[0]/pm[0]:.2f} | {s[0]:.0f} ({s[1]:.0f}–{s[2]:.0f}) | {s[0]/pm[0]:.2f} |")
open(f"{out}/table.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
