#!/usr/bin/env bats
# Rolling updates (SPEC.md "Rolling updates (readers)"): an image that
# declares readers below its expected version migrates online, beside the
# running apps that expect readers or later, decided by the kernel's locks
# on .volinit/lock; the window it records lets older images start on the
# newer data; a contract step closes it again.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() { mg_setup; }
teardown() {
	# An old app whose volinit a test killed (or that a failed test left)
	# would outlive the test: its children go first.
	[ -z "${OLD_PID:-}" ] || pkill -KILL -P "$OLD_PID" 2>/dev/null || true
	mg_teardown
}

# image FILE EXPECTED [LINE...]: a config for volume "data" on $VOL, as the
# image that expects EXPECTED ships it (hooks in $HOOKS).
image() {
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

# A hook body that fails when a snapshot exists: online takes none.
NO_SNAPSHOT='[ ! -e "$VOLINIT_PATH/.volinit/snapshot" ] || { echo "a snapshot was taken" >&2; exit 9; }'

# run_old_app INI NAME: volinit with INI running an app (the probe, ready
# and waiting for signals) in the background; OLD_PID, OLD_SIG ($TD/NAME.sig).
run_old_app() {
	OLD_SIG=$TD/$2.sig
	VOLINIT_IMAGE=registry.example/app:$2 mg_bg "$TD/$2.out" \
		"$VOLINIT" -c "$1" -- "$PROBE" signals "$OLD_SIG"
	OLD_PID=$MG_PID
	wait_for_line "$OLD_SIG" '^ready$'
}

# The old app is still running, and was never signalled.
old_app_untouched() {
	[ -n "$(proc_state "$OLD_PID")" ] && [ "$(proc_state "$OLD_PID")" != Z ]
	[ "$(cat "$OLD_SIG")" = ready ]
}

stop_old_app() {
	kill -TERM "$OLD_PID"
	mg_wait_exit "$OLD_PID"
	[ "$MG_RC" -eq 0 ]
}

@test "an app expecting 1 runs on while an image expecting 2 with readers = 1 migrates online: the hook once, no snapshot" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 "$NO_SNAPSHOT"
	image "$TD/v1.ini" 1
	image "$TD/v2.ini" 2 "readers = 1" "lock_timeout = 20"
	run_old_app "$TD/v1.ini" v1

	run vi -c "$TD/v2.ini" -- "$PROBE" touch "$TD/v2-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/v2-ran" ]
	[ "$(cat "$HLOG")" = "2 1 2" ]
	[ "$(mg_version)" = 2 ]
	[ "$(cat "$VOL/.volinit/readers")" = "readers=1 versions=1-2" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ ! -e "$VOL/.volinit/dirty" ]
	old_app_untouched
	jq -se 'map(select(.event == "migrate_begin")) | length == 1 and
		(.[0].detail | test("^online \\(readers 1\\)"))' "$VOL/.volinit/journal.jsonl"
	stop_old_app
}

@test "without readers, the migration waits for the app expecting 1, names it with its version, and gives 75" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	image "$TD/v1.ini" 1
	image "$TD/v2.ini" 2 "lock_timeout = 3"
	run_old_app "$TD/v1.ini" v1

	run vi -c "$TD/v2.ini" -- "$PROBE" touch "$TD/v2-ran"
	echo "$output"
	[ "$status" -eq 75 ]
	[ ! -e "$TD/v2-ran" ]
	[ ! -s "$HLOG" ]
	[ "$(mg_version)" = 1 ]
	local fatal
	fatal=$(grep FATAL <<<"$output")
	[[ "$fatal" == *"waiting for the exclusive lock; held by: an app expecting 1: host=$(uname -n) pid=$OLD_PID "*"image=registry.example/app:v1"* ]]
	[[ "$output" == *"hint:"*"readers = the old version"* ]]
	old_app_untouched
	stop_old_app
}

