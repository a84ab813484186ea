#!/usr/bin/env bats
# Migrations (SPEC.md "Migrations", "State on the volume"): hook discovery and
# planning, the hook's environment, the version written after every step,
# --dry-run, errors found before anything runs, and the journal.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() { mg_setup; }
teardown() { mg_teardown; }

# A hook that records its name, environment, cwd, argv[0], the version file
# and the dirty marker as it sees them.
env_hook() {
	mg_hook "$1" "
printf 'argv0=%s\nvolume=%s\npath=%s\nfrom=%s\nto=%s\ncwd=%s\nkept=%s\nversion=%s\n' \
	\"\$0\" \"\$VOLINIT_VOLUME\" \"\$VOLINIT_PATH\" \"\$VOLINIT_FROM\" \"\$VOLINIT_TO\" \
	\"\$(pwd -P)\" \"\${MG_KEPT:-unset}\" \"\$(cat schema_version.txt)\" >\"$TD/env.\$VOLINIT_TO\"
cp .volinit/dirty \"$TD/dirty.\$VOLINIT_TO\"
echo \"step \$VOLINIT_TO\" >>data.txt"
}

@test "a three-step migration runs in order, with zero-padded and suffixed hook names, the VOLINIT_* environment and cwd = the volume" {
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	env_hook 0002
	env_hook 3-add-index.sh
	env_hook 0004_backfill
	# Not hooks, or not on the path: never run.
	printf '#!/bin/sh\necho README >>%s\n' "$HLOG" >"$HOOKS/README"
	printf '#!/bin/sh\necho hidden >>%s\n' "$HLOG" >"$HOOKS/.0003-hidden"
	chmod +x "$HOOKS/README" "$HOOKS/.0003-hidden"
	mg_hook 0001-before-the-volume
	mg_hook 5-after-expected
	mg_conf 4
	sed -i 's/^\[data\]/[app-data]/' "$CONF"
	cd /
	MG_KEPT=yes VOLINIT_FROM=bogus VOLINIT_VOLUME=bogus run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	# In order, each once, and nothing else.
	[ "$(cat "$HLOG")" = "0002 1 2
3-add-index.sh 2 3
0004_backfill 3 4" ]
	local to
	for to in 2 3 4; do
		cat "$TD/env.$to"
		grep -qx "volume=app-data" "$TD/env.$to"
		grep -qx "path=$VOL" "$TD/env.$to"
		grep -qx "from=$((to - 1))" "$TD/env.$to"
		grep -qx "to=$to" "$TD/env.$to"
		grep -qx "cwd=$(cd "$VOL" && pwd -P)" "$TD/env.$to"
		grep -qx "kept=yes" "$TD/env.$to"
		# The previous step's version was written before this step started.
		grep -qx "version=$((to - 1))" "$TD/env.$to"
	done
	grep -qx "argv0=$HOOKS/0002" "$TD/env.2"
	[ "$(cat "$VOL/data.txt")" = "base
step 2
step 3
step 4" ]
	[ "$(mg_version)" = 4 ]
	# The state left: no marker, no snapshot, no temporary files.
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ ! -e "$VOL/.volinit/snapshot.tmp" ]
	[ "$(stat -c %a "$VOL/.volinit")" = 700 ]
	run find "$VOL" -maxdepth 1 -name '*volinit-tmp*'
	[ -z "$output" ]
}

@test "while a step runs, .volinit/dirty holds from, to, hook, the hook's sha256, pid, host and started_at" {
	echo 1 >"$VOL/schema_version.txt"
	env_hook 0002-split-sessions.sh
	mg_conf 2
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	cat "$TD/dirty.2"
	run jq -e --arg hook 0002-split-sessions.sh \
		--arg sum "$(sha256sum "$HOOKS/0002-split-sessions.sh" | cut -d' ' -f1)" \
		--arg host "$(uname -n)" '
		.from == 1 and .to == 2 and .hook == $hook and .sha256 == $sum
		and (.pid | type) == "number" and .host == $host
		and (.started_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))' "$TD/dirty.2"
	[ "$status" -eq 0 ]
}

@test "migrate --dry-run prints the plan and changes nothing, not even .volinit/" {
	echo 1 >"$VOL/schema_version.txt"
	echo keep >"$VOL/data.txt"
	mg_hook 0002
	mg_hook 3-two
	mg_hook 04
	mg_conf 4
	local before
	before=$(mg_listing "$VOL")
	run --separate-stderr vi migrate -c "$CONF" --dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 -> 4 in 3 steps"* ]]
	[[ "$output" == *"1 -> 2: $HOOKS/0002"* ]]
	[[ "$output" == *"2 -> 3: $HOOKS/3-two"* ]]
	[[ "$output" == *"3 -> 4: $HOOKS/04"* ]]
	[ ! -s "$HLOG" ]
	[ ! -e "$VOL/.volinit" ]
	[ "$(mg_listing "$VOL")" = "$before" ]
}

