#!/usr/bin/env bats
# Recovery: which snapshot a dirty volume may be restored from, and who may
# drop it. A snapshot is dropped only once no dirty marker is left; a restore
# that fails keeps both, so that the next start restores again.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() {
	mg_setup
	command -v chattr >/dev/null || { echo "chattr is needed (e2fsprogs)" >&2; return 1; }
}
teardown() {
	[ -e "$VOL/sub/locked" ] && chattr -i "$VOL/sub/locked" 2>/dev/null
	mg_teardown
}

@test "SIGTERM during a step whose restore then fails: exit 143, the snapshot and dirty kept, the next start restores" {
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	# The step leaves a file the restore cannot remove, then waits for the signal.
	mg_hook 2 "echo two >>data.txt; mkdir -p sub; touch sub/locked; chattr +i sub/locked; touch '$TD/ready'; exec sleep 60"
	mg_conf 2
	mg_bg "$TD/first.out" "$VOLINIT" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	local vpid=$MG_PID
	wait_for_file "$TD/ready"
	kill -TERM "$vpid"
	mg_wait_exit "$vpid"
	cat "$TD/first.out"
	[ "$MG_RC" -eq 143 ]
	[ ! -e "$TD/app-ran" ]
	run grep -c 'the restore failed: sub/locked' "$TD/first.out"
	[ "$output" = 1 ]
	run grep -c 'hint: the snapshot is kept' "$TD/first.out"
	[ "$output" = 1 ]
	# What the message promises is there: the snapshot, whole, and the marker.
	[ -d "$VOL/.volinit/snapshot" ]
	[ "$(cat "$VOL/.volinit/snapshot/data.txt")" = base ]
	[ -e "$VOL/.volinit/dirty" ]

	# Once the file can go, the next start restores and runs the fixed hook.
	chattr -i "$VOL/sub/locked"
	mg_hook 2 'echo two >>data.txt'
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"restoring its snapshot"* ]]
	[ -e "$TD/app-ran" ]
	[ ! -e "$VOL/sub" ]
	[ "$(cat "$VOL/data.txt")" = "base
two" ]
	[ "$(mg_version)" = 2 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
}

# volinit as PID 1 of a new PID namespace, in the background: killing it
# kills the hook too, as a container's end does. Sets UPID and VPID.
ns_start() {
	local out=$1
	shift
	mg_bg "$out" unshare --pid --fork --mount-proc "$VOLINIT" "$@"
	UPID=$MG_PID
	VPID=$(ns_init "$UPID")
	MG_PIDS+=("$VPID")
}

@test "a snapshot left half-removed by an earlier migration is never restored for a later one that took none: 83, the data kept" {
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	# What a SIGKILL during an older volinit's removal of a finished
	# migration's snapshot left: part of the volume as it was then.
	mkdir -m 0700 "$VOL/.volinit" "$VOL/.volinit/snapshot"
	echo stale >"$VOL/.volinit/snapshot/data.txt"
	echo 0 >"$VOL/.volinit/snapshot/schema_version.txt"
	# A migration without a snapshot, killed during its hook.
	mg_hook 2 "echo two >>data.txt; touch '$TD/ready'; exec sleep 60"
	mg_conf 2 "snapshot = false"
	ns_start "$TD/first.out" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	wait_for_file "$TD/ready"
	kill -KILL "$VPID"
	mg_wait_exit "$UPID"
	[ -e "$VOL/.volinit/dirty" ]
	jq -e '.snapshot == null' "$VOL/.volinit/dirty"

	mg_hook 2 'echo two >>data.txt'
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 83 ]
	[[ "$output" == *"FATAL"*"left dirty by an interrupted migration"* ]]
	[ ! -e "$TD/app-ran" ]
	# What the app and the step wrote is there; nothing stale came back.
	[ "$(cat "$VOL/data.txt")" = "base
two" ]
	[ "$(mg_version)" = 1 ]
	[ -e "$VOL/.volinit/dirty" ]
}

@test "while a step runs, dirty names the snapshot it belongs to; a start restores only that one" {
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	mg_hook 2 "echo two >>data.txt; touch '$TD/ready'; exec sleep 60"
	mg_conf 2
	ns_start "$TD/first.out" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	wait_for_file "$TD/ready"
	jq -e '.snapshot | type == "string" and length > 0' "$VOL/.volinit/dirty"
	kill -KILL "$VPID"
	mg_wait_exit "$UPID"

	# Another snapshot put in its place (a copy: same contents, another
	# directory) is not the migration's own: the start refuses it (83).
	cp -a "$VOL/.volinit/snapshot" "$TD/copy"
	rm -rf "$VOL/.volinit/snapshot"
	cp -a "$TD/copy" "$VOL/.volinit/snapshot"
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 83 ]
	[ ! -e "$TD/app-ran" ]
	[ "$(cat "$VOL/data.txt")" = "base
two" ]
}
