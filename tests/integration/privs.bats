#!/usr/bin/env bats
# Least privilege (SPEC.md [volinit] user, capabilities, no_new_privs; exit
# 77): the running app's /proc/PID/status is read while it runs and compared
# with the config, field by field. Users and groups come from test files
# bind-mounted over /etc/passwd and /etc/group in a private mount namespace,
# so the host's /etc is never touched. Migration hooks are checked to run
# with the app's identity.
#
# Environment: VOLINIT (build/volinit), HELPERS (build/helpers), VI_TIMEOUT
# (seconds for each wait and each volinit run, default 30), as in helpers.bash.

# shellcheck disable=SC2016,SC2030,SC2031 # sh -c scripts use their own $1, $2; bats runs each test in a subshell
bats_require_minimum_version 1.5.0

# VOLINIT, HELPERS, PROBE, VI_TIMEOUT and wait_for_file, wait_for_line.
load helpers

# cap_net_bind_service is 10, cap_chown 0.
NET_BIND=0000000000000400
NET_BIND_CHOWN=0000000000000401
NONE=0000000000000000

setup() {
	if [ "$(id -u)" != 0 ]; then
		[ -n "${CI:-}" ] && { echo "privs.bats needs root (CI runs as root)" >&2; return 1; }
		skip "needs root (switching users, capabilities, mount namespaces)"
	fi
	[ -x "$VOLINIT" ] || { echo "VOLINIT=$VOLINIT is not executable (make build/volinit)" >&2; return 1; }
	[ -x "$PROBE" ] || { echo "$PROBE missing (make helpers)" >&2; return 1; }
	# The app runs as other users: a scratch directory they can write, on
	# a path they can reach (bats' own temporary directories are 0700).
	PT=$(mktemp -d /tmp/volinit-privs.XXXXXX)
	chmod 1777 "$PT"
	CONF=$PT/volinit.ini
	cat >"$PT/passwd" <<-'EOF'
	root:x:0:0:root:/root:/bin/sh
	pvuser:x:4101:4101:privs test user:/nonexistent:/bin/false
	pvlonely:x:4105:4105::/nonexistent:/bin/false
	EOF
	cat >"$PT/group" <<-'EOF'
	root:x:0:
	pvuser:x:4101:
	pvextra:x:4102:pvlonely,pvuser
	pvother:x:4103:pvuser
	pvnotmine:x:4104:pvlonely
	pvlonely:x:4105:
	EOF
	unset VOLINIT_CONFIG
	PV_PIDS=()
}