@test "readers = 2 with an app expecting 1 running: the online migration waits for it, 75" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_hook 3
	image "$TD/v1.ini" 1
	image "$TD/v3.ini" 3 "readers = 2" "lock_timeout = 3"
	run_old_app "$TD/v1.ini" v1

	run vi migrate -c "$TD/v3.ini"
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"FATAL"*"waiting for the lock to migrate online (readers 2); held by: an app expecting 1: "*"pid=$OLD_PID "* ]]
	[ ! -s "$HLOG" ]
	[ "$(mg_version)" = 1 ]
	old_app_untouched
	# Once it is gone, the same migration runs.
	stop_old_app
	run vi migrate -c "$TD/v3.ini"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
	[ "$(cat "$VOL/.volinit/readers")" = "readers=2 versions=1-3" ]
}

@test "an old image inside the window starts on the newer volume; one outside it gets 81 naming the window" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_hook 3
	image "$TD/v3.ini" 3 "readers = 2"
	run vi migrate -c "$TD/v3.ini"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]

	image "$TD/v2.ini" 2
	run vi -c "$TD/v2.ini" -- "$PROBE" touch "$TD/v2-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/v2-ran" ]
	run vi check -c "$TD/v2.ini"
	[ "$status" -eq 0 ]

	image "$TD/v1.ini" 1
	run --separate-stderr vi -c "$TD/v1.ini" -- "$PROBE" touch "$TD/v1-ran"
	echo "$stderr"
	[ "$status" -eq 81 ]
	[ ! -e "$TD/v1-ran" ]
	[ "$(grep -c FATAL <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == *"volinit: FATAL: incompatible persistent state in volume \"data\" ($VOL): schema_version=3, expected=1, readers=2"* ]]
	[[ "$stderr" == *"volinit: hint: the data at 3 can still be used by images that expect 2 to 3 (its readers); this one expects 1"* ]]
	run vi check -c "$TD/v1.ini"
	[ "$status" -eq 81 ]
	# on_newer = allow still allows anything.
	image "$TD/v1-allow.ini" 1 "on_newer = allow"
	run vi -c "$TD/v1-allow.ini" -- "$PROBE" touch "$TD/v1-ran"
	[ "$status" -eq 0 ]
	# status shows the window.
	run --separate-stderr vi status -c "$TD/v2.ini"
	echo "$output"
	[[ "$output" == *"readers:      2 (images expecting 2 to 3 start on it)"* ]]
	run --separate-stderr vi status --json -c "$TD/v2.ini"
	jq -e '.volumes[0] | .version == 3 and .readers == 2 and .running == []' <<<"$output"
}

@test "a contract step closes the window: after it, the image inside the old window gets 81" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_hook 3
	image "$TD/v2.ini" 2 "readers = 1"
	run vi migrate -c "$TD/v2.ini"
	[ "$status" -eq 0 ]
	[ "$(cat "$VOL/.volinit/readers")" = "readers=1 versions=1-2" ]
	image "$TD/v1.ini" 1
	run vi check -c "$TD/v1.ini"
	[ "$status" -eq 0 ]

	image "$TD/v3.ini" 3 # no readers: offline, the window closes
	run vi migrate -c "$TD/v3.ini"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
	[ ! -e "$VOL/.volinit/readers" ]
	run vi check -c "$TD/v1.ini"
	[ "$status" -eq 81 ]
	run vi check -c "$TD/v2.ini"
	[ "$status" -eq 81 ]
	[[ "$output" == *"schema_version=3, expected=2"* ]]
	[[ "$output" != *"readers="* ]]
	run --separate-stderr vi status -c "$TD/v3.ini"
	# No readers configured, none recorded: no readers line at all.
	[[ "$output" != *"readers:"* ]]
	[[ "$output" == *"version:      schema_version.txt = 3"* ]]
}

