#!/bin/sh
# make check: build the libFuzzer harnesses (build/fuzz/) and run each input
# of the seed corpus tests/fuzz/corpus/NAME/ through its harness once, under
# ASan and UBSan. Regression inputs for bugs once found live there too.
#   sh tests/fuzz/replay.sh
set -eu
cd "$(dirname "$0")/../.."
. tests/fuzz/build.sh
fuzz_build
status=0
for h in $FUZZ_HARNESSES; do
	log="$FUZZ_BUILD/replay-$h.log"
	n=$(find "tests/fuzz/corpus/$h" -type f | wc -l)
	# Files, not the directory: each is run exactly once, nothing is added.
	if find "tests/fuzz/corpus/$h" -type f -print0 |
		xargs -0 "$FUZZ_BUILD/fuzz_$h" -runs=1 -timeout=10 >"$log" 2>&1; then
		echo "fuzz replay: fuzz_$h: $n inputs, all passed"
	else
		echo "fuzz replay: fuzz_$h FAILED; the log follows ($log)" >&2
		cat "$log" >&2
		status=1
	fi
done
exit $status
