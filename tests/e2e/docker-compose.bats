#!/usr/bin/env bats
# volinit with docker-compose (Debian's 1.29) on a private dockerd, played as
# users play it: the S003 story with examples/s003-stale-volume's compose
# file (up --build with v1, a code change to v2, up --build again: refused;
# then with the hook: migrated; down -v), `restart: unless-stopped` with a
# refusal (the restart loop of on_refuse = exit against on_refuse = hold),
# examples/s003-stale-volume's one-shot migrate service
# (docker-compose.migrate.yml), its README's command lines run as written in
# a copy of the source tree (and the README's first Compose lines, with
# docker-compose.yml, the same way), and examples/stateful-service as a compose
# project with its inspector.

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
	# The migrate service's README steps are played as written, from the
	# example's place in a copy of the source tree (the working tree's
	# files that git knows, as a fresh clone has them): `make -C ../..
	# static` builds there, and the project is the directory's name.
	export MIG_TREE=$BATS_FILE_TMPDIR/tree
	export MIG=$MIG_TREE/examples/s003-stale-volume P_MIG=s003-stale-volume
	mkdir -p "$MIG_TREE"
	(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
		tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$MIG_TREE"
	"$PY" "$E2E_DIR/readme_check.py" --block "$MIG/README.md" "Compose's own order" >"$BATS_FILE_TMPDIR/mig-steps"
}

