#!/usr/bin/env bats
# volinit in real containers (podman + runc), images FROM scratch.
# The S003 story on one named volume, in order: v1 initialises it, the
# rebuilt v2 refuses it, status reads it offline, v2 with a hook migrates it.
# Then features on volumes of their own: SIGTERM through `podman stop`, two
# containers migrating one volume at once, require_mount, rollback, exit codes.

load helpers

setup_file() {
	e2e_setup_file
	export VOL
	VOL=$(new_volume story)
}

teardown_file() {
	e2e_teardown_file
}

FATAL_1_2='volinit: FATAL: incompatible persistent state in volume "data" (/data): schema_version=1, expected=2'

@test "story 1/4: the v1 image initialises an empty named volume and its app writes schema 1 data" {
	local c mp
	c=$(name v1)
	run podman run --name "$c" -v "$VOL:/data" "$IMG_V1" /app/notes once
	echo "$output"
	assert_eq "$status" 0 "exit code"
	assert_contains "$output" "notes v1: starting as pid"
	assert_contains "$output" "under pid 1 (volinit), volume schema 1"
	assert_contains "$output" "notes v1: serving 2 sessions"
	mp=$(vol_path "$VOL")
	# volinit wrote the version as "1\n"; the app wrote its schema 1 data.
	assert_eq "$(od -An -c "$mp/schema_version.txt" | tr -d ' ')" '1\n' "schema_version.txt bytes"
	grep -qx 's1 alice' "$mp/sessions.txt"
}

@test "story 2/4: the v2 image without a hook refuses the v1 volume: exit 80, the FATAL line in podman logs, nothing changed" {
	local c mp sig logs
	mp=$(vol_path "$VOL")
	[ -f "$mp/sessions.txt" ] || skip "needs story 1"
	sig=$(tree_sig "$mp")
	c=$(name v2-refused)
	run podman run --name "$c" -v "$VOL:/data" "$IMG_V2"
	echo "$output"
	assert_eq "$status" 80 "podman run exit code"
	assert_eq "$(exit_code "$c")" 80 "exit code in podman inspect"
	logs=$(podman logs "$c" 2>&1)
	assert_contains "$logs" "$FATAL_1_2"
	assert_contains "$logs" "volinit: hint:"
	# The FATAL line is the first FATAL line, and the app never ran.
	assert_eq "$(grep -m1 FATAL <<<"$logs")" "$FATAL_1_2" "first FATAL line"
	refute_contains "$logs" "notes v2"
	assert_eq "$(tree_sig "$mp")" "$sig" "volume data after the refusal"
	assert_eq "$(cat "$mp/schema_version.txt")" 1 "schema version"
}

@test "story 3/4: status via --entrypoint reads the volume offline and changes nothing; check gives 80" {
	local mp sig
	mp=$(vol_path "$VOL")
	[ -f "$mp/sessions.txt" ] || skip "needs story 1"
	sig=$(tree_sig "$mp" all)
	run podman run --rm -v "$VOL:/data" --entrypoint /sbin/volinit "$IMG_V2" status
	echo "$output"
	assert_eq "$status" 0 "status exit code"
	assert_contains "$output" "data"
	assert_contains "$output" "/data"
	grep -Eq '(^|[^0-9])1([^0-9]|$)' <<<"$output"
	grep -Eq '(^|[^0-9])2([^0-9]|$)' <<<"$output"

	run podman run --rm -v "$VOL:/data" --entrypoint /sbin/volinit "$IMG_V2" status --json
	echo "$output"
	assert_eq "$status" 0 "status --json exit code"
	# One JSON document (or one object per line) naming the volume.
	"$PY" -c '
import json, sys
text = sys.stdin.read()
try:
    docs = [json.loads(text)]
except ValueError:
    docs = [json.loads(l) for l in text.splitlines() if l.strip()]
flat = json.dumps(docs)
assert "\"data\"" in flat and "/data" in flat, flat
' <<<"$output"

	run podman run --rm -v "$VOL:/data" --entrypoint /sbin/volinit "$IMG_V2" check
	echo "$output"
	assert_eq "$status" 80 "check exit code"
	assert_contains "$output" "$FATAL_1_2"
	# Read-only, as SPEC.md says: not even .volinit/ was created or touched.
	assert_eq "$(tree_sig "$mp" all)" "$sig" "volume after status and check"
}

