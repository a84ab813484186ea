#!/usr/bin/env bats
# What volinit executes or takes as instructions is the image's, never the
# app's (SPEC.md "Migrations"): the config file, the migrations directory
# and every hook on the plan are owned by root or by volinit's user, and
# neither they nor a directory above them is writable by group or others (a
# sticky directory is fine above an entry owned by root); no migrations
# directory or hook lies inside a guarded volume. Anything else is 78, one
# FATAL line naming the file, before anything runs, and `migrate --dry-run`
# and `check` say the same. Also: one directory configured twice (78), and
# the refusal of data without version file at its baseline.

# shellcheck disable=SC2153,SC2154,SC2030,SC2031 # helpers.bash sets status, output, fatal; bats runs each test in a subshell
load helpers
bats_require_minimum_version 1.5.0

APP_UID=4321 # the app's user: owns the volume, may be an attacker

setup() {
	requires_root
	common_setup
	# Everything under a root-owned 0755 directory in the sticky /tmp, as
	# an image's files are (mktemp makes it 0700).
	chmod 0755 "$T"
	V=$T/vol
	HOOKS=$T/hooks
	CFG=$T/volinit.ini
	make_volume "$V" 1
	mkdir -p "$HOOKS"
}

teardown() { common_teardown; }

# hook NAME: an executable hook that leaves $T/hook-ran, in $HOOKS.
hook() {
	printf '#!/bin/sh\ntouch "%s/hook-ran"\n' "$T" >"${2:-$HOOKS}/$1"
	chmod 0755 "${2:-$HOOKS}/$1"
}

