#!/usr/bin/env bats
# The guard: the S003 refusal, on_missing, baseline, on_newer, missing and
# unmounted volumes, several volumes, check, status, on_refuse = hold and
# JSON logs.

# shellcheck disable=SC2153,SC2154,SC2030,SC2031 # helpers.bash sets status, stdout, fatal, BG_PID; bats runs each test in a subshell
load helpers

setup() {
	common_setup
	V=$T/vol
	CFG=$T/volinit.ini
}

# conf [LINE...]: the config for volume "data" on $V expecting 2; extra
# lines (key = value) go to the volume section.
conf() {
	{
		printf '[data]\npath = %s\nexpected = 2\n' "$V"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$CFG"
}

start() { run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"; }

ran() { [ -e "$T/ran" ]; }
never_ran() { [ ! -e "$T/ran" ] || { echo "PROGRAM ran" >&2; return 1; }; }

# The refusal line of SPEC.md "Messages" for volume "data" on $V.
refusal() {
	echo "volinit: FATAL: incompatible persistent state in volume \"data\" ($V): schema_version=$1, expected=$2"
}

# The volume's listing without .volinit/ (where the journal may record the
# refusal) and without the volume's own directory entry (whose mtime its
# creation changes): the data and the version file.
data_listing() { listing "$1" | grep -v -e '^\./\.volinit' -e '^\. '; }

# A volume that holds data.
fill() { mkdir -p "$1/db" && printf 'row 1\nrow 2\n' >"$1/db/table"; }

# --- S003 ----------------------------------------------------------------

@test "guard: S003: the volume holds 1, the image expects 2: 80, the FATAL line, hints, PROGRAM never ran" {
	make_volume "$V" 1
	fill "$V"
	conf
	local before
	before=$(data_listing "$V")
	start
	assert_status 80
	assert_one_fatal
	[ "$fatal" = "$(refusal 1 2)" ]
	assert_prefixed
	never_ran
	# Hint lines follow the FATAL line: what to do next.
	[ "$(grep -A1 '^volinit: FATAL: ' "$T/stderr" | tail -n 1 | cut -c1-15)" = "volinit: hint: " ]
	grep -q '^volinit: hint: .*volinit stamp' "$T/stderr"
	grep -Eq '^volinit: hint: .*(docker volume rm|docker compose down -v)' "$T/stderr"
	# Nothing on the volume was changed.
	[ "$(data_listing "$V")" = "$before" ]
	[ "$(cat "$V/schema_version.txt")" = 1 ]
}

@test "guard: S003 with --expect: the volume is named after its path" {
	make_volume "$V" 1
	run_volinit --expect "$V=2" -- "$PROBE" touch "$T/ran"
	assert_status 80
	assert_one_fatal
	[ "$fatal" = "volinit: FATAL: incompatible persistent state in volume \"$V\" ($V): schema_version=1, expected=2" ]
	never_ran
}

@test "guard: S003 as PID 1 in a fresh PID namespace: 80 and the FATAL line" {
	requires_root
	make_volume "$V" 1
	fill "$V"
	conf
	status=0
	timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc \
		"$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ran" \
		</dev/null >"$T/stdout" 2>"$T/stderr" 3>&- || status=$?
	cat "$T/stderr"
	assert_status 80
	assert_one_fatal
	[ "$fatal" = "$(refusal 1 2)" ]
	never_ran
}

@test "guard: a current volume: PROGRAM runs, its status is volinit's, nothing is printed" {
	make_volume "$V" 2
	fill "$V"
	conf
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran" exit 42
	assert_status 42
	ran
	[ ! -s "$T/stderr" ]
	[ "$(cat "$V/schema_version.txt")" = 2 ]
}

# --- on_missing --------------------------------------------------------

@test "guard: on_missing = init (default): an empty volume gets expected, written as N\\n" {
	make_volume "$V"
	conf
	start
	assert_status 0
	ran
	[ -f "$V/schema_version.txt" ]
	[ ! -L "$V/schema_version.txt" ]
	[ "$(od -An -c "$V/schema_version.txt" | tr -d ' ')" = '2\n' ]
	# No temporary file left behind: only the version file (and .volinit).
	[ "$(find "$V" -mindepth 1 -maxdepth 1 ! -name .volinit -printf '%f\n')" = schema_version.txt ]
}

@test "guard: a volume holding only lost+found and .volinit/ counts as empty" {
	make_volume "$V"
	mkdir "$V/lost+found" "$V/.volinit"
	chmod 0700 "$V/.volinit"
	conf
	start
	assert_status 0
	ran
	[ "$(cat "$V/schema_version.txt")" = 2 ]
}

@test "guard: on_missing = init writes crash-safely: temp file, fsync, rename, fsync of the directory" {
	command -v strace >/dev/null || skip "strace not installed"
	make_volume "$V"
	conf
	# LeakSanitizer cannot work under ptrace: in a sanitizer run, no leak check.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 5 "$VI_TIMEOUT" strace -f -qq -y -e signal=none \
		-e trace=open,openat,creat,fsync,fdatasync,rename,renameat,renameat2,sync,syncfs \
		-o "$T/trace" "$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ran" 3>&-
	ran
	[ "$(cat "$V/schema_version.txt")" = 2 ]
	python3 - "$T/trace" "$V" <<'EOF'
import os, re, sys
trace, vol = sys.argv[1], sys.argv[2]
vf = os.path.join(vol, "schema_version.txt")
lines = open(trace, errors="replace").read().splitlines()

def strings(call):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', call)

rename = None
for i, l in enumerate(lines):
    if re.search(r'\brename(at2?)?\(', l) and l.rstrip().endswith("= 0"):
        s = strings(l)
        if len(s) >= 2 and os.path.basename(s[-1]) == "schema_version.txt":
            rename = i
            tmp = os.path.basename(s[0])
if rename is None:
    sys.exit("no successful rename onto schema_version.txt:\n" + "\n".join(lines))
if tmp == "schema_version.txt":
    sys.exit("renamed from a file of the same name?")
# The version file itself is never opened for writing.
for l in lines:
    if re.search(r'\bopen(at)?\(', l):
        s = strings(l)
        if s and os.path.basename(s[-1]) == "schema_version.txt" and re.search(r'O_(WRONLY|RDWR|CREAT|TRUNC)', l):
            sys.exit("the version file was opened for writing in place: " + l)
tmp_path = os.path.join(vol, tmp)
synced = [l for l in lines[:rename] if re.search(r'\bf(data)?sync\(\d+<' + re.escape(tmp_path) + r'>\) = 0', l)]
if not synced:
    sys.exit("the temporary file %s was not fsynced before the rename" % tmp_path)
dsync = [l for l in lines[rename + 1:] if re.search(r'\bf(data)?sync\(\d+<' + re.escape(vol) + r'>\) = 0', l)]
if not dsync:
    sys.exit("the directory %s was not fsynced after the rename" % vol)
print("ok: %s -> fsync -> rename -> fsync(dir)" % tmp, file=sys.stderr)
EOF
}

@test "guard: on_missing = fail on an empty volume: 80, nothing written" {
	make_volume "$V"
	conf "on_missing = fail"
	start
	assert_status 80
	assert_one_fatal
	assert_contains "$fatal" '"data"'
	never_ran
	[ ! -e "$V/schema_version.txt" ]
}

# --- baseline --------------------------------------------------------

@test "guard: data but no version file and no baseline: 80, schema_version=none" {
	make_volume "$V"
	fill "$V"
	conf
	local before
	before=$(data_listing "$V")
	start
	assert_status 80
	assert_one_fatal
	[ "$fatal" = "$(refusal none 2)" ]
	never_ran
	[ "$(data_listing "$V")" = "$before" ]
}

@test "guard: baseline = 2 on data without a version file: PROGRAM runs" {
	make_volume "$V"
	fill "$V"
	conf "baseline = 2"
	start
	assert_status 0
	ran
}

@test "guard: baseline = 1 on data without a version file, expected 2: older, 80" {
	make_volume "$V"
	fill "$V"
	conf "baseline = 1"
	start
	assert_status 80
	assert_one_fatal
	assert_contains "$fatal" "expected=2"
	never_ran
	[ ! -e "$V/schema_version.txt" ]
}

@test "guard: baseline = 3, expected 2: newer, 81" {
	make_volume "$V"
	fill "$V"
	conf "baseline = 3"
	start
	assert_status 81
	assert_one_fatal
	never_ran
}

@test "guard: baseline does not apply to an empty volume: on_missing = fail still refuses" {
	make_volume "$V"
	conf "baseline = 2" "on_missing = fail"
	start
	assert_status 80
	assert_one_fatal
	never_ran
}

# --- on_newer --------------------------------------------------------

@test "guard: on_newer = fail (default): the volume holds 3, expected 2: 81" {
	make_volume "$V" 3
	conf
	start
	assert_status 81
	assert_one_fatal
	[ "$fatal" = "$(refusal 3 2)" ]
	never_ran
	[ "$(cat "$V/schema_version.txt")" = 3 ]
}

@test "guard: on_newer = allow: PROGRAM runs, the version file is untouched" {
	make_volume "$V" 3
	conf "on_newer = allow"
	start
	assert_status 0
	ran
	[ "$(cat "$V/schema_version.txt")" = 3 ]
}

@test "guard: on_newer = allow does not allow older" {
	make_volume "$V" 1
	conf "on_newer = allow"
	start
	assert_status 80
	[ "$(fatal_lines)" = "$(refusal 1 2)" ]
	never_ran
}

# --- the path --------------------------------------------------------

@test "guard: a missing path: 66, the path named, nothing created" {
	conf
	start
	assert_status 66
	assert_one_fatal
	assert_contains "$fatal" "$V"
	never_ran
	[ ! -e "$V" ]
}

@test "guard: a path that is a file: 66" {
	echo 2 >"$V"
	conf
	start
	assert_status 66
	assert_one_fatal
	assert_contains "$fatal" "$V"
	never_ran
}

@test "guard: require_mount on a directory that is not a mount point: 66" {
	make_volume "$V" 2
	conf "require_mount = true"
	start
	assert_status 66
	assert_one_fatal
	assert_contains "$fatal" "$V"
	never_ran
}

@test "guard: require_mount on a mounted volume: PROGRAM runs" {
	requires_root
	mount_tmpfs "$V"
	echo 2 >"$V/schema_version.txt"
	conf "require_mount = yes"
	start
	assert_status 0
	ran
}

@test "guard: require_mount on a fresh empty mount: on_missing = init writes the version" {
	requires_root
	mount_tmpfs "$V"
	conf "require_mount = on"
	start
	assert_status 0
	ran
	[ "$(cat "$V/schema_version.txt")" = 2 ]
}

@test "guard: require_mount on a directory inside a mount, not the mount point: 66" {
	requires_root
	mount_tmpfs "$T/mnt"
	V=$T/mnt/sub
	make_volume "$V" 2
	conf "require_mount = 1"
	start
	assert_status 66
	assert_one_fatal
	never_ran
}

@test "guard: require_mount on a bind mount of a directory onto itself: a mount point" {
	requires_root
	make_volume "$V" 2
	mount --bind "$V" "$V"
	MOUNTS+=("$V")
	conf "require_mount = true"
	start
	assert_status 0
	ran
}

# --- several volumes --------------------------------------------------------

# Four volumes: a older, b newer, c missing, d corrupt, in the order given.
four_volumes() {
	make_volume "$T/a" 1
	make_volume "$T/b" 3
	make_volume "$T/d"
	printf 'three\n' >"$T/d/schema_version.txt"
	local n
	: >"$CFG"
	for n in "$@"; do
		printf '[%s]\npath = %s\nexpected = 2\n\n' "$n" "$T/$n" >>"$CFG"
	done
}

all_reported() {
	assert_contains "$output" "incompatible persistent state in volume \"a\" ($T/a): schema_version=1, expected=2"
	assert_contains "$output" "incompatible persistent state in volume \"b\" ($T/b): schema_version=3, expected=2"
	assert_contains "$output" "$T/c"
	assert_contains "$output" "$T/d"
	assert_prefixed
	never_ran
}

@test "guard: several volumes: all are reported, the exit code is the first refusal's (80)" {
	four_volumes a b c d
	start
	assert_status 80
	all_reported
}

@test "guard: several volumes in another order: the first refusal is b's (81)" {
	four_volumes b a d c
	start
	assert_status 81
	all_reported
}

@test "guard: several volumes: a missing one first gives 66" {
	four_volumes c d a b
	start
	assert_status 66
	all_reported
}

@test "guard: several volumes: a corrupt one first gives 65" {
	four_volumes d c b a
	start
	assert_status 65
	all_reported
}

@test "guard: several volumes: a good one first does not hide a bad one" {
	make_volume "$T/ok" 2
	make_volume "$T/a" 1
	printf '[ok]\npath = %s\nexpected = 2\n[a]\npath = %s\nexpected = 2\n' "$T/ok" "$T/a" >"$CFG"
	start
	assert_status 80
	never_ran
}

# --- check --------------------------------------------------------

@test "check: every volume compatible: 0, and nothing is created (not even on an empty volume)" {
	make_volume "$T/cur" 2
	make_volume "$T/empty"
	printf '[cur]\npath = %s\nexpected = 2\n[empty]\npath = %s\nexpected = 2\n' "$T/cur" "$T/empty" >"$CFG"
	local before
	before=$(listing "$T")
	run_volinit check -c "$CFG"
	assert_status 0
	[ ! -e "$T/empty/schema_version.txt" ]
	[ ! -e "$T/empty/.volinit" ]
	[ ! -e "$T/cur/.volinit" ]
	# stdout and stderr are captured in $T: compare the volumes only.
	[ "$(listing "$T" | grep -E '^\./(cur|empty)')" = "$(grep -E '^\./(cur|empty)' <<<"$before")" ]
}

@test "check: exits with the code a start would have refused with" {
	make_volume "$V" 1
	conf
	run_volinit check -c "$CFG"
	assert_status 80
	make_volume "$V" 3
	run_volinit check -c "$CFG"
	assert_status 81
	printf 'x\n' >"$V/schema_version.txt"
	run_volinit check -c "$CFG"
	assert_status 65
	rm -rf "$V"
	run_volinit check -c "$CFG"
	assert_status 66
}

@test "check --json: one JSON object on stdout with code and volumes" {
	make_volume "$T/a" 1
	make_volume "$T/b" 2
	make_volume "$T/c"
	fill "$T/c"
	printf '[a]\npath = %s\nexpected = 2\n[b]\npath = %s\nexpected = 2\n[c]\npath = %s\nexpected = 2\n' \
		"$T/a" "$T/b" "$T/c" >"$CFG"
	run_volinit check -c "$CFG" --json
	assert_status 80
	[ "$(jq -s length "$T/stdout")" = 1 ]
	jq -e --arg a "$T/a" --arg b "$T/b" --arg c "$T/c" '
		.code == 80 and
		(.volumes | length) == 3 and
		(.volumes[0] | .name == "a" and .path == $a and .version == 1 and .expected == 2 and .code == 80) and
		(.volumes[1] | .name == "b" and .path == $b and .version == 2 and .expected == 2 and .code == 0) and
		(.volumes[2] | .name == "c" and .path == $c and .version == null and .expected == 2 and .code == 80)
	' "$T/stdout"
}

@test "check --json: all compatible gives code 0" {
	make_volume "$V" 2
	conf
	run_volinit check --json -c "$CFG"
	assert_status 0
	jq -e '.code == 0 and (.volumes | length) == 1 and .volumes[0].version == 2 and .volumes[0].code == 0' "$T/stdout"
}

# --- status --------------------------------------------------------

# Volumes in every state volinit can read, under $T/vols.
every_state() {
	local s=$T/vols
	make_volume "$s/current" 2
	make_volume "$s/older" 1
	make_volume "$s/newer" 3
	make_volume "$s/uninitialized"
	make_volume "$s/unversioned"
	fill "$s/unversioned"
	make_volume "$s/corrupt"
	printf 'zwei\n' >"$s/corrupt/schema_version.txt"
	local n
	: >"$CFG"
	for n in current older newer uninitialized unversioned corrupt; do
		printf '[%s]\npath = %s\nexpected = 2\n\n' "$n" "$s/$n" >>"$CFG"
	done
	# A volume an app has run on: it has .volinit/ and its lock file.
	printf '[current]\npath = %s\nexpected = 2\n' "$s/current" >"$CFG.current"
	run_volinit -c "$CFG.current" -- true
	assert_status 0
	[ -e "$s/current/.volinit/lock" ]
}

@test "status --json: exit 0 whatever the states, each state named, nothing changed" {
	every_state
	local before
	before=$(listing "$T/vols")
	run_volinit status -c "$CFG" --json
	assert_status 0
	[ "$(listing "$T/vols")" = "$before" ]
	[ "$(jq -s length "$T/stdout")" = 1 ]
	local n
	for n in current older newer uninitialized unversioned corrupt; do
		jq -e --arg n "$n" --arg p "$T/vols/$n" \
			'.volumes[] | select(.name == $n) | .path == $p and .state == $n and .expected == 2' \
			"$T/stdout"
	done
	jq -e '[.volumes[] | {(.name): .version}] | add |
		.current == 2 and .older == 1 and .newer == 3 and .uninitialized == null and .unversioned == null' \
		"$T/stdout"
}

@test "status: a table on stdout, exit 0, nothing changed" {
	every_state
	local before
	before=$(listing "$T/vols")
	run_volinit status -c "$CFG"
	assert_status 0
	[ "$(listing "$T/vols")" = "$before" ]
	local n
	for n in current older newer uninitialized unversioned corrupt; do
		assert_contains "$stdout" "$n"
	done
}

@test "check --json changes nothing either" {
	every_state
	local before
	before=$(listing "$T/vols")
	run_volinit check -c "$CFG" --json
	assert_status 80
	[ "$(listing "$T/vols")" = "$before" ]
}

@test "status --json: a missing volume is unavailable" {
	conf
	run_volinit status -c "$CFG" --json
	jq -e --arg p "$V" '.volumes[0] | .name == "data" and .path == $p and .state == "unavailable"' "$T/stdout"
	[ ! -e "$V" ]
}

@test "status and check on a read-only mount: they work and write nothing" {
	requires_root
	mount_tmpfs "$V"
	echo 1 >"$V/schema_version.txt"
	mount -o remount,ro "$V"
	conf
	run_volinit status -c "$CFG" --json
	assert_status 0
	jq -e '.volumes[0].state == "older" and .volumes[0].version == 1' "$T/stdout"
	run_volinit check -c "$CFG"
	assert_status 80
	[ ! -e "$V/.volinit" ]
}

# --- on_refuse = hold --------------------------------------------------------

hold_conf() {
	make_volume "$V" 1
	printf '[volinit]\non_refuse = hold\n[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
}

@test "on_refuse = hold: refuses, stays up idle without PROGRAM until SIGTERM" {
	hold_conf
	start_bg "$PROBE" reset exec "$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ran"
	local pid=$BG_PID
	wait_for_line "$BG_ERR" "^$(refusal 1 2 | sed 's/[][().*^$]/\\&/g')\$"
	assert_idle "$pid"
	never_ran
	# The operator who execs in can read the volume meanwhile.
	timeout -k 5 "$VI_TIMEOUT" "$VOLINIT" status -c "$CFG" --json >"$T/status.json" 3>&-
	jq -e '.volumes[0].state == "older"' "$T/status.json"
	kill -TERM "$pid"
	wait_exit "$pid" 10
	[ "$status" -ne 0 ]
	never_ran
	[ "$(grep -c '^volinit: FATAL: ' "$BG_ERR")" -eq 1 ]
}

@test "on_refuse = hold lets go of the volume: the operator who execs in can stamp it (no lock wait)" {
	hold_conf
	printf 'lock_timeout = 1\n' >>"$CFG"
	start_bg "$PROBE" reset exec "$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ran"
	local pid=$BG_PID
	wait_for_line "$BG_ERR" '^volinit: FATAL: incompatible persistent state'
	assert_idle "$pid"
	[ ! -e "$V/.volinit/holders/"* ]
	run timeout -k 5 "$VI_TIMEOUT" "$VOLINIT" stamp -c "$CFG" data 2 3>&-
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$V/schema_version.txt")" = 2 ]
	kill -TERM "$pid"
	wait_exit "$pid" 10
	[ "$status" -eq 80 ]
	never_ran
}

@test "on_refuse = hold as PID 1: SIGTERM from outside still stops it" {
	requires_root
	hold_conf
	start_bg unshare --pid --fork --mount-proc "$PROBE" reset exec "$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ran"
	local upid=$BG_PID vpid
	vpid=$(ns_init "$upid")
	BG_PIDS+=("$vpid")
	wait_for_line "$BG_ERR" '^volinit: FATAL: incompatible persistent state'
	assert_idle "$vpid"
	kill -TERM "$vpid"
	wait_exit "$upid" 10
	[ "$status" -ne 0 ]
	never_ran
}

# --- log_format = json --------------------------------------------------------

@test "log_format = json: every stderr line of a refusal is a JSON object with time, level, msg; volume and code" {
	make_volume "$V" 1
	printf '[volinit]\nlog_format = json\n[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	start
	assert_status 80
	never_ran
	[ -s "$T/stderr" ]
	is_json_lines "$T/stderr"
	jq -se 'all(has("time") and has("level") and has("msg"))' "$T/stderr"
	jq -se 'any(.volume == "data" and .code == 80 and (.msg | contains("schema_version=1, expected=2")))' "$T/stderr"
}

@test "log_format = json: a message longer than a line (a 3,000-byte path) is cut, and every line stays a JSON object" {
	local long=$T
	while [ ${#long} -lt 3000 ]; do long="$long/d\"ir-with-\"quotes\"-and-caf$(printf '\xc3\xa9')"; done
	printf '[volinit]\nlog_format = json\n' >"$CFG"
	run_volinit -c "$CFG" --expect "$long=2" -- "$PROBE" touch "$T/ran"
	assert_status 66
	never_ran
	is_json_lines "$T/stderr"
	jq -se 'any(.code == 66 and (.msg | endswith("...")) and (.volume | endswith("...")))' "$T/stderr"
}

@test "journal.jsonl stays one whole JSON object per line with a 5,000-byte image holding quotes, newlines and a Latin-1 byte" {
	make_volume "$V" 2
	printf '[volinit]\n[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	local image="registry.example/app:\"q\"\\"$'\n'"$(printf 'caf\xe9')"
	while [ ${#image} -lt 5000 ]; do image="$image-0123456789"; done
	# PROGRAM copies the holders file, which volinit writes while PROGRAM
	# starts: it waits for it (10 s at most) and copies it.
	VOLINIT_IMAGE=$image run_volinit -c "$CFG" -- /bin/sh -c '
		i=0
		until cat "$1"/.volinit/holders/* >"$2" 2>/dev/null && [ -s "$2" ]; do
			i=$((i + 1)); [ "$i" -lt 1000 ] || exit 9; sleep 0.01
		done' sh "$V" "$T/holders"
	assert_status 0
	# One line, cut, with the image's newline made harmless.
	[ "$(wc -l <"$T/holders")" -eq 1 ]
	[ "$(wc -c <"$T/holders")" -le 640 ]
	grep -q '^host=.* pid=[0-9]* since=.* image=registry.example/app:"q"\\?caf' "$T/holders"
	is_json_lines "$V/.volinit/journal.jsonl"
	jq -se 'length == 2 and (.[0].event == "start") and (.[1].event == "exit") and (.[0].image | startswith("registry.example/app:\"q\"\\\n"))
		and (.[0].image | contains("caf\ufffd")) and (.[0].image | endswith("...")) and (.[0].image | length) < 600' \
		"$V/.volinit/journal.jsonl"
}

@test "log_format = json: with -v a healthy start logs JSON lines only, PROGRAM's stdout untouched" {
	make_volume "$V" 2
	printf '[volinit]\nlog_format = json\n[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	run_volinit -v -c "$CFG" -- sh -c 'printf "app output\n"'
	assert_status 0
	[ "$(cat "$T/stdout")" = "app output" ]
	[ -s "$T/stderr" ]
	is_json_lines "$T/stderr"
	jq -se 'all(has("time") and has("level") and has("msg"))' "$T/stderr"
}

# --- a volume volinit cannot write (73) ----------------------------------------

@test "guard: on_missing = init on a read-only volume: 73, PROGRAM never ran" {
	requires_root
	mount_tmpfs "$V"
	mount -o remount,ro "$V"
	conf
	start
	assert_status 73
	assert_one_fatal
	assert_contains "$fatal" "$V"
	never_ran
}

@test "guard: on_missing = init on a volume with no room left: 73, no torn version file" {
	requires_root
	mkdir -p "$V"
	# A tmpfs whose only inode is its root directory: no file can be made.
	mount -t tmpfs -o size=1m,nr_inodes=1,mode=0755 tmpfs "$V"
	MOUNTS+=("$V")
	conf
	start
	assert_status 73
	assert_one_fatal
	never_ran
	[ ! -e "$V/schema_version.txt" ]
}

@test "guard: a current volume on a read-only mount still starts (nothing to write)" {
	requires_root
	mount_tmpfs "$V"
	echo 2 >"$V/schema_version.txt"
	mount -o remount,ro "$V"
	conf
	start
	assert_status 0
	ran
}
