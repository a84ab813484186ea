#!/bin/sh
# make fuzz: build the libFuzzer harnesses into build/fuzz/ and run each for
# SECONDS (default 60), one after the other, from the seed corpus in
# tests/fuzz/corpus/NAME/. New inputs go to build/fuzz/corpus/NAME/ (the
# seeds are not touched), crashes to build/fuzz/artifacts/NAME/. Extra
# libFuzzer flags in $FUZZ_FLAGS (e.g. -jobs=1). Exit 1 if any harness
# found something.
#   sh tests/fuzz/run.sh [SECONDS]
set -eu
secs=${1:-60}
case "$secs" in '' | *[!0-9]*) echo "usage: run.sh [SECONDS]" >&2; exit 64 ;; esac
cd "$(dirname "$0")/../.."
. tests/fuzz/build.sh
fuzz_build
top=$(pwd)
failed=""
for h in $FUZZ_HARNESSES; do
	work="$top/$FUZZ_BUILD/run/$h"
	mkdir -p "$work" "$top/$FUZZ_BUILD/corpus/$h" "$top/$FUZZ_BUILD/artifacts/$h"
	dict=""
	[ -f "$top/tests/fuzz/$h.dict" ] && dict="-dict=$top/tests/fuzz/$h.dict"
	echo "== fuzz_$h for ${secs}s"
	# -jobs writes the output to fuzz-N.log in the current directory.
	# shellcheck disable=SC2086
	if (cd "$work" && "$top/$FUZZ_BUILD/fuzz_$h" -max_total_time="$secs" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$top/$FUZZ_BUILD/artifacts/$h/" $dict \
		${FUZZ_FLAGS:-} "$top/$FUZZ_BUILD/corpus/$h" "$top/tests/fuzz/corpus/$h"); then
		:
	else
		failed="$failed $h"
	fi
	# With -jobs, libFuzzer has printed each job's log already.
	for log in "$work"/fuzz-*.log; do
		[ -f "$log" ] && mv "$log" "$log.done"
	done
done
if [ -n "$failed" ]; then
	echo "fuzz: found something in:$failed (see $FUZZ_BUILD/artifacts/)" >&2
	exit 1
fi
echo "fuzz: nothing found"