teardown() {
	local p
	for p in "${PV_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "${PV_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${PT:-}" ] && rm -rf "$PT"
}

# conf LINE...: a config whose [volinit] section holds LINEs.
conf() {
	{
		echo "[volinit]"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
}

# vi_users ARG...: the volinit under test, bounded, with the test's users:
# $PT/passwd and $PT/group bind-mounted over /etc/passwd and /etc/group in a
# private mount namespace.
vi_users() {
	timeout -k 5 "$VI_TIMEOUT" unshare --mount --propagation private -- \
		sh -c 'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group &&
			shift 2 && exec "$@"' sh "$PT/passwd" "$PT/group" "$VOLINIT" "$@"
}

# app_status: starts volinit -c $CONF running the probe, which writes its
# pid and waits for SIGTERM; copies the app's /proc/PID/status to
# $PT/status while it runs, then stops it through volinit and checks that
# both ended well.
app_status() {
	rm -f "$PT/pid" "$PT/signals" "$PT/status"
	vi_users -c "$CONF" -- "$PROBE" touch "$PT/pid" signals "$PT/signals" \
		>"$PT/out" 2>&1 3>&- &
	local vpid=$!
	PV_PIDS+=("$vpid")
	wait_for_file "$PT/pid" || { cat "$PT/out"; return 1; }
	local app
	app=$(tr -d '\n' <"$PT/pid")
	cp "/proc/$app/status" "$PT/status"
	# "ready" means its signals are blocked: TERM is then received, not fatal.
	wait_for_line "$PT/signals" '^ready$' || { cat "$PT/out"; return 1; }
	# The app's parent is volinit ($! is the shell around timeout).
	kill -TERM "$(field PPid)"
	local rc=0
	wait "$vpid" || rc=$?
	cat "$PT/out"
	[ "$rc" -eq 0 ] || { echo "volinit exited $rc" >&2; return 1; }
	grep -qx 15 "$PT/signals"
}

# field NAME [FILE]: the value of a /proc/PID/status line, tabs as spaces.
field() {
	sed -n "s/^$1:[[:space:]]*//p" "${2:-$PT/status}" | tr '\t' ' ' | sed 's/ *$//'
}

# The supplementary groups, sorted, space-separated.
groups_of() {
	field Groups | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ' |
		sed 's/ $//'
}

# expect_ids UID GID "GROUPS": real, effective, saved and fs ids and the
# exact supplementary groups.
expect_ids() {
	echo "Uid: $(field Uid) Gid: $(field Gid) Groups: $(groups_of)"
	[ "$(field Uid)" = "$1 $1 $1 $1" ]
	[ "$(field Gid)" = "$2 $2 $2 $2" ]
	[ "$(groups_of)" = "$3" ]
}

# expect_caps EFF PRM INH BND AMB
expect_caps() {
	local f
	for f in CapEff CapPrm CapInh CapBnd CapAmb; do echo "$f: $(field $f)"; done
	[ "$(field CapEff)" = "$1" ]
	[ "$(field CapPrm)" = "$2" ]
	[ "$(field CapInh)" = "$3" ]
	[ "$(field CapBnd)" = "$4" ]
	[ "$(field CapAmb)" = "$5" ]
}

@test "user = NAME: the user's uid, primary gid and exactly the groups that list it" {
	conf "user = pvuser"
	app_status
	expect_ids 4101 4101 "4101 4102 4103"
	expect_caps $NONE $NONE $NONE $NONE $NONE
	[ "$(field NoNewPrivs)" = 0 ]
}

@test "user = NAME:GROUP: that group as gid and the only group" {
	conf "user = pvuser:pvother"
	app_status
	expect_ids 4101 4103 "4103"
}

@test "user = NAME:GID and UID:NAME mix names and numbers" {
	conf "user = pvlonely:4999"
	app_status
	expect_ids 4105 4999 "4999"
	conf "user = 4101:pvnotmine"
	app_status
	expect_ids 4101 4104 "4104"
}

@test "user = UID:GID: numeric ids need no passwd entry" {
	conf "user = 4200:4300"
	app_status
	expect_ids 4200 4300 "4300"
	expect_caps $NONE $NONE $NONE $NONE $NONE
}

@test "user = UID alone: a known uid takes its passwd gid and groups, an unknown one its own number as gid" {
	conf "user = 4101"
	app_status
	expect_ids 4101 4101 "4101 4102 4103"
	conf "user = 4321"
	app_status
	expect_ids 4321 4321 "4321"
}

@test "user = UID:GID works with no /etc/passwd and no /etc/group at all" {
	conf "user = 4200:4300"
	# An empty /etc: no passwd, no group, nothing else either.
	mkdir "$PT/emptyetc"
	rm -f "$PT/pid"
	run -0 timeout -k 5 "$VI_TIMEOUT" unshare --mount --propagation private -- \
		sh -c 'mount --bind "$1" /etc && shift && exec "$@"' sh "$PT/emptyetc" \
		"$VOLINIT" -c "$CONF" -- "$PROBE" status "$PT/status"
	echo "$output"
	expect_ids 4200 4300 "4300"
	# A name, though, cannot be resolved there: 77.
	conf "user = pvuser"
	run -77 timeout -k 5 "$VI_TIMEOUT" unshare --mount --propagation private -- \
		sh -c 'mount --bind "$1" /etc && shift && exec "$@"' sh "$PT/emptyetc" \
		"$VOLINIT" -c "$CONF" -- "$PROBE" touch "$PT/marker"
	echo "$output"
	[[ "$output" == *"volinit: FATAL: user \"pvuser\": cannot read /etc/passwd"* ]]
	[ ! -e "$PT/marker" ]
}

@test "user sets HOME for PROGRAM and hooks, as gosu and su-exec do: the passwd entry's, / for an unknown UID; no user, HOME untouched" {
	sed -i 's|^pvuser:x:4101:4101:privs test user:/nonexistent:|pvuser:x:4101:4101:privs test user:/home/pvuser:|' "$PT/passwd"
	conf "user = pvuser"
	hook_setup
	printf '#!/bin/sh\necho "$HOME" >%s/hook.home\n' "$PT" >"$PT/hooks/0002-record"
	export HOME=/root
	run vi_users -c "$CONF" -- sh -c 'echo "$HOME" >"$1"' sh "$PT/app.home"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$PT/hook.home")" = /home/pvuser ]
	[ "$(cat "$PT/app.home")" = /home/pvuser ]
	conf "user = 4321"
	run -0 vi_users -c "$CONF" -- sh -c 'echo "$HOME" >"$1"' sh "$PT/unknown.home"
	[ "$(cat "$PT/unknown.home")" = / ]
	conf
	run -0 vi_users -c "$CONF" -- sh -c 'echo "$HOME" >"$1"' sh "$PT/root.home"
	[ "$(cat "$PT/root.home")" = /root ]
}

@test "user = UID takes any UID up to 4294967294, not only those below 2^31" {
	conf "user = 3000000000:3000000001"
	app_status
	expect_ids 3000000000 3000000001 "3000000001"
	conf "user = 4294967295"
	run vi_users -c "$CONF" -- "$PROBE" touch "$PT/marker"
	echo "$output"
	[ "$status" -eq 77 ]
	[ ! -e "$PT/marker" ]
}

@test "volinit's own supplementary groups are not passed on to the user" {
	conf "user = 4200:4300"
	app_status_with_groups() {
		rm -f "$PT/status"
		run -0 timeout -k 5 "$VI_TIMEOUT" setpriv --groups 4998,4999 -- \
			unshare --mount --propagation private -- \
			sh -c 'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group &&
				shift 2 && exec "$@"' sh "$PT/passwd" "$PT/group" \
			"$VOLINIT" -c "$CONF" -- "$PROBE" status "$PT/status"
	}
	app_status_with_groups
	expect_ids 4200 4300 "4300"
}

@test "capabilities with a non-root user: exactly those in effective, permitted, inheritable, ambient and bounding" {
	conf "user = 4200:4300" "capabilities = cap_net_bind_service"
	app_status
	expect_ids 4200 4300 "4300"
	expect_caps $NET_BIND $NET_BIND $NET_BIND $NET_BIND $NET_BIND
	conf "user = pvuser" "capabilities = cap_chown, cap_net_bind_service"
	app_status
	expect_ids 4101 4101 "4101 4102 4103"
	expect_caps $NET_BIND_CHOWN $NET_BIND_CHOWN $NET_BIND_CHOWN $NET_BIND_CHOWN $NET_BIND_CHOWN
}

@test "capabilities without user: root keeps only those, bounding set included" {
	conf "capabilities = cap_net_bind_service"
	app_status
	expect_ids 0 0 ""
	expect_caps $NET_BIND $NET_BIND $NET_BIND $NET_BIND $NET_BIND
}

@test "no capabilities key with a non-root user: none at all, bounding set included" {
	conf "user = 4200:4300"
	app_status
	expect_caps $NONE $NONE $NONE $NONE $NONE
}

@test "neither user nor capabilities: the app gets volinit's own identity and capabilities" {
	conf "grace = 0"
	app_status
	local mine
	mine=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
	expect_ids 0 0 "$(sed -n 's/^Groups:[[:space:]]*//p' /proc/self/status | tr ' ' '\n' |
		sed '/^$/d' | sort -n | tr '\n' ' ' | sed 's/ $//')"
	[ "$(field CapBnd)" = "$mine" ]
	[ "$(field CapEff)" = "$mine" ]
	[ "$(field NoNewPrivs)" = 0 ]
}

