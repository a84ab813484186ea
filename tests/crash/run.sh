#!/bin/bash
# The power-loss harness of issue 20: for each filesystem and scenario, cut
# the power at volinit's durability calls (or at random times), then mount
# again, start again, and judge the volume against reference manifests.
#
# Usage: run.sh [--sample] [--fs "xfs ext4"] [--scenarios "init migrate ..."]
#   --sample   a few points per scenario (make check); default: every point
#   --points "N:before N:after ..."   only these (to look at one again)
# Env: VOLINIT (dynamic build, the shim needs it), SHIM, CRASH_FILES (files
#   in the volume, default 200), CRASH_RESULTS (per-trial logs, default
#   build/crash/results), CRASH_KEEP=1 keeps the work dir.
# Exit: 0 when no trial lost data (or loop devices cannot be had), 1 if any
# trial ended lost, junk, odd; 2 when the harness itself could not run.
set -uo pipefail
CRASH_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$CRASH_DIR/../.." && pwd)
VOLINIT=$(realpath "${VOLINIT:-$TOP/build/volinit}")
SHIM=$(realpath "${SHIM:-$TOP/build/crash/shim.so}")
RESULTS=${CRASH_RESULTS:-$TOP/build/crash/results}
SAMPLE=0 FILESYSTEMS="xfs ext4" SCENARIOS= ONLY_POINTS=
while [ $# -gt 0 ]; do
	case $1 in
	--sample) SAMPLE=1 ;;
	--fs) FILESYSTEMS=$2; shift ;;
	--scenarios) SCENARIOS=$2; shift ;;
	--points) ONLY_POINTS=$2; shift ;;
	*) echo "usage: run.sh [--sample] [--fs LIST] [--scenarios LIST] [--points LIST]" >&2; exit 2 ;;
	esac
	shift
done
. "$CRASH_DIR/fs.sh"
. "$CRASH_DIR/volume.sh"
. "$CRASH_DIR/scenarios.sh"
. "$CRASH_DIR/trial.sh"
SCENARIOS=${SCENARIOS:-$CRASH_SCENARIOS}

if [ "$(id -u)" != 0 ]; then
	echo "crash: skipped: needs root (mount, mkfs, the shutdown ioctl)"
	exit 0
fi
for tool in mkfs.xfs mkfs.ext4 xfs_io setfattr python3 pgrep; do
	command -v "$tool" >/dev/null || { echo "crash: $tool missing: run 'sh tools/deps.sh crash'" >&2; exit 2; }
done
[ -x "$VOLINIT" ] && [ -f "$SHIM" ] || { echo "crash: build $VOLINIT and $SHIM first (make crash)" >&2; exit 2; }

W=$(mktemp -d /tmp/volinit-crash.XXXXXX)
MNT=$W/mnt
mkdir -p "$MNT" "$RESULTS"
crash_exit() {
	[ -n "${RUN_WRAPPER:-}" ] && kill -KILL $(crash_descendants "$RUN_WRAPPER") 2>/dev/null
	crash_cleanup_mounts "$W"
	[ "${CRASH_KEEP:-}" = 1 ] || rm -rf "$W"
}
trap crash_exit EXIT
trap 'exit 2' INT TERM

if ! crash_can_loop "$W"; then
	echo "crash: skipped: this machine cannot loop-mount a filesystem (no loop devices)"
	exit 0
fi
mkfifo "$W/notify"
exec 7<>"$W/notify" # both ends held: a read never blocks on open, never sees EOF

