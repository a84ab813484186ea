#!/bin/sh
# Reproducibility of make release: two clean clones of HEAD, in directories
# of different names and lengths, each build their release; every file must
# be bit-identical (cmp), SHA256SUMS included.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d /tmp/volinit-repro.XXXXXX)
trap 'rm -rf "$t"' EXIT
for d in a "second-clone-with-a-longer-path"; do
	git clone -q --no-local "$repo" "$t/$d"
	make -s -C "$t/$d" release >"$t/$d.log" 2>&1 || { cat "$t/$d.log" >&2; exit 1; }
done
a=$t/a/build/release b=$t/second-clone-with-a-longer-path/build/release
n=0
for f in "$a"/volinit-* "$a"/SHA256SUMS; do
	cmp "$f" "$b/$(basename "$f")" || { echo "release-repro: $(basename "$f") differs between two clones" >&2; exit 1; }
	n=$((n + 1))
done
[ "$n" -ge 3 ] || { echo "release-repro: only $n files built" >&2; exit 1; }
echo "release-repro: $n files bit-identical from two clean clones of $(git -C "$repo" rev-parse --short HEAD):"
cat "$a/SHA256SUMS"
