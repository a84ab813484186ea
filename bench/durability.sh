#!/usr/bin/env bash
# bench/durability.sh: what the syncs of SPEC.md "Power loss" cost.
#
# 1. The way a hook's writes are made durable before its version: syncfs of
#    the volume's file system against fsyncing what changed (a walk of the
#    volume, an fsync per file whose ctime is past the hook's start), on a
#    20,000-file volume, the hook having changed all of it or 100 files, with
#    the file system idle and with another writer busy on it (dd writing
#    without syncing, as another container on the same Docker host would):
#    bench/src/syncmode.c, median of DUR_RUNS.
# 2. A migration before and after the syncs, same run, interleaved: volinit
#    at DUR_BEFORE (default: the commit before the one that added them, built
#    in a git worktree) and the volinit under test, `volinit migrate` with
#    snapshot = false (so that the sync, not the copy, is what differs), one
#    hook that rewrites the 20,000 small files, and one that writes 1 GiB.
#
# Knobs: DUR_FILES=20000  DUR_RUNS=5  DUR_GIB=1  DUR_WORK=build/bench/durability
#        DUR_BEFORE=<commit>  DUR_OUT=build/bench/durability.md  VOLINIT=build/volinit
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILES=${DUR_FILES:-20000}
RUNS=${DUR_RUNS:-5}
GIB=${DUR_GIB:-1}
WORK=${DUR_WORK:-$REPO/build/bench/durability}
OUT=${DUR_OUT:-$REPO/build/bench/durability.md}
VOLINIT=${VOLINIT:-$REPO/build/volinit}
BEFORE=${DUR_BEFORE:-$(git -C "$REPO" log --format=%H -1 --grep='^durability: a hook.s data is synced' 2>/dev/null)^}

say() { printf 'bench/durability: %s\n' "$*" >&2; }