# The hooks, where volinit trusts them: root's, 0755, in a root-only dir.
mkdir -m 0700 "$W/hooks"
install -m 0755 "$CRASH_DIR"/hooks/* "$W/hooks/"
CONF=$W/volinit.ini

# A trial image's starting state, unmounted, so all of it is durable.
crash_template() { # NAME FROM-IMAGE-OR-"" SETUP-FUNCTION
	local img=$W/tpl-$FS-$1.img
	if [ -n "$2" ]; then cp --sparse=always "$2" "$img"; else crash_mkfs "$FS" "$img" >/dev/null; fi
	crash_mount "$FS" "$img" "$MNT" && "$3" && crash_umount "$MNT"
}

# A run without crash; its exit code must be WANT.
crash_plain_run() { # WANT ARGS...
	local want=$1 rc=0
	shift
	# exit $? keeps the subshell from exec'ing volinit: a killed volinit is
	# then reported (as noise) by the subshell, into /dev/null.
	(cd / && timeout 120 "$VOLINIT" "$@" >"$W/plain.log" 2>&1; exit $?) 2>/dev/null || rc=$?
	[ "$rc" = "$want" ] || { echo "crash: reference run $* gave $rc, not $want:" >&2; cat "$W/plain.log" >&2; return 1; }
}

setup_empty() { :; }
setup_base() { crash_populate "$MNT"; }
setup_v1() { printf '1\n' >"$MNT/schema_version.txt"; }
setup_dirty2() { # step 2's hook killed its migrator: version 1, dirty
	KEYS="expected = 2
snapshot = false" crash_write_conf "$CONF" "$MNT" "$W/hooks"
	CRASH_HOOK_KILL_PARENT=1 crash_plain_run 137 migrate -c "$CONF" && [ -e "$MNT/.volinit/dirty" ]
}

# The expected data at each version: a migration without crash, on a copy.
crash_reference() { # NAME TEMPLATE EXPECTED
	cp --sparse=always "$W/tpl-$FS-$2.img" "$W/ref.img"
	crash_mount "$FS" "$W/ref.img" "$MNT" || return 1
	if [ -n "$3" ]; then
		KEYS="expected = $3" crash_write_conf "$CONF" "$MNT" "$W/hooks"
		crash_plain_run 0 migrate -c "$CONF" || return 1
	fi
	python3 "$CRASH_DIR/manifest.py" "$MNT" >"$W/ref-$FS-$1.manifest"
	crash_umount "$MNT" && rm -f "$W/ref.img"
}

crash_prepare_fs() {
	crash_template empty "" setup_empty &&
		crash_template base "$W/tpl-$FS-empty.img" setup_base &&
		crash_template v1 "$W/tpl-$FS-base.img" setup_v1 &&
		crash_template dirty2 "$W/tpl-$FS-v1.img" setup_dirty2 &&
		crash_reference empty empty "" &&
		crash_reference v1 v1 "" &&
		crash_reference v2 v1 2 &&
		crash_reference v3 v1 3 &&
		crash_reference dirty2 dirty2 "" &&
		cmp -s "$W/ref-$FS-v2.manifest" "$W/ref-$FS-dirty2.manifest" &&
		rm -f "$W/ref-$FS-dirty2.manifest"
}

# The run once without a crash, counting its points into POINTS_LOG.
crash_count_points() {
	POINTS_LOG=$RESULTS/points-$FS-$S.log
	rm -f "$POINTS_LOG"
	cp --sparse=always "$W/tpl-$FS-$TEMPLATE.img" "$W/trial.img"
	crash_mount "$FS" "$W/trial.img" "$MNT"
	crash_launch CRASH_LOG="$POINTS_LOG"
	local kind rc
	read -r -t 300 -u 7 kind rc || kind=hang
	wait "$RUN_WRAPPER"
	crash_umount "$MNT"
	rm -f "$W/trial.img"
	[ "$kind" = exit ] || { echo "crash: $FS $S: the counting run did not end" >&2; return 1; }
	POINTS=$(wc -l <"$POINTS_LOG")
}

# The crash points of a scenario, "POINT WHEN" a line. Every point before
# its call; after it too where that differs from before the next one: a
# spawn (the hook runs on while volinit is stopped) and the last point.
crash_points() {
	local n
	if [ -n "$ONLY_POINTS" ]; then
		tr ' :' '\n ' <<<"$ONLY_POINTS"
		return
	fi
	if [ "$MODE" = random ]; then
		local spawn t
		spawn=$(awk '$2 == "spawn" { n = $1 } END { print n }' "$POINTS_LOG")
		local trials=$((SAMPLE ? 4 : 24))
		for ((n = 0; n < trials; n++)); do
			# Half in PROGRAM's first 2 s, half from the launch on.
			t=$(printf '%d.%02d' $((RANDOM % 2)) $((RANDOM % 100)))
			if ((n % 2 == 0)); then echo "$spawn random:$t"; else echo "0 launch:$(printf '0.%02d' $((RANDOM % 100)))"; fi
		done
		return
	fi
	if ((SAMPLE)); then
		# Seven points spread over the run, the last included, and both
		# sides of each version file's rename: where a version that the
		# data does not back yet, or a temporary file, would be left.
		local k
		{
			for ((k = 1; k <= 7; k++)); do echo "$(((POINTS * k + 6) / 7)) before"; done
			awk '$2 == "rename" && $3 ~ /\/schema_version\.txt$/ { print $1 " before"; print $1 + 1 " before" }' "$POINTS_LOG"
			echo "$POINTS after"
		} | sort -k1,1n -k2,2 -u
		return
	fi
	for ((n = 1; n <= POINTS; n++)); do echo "$n before"; done
	awk '$2 == "spawn" { print $1 " after" }' "$POINTS_LOG"
	echo "$POINTS after"
}

failed=0
summary=()
for FS in $FILESYSTEMS; do
	rm -f "$W"/tpl-"$FS"-*.img
	if ! crash_prepare_fs; then
		echo "crash: $FS: could not prepare the templates and references" >&2
		exit 2
	fi
	for S in $SCENARIOS; do
		"scenario_$S"
		crash_write_conf "$CONF" "$MNT" "$W/hooks"
		crash_count_points || exit 2
		log=$RESULTS/$FS-$S.log
		: >"$log"
		declare -A count=()
		trials=0
		start=$SECONDS
		while read -r point when; do
			verdict=$(crash_trial "$point" "$when")
			outcome=${verdict%% *}
			count[$outcome]=$((${count[$outcome]:-0} + 1))
			trials=$((trials + 1))
			call=$(awk -v n="$point" '$1 == n { $1 = ""; print; exit }' "$POINTS_LOG")
			echo "$point $when [$call ] -> $verdict" >>"$log"
		done < <(crash_points)
		line="crash: $FS $S: $trials trials ($POINTS points, $((SECONDS - start)) s):"
		for o in old mid new dirty83 junk odd; do
			[ -n "${count[$o]:-}" ] && line="$line ${count[$o]} $o,"
		done
		line="$line ${count[lost]:-0} lost"
		echo "$line"
		summary+=("$line")
		bad=$((${count[lost]:-0} + ${count[junk]:-0} + ${count[odd]:-0}))
		((bad)) && { failed=1; grep -E -- '-> (lost|junk|odd)' "$log" | head -3 | sed 's/^/  /'; }
		unset count
	done
done
printf '%s\n' "${summary[@]}" >"$RESULTS/summary.txt"
((failed)) && echo "crash: FAILED: data lost or wrong (per-trial logs in $RESULTS)"
exit $failed