# conf [MIGRATIONS [LINE...]]: volume "data" on $V, 1 -> 2 with hooks.
conf() {
	local m=${1:-$HOOKS}
	shift || true
	{
		echo "[data]"
		echo "path = $V"
		echo "expected = 2"
		echo "on_older = migrate"
		echo "migrations = $m"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$CFG"
}

# A start that would run the hook, then PROGRAM.
start() { run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"; }

# nothing_ran: no hook, no PROGRAM, the volume still at 1.
nothing_ran() {
	[ ! -e "$T/hook-ran" ] || { echo "a hook ran" >&2; return 1; }
	[ ! -e "$T/ran" ] || { echo "PROGRAM ran" >&2; return 1; }
	[ "$(cat "$V/schema_version.txt")" = 1 ]
}

# refused_everywhere TEXT...: a start, `migrate --dry-run` and `check` each
# give 78 with one FATAL line holding every TEXT, the same line each time,
# and nothing ran.
refused_everywhere() {
	local first="" t
	for cmd in start "migrate --dry-run" check; do
		if [ "$cmd" = start ]; then
			start
		else
			# shellcheck disable=SC2086 # the subcommand and its option
			run_volinit $cmd -c "$CFG"
		fi
		assert_status 78
		assert_one_fatal
		assert_prefixed
		for t in "$@"; do assert_contains "$fatal" "$t"; done
		[ -n "$first" ] || first=$fatal
		if [ "$fatal" != "$first" ]; then
			echo "$cmd said otherwise: $fatal" >&2
			return 1
		fi
		nothing_ran
	done
}

@test "trust: a root-owned 0755 hook in a root-owned 0755 migrations directory under the sticky /tmp runs" {
	[ "$(stat -c %a /tmp)" = 1777 ] || skip "/tmp is not sticky here"
	hook 0002-ok
	conf
	start
	assert_status 0
	[ -e "$T/hook-ran" ]
	[ -e "$T/ran" ]
	[ "$(cat "$V/schema_version.txt")" = 2 ]
}

@test "trust: a config owned by the app's user is 78, naming it; nothing runs" {
	hook 0002
	conf
	chown "$APP_UID" "$CFG"
	refused_everywhere "config file $CFG: owned by uid $APP_UID, not root or volinit's user (uid 0)"
}

@test "trust: a config its group may write is 78" {
	hook 0002
	conf
	chmod 0664 "$CFG"
	refused_everywhere "config file $CFG: writable by its group (mode 0664)"
}

@test "trust: a config in a directory its group may write is 78, naming the directory" {
	hook 0002
	mkdir "$T/etc"
	chmod 0775 "$T/etc"
	conf
	mv "$CFG" "$T/etc/volinit.ini"
	CFG=$T/etc/volinit.ini
	refused_everywhere "config file $CFG: $T/etc (a directory on its path) is writable by its group (mode 0775)"
}

@test "trust: a config reached through a symlink is judged where it leads: into the app's directory, 78" {
	hook 0002
	conf
	# Kubernetes mounts ConfigMaps as symlinks: a link to a trusted file works.
	ln -s volinit.ini "$T/link.ini"
	run_volinit -c "$T/link.ini" -- "$PROBE" touch "$T/ran"
	assert_status 0
	rm -f "$T/ran" "$T/hook-ran"
	echo 1 >"$V/schema_version.txt"
	# A link to a file in a directory of the app's: the app could swap it.
	mkdir "$T/app"
	mv "$CFG" "$T/app/volinit.ini"
	chown "$APP_UID" "$T/app"
	ln -sfn app/volinit.ini "$T/link.ini"
	CFG=$T/link.ini
	refused_everywhere "config file $CFG: directory $T/app (on its path) is owned by uid $APP_UID"
}

@test "trust: a migrations directory owned by the app's user is 78, naming it; no hook runs" {
	hook 0002
	conf
	chown "$APP_UID" "$HOOKS"
	refused_everywhere "migrations $HOOKS: owned by uid $APP_UID, not root or volinit's user (uid 0)"
}

@test "trust: a migrations directory anyone may write is 78" {
	hook 0002
	conf
	chmod 0777 "$HOOKS"
	refused_everywhere "migrations $HOOKS: writable by group and others (mode 0777)"
	# Sticky changes nothing for the directory itself: anyone may add a hook.
	chmod 1777 "$HOOKS"
	refused_everywhere "migrations $HOOKS: writable by group and others (mode 1777)"
}

@test "trust: a hook owned by the app's user is 78, naming the hook" {
	hook 0002-add-column
	conf
	chown "$APP_UID" "$HOOKS/0002-add-column"
	refused_everywhere "hook $HOOKS/0002-add-column: owned by uid $APP_UID, not root or volinit's user (uid 0)"
}

@test "trust: a hook of mode 0777 is 78" {
	hook 0002
	chmod 0777 "$HOOKS/0002"
	conf
	refused_everywhere "hook $HOOKS/0002: writable by group and others (mode 0777)"
}

@test "trust: a hook in a directory whose parent its group may write is 78, naming that parent" {
	mkdir -p "$T/image/hooks"
	chmod 0775 "$T/image"
	hook 0002 "$T/image/hooks"
	conf "$T/image/hooks"
	refused_everywhere "migrations $T/image/hooks: $T/image (a directory on its path) is writable by its group (mode 0775)"
}

@test "trust: a migrations directory inside the guarded volume is 78, however it is spelled" {
	mkdir "$V/migrations"
	hook 0002 "$V/migrations"
	conf "$V/migrations"
	refused_everywhere "migrations $V/migrations: inside the volume \"data\" ($V)"
	# The volume's root itself, and a symlink leading into it.
	hook 0002 "$V"
	conf "$V"
	refused_everywhere "migrations $V: inside the volume \"data\" ($V)"
	ln -s vol/migrations "$T/hooks-link"
	conf "$T/hooks-link"
	refused_everywhere "migrations $T/hooks-link: inside the volume \"data\" ($V)"
}

@test "trust: a migrations directory inside another guarded volume is 78, naming that volume" {
	make_volume "$T/uploads" 3
	mkdir "$T/uploads/hooks"
	hook 0002 "$T/uploads/hooks"
	conf "$T/uploads/hooks"
	printf '[uploads]\npath = %s\nexpected = 3\n' "$T/uploads" >>"$CFG"
	refused_everywhere "migrations $T/uploads/hooks: inside the volume \"uploads\" ($T/uploads)"
}

@test "trust: a hook symlinked into the volume is 78" {
	printf '#!/bin/sh\ntouch "%s/hook-ran"\n' "$T" >"$V/evil"
	chmod 0755 "$V/evil"
	ln -s "$V/evil" "$HOOKS/0002"
	conf
	refused_everywhere "hook $HOOKS/0002: inside the volume \"data\" ($V)"
}

@test "trust: a hook symlinked to a root-owned program outside the volumes runs" {
	mkdir "$T/bin"
	hook real "$T/bin"
	ln -s ../bin/real "$HOOKS/0002"
	conf
	start
	assert_status 0
	[ -e "$T/hook-ran" ]
	[ "$(cat "$V/schema_version.txt")" = 2 ]
}

@test "trust: a hook symlinked to the app's program outside the volumes is 78, naming where it leads" {
	mkdir "$T/bin"
	hook real "$T/bin"
	chown "$APP_UID" "$T/bin/real"
	ln -s ../bin/real "$HOOKS/0002"
	conf
	refused_everywhere "hook $HOOKS/0002: $T/bin/real, where it leads, is owned by uid $APP_UID"
}

@test "trust: volinit running as another user trusts what that user owns" {
	# As Kubernetes' runAsUser: the image's files belong to that user.
	mkdir -p "$T/img/hooks"
	printf '#!/bin/sh\ntouch "%s/img/hook-ran"\n' "$T" >"$T/img/hooks/0002"
	chmod 0755 "$T/img/hooks/0002"
	conf "$T/img/hooks"
	mv "$CFG" "$T/img/volinit.ini"
	CFG=$T/img/volinit.ini
	chown -R 4200:4300 "$T/img" "$V"
	as_4200() {
		status=0
		timeout -k 5 "$VI_TIMEOUT" setpriv --reuid 4200 --regid 4300 --clear-groups \
			--inh-caps=-all -- "$VOLINIT" "$@" </dev/null >"$T/stdout" 2>"$T/stderr" || status=$?
		output=$(cat "$T/stderr")
		echo "status=$status"
		echo "$output"
	}
	as_4200 migrate -c "$CFG"
	assert_status 0
	[ -e "$T/img/hook-ran" ]
	[ "$(cat "$V/schema_version.txt")" = 2 ]
	# Another user's hook is refused as well when volinit is not root.
	echo 1 >"$V/schema_version.txt"
	rm "$T/img/hook-ran"
	chown 4201 "$T/img/hooks/0002"
	as_4200 migrate -c "$CFG"
	assert_status 78
	assert_contains "$output" "hook $T/img/hooks/0002: owned by uid 4201, not root or volinit's user (uid 4200)"
	[ ! -e "$T/img/hook-ran" ]
	[ "$(cat "$V/schema_version.txt")" = 1 ]
}

@test "guard: data without version file refused at its baseline says schema_version=BASELINE, not none" {
	rm "$V/schema_version.txt"
	echo data >"$V/table"
	printf '[data]\npath = %s\nexpected = 3\nbaseline = 1\n' "$V" >"$CFG"
	start
	assert_status 80
	assert_one_fatal
	assert_contains "$fatal" "schema_version=1, expected=3"
	assert_contains "$output" "baseline = 1 takes it to be at 1"
	# Not the hint for a volume without baseline: it has one.
	if [[ "$output" == *"say which version it is with baseline = N"* ]]; then
		echo "told to set the baseline it has" >&2
		return 1
	fi
	# No migrations configured: volinit migrate would refuse too, and is not named.
	assert_contains "$output" "ship hooks for each step in a migrations directory"
	[[ "$output" != *"volinit migrate"* ]]
	assert_contains "$output" "volinit stamp -c $CFG data 3"
}
