#!/usr/bin/env bats
# .volinit/ and what volinit reads from the volume (SPEC.md "State on the
# volume", "The volume is hostile input", "Version file"): .volinit/ is
# volinit's own (owner and mode taken back, one warning, 73 where it cannot
# be); a FIFO or hard link planted in it never hangs volinit nor lets it
# write outside the volume; a hard-linked version file is corrupt and never
# shown; status and check --json are built from parsed fields, valid JSON
# whatever the volume holds, with control characters escaped in text.
#
# Environment: VOLINIT (build/volinit), HELPERS (build/helpers),
# VI_TIMEOUT (seconds for each run, default 30; runs that could hang get 10).

# shellcheck disable=SC2030,SC2031 # VI_TIMEOUT=10 for one call on purpose
# shellcheck disable=SC2016 # the hook expands its own variables
# shellcheck disable=SC2154 # fatal, stdout: set by helpers.bash
bats_require_minimum_version 1.5.0
load helpers

setup() {
	requires_root
	common_setup
	VOL=$T/vol
	OUT=$T/outside
	CONF=$T/volinit.ini
	mkdir -p "$VOL" "$OUT"
	echo 1 >"$VOL/schema_version.txt"
	echo "app data" >"$VOL/data.txt"
	conf 1
	HOLDER="$(uname -n)-1" # the holders file of a volinit that is PID 1
}

