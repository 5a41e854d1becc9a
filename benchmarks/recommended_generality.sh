#!/usr/bin/env bash
# `--preset recommended` on data it was not tuned on, each beside the raw pixels of the same images:
# Fashion-MNIST subsets of 1,000 / 2,000 / 5,000 training images (trained and evaluated on the
# subset; the probe is scored on the 10,000 test images) and the 10,000 t10k images as a dataset of
# their own (the probe on a seeded 20% held out). One training seed per call:
# Besides Fashion-MNIST, three sets made by benchmarks/make_generality_sets.py (into $SETS, default
# /tmp/generality-sets, made there on first use): digits28, photo-patches (colour), lfw-faces.
#   benchmarks/recommended_generality.sh OUT SEED [sets...]
# PRESET=recommended-v1 runs DeepCluster's branch of the preset instead (default: recommended).
#   sets: 1000 2000 5000 t10k digits28 photo-patches lfw-faces (default: all)
# Writes OUT/<set>-seed<SEED>/ (train.log with wall times, m.jsonl + m.svg, eval.json, eval.log).
set -euo pipefail
out=$1 seed=$2; shift 2
preset=${PRESET:-recommended}
sets=("$@"); [ ${#sets[@]} -eq 0 ] && sets=(1000 2000 5000 t10k digits28 photo-patches lfw-faces)
here=$(dirname "$0")
made=${SETS:-/tmp/generality-sets}
for s in "${sets[@]}"; do
  dir="$out/$s-seed$seed"
  if [[ "$s" =~ ^(digits28|photo-patches|lfw-faces)$ ]]; then
    [ -f "$made/$s/images.npy" ] || /usr/bin/python3 "$here/make_generality_sets.py" "$made"
    n=$(/usr/bin/python3 -c "import numpy; print(len(numpy.load('$made/$s/labels.npy')))")
    bash "$here/recipe_eval.sh" "$dir" "$n" --preset "$preset" --seed "$seed" --data "$made/$s/images.npy" --labels "$made/$s/labels.npy"
  elif [ "$s" = t10k ]; then
    bash "$here/recipe_eval.sh" "$dir" 10000 --preset "$preset" --seed "$seed" \
      --data /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
  else
    bash "$here/recipe_eval.sh" "$dir" "$s" --preset "$preset" --seed "$seed"
  fi
done
