#!/bin/bash
# Development prototype (how the preset's variants were compared on 20,000 images; labels are read only
# to score, after training): trains --preset recommended with extra flags on LIMIT images for EPOCHS
# epochs, extracts the embedding and the trunk, and prints k-means k=10 and 20-NN purity for both and
# for the conv features (with UMAP; needs umap-learn: see conv_umap_diagnostics.py).
#   benchmarks/prototypes/quick_variant.sh NAME LIMIT EPOCHS [train flags]      (results appended to /tmp/exp/results.txt)
set -u
name=$1 limit=$2 epochs=$3; shift 3
d=/tmp/exp/$name; rm -rf $d; mkdir -p $d
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
B=${BIN:-.build/release/deepcluster}
s=$(date +%s)
mpirun -np 2 --bind-to none $B train --preset recommended --limit $limit --epochs $epochs --metrics $d/m.jsonl --checkpoint-dir $d/ck --keep-checkpoints 1 "$@" > $d/train.log 2>&1 || { echo "$name: train failed"; tail -3 $d/train.log; exit 1; }
t=$(( $(date +%s) - s ))
for f in embedding trunk; do mpirun -np 2 --bind-to none $B extract --checkpoint $d/ck --limit $limit --out $d/$f --feature $f > /dev/null 2>&1; done
echo "$name [$*] train ${t}s | $(PYTHONWARNINGS=ignore /usr/bin/python3 $here/conv_umap_diagnostics.py $(ls -d $d/ck/epoch-* | tail -1) $limit 2>/dev/null | tail -1) | emb: $(/usr/bin/python3 $here/feature_diagnostics.py $d/embedding/features.npy) | trunk: $(/usr/bin/python3 $here/feature_diagnostics.py $d/trunk/features.npy)" | tee -a /tmp/exp/results.txt