@test "migrate --dry-run with a missing step gives 80 and changes nothing" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_hook 4
	mg_conf 4
	run vi migrate -c "$CONF" --dry-run
	echo "$output"
	[ "$status" -eq 80 ]
	[ ! -e "$VOL/.volinit" ]
}

# Two hooks for step 3 on the path 1 -> 4: step 2 must not run.
@test "two hooks for one step give 78 before any step runs, from migrate and from a start" {
	echo 1 >"$VOL/schema_version.txt"
	echo keep >"$VOL/data.txt"
	mg_hook 2 'echo changed >data.txt'
	mg_hook 3-first
	mg_hook 0003-second
	mg_hook 4
	mg_conf 4
	local before
	before=$(mg_listing "$VOL")
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"FATAL"*"two hooks for step 3"* ]]
	[[ "$output" == *"3-first"* && "$output" == *"0003-second"* ]]
	[ ! -s "$HLOG" ]
	[ "$(mg_listing "$VOL")" = "$before" ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]

	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 78 ]
	[ ! -s "$HLOG" ]
	[ ! -e "$TD/app-ran" ]
	[ "$(mg_listing "$VOL")" = "$before" ]
	run mg_events
	[[ "$output" != *migrate_begin* && "$output" != *step_* ]]
}

@test "a missing step gives 80 before any step runs, from migrate and from a start" {
	echo 1 >"$VOL/schema_version.txt"
	echo keep >"$VOL/data.txt"
	mg_hook 0002 'echo changed >data.txt'
	mg_hook 0004
	mg_conf 4
	local before
	before=$(mg_listing "$VOL")
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 80 ]
	[[ "$output" == *"FATAL"*"no hook for step 2 -> 3"* ]]
	[ ! -s "$HLOG" ]
	[ "$(mg_listing "$VOL")" = "$before" ]

	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 80 ]
	# The refusal in the form SPEC.md "Messages" gives, with its hints.
	[ "${lines[0]}" = "volinit: FATAL: incompatible persistent state in volume \"data\" ($VOL): schema_version=1, expected=4" ]
	[[ "$output" == *"hint: the data on the volume was not changed"* ]]
	[[ "$output" == *"hint: no hook for step 2 -> 3 in $HOOKS: name it 3 or 0003-what-it-does"* ]]
	# VOLINIT_IMAGE is set (migrate_helpers): the container form.
	[[ "$output" == *"hint: if the data already is at 4: docker run --rm -v VOLUME:$VOL --entrypoint "*" stamp -c $CONF data 4"* ]]
	[[ "$output" == *"hint: to start over, destroying the data: docker volume rm"* ]]
	[ ! -s "$HLOG" ]
	[ ! -e "$TD/app-ran" ]
	[ "$(mg_listing "$VOL")" = "$before" ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
}

@test "a start checks every volume's plan before it migrates any of them" {
	# Volume a can migrate, volume b misses a hook: a start must refuse
	# with 80 and leave a untouched (startup.c: "only when none refuses is
	# anything written"; SPEC: a missing step is found before anything runs).
	mkdir -p "$TD/a" "$TD/b" "$TD/hooks-b"
	echo 1 >"$TD/a/schema_version.txt"
	echo 1 >"$TD/b/schema_version.txt"
	mg_hook 2
	cat >"$CONF" <<EOF
[a]
path = $TD/a
expected = 2
on_older = migrate
migrations = $HOOKS

[b]
path = $TD/b
expected = 2
on_older = migrate
migrations = $TD/hooks-b
EOF
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 80 ]
	[ ! -e "$TD/app-ran" ]
	[ "$(cat "$TD/a/schema_version.txt")" = 1 ]
	[ ! -s "$HLOG" ]
}

@test "volinit migrate migrates even with on_older = fail, where a start refuses with 80" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_conf 2 "on_older = fail"
	sed -i '/^on_older = migrate$/d' "$CONF"
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 80 ]
	[[ "$output" == *'FATAL: incompatible persistent state in volume "data" ('"$VOL"'): schema_version=1, expected=2'* ]]
	[ ! -e "$TD/app-ran" ]
	[ ! -s "$HLOG" ]
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(cat "$HLOG")" = "2 1 2" ]
	[ "$(mg_version)" = 2 ]
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	[ "$status" -eq 0 ]
	[ -e "$TD/app-ran" ]
}

@test "volinit migrate without a migrations directory gives 80" {
	echo 1 >"$VOL/schema_version.txt"
	cat >"$CONF" <<EOF
[data]
path = $VOL
expected = 2
EOF
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 80 ]
	[ "$(mg_version)" = 1 ]
}