# conf EXPECTED [LINE...]: volume "data" on $VOL.
conf() {
	local expected=$1 l
	shift
	{
		echo "[data]"
		echo "path = $VOL"
		echo "expected = $expected"
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
}

# run_pid1 ARG...: as run_volinit, volinit being PID 1 of a new PID
# namespace (its holders file is then $HOLDER); killed with the timeout.
run_pid1() {
	status=0
	timeout -k 5 "$VI_TIMEOUT" unshare --pid --mount-proc --kill-child -- "$VOLINIT" "$@" \
		</dev/null >"$T/stdout" 2>"$T/stderr" 3>&- || status=$?
	stdout=$(cat "$T/stdout")
	output=$(cat "$T/stderr")
	echo "\$ [pid 1] volinit $* (status=$status)"
	echo "--- stdout:"
	cat "$T/stdout"
	echo "--- stderr:"
	cat "$T/stderr"
	echo "---"
}

# warnings [REGEX]: how many warning lines (matching REGEX) volinit printed.
warnings() {
	grep -ac "^volinit: warning: .*${1:-}" "$T/stderr" || true
}

# file_state FILE...: everything that a write, chmod, chown, link or
# unlink through a hard link would change.
file_state() {
	local f
	for f in "$@"; do
		stat -c '%n %F %s %u:%g %a links=%h' "$f"
		sha256sum <"$f"
	done
}

# owner_mode PATH: uid:gid:mode.
owner_mode() { stat -c %u:%g:%a "$1"; }

# A first start, so that .volinit/ holds what volinit makes.
first_start() {
	run_volinit -c "$CONF" -- true
	assert_status 0
	[ -f "$VOL/.volinit/lock" ]
	[ -f "$VOL/.volinit/journal.jsonl" ]
}

# strict_json FILE: one JSON document, strictly: UTF-8, no duplicate key
# (a parser keeping the last one and one keeping the first must agree),
# no NaN.
strict_json() {
	python3 -c '
import json, sys
def pairs(kv):
    keys = [k for k, _ in kv]
    if len(keys) != len(set(keys)):
        sys.exit("duplicate key in %r" % keys)
    return dict(kv)
def bad(c):
    sys.exit("not JSON: " + c)
data = open(sys.argv[1], "rb").read()
json.loads(data.decode("utf-8", "strict"), object_pairs_hook=pairs, parse_constant=bad)
' "$1"
}

# --- planted FIFOs: nothing blocks -----------------------------------------

@test "a FIFO planted as .volinit/journal.jsonl: a start does not hang, warns once, runs the app, and leaves the FIFO alone" {
	first_start
	rm "$VOL/.volinit/journal.jsonl"
	mkfifo -m 0600 "$VOL/.volinit/journal.jsonl"
	VI_TIMEOUT=10 run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
	[ -p "$VOL/.volinit/journal.jsonl" ]
	[ "$(warnings)" -eq 1 ]
	[ "$(warnings 'journal.jsonl is a FIFO')" -eq 1 ]
	# Reading it does not block either.
	VI_TIMEOUT=10 run_volinit status -c "$CONF" --json
	assert_status 0
	strict_json "$T/stdout"
	VI_TIMEOUT=10 run_volinit check -c "$CONF"
	assert_status 0
}

@test "a FIFO planted as volinit's own .volinit/holders file: a start does not hang, warns, runs the app" {
	first_start
	mkdir -p "$VOL/.volinit/holders"
	mkfifo -m 0600 "$VOL/.volinit/holders/$HOLDER"
	VI_TIMEOUT=10 run_pid1 -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
	[ -p "$VOL/.volinit/holders/$HOLDER" ]
	[ "$(warnings "holders/$HOLDER is a FIFO")" -eq 1 ]
}

@test "a FIFO planted as .volinit/dirty: start, migrate and check refuse with 73 naming it, without hanging; status shows it" {
	first_start
	mkfifo -m 0600 "$VOL/.volinit/dirty"
	VI_TIMEOUT=10 run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 73
	assert_one_fatal
	assert_contains "$fatal" ".volinit/dirty is a FIFO"
	[ ! -e "$T/ran" ]
	[ -p "$VOL/.volinit/dirty" ]
	VI_TIMEOUT=10 run_volinit migrate -c "$CONF"
	assert_status 73
	assert_contains "$output" ".volinit/dirty is a FIFO"
	VI_TIMEOUT=10 run_volinit check -c "$CONF" --json
	assert_status 73
	strict_json "$T/stdout"
	VI_TIMEOUT=10 run_volinit status -c "$CONF" --json
	strict_json "$T/stdout"
	[ "$(jq -r '.volumes[0].state' "$T/stdout")" = unreadable ]
	[ -p "$VOL/.volinit/dirty" ]
}

@test "a .volinit/lock that is a FIFO, a directory or a hard link, or a .volinit that is no directory: a start refuses with 73 naming it, without hanging" {
	first_start
	echo "someone else's file" >"$OUT/other"
	local kind before
	before=$(file_state "$OUT/other")
	for kind in fifo directory hardlink; do
		rm -rf "$VOL/.volinit/lock" "$T/ran"
		case $kind in
		fifo) mkfifo -m 0600 "$VOL/.volinit/lock" ;;
		directory) mkdir "$VOL/.volinit/lock" ;;
		hardlink) ln "$OUT/other" "$VOL/.volinit/lock" ;;
		esac
		VI_TIMEOUT=10 run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
		echo "case: $kind"
		assert_status 73
		assert_one_fatal
		assert_contains "$fatal" ".volinit/lock is a"
		[ ! -e "$T/ran" ]
		VI_TIMEOUT=10 run_volinit migrate -c "$CONF"
		assert_status 73
		VI_TIMEOUT=10 run_volinit check -c "$CONF"
		assert_status 73
		VI_TIMEOUT=10 run_volinit status -c "$CONF" --json
		strict_json "$T/stdout"
	done
	rm "$VOL/.volinit/lock"
	[ "$(file_state "$OUT/other")" = "$before" ]
	# .volinit itself a FIFO or a file: 73 naming it, as for a symlink.
	for kind in fifo file; do
		rm -rf "$VOL/.volinit"
		case $kind in
		fifo) mkfifo -m 0600 "$VOL/.volinit" ;;
		file) echo planted >"$VOL/.volinit" ;;
		esac
		VI_TIMEOUT=10 run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
		echo "case: .volinit $kind"
		assert_status 73
		assert_one_fatal
		assert_contains "$fatal" "cannot open .volinit/: Not a directory"
		[ ! -e "$T/ran" ]
	done
}

# --- planted hard links: nothing outside changes ---------------------------

@test "journal.jsonl and a holders file hard-linked to files outside the volume: those stay byte-, owner-, mode- and link-identical after a start, a stop and a migration" {
	first_start
	printf 'sentinel one\n' >"$OUT/s1"
	printf 'sentinel two\n' >"$OUT/s2"
	chown 1234:1235 "$OUT/s1" "$OUT/s2"
	chmod 0640 "$OUT/s1" "$OUT/s2"
	rm "$VOL/.volinit/journal.jsonl"
	ln "$OUT/s1" "$VOL/.volinit/journal.jsonl"
	mkdir -p "$VOL/.volinit/holders"
	ln "$OUT/s2" "$VOL/.volinit/holders/$HOLDER"
	# And another's holders file, which a migration's clearing meets.
	ln "$OUT/s2" "$VOL/.volinit/holders/elsewhere-7"
	local before
	before=$(file_state "$OUT/s1" "$OUT/s2")

	run_pid1 -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
	[ "$(file_state "$OUT/s1" "$OUT/s2")" = "$before" ]
	[ "$(warnings 'journal.jsonl is a regular file with 2 links')" -eq 1 ]
	[ "$(warnings "holders/$HOLDER is a regular file with 3 links")" -eq 1 ]

	# A migration: holders cleared and written under the exclusive lock,
	# the journal written at each step.
	mkdir -p "$T/hooks"
	printf '#!/bin/sh\necho "step $VOLINIT_TO" >>data.txt\n' >"$T/hooks/2"
	chmod 0755 "$T/hooks/2"
	conf 2 "migrations = $T/hooks" "on_older = migrate"
	rm -f "$T/ran"
	run_pid1 -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
	[ "$(cat "$VOL/schema_version.txt")" = 2 ]
	[ "$(file_state "$OUT/s1" "$OUT/s2")" = "$before" ]
}

