#!/usr/bin/env bash
# Builds every fuzz target with libFuzzer + AddressSanitizer and runs each for a bounded time.
#   Fuzz/run.sh [SECONDS_PER_TARGET=60] [TARGET...]
# Seeds come from small valid files written by Fuzz/seeds.sh into Fuzz/.corpus/<target>/; crashes and
# hangs (-timeout=10 s per input) are written to Fuzz/.artifacts/ and make the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzIDX FuzzGzip FuzzCIFAR FuzzNPY FuzzImage FuzzSafetensors FuzzCheckpointState)
swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address -Xswiftc -use-ld=lld 2>&1 | grep -E "error|warning: unre|Compiling|Build" || true
bin=$(swift build -c debug -Xswiftc -use-ld=lld --show-bin-path)
bash ./seeds.sh
mkdir -p .artifacts
status=0
export SWIFT_BACKTRACE=enable=no   # let AddressSanitizer and libFuzzer report crashes themselves
for t in "${targets[@]}"; do
  mkdir -p ".corpus/$t"
  echo "== $t for ${seconds}s"
  if ! "$bin/$t" ".corpus/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
       -artifact_prefix=".artifacts/$t-" -print_final_stats=1 2> ".artifacts/$t.log"; then
    echo "!! $t failed: see Fuzz/.artifacts/$t.log"; status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" ".artifacts/$t.log" | tr '\n' ' '; echo
done
exit $status
