#!/usr/bin/env bats
# examples/lost-tables with the real tools (Debian's python3-alembic and
# SQLite), outside a container: the story of its README. A volume whose
# migration tracker says "head" over tables that are gone is refused with
# 84 before the app starts.

load migrate_helpers
bats_require_minimum_version 1.5.0

PY=/usr/bin/python3

setup() {
	mg_setup
	"$PY" -c 'import alembic, sqlalchemy' 2>/dev/null ||
		{ echo "needs python3-alembic and python3-sqlalchemy (make test-deps)" >&2; return 1; }
	# The image's files: root's, 0755 on the way (the trust rule).
	LIB=$(mktemp -d /tmp/volinit-lost-tables.XXXXXX)
	chmod 0755 "$LIB"
	cp -r "$BATS_TEST_DIRNAME/../../examples/lost-tables/." "$LIB/"
	chmod -R go-w "$LIB"
	sed -e "s|/usr/lib/lost-tables|$LIB|" -e "s|^path .*|path         = $VOL|" \
		"$LIB/volinit.ini" >"$TD/v2.ini"
	sed 's/^expected .*/expected     = 1/' "$TD/v2.ini" >"$TD/v1.ini"
	export APP_DATA=$VOL
}
teardown() {
	rm -rf "$LIB"
	mg_teardown
}

# app IMAGE_VERSION [USER...]: a start of that image's app under volinit.
app() {
	local v=$1
	shift
	APP_SCHEMA=$v run vi -c "$TD/v$v.ini" -- "$LIB/run" "$@"
	echo "$output"
}

sql() { "$PY" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' "$VOL/app.db" "$1"; }

alembic() { APP_DB=$VOL/app.db "$PY" -m alembic -c "$LIB/app/alembic.ini" "$@"; }

@test "lost-tables: a new volume (the app runs Alembic itself, on_missing = app), the v2 image migrates it with Alembic, verify passes" {
	app 1 alice
	[ "$status" -eq 0 ]
	[[ "$output" == *"lost-tables app: users: 1"* ]]
	[ "$(mg_version)" = 1 ]
	app 1 bob
	[ "$status" -eq 0 ]
	[[ "$output" == *"verify: app.db holds users at 0001"* ]]
	app 2 carol
	[ "$status" -eq 0 ]
	[[ "$output" == *"migrating 1 -> 2"* ]]
	[[ "$output" == *"verify: app.db holds users, orders at 0002"* ]]
	[[ "$output" == *"lost-tables app: orders: 0, users: 3"* ]]
	[ "$(mg_version)" = 2 ]
	[ "$(alembic current)" = "0002 (head)" ]
}

@test "lost-tables: tables dropped, alembic_version left at head: Alembic sees nothing to do, volinit refuses with 84 naming the table; the fix starts again" {
	app 1 alice
	app 2 bob
	[ "$status" -eq 0 ]
	sql 'drop table orders; drop table users;'
	# What fooled the app: its tracker still says head.
	[ "$(alembic current)" = "0002 (head)" ]
	local before
	before=$(mg_listing "$VOL")
	app 2 carol
	[ "$status" -eq 84 ]
	[[ "$output" == *"volinit: FATAL: incompatible persistent state in volume \"data\" ($VOL): schema_version=2, expected=2: verify failed: table users is missing (alembic_version says 0002)"* ]]
	[[ "$output" != *"lost-tables app"* ]]
	[ "$(mg_listing "$VOL")" = "$before" ]
	run --separate-stderr vi check -c "$TD/v2.ini" --json
	[ "$status" -eq 84 ]
	[ "$(jq -r '.volumes[0].verify' <<<"$output")" = failed ]
	# The fix of the README, when no backup holds the data: tell Alembic
	# the truth, and let it build the tables again.
	alembic stamp base
	alembic upgrade head
	app 2 carol
	[ "$status" -eq 0 ]
	[[ "$output" == *"lost-tables app: orders: 0, users: 1"* ]]
}