@test "journal.jsonl.1 hard-linked to a file outside: a rotation leaves that file and its link alone, and warns" {
	first_start
	printf 'sentinel three\n' >"$OUT/s3"
	ln "$OUT/s3" "$VOL/.volinit/journal.jsonl.1"
	# A journal of volinit's past the rotation size.
	python3 -c 'import sys; sys.stdout.write(("{\"event\":\"start\"}\n") * 70000)' \
		>>"$VOL/.volinit/journal.jsonl"
	local before size
	before=$(file_state "$OUT/s3")
	size=$(stat -c %s "$VOL/.volinit/journal.jsonl")
	[ "$size" -gt $((1024 * 1024)) ]
	run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
	[ "$(file_state "$OUT/s3")" = "$before" ]
	[ "$(warnings 'journal.jsonl.1 is a regular file with 2 links')" -eq 1 ]
}

# --- .volinit/ is volinit's --------------------------------------------------

@test "a .volinit/ planted by the app (owner 65534, mode 0777): check and status change nothing; a start takes it back (root, 0700) with one warning" {
	mkdir "$VOL/.volinit" "$VOL/.volinit/holders"
	: >"$VOL/.volinit/lock"
	echo '{"event":"planted"}' >"$VOL/.volinit/journal.jsonl"
	echo "host=app pid=1" >"$VOL/.volinit/holders/app-1"
	chown -R 65534:65534 "$VOL/.volinit"
	chmod 0777 "$VOL/.volinit" "$VOL/.volinit/holders"
	chmod 0666 "$VOL/.volinit/lock" "$VOL/.volinit/journal.jsonl" "$VOL/.volinit/holders/app-1"
	local before
	before=$(listing "$VOL")
	run_volinit check -c "$CONF"
	assert_status 0
	run_volinit check -c "$CONF" --json
	assert_status 0
	run_volinit status -c "$CONF"
	assert_status 0
	run_volinit status -c "$CONF" --json
	assert_status 0
	[ "$(listing "$VOL")" = "$before" ]

	run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
	[ "$(warnings)" -eq 1 ]
	[ "$(warnings 'not volinit.s: owner 65534:65534, mode 0777')" -eq 1 ]
	[ "$(owner_mode "$VOL/.volinit")" = 0:0:700 ]
	[ "$(owner_mode "$VOL/.volinit/holders")" = 0:0:700 ]
	[ "$(owner_mode "$VOL/.volinit/lock")" = 0:0:600 ]
	[ "$(owner_mode "$VOL/.volinit/journal.jsonl")" = 0:0:600 ]
	[ "$(owner_mode "$VOL/.volinit/holders/app-1")" = 0:0:600 ]
	# The next start finds it volinit's: nothing to say.
	run_volinit -c "$CONF" -- true
	assert_status 0
	[ "$(warnings)" -eq 0 ]
}

@test "a volume as kubelet's fsGroup leaves it (group 2000, g+rw, g+s on directories) starts normally, its state taken back, the data untouched" {
	first_start
	run_volinit -c "$CONF" -- true
	chgrp -R 2000 "$VOL"
	chmod -R g+rw "$VOL"
	find "$VOL" -type d -exec chmod g+s {} +
	local data
	data=$(stat -c '%n %u:%g %a' "$VOL/data.txt" "$VOL/schema_version.txt")
	run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
	[ "$(warnings)" -eq 1 ]
	[ "$(warnings 'owner 0:2000, mode 2760')" -eq 1 ]
	[ "$(owner_mode "$VOL/.volinit")" = 0:0:700 ]
	[ "$(owner_mode "$VOL/.volinit/lock")" = 0:0:600 ]
	[ "$(owner_mode "$VOL/.volinit/journal.jsonl")" = 0:0:600 ]
	[ "$(owner_mode "$VOL/.volinit/holders")" = 0:0:700 ]
	[ "$(stat -c '%n %u:%g %a' "$VOL/data.txt" "$VOL/schema_version.txt")" = "$data" ]
	run_volinit -c "$CONF" -- true
	assert_status 0
	[ "$(warnings)" -eq 0 ]
}