rm -rf "$WORK"
mkdir -p "$WORK" "$(dirname "$OUT")"
WRITER=
cleanup() {
	[ -z "$WRITER" ] || kill "$WRITER" 2>/dev/null || true
	[ -z "$WRITER" ] || wait "$WRITER" 2>/dev/null || true
	[ -d "$WORK/old-tree" ] && git -C "$REPO" worktree remove --force "$WORK/old-tree" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

cc -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$WORK/syncmode" "$REPO/bench/src/syncmode.c"

# A volume of FILES small files (1..4 KiB) in 100 directories.
make_tree() {
	local dir=$1 d i
	mkdir -p "$dir"
	for ((d = 0; d < 100; d++)); do
		mkdir "$dir/d$d"
		for ((i = 0; i < FILES / 100; i++)); do
			head -c $((1024 + (i * 37 % 3072))) /dev/zero >"$dir/d$d/f$i"
		done
	done
	sync -f "$dir"
}

# Another writer on the same file system: 512 MiB at a time, never synced.
start_writer() {
	(while :; do dd if=/dev/zero of="$WORK/other-writer" bs=1M count=512 status=none; done) &
	WRITER=$!
	# Dirty pages before the first measure: wait for the writer's file.
	local end=$((SECONDS + 30))
	until [ -s "$WORK/other-writer" ] && [ "$(stat -c %s "$WORK/other-writer")" -ge $((256 << 20)) ]; do
		[ "$SECONDS" -lt "$end" ] || { say "the other writer never started"; exit 1; }
		sleep 0.1
	done
}
stop_writer() {
	kill "$WRITER" 2>/dev/null || true
	wait "$WRITER" 2>/dev/null || true
	WRITER=
	rm -f "$WORK/other-writer"
	sync -f "$WORK"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

say "making $FILES files"
make_tree "$WORK/vol"
declare -A MS
for load in idle busy; do
	[ "$load" = busy ] && start_writer
	for changed in "$FILES" 100; do
		: >"$WORK/rows"
		for ((r = 0; r < RUNS; r++)); do
			"$WORK/syncmode" "$WORK/vol" "$changed" >>"$WORK/rows"
		done
		for mode in syncfs changed; do
			MS[$load,$changed,$mode]=$(awk -v m=$mode '$1 == m { print $5 }' "$WORK/rows" | median)
		done
		MS[$load,$changed,fsynced]=$(awk '$1 == "changed" { print $4 }' "$WORK/rows" | median)
		say "$load, $changed changed: syncfs ${MS[$load,$changed,syncfs]} ms, walk+fsync ${MS[$load,$changed,changed]} ms"
	done
	[ "$load" = busy ] && stop_writer
done

# A migration before and after.
OLD=
if git -C "$REPO" rev-parse -q --verify "$BEFORE^{commit}" >/dev/null 2>&1; then
	say "building volinit at $(git -C "$REPO" log --format='%h %s' -1 "$BEFORE" | cut -c1-60)"
	BEFORE=$(git -C "$REPO" rev-parse "$BEFORE^{commit}")
	git -C "$REPO" worktree add -q --detach "$WORK/old-tree" "$BEFORE"
	make -s -C "$WORK/old-tree" build/volinit >/dev/null
	OLD=$WORK/old-tree/build/volinit
else
	say "no commit before the syncs found ($BEFORE): the before column is left out"
fi

mkdir -p "$WORK/hooks-small" "$WORK/hooks-big"
printf '#!/bin/sh\nfind . -path ./.volinit -prune -o -type f -name "f*" -exec sh -c '\''for f; do echo migrated >>"$f"; done'\'' sh {} +\n' >"$WORK/hooks-small/2"
printf '#!/bin/sh\ndd if=/dev/zero of=big bs=1M count=%d status=none\n' $((GIB * 1024)) >"$WORK/hooks-big/2"
chmod 0755 "$WORK/hooks-small/2" "$WORK/hooks-big/2"

# migrate_ms BIN KIND: one `volinit migrate` 1 -> 2, ms.
migrate_ms() {
	local bin=$1 kind=$2 vol=$WORK/m-$2 t0 t1
	rm -rf "$vol"
	if [ "$kind" = small ]; then cp -a "$WORK/vol" "$vol"; else mkdir "$vol"; fi
	echo 1 >"$vol/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\nmigrations = %s\nsnapshot = false\n' \
		"$vol" "$WORK/hooks-$kind" >"$WORK/m.ini"
	sync
	t0=$(date +%s%N)
	"$bin" migrate -c "$WORK/m.ini" 2>/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
declare -A MIG
for kind in small big; do
	: >"$WORK/new.ms"; : >"$WORK/old.ms"
	for ((r = 0; r < RUNS; r++)); do
		migrate_ms "$VOLINIT" "$kind" >>"$WORK/new.ms"
		[ -z "$OLD" ] || migrate_ms "$OLD" "$kind" >>"$WORK/old.ms"
	done
	MIG[$kind,new]=$(median <"$WORK/new.ms")
	MIG[$kind,old]=$([ -z "$OLD" ] && echo - || median <"$WORK/old.ms")
	say "migration ($kind): before ${MIG[$kind,old]} ms, after ${MIG[$kind,new]} ms"
done

{
	echo "### What durability costs (bench/durability.sh)"
	echo
	echo "Making a hook's writes durable before its version, on this machine's $(df -T "$WORK" | awk 'NR == 2 { print $2 }'),"
	echo "a volume of $FILES small files, median of $RUNS (ms). *busy*: another process writing"
	echo "512 MiB at a time on the same file system without syncing (another container on the host)."
	echo
	echo "| load | files the hook changed | syncfs | walk + fsync of what changed (files fsynced) |"
	echo "| --- | --- | --- | --- |"
	for load in idle busy; do
		for changed in "$FILES" 100; do
			echo "| $load | $changed | ${MS[$load,$changed,syncfs]} | ${MS[$load,$changed,changed]} (${MS[$load,$changed,fsynced]}) |"
		done
	done
	echo
	echo "A migration (1 -> 2, snapshot = false, \`volinit migrate\` from exec to exit, median of $RUNS, ms),"
	echo "before the syncs (${BEFORE:0:12}) and after, same run, interleaved:"
	echo
	echo "| hook | before | after |"
	echo "| --- | --- | --- |"
	echo "| rewrites $FILES small files | ${MIG[small,old]} | ${MIG[small,new]} |"
	echo "| writes $GIB GiB | ${MIG[big,old]} | ${MIG[big,new]} |"
} >"$OUT"
cat "$OUT"
