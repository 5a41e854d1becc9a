#!/usr/bin/env bash
# The README's first command: set up a fresh machine, then train DeepCluster on Fashion-MNIST with
# 2 MPI ranks for a few epochs, printing one line per epoch and writing metrics and checkpoints
# under runs/fmnist/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Launch/setup.sh
mkdir -p runs/fmnist
exec Launch/train-local.sh 2 --limit 20000 --epochs 4 --metrics runs/fmnist/metrics.jsonl \
  --checkpoint-dir runs/fmnist/checkpoints "$@"