@test "a fresh .volinit/ on a setgid volume (fsGroup before the first start) is made volinit's, with nothing to warn about" {
	chgrp 2000 "$VOL"
	chmod 2775 "$VOL"
	run_volinit -c "$CONF" -- true
	assert_status 0
	[ "$(warnings)" -eq 0 ]
	[ "$(owner_mode "$VOL/.volinit")" = 0:0:700 ]
	[ "$(owner_mode "$VOL/.volinit/lock")" = 0:0:600 ]
}

@test "volinit not root, .volinit/ owned by another user: 73 naming .volinit, nothing changed" {
	chmod 0755 "$T"
	chown 1000:1000 "$VOL" "$VOL/schema_version.txt" "$VOL/data.txt"
	mkdir "$VOL/.volinit"
	chown 65534:65534 "$VOL/.volinit"
	chmod 0777 "$VOL/.volinit"
	chmod 0644 "$CONF"
	local before
	before=$(listing "$VOL")
	status=0
	timeout -k 5 "$VI_TIMEOUT" setpriv --reuid 1000 --regid 1000 --clear-groups -- \
		"$VOLINIT" -c "$CONF" -- /bin/true </dev/null >"$T/stdout" 2>"$T/stderr" 3>&- || status=$?
	cat "$T/stderr"
	assert_status 73
	assert_one_fatal
	assert_contains "$fatal" ".volinit/ is owned by uid 65534"
	[ "$(listing "$VOL")" = "$before" ]
}

# --- the version file ------------------------------------------------------

@test "a version file hard-linked to a secret: 65, said to be hard-linked, and the secret's bytes appear nowhere" {
	printf 'hunter2-TOPSECRET\n' >"$OUT/secret"
	chmod 0600 "$OUT/secret"
	rm "$VOL/schema_version.txt"
	ln "$OUT/secret" "$VOL/schema_version.txt"
	local before
	before=$(file_state "$OUT/secret")
	run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 65
	assert_one_fatal
	assert_contains "$fatal" "hard-linked"
	[ ! -e "$T/ran" ]
	local args
	for args in "check" "check --json" "status" "status --json" "migrate" "migrate --dry-run"; do
		# shellcheck disable=SC2086 # args is two words
		run_volinit $args -c "$CONF"
		if grep -a TOPSECRET "$T/stdout" "$T/stderr"; then
			echo "volinit $args showed the secret" >&2
			return 1
		fi
	done
	run_volinit -c "$CONF" -- true
	if grep -a TOPSECRET "$T/stdout" "$T/stderr"; then
		return 1
	fi
	[ "$(file_state "$OUT/secret")" = "$before" ]
}

# --- reports built from parsed fields --------------------------------------

# forged_payloads DIR: one file per forged journal line / dirty marker.
forged_payloads() {
	python3 - "$1" <<'EOF'
import os, sys
d = sys.argv[1]
good = ('{"time":"2026-01-01T00:00:00.000Z","host":"h","pid":1,"image":"","event":"step_ok",'
        '"volume":"data","from":1,"to":2,"detail":null')
payloads = {
    "brackets": b"{[}",
    "unbalanced": b'{"event":"start',
    "quote": b'"',
    "object-then-garbage": b'{"from":1,"to":2}}{',
    "control": b'{"event":"a\x01b\x08c","from":1,"to":2}',
    "esc": b'{"event":"x\x1b[2J\x1b]0;owned\x07","from":1,"to":2,"hook":"\x1b[31m"}',
    "latin1": b'{"event":"caf\xe9","from":1,"to":2}',
    "surrogate": b'{"event":"\xed\xa0\x80","from":1,"to":2}',
    "overlong": b'{"event":"\xc0\xaf","from":1,"to":2}',
    "above-max": b'{"event":"\xf4\x90\x80\x80","from":1,"to":2}',
    "nul": b'{"event":"a\x00b","from":1,"to":2}',
    "megabyte": b'{"event":"' + b"A" * (1024 * 1024) + b'","from":1,"to":2}',
    "duplicate-event": (good + ',"event":"refuse"}').encode(),
    "duplicate-to": b'{"from":1,"to":2,"to":9,"hook":"2"}',
    "extra-key": (good + ',"state":"current"}').encode(),
    "inject-verdict": b'{"event":"x"}],"state":"current","action":"run","code":0,"journal":[{"event":"y"}',
    "inject-dirty": b'{"from":1,"to":2},"state":"current","action":"run","code":0,"x":{"a":1}',
    "nested": b'{"from":1,"to":2,"hook":{"a":[1,2]}}',
}
for name, data in payloads.items():
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
EOF
}

