#!/usr/bin/env bats
# volinit with docker-compose (Debian's 1.29) on a private dockerd, played as
# users play it: the S003 story with examples/s003-stale-volume's compose
# file (up --build with v1, a code change to v2, up --build again: refused;
# then with the hook: migrated; down -v), `restart: unless-stopped` with a
# refusal (the restart loop of on_refuse = exit against on_refuse = hold),
# and examples/stateful-service as a compose project with its inspector.

load docker

setup_file() {
	docker_setup_file
	export S003=$BATS_FILE_TMPDIR/s003 SVC=$BATS_FILE_TMPDIR/stateful
	# The examples as a user has them: the directory, plus the two static
	# binaries their compose files say to copy in.
	cp -a "$REPO/examples/s003-stale-volume" "$S003"
	volinit_stage_binaries "$S003" "$VOLINIT_STATIC"
	cp -a "$REPO/examples/stateful-service" "$SVC"
	volinit_stage_binaries "$SVC" "$VOLINIT_STATIC"
	export P_S003="${E2E_PREFIX}s003"
}

teardown_file() {
	docker_teardown_file
}

FATAL_1_2='volinit: FATAL: incompatible persistent state in volume "data" (/data): schema_version=1, expected=2'

# compose DIR PROJECT [VAR=VALUE...] ARGS...: docker-compose in DIR with
# VARs in its environment (the compose file's ${VAR}s), bounded.
compose() {
	local dir=$1 p=$2 envs=()
	shift 2
	while [[ "$1" == *=* ]]; do
		envs+=("$1")
		shift
	done
	(cd "$dir" && env "${envs[@]}" timeout -k 5 180 "$COMPOSE" --ansi never -p "$p" "$@")
}

s003_vol() { echo "${P_S003}_data"; }

@test "compose story 1/4: up --build with v1 initialises the named volume and the app serves" {
	run compose "$S003" "$P_S003" APP_VERSION=1 up --build -d
	echo "$output"
	assert_eq "$status" 0 "up --build -d"
	wait_log "${P_S003}_notes_1" 'notes v1: serving 2 sessions'
	local mp
	mp=$(vol_path "$(s003_vol)")
	assert_eq "$(cat "$mp/schema_version.txt")" 1 "schema version"
	grep -qx 's1 alice' "$mp/sessions.txt"
	tree_sig "$mp" >"$BATS_FILE_TMPDIR/sig-v1"
}

@test "compose story 2/4: the code changes to v2 (no hook), up --build: exit 80, the FATAL line in docker-compose logs, the volume untouched" {
	local mp logs
	[ -s "$BATS_FILE_TMPDIR/sig-v1" ] || skip "needs story 1"
	mp=$(vol_path "$(s003_vol)")
	# Attached, as `docker-compose up --build` is mostly run: it ends when
	# the only container does.
	run compose "$S003" "$P_S003" APP_VERSION=2 MIGRATE=no up --build
	echo "$output"
	assert_contains "$output" "$FATAL_1_2"
	grep -Eq 'notes_1 exited with code 80' <<<"$output"
	assert_eq "$(exit_code "${P_S003}_notes_1")" 80 "exit code in docker inspect"
	logs=$(compose "$S003" "$P_S003" APP_VERSION=2 logs --no-color notes 2>&1)
	echo "$logs"
	assert_contains "$logs" "$FATAL_1_2"
	assert_contains "$logs" "volinit: hint: the data on the volume was not changed"
	assert_contains "$logs" "docker compose down -v"
	refute_contains "$logs" "notes v2:"
	assert_eq "$(tree_sig "$mp")" "$(cat "$BATS_FILE_TMPDIR/sig-v1")" "volume data after the refusal"
	assert_eq "$(cat "$mp/schema_version.txt")" 1 "schema version"
	# An operator's look, through the same compose service: nothing changes.
	run compose "$S003" "$P_S003" APP_VERSION=2 MIGRATE=no run --rm -T --entrypoint /sbin/volinit notes status
	echo "$output"
	assert_eq "$status" 0 "volinit status"
	assert_contains "$output" "refuse (exit 80)"
}

@test "compose story 3/4: v2 with its hook, up --build: the volume is migrated once and the app serves" {
	local mp logs
	[ -s "$BATS_FILE_TMPDIR/sig-v1" ] || skip "needs story 1"
	mp=$(vol_path "$(s003_vol)")
	run compose "$S003" "$P_S003" APP_VERSION=2 up --build -d
	echo "$output"
	assert_eq "$status" 0 "up --build -d"
	wait_log "${P_S003}_notes_1" 'notes v2: serving 2 sessions'
	logs=$(compose "$S003" "$P_S003" APP_VERSION=2 logs --no-color notes 2>&1)
	echo "$logs"
	assert_contains "$logs" "hook: data (/data) 1 -> 2 in /data"
	assert_eq "$(cat "$mp/schema_version.txt")" 2 "schema version"
	assert_eq "$(cat "$mp/sessions/s1")" "user=alice" "migrated session"
	assert_eq "$(count_lines "$mp/migrations.log")" 1 "hook runs"
	# docker-compose stop: SIGTERM through volinit, the app's clean exit.
	run compose "$S003" "$P_S003" APP_VERSION=2 stop
	assert_eq "$(exit_code "${P_S003}_notes_1")" 0 "exit code after docker-compose stop"
	assert_contains "$("$DOCKER" logs "${P_S003}_notes_1" 2>&1)" "notes v2: SIGTERM received"
}

