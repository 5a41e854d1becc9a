#!/usr/bin/env bash
# The README's first command: set up a fresh machine, train DeepCluster-v2 on Fashion-MNIST with 2 MPI
# ranks (--preset recommended on 20,000 images, held to 12 epochs so that the job ends within about
# 10 minutes; one line per epoch, metrics and checkpoints under runs/fmnist/), then show what the
# network learned: k = 10 clusterings of its conv features (clusters of equal size and k-means on a
# UMAP layout, plain k-means) and a linear probe, beside the randomly initialised network and the raw
# pixels (eval --baselines), scored against the labels it never saw in training. The last lines are
# that table, then the gallery of its clusters (runs/fmnist/gallery/index.html). Flags given are passed to train.
#   bash Launch/main-job.sh [deepcluster train flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash Launch/setup.sh
# A previous main job's output is kept as runs/fmnist.previous (one generation).
if [ -d runs/fmnist ]; then rm -rf runs/fmnist.previous; mv runs/fmnist runs/fmnist.previous; fi
mkdir -p runs/fmnist
Launch/train-local.sh 2 --preset recommended --limit 20000 --epochs 12 --metrics runs/fmnist/metrics.jsonl \
  --checkpoint-dir runs/fmnist/checkpoints "$@"
echo
echo "main-job: evaluating runs/fmnist/checkpoints on the 20,000 training images and the 10,000 test images"
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun --hostfile hostfiles/localhost --oversubscribe --bind-to none -np 2 .build/release/deepcluster eval \
  --checkpoint runs/fmnist/checkpoints --limit 20000 --baselines --kmeans-restarts 5
echo
echo "main-job: a picture of each of the checkpoint's clusters (the images nearest its centre, and at random)"
mpirun --hostfile hostfiles/localhost --oversubscribe --bind-to none -np 2 .build/release/deepcluster gallery \
  --checkpoint runs/fmnist/checkpoints --limit 20000 --out runs/fmnist/gallery
echo "main-job: open runs/fmnist/gallery/index.html in a browser to see what each cluster holds"