@test "forged journal lines and dirty markers: status --json stays valid JSON and says the same; each forged record is unreadable" {
	first_start
	# Dirty with no snapshot: a start would refuse with 83.
	echo '{"from":1,"to":2,"hook":"2"}' >"$VOL/.volinit/dirty"
	run_volinit status -c "$CONF" --json
	assert_status 0
	strict_json "$T/stdout"
	local verdict
	verdict=$(jq -c '.volumes[0] | [.state, .action, .code, .version]' "$T/stdout")
	[ "$verdict" = '["dirty","refuse",83,1]' ]
	local real
	real=$(head -n 1 "$VOL/.volinit/journal.jsonl")

	mkdir "$T/forged"
	forged_payloads "$T/forged"
	local f name
	for f in "$T"/forged/*; do
		name=${f##*/}
		echo "payload: $name"
		{ printf '%s\n' "$real"; cat "$f"; printf '\n'; } >"$VOL/.volinit/journal.jsonl"
		cp "$f" "$VOL/.volinit/dirty"
		run_volinit status -c "$CONF" --json
		assert_status 0
		strict_json "$T/stdout"
		[ "$(jq -c '.volumes[0] | [.state, .action, .code, .version]' "$T/stdout")" = "$verdict" ]
		[ "$(jq -c '.volumes[0].dirty' "$T/stdout")" = '{"unreadable":true}' ]
		[ "$(jq -c '.volumes[0].journal[-1]' "$T/stdout")" = '{"unreadable":true}' ]
		# The line before it, volinit's, is shown as it was (but for the
		# megabyte: the tail read holds nothing else).
		if [ "$name" != megabyte ]; then
			[ "$(jq -r '.volumes[0].journal[0].event' "$T/stdout")" = start ]
		fi
		[ "$(jq '.volumes | length' "$T/stdout")" -eq 1 ]
		run_volinit check -c "$CONF" --json
		assert_status 83
		strict_json "$T/stdout"
		# Text: nothing but printable ASCII and newlines on stdout.
		run_volinit status -c "$CONF"
		assert_status 0
		if LC_ALL=C grep -naP '[^\x20-\x7e]' "$T/stdout"; then
			echo "status printed the bytes above raw" >&2
			return 1
		fi
		[[ "$stdout" == *"dirty:"*'{"unreadable":true}'* ]]
	done
}

@test "status text shows an ESC from the volume escaped, never raw" {
	first_start
	# volinit's own record shape, with escape sequences in its strings
	# (JSON-escaped) and a line holding raw ESC and BEL bytes.
	printf '%s\n' '{"time":"2026-01-01T00:00:00.000Z","host":"h\u001b[2J","pid":1,"image":"","event":"step_ok","volume":"data","from":1,"to":2,"detail":"\u001b]0;owned\u0007"}' \
		>>"$VOL/.volinit/journal.jsonl"
	printf '{"event":"x\033[2J\033]0;owned\007"}\n' >>"$VOL/.volinit/journal.jsonl"
	printf '{"from":1,"to":2,"hook":"\\u001b[31mred","host":"\\u009b2J"}\n' >"$VOL/.volinit/dirty"
	run_volinit status -c "$CONF"
	assert_status 0
	if LC_ALL=C grep -naP '[\x00-\x09\x0b-\x1f\x7f-\xff]' "$T/stdout"; then
		echo "status printed a control byte raw" >&2
		return 1
	fi
	assert_contains "$stdout" '"detail":"\u001b]0;owned\u0007"'
	assert_contains "$stdout" '"hook":"\u001b[31mred"'
	assert_contains "$stdout" '"host":"\u009b2J"'
	assert_contains "$stdout" 'journal:      {"unreadable":true}'
	run_volinit status -c "$CONF" --json
	strict_json "$T/stdout"
	[ "$(jq -r '.volumes[0].journal[-2].detail' "$T/stdout")" = $'\e]0;owned\a' ]
}