@test "a failing online step: 82, the version at the last completed step, no dirty, no restore; the next start runs that step again" {
	echo 1 >"$VOL/schema_version.txt"
	echo before >"$VOL/data"
	mg_hook 2 "$NO_SNAPSHOT"
	mg_hook 3 "echo 'step 3 wrote' >>\"\$VOLINIT_PATH/data\"
[ -e '$TD/fixed' ] || { echo 'column exists' >&2; exit 1; }"
	image "$TD/v3.ini" 3 "readers = 2"

	run --separate-stderr vi -c "$TD/v3.ini" -- "$PROBE" touch "$TD/v3-ran"
	echo "$stderr"
	[ "$status" -eq 82 ]
	[ ! -e "$TD/v3-ran" ]
	[ "$(grep -c FATAL <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == *"FATAL: volume \"data\" ($VOL): online migration step 2 -> 3 (3) exited with 1; the volume stays at 2"* ]]
	[ "$(mg_version)" = 2 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	# Nothing was put back: what the step wrote stays (its hook must be
	# safe to run again).
	[ "$(cat "$VOL/data")" = "before
step 3 wrote" ]
	[ "$(mg_events | grep -c '^restore')" -eq 0 ]

	touch "$TD/fixed"
	run vi -c "$TD/v3.ini" -- "$PROBE" touch "$TD/v3-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/v3-ran" ]
	[ "$(cat "$HLOG")" = "2 1 2
3 2 3
3 2 3" ]
	[ "$(mg_version)" = 3 ]
}

@test "an online migrator killed in a step: apps of its readers still start, and the next start of its image runs the step again" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_hook 3 "touch '$TD/in-step-3'
[ -e '$TD/go' ] || exec sleep 120"
	image "$TD/v3.ini" 3 "readers = 2"
	mg_bg "$TD/mig.out" "$VOLINIT" -c "$TD/v3.ini" -- "$PROBE" touch "$TD/v3-ran"
	local mpid=$MG_PID hook
	wait_for_file "$TD/in-step-3"
	hook=$(children_of "$mpid")
	kill -KILL "$mpid" "$hook"
	mg_wait_exit "$mpid"
	[ "$(mg_version)" = 2 ]
	jq -e '.readers == 2 and .snapshot == null and .to == 3' "$VOL/.volinit/dirty"

	# An image inside its readers starts on it, dirty as it is.
	image "$TD/v2.ini" 2
	run vi -c "$TD/v2.ini" -- "$PROBE" touch "$TD/v2-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/v2-ran" ]
	# The migrating image runs step 2 -> 3 again.
	touch "$TD/go"
	run vi -c "$TD/v3.ini" -- "$PROBE" touch "$TD/v3-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/v3-ran" ]
	[ "$(cat "$HLOG")" = "2 1 2
3 2 3
3 2 3" ]
	[ "$(mg_version)" = 3 ]
	[ ! -e "$VOL/.volinit/dirty" ]
}

@test "two new replicas race beside an old one: the hook runs once, all three run" {
	echo 1 >"$VOL/schema_version.txt"
	# The step waits until both new replicas have started: they overlap.
	mg_hook 2 "i=0
while [ \"\$(ls $TD/started.* 2>/dev/null | wc -l)\" -lt 2 ]; do
	i=\$((i + 1)); [ \$i -lt 1250 ] || exit 1; sleep 0.02
done"
	image "$TD/v1.ini" 1
	image "$TD/v2.ini" 2 "readers = 1" "lock_timeout = 25"
	run_old_app "$TD/v1.ini" v1
	# Each new app records the version it sees, then waits for the other.
	cat >"$TD/app.sh" <<APP
#!/bin/sh
cat "$VOL/schema_version.txt" >"$TD/app-saw.\$1"
i=0
while [ "\$(ls $TD/app-saw.* | wc -l)" -lt 2 ]; do
	i=\$((i + 1)); [ \$i -lt 1250 ] || exit 1; sleep 0.02
done
APP
	chmod +x "$TD/app.sh"
	local i pids=()
	for i in 1 2; do
		mg_bg "$TD/s.$i.out" sh -c 'touch "$1"; shift; exec "$@"' sh "$TD/started.$i" \
			"$VOLINIT" -c "$TD/v2.ini" -- "$TD/app.sh" "$i"
		pids+=("$MG_PID")
	done
	local failed=0
	for i in 1 2; do
		mg_wait_exit "${pids[i - 1]}" 45
		echo "new replica $i: exit $MG_RC"
		cat "$TD/s.$i.out"
		[ "$MG_RC" -eq 0 ] || failed=1
	done
	[ "$failed" -eq 0 ]
	[ "$(cat "$TD/app-saw.1")" = 2 ]
	[ "$(cat "$TD/app-saw.2")" = 2 ]
	[ "$(cat "$HLOG")" = "2 1 2" ]
	[ "$(mg_events | grep -c '^migrate_begin')" -eq 1 ]
	old_app_untouched
	stop_old_app
}

@test "a killed app's lock goes with it at once: the migration that waited for it runs" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	image "$TD/v1.ini" 1
	image "$TD/v2.ini" 2 "lock_timeout = 60"
	run_old_app "$TD/v1.ini" v1
	local app
	app=$(children_of "$OLD_PID")
	[ -n "$app" ]
	mg_bg "$TD/mig.out" "$VOLINIT" migrate -c "$TD/v2.ini"
	local mpid=$MG_PID
	wait_for_line "$TD/mig.out" "waiting for the exclusive lock .*held by: an app expecting 1: .*pid=$OLD_PID "
	kill -KILL "$OLD_PID"
	kill -KILL "$app" # orphaned: it never held the lock
	# Well within lock_timeout (60 s): nothing stale is left to wait for.
	mg_wait_exit "$mpid" 10
	cat "$TD/mig.out"
	[ "$MG_RC" -eq 0 ]
	[ "$(mg_version)" = 2 ]
}