@test "story 4/4: the v2 image with a hook migrates the volume once and the app starts; podman stop ends it cleanly" {
	local c mp logs
	mp=$(vol_path "$VOL")
	[ -f "$mp/sessions.txt" ] || skip "needs story 1"
	c=$(name v2-hook)
	podman run -d --name "$c" -v "$VOL:/data" "$IMG_V2HOOK" >/dev/null
	wait_log "$c" 'notes v2: serving 2 sessions'
	logs=$(podman logs "$c" 2>&1)
	echo "$logs"
	assert_contains "$logs" "hook: data (/data) 1 -> 2 in /data"
	assert_contains "$logs" "volume schema 2"
	assert_eq "$(cat "$mp/schema_version.txt")" 2 "schema version"
	assert_eq "$(cat "$mp/sessions/s1")" "user=alice" "migrated session"
	[ ! -e "$mp/sessions.txt" ]
	assert_eq "$(count_lines "$mp/migrations.log")" 1 "hook runs"
	# Done means clean: no dirty marker, no snapshot left behind.
	[ ! -e "$mp/.volinit/dirty" ]
	[ ! -e "$mp/.volinit/snapshot" ]
	# The journal names the image that migrated (VOLINIT_IMAGE) and the step.
	"$PY" -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
kinds = [e["event"] for e in ev]
assert "migrate_begin" in kinds and "step_ok" in kinds, kinds
ok = [e for e in ev if e["event"] == "step_ok"]
assert ok[-1]["from"] in (1, "1") and ok[-1]["to"] in (2, "2"), ok[-1]
assert ok[-1]["image"] == "localhost/volinit-e2e/notes:2-hook", ok[-1]
assert ok[-1]["volume"] == "data", ok[-1]
' "$mp/.volinit/journal.jsonl"

	podman stop -t 20 "$c" >/dev/null
	assert_eq "$(exit_code "$c")" 0 "exit code after podman stop"
	assert_contains "$(podman logs "$c" 2>&1)" "notes v2: SIGTERM received"

	# A restart finds a current volume: no hook runs again.
	podman start "$c" >/dev/null
	wait_log "$c" 'notes v2: serving 2 sessions' "$E2E_TIMEOUT" 2
	podman stop -t 20 "$c" >/dev/null
	assert_eq "$(count_lines "$mp/migrations.log")" 1 "hook runs after a restart"
}

@test "podman stop: SIGTERM goes through volinit (PID 1) to the app, which exits 0 far inside the stop timeout" {
	local vol c t0 t1 elapsed logs
	vol=$(new_volume stop)
	c=$(name stop)
	podman run -d --name "$c" -v "$vol:/data" "$IMG_V1" >/dev/null
	wait_log "$c" 'notes v1: serving'
	# The app is volinit's child and volinit is PID 1 of the container.
	assert_contains "$(podman logs "$c" 2>&1)" "under pid 1 (volinit)"
	t0=$(ms_now)
	podman stop -t 20 "$c" >/dev/null
	t1=$(ms_now)
	elapsed=$((t1 - t0))
	logs=$(podman logs "$c" 2>&1)
	echo "$logs"
	echo "podman stop took ${elapsed} ms (timeout 20000 ms)"
	assert_eq "$(exit_code "$c")" 0 "exit code"
	assert_contains "$logs" "notes v1: SIGTERM received, saving and exiting"
	# Had the signal been lost, podman would have waited the 20 s and sent
	# SIGKILL (exit 137). Far below: under 3 s even on a busy machine.
	[ "$elapsed" -lt 3000 ]
}

@test "podman kill -s INT reaches the app too; its status comes back as the container's (130)" {
	local vol c
	vol=$(new_volume int)
	c=$(name int)
	podman run -d --name "$c" -v "$vol:/data" "$IMG_V1" >/dev/null
	wait_log "$c" 'notes v1: serving'
	podman kill -s INT "$c" >/dev/null
	assert_eq "$(wait_exit "$c")" 130 "exit code"
	assert_contains "$(podman logs "$c" 2>&1)" "notes v1: SIGINT received"
}

