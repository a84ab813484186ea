#!/bin/sh
# Smoke test of a release binary (make release-check), run natively or under
# qemu-user-static: the file is static, stripped, without a build ID and for
# the right machine; --version; check on a temporary volume (0, then 80 with
# the FATAL line); a start that runs PROGRAM and passes its status back.
# Usage: release-smoke.sh BINARY RUNNER|"" FILE-MACHINE-WORD (x86-64, aarch64)
set -eu
bin=$1 runner=$2 machine=$3
name=$(basename "$bin")
fail() { echo "release-smoke: $name: $*" >&2; exit 1; }
v() { $runner "$bin" "$@"; }
info=$(file -b "$bin")
case $info in *"$machine"*) ;; *) fail "not a $machine binary: $info" ;; esac
case $info in *"statically linked"*) ;; *) fail "not static: $info" ;; esac
case $info in *", stripped"*) ;; *) fail "not stripped: $info" ;; esac
case $info in *BuildID*) fail "has a build ID: $info" ;; esac
want="volinit $(cat "$(dirname "$0")/../../VERSION")"
[ "$(v --version)" = "$want" ] || fail "--version says '$(v --version)', not '$want'"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir "$t/vol"
echo 2 >"$t/vol/schema_version.txt"
v check --expect "$t/vol=2" || fail "check of a volume at 2 expecting 2 gave $?"
rc=0
v check --expect "$t/vol=3" 2>"$t/err" || rc=$?
[ "$rc" = 80 ] || fail "check of a volume at 2 expecting 3 gave $rc, not 80"
grep -q "^volinit: FATAL: incompatible persistent state in volume \"$t/vol\" ($t/vol): schema_version=2, expected=3" "$t/err" ||
	fail "no FATAL line: $(cat "$t/err")"
rc=0
# qemu-user cannot make volinit a subreaper: its warning is expected there.
v --expect "$t/vol=2" -- sh -c 'exit 3' 2>"$t/err" || rc=$?
[ "$rc" = 3 ] || fail "a start whose PROGRAM exits 3 gave $rc: $(cat "$t/err")"
echo "release-smoke: $name${runner:+ under $runner}: ok ($info)"