@test "compose story 4/4: down -v, as the hint says, removes the container and the volume" {
	[ -s "$BATS_FILE_TMPDIR/sig-v1" ] || skip "needs story 1"
	"$DOCKER" volume inspect "$(s003_vol)" >/dev/null
	run compose "$S003" "$P_S003" APP_VERSION=2 down -v
	echo "$output"
	assert_eq "$status" 0 "down -v"
	run "$DOCKER" volume inspect "$(s003_vol)"
	[ "$status" -ne 0 ]
	run "$DOCKER" ps -aq --filter "name=${P_S003}_"
	assert_eq "$output" "" "containers left"
}

@test "restart: unless-stopped with a refusal: on_refuse = exit loops (80 each time), on_refuse = hold stays up for docker exec" {
	local vol mp sig p dir loop held logs
	vol=$(new_volume restart)
	seed_v1 "$vol"
	mp=$(vol_path "$vol")
	sig=$(tree_sig "$mp")
	p="${E2E_PREFIX}rs"
	dir=$E2E_DIR/compose/restart
	loop=${p}_loop_1
	held=${p}_held_1
	run compose "$dir" "$p" IMG_V2="$IMG_V2" VOL="$vol" up --build -d
	echo "$output"
	assert_eq "$status" 0 "up --build -d"

	# on_refuse = exit: Docker restarts it, it refuses again, and again.
	wait_inspect_ge "$loop" '{{.RestartCount}}' 2 60
	logs=$("$DOCKER" logs "$loop" 2>&1)
	echo "$logs"
	[ "$(grep -c "^$FATAL_1_2\$" <<<"$logs")" -ge 2 ]
	# Between two runs (state restarting) the last exit code shows; while
	# a run is up Docker shows 0, so both are read in one inspect.
	assert_eq "$(stopped_exit_code "$loop")" 80 "the loop's last exit code"
	# Each start journalled its refusal on the volume.
	[ "$(grep -c '"event":"refuse"' "$mp/.volinit/journal.jsonl")" -ge 2 ]

	# on_refuse = hold: one container, up, never restarted, ready for exec.
	wait_log "$held" 'holding \(on_refuse = hold\)'
	assert_eq "$("$DOCKER" inspect -f '{{.State.Running}}' "$held")" true "held is running"
	assert_eq "$("$DOCKER" inspect -f '{{.RestartCount}}' "$held")" 0 "held's restarts"
	run "$DOCKER" exec "$held" /sbin/volinit status
	echo "$output"
	assert_eq "$status" 0 "docker exec ... volinit status"
	assert_contains "$output" "expected:     2"
	assert_contains "$output" "refuse (exit 80)"

	# Stopped, the held one exits with the refusal's code and stays down.
	run compose "$dir" "$p" IMG_V2="$IMG_V2" VOL="$vol" stop -t 20
	assert_eq "$(exit_code "$held")" 80 "held's exit code after stop"
	assert_eq "$("$DOCKER" inspect -f '{{.State.Status}}' "$held")" exited "held's state"
	assert_eq "$(tree_sig "$mp")" "$sig" "volume data after all the refusals"
	run compose "$dir" "$p" IMG_V2="$IMG_V2" VOL="$vol" down
}

@test "stateful-service as a compose project: the inspector service reads the volume read-only with status --json while sessiond serves" {
	local p sessiond inspector mp sig out
	p="${E2E_PREFIX}svc"
	sessiond=${p}_sessiond_1
	inspector=${p}_inspector_1
	run compose "$SVC" "$p" up --build -d
	echo "$output"
	assert_eq "$status" 0 "up --build -d"
	wait_log "$sessiond" 'sessiond: serving'
	run compose "$SVC" "$p" exec -T sessiond sessiond login alice
	echo "$output"
	assert_eq "$status" 0 "exec sessiond login alice"
	# The inspector that up started has reported once and exited 0.
	assert_eq "$(wait_exit "$inspector")" 0 "the inspector's exit code"
	assert_eq "$("$DOCKER" inspect -f '{{range .Mounts}}{{.Destination}} rw={{.RW}}{{end}}' "$inspector")" "/srv/state rw=false" "the inspector's mount"
	mp=$(vol_path "${p}_state")
	sig=$(tree_sig "$mp" all)
	out=$(compose "$SVC" "$p" run --rm -T inspector 2>"$BATS_TEST_TMPDIR/err")
	echo "$out"
	cat "$BATS_TEST_TMPDIR/err"
	"$PY" -c '
import json, sys
doc = json.loads(sys.argv[1])
v = doc["volumes"][0]
assert v["name"] == "state" and v["path"] == "/srv/state", v
assert v["version"] == 1 and v["expected"] == 1 and v["state"] == "current", v
assert v["lock"] is not None, v  # sessiond holds it, shared, while it runs
' "$out"
	assert_eq "$(tree_sig "$mp" all)" "$sig" "the volume after the inspector ran"
	run compose "$SVC" "$p" stop
	assert_eq "$(exit_code "$sessiond")" 0 "sessiond's exit code after stop"
	assert_contains "$("$DOCKER" logs "$sessiond" 2>&1)" "sessiond: SIGTERM: clean stop"
	run compose "$SVC" "$p" down -v
	assert_eq "$status" 0 "down -v"
}