teardown_file() {
	# The migrate project's containers and volume, whatever step failed.
	if [ -f "$MIG/docker-compose.migrate.yml" ] && [ -n "${DOCKER_HOST:-}" ]; then
		(cd "$MIG" && timeout -k 5 120 "$COMPOSE" --ansi never -p "$P_MIG" \
			-f docker-compose.migrate.yml down -v >/dev/null 2>&1) || true
	fi
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

# play N EXPECTED: the Nth command line of the README's migrate-service
# block, which must contain EXPECTED (the README and this file agree on the
# steps), run as written (bash, bounded) in the example's directory of the
# tree copy, with none of the compose file's variables inherited; sets
# status and output as bats' run does. Records N as played.
play() { # N EXPECTED
	local line
	line=$(sed -n "${1}p" "$BATS_FILE_TMPDIR/mig-steps")
	assert_contains "$line" "$2" || return 1
	run_line "$line"
	echo "$1" >"$BATS_FILE_TMPDIR/mig-played"
}

# run_line LINE: one README command line, as written, in the example's
# directory of the tree copy (see play); sets status and output.
run_line() { # LINE
	echo "\$ $1"
	run env -u APP_VERSION -u MIGRATE -u COMPOSE_PROJECT_NAME -u COMPOSE_FILE \
		bash -c 'cd "$1" && exec timeout -k 5 240 bash -c "$2"' _ "$MIG" "$1" </dev/null
	echo "$output"
}

# Skips unless the README's steps before N were played.
played() { # N
	[ "$(cat "$BATS_FILE_TMPDIR/mig-played" 2>/dev/null)" = "$(($1 - 1))" ] || skip "needs the README's step $(($1 - 1))"
}

# A container's start or finish time in ns since the epoch (docker inspect).
inspect_ns() { # CONTAINER StartedAt|FinishedAt
	date -d "$("$DOCKER" inspect -f "{{.State.$2}}" "$1")" +%s%N
}

# The app replica CONTAINER started after the migrate container finished.
started_after_migrate() { # CONTAINER
	local f s
	f=$(inspect_ns "${P_MIG}_migrate_1" FinishedAt)
	s=$(inspect_ns "$1" StartedAt)
	[ "$s" -ge "$f" ] || { echo "$1 started at $s ns, before migrate finished ($f ns)" >&2; return 1; }
}

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

@test "migrate service 1/6: the README's steps as written: make -C ../.. static and cp make the build context" {
	cat "$BATS_FILE_TMPDIR/mig-steps"
	assert_eq "$(count_lines "$BATS_FILE_TMPDIR/mig-steps")" 7 "command lines in the README's block"
	play 1 "make -C ../.. static && cp ../../build/volinit-static volinit && cp /bin/busybox busybox"
	assert_eq "$status" 0 "make static and cp"
	[ -x "$MIG/volinit" ] && [ -x "$MIG/busybox" ]
}

@test "migrate service 2/6: up -d with v1: migrate initialises the volume and exits 0, then notes serves on schema 1" {
	local mp
	played 2
	play 2 "docker-compose -f docker-compose.migrate.yml up -d"
	assert_eq "$status" 0 "up -d"
	assert_eq "$(wait_exit "${P_MIG}_migrate_1")" 0 "migrate's exit code"
	assert_contains "$("$DOCKER" logs "${P_MIG}_migrate_1" 2>&1)" \
		'volinit: volume "data" (/data): initialized an empty volume; wrote schema_version.txt = 1'
	wait_log "${P_MIG}_notes_1" 'notes v1: starting as pid [0-9]+ under pid 1 \(volinit\), volume schema 1'
	wait_log "${P_MIG}_notes_1" 'notes v1: serving 2 sessions'
	started_after_migrate "${P_MIG}_notes_1"
	mp=$(vol_path "${P_MIG}_data")
	assert_eq "$(cat "$mp/schema_version.txt")" 1 "schema version"
}

@test "migrate service 3/6: down stops the old app (its lock would hold migrate off) and keeps the volume" {
	played 3
	play 3 "docker-compose -f docker-compose.migrate.yml down"
	assert_eq "$status" 0 "down"
	run "$DOCKER" ps -aq --filter "name=${P_MIG}_"
	assert_eq "$output" "" "containers left"
	"$DOCKER" volume inspect "${P_MIG}_data" >/dev/null
	tree_sig "$(vol_path "${P_MIG}_data")" >"$BATS_FILE_TMPDIR/mig-sig-v1"
}

@test "migrate service 4/6: v2 with a failing hook: up fails, docker-compose ps shows migrate Exit 82, the volume is restored, the app never starts" {
	local mp logs
	played 4
	mp=$(vol_path "${P_MIG}_data")
	play 4 "APP_VERSION=2 MIGRATE=broken docker-compose -f docker-compose.migrate.yml up -d --build"
	[ "$status" -ne 0 ]
	assert_contains "$output" "exited with code 82"
	assert_eq "$(wait_exit "${P_MIG}_migrate_1")" 82 "migrate's exit code"
	logs=$("$DOCKER" logs "${P_MIG}_migrate_1" 2>&1)
	echo "$logs"
	assert_contains "$logs" "hook: failing on purpose"
	assert_contains "$logs" "the volume was restored as it was before the migration"
	# What the user looks at: the one-shot service's code, and no app.
	play 5 "docker-compose -f docker-compose.migrate.yml ps"
	assert_eq "$status" 0 "ps"
	grep -Eq "^${P_MIG}_migrate_1 +/sbin/volinit migrate +Exit 82 *\$" <<<"$output"
	refute_contains "$output" "_notes_"
	run "$DOCKER" ps -aq --filter "name=${P_MIG}_notes_"
	assert_eq "$output" "" "notes containers"
	assert_eq "$(tree_sig "$mp")" "$(cat "$BATS_FILE_TMPDIR/mig-sig-v1")" "volume data after the failed migration"
	assert_eq "$(cat "$mp/schema_version.txt")" 1 "schema version"
}

@test "migrate service 5/6: v2 with its hook, up --scale notes=3 on the schema 1 volume: migrate runs once and exits 0, then three replicas serve on schema 2" {
	local mp i c logs
	played 6
	mp=$(vol_path "${P_MIG}_data")
	play 6 "APP_VERSION=2 docker-compose -f docker-compose.migrate.yml up -d --build --scale notes=3"
	assert_eq "$status" 0 "up -d --build --scale notes=3"
	assert_eq "$(wait_exit "${P_MIG}_migrate_1")" 0 "migrate's exit code"
	assert_eq "$("$DOCKER" inspect -f '{{.RestartCount}}' "${P_MIG}_migrate_1")" 0 "migrate's restarts"
	logs=$("$DOCKER" logs "${P_MIG}_migrate_1" 2>&1)
	echo "$logs"
	assert_contains "$logs" 'volinit: volume "data" (/data): migrating 1 -> 2 in 1 step'
	assert_contains "$logs" "hook: data (/data) 1 -> 2 in /data"
	assert_contains "$logs" 'volinit: volume "data" (/data): migrated to 2'
	for i in 1 2 3; do
		c=${P_MIG}_notes_$i
		wait_log "$c" 'notes v2: starting as pid [0-9]+ under pid 1 \(volinit\), volume schema 2'
		wait_log "$c" 'notes v2: serving 2 sessions'
		refute_contains "$("$DOCKER" logs "$c" 2>&1)" "migrating"
		started_after_migrate "$c"
	done
	assert_eq "$(count_lines "$mp/migrations.log")" 1 "hook runs"
	assert_eq "$(cat "$mp/schema_version.txt")" 2 "schema version"
	assert_eq "$(cat "$mp/sessions/s1")" "user=alice" "migrated session"
	run compose "$MIG" "$P_MIG" -f docker-compose.migrate.yml ps
	echo "$output"
	grep -Eq "^${P_MIG}_migrate_1 +/sbin/volinit migrate +Exit 0 *\$" <<<"$output"
	assert_eq "$(grep -Ec "^${P_MIG}_notes_[123] .* Up( |\$)" <<<"$output")" 3 "notes replicas up"
}

@test "migrate service 6/6: down -v removes the containers and the volume" {
	played 7
	play 7 "docker-compose -f docker-compose.migrate.yml down -v"
	assert_eq "$status" 0 "down -v"
	run "$DOCKER" volume inspect "${P_MIG}_data"
	[ "$status" -ne 0 ]
	run "$DOCKER" ps -aq --filter "name=${P_MIG}_"
	assert_eq "$output" "" "containers left"
}

@test "the S003 README's 'With Docker Compose' lines as written: v1 up, v2 without a hook exits 80, its logs, v2 with its hook serves, down -v" {
	local steps=() c=${P_MIG}_notes_1
	mapfile -t steps < <("$PY" "$E2E_DIR/readme_check.py" --block "$MIG/README.md" "With Docker Compose")
	printf '%s\n' "${steps[@]}"
	assert_eq "${#steps[@]}" 7 "command lines in the README's block"
	assert_contains "${steps[0]}" "make -C ../.. static"
	run_line "${steps[0]}"
	assert_eq "$status" 0 "make static"
	assert_contains "${steps[1]}" "cp ../../build/volinit-static volinit && cp /bin/busybox busybox"
	run_line "${steps[1]}"
	assert_eq "$status" 0 "cp"
	assert_contains "${steps[2]}" "docker-compose up --build -d"
	run_line "${steps[2]}"
	assert_eq "$status" 0 "v1 up --build -d"
	wait_log "$c" 'notes v1: serving 2 sessions'
	assert_contains "${steps[3]}" "APP_VERSION=2 MIGRATE=no docker-compose up --build"
	run_line "${steps[3]}"
	assert_contains "$output" "notes_1 exited with code 80"
	assert_eq "$(exit_code "$c")" 80 "exit code of v2 without a hook"
	assert_contains "${steps[4]}" "docker-compose logs notes"
	run_line "${steps[4]}"
	assert_eq "$status" 0 "logs notes"
	assert_contains "$output" "$FATAL_1_2"
	assert_contains "$output" "docker compose down -v"
	assert_contains "${steps[5]}" "APP_VERSION=2 docker-compose up --build -d"
	run_line "${steps[5]}"
	assert_eq "$status" 0 "v2 up --build -d"
	wait_log "$c" 'notes v2: serving 2 sessions'
	assert_eq "$(cat "$(vol_path "${P_MIG}_data")/schema_version.txt")" 2 "schema version"
	assert_contains "${steps[6]}" "docker-compose down -v"
	run_line "${steps[6]}"
	assert_eq "$status" 0 "down -v"
	run "$DOCKER" volume inspect "${P_MIG}_data"
	[ "$status" -ne 0 ]
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