@test "user = root without capabilities: root as volinit is, nothing dropped" {
	conf "user = root"
	app_status
	expect_ids 0 0 "0"
	[ "$(field CapBnd)" = "$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)" ]
}

@test "no_new_privs = true sets NoNewPrivs, with or without a user" {
	conf "no_new_privs = true" "user = 4200:4300" "capabilities = cap_net_bind_service"
	app_status
	[ "$(field NoNewPrivs)" = 1 ]
	# Ambient capabilities survive exec under no_new_privs.
	expect_caps $NET_BIND $NET_BIND $NET_BIND $NET_BIND $NET_BIND
	conf "no_new_privs = yes"
	app_status
	[ "$(field NoNewPrivs)" = 1 ]
	expect_ids 0 0 ""
	conf "no_new_privs = false" "user = 4200"
	app_status
	[ "$(field NoNewPrivs)" = 0 ]
}

# A refusal: exit 77, exactly one FATAL line, the app never ran and the
# volume was not touched.
expect_refused_77() {
	echo "$output"
	[ "$status" -eq 77 ]
	[ "$(grep -c '^volinit: FATAL:' <<<"$output")" -eq 1 ]
	[ ! -e "$PT/marker" ]
	[ -z "$(ls -A "$PT/vol")" ]
}

@test "a user that does not exist: 77, one FATAL line, nothing runs, the volume is untouched" {
	mkdir "$PT/vol"
	conf "user = nosuchuser"
	printf '[data]\npath = %s\nexpected = 1\n' "$PT/vol" >>"$CONF"
	run vi_users -c "$CONF" -- "$PROBE" touch "$PT/marker"
	expect_refused_77
	[[ "$output" == *'volinit: FATAL: user "nosuchuser": no such user in /etc/passwd'* ]]
	# Subcommands that run hooks resolve the user as well.
	run vi_users migrate -c "$CONF"
	expect_refused_77
}

