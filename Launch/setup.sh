#!/usr/bin/env bash
# Installs what the trainer needs on Debian 12 (Open MPI, OpenBLAS + LAPACKE, oneDNN, zlib, libpng and
# libjpeg-turbo for image folders, the
# Fashion-MNIST package) and builds it in release mode. Running it twice is harmless: packages
# already present are not touched, and the build is incremental.
#   bash Launch/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(openmpi-bin libopenmpi-dev libopenblas-dev liblapacke-dev libdnnl-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev pkg-config gzip
          dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

test -f /usr/include/oneapi/dnnl/dnnl.h || { echo "setup: oneDNN's headers are missing: install Debian's libdnnl-dev" >&2; exit 1; }
swift build -c release 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/release/deepcluster || { echo "setup: release build failed" >&2; exit 1; }
echo "setup: ready: .build/release/deepcluster ($(.build/release/deepcluster --version))"