@test "status and --dry-run say who holds what: the running app's version, online or offline, and who would block" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_hook 3
	image "$TD/v1.ini" 1
	run_old_app "$TD/v1.ini" v1

	image "$TD/v2.ini" 2 "readers = 1"
	run --separate-stderr vi migrate --dry-run -c "$TD/v2.ini"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 -> 2 in 1 step, online, without a snapshot"* ]]
	[[ "$output" == *"online (readers 1): apps expecting 1 or later run on beside it; held off now by: none"* ]]
	image "$TD/v3.ini" 3 "readers = 2"
	run --separate-stderr vi migrate --dry-run -c "$TD/v3.ini"
	echo "$output"
	[[ "$output" == *"held off now by: an app expecting 1: host="*"pid=$OLD_PID "* ]]
	image "$TD/v2off.ini" 2
	run --separate-stderr vi migrate --dry-run -c "$TD/v2off.ini"
	echo "$output"
	[[ "$output" == *"1 -> 2 in 1 step, with a snapshot"* ]]
	[[ "$output" == *"offline: every running app holds it off; held off now by: an app expecting 1: "*"pid=$OLD_PID "* ]]
	[ ! -s "$HLOG" ]

	run --separate-stderr vi status -c "$TD/v2.ini"
	echo "$output"
	[[ "$output" == *"locked:       shared, by an app expecting 1: host=$(uname -n) pid=$OLD_PID "*"expects=1 role=app image=registry.example/app:v1"* ]]
	run --separate-stderr vi status --json -c "$TD/v2.ini"
	jq -e '.volumes[0] | .lock == "shared" and .running == [1] and .readers == 1' <<<"$output"
	stop_old_app
}

@test "an init by an image with readers opens its window; a stamp closes it" {
	image "$TD/v2.ini" 2 "readers = 1"
	run vi -c "$TD/v2.ini" -- "$PROBE" touch "$TD/v2-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
	[ "$(cat "$VOL/.volinit/readers")" = "readers=1 versions=2-2" ]
	[ "$(stat -c '%a %u' "$VOL/.volinit/readers")" = "600 0" ]
	image "$TD/v1.ini" 1
	run vi check -c "$TD/v1.ini"
	[ "$status" -eq 0 ]

	run vi stamp -c "$TD/v2.ini" data 2
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$VOL/.volinit/readers" ]
	run vi check -c "$TD/v1.ini"
	[ "$status" -eq 81 ]
}

