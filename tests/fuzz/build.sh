# Sourced by run.sh and replay.sh: builds the libFuzzer harnesses into
# build/fuzz/ with clang, ASan and UBSan, against every src/*.c but main.c.
# Objects are rebuilt only when their source or a header is newer.

FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
FUZZ_HARNESSES="config version hookname"
FUZZ_CC=${FUZZ_CC:-clang}

fuzz_build()
{
	if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
		echo "fuzz: $FUZZ_CC not found; run: sh tools/deps.sh fuzz" >&2
		return 1
	fi
	pkgflags=$(pkg-config --cflags inih libcap) || return 1
	pkglibs=$(pkg-config --libs inih libcap) || return 1
	# UBSan reports abort, so that libFuzzer keeps them as crashes.
	san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
	# As the Makefile defines it (cli.c prints it).
	version=$(cat VERSION) || return 1
	cflags="-std=c17 -D_GNU_SOURCE -DVOLINIT_VERSION=\"$version\" -g -O1 -Wall -Wextra $san $pkgflags"
	mkdir -p "$FUZZ_BUILD/obj" || return 1
	objs=""
	for src in src/*.c; do
		[ "$src" = src/main.c ] && continue
		obj="$FUZZ_BUILD/obj/$(basename "$src" .c).o"
		objs="$objs $obj"
		if [ ! -e "$obj" ] || [ -n "$(find "$src" src/*.h -newer "$obj")" ]; then
			# shellcheck disable=SC2086
			$FUZZ_CC $cflags -fsanitize=fuzzer-no-link -c -o "$obj" "$src" || return 1
		fi
	done
	for h in $FUZZ_HARNESSES; do
		src="tests/fuzz/fuzz_$h.c"
		bin="$FUZZ_BUILD/fuzz_$h"
		# shellcheck disable=SC2086
		if [ ! -e "$bin" ] || [ -n "$(find "$src" $objs -newer "$bin")" ]; then
			# shellcheck disable=SC2086
			$FUZZ_CC $cflags -Werror -Isrc -fsanitize=fuzzer -o "$bin" "$src" $objs $pkglibs ||
				return 1
		fi
	done
	return 0
}
