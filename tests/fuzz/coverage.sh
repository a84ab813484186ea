#!/bin/sh
# Source coverage of what the corpora reach: builds each harness with clang's
# source-based coverage (build/fuzz/cov/), runs the seed corpus and, when
# there, the corpus a fuzzing run grew (build/fuzz/corpus/NAME/, or DIR/NAME/
# for a given DIR), and prints llvm-cov's report for the files under test.
#   sh tests/fuzz/coverage.sh [CORPUS_ROOT]
set -eu
cd "$(dirname "$0")/../.."
grown=${1:-build/fuzz/corpus}
out=build/fuzz/cov
mkdir -p "$out"
profdata=$(command -v llvm-profdata || command -v llvm-profdata-14)
cov=$(command -v llvm-cov || command -v llvm-cov-14)
pkgflags=$(pkg-config --cflags inih libcap)
pkglibs=$(pkg-config --libs inih libcap)
lib=""
for src in src/*.c; do
	[ "$src" = src/main.c ] || lib="$lib $src"
done
for h in config version hookname; do
	case $h in
	config) files="src/config.c" ;;
	version) files="src/version.c src/jbuf.c" ;;
	hookname) files="src/migrate.c" ;;
	esac
	# shellcheck disable=SC2086
	clang -std=c17 -D_GNU_SOURCE -DVOLINIT_VERSION=\"cov\" -g -O0 $pkgflags -Isrc \
		-fprofile-instr-generate -fcoverage-mapping -fsanitize=fuzzer \
		-o "$out/fuzz_$h" "tests/fuzz/fuzz_$h.c" $lib $pkglibs
	rm -f "$out/$h".profraw*
	dirs="tests/fuzz/corpus/$h"
	[ -d "$grown/$h" ] && dirs="$dirs $grown/$h"
	# shellcheck disable=SC2086
	find $dirs -type f -print0 |
		LLVM_PROFILE_FILE="$out/$h.profraw.%p" xargs -0 "$out/fuzz_$h" -runs=1 >/dev/null 2>&1
	"$profdata" merge -sparse "$out/$h".profraw.* -o "$out/$h.profdata"
	# shellcheck disable=SC2086
	echo "== fuzz_$h: $(find $dirs -type f | wc -l) inputs"
	# shellcheck disable=SC2086
	"$cov" report "$out/fuzz_$h" -instr-profile="$out/$h.profdata" $files
done
