# shellcheck shell=bash
# Helpers for faults.bats, hostile.bats, lock.bats, migrate.bats,
# recovery.bats, runtime.bats and snapshot.bats: a volume, a hooks directory
# and a config file per test, hooks that log what they see, listings that
# compare a volume before and after, and commands in the background with a
# bounded wait for their exit.
#
# Environment: as helpers.bash, which this sources: VOLINIT (absolute path
# of build/volinit), HELPERS (build/helpers), VI_TIMEOUT (seconds for each
# wait and each volinit run, default 30).

# The bounded volinit run (vi), the bounded waits (wait_for_file,
# wait_for_line), ns_init and the defaults of VOLINIT, HELPERS, PROBE and
# VI_TIMEOUT come from there.
# shellcheck source=helpers.bash
source "${BASH_SOURCE[0]%/*}/helpers.bash"

mg_requires_root() {
	if [ "$(id -u)" != 0 ]; then
		[ -n "${CI:-}" ] && { echo "these tests need root (CI runs as root)" >&2; return 1; }
		skip "needs root (mounts, chown, PID namespaces)"
	fi
}

# Per test: TD (scratch), VOL (the volume), HOOKS (migrations), CONF, HLOG
# (one line per hook run). The volume name is "data".
mg_setup() {
	mg_requires_root || return 1
	[ -x "$VOLINIT" ] || { echo "VOLINIT=$VOLINIT is not executable (make build/volinit)" >&2; return 1; }
	[ -x "$PROBE" ] || { echo "$PROBE missing (make helpers)" >&2; return 1; }
	command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)" >&2; return 1; }
	TD=$BATS_TEST_TMPDIR
	VOL=$TD/vol
	HOOKS=$TD/hooks
	CONF=$TD/volinit.ini
	HLOG=$TD/hooks.log
	mkdir -p "$VOL" "$HOOKS"
	: >"$HLOG"
	export VOLINIT_IMAGE="registry.example/app:test-$BATS_TEST_NUMBER"
	unset VOLINIT_CONFIG VOLINIT_VOLUME VOLINIT_PATH VOLINIT_FROM VOLINIT_TO
	MG_PIDS=()
	MG_MOUNTS=()
	# ns_init shows the output of an unshare that mg_bg started.
	declare -gA BG_ERRS=()
}

# Kills what the test left running (by pid: only ours) and unmounts ours.
mg_teardown() {
	local p m
	for p in "${MG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${MG_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	for ((m = ${#MG_MOUNTS[@]} - 1; m >= 0; m--)); do
		umount -l "${MG_MOUNTS[m]}" 2>/dev/null || true
	done
}

# mg_conf EXPECTED [LINE...]: the config for volume "data" on $VOL, migrating
# with $HOOKS; extra lines (key = value) are added to the volume section.
mg_conf() {
	local expected=$1
	shift
	{
		echo "[volinit]"
		echo "; test $BATS_TEST_NAME"
		echo
		echo "[data]"
		echo "path = $VOL"
		echo "expected = $expected"
		echo "on_older = migrate"
		echo "migrations = $HOOKS"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
}

# mg_hook NAME [BODY]: an executable /bin/sh hook that first appends
# "NAME FROM TO" to $HLOG, then runs BODY (set -e).
mg_hook() {
	local name=$1 body=${2:-}
	cat >"$HOOKS/$name" <<EOF
#!/bin/sh
set -e
echo "$name \$VOLINIT_FROM \$VOLINIT_TO" >>"$HLOG"
$body
EOF
	chmod 0755 "$HOOKS/$name"
}

mg_version() { cat "$VOL/schema_version.txt"; }

# The events of the journal, one "event from to" per line.
mg_events() {
	jq -r '"\(.event) \(.from) \(.to)"' "${1:-$VOL}/.volinit/journal.jsonl"
}

# mg_wait_count GLOB N [SECONDS]: until N files match GLOB.
mg_wait_count() {
	local glob=$1 n=$2 t=${3:-$VI_TIMEOUT} end files
	end=$((SECONDS + t))
	while :; do
		# shellcheck disable=SC2206
		files=($glob)
		[ -e "${files[0]}" ] && [ "${#files[@]}" -ge "$n" ] && return 0
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out after ${t}s waiting for $n files $glob" >&2
			return 1
		fi
		sleep 0.02
	done
}

# mg_bg OUT CMD...: CMD in the background, stdout+stderr to OUT, fd 3 closed
# (bats waits for it). Sets MG_PID to CMD's pid; a watcher subshell writes
# its exit status for mg_wait_exit. Teardown kills it if still there.
mg_bg() {
	local out=$1 tag
	shift
	MG_BGN=$((${MG_BGN:-0} + 1))
	tag=$BATS_TEST_TMPDIR/.bg.$MG_BGN
	(
		exec 3>&-
		"$@" >"$out" 2>&1 &
		echo $! >"$tag.pid.tmp" && mv "$tag.pid.tmp" "$tag.pid"
		rc=0
		wait $! || rc=$? # bats runs with set -e
		echo "$rc" >"$tag.rc.tmp" && mv "$tag.rc.tmp" "$tag.rc"
	) &
	MG_PIDS+=($!)
	wait_for_file "$tag.pid" || return 1
	MG_PID=$(cat "$tag.pid")
	MG_PIDS+=("$MG_PID")
	BG_ERRS[$MG_PID]=$out
	echo "$tag" >"$BATS_TEST_TMPDIR/.bg-of.$MG_PID"
}

# mg_wait_exit PID [SECONDS]: waits, bounded, for a command that mg_bg
# started; sets MG_RC to its exit status. Fails (after killing it) when it
# does not end in time.
mg_wait_exit() {
	local pid=$1 t=${2:-$VI_TIMEOUT} tag
	tag=$(cat "$BATS_TEST_TMPDIR/.bg-of.$pid") || return 1
	if ! wait_for_file "$tag.rc" "$t"; then
		echo "pid $pid did not exit within ${t}s" >&2
		kill -KILL "$pid" 2>/dev/null
		return 1
	fi
	MG_RC=$(cat "$tag.rc")
}

# mg_mount_tmpfs DIR SIZE: a tmpfs, unmounted at teardown.
mg_mount_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o size="$2",mode=0755 tmpfs "$1" || return 1
	MG_MOUNTS+=("$1")
}

