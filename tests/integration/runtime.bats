#!/usr/bin/env bats
# Faults of the running phases, found without an attacker (issue 12): what
# a hook leaves behind, an app on a read-only replica, signals that arrive
# while volinit waits for a lock, starters that collide, require_mount,
# invalid UTF-8 in JSON logs, and what a start that failed half-way says.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() { mg_setup; }
teardown() {
	# Leftovers of a hook (the old code leaves them): ours by their pid
	# files. Pids from inside a PID namespace mean nothing here; those
	# died with the namespace's init.
	local f
	[ -n "${IN_PIDNS:-}" ] || for f in "$TD"/lingerer.*; do
		[ -e "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	mg_teardown
}

# other_conf FILE EXPECTED [LINE...]: a config for volume "data" on $VOL.
other_conf() {
	local file=$1 expected=$2 l
	shift 2
	{
		printf '[data]\npath = %s\nexpected = %s\non_older = migrate\nmigrations = %s\n' \
			"$VOL" "$expected" "$HOOKS"
		for l in "$@"; do echo "$l"; done
	} >"$file"
}

# $TD/linger.sh NAME: records its pid in $TD/lingerer.NAME, then stays.
make_lingerer() {
	cat >"$TD/linger.sh" <<EOF
#!/bin/sh
echo \$\$ >"$TD/lingerer.\$1.tmp" && mv "$TD/lingerer.\$1.tmp" "$TD/lingerer.\$1"
exec sleep 1000 </dev/null >/dev/null 2>&1 3>&-
EOF
	chmod +x "$TD/linger.sh"
}

# Whether a lingerer still runs: its pid is alive and still sleeping.
lingerer_alive() {
	local pid
	pid=$(cat "$TD/lingerer.$1") || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sleep ]
}

# lingerer_gone NAME: fails when the lingerer still runs.
lingerer_gone() {
	if lingerer_alive "$1"; then
		echo "lingerer $1 (pid $(cat "$TD/lingerer.$1")) still runs" >&2
		return 1
	fi
}

