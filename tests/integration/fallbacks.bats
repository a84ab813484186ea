#!/usr/bin/env bats
# Calls that shared filesystems lack (SPEC.md "Shared volumes (several
# nodes)"): renameat2 flags (FUSE, NFS and CephFS answer EINVAL), FICLONE,
# copy_file_range, SEEK_DATA, extended attributes, linkat through a
# descriptor. Each is refused with strace -e inject=, and a migration and a
# failed step's restore still work, keeping what the snapshot must keep:
# data, holes, hard links, symlinks, xattrs.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() {
	mg_setup
	command -v strace >/dev/null || skip "strace is not installed"
	command -v getfattr >/dev/null && command -v setfattr >/dev/null ||
		{ echo "getfattr and setfattr are needed (apt-get install attr)" >&2; return 1; }
}
teardown() { mg_teardown; }

# A volume at 1 with every kind of entry, xattrs, and a 64 MiB file with
# one 4 KiB block of data in its middle (holes around it).
fb_fixture() {
	mg_rich_tree "$VOL"
	echo 1 >"$VOL/schema_version.txt"
	setfattr -n user.app -v one "$VOL/a.txt"
	setfattr -n user.dir -v d "$VOL/d"
	truncate -s 64M "$VOL/sparse.bin"
	printf 'data in the middle' | dd of="$VOL/sparse.bin" bs=4096 seek=8192 conv=notrunc status=none
	sync "$VOL/sparse.bin"
}

fb_xattrs() {
	(cd "$1" && getfattr -R -h -d -m '^user\.' -e hex . 2>/dev/null) |
		awk '/^# file: / { skip = ($3 ~ /^\.volinit(\/|$)/) } !skip'
}

# KiB allocated to the sparse file (a copy that wrote its holes: 65536).
fb_sparse_kib() { du -k "$VOL/sparse.bin" | cut -f1; }

