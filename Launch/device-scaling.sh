#!/usr/bin/env bash
# The 16-rank scaling run on a machine without Swift, Open MPI, OpenBLAS or oneDNN (the lent 16-core
# machine: ../shared/device/README.md). Two steps:
#
#   bash Launch/device-scaling.sh prepare
#       here: a release binary with the Swift runtime linked in (--static-swift-stdlib, build folder
#       .build-device; stripped and xz-compressed), and the Debian runtime packages it needs (Open MPI, OpenBLAS + LAPACKE, oneDNN
#       and its OpenMP, libpng, libjpeg) downloaded into .device/ (git ignores it), with Fashion-MNIST's
#       training files and this script.
#   bash Launch/device-scaling.sh run [RANKS=1,2,4,8,16] [OUT=$OUT or .device/out] [bench scaling flags...]
#       there (or here, to test it at 1–4 ranks): unpacks the binary and the packages into a private
#       folder of its own (mktemp -d, removed at the end: never a fixed /tmp name another user could fill), then
#       `deepcluster bench scaling --ranks RANKS --predict 64,256,1024` with every job started by the
#       unpacked mpirun (bound to cores; more ranks than cores share them, as when tested here), and writes scaling.md/.json/.svg and prediction.json to OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in
prepare)
  swift build -c release --static-swift-stdlib --scratch-path .build-device 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
  mkdir -p .device/debs
  # Stripped and xz-compressed (77 MB → 15 MB): the device takes at most 64 MiB with the tree.
  strip -o .device/deepcluster .build-device/release/deepcluster
  xz -T2 -6 -f .device/deepcluster
  bash ../shared/device/fetch-openmpi-debs.sh .device/debs >/dev/null
  (cd .device/debs && apt-get download libdnnl2 libgomp1 ocl-icd-libopencl1 libtmglib3 \
     libpng16-16 libjpeg62-turbo >/dev/null)
  mkdir -p .device/fashion-mnist
  cp /usr/share/datasets/fashion-mnist/train-*-ubyte.gz .device/fashion-mnist/
  cp Launch/device-scaling.sh .device/device-scaling.sh
  echo "device-scaling: ready: .device/ ($(du -sh .device | cut -f1)): deepcluster.xz, $(ls .device/debs | wc -l) packages, Fashion-MNIST's train split"
  ;;
run)
  ranks=${2:-1,2,4,8,16}
  out=${3:-${OUT:-.device/out}}
  shift $(( $# < 3 ? $# : 3 ))
  here=$(cd "${DEEPCLUSTER_DEVICE_DIR:-.device}" && pwd)
  work=$(mktemp -d "${TMPDIR:-/tmp}/deepcluster-device.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  exe=$work/deepcluster
  xz -dc "$here/deepcluster.xz" > "$exe"
  chmod +x "$exe"
  root=$work/ompi
  mkdir -p "$root"
  for f in "$here"/debs/*.deb; do [ -f "$f" ] && dpkg -x "$f" "$root"; done
  # The sweep's own process loads the same libraries as its ranks.
  lib=$root/usr/lib/x86_64-linux-gnu
  export LD_LIBRARY_PATH=$lib:$lib/openmpi/lib:$lib/openblas-pthread:$lib/lapack:$lib/blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export OPAL_PREFIX=$root/usr OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PMIX_MCA_pcompress_base_silence_warning=1
  mkdir -p "$out"
  # Fashion-MNIST's training files travel in .device/fashion-mnist (the benchmarks read the train split).
  export DEEPCLUSTER_FASHION_MNIST=${DEEPCLUSTER_FASHION_MNIST:-$here/fashion-mnist}
  "$exe" --version
  "$exe" bench scaling --ranks "$ranks" --out "$out" --predict 64,256,1024 \
    --mpirun "$root/usr/bin/orterun --oversubscribe -x LD_LIBRARY_PATH -x OPAL_PREFIX -x PMIX_MCA_pcompress_base_silence_warning --bind-to core:overload-allowed -x DEEPCLUSTER_FASHION_MNIST" "$@"
  ;;
*)
  echo "usage: bash Launch/device-scaling.sh prepare | run [RANKS] [OUT] [bench scaling flags...]" >&2
  exit 2
  ;;
esac