@test "a group that does not exist: 77, one FATAL line, nothing runs" {
	mkdir "$PT/vol"
	conf "user = pvuser:nosuchgroup"
	printf '[data]\npath = %s\nexpected = 1\n' "$PT/vol" >>"$CONF"
	run vi_users -c "$CONF" -- "$PROBE" touch "$PT/marker"
	expect_refused_77
	[[ "$output" == *'volinit: FATAL: group "nosuchgroup": no such group in /etc/group'* ]]
}

@test "an unknown capability name is a config error: 78, one FATAL line naming it, nothing runs" {
	mkdir "$PT/vol"
	conf "user = 4200" "capabilities = cap_net_bind_service, cap_fly"
	run vi_users -c "$CONF" -- "$PROBE" touch "$PT/marker"
	echo "$output"
	[ "$status" -eq 78 ]
	[ "$(grep -c '^volinit: FATAL:' <<<"$output")" -eq 1 ]
	[[ "$output" == *"volinit.ini:3: [volinit] capabilities: unknown capability \"cap_fly\""* ]]
	[ ! -e "$PT/marker" ]
}

@test "the switch itself failing (volinit without CAP_SETGID/CAP_SETUID): 77, nothing runs" {
	mkdir "$PT/vol"
	conf "user = 4200:4300"
	run timeout -k 5 "$VI_TIMEOUT" setpriv --bounding-set -setuid,-setgid -- \
		"$VOLINIT" -c "$CONF" -- "$PROBE" touch "$PT/marker"
	expect_refused_77
	[[ "$output" == *"volinit: FATAL: cannot set supplementary groups: Operation not permitted"* ]]
}

@test "dropping capabilities failing (volinit without CAP_SETPCAP): 77, nothing runs" {
	mkdir "$PT/vol"
	conf "capabilities = cap_net_bind_service"
	run timeout -k 5 "$VI_TIMEOUT" setpriv --bounding-set -setpcap -- \
		"$VOLINIT" -c "$CONF" -- "$PROBE" touch "$PT/marker"
	expect_refused_77
	[[ "$output" == *"volinit: FATAL: cannot drop a capability from the bounding set"* ]]
}