@test "a window opens nothing at a version it was not recorded for, nor when the app made it: 81" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	image "$TD/v2.ini" 2 "readers = 1"
	run vi migrate -c "$TD/v2.ini"
	[ "$status" -eq 0 ]
	image "$TD/v1.ini" 1
	run vi check -c "$TD/v1.ini"
	[ "$status" -eq 0 ]
	# Something that knows nothing of windows (volinit 0.1's migrate or
	# stamp, an operator) moves the data to 3: the record is for 1 to 2.
	echo 3 >"$VOL/schema_version.txt"
	run --separate-stderr vi -c "$TD/v1.ini" -- "$PROBE" touch "$TD/v1-ran"
	echo "$stderr"
	[ "$status" -eq 81 ]
	[ ! -e "$TD/v1-ran" ]
	[[ "$stderr" == *"schema_version=3, expected=1"* ]]
	[[ "$stderr" != *"readers="* ]]
	run --separate-stderr vi status -c "$TD/v1.ini"
	echo "$output"
	[[ "$output" == *"readers:      3 (only images expecting 3 start on it: .volinit/readers is recorded for versions 1 to 2)"* ]]

	# The app (which owns the volume) plants a window for 3 as its own:
	# a start takes .volinit/ back, but never that file, and opens nothing.
	printf 'readers=1 versions=3-3\n' >"$VOL/.volinit/readers"
	chown 65534:65534 "$VOL/.volinit/readers"
	run --separate-stderr vi -c "$TD/v1.ini" -- "$PROBE" touch "$TD/v1-ran"
	echo "$stderr"
	[ "$status" -eq 81 ]
	[ ! -e "$TD/v1-ran" ]
	[ "$(stat -c %u "$VOL/.volinit/readers")" = 65534 ]
	run vi check -c "$TD/v1.ini"
	[ "$status" -eq 81 ]
	# Forged as volinit's own, but not a record volinit writes: closed.
	chown 0:0 "$VOL/.volinit/readers"
	printf 'readers=1 versions=3-3 extra\n' >"$VOL/.volinit/readers"
	run vi check -c "$TD/v1.ini"
	[ "$status" -eq 81 ]
	# The same record, well formed and volinit's: the window is open.
	printf 'readers=1 versions=3-3\n' >"$VOL/.volinit/readers"
	run vi check -c "$TD/v1.ini"
	[ "$status" -eq 0 ]
}

@test "a start holds off an online migration until it is done looking: its verify runs on the version it decided on" {
	echo 1 >"$VOL/schema_version.txt"
	mkdir -p "$TD/volb" "$TD/bhooks"
	echo 0 >"$TD/volb/schema_version.txt"
	mg_hook 2
	cat >"$TD/verify.sh" <<VERIFY
#!/bin/sh
echo "verify \$VOLINIT_VOLUME \$VOLINIT_VERSION" >>"$TD/verify.log"
VERIFY
	chmod 0755 "$TD/verify.sh"
	cat >"$TD/bhooks/1" <<HOOK
#!/bin/sh
touch "$TD/b-in-step"
i=0
while [ ! -e "$TD/go" ]; do i=\$((i + 1)); [ \$i -lt 1500 ] || exit 1; sleep 0.02; done
HOOK
	chmod 0755 "$TD/bhooks/1"
	printf '[b]\npath = %s\nexpected = 1\non_older = migrate\nmigrations = %s\n' \
		"$TD/volb" "$TD/bhooks" >"$TD/bmig.ini"
	printf '[a]\npath = %s\nexpected = 1\nverify = %s\n[b]\npath = %s\nexpected = 1\nlock_timeout = 30\n' \
		"$VOL" "$TD/verify.sh" "$TD/volb" >"$TD/v1.ini"
	image "$TD/v2.ini" 2 "readers = 1" "lock_timeout = 30"
	sed -i 's/^\[data\]/[a]/' "$TD/v2.ini"

	# Volume b is being migrated; the start of image 1 looks at a, then
	# waits for b.
	mg_bg "$TD/bmig.out" "$VOLINIT" migrate -c "$TD/bmig.ini"
	local bpid=$MG_PID
	wait_for_file "$TD/b-in-step"
	mg_bg "$TD/v1.out" "$VOLINIT" -c "$TD/v1.ini" -- "$PROBE" touch "$TD/v1-ran"
	local v1=$MG_PID
	wait_for_line "$TD/v1.out" 'volume "b": waiting for the shared lock'
	# An online migration of a must wait for that start to be done.
	mg_bg "$TD/v2.out" "$VOLINIT" migrate -c "$TD/v2.ini"
	local v2=$MG_PID
	wait_for_line "$TD/v2.out" 'volume "a": waiting for the lock to migrate online \(readers 1\).*another volinit looking at the volume'
	[ "$(mg_version)" = 1 ]
	touch "$TD/go"
	mg_wait_exit "$bpid"
	[ "$MG_RC" -eq 0 ]
	mg_wait_exit "$v1"
	cat "$TD/v1.out"
	[ "$MG_RC" -eq 0 ]
	[ -e "$TD/v1-ran" ]
	[ "$(cat "$TD/verify.log")" = "verify a 1" ]
	mg_wait_exit "$v2"
	cat "$TD/v2.out"
	[ "$MG_RC" -eq 0 ]
	[ "$(mg_version)" = 2 ]
}