@test "a hook that is not executable gives 126 before any step runs" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_hook 3
	chmod -x "$HOOKS/3"
	mg_conf 3
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 126 ]
	[ ! -s "$HLOG" ]
	[ "$(mg_version)" = 1 ]
}

@test "a start migrates with on_older = migrate, then runs the program" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_hook 3
	mg_conf 3
	run vi -c "$CONF" -- sh -c 'cat "$1"/schema_version.txt >"$2"' sh "$VOL" "$TD/app-saw"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$TD/app-saw")" = 3 ]
	[ "$(cat "$HLOG")" = "2 1 2
3 2 3" ]
	run mg_events
	echo "$output"
	[ "$output" = "migrate_begin 1 3
step_ok 1 2
step_ok 2 3
start 3 3
exit 3 3" ]
}

@test "journal lines are JSON with time, host, pid, image, event, volume, from, to, detail" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_hook 3 'exit 1'
	mg_conf 3 "snapshot = false"
	run vi migrate -c "$CONF"
	[ "$status" -eq 82 ]
	run vi -c "$CONF" -- true
	[ "$status" -eq 83 ]
	run vi stamp -c "$CONF" data 2
	[ "$status" -eq 0 ]
	rm "$HOOKS/3"
	mg_hook 3
	run vi -c "$CONF" -- true
	[ "$status" -eq 0 ]
	local j=$VOL/.volinit/journal.jsonl
	cat "$j"
	# Every line is one JSON object with exactly these keys.
	run jq -c -e --arg image "$VOLINIT_IMAGE" --arg host "$(uname -n)" '
		(keys == (["detail","event","from","host","image","pid","time","to","volume"] | sort))
		and .image == $image and .host == $host and .volume == "data"
		and (.pid | type) == "number" and .pid > 0
		and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"))
		and (.event | IN("start","exit","refuse","migrate_begin","step_ok","step_fail","restore","stamp","hold"))
		and ((.from | type) == "number" or .from == null)
		and ((.to | type) == "number" or .to == null)
		and ((.detail | type) == "string" or .detail == null)' "$j"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *false* ]]
	[ "$(jq -s length "$j")" -eq "$(wc -l <"$j")" ]
	run mg_events
	echo "$output"
	# A dirty volume has no version to report: the refusal's "from" is null
	# or the marker's from (2), never a made-up 0.
	[[ "$output" =~ ^"migrate_begin 1 3
step_ok 1 2
step_fail 2 3
refuse "(null|2)" 3
stamp "(null|2)" 2
migrate_begin 2 3
step_ok 2 3
start 3 3
exit 3 3"$ ]]
	[ "$(jq -r 'select(.event == "step_fail") | .detail' "$j")" = "exited with 1" ]
	[ "$(jq -r 'select(.event == "step_ok" and .to == 2) | .detail' "$j")" = 2 ]
	[ "$(jq -r 'select(.event == "refuse") | .detail' "$j")" = dirty ]
	[[ "$(jq -r 'select(.event == "stamp") | .detail' "$j")" == *"cleared dirty"* ]]
}

@test "the journal is rotated to journal.jsonl.1 past 1 MiB" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_conf 2
	mkdir -m 0700 "$VOL/.volinit"
	local line='{"time":"2020-01-01T00:00:00Z","host":"old","pid":1,"image":"","event":"start","volume":"data","from":1,"to":1,"detail":"padding padding padding padding padding padding"}'
	yes "$line" | head -c 1048570 | head -n -1 >"$VOL/.volinit/journal.jsonl"
	local old_lines
	old_lines=$(wc -l <"$VOL/.volinit/journal.jsonl")
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ -e "$VOL/.volinit/journal.jsonl.1" ]
	[ "$(wc -l <"$VOL/.volinit/journal.jsonl.1")" -ge "$old_lines" ]
	[ "$(stat -c %s "$VOL/.volinit/journal.jsonl")" -lt 1048576 ]
	jq -e . "$VOL/.volinit/journal.jsonl" >/dev/null
	run mg_events
	[[ "$output" == *"step_ok 1 2"* ]]
}

@test "a hook without a #! line is not run through a shell (126)" {
	# SPEC: hooks are run with execve, never through a shell. execve of a
	# text file without #! fails (ENOEXEC); falling back to /bin/sh (as
	# execvp does) would run it anyway.
	echo 1 >"$VOL/schema_version.txt"
	printf 'echo ran >"%s"\n' "$TD/ran-by-a-shell" >"$HOOKS/2"
	chmod 0755 "$HOOKS/2"
	mg_conf 2
	run vi migrate -c "$CONF"
	echo "$output"
	[ ! -e "$TD/ran-by-a-shell" ]
	[ "$status" -eq 126 ]
	[ "$(mg_version)" = 1 ]
}

