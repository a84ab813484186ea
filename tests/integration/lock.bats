#!/usr/bin/env bats
# Locks (SPEC.md "State on the volume", lock and holders/): exclusive while
# migrating, shared for a program's whole life; concurrent migrators and
# starters; waiting bounded by lock_timeout (75) and naming the holders.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() { mg_setup; }
teardown() { mg_teardown; }

# A hook body that waits (bounded) until N files match GLOB.
wait_for_files() {
	echo "i=0
while [ \"\$(ls $1 2>/dev/null | wc -l)\" -lt $2 ]; do
	i=\$((i + 1)); [ \$i -lt 1250 ] || { echo 'barrier timed out' >&2; exit 1; }
	sleep 0.02
done"
}

# A second config for the same volume: VERSION expected, extra lines.
other_conf() {
	local file=$1 expected=$2
	shift 2
	{
		echo "[data]"
		echo "path = $VOL"
		echo "expected = $expected"
		echo "on_older = migrate"
		echo "migrations = $HOOKS"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$file"
}

@test "8 volinit migrate started at once on one volume: each step runs exactly once, all exit 0" {
	echo 1 >"$VOL/schema_version.txt"
	# Step 2 holds on until all 8 have been started: they overlap.
	mg_hook 2 "$(wait_for_files "$TD/started.*" 8)"
	mg_hook 3
	mg_hook 4
	mg_conf 4 "lock_timeout = 30"
	local i pids=()
	for i in 1 2 3 4 5 6 7 8; do
		mg_bg "$TD/m.$i.out" sh -c 'touch "$1"; exec "$2" migrate -c "$3"' sh \
			"$TD/started.$i" "$VOLINIT" "$CONF"
		pids+=("$MG_PID")
	done
	local failed=0
	for i in 1 2 3 4 5 6 7 8; do
		mg_wait_exit "${pids[i - 1]}" 45
		echo "migrator $i: exit $MG_RC"
		cat "$TD/m.$i.out"
		[ "$MG_RC" -eq 0 ] || failed=1
	done
	[ "$failed" -eq 0 ]
	cat "$HLOG"
	[ "$(cat "$HLOG")" = "2 1 2
3 2 3
4 3 4" ]
	[ "$(mg_version)" = 4 ]
	[ "$(mg_events | grep -c '^migrate_begin')" -eq 1 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
}

@test "4 volinit -- APP started at once on an old volume: one migration, all 4 apps run together" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 "$(wait_for_files "$TD/started.*" 4)"
	mg_hook 3
	mg_conf 3 "lock_timeout = 25"
	# Each app records the version it sees, then waits until all four run:
	# the first migrator's app holds its shared lock all along, so a
	# starter that queued for the exclusive lock would never get there.
	cat >"$TD/app.sh" <<EOF
#!/bin/sh
cat "$VOL/schema_version.txt" >"$TD/app-saw.\$1"
$(wait_for_files "$TD/app-saw.*" 4)
EOF
	chmod +x "$TD/app.sh"
	local i pids=()
	for i in 1 2 3 4; do
		mg_bg "$TD/s.$i.out" sh -c 'touch "$1"; shift; exec "$@"' sh "$TD/started.$i" \
			"$VOLINIT" -c "$CONF" -- "$TD/app.sh" "$i"
		pids+=("$MG_PID")
	done
	local failed=0
	for i in 1 2 3 4; do
		mg_wait_exit "${pids[i - 1]}" 45
		echo "starter $i: exit $MG_RC"
		cat "$TD/s.$i.out"
		[ "$MG_RC" -eq 0 ] || failed=1
	done
	[ "$failed" -eq 0 ]
	for i in 1 2 3 4; do
		[ "$(cat "$TD/app-saw.$i")" = 3 ]
	done
	[ "$(cat "$HLOG")" = "2 1 2
3 2 3" ]
	[ "$(mg_events | grep -c '^migrate_begin')" -eq 1 ]
	[ "$(mg_events | grep -c '^start 3 3')" -eq 4 ]
	# Every holder removed its file when its app ended.
	[ -z "$(ls -A "$VOL/.volinit/holders" 2>/dev/null)" ]
}

@test "a running app's shared lock makes volinit migrate wait, say so, then give 75 naming the holder" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	other_conf "$TD/app.ini" 1
	other_conf "$CONF" 2 "lock_timeout = 6"
	VOLINIT_IMAGE=registry.example/app:old mg_bg "$TD/app.out" \
		"$VOLINIT" -c "$TD/app.ini" -- "$PROBE" signals "$TD/app.sig"
	local apid=$MG_PID
	wait_for_line "$TD/app.sig" '^ready$'
	grep -l "pid=$apid " "$VOL"/.volinit/holders/*

	# status sees the holder, and does not wait.
	run --separate-stderr vi status -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"locked:"*"shared"*"pid=$apid"* ]]

	local t0=$SECONDS
	run vi migrate -c "$CONF"
	local took=$((SECONDS - t0))
	echo "$output"
	echo "took ${took}s"
	[ "$status" -eq 75 ]
	[ "$took" -ge 5 ]
	[[ "$output" == *"waiting for the exclusive lock"*"pid=$apid"* ]]
	local fatal
	fatal=$(grep FATAL <<<"$output")
	[[ "$fatal" == *"timed out"* ]]
	[[ "$fatal" == *"host=$(uname -n)"* ]]
	[[ "$fatal" == *"pid=$apid"* ]]
	[[ "$fatal" == *"image=registry.example/app:old"* ]]
	# Nothing ran, nothing changed.
	[ ! -s "$HLOG" ]
	[ "$(mg_version)" = 1 ]
	[ ! -e "$VOL/.volinit/dirty" ]

	# Once the app ends, its lock and holders file go, and migrate works.
	kill -TERM "$apid"
	mg_wait_exit "$apid"
	[ "$MG_RC" -eq 0 ]
	grep -qx 15 "$TD/app.sig"
	[ -z "$(ls -A "$VOL/.volinit/holders")" ]
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
}

# A migration in progress, held in its hook until $TD/go exists.
start_held_migration() {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 "touch '$TD/ready'
$(wait_for_files "$TD/go" 1)"
	mg_conf 2
	mg_bg "$TD/mig.out" "$VOLINIT" migrate -c "$CONF"
	MPID=$MG_PID
	wait_for_file "$TD/ready"
}

@test "check --json while one volume is being migrated: valid JSON, that volume locked (75), the others still listed" {
	start_held_migration
	mkdir "$TD/vol2"
	echo 1 >"$TD/vol2/schema_version.txt"
	printf '[volinit]\n[first]\npath = %s\nexpected = 2\nlock_timeout = 1\n[second]\npath = %s\nexpected = 1\n' \
		"$VOL" "$TD/vol2" >"$TD/two.ini"
	run --separate-stderr vi check --json -c "$TD/two.ini"
	echo "$output"
	[ "$status" -eq 75 ]
	jq -e '.code == 75 and (.volumes | length) == 2
		and .volumes[0].name == "first" and .volumes[0].action == "locked" and .volumes[0].code == 75
		and .volumes[1].name == "second" and .volumes[1].action == "run" and .volumes[1].code == 0' <<<"$output"
	touch "$TD/go"
	mg_wait_exit "$MPID"
	[ "$MG_RC" -eq 0 ]
}

@test "lock_timeout gives 75 to migrate, to a start and to check while another volinit migrates" {
	start_held_migration
	other_conf "$TD/impatient.ini" 2 "lock_timeout = 1"

	run vi migrate -c "$TD/impatient.ini"
	echo "$output"
	[ "$status" -eq 75 ]
	# migrate looks under the shared lock first (a current volume needs no
	# exclusive lock), and a migration in progress holds that back.
	[[ "$output" == *"FATAL"*"timed out after 1 s waiting for the shared lock"* ]]
	[[ "$output" == *"hint:"* ]]

	run vi -c "$TD/impatient.ini" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"FATAL"*"timed out after 1 s waiting for the shared lock"* ]]
	[ ! -e "$TD/app-ran" ]

	run vi check -c "$TD/impatient.ini"
	[ "$status" -eq 75 ]

	# status never waits: it shows the migration in progress.
	run --separate-stderr vi status -c "$CONF" --json
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e '.volumes[0] | .lock == "exclusive" and .state == "dirty" and .snapshot == true' <<<"$output"

	touch "$TD/go"
	mg_wait_exit "$MPID"
	[ "$MG_RC" -eq 0 ]
	[ "$(cat "$HLOG")" = "2 1 2" ]
	[ "$(mg_version)" = 2 ]
	# The impatient start works now.
	run vi -c "$TD/impatient.ini" -- "$PROBE" touch "$TD/app-ran"
	[ "$status" -eq 0 ]
	[ -e "$TD/app-ran" ]
}

@test "a timeout while another volinit migrates names that migrator (holders/ lists every lock holder)" {
	start_held_migration
	other_conf "$TD/impatient.ini" 2 "lock_timeout = 1"
	run vi migrate -c "$TD/impatient.ini"
	echo "$output"
	[ "$status" -eq 75 ]
	run grep FATAL <<<"$output"
	[[ "$output" == *"pid=$MPID"* ]]
	touch "$TD/go"
	mg_wait_exit "$MPID"
}

@test "a volinit killed with SIGKILL leaves no stale lock: the next migrate does not wait" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	other_conf "$TD/app.ini" 1
	other_conf "$CONF" 2 "lock_timeout = 5"
	mg_bg "$TD/app.out" unshare --pid --fork --mount-proc \
		"$VOLINIT" -c "$TD/app.ini" -- "$PROBE" signals "$TD/app.sig"
	local upid=$MG_PID vpid
	vpid=$(ns_init "$upid")
	wait_for_line "$TD/app.sig" '^ready$'
	[ -n "$(ls -A "$VOL/.volinit/holders")" ]
	kill -KILL "$vpid"
	mg_wait_exit "$upid"
	# Its holders file is left behind (it could not remove it) ...
	[ -n "$(ls -A "$VOL/.volinit/holders")" ]
	# ... but the kernel released its lock: no wait, no 75.
	local t0=$SECONDS
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[ $((SECONDS - t0)) -lt 4 ]
	[[ "$output" != *"waiting for"* ]]
	[ "$(mg_version)" = 2 ]
	[ -z "$(ls -A "$VOL/.volinit/holders")" ]
}

@test "volinit migrate on a current volume exits 0 at once while an app holds the shared lock (a second replica's init container)" {
	echo 2 >"$VOL/schema_version.txt"
	mg_hook 2
	other_conf "$CONF" 2 "lock_timeout = 30"
	mg_bg "$TD/app.out" "$VOLINIT" -c "$CONF" -- "$PROBE" signals "$TD/app.sig"
	local apid=$MG_PID
	wait_for_line "$TD/app.sig" '^ready$'

	local t0=$SECONDS
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	# Well inside lock_timeout: it never queued for the exclusive lock.
	[ $((SECONDS - t0)) -lt 5 ]
	[ ! -s "$HLOG" ]
	[ "$(mg_version)" = 2 ]

	kill -TERM "$apid"
	mg_wait_exit "$apid"
	[ "$MG_RC" -eq 0 ]
}

# A holders file as volinit writes it, for a process of this host.
fake_holder() {
	local pid=$1 since=$2 expects=$3
	mkdir -p -m 0700 "$VOL/.volinit/holders"
	printf 'host=%s pid=%s since=%s expects=%s role=app image=elsewhere\n' \
		"$(hostname)" "$pid" "$since" "$expects" >"$VOL/.volinit/holders/fake-$pid"
	chmod 0600 "$VOL/.volinit/holders/fake-$pid"
}

@test "a holder of this host alive but its lock unseen (locks that do not reach this mount): an act refuses (73), single_node = true acts" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 'echo two >>data.txt'
	mg_conf 1
	run vi -c "$CONF" -- true
	[ "$status" -eq 0 ]
	# A volinit that was running when its file was written, holding no
	# lock that this mount sees (as one on another mount of a bindfs): a
	# process named volinit-... (its command's name is what is checked).
	cp "$(command -v sleep)" "$TD/volinit-elsewhere"
	mg_bg "$TD/sleeper.out" "$TD/volinit-elsewhere" 300
	local pid=$MG_PID
	fake_holder "$pid" "$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%S.000Z)" 1
	mg_conf 2
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *"FATAL"*"a holder of its lock on this host is running and its lock is not seen through this mount"*"pid=$pid "* ]]
	[[ "$output" == *"hint: "*"single_node = true"* ]]
	[ ! -s "$HLOG" ]
	[ "$(mg_version)" = 1 ]
	mg_conf 2 "single_node = true"
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
	kill "$pid"
}

@test "a holders file whose pid now belongs to a later process (its holder killed hard), or to no volinit, is stale, not a holder: the act goes on" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 'echo two >>data.txt'
	cp "$(command -v sleep)" "$TD/volinit-later"
	mg_bg "$TD/sleeper.out" "$TD/volinit-later" 300
	local pid=$MG_PID
	# Written long before that process started.
	fake_holder "$pid" "2020-01-01T00:00:00.000Z" 1
	# PID 1 of this namespace, running since before now, is no volinit (a
	# volinit that was PID 1 of a container with the same host name).
	fake_holder 1 "$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%S.000Z)" 1
	mg_conf 2
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
	[ ! -e "$VOL/.volinit/holders/fake-$pid" ]
	kill "$pid"
}