# fb_run TRACE STRACE-ARGS... -- VOLINIT-ARGS...: volinit under strace, its
# trace (-y: paths of descriptors) in TRACE; sets status and output.
fb_run() {
	local trace=$1
	shift
	local sargs=()
	while [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	# LeakSanitizer cannot run under ptrace (make sanitize): leaks unchecked here.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		run timeout -k 5 "$VI_TIMEOUT" strace -f -y -qq -s 120 -o "$trace" "${sargs[@]}" \
		"$VOLINIT" "$@"
	echo "$output"
}

# A step that changes everything the snapshot must bring back, then fails.
fb_failing_hooks() {
	mg_hook 2 'echo two >>a.txt; setfattr -n user.app -v two a.txt; setfattr -x user.dir d
rm hardlink.bin; ln -sf elsewhere link-to-a
dd if=/dev/urandom of=sparse.bin bs=1M count=2 conv=notrunc status=none
exit 3'
}

# fb_restore_case STRACE-ARGS...: a failing step under the faults is
# restored (82) with data, modes, hard links, symlinks, xattrs and holes
# as they were; then the same volume migrates under the same faults.
fb_restore_case() {
	fb_fixture
	fb_failing_hooks
	mg_conf 2
	local before xbefore sparse
	before=$(mg_listing "$VOL")
	xbefore=$(fb_xattrs "$VOL")
	sparse=$(fb_sparse_kib)
	[ "$sparse" -lt 1024 ]
	fb_run "$TD/fail.trace" "$@" -- migrate -c "$CONF"
	[ "$status" -eq 82 ]
	[[ "$output" == *"FATAL"*"exited with 3"*"restored"* ]]
	grep -q INJECTED "$TD/fail.trace"
	diff <(echo "$before") <(mg_listing "$VOL")
	diff <(echo "$xbefore") <(echo "$(fb_xattrs "$VOL")")
	echo "sparse.bin: $(fb_sparse_kib) KiB allocated after the restore, $sparse before"
	[ "$(fb_sparse_kib)" -lt 1024 ]
	[ "$(mg_version)" = 1 ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ ! -e "$VOL/.volinit/snapshot.tmp" ]
	[ -z "$(find "$VOL/.volinit" -maxdepth 1 -name 'snapshot.del.*')" ]

	mg_hook 2 'echo two >>a.txt'
	fb_run "$TD/ok.trace" "$@" -- migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
	[ "$(tail -n1 "$VOL/a.txt")" = two ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ -z "$(find "$VOL/.volinit" -maxdepth 1 -name 'snapshot*')" ]
}

@test "renameat2 flags refused (EINVAL: FUSE, NFS, CephFS): checked plain renames; restored (82), migrated" {
	fb_restore_case -e inject=renameat2:error=EINVAL
	# Every renameat2 refused, each followed by the look and a plain rename.
	grep -E 'renameat2\(.*"snapshot.tmp".*"snapshot", RENAME_NOREPLACE\) = -1 EINVAL.*INJECTED' "$TD/ok.trace"
	grep -E 'newfstatat\(.*"snapshot",.*= -1 ENOENT' "$TD/ok.trace"
	grep -E 'renameat\(.*"snapshot.tmp",.*"snapshot"\) = 0' "$TD/ok.trace"
	grep -E 'renameat\(.*"snapshot",.*"snapshot.del\.[0-9]+\.[0-9]+\.[0-9a-f]{16}"\) = 0' "$TD/ok.trace"
	[ "$(grep -c 'renameat2(' "$TD/ok.trace")" -eq "$(grep -c 'renameat2(.*INJECTED' "$TD/ok.trace")" ]
}

@test "renameat2 flags refused: a snapshot/ still there when the new one is published is never renamed over (73, it stays, nothing changed)" {
	fb_fixture
	mg_hook 2 'echo two >>a.txt'
	mg_conf 2
	# An old snapshot/ (a crash after a finished migration) that the
	# put-aside's plain rename does not move (injected: it answers 0 and
	# does nothing; the holders file's rename is the first renameat).
	mkdir -m 0700 "$VOL/.volinit"
	mkdir "$VOL/.volinit/snapshot"
	echo old >"$VOL/.volinit/snapshot/marker"
	local before
	before=$(mg_listing "$VOL")
	fb_run "$TD/t.trace" -e inject=renameat2:error=EINVAL -e inject=renameat:retval=0:when=2 -- migrate -c "$CONF"
	grep -E 'renameat\(.*"snapshot",.*"snapshot.del\..*= 0 \(INJECTED\)' "$TD/t.trace"
	grep -E 'newfstatat\(.*"snapshot", \{st_mode=S_IFDIR' "$TD/t.trace"
	[ "$status" -eq 73 ]
	[ "$(grep -c '^volinit: FATAL' <<<"$output")" -eq 1 ]
	[[ "$output" == *"FATAL"*"cannot take the snapshot: .volinit/snapshot: File exists"* ]]
	[ "$(cat "$VOL/.volinit/snapshot/marker")" = old ]
	[ ! -e "$VOL/.volinit/snapshot.tmp" ]
	diff <(echo "$before") <(mg_listing "$VOL")
	[ ! -s "$HLOG" ]
	[ "$(mg_version)" = 1 ]
}

@test "FICLONE and copy_file_range refused (EOPNOTSUPP): data copied by read and write, holes stay holes; restored (82), migrated" {
	fb_restore_case -e inject=ioctl:error=EOPNOTSUPP -e inject=copy_file_range:error=EOPNOTSUPP
	grep -q 'copy_file_range(.*INJECTED' "$TD/fail.trace"
	grep -q 'ioctl(.*FICLONE.*INJECTED' "$TD/fail.trace"
	grep -qE 'pwrite64\(.*sparse.bin' "$TD/fail.trace"
}

@test "copy_file_range answering 0 before the end (a filesystem that cannot copy in the kernel): read and write finish the file, nothing is cut short" {
	fb_restore_case -e inject=copy_file_range:retval=0
	grep -q 'copy_file_range(.*= 0 (INJECTED)' "$TD/fail.trace"
}

@test "SEEK_DATA refused (EINVAL, a filesystem that cannot say where holes are): the file is read whole and its zeros stay holes; restored (82), migrated" {
	fb_restore_case -e inject=lseek:error=EINVAL
	grep -qE 'lseek\(.*sparse.bin.*SEEK_DATA\) = -1 EINVAL \(.*\) \(INJECTED\)' "$TD/fail.trace"
}

@test "SEEK_DATA and SEEK_HOLE answering 0 (no extent to trust): the file is read whole and its zeros stay holes; restored (82), migrated" {
	fb_restore_case -e inject=lseek:retval=0
	grep -qE 'lseek\(.*sparse.bin.*SEEK_HOLE\) = 0 \(INJECTED\)' "$TD/fail.trace"
}

@test "extended attributes refused (ENOTSUP, a filesystem that keeps none): the snapshot and the restore go on without them (82), a migration succeeds" {
	fb_fixture
	# A filesystem without xattrs has none to lose: none on the volume.
	setfattr -x user.app "$VOL/a.txt"
	setfattr -x user.dir "$VOL/d"
	mg_hook 2 'echo two >>a.txt; rm hardlink.bin; exit 3'
	mg_conf 2
	local before
	before=$(mg_listing "$VOL")
	fb_run "$TD/fail.trace" -e inject=flistxattr:error=EOPNOTSUPP -e inject=listxattr:error=EOPNOTSUPP -e inject=llistxattr:error=EOPNOTSUPP -- migrate -c "$CONF"
	[ "$status" -eq 82 ]
	grep -q 'listxattr(.*INJECTED' "$TD/fail.trace"
	diff <(echo "$before") <(mg_listing "$VOL")
	mg_hook 2 'echo two >>a.txt'
	fb_run "$TD/ok.trace" -e inject=flistxattr:error=EOPNOTSUPP -e inject=listxattr:error=EOPNOTSUPP -e inject=llistxattr:error=EOPNOTSUPP -- migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
}

@test "an xattr the filesystem lists but refuses to set (EOPNOTSUPP): the snapshot is not taken without it (73 naming the file), nothing changed" {
	fb_fixture
	mg_hook 2 'echo two >>a.txt'
	mg_conf 2
	local before xbefore
	before=$(mg_listing "$VOL")
	xbefore=$(fb_xattrs "$VOL")
	fb_run "$TD/t.trace" -e inject=fsetxattr:error=EOPNOTSUPP -e inject=setxattr:error=EOPNOTSUPP -e inject=lsetxattr:error=EOPNOTSUPP -- migrate -c "$CONF"
	[ "$status" -eq 73 ]
	[[ "$output" == *"FATAL"*"cannot take the snapshot: "*": Operation not supported"* ]]
	[ "$(grep -c '^volinit: FATAL' <<<"$output")" -eq 1 ]
	diff <(echo "$before") <(mg_listing "$VOL")
	diff <(echo "$xbefore") <(echo "$(fb_xattrs "$VOL")")
	[ "$(mg_version)" = 1 ]
	[ ! -s "$HLOG" ]
}

@test "linkat through a descriptor refused (no CAP_DAC_READ_SEARCH, as in a container): hard links are made through /proc/self/fd; restored as links (82)" {
	# Every other linkat (the AT_EMPTY_PATH one of each pair) fails.
	fb_restore_case -e inject=linkat:error=ENOENT:when=1+2
	grep -qE 'linkat\([0-9]+</[^,]*, "", .*AT_EMPTY_PATH\) = -1 ENOENT .*INJECTED' "$TD/fail.trace"
	grep -qE 'linkat\(AT_FDCWD[^,]*, "/proc/self/fd/[0-9]+", .*AT_SYMLINK_FOLLOW\) = 0' "$TD/fail.trace"
}
