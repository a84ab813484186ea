#!/usr/bin/env bats
# examples/lost-tables in a container: Alembic and SQLite in a FROM-scratch
# image (images/lost-tables), volinit as PID 1 with the example's verify
# hook, on a named volume: a new volume, the schema 2 image migrating it,
# the tables dropped behind Alembic's back (84), the fix.

load helpers

LT=localhost/volinit-e2e/lost-tables

setup_file() {
	e2e_setup_file --no-images
	local ctx="$BATS_FILE_TMPDIR/lt-ctx"
	cp -a "$E2E_DIR/images/lost-tables" "$ctx"
	cp -a "$REPO/examples/lost-tables" "$ctx/lost-tables"
	"$ctx/collect-rootfs.sh" "$ctx/rootfs"
	volinit_stage_binaries "$ctx" "$VOLINIT_STATIC"
	e2e_build "$LT:1" "$ctx" --build-arg APP_SCHEMA=1
	e2e_build "$LT:2" "$ctx" --build-arg APP_SCHEMA=2
	export LTVOL
	LTVOL=$(new_volume lt)
}

teardown_file() {
	e2e_teardown_file
}

lt() { # IMAGE_SCHEMA [USER...]
	local v=$1
	shift
	run podman run --rm -v "$LTVOL:/data" "$LT:$v" "$@"
	echo "$output"
}

py() { run podman run --rm -v "$LTVOL:/data" -e APP_DB=/data/app.db --entrypoint /usr/bin/python3 "$LT:2" "$@"; echo "$output"; }

@test "lost-tables 1/3: a new volume: the schema 1 app creates its database with Alembic (on_missing = app); verify passes on the next start" {
	lt 1 alice
	assert_eq "$status" 0 "first start"
	assert_contains "$output" "on_missing = app"
	assert_contains "$output" "lost-tables app: users: 1"
	lt 1 bob
	assert_eq "$status" 0 "second start"
	assert_contains "$output" "verify: app.db holds users at 0001"
}

@test "lost-tables 2/3: the schema 2 image migrates the volume with Alembic, verifies it, and the app runs" {
	lt 2 carol
	assert_eq "$status" 0 "schema 2 start"
	assert_contains "$output" "migrating 1 -> 2"
	assert_contains "$output" "verify: app.db holds users, orders at 0002"
	assert_contains "$output" "lost-tables app: orders: 0, users: 3"
	assert_eq "$(cat "$(vol_path "$LTVOL")/schema_version.txt")" 2 "version file"
}

@test "lost-tables 3/3: tables dropped, alembic_version left at head: 84 before the app runs; stamp base and upgrade head fix it" {
	py -c "import sqlite3; c = sqlite3.connect('/data/app.db'); c.executescript('drop table orders; drop table users;')"
	assert_eq "$status" 0 "drop"
	py -m alembic -c /usr/lib/lost-tables/app/alembic.ini current
	assert_contains "$output" "0002 (head)"
	lt 2 dave
	assert_eq "$status" 84 "start on the lost tables"
	assert_contains "$output" 'volinit: FATAL: incompatible persistent state in volume "data" (/data): schema_version=2, expected=2: verify failed: table users is missing (alembic_version says 0002)'
	# A container has no CAP_SYS_ADMIN (unless privileged): the hook ran on
	# the volume as it is, and says so.
	assert_contains "$output" "it ran on the volume as it is, without CAP_SYS_ADMIN"
	refute_contains "$output" "lost-tables app"
	py -m alembic -c /usr/lib/lost-tables/app/alembic.ini stamp base
	assert_eq "$status" 0 "stamp base"
	py -m alembic -c /usr/lib/lost-tables/app/alembic.ini upgrade head
	assert_eq "$status" 0 "upgrade head"
	lt 2 erin
	assert_eq "$status" 0 "start after the fix"
	assert_contains "$output" "lost-tables app: orders: 0, users: 1"
}
