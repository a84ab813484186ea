#!/usr/bin/env bats
# Faults of the running phases, found without an attacker (issue 12): what
# a hook leaves behind, an app on a read-only replica, signals that arrive
# while volinit waits for a lock, starters that collide, require_mount,
# invalid UTF-8 in JSON logs, and what a start that failed half-way says.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() { mg_setup; }
teardown() {
	# Leftovers of a hook (the old code leaves them): ours by their pid files.
	local f
	for f in "$TD"/lingerer.*; do
		[ -e "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	mg_teardown
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
	mg_wait_file "$TD/ready"
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
	mg_wait_line "$TD/start.out" 'waiting for the shared lock'
	kill -USR1 "$vpid"
	kill -HUP "$vpid"
	kill -USR1 "$vpid"
	touch "$TD/go"
	mg_wait_exit "$MPID"
	[ "$MG_RC" -eq 0 ]
	mg_wait_line "$TD/app.sig" '^ready$'
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

@test "QUIT (a STOPSIGNAL) while a start waits for the lock stops the start: 131, no PROGRAM" {
	start_held_migration
	mg_conf 2 "lock_timeout = 30"
	mg_bg "$TD/start.out" "$VOLINIT" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	local vpid=$MG_PID
	mg_wait_line "$TD/start.out" 'waiting for the shared lock'
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