# volinit started as the user already, as runc does it for --user or
# Kubernetes' runAsUser: setpriv ARGS... volinit -c $CONF PROGRAM...
unprivileged() {
	local args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	timeout -k 5 "$VI_TIMEOUT" setpriv "${args[@]}" --inh-caps=-all -- \
		"$VOLINIT" -c "$CONF" -- "$@"
}

@test "an unprivileged volinit already running as the configured user (Kubernetes runAsUser) starts the app" {
	conf "user = 4200:4300"
	run -0 unprivileged --reuid 4200 --regid 4300 --groups 4300 -- "$PROBE" status "$PT/status"
	echo "$output"
	expect_ids 4200 4300 "4300"
	[ "$(field CapEff)" = $NONE ]
	# runc leaves the supplementary groups empty: the gid gives the same access.
	run -0 unprivileged --reuid 4200 --regid 4300 --clear-groups -- "$PROBE" status "$PT/status"
	echo "$output"
	expect_ids 4200 4300 ""
}

@test "an unprivileged volinit that is not exactly the configured user: 77, nothing runs" {
	conf "user = 4201:4300"
	run unprivileged --reuid 4200 --regid 4300 --groups 4300 -- "$PROBE" touch "$PT/marker"
	echo "$output"
	[ "$status" -eq 77 ]
	[ "$(grep -c '^volinit: FATAL:' <<<"$output")" -eq 1 ]
	[ ! -e "$PT/marker" ]
	# A supplementary group more than configured is not dropped silently.
	conf "user = 4200:4300"
	run unprivileged --reuid 4200 --regid 4300 --groups 4300,4301 -- "$PROBE" touch "$PT/marker"
	echo "$output"
	[ "$status" -eq 77 ]
	[ ! -e "$PT/marker" ]
}

# A volume at version 1 that a start (or volinit migrate) brings to 2 with
# a hook that records its own status, like the app does.
hook_setup() {
	mkdir -p "$PT/vol" "$PT/hooks"
	echo 1 >"$PT/vol/schema_version.txt"
	cat >"$PT/hooks/0002-record" <<-EOF
	#!/bin/sh
	exec "$PROBE" status "$PT/hook.status"
	EOF
	chmod 0755 "$PT/hooks/0002-record"
	printf '[data]\npath = %s\nexpected = 2\non_older = migrate\nmigrations = %s\n' \
		"$PT/vol" "$PT/hooks" >>"$CONF"
}

same_identity() {
	local f
	for f in Uid Gid Groups CapEff CapPrm CapInh CapBnd CapAmb NoNewPrivs; do
		echo "$f: hook $(field $f "$PT/hook.status") app $(field $f)"
		[ "$(field $f "$PT/hook.status")" = "$(field $f)" ]
	done
}

@test "migration hooks run with the same user, groups, capabilities and no_new_privs as the app" {
	conf "user = pvuser:pvother" "capabilities = cap_net_bind_service" "no_new_privs = true"
	hook_setup
	app_status
	[ "$(cat "$PT/vol/schema_version.txt")" = 2 ]
	# probe's status has no CapInh: compare the app's with the hook's
	# line by line on what both have.
	sed -i '/^CapInh:/d' "$PT/status"
	same_identity
	expect_ids 4101 4103 "4103"
	[ "$(field NoNewPrivs)" = 1 ]
}

@test "volinit migrate runs hooks with the configured identity too" {
	conf "user = 4200:4300"
	hook_setup
	run -0 vi_users migrate -c "$CONF"
	echo "$output"
	[ "$(cat "$PT/vol/schema_version.txt")" = 2 ]
	cp "$PT/hook.status" "$PT/status"
	expect_ids 4200 4300 "4300"
	expect_caps $NONE $NONE "" $NONE $NONE
}