@test "exit status passes through volinit: 3, and 128+N for a signal" {
	local vol
	vol=$(new_volume exits)
	run podman run --rm -v "$vol:/data" "$IMG_V1" sh -c 'exit 3'
	assert_eq "$status" 3 "exit 3"
	run podman run --rm -v "$vol:/data" "$IMG_V1" sh -c 'kill -USR1 $$'
	assert_eq "$status" 138 "killed by SIGUSR1"
}

@test "two containers started at once on one old volume: exactly one migrates, both apps start" {
	local vol mp a b pa pb sa sb
	vol=$(new_volume twin)
	seed_v1 "$vol"
	mp=$(vol_path "$vol")
	a=$(name twin-a)
	b=$(name twin-b)
	# The hook takes 5 s, so the second container starts while the first
	# one migrates (checked below from their start times).
	podman run -d --name "$a" -e HOOK_DELAY=5 -v "$vol:/data" "$IMG_V2HOOK" >/dev/null &
	pa=$!
	podman run -d --name "$b" -e HOOK_DELAY=5 -v "$vol:/data" "$IMG_V2HOOK" >/dev/null &
	pb=$!
	wait "$pa"
	wait "$pb"
	wait_log "$a" 'notes v2: serving 2 sessions' 90
	wait_log "$b" 'notes v2: serving 2 sessions' 90
	podman logs "$a" 2>&1 | sed 's/^/A: /'
	podman logs "$b" 2>&1 | sed 's/^/B: /'
	sa=$(podman inspect -f '{{.State.StartedAt.UnixNano}}' "$a")
	sb=$(podman inspect -f '{{.State.StartedAt.UnixNano}}' "$b")
	echo "started $(((sb - sa) / 1000000)) ms apart"
	[ $(((sb > sa ? sb - sa : sa - sb) / 1000000)) -lt 5000 ]
	assert_eq "$(count_lines "$mp/migrations.log")" 1 "hook runs"
	assert_eq "$(cat "$mp/schema_version.txt")" 2 "schema version"
	# Exactly one of the two logs shows the hook.
	assert_eq "$( (podman logs "$a"; podman logs "$b") 2>&1 | grep -c '^hook: ')" 1 "hooks in the logs"
	podman stop -t 20 "$a" "$b" >/dev/null
	assert_eq "$(exit_code "$a")" 0 "A's exit code"
	assert_eq "$(exit_code "$b")" 0 "B's exit code"
}

@test "require_mount: without its volume mounted the container refuses with 66 and writes nothing into its own layer" {
	local c vol logs
	# What require_mount prevents: the same v2 image without it, and no -v,
	# initialises /data inside the container layer, lost at `podman rm`.
	c=$(name unmounted-default)
	run podman run --name "$c" "$IMG_V2" /app/notes once
	echo "$output"
	assert_eq "$status" 0 "exit code without require_mount"
	podman diff "$c" | grep -q '/data/schema_version.txt'

	c=$(name unmounted)
	run podman run --name "$c" "$IMG_V2MOUNT" /app/notes once
	echo "$output"
	assert_eq "$status" 66 "exit code with require_mount"
	logs=$(podman logs "$c" 2>&1)
	assert_contains "$logs" "/data"
	grep -qi 'mount' <<<"$logs"
	refute_contains "$logs" "notes v2"
	if podman diff "$c" | grep '/data/'; then
		echo "volinit wrote into the container layer" >&2
		return 1
	fi

	# Mounted, the same image starts.
	vol=$(new_volume mounted)
	run podman run --rm -v "$vol:/data" "$IMG_V2MOUNT" /app/notes once
	echo "$output"
	assert_eq "$status" 0 "exit code with the volume mounted"
}

@test "a rolled-back v1 image refuses a schema 2 volume with 81" {
	local vol c
	vol=$(new_volume rollback)
	# A fresh volume initialised by the v2 image is at schema 2.
	run podman run --rm -v "$vol:/data" "$IMG_V2" /app/notes once
	assert_eq "$status" 0 "v2 on an empty volume"
	assert_eq "$(cat "$(vol_path "$vol")/schema_version.txt")" 2 "schema version"
	c=$(name rollback)
	run podman run --name "$c" -v "$vol:/data" "$IMG_V1"
	echo "$output"
	assert_eq "$status" 81 "exit code"
	assert_contains "$(podman logs "$c" 2>&1)" 'volinit: FATAL: incompatible persistent state in volume "data" (/data): schema_version=2, expected=1'
}
