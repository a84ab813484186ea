#!/usr/bin/env bash
# bench/snapshot.sh: volinit's pre-migration snapshot against `cp -a` of the
# same tree, in the same run, interleaved, median of several runs; reported
# as a ratio (cp time / volinit time: >= 1 means volinit is as fast or faster;
# the goal is >= 0.9). Called from bench/run.sh (make bench); runs alone too.
#
# What is timed:
#   volinit  `volinit migrate` on a volume at version 1 with one hook (1 -> 2)
#            that records the time it starts: from exec of volinit to the hook
#            = start-up, lock, free-space measure, the copy (FICLONE, else
#            copy_file_range) and the syncfs that makes the snapshot complete.
#            The snapshot's removal after success happens after the hook and
#            is not counted.
#   cp -a    `cp -a VOLUME DEST && sync -f DEST`: the same copy made durable
#            (cp 9.x also tries FICLONE first, then copy_file_range).
# Before every timed run: `sync`, so that neither pays for the other's
# writeback. Page cache stays warm for both (the tree was just read).
#
# Two trees, each timed on its own: SNAP_SMALL small files (plus SNAP_BIG
# big ones), and SNAP_LINKS pairs of hard links (each file in one
# directory, its second link in another, as the walker's hard-link table
# sees them at their worst: most first links far from their second).
# On the directory's own filesystem, and, when mkfs.xfs is installed and we
# are root, on a loop-mounted XFS with reflink (where both should be close
# to instant).
#
# Knobs (environment):
#   SNAP_SMALL=20000     small files (1..4 KiB, in 100 directories)
#   SNAP_LINKS=10000     hard-link pairs (the second tree; 0: skip it)
#   SNAP_BIG=3           big files
#   SNAP_BIG_MB=100      size of each big file, MiB
#   SNAP_RUNS=5          timed runs of each (median reported)
#   SNAP_WORK=build/bench/snapshot-work   where the trees go (this filesystem)
#   SNAP_XFS=1           also on a loop XFS (reflink); 0: skip
#   SNAP_OUT=build/bench/snapshot.md      the Markdown section written
#   VOLINIT=build/volinit
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SNAP_SMALL=${SNAP_SMALL:-20000}
SNAP_LINKS=${SNAP_LINKS:-10000}
SNAP_BIG=${SNAP_BIG:-3}
SNAP_BIG_MB=${SNAP_BIG_MB:-100}
SNAP_RUNS=${SNAP_RUNS:-5}
SNAP_WORK=${SNAP_WORK:-$REPO/build/bench/snapshot-work}
SNAP_XFS=${SNAP_XFS:-1}
SNAP_OUT=${SNAP_OUT:-$REPO/build/bench/snapshot.md}
VOLINIT=${VOLINIT:-$REPO/build/volinit}
case $VOLINIT in /*) ;; *) VOLINIT=$PWD/$VOLINIT ;; esac
[ -x "$VOLINIT" ] || { echo "snapshot.sh: $VOLINIT is not built (make build/volinit)" >&2; exit 1; }

LOOP=
MNT=
cleanup() {
	if [ -n "$MNT" ] && mountpoint -q "$MNT"; then umount "$MNT" || true; fi
	if [ -n "$LOOP" ]; then losetup -d "$LOOP" 2>/dev/null || true; fi
	rm -rf "$SNAP_WORK/xfs.img" "$SNAP_WORK/run"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# make_tree DIR: SNAP_SMALL small files in 100 directories, SNAP_BIG big ones.
make_tree() {
	local d=$1 i n=0 chunk
	mkdir -p "$d/data"
	chunk=$(head -c 4096 /dev/urandom | base64 -w0)
	for ((i = 0; i < 100; i++)); do mkdir -p "$d/data/dir$i"; done
	for ((n = 0; n < SNAP_SMALL; n++)); do
		printf '%s' "${chunk:0:$((1024 + (n * 37) % 3072))}" >"$d/data/dir$((n % 100))/f$n"
	done
	for ((i = 0; i < SNAP_BIG; i++)); do
		head -c $((SNAP_BIG_MB * 1048576)) /dev/urandom >"$d/data/big$i.bin"
	done
	# Some links, as a volume has them.
	ln "$d/data/dir0/f0" "$d/data/hardlink"
	ln -s dir1/f1 "$d/data/symlink"
	echo 1 >"$d/schema_version.txt"
}

# make_links DIR: SNAP_LINKS files of 1 KiB in 100 directories, each with a
# second link in one of 100 other directories.
make_links() {
	local d=$1 i n chunk
	mkdir -p "$d/data"
	chunk=$(head -c 1024 /dev/urandom | base64 -w0)
	for ((i = 0; i < 100; i++)); do mkdir -p "$d/data/a$i" "$d/data/b$i"; done
	for ((n = 0; n < SNAP_LINKS; n++)); do
		printf '%s' "${chunk:0:1024}" >"$d/data/a$((n % 100))/f$n"
	done
	# ln in batches, one process per directory
	for ((i = 0; i < 100; i++)); do
		(cd "$d/data" && for ((n = i; n < SNAP_LINKS; n += 100)); do
			echo "a$i/f$n"; echo "b$(((n * 7 + 3) % 100))/l$n"; done | xargs -n 2 -P 1 ln)
	done
	echo 1 >"$d/schema_version.txt"
}

# bench_on ROOT LABEL [KIND]: one interleaved series on the filesystem of
# ROOT, on the small-files tree (KIND small, the default) or the hard-link
# pairs (links); appends a table row to ROWS.
bench_on() {
	local root=$1 label=$2 kind=${3:-small} vol=$1/vol hooks=$1/hooks conf=$1/volinit.ini
	local run t0 t1 vt=() ct=() vmed cmed ratio bytes files snap=0
	rm -rf "$vol" "$hooks"
	mkdir -p "$hooks"
	if [ "$kind" = links ]; then
		echo "snapshot bench: generating the tree on $label ($SNAP_LINKS hard-link pairs)" >&2
		make_links "$vol"
		label="$label, $SNAP_LINKS hard-link pairs"
	else
		echo "snapshot bench: generating the tree on $label ($SNAP_SMALL small files, $SNAP_BIG x $SNAP_BIG_MB MiB)" >&2
		make_tree "$vol"
		label="$label, $SNAP_SMALL small files"
	fi
	cat >"$hooks/2" <<EOF
#!/bin/sh
date +%s%N >"$root/hook-start"
# Untimed: what the snapshot holds, to check it is whole.
find .volinit/snapshot -mindepth 1 | wc -l >"$root/snap-count"
EOF
	chmod +x "$hooks/2"
	printf '[data]\npath = %s\nexpected = 2\nmigrations = %s\nsnapshot = true\nlock_timeout = 5\n' \
		"$vol" "$hooks" >"$conf"
	files=$(find "$vol" -mindepth 1 -path "$vol/.volinit" -prune -o -print | wc -l)
	bytes=$(du -sb --exclude=.volinit "$vol" | cut -f1)
	# One untimed round of each: caches warm, .volinit/ created.
	"$VOLINIT" migrate -q -c "$conf" && echo 1 >"$vol/schema_version.txt"
	cp -a "$vol" "$root/copy" && rm -rf "$root/copy"
	for ((run = 1; run <= SNAP_RUNS; run++)); do
		# Alternate which goes first.
		local order="v c"
		[ $((run % 2)) -eq 0 ] && order="c v"
		local which
		for which in $order; do
			sync
			if [ "$which" = v ]; then
				rm -f "$root/hook-start"
				t0=$(now_ns)
				"$VOLINIT" migrate -q -c "$conf"
				t1=$(cat "$root/hook-start")
				vt+=($(((t1 - t0) / 1000)))
				snap=$(cat "$root/snap-count")
				[ "$(cat "$vol/schema_version.txt")" = 2 ]
				[ ! -e "$vol/.volinit/snapshot" ]
				echo 1 >"$vol/schema_version.txt"
			else
				t0=$(now_ns)
				cp -a "$vol" "$root/copy"
				sync -f "$root/copy"
				t1=$(now_ns)
				ct+=($(((t1 - t0) / 1000)))
				rm -rf "$root/copy"
			fi
		done
		echo "  run $run: volinit ${vt[-1]} us, cp -a ${ct[-1]} us" >&2
	done
	vmed=$(printf '%s\n' "${vt[@]}" | median)
	cmed=$(printf '%s\n' "${ct[@]}" | median)
	ratio=$(awk -v c="$cmed" -v v="$vmed" 'BEGIN { printf "%.2f", c / v }')x
	if [ "$snap" != "$files" ]; then
		# A snapshot that does not hold the volume is no benchmark.
		ratio="invalid: the snapshot held $snap of $files entries"
		echo "snapshot bench: WARNING: $ratio" >&2
	fi
	ROWS+=("| $label | $files | $((bytes / 1048576)) MiB | $(awk -v v="$vmed" 'BEGIN { printf "%.3f", v / 1e6 }') s | $(awk -v v="$cmed" 'BEGIN { printf "%.3f", v / 1e6 }') s | $ratio |")
	RAW+=("$label: volinit us: ${vt[*]}; cp -a us: ${ct[*]}")
	rm -rf "$vol" "$hooks" "$root/hook-start"
}

ROWS=()
RAW=()
mkdir -p "$SNAP_WORK/run" "$(dirname "$SNAP_OUT")"
fstype=$(df --output=fstype "$SNAP_WORK" | tail -1 | tr -d " ")
bench_on "$SNAP_WORK/run" "$fstype ($(df --output=source "$SNAP_WORK" | tail -1))"
[ "$SNAP_LINKS" -eq 0 ] ||
	bench_on "$SNAP_WORK/run" "$fstype ($(df --output=source "$SNAP_WORK" | tail -1))" links

xfs_note=""
if [ "$SNAP_XFS" = 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		xfs_note="XFS with reflink: skipped (needs root for a loop mount)."
	elif ! command -v mkfs.xfs >/dev/null; then
		xfs_note="XFS with reflink: skipped (mkfs.xfs not installed: apt-get install xfsprogs)."
	else
		img=$SNAP_WORK/xfs.img
		size_mb=$((SNAP_BIG * SNAP_BIG_MB * 3 + SNAP_SMALL / 50 + 1024))
		truncate -s "${size_mb}M" "$img"
		mkfs.xfs -q -f -m reflink=1 "$img"
		LOOP=$(losetup --find --show "$img")
		MNT=$SNAP_WORK/xfs
		mkdir -p "$MNT"
		mount "$LOOP" "$MNT"
		bench_on "$MNT" "xfs, reflink=1 (loop file on $fstype)"
		[ "$SNAP_LINKS" -eq 0 ] || bench_on "$MNT" "xfs, reflink=1 (loop file on $fstype)" links
	fi
fi

{
	echo "### Snapshot copy: volinit vs cp -a"
	echo
	echo "The snapshot volinit takes before migrating (\`snapshot = true\`), timed from"
	echo "exec of \`volinit migrate\` until its first hook starts (start-up, lock,"
	echo "free-space check, copy with FICLONE or copy_file_range, syncfs), against"
	echo "\`cp -a VOLUME DEST && sync -f DEST\` on the same tree in the same run,"
	echo "interleaved, each preceded by \`sync\`; median of $SNAP_RUNS runs. Tree: $SNAP_SMALL files of"
	echo "1-4 KiB in 100 directories, $SNAP_BIG files of $SNAP_BIG_MB MiB, a hard link and a symlink;"
	echo "and, on its own, $SNAP_LINKS files of 1 KiB in 100 directories, each with a second"
	echo "hard link in one of 100 other directories."
	echo "Ratio = cp -a time / volinit time (goal: >= 0.9x)."
	echo
	echo "| filesystem | entries | data | volinit | cp -a | ratio |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	printf '%s\n' "${ROWS[@]}"
	echo
	[ -z "$xfs_note" ] || { echo "$xfs_note"; echo; }
	echo "Machine: $(nproc) CPUs, $(uname -sr), $(cp --version | sed -n 1p)."
	echo "Command: \`bash bench/snapshot.sh\` (knobs: SNAP_SMALL, SNAP_LINKS, SNAP_BIG, SNAP_BIG_MB, SNAP_RUNS, SNAP_XFS)."
	echo
	echo "Raw times (microseconds):"
	echo
	printf -- '- %s\n' "${RAW[@]}"
} >"$SNAP_OUT"
cat "$SNAP_OUT"
