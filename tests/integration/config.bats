#!/usr/bin/env bats
# Malformed config files (78), version files (65) and command lines (64):
# each gives its documented code and exactly one "volinit: FATAL:" line that
# says where the problem is, PROGRAM never runs, and volinit never crashes.

# shellcheck disable=SC2153,SC2154,SC2030,SC2031 # helpers.bash sets status, stdout, fatal, BG_PID; bats runs each test in a subshell
load helpers

setup() {
	common_setup
	V=$T/vol
	make_volume "$V" 2
	CFG=$T/volinit.ini
}

# cfg: the config file, from stdin.
cfg() { cat >"$CFG"; }

# start: volinit with $CFG, PROGRAM marks that it ran.
start() { run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"; }

# refused CODE: volinit refused with CODE, by itself (no crash, no signal),
# with one FATAL line (in $fatal), and PROGRAM never ran.
refused() {
	assert_status "$1"
	assert_one_fatal
	assert_prefixed
	[ ! -e "$T/ran" ] || { echo "PROGRAM ran" >&2; return 1; }
}

# config_error LINE [KEY]: 78, the FATAL line names $CFG:LINE and KEY.
config_error() {
	start
	refused 78
	assert_contains "$fatal" "$CFG:$1:"
	[ -z "${2:-}" ] || assert_contains "$fatal" "$2"
}

# version_error: 65, the FATAL line names the volume's path.
version_error() {
	start
	refused 65
	assert_contains "$fatal" "$V"
}

# --- a valid config, as the reference the others break ----------------------

@test "config: the reference config is valid and PROGRAM runs" {
	cfg <<EOF
[volinit]
on_refuse = exit
log_format = text
no_new_privs = false
grace = 0

[data]
path = $V
version_file = schema_version.txt
expected = 2
on_missing = init
baseline =
on_older = fail
on_newer = fail
snapshot = true
lock_timeout = 60
require_mount = false
EOF
	start
	assert_status 0
	[ -e "$T/ran" ]
}

@test "config: SPEC.md's example config, inline comments and all, is valid" {
	cfg <<EOF
[volinit]
on_refuse    = exit      ; exit | hold  (hold: stay up, idle, until stopped, so an operator can exec in)
log_format   = text      ; text | json  (one JSON object per line on stderr)
user         =           ; NAME[:GROUP] or UID[:GID]: PROGRAM and hooks run as this user
capabilities =           ; capabilities PROGRAM keeps, e.g. cap_net_bind_service; all others are dropped, bounding set included
no_new_privs = false     ; set PR_SET_NO_NEW_PRIVS before exec
grace        = 0         ; seconds to let other descendants finish after PROGRAM exits (TERM, wait, then KILL)

; every other section is a volume; its name is the section's name
[data]
path          = $V ; required
version_file  = schema_version.txt   ; relative to path
expected      = 2                    ; required
on_missing    = init                 ; init | fail  - version file absent on an EMPTY volume: init writes \`expected\`
baseline      =                      ; version assumed for a NON-empty volume without a version file; unset: refuse
on_older      = fail                 ; fail | migrate
on_newer      = fail                 ; fail | allow
migrations    =                      ; directory of executable hooks (below)
snapshot      = true                 ; copy the volume before migrating, restore it if a step fails
lock_timeout  = 60                   ; seconds to wait while another instance migrates this volume
require_mount = false                ; refuse when path is not a mount point (volume not mounted)
EOF
	start
	assert_status 0
	[ -e "$T/ran" ]
}

@test "config: boundary versions are valid: expected = 0 and 2147483647" {
	printf '[data]\npath = %s\nexpected = 0\n' "$V" >"$CFG"
	echo 0 >"$V/schema_version.txt"
	start
	assert_status 0
	rm "$T/ran"
	printf '[data]\npath = %s\nexpected = 2147483647\n' "$V" >"$CFG"
	echo 2147483647 >"$V/schema_version.txt"
	start
	assert_status 0
	[ -e "$T/ran" ]
}

@test "config: booleans accept true/false/yes/no/on/off/1/0" {
	local b
	for b in true false yes no on off 1 0; do
		printf '[volinit]\nno_new_privs = %s\n[data]\npath = %s\nexpected = 2\nsnapshot = %s\n' \
			"$b" "$V" "$b" >"$CFG"
		rm -f "$T/ran"
		start
		assert_status 0
		[ -e "$T/ran" ]
	done
}

# --- config files: 78 with file, line and key ---------------------------------

@test "config 01: unknown key in a volume section" {
	cfg <<EOF
[data]
path = $V
expected = 2
colour = blue
EOF
	config_error 4 colour
}

@test "config 02: unknown key in [volinit]" {
	cfg <<EOF
[volinit]
on_refuse = exit
verbosity = 3

[data]
path = $V
expected = 2
EOF
	config_error 3 verbosity
}

@test "config 03: duplicate key in a volume section (the second one is named)" {
	cfg <<EOF
[data]
path = $V
expected = 2
expected = 3
EOF
	config_error 4 expected
}

@test "config 04: duplicate key in [volinit]" {
	cfg <<EOF
[volinit]
grace = 1
log_format = text
grace = 2
[data]
path = $V
expected = 2
EOF
	config_error 4 grace
}

@test "config 05: two volumes on one path" {
	cfg <<EOF
[data]
path = $V
expected = 2

[other]
path = $V
expected = 2
EOF
	config_error 6 path
}

@test "config 06: two volumes on one path, spelled with a trailing slash" {
	cfg <<EOF
[data]
path = $V
expected = 2

[other]
path = $V/
expected = 2
EOF
	config_error 6 path
}

@test "config 07: volume without path (the section's line is named)" {
	cfg <<EOF
[volinit]
grace = 0
[data]
expected = 2
EOF
	config_error 3 path
}

@test "config 08: volume without expected" {
	cfg <<EOF
[data]
path = $V
EOF
	config_error 1 expected
}

@test "config 09: expected is not a number" {
	cfg <<EOF
[data]
path = $V
expected = x
EOF
	config_error 3 expected
}

@test "config 10: expected is negative" {
	cfg <<EOF
[data]
path = $V
expected = -1
EOF
	config_error 3 expected
}

@test "config 11: expected past 2147483647" {
	cfg <<EOF
[data]
path = $V
expected = 2147483648
EOF
	config_error 3 expected
}

@test "config 12: expected far past any integer type" {
	cfg <<EOF
[data]
path = $V
expected = 999999999999999999999999999999
EOF
	config_error 3 expected
}

@test "config 13: expected with a fraction" {
	cfg <<EOF
[data]
path = $V
expected = 2.0
EOF
	config_error 3 expected
}

@test "config 14: expected with trailing garbage" {
	cfg <<EOF
[data]
path = $V
expected = 2abc
EOF
	config_error 3 expected
}

@test "config 15: expected in hexadecimal" {
	cfg <<EOF
[data]
path = $V
expected = 0x2
EOF
	config_error 3 expected
}

@test "config 16: relative path" {
	cfg <<EOF
[data]
path = vol
expected = 2
EOF
	config_error 2 path
}

@test "config 17: version_file absolute, or with '.', '..', an empty part, a trailing slash, or in .volinit" {
	local f
	for f in /schema_version.txt sub//x sub/./x sub/../x ./x sub/ .volinit/journal.jsonl; do
		rm -f "$T/ran"
		cfg <<EOF
[data]
path = $V
version_file = $f
expected = 2
EOF
		config_error 3 version_file
	done
}

@test "config 18: version_file '..'" {
	cfg <<EOF
[data]
path = $V
expected = 2
version_file = ..
EOF
	config_error 4 version_file
}

@test "config 19: version_file '.volinit'" {
	cfg <<EOF
[data]
path = $V
expected = 2
version_file = .volinit
EOF
	config_error 4 version_file
}

@test "config 20: on_missing neither init nor fail" {
	cfg <<EOF
[data]
path = $V
expected = 2
on_missing = create
EOF
	config_error 4 on_missing
}

@test "config 21: on_older neither fail nor migrate" {
	cfg <<EOF
[data]
path = $V
expected = 2
on_older = allow
EOF
	config_error 4 on_older
}

@test "config 22: on_newer neither fail nor allow" {
	cfg <<EOF
[data]
path = $V
expected = 2
on_newer = migrate
EOF
	config_error 4 on_newer
}

@test "config 23: snapshot is not a boolean" {
	cfg <<EOF
[data]
path = $V
expected = 2
snapshot = maybe
EOF
	config_error 4 snapshot
}

@test "config 24: require_mount is not a boolean" {
	cfg <<EOF
[data]
path = $V
expected = 2
require_mount = 2
EOF
	config_error 4 require_mount
}

@test "config 25: lock_timeout is negative" {
	cfg <<EOF
[data]
path = $V
expected = 2
lock_timeout = -5
EOF
	config_error 4 lock_timeout
}

@test "config 26: lock_timeout is not a number" {
	cfg <<EOF
[data]
path = $V
expected = 2
lock_timeout = 1m
EOF
	config_error 4 lock_timeout
}

@test "config 27: baseline is not a number" {
	cfg <<EOF
[data]
path = $V
expected = 2
baseline = one
EOF
	config_error 4 baseline
}

@test "config 28: on_refuse neither exit nor hold" {
	cfg <<EOF
[volinit]
on_refuse = wait
[data]
path = $V
expected = 2
EOF
	config_error 2 on_refuse
}

@test "config 29: log_format neither text nor json" {
	cfg <<EOF
[volinit]
log_format = xml
[data]
path = $V
expected = 2
EOF
	config_error 2 log_format
}

@test "config 30: no_new_privs is not a boolean" {
	cfg <<EOF
[volinit]
no_new_privs = perhaps
[data]
path = $V
expected = 2
EOF
	config_error 2 no_new_privs
}

@test "config 31: grace is negative" {
	cfg <<EOF
[volinit]
grace = -1
[data]
path = $V
expected = 2
EOF
	config_error 2 grace
}

@test "config 32: grace with a fraction" {
	cfg <<EOF
[volinit]
grace = 1.5
[data]
path = $V
expected = 2
EOF
	config_error 2 grace
}

@test "config 33: capabilities names no capability" {
	cfg <<EOF
[volinit]
capabilities = cap_no_such_thing
[data]
path = $V
expected = 2
EOF
	config_error 2 capabilities
}

@test "config 34: a key before any section" {
	cfg <<EOF
path = $V
[data]
path = $V
expected = 2
EOF
	config_error 1 path
}

@test "config 35: a line that is no key = value" {
	cfg <<EOF
[data]
path = $V
expected 2
EOF
	config_error 3
}

@test "config 36: an unterminated section header" {
	cfg <<EOF
[data]
path = $V
expected = 2
[other
path = /x
EOF
	config_error 4
}

@test "config 37: an empty expected takes no default: it is missing" {
	cfg <<EOF
[data]
path = $V
expected =
EOF
	start
	refused 78
	assert_contains "$fatal" "$CFG:"
	assert_contains "$fatal" expected
}

@test "config 38: an empty path takes no default: it is missing" {
	cfg <<EOF
[data]
path =
expected = 2
EOF
	start
	refused 78
	assert_contains "$fatal" "$CFG:"
	assert_contains "$fatal" path
}

@test "config 39: a volume section with no keys" {
	cfg <<EOF
[volinit]
grace = 0
[data]
EOF
	start
	refused 78
	assert_contains "$fatal" "$CFG:"
	assert_contains "$fatal" path
}

@test "config 40: binary garbage" {
	printf '\x00\xff\xfe[\x01\n=\x00=\n\x7f[data\n' >"$CFG"
	start
	refused 78
	assert_contains "$fatal" "$CFG"
}

@test "config 41: the file named by -c does not exist" {
	rm -f "$CFG"
	start
	refused 78
	assert_contains "$fatal" "$CFG"
}

@test "config 42: the file named by VOLINIT_CONFIG does not exist" {
	VOLINIT_CONFIG="$T/nope.ini" run_volinit -- "$PROBE" touch "$T/ran"
	refused 78
	assert_contains "$fatal" "$T/nope.ini"
}

@test "config 43: the config file is a directory" {
	mkdir "$CFG"
	start
	refused 78
	assert_contains "$fatal" "$CFG"
}

@test "config 44: an error in the second volume names its line" {
	cfg <<EOF
[a]
path = $V
expected = 2

[b]
path = $T/other
expected = 2
on_newer = sometimes
EOF
	mkdir "$T/other"
	config_error 8 on_newer
}

@test "config 45: empty values take defaults (not errors)" {
	cfg <<EOF
[volinit]
on_refuse =
log_format =
grace =
[data]
path = $V
expected = 2
version_file =
on_missing =
on_older =
on_newer =
snapshot =
lock_timeout =
require_mount =
EOF
	start
	assert_status 0
	[ -e "$T/ran" ]
}

# --- version files: 65, the first bytes shown escaped ----------------------------

@test "version 01: letters" {
	printf 'abc\n' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
	assert_contains "$fatal" abc
}

@test "version 02: empty file" {
	: >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 03: only whitespace" {
	printf ' \n\t\n' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 04: a fraction" {
	printf '1.0\n' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 05: negative" {
	printf -- '-1\n' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 06: a plus sign" {
	printf '+2\n' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 07: past 2147483647" {
	printf '2147483648\n' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 08: two numbers" {
	printf '1 2\n' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 09: two lines" {
	printf '2\n2\n' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 10: a NUL byte after the number" {
	printf '2\0\n' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 11: control and high bytes are shown escaped, not raw" {
	printf '\x01\x1b[31m\xff\xfe2' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
	# The FATAL line is printable ASCII only.
	if LC_ALL=C grep -aq '[^ -~]' <<<"$fatal"; then
		echo "raw bytes in: $fatal" >&2
		return 1
	fi
}

@test "version 12: hexadecimal" {
	printf '0x2\n' >"$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 13: a huge file is corrupt, read with a bound (not swallowed whole)" {
	requires_root
	command -v strace >/dev/null || skip "strace not installed"
	rm "$V/schema_version.txt"
	truncate -s 4G "$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	refused 65
	# Count the bytes volinit read from the version file.
	# (LeakSanitizer cannot work under ptrace: no leak check in a sanitizer run.)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 5 "$VI_TIMEOUT" strace -f -qq -e trace=read,pread64 -e signal=none -y \
		-o "$T/trace" "$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ran" 2>/dev/null || true
	local bytes
	bytes=$(grep -a "schema_version.txt>" "$T/trace" | sed -n 's/.*= \([0-9][0-9]*\)$/\1/p' |
		awk '{ n += $1 } END { print n + 0 }')
	echo "bytes read from the version file: $bytes"
	[ "$bytes" -le 1048576 ]
}

@test "version 14: a symlink to a valid file is refused, not followed" {
	printf '2\n' >"$T/elsewhere"
	rm "$V/schema_version.txt"
	ln -s "$T/elsewhere" "$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 15: a dangling symlink" {
	rm "$V/schema_version.txt"
	ln -s "$T/nowhere" "$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
	[ ! -e "$T/nowhere" ]
}

@test "version 16: a directory" {
	rm "$V/schema_version.txt"
	mkdir "$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	version_error
}

@test "version 17: a FIFO with a writer holding a valid version: refused, no hang" {
	rm "$V/schema_version.txt"
	mkfifo "$V/schema_version.txt"
	# A writer that would hand "2" to anyone who opens the FIFO for reading.
	# shellcheck disable=SC2016 # $1 is the inner shell's
	start_bg sh -c 'echo 2 >"$1"' sh "$V/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	VI_TIMEOUT=15 version_error
}

@test "version 18: a character device" {
	requires_root
	rm "$V/schema_version.txt"
	mknod "$V/schema_version.txt" c 1 5 # /dev/zero
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	VI_TIMEOUT=15 version_error
}

@test "version 19: a custom version_file is read, and refused when corrupt" {
	printf '16x\n' >"$V/PG_VERSION"
	printf '[data]\npath = %s\nversion_file = PG_VERSION\nexpected = 16\n' "$V" >"$CFG"
	version_error
}

@test "version 20: valid forms: bare, surrounded by ASCII whitespace, CRLF" {
	local v
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	for v in '2' '2\n' ' 2 \n' '\t2\r\n' '\n\n2\n\n'; do
		printf '%b' "$v" >"$V/schema_version.txt"
		rm -f "$T/ran"
		start
		assert_status 0
		[ -e "$T/ran" ]
	done
}

@test "version 21: the same corrupt file through --expect is 65 too" {
	printf 'two\n' >"$V/schema_version.txt"
	run_volinit --expect "$V=2" -- "$PROBE" touch "$T/ran"
	refused 65
	assert_contains "$fatal" "$V"
}

# --- command lines: 64 -----------------------------------------------------------

# version_file as a relative path below the volume (pgdata/PG_VERSION: the
# volume mounted one level above PostgreSQL's data directory, so that
# .volinit/ sits beside PGDATA and not in it).
@test "version 22: version_file = pgdata/PG_VERSION is read beneath the volume; .volinit/ stays beside pgdata" {
	mkdir "$V/pgdata"
	printf '2\n' >"$V/pgdata/PG_VERSION"
	rm "$V/schema_version.txt"
	printf '[data]\npath = %s\nversion_file = pgdata/PG_VERSION\nexpected = 2\n' "$V" >"$CFG"
	start
	assert_status 0
	[ -e "$T/ran" ]
	[ -d "$V/.volinit" ]
	[ ! -e "$V/pgdata/.volinit" ]
	printf '1\n' >"$V/pgdata/PG_VERSION"
	rm "$T/ran"
	start
	refused 80
	assert_contains "$fatal" "schema_version=1, expected=2"
}

@test "version 23: stamp writes pgdata/PG_VERSION in place, owned as its directory, no temporary file left" {
	requires_root
	mkdir "$V/pgdata"
	chown 4242:4243 "$V/pgdata"
	printf '1\n' >"$V/pgdata/PG_VERSION"
	printf '[data]\npath = %s\nversion_file = pgdata/PG_VERSION\nexpected = 2\n' "$V" >"$CFG"
	run_volinit stamp -c "$CFG" data 2
	assert_status 0
	[ "$(cat "$V/pgdata/PG_VERSION")" = 2 ]
	[ "$(stat -c %u:%g "$V/pgdata/PG_VERSION")" = 4242:4243 ]
	[ "$(find "$V/pgdata" -mindepth 1 | wc -l)" -eq 1 ]
	[ "$(cat "$V/schema_version.txt")" = 2 ] # the old one, untouched
}

@test "version 24: a symlink in version_file's path is never followed (65); a file there is 65 too; a missing directory is a missing file" {
	mkdir -p "$T/outside"
	printf '2\n' >"$T/outside/PG_VERSION"
	ln -s "$T/outside" "$V/pgdata"
	printf '[data]\npath = %s\nversion_file = pgdata/PG_VERSION\nexpected = 2\n' "$V" >"$CFG"
	version_error
	assert_contains "$fatal" "symbolic link"
	rm "$V/pgdata"
	printf 'x\n' >"$V/pgdata"
	rm -f "$T/ran"
	version_error
	rm "$V/pgdata"
	# No pgdata at all, on a volume with data (schema_version.txt): no
	# version file and no baseline, 80.
	rm -f "$T/ran"
	start
	refused 80
	[ "$(cat "$T/outside/PG_VERSION")" = 2 ]
}

@test "cmdline 01: --expect with a relative path" {
	run_volinit --expect vol=2 -- "$PROBE" touch "$T/ran"
	refused 64
}

@test "cmdline 02: --expect 'PATH=' with trailing garbage in the number" {
	run_volinit --expect "$V=2x" -- "$PROBE" touch "$T/ran"
	refused 64
}

@test "cmdline 03: --expect with no path" {
	run_volinit --expect =2 -- "$PROBE" touch "$T/ran"
	refused 64
}

@test "cmdline 04: --grace with a fraction" {
	run_volinit --expect "$V=2" --grace 0.5 -- "$PROBE" touch "$T/ran"
	refused 64
}

@test "cmdline 05: -e with trailing garbage" {
	run_volinit --expect "$V=2" -e 3x -- "$PROBE" touch "$T/ran"
	refused 64
}

@test "cmdline 06: a bad command line wins over a bad config (64, not 78)" {
	printf 'garbage\n' >"$CFG"
	run_volinit --bogus -c "$CFG" -- "$PROBE" touch "$T/ran"
	refused 64
}

# SPEC.md ("Migrations": the config file is the image's) now refuses a
# config its group may write too; this test accepted 0664 before issue 12.
@test "config: a config file anyone or its group may write is refused (78); 0644 runs" {
	cfg <<EOF
[data]
path = $V
expected = 2
EOF
	chmod 0666 "$CFG"
	start
	refused 78
	assert_contains "$fatal" "config file $CFG: writable by group and others (mode 0666)"
	chmod 0664 "$CFG"
	start
	refused 78
	assert_contains "$fatal" "config file $CFG: writable by its group (mode 0664)"
	chmod 0644 "$CFG"
	start
	assert_status 0
	[ -e "$T/ran" ]
}

@test "config: a directory given as config file is 78" {
	mkdir "$T/dir.ini"
	run_volinit -c "$T/dir.ini" -- "$PROBE" touch "$T/ran"
	refused 78
	assert_contains "$fatal" "not a regular file"
}

@test "config: one directory configured twice under another spelling is 78 naming both, at once" {
	ln -s vol "$T/vol-link"
	# An empty volume: [a] initializes it and holds its shared lock, and
	# [b] would wait for the exclusive one for lock_timeout (60 s): a run
	# that hangs shows as 124 here.
	mkdir "$T/empty"
	local other
	for other in "$T/empty/." "$T/empty-link" "$T/../$(basename "$T")/empty"; do
		ln -sfn empty "$T/empty-link"
		printf '[a]\npath = %s\nexpected = 2\n[b]\npath = %s\nexpected = 2\n' \
			"$T/empty" "$other" >"$CFG"
		VI_TIMEOUT=10 start
		refused 78
		assert_contains "$fatal" "$CFG:5: [b] path: $other is the same directory as $T/empty, the path of [a]"
		[ ! -e "$T/empty/schema_version.txt" ]
	done
	# --expect against the file, and --expect twice.
	printf '[a]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	VI_TIMEOUT=10 run_volinit -c "$CFG" --expect "$V/.=2" -- "$PROBE" touch "$T/ran"
	refused 78
	assert_contains "$fatal" "$V/. is the same directory as $V, the path of [a]"
	VI_TIMEOUT=10 run_volinit check --expect "$V=2" --expect "$T/vol-link=2"
	assert_status 78
	assert_contains "$output" "$T/vol-link is the same directory as $V"
	[ ! -e "$T/ran" ]
}