# A hook body that starts a lingerer in its process group and a daemon in
# a session of its own (double fork: re-parented to the reaper), waits
# until both run, and exits 0.
leave_behind() {
	echo "\"$TD/linger.sh\" group </dev/null >/dev/null 2>&1 3>&- &
setsid -f sh -c '\"\$1\" daemon & exit 0' sh \"$TD/linger.sh\" </dev/null >/dev/null 2>&1 3>&-
i=0
while [ ! -e \"$TD/lingerer.group\" ] || [ ! -e \"$TD/lingerer.daemon\" ]; do
	i=\$((i + 1)); [ \$i -lt 1500 ] || exit 9
	sleep 0.02
done"
}

# A script body that records which lingerers it still sees in $TD/seen.
see_leftovers() {
	echo "for n in group daemon; do
	pid=\$(cat \"$TD/lingerer.\$n\")
	if [ \"\$(cat /proc/\$pid/comm 2>/dev/null)\" = sleep ]; then echo \"\$n alive\"; else echo \"\$n gone\"; fi
done >\"$TD/seen\""
}

@test "processes a hook leaves behind (its group, a setsid'd daemon) are killed before the next step: migrate" {
	make_lingerer
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 "$(leave_behind)"
	mg_hook 3 "$(see_leftovers)"
	mg_conf 3
	run vi migrate -c "$CONF"
	echo "$output"
	cat "$TD/seen" || true
	[ "$status" -eq 0 ]
	[ "$(cat "$TD/seen")" = "group gone
daemon gone" ]
	lingerer_gone group
	lingerer_gone daemon
	[[ "$output" == *"left processes behind: killed them"* ]]
	[ "$(mg_version)" = 3 ]
}

@test "processes a hook leaves behind are killed before the next step and before PROGRAM: a start" {
	make_lingerer
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 "$(leave_behind)"
	mg_hook 3
	mg_conf 3
	# PROGRAM looks for them.
	printf '#!/bin/sh\n%s\n' "$(see_leftovers)" >"$TD/app.sh"
	chmod +x "$TD/app.sh"
	run vi -c "$CONF" -- "$TD/app.sh"
	echo "$output"
	cat "$TD/seen" || true
	[ "$status" -eq 0 ]
	[ "$(cat "$TD/seen")" = "group gone
daemon gone" ]
	lingerer_gone group
	lingerer_gone daemon
}

@test "as PID 1: a hook's leftovers are killed before the next step and before PROGRAM" {
	IN_PIDNS=1
	make_lingerer
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 "$(leave_behind)"
	mg_hook 3
	mg_conf 3
	printf '#!/bin/sh\n%s\n' "$(see_leftovers)" >"$TD/app.sh"
	chmod +x "$TD/app.sh"
	run timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc "$VOLINIT" -c "$CONF" -- "$TD/app.sh"
	echo "$output"
	cat "$TD/seen" || true
	[ "$status" -eq 0 ]
	[ "$(cat "$TD/seen")" = "group gone
daemon gone" ]
	[[ "$output" == *"left processes behind: killed them"* ]]
}

# $TD/inherit.sh CMD...: runs CMD (volinit) through a shell that first
# starts what volinit inherits, as `sh -c 'logger & exec volinit ...'`
# does: a lingerer "inherited" (volinit's child once the shell has
# exec'd), and a subshell, its child too, whose own child is the lingerer
# "inherited-tree"; the shell waits until both run, then execs CMD.
make_inheriting_shell() {
	cat >"$TD/inherit.sh" <<EOF
#!/bin/sh
"$TD/linger.sh" inherited </dev/null >/dev/null 2>&1 3>&- &
( "$TD/linger.sh" inherited-tree & wait ) </dev/null >/dev/null 2>&1 3>&- &
i=0
while [ ! -e "$TD/lingerer.inherited" ] || [ ! -e "$TD/lingerer.inherited-tree" ]; do
	i=\$((i + 1)); [ \$i -lt 1500 ] || exit 9
	sleep 0.02
done
exec "\$@"
EOF
	chmod +x "$TD/inherit.sh"
}

# A script body that records in $TD/seen which of the hook's leftovers and
# of the inherited processes it still sees.
see_all() {
	echo "for n in group daemon inherited inherited-tree; do
	pid=\$(cat \"$TD/lingerer.\$n\")
	if [ \"\$(cat /proc/\$pid/comm 2>/dev/null)\" = sleep ]; then echo \"\$n alive\"; else echo \"\$n gone\"; fi
done >\"$TD/seen\""
}

# The sweep after a hook killed every descendant of volinit, also the
# processes it inherited from the shell that exec'd it.
@test "processes volinit inherited before it was exec'd (and their children) survive the sweep after a hook; the hook's leftovers do not: migrate" {
	make_lingerer
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 "$(leave_behind)"
	mg_hook 3 "$(see_all)"
	mg_conf 3
	make_inheriting_shell
	run timeout -k 5 "$VI_TIMEOUT" "$TD/inherit.sh" "$VOLINIT" migrate -c "$CONF"
	echo "$output"
	cat "$TD/seen" || true
	[ "$status" -eq 0 ]
	[ "$(cat "$TD/seen")" = "group gone
daemon gone
inherited alive
inherited-tree alive" ]
	lingerer_gone group
	lingerer_gone daemon
	lingerer_alive inherited
	lingerer_alive inherited-tree
	[[ "$output" == *"left processes behind: killed them"* ]]
	[ "$(mg_version)" = 3 ]
}

@test "as PID 1: processes volinit inherited survive the sweep after a hook and a verify hook, the hook's leftovers do not, before PROGRAM" {
	IN_PIDNS=1
	make_lingerer
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 "$(leave_behind)"
	printf '#!/bin/sh\nexit 0\n' >"$TD/verify"
	chmod 0755 "$TD/verify"
	mg_conf 2 "verify = $TD/verify"
	printf '#!/bin/sh\n%s\n' "$(see_all)" >"$TD/app.sh"
	chmod +x "$TD/app.sh"
	make_inheriting_shell
	run timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc \
		"$TD/inherit.sh" "$VOLINIT" -c "$CONF" -- "$TD/app.sh"
	echo "$output"
	cat "$TD/seen" || true
	[ "$status" -eq 0 ]
	[ "$(cat "$TD/seen")" = "group gone
daemon gone
inherited alive
inherited-tree alive" ]
	[[ "$output" == *"left processes behind: killed them"* ]]
}

@test "a failing hook's leftovers that write to the volume are killed before the restore: the volume is as before" {
	echo 1 >"$VOL/schema_version.txt"
	mg_rich_tree "$VOL"
	local before
	before=$(mg_listing "$VOL")
	mg_hook 2 "sh -c 'echo \$\$ >\"$TD/lingerer.writer\"; while :; do echo x >>\"$VOL/junk\"; done' </dev/null >/dev/null 2>&1 3>&- &
setsid -f sh -c 'echo \$\$ >\"$TD/lingerer.daemon\"; while :; do echo y >>\"$VOL/junk2\"; done' </dev/null >/dev/null 2>&1 3>&-
i=0
while [ ! -s '$VOL/junk' ] || [ ! -s '$VOL/junk2' ]; do i=\$((i + 1)); [ \$i -lt 1500 ] || exit 9; sleep 0.02; done
exit 1"
	mg_conf 2
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 82 ]
	local p
	for p in writer daemon; do
		[ ! -d "/proc/$(cat "$TD/lingerer.$p")" ]
	done
	[ "$(mg_listing "$VOL")" = "$before" ]
	[ ! -e "$VOL/junk" ]
	[ ! -e "$VOL/junk2" ]
	[ "$(mg_version)" = 1 ]
}

# A migration in progress, held in its hook until $TD/go exists.
start_held_migration() {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 "touch '$TD/ready'
i=0
while [ ! -e '$TD/go' ]; do i=\$((i + 1)); [ \$i -lt 2500 ] || exit 1; sleep 0.02; done"
	mg_conf 2
	mg_bg "$TD/mig.out" "$VOLINIT" migrate -c "$CONF"
	MPID=$MG_PID
	wait_for_file "$TD/ready"
}

@test "USR1 and HUP sent while a start waits for the lock reach PROGRAM once it runs, once each" {
	start_held_migration
	mg_conf 2 "lock_timeout = 30"
	# volinit is started with HUP and USR1 blocked, so PROGRAM starts with
	# them blocked too (as volinit was given): they wait for it, pending,
	# and the probe records them.
	mg_bg "$TD/start.out" "$PROBE" block 1,10 exec "$VOLINIT" -c "$CONF" -- \
		"$PROBE" signals "$TD/app.sig"
	local vpid=$MG_PID
	wait_for_line "$TD/start.out" 'waiting for the shared lock'
	kill -USR1 "$vpid"
	kill -HUP "$vpid"
	kill -USR1 "$vpid"
	touch "$TD/go"
	mg_wait_exit "$MPID"
	[ "$MG_RC" -eq 0 ]
	wait_for_line "$TD/app.sig" '^ready$'
	kill -TERM "$vpid"
	mg_wait_exit "$vpid"
	cat "$TD/start.out"
	cat "$TD/app.sig"
	[ "$MG_RC" -eq 0 ]
	[ "$(cat "$TD/app.sig")" = "ready
1
10
15" ]
}

@test "USR1 and HUP sent while a start waits for the lock, before it migrates, reach PROGRAM, not the hook" {
	start_held_migration
	mg_hook 3
	other_conf "$TD/three.ini" 3 "lock_timeout = 30"
	mg_bg "$TD/start.out" "$PROBE" block 1,10 exec "$VOLINIT" -c "$TD/three.ini" -- \
		"$PROBE" signals "$TD/app.sig"
	local vpid=$MG_PID
	wait_for_line "$TD/start.out" 'waiting for the shared lock'
	kill -USR1 "$vpid"
	kill -HUP "$vpid"
	touch "$TD/go"
	mg_wait_exit "$MPID"
	[ "$MG_RC" -eq 0 ]
	wait_for_line "$TD/app.sig" '^ready$'
	kill -TERM "$vpid"
	mg_wait_exit "$vpid"
	cat "$TD/start.out"
	cat "$TD/app.sig"
	[ "$MG_RC" -eq 0 ]
	[ "$(cat "$HLOG")" = "2 1 2
3 2 3" ]
	[ "$(cat "$TD/app.sig")" = "ready
1
10
15" ]
}

@test "QUIT (a STOPSIGNAL) while a start waits for the lock stops the start: 131, no PROGRAM" {
	start_held_migration
	mg_conf 2 "lock_timeout = 30"
	mg_bg "$TD/start.out" "$VOLINIT" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	local vpid=$MG_PID
	wait_for_line "$TD/start.out" 'waiting for the shared lock'
	kill -QUIT "$vpid"
	local rc=0
	mg_wait_exit "$vpid" 10 || rc=$?
	local vrc=$MG_RC
	touch "$TD/go"
	mg_wait_exit "$MPID"
	cat "$TD/start.out"
	[ "$rc" -eq 0 ]
	[ "$MG_RC" -eq 0 ]
	[ "$vrc" -eq 131 ]
	[ ! -e "$TD/app-ran" ]
	grep -q 'FATAL.*stopped by signal 3' "$TD/start.out"
}

@test "an app on a read-only mount of the volume holds the shared lock: a read-write migrate waits and gives 75, the version unchanged" {
	local real=$TD/real
	mkdir -p "$real"
	VOL=$real
	echo 1 >"$real/schema_version.txt"
	mg_hook 2
	# A start on the read-write path makes .volinit/lock.
	other_conf "$TD/rw1.ini" 1
	run vi -c "$TD/rw1.ini" -- true
	[ "$status" -eq 0 ]
	[ -e "$real/.volinit/lock" ]
	mkdir "$TD/ro"
	mount --bind "$real" "$TD/ro"
	MG_MOUNTS+=("$TD/ro")
	mount -o remount,bind,ro "$TD/ro"
	VOL=$TD/ro other_conf "$TD/ro.ini" 1
	mg_bg "$TD/app.out" "$VOLINIT" -c "$TD/ro.ini" -- "$PROBE" signals "$TD/app.sig"
	local apid=$MG_PID
	wait_for_line "$TD/app.sig" '^ready$'

	other_conf "$TD/rw2.ini" 2 "lock_timeout = 2"
	run vi migrate -c "$TD/rw2.ini"
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$(cat "$real/schema_version.txt")" = 1 ]
	[ ! -s "$HLOG" ]

	kill -TERM "$apid"
	mg_wait_exit "$apid"
	cat "$TD/app.out"
	[ "$MG_RC" -eq 0 ]
	# Once the replica is gone, the migration goes through.
	run vi migrate -c "$TD/rw2.ini"
	[ "$status" -eq 0 ]
	[ "$(cat "$real/schema_version.txt")" = 2 ]
}

@test "a start on a read-only mount that holds .volinit/lock and must migrate gives 73 at once, nothing changed" {
	local real=$TD/real
	mkdir -p "$real"
	VOL=$real
	echo 1 >"$real/schema_version.txt"
	mg_hook 2
	other_conf "$TD/rw1.ini" 1
	run vi -c "$TD/rw1.ini" -- true
	[ "$status" -eq 0 ]
	mkdir "$TD/ro"
	mount --bind "$real" "$TD/ro"
	MG_MOUNTS+=("$TD/ro")
	mount -o remount,bind,ro "$TD/ro"
	local before
	before=$(mg_listing "$real")
	VOL=$TD/ro other_conf "$TD/ro.ini" 2 "lock_timeout = 20"
	local t0=$SECONDS
	run vi -c "$TD/ro.ini" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 73 ]
	[ $((SECONDS - t0)) -lt 10 ]
	[ ! -e "$TD/app-ran" ]
	[ ! -s "$HLOG" ]
	[ "$(mg_listing "$real")" = "$before" ]
}

@test "a start on a read-only mount without .volinit/lock goes on without a lock, and says so" {
	local real=$TD/real
	mkdir -p "$real"
	echo 1 >"$real/schema_version.txt"
	mkdir "$TD/ro"
	mount --bind "$real" "$TD/ro"
	MG_MOUNTS+=("$TD/ro")
	mount -o remount,bind,ro "$TD/ro"
	VOL=$TD/ro other_conf "$TD/ro.ini" 1
	run vi -c "$TD/ro.ini" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/app-ran" ]
	[[ "$output" == *"read-only and without .volinit/lock: going on without a lock"* ]]
	[ ! -e "$real/.volinit" ]
}

@test "8 starters at once on an empty volume (on_missing = init), 4 rounds: all start well inside lock_timeout" {
	local round i
	for round in 1 2 3 4; do
		rm -rf "$VOL"
		mkdir "$VOL"
		printf '[data]\npath = %s\nexpected = 3\non_missing = init\nlock_timeout = 3\n' "$VOL" >"$CONF"
		local pids=()
		for i in 1 2 3 4 5 6 7 8; do
			mg_bg "$TD/s.$round.$i.out" "$VOLINIT" -c "$CONF" -- "$PROBE" touch "$TD/ran.$round.$i"
			pids+=("$MG_PID")
		done
		local failed=0
		for i in 1 2 3 4 5 6 7 8; do
			mg_wait_exit "${pids[i - 1]}" 20
			[ "$MG_RC" -eq 0 ] || { failed=1; echo "round $round starter $i: $MG_RC"; cat "$TD/s.$round.$i.out"; }
		done
		[ "$failed" -eq 0 ]
		[ "$(mg_version)" = 3 ]
	done
}

@test "require_mount: a bind mount and a tmpfs pass, a plain directory gives 66, a directory bind-mounted onto itself passes" {
	local conf=$TD/m.ini
	mount_conf() { printf '[data]\npath = %s\nexpected = 1\nrequire_mount = true\n' "$1" >"$conf"; }

	mkdir -p "$TD/src" "$TD/bind"
	echo 1 >"$TD/src/schema_version.txt"
	mount --bind "$TD/src" "$TD/bind"
	MG_MOUNTS+=("$TD/bind")
	mount_conf "$TD/bind"
	run vi -c "$conf" -- true
	echo "$output"
	[ "$status" -eq 0 ]

	mg_mount_tmpfs "$TD/tmp" 1m
	echo 1 >"$TD/tmp/schema_version.txt"
	mount_conf "$TD/tmp"
	run vi -c "$conf" -- true
	[ "$status" -eq 0 ]

	mkdir "$TD/plain"
	echo 1 >"$TD/plain/schema_version.txt"
	mount_conf "$TD/plain"
	run vi -c "$conf" -- true
	[ "$status" -eq 66 ]
	run vi check -c "$conf"
	[ "$status" -eq 66 ]

	# The source of a bind mount elsewhere is still a plain directory.
	mount_conf "$TD/src"
	run vi -c "$conf" -- true
	echo "$output"
	[ "$status" -eq 66 ]

	# Onto itself: same filesystem, same st_dev as its parent.
	mkdir "$TD/self"
	echo 1 >"$TD/self/schema_version.txt"
	mount --bind "$TD/self" "$TD/self"
	MG_MOUNTS+=("$TD/self")
	[ "$(stat -c %d "$TD/self")" = "$(stat -c %d "$TD")" ]
	mount_conf "$TD/self"
	run vi -c "$conf" -- true
	echo "$output"
	[ "$status" -eq 0 ]
	run vi check -c "$conf"
	[ "$status" -eq 0 ]
}

@test "log_format = json: a volume name holding bytes that are not UTF-8 gives strict JSON, each replaced by U+FFFD" {
	local kind name
	for kind in 'ed a0 80' 'c0 af' 'e0 80 af' 'f4 90 80 80' 'f5 ff'; do
		name="v$(printf "\\x${kind// /\\x}")x"
		printf '[volinit]\nlog_format = json\n[%s]\npath = %s\nexpected = 1\n' "$name" "$TD/missing" >"$CONF"
		run vi -c "$CONF" -- true
		[ "$status" -eq 66 ]
		python3 -c '
import json, sys
data = open(sys.argv[1], "rb").read()
lines = data.decode("utf-8").splitlines()   # strict: raises on invalid UTF-8
assert lines, "no output"
def walk(o):
    if isinstance(o, str):
        o.encode("utf-8")   # raises on a lone surrogate (\ud800 escapes)
    elif isinstance(o, dict):
        for k, v in o.items(): walk(k); walk(v)
    elif isinstance(o, list):
        for v in o: walk(v)
seen = False
for line in lines:
    obj = json.loads(line)
    walk(obj)
    if obj.get("volume") == "v" + "\ufffd" * int(sys.argv[2]) + "x":
        seen = True
assert seen, "no line names the volume with one U+FFFD a byte: %r" % lines
' <(printf '%s\n' "$output") "$(wc -w <<<"$kind")" || { echo "kind $kind failed"; false; }
	done
}

@test "volume b's hook fails after volume a migrated in the same start: the refusal and a's journal say that a stays migrated" {
	mkdir -p "$TD/a" "$TD/b" "$TD/hooks-b"
	echo 1 >"$TD/a/schema_version.txt"
	echo 1 >"$TD/b/schema_version.txt"
	mg_hook 2
	printf '#!/bin/sh\nexit 1\n' >"$TD/hooks-b/2"
	chmod 0755 "$TD/hooks-b/2"
	printf '[a]\npath = %s\nexpected = 2\non_older = migrate\nmigrations = %s\n[b]\npath = %s\nexpected = 2\non_older = migrate\nmigrations = %s\n' \
		"$TD/a" "$HOOKS" "$TD/b" "$TD/hooks-b" >"$CONF"
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 82 ]
	[ ! -e "$TD/app-ran" ]
	[ "$(cat "$TD/a/schema_version.txt")" = 2 ]
	[ "$(cat "$TD/b/schema_version.txt")" = 1 ]
	[[ "$output" == *'hint: volume "a" was migrated to 2 in this start and stays at 2: an image that expects 1 will refuse it (81)'* ]]
	jq -e 'select(.event == "refuse") | .volume == "a" and .to == 2 and (.detail | contains("\"b\""))' \
		"$TD/a/.volinit/journal.jsonl"
}

# A snapshot copy of a big volume takes minutes, and docker stop's grace
# period is 10 s: TERM must end it there, not once the copy is done.
@test "TERM while the snapshot is being copied ends the start at once: 143, the hook never runs, nothing changed on the volume" {
	command -v strace >/dev/null || skip "strace is not installed"
	echo 1 >"$VOL/schema_version.txt"
	local i
	for i in $(seq 1 300); do echo "data $i" >"$VOL/f$i"; done
	mg_hook 0002
	mg_conf 2
	mg_listing "$VOL" >"$TD/before"
	# Each file's data copy slowed to 50 ms: the copy would take 15 s.
	# (LeakSanitizer cannot run under ptrace: off for the sanitized pass.)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		mg_bg "$TD/start.out" strace -f -qq -o /dev/null -e trace=copy_file_range \
		-e inject=copy_file_range:delay_enter=50000 "$VOLINIT" -c "$CONF" -- true
	wait_for_file "$VOL/.volinit/snapshot.tmp"
	local vpid
	vpid=$(pgrep -P "$MG_PID")
	kill -TERM "$vpid"
	local t0=$SECONDS
	mg_wait_exit "$MG_PID"
	cat "$TD/start.out"
	[ "$MG_RC" -eq 143 ]
	[ $((SECONDS - t0)) -lt 10 ]
	grep -q 'FATAL.*stopped by signal 15 while taking the snapshot' "$TD/start.out"
	[ ! -s "$HLOG" ]
	[ ! -e "$VOL/.volinit/snapshot.tmp" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ ! -e "$VOL/.volinit/dirty" ]
	mg_listing "$VOL" | diff "$TD/before" -
}

# volinit not PID 1 in a PID namespace whose /proc is an outer one's
# (unshare --pid without --mount-proc; a container given the host's
# /proc): getpid() names another process there. The walk of /proc found
# no descendant, and volinit then waited for ever for the daemon a hook
# left behind.
@test "not PID 1, /proc of an outer PID namespace: a hook's leftovers are still found and killed, volinit does not hang" {
	echo 1 >"$VOL/schema_version.txt"
	local tag=$((17000 + RANDOM % 1000))
	mg_hook 2 "sleep $tag </dev/null >/dev/null 2>&1 3>&- &
setsid -f sleep $tag </dev/null >/dev/null 2>&1 3>&-
i=0
while [ \"\$(pgrep -fc '^sleep $tag\$')\" -lt 2 ]; do
	i=\$((i + 1)); [ \$i -lt 1500 ] || exit 9
	sleep 0.02
done"
	mg_hook 3 "pgrep -fc '^sleep $tag\$' >\"$TD/seen\" || true"
	mg_conf 3
	# volinit's pid in the namespace: one that no process has in /proc
	# (the host's), so that getpid() finds nothing there. (As pid 2, say,
	# it met kthreadd, and its "descendants" were numbers that happened to
	# name our own processes.) Set through ns_last_pid on a /proc of the
	# namespace's own, mounted in a mount namespace of its own, elsewhere.
	local free q
	for free in $(seq 1000 100 $(($(cat /proc/sys/kernel/pid_max) - 100))); do
		for q in $(seq "$free" $((free + 64))); do [ ! -e "/proc/$q" ] || continue 2; done
		break
	done
	mkdir "$TD/nsproc"
	# LeakSanitizer reads /proc/self/task, which is the outer namespace's
	# here: off for the sanitized pass.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		run timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount sh -c '
		mount -t proc proc "$3" && echo $(($4 - 1)) >"$3/sys/kernel/ns_last_pid" || exit 99
		"$1" migrate -c "$2"; echo "volinit: $?"' sh "$VOLINIT" "$CONF" "$TD/nsproc" "$free"
	echo "status $status (pid $free in the namespace)"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"volinit: 0"* ]]
	[ "$(cat "$TD/seen")" = 0 ]
	[[ "$output" == *"left processes behind: killed them"* ]]
	[ "$(mg_version)" = 3 ]
}