# mg_listing DIR: everything that restoring must put back, .volinit aside:
# the root's mode and owner; each entry's type, mode, owner, link count,
# size, mtime (ns) and symlink target; file checksums; hard-link groups.
mg_listing() {
	(
		cd "$1" || exit 1
		stat -c 'root %a %u %g' .
		find . -mindepth 1 -path ./.volinit -prune -o \
			-printf '%y %m %U %G %n %s %T@ %p -> %l\n' | LC_ALL=C sort
		find . -path ./.volinit -prune -o -type f -print0 | LC_ALL=C sort -z |
			xargs -0r sha256sum
		find . -path ./.volinit -prune -o -type f -links +1 -printf '%i %p\n' |
			LC_ALL=C sort -k2 |
			awk '{ g[$1] = g[$1] " " $2 } END { for (i in g) print "linked:" g[i] }' |
			LC_ALL=C sort
	)
}

# mg_rich_tree DIR: files, a 1 MiB file, hard links, symlinks (one
# dangling), a FIFO, an empty dir, other owners, set-id bits, old mtimes.
mg_rich_tree() {
	local d=$1
	mkdir -p "$d/d/sub" "$d/d/empty" "$d/name with spaces"
	printf 'hello\n' >"$d/a.txt"
	head -c 1048576 /dev/urandom >"$d/d/big.bin"
	ln "$d/d/big.bin" "$d/hardlink.bin"
	ln "$d/a.txt" "$d/d/sub/a-again.txt"
	ln -s a.txt "$d/link-to-a"
	ln -s /nonexistent/target "$d/dangling"
	mkfifo "$d/d/fifo"
	: >"$d/empty"
	printf 'x' >"$d/setuid"
	printf 'note\n' >"$d/name with spaces/f"
	chown 1234:5678 "$d/setuid" "$d/d/sub"
	chown -h 1000:1001 "$d/link-to-a"
	chmod 4755 "$d/setuid"
	chmod 2770 "$d/d/sub"
	chmod 0640 "$d/a.txt"
	chmod 0600 "$d/d/fifo"
	chmod 0751 "$d/d"
	touch -h -d '2001-02-03 04:05:06.123456789' "$d/link-to-a" "$d/dangling"
	touch -d '2002-03-04 05:06:07.5' "$d/a.txt" "$d/d/big.bin" "$d/setuid" "$d/empty"
	touch -d '2003-01-01 00:00:01' "$d/d/sub" "$d/d/empty" "$d/name with spaces"
	touch -d '2004-01-01 00:00:02' "$d/d"
}

# mg_count PATTERN FILE: how many lines of FILE match (0 when none).
mg_count() {
	grep -Ec -- "$1" "$2" || true
}