@test "a later hook without a #! line is found before any step runs: 126, step 2 never ran, not even with --dry-run" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 'echo step2 >>data.txt'
	printf 'echo ran >"%s"\n' "$TD/ran-by-a-shell" >"$HOOKS/3"
	chmod 0755 "$HOOKS/3"
	mg_conf 3
	run vi migrate --dry-run -c "$CONF"
	echo "$output"
	[ "$status" -eq 126 ]
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 126 ]
	[[ "$output" == *"FATAL"*"hook $HOOKS/3 is neither a program (ELF) nor a script with a #! line"* ]]
	[[ "$output" == *"hint: hooks run with execve, never through a shell"* ]]
	[ ! -s "$HLOG" ]
	[ ! -e "$VOL/data.txt" ]
	[ ! -e "$TD/ran-by-a-shell" ]
	[ ! -e "$TD/app-ran" ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ "$(mg_version)" = 1 ]
}

@test "the restore event says the version the volume went back to: from the failed step's start to the migration's" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	mg_hook 3 'exit 1'
	mg_conf 3
	run vi migrate -c "$CONF"
	[ "$status" -eq 82 ]
	[ "$(mg_version)" = 1 ]
	run mg_events
	echo "$output"
	[[ "$output" == *"step_fail 2 3"$'\n'"restore 2 1"* ]]
}

@test "volinit migrate plans every volume first: a missing hook for the second volume leaves the first one untouched (80)" {
	echo 1 >"$VOL/schema_version.txt"
	echo keep >"$VOL/data.txt"
	mg_hook 2 'echo changed >data.txt'
	mkdir -p "$TD/vol2" "$TD/hooks2"
	echo 1 >"$TD/vol2/schema_version.txt"
	printf '[volinit]\n[first]\npath = %s\nexpected = 2\nmigrations = %s\n[second]\npath = %s\nexpected = 2\nmigrations = %s\n' \
		"$VOL" "$HOOKS" "$TD/vol2" "$TD/hooks2" >"$TD/two.ini"
	local before
	before=$(mg_listing "$VOL")
	run vi migrate -c "$TD/two.ini"
	echo "$output"
	[ "$status" -eq 80 ]
	[[ "$output" == *"FATAL: incompatible persistent state in volume \"second\""*"no hook for step 1 -> 2"* ]]
	[ ! -s "$HLOG" ]
	[ "$(mg_listing "$VOL")" = "$before" ]
	[ "$(cat "$TD/vol2/schema_version.txt")" = 1 ]
}

@test "a gap of two billion steps with no hooks is a missing step (80), planned without allocating per step" {
	echo 0 >"$VOL/schema_version.txt"
	mg_hook 1
	mg_conf 2147483647
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 80 ]
	[[ "$output" == *"FATAL"*"no hook for step 1 -> 2"* ]]
	[ ! -s "$HLOG" ]
	[ "$(mg_version)" = 0 ]
	run vi check -c "$CONF"
	[ "$status" -eq 80 ]
}

@test "a .volinit/ found with mode 0777 is made 0700 again before volinit writes in it" {
	echo 1 >"$VOL/schema_version.txt"
	mkdir -m 0777 "$VOL/.volinit"
	chmod 0777 "$VOL/.volinit"
	mg_conf 1
	run vi -c "$CONF" -- true
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$VOL/.volinit")" = 700 ]
}

# What volinit makes in .volinit/ belongs to the user volinit runs as (root
# here), never to the volume's owner (SPEC.md "State on the volume": the
# app must not be able to write volinit's state); a later start keeps it so.
@test ".volinit/, its lock, holders and journal belong to volinit's user, not the volume's owner, on the first start and the next" {
	echo 1 >"$VOL/schema_version.txt"
	chown 4321:4322 "$VOL"
	mg_conf 1
	local seen=$TD/seen
	local i
	for i in 1 2; do
		# While the app runs, its holders file exists (volinit writes it
		# as the app starts: wait up to 10 s for it), then list owners.
		run vi -c "$CONF" -- sh -c 'i=0; while [ -z "$(ls -A "$1"/.volinit/holders)" ] &&
			[ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
			stat -c "%n %u:%g %a" "$1"/.volinit "$1"/.volinit/lock \
			"$1"/.volinit/holders "$1"/.volinit/holders/*' sh "$VOL"
		[ "$status" -eq 0 ]
		printf '%s\n' "$output" >"$seen"
		[ "$(grep -c " 0:0 [67]00$" "$seen")" -eq 4 ]
		[ "$(stat -c %u:%g:%a "$VOL/.volinit/journal.jsonl")" = 0:0:600 ]
		[ -z "$(ls -A "$VOL/.volinit/holders")" ]
	done
}