@test "an online migration whose verify hook fails: 82, the volume stays at the new version, the window closes, and starts refuse it (84)" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	printf '#!/bin/sh\necho "table t2 missing" >&2\nexit 1\n' >"$TD/verify.sh"
	chmod 0755 "$TD/verify.sh"
	image "$TD/v2.ini" 2 "readers = 1" "verify = $TD/verify.sh"
	run --separate-stderr vi -c "$TD/v2.ini" -- "$PROBE" touch "$TD/v2-ran"
	echo "$stderr"
	[ "$status" -eq 82 ]
	[ ! -e "$TD/v2-ran" ]
	[ "$(grep -c FATAL <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == *"FATAL: volume \"data\" ($VOL): online migration step 1 -> 2 (2) succeeded, but the verify hook failed: table t2 missing; the volume stays at 2"* ]]
	[[ "$stderr" == *"refuses it (84) until the data is fixed"* ]]
	[[ "$stderr" != *"runs step"* ]]
	[ "$(mg_version)" = 2 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/readers" ]
	run vi -c "$TD/v2.ini" -- "$PROBE" touch "$TD/v2-ran"
	[ "$status" -eq 84 ]
	[ "$(cat "$HLOG")" = "2 1 2" ]
	image "$TD/v1.ini" 1
	run vi check -c "$TD/v1.ini"
	[ "$status" -eq 81 ]
}

@test "the holders file of an app killed hard goes when holders are next named (not on a start: it reads no directory), and is never named as a holder" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	image "$TD/v1.ini" 1
	run_old_app "$TD/v1.ini" first
	local first=$OLD_PID child
	child=$(children_of "$first")
	kill -KILL "$first" "$child"
	mg_wait_exit "$first" || true
	ls "$VOL/.volinit/holders/" | grep -q -- "-$first\$"
	run_old_app "$TD/v1.ini" second
	ls "$VOL/.volinit/holders/"
	image "$TD/v2.ini" 2
	run --separate-stderr vi migrate --dry-run -c "$TD/v2.ini"
	echo "$output"
	[[ "$output" == *"held off now by: an app expecting 1: host=$(uname -n) pid=$OLD_PID "* ]]
	[[ "$output" != *"pid=$first "* ]]
	run --separate-stderr vi status -c "$TD/v2.ini"
	echo "$output"
	[[ "$output" == *"by an app expecting 1: host=$(uname -n) pid=$OLD_PID "* ]]
	[[ "$output" != *"pid=$first "* ]]
	stop_old_app
	# The next act (a migration) clears holders/.
	run --separate-stderr vi migrate -c "$TD/v2.ini"
	[ "$status" -eq 0 ]
	ls -A "$VOL/.volinit/holders/"
	[ -z "$(ls -A "$VOL/.volinit/holders/")" ]
}

@test "readers above expected is a bad config (78), naming the line" {
	image "$CONF" 2 "readers = 3"
	run --separate-stderr vi check -c "$CONF"
	echo "$stderr"
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"$CONF:6: [data] readers: 3 is above expected (2)"* ]]
	image "$CONF" 2 "readers = x"
	run vi check -c "$CONF"
	[ "$status" -eq 78 ]
	image "$CONF" 2 "readers = 2"
	run vi check -c "$CONF"
	[ "$status" -eq 0 ]
}
