#!/usr/bin/env bats
# examples/postgres-major-version, for real: Debian's PostgreSQL 15 server in a
# FROM-scratch image (images/postgres), volinit guarding PG_VERSION of a
# named volume. What an operator sees from volinit when a "16" image meets the
# 15 volume, next to what PostgreSQL itself prints for a major mismatch.

load helpers

PG=localhost/volinit-e2e/postgres
MNT=/var/lib/postgresql/data

setup_file() {
	e2e_setup_file --no-images
	local ctx="$BATS_FILE_TMPDIR/pg-ctx"
	cp -a "$E2E_DIR/images/postgres" "$ctx"
	# The example's own volinit.ini and first-start script.
	cp "$REPO/examples/postgres-major-version/volinit.ini" "$REPO/examples/postgres-major-version/pg-start" "$ctx/"
	"$ctx/collect-rootfs.sh" "$ctx/rootfs"
	volinit_stage_binaries "$ctx" "$VOLINIT_STATIC"
	e2e_build "$PG:15" "$ctx"
	e2e_build "$PG:16" "$ctx" --build-arg PG_MAJOR=16
	export PGVOL
	PGVOL=$(new_volume pgdata)
}

teardown_file() {
	e2e_teardown_file
}

pg_ready() { wait_log "$1" 'database system is ready to accept connections' "${2:-60}"; }

@test "postgres 1/5: a new volume: volinit leaves PG_VERSION to PostgreSQL (on_missing = app): initdb, then PostgreSQL 15 runs under volinit as postgres" {
	local c mp
	c=$(name pg15)
	podman run -d --name "$c" -v "$PGVOL:$MNT" "$PG:15" >/dev/null
	pg_ready "$c"
	podman logs "$c"
	assert_contains "$(podman logs "$c" 2>&1)" "volinit: volume \"pgdata\" ($MNT): empty, and on_missing = app: the program writes pgdata/PG_VERSION"
	mp=$(vol_path "$PGVOL")/pgdata
	assert_eq "$(cat "$mp/PG_VERSION")" 15 "PG_VERSION"
	# From now on volinit guards it: status reads what initdb wrote.
	run podman exec "$c" volinit status
	echo "$output"
	assert_contains "$output" "pgdata/PG_VERSION = 15"
	# volinit is PID 1 and root; the server runs as postgres (user = postgres).
	run podman exec "$c" ps -o pid,user,comm
	echo "$output"
	grep -Eq '^ *1 +root +volinit' <<<"$output"
	grep -Eq '^ *[0-9]+ +postgres +postgres' <<<"$output"
	run podman exec "$c" psql -U postgres -Atc "create table notes(n int); insert into notes values (15); select sum(n) from notes"
	echo "$output"
	assert_eq "$status" 0 "psql"
	assert_contains "$output" "15"
}

@test "postgres 2/5: podman stop: the server gets SIGTERM through volinit (smart shutdown) and the container exits 0" {
	local c t0 t1
	c=$(name pg15)
	t0=$(ms_now)
	podman stop -t 30 "$c" >/dev/null
	t1=$(ms_now)
	podman logs --tail 6 "$c"
	echo "stopped in $((t1 - t0)) ms (timeout 30 s)"
	assert_eq "$(exit_code "$c")" 0 "exit code"
	assert_contains "$(podman logs "$c" 2>&1)" "received smart shutdown request"
	assert_contains "$(podman logs "$c" 2>&1)" "database system is shut down"
	[ $((t1 - t0)) -lt 10000 ]
}

@test "postgres 3/5: the 16 image meets the 15 volume: volinit refuses with exit 80 before the server starts" {
	local c logs
	c=$(name pg16)
	run podman run --name "$c" -v "$PGVOL:$MNT" "$PG:16"
	logs=$(podman logs "$c" 2>&1)
	echo "$logs"
	assert_eq "$status" 80 "exit code"
	assert_contains "$logs" "volinit: FATAL: incompatible persistent state in volume \"pgdata\" ($MNT): schema_version=15, expected=16"
	refute_contains "$logs" "PostgreSQL"
	assert_eq "$(cat "$(vol_path "$PGVOL")/pgdata/PG_VERSION")" 15 "PG_VERSION"
	# Offline, from the 16 image, without starting anything.
	run podman run --rm -v "$PGVOL:$MNT" --entrypoint /sbin/volinit "$PG:16" status
	echo "$output"
	assert_eq "$status" 0 "status"
	assert_contains "$output" "pgdata/PG_VERSION = 15"
}

@test "postgres 4/5: what PostgreSQL itself prints for a major mismatch (a copy of the volume whose PG_VERSION says 14)" {
	local vol src dst c
	vol=$(new_volume pg-other-major)
	src=$(vol_path "$PGVOL")/pgdata
	dst=$(vol_path "$vol")
	cp -a "$src" "$dst/"
	echo 14 >"$dst/pgdata/PG_VERSION"
	c=$(name pg-self)
	# No volinit: the server's own check, as the plain image would run it.
	run podman run --name "$c" --user postgres --entrypoint postgres -v "$vol:$MNT" "$PG:15" -c listen_addresses=
	echo "$output"
	assert_eq "$status" 1 "postgres exit code"
	assert_contains "$output" "FATAL:  database files are incompatible with server"
	assert_contains "$output" "DETAIL:  The data directory was initialized by PostgreSQL version 14, which is not compatible with this version 15."
}

@test "postgres 5/5: pg_basebackup can copy a data directory that volinit guards" {
	local c mp
	# volinit's state is root's, mode 0700, beside PGDATA and not in it.
	mp=$(vol_path "$PGVOL")
	assert_eq "$(stat -c '%U %a' "$mp/.volinit")" "root 700" ".volinit/"
	[ ! -e "$mp/pgdata/.volinit" ]
	c=$(name pg15)
	podman start "$c" >/dev/null
	pg_ready "$c" 60
	run podman exec "$c" su postgres -s /bin/sh -c 'pg_basebackup -D /tmp/backup -U postgres && cat /tmp/backup/PG_VERSION'
	echo "$output"
	podman stop -t 30 "$c" >/dev/null
	assert_eq "$status" 0 "pg_basebackup"
}
