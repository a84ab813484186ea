#!/bin/sh
# Runs the unit and integration tests against the ASan+UBSan build in DIR;
# any sanitizer report fails the run. Reports go to files, so that a report
# from PID 1 in a namespace or from a forked child is never lost.
set -eu
dir=$1
reports=$(cd "$dir" && pwd)/reports
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
for t in "$dir"/unit/test_*; do
  echo "== sanitized $t"
  "$t"
done
export VOLINIT="$(cd "$dir" && pwd)/volinit" HELPERS="$(pwd)/build/helpers"
# Everything but the strace suite, with leak checking.
bats $(ls tests/integration/*.bats | grep -v '/faults\.bats$')
# LeakSanitizer cannot run under ptrace: the strace fault-injection suite
# runs with ASan and UBSan but without leak checking.
ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" bats tests/integration/faults.bats
if [ -n "$(ls -A "$reports")" ]; then
  echo "sanitize: reports found:" >&2
  cat "$reports"/* >&2
  exit 1
fi
echo "sanitize: no ASan/UBSan report"
