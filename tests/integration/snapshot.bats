#!/usr/bin/env bats
# Snapshots and dirty volumes (SPEC.md "State on the volume"): a failed step
# restores the volume byte-identically (82); without a snapshot the volume
# stays dirty, starts refuse with 83 until `volinit stamp`; status shows it.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() { mg_setup; }
teardown() { mg_teardown; }

# Step 2 changes the volume and succeeds, step 3 changes it more and fails:
# every kind of change a hook can make, each of which must be undone.
failing_middle_hooks() {
	mg_hook 0002-ok 'echo step2 >>a.txt; mkdir new-dir; echo new >new-dir/f; touch new-file'
	mg_hook 0003-fails '
rm d/big.bin
echo truncated >hardlink.bin
ln -sf elsewhere link-to-a
rm dangling
chmod 0600 setuid
chown 0:0 d/sub
chmod 0700 d/sub
rm -r d/empty
rm "name with spaces/f"
touch -d "2020-01-01" a.txt d
echo more >>d/sub/a-again.txt
mknod d/dev c 1 3
exit 3'
	mg_hook 0004-never
}

@test "a failing middle step is restored byte-identically: contents, modes, owners, mtimes, symlinks, hard links (82)" {
	mg_rich_tree "$VOL"
	echo 1 >"$VOL/schema_version.txt"
	failing_middle_hooks
	mg_conf 4
	local before
	before=$(mg_listing "$VOL")
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 82 ]
	[[ "$output" == *"FATAL"*"step 2 -> 3 (0003-fails) exited with 3"*"restored"* ]]
	# Step 2 ran and step 3 failed; step 4 never ran.
	[ "$(cat "$HLOG")" = "0002-ok 1 2
0003-fails 2 3" ]
	diff <(echo "$before") <(mg_listing "$VOL")
	[ "$(mg_version)" = 1 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ ! -e "$VOL/.volinit/snapshot.tmp" ]
	run mg_events
	echo "$output"
	[[ "$output" =~ ^"migrate_begin 1 4
step_ok 1 2
step_fail 2 3
restore "[^$'\n']*$ ]]
	[ "$(jq -r 'select(.event == "step_fail") | .detail' "$VOL/.volinit/journal.jsonl")" = "exited with 3" ]
}

@test "after a restore, a fixed hook migrates the restored volume from the start" {
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	mg_hook 2 'echo two >>data.txt'
	mg_hook 3 'echo three >>data.txt; exit 1'
	mg_conf 3
	run vi migrate -c "$CONF"
	[ "$status" -eq 82 ]
	[ "$(cat "$VOL/data.txt")" = base ]
	[ "$(mg_version)" = 1 ]
	mg_hook 3 'echo three >>data.txt'
	run vi -c "$CONF" -- true
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$VOL/data.txt")" = "base
two
three" ]
	[ "$(mg_version)" = 3 ]
}

@test "a restore puts back the volume root's own mode and owner" {
	mg_rich_tree "$VOL"
	echo 1 >"$VOL/schema_version.txt"
	chown 4321:4321 "$VOL"
	chmod 0750 "$VOL"
	mg_hook 2 'chmod 0777 .; chown 0:0 .; exit 1'
	mg_conf 2
	run vi migrate -c "$CONF"
	[ "$status" -eq 82 ]
	[ "$(stat -c '%a %u %g' "$VOL")" = "750 4321 4321" ]
}

# Every extended attribute under DIR but .volinit/ (ACLs are system.posix_acl_*), hex.
xattr_listing() {
	(cd "$1" && getfattr -R -h -d -m - -e hex . 2>/dev/null) |
		awk '/^# file: / { skip = ($3 ~ /^\.volinit(\/|$)/) } !skip'
}

@test "a restore puts back extended attributes and POSIX ACLs (files, directories, FIFOs), and drops those a step or the root's default ACL added" {
	command -v setfacl >/dev/null && command -v getfattr >/dev/null ||
		{ echo "setfacl and getfattr are needed (apt-get install acl attr)" >&2; return 1; }
	echo 1 >"$VOL/schema_version.txt"
	mkdir -p "$VOL/d/sub"
	echo a >"$VOL/a.txt"
	echo b >"$VOL/d/sub/b.txt"
	ln -s a.txt "$VOL/link"
	mkfifo "$VOL/fifo-acl" "$VOL/fifo-plain"
	setfacl -m u:4321:rw "$VOL/fifo-acl"
	cp "$PROBE" "$VOL/tool"
	setcap cap_net_raw+ep "$VOL/tool"
	setfattr -n user.app -v one "$VOL/a.txt"
	setfattr -n user.empty "$VOL/a.txt"
	setfattr -n user.big -v "$(head -c 1000 /dev/zero | tr '\0' x)" "$VOL/d/sub/b.txt"
	setfacl -m u:4321:r "$VOL/a.txt"
	setfacl -m u:4321:rx -d -m u:4321:rwx "$VOL/d"
	setfattr -n user.root -v r "$VOL"
	# Set last: what a restore creates in the root inherits it, and must not keep it.
	setfacl -d -m g:4321:rx "$VOL"
	local before modes
	before=$(xattr_listing "$VOL")
	modes=$(mg_listing "$VOL")
	[[ "$before" == *"# file: fifo-acl"$'\n'"system.posix_acl_access="* ]]
	[[ "$before" != *"# file: fifo-plain"* ]]
	[[ "$before" == *"# file: a.txt"*"system.posix_acl_access="*"user.app=0x6f6e65"*"user.empty"* ]]
	[[ "$before" == *"# file: d"$'\n'*"system.posix_acl_default="* ]]
	[[ "$before" == *"# file: d/sub/b.txt"$'\n'"user.big=0x7878"* ]]
	[[ "$before" == *"# file: ."$'\n'*"user.root=0x72"* ]]
	[[ "$before" == *"# file: tool"$'\n'"security.capability="* ]]
	mg_hook 2 'setcap -r tool; setfattr -n user.app -v two a.txt; setfattr -x user.empty a.txt; setfacl -b a.txt
setfattr -n user.new -v x d/sub/b.txt; setfacl -k d; setfacl -b fifo-acl
setfattr -n user.root -v changed .; setfattr -n user.added -v y .; exit 1'
	mg_conf 2
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 82 ]
	diff <(echo "$before") <(echo "$(xattr_listing "$VOL")")
	diff <(echo "$modes") <(mg_listing "$VOL")
	[ "$(mg_version)" = 1 ]
}

@test "a file capability volinit cannot copy (no CAP_SETFCAP) stops the snapshot: 73 naming the file, nothing changed" {
	command -v capsh >/dev/null && command -v setcap >/dev/null ||
		{ echo "capsh and setcap are needed (apt-get install libcap2-bin)" >&2; return 1; }
	echo 1 >"$VOL/schema_version.txt"
	mkdir "$VOL/bin"
	cp "$PROBE" "$VOL/bin/tool"
	setcap cap_net_raw+ep "$VOL/bin/tool"
	mg_hook 2 'echo changed >data.txt'
	mg_conf 2
	local before
	before=$(mg_listing "$VOL")
	run capsh --drop=cap_setfcap -- -c "exec $VOLINIT migrate -c $CONF"
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *"FATAL"*"cannot take the snapshot: bin/tool: Operation not permitted"* ]]
	[[ "$output" == *"hint: nothing on the volume was changed"*"CAP_SETFCAP"* ]]
	[ ! -s "$HLOG" ] # no hook ran
	diff <(echo "$before") <(mg_listing "$VOL")
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ ! -e "$VOL/.volinit/snapshot.tmp" ]
	[ "$(getcap "$VOL/bin/tool")" = "$VOL/bin/tool cap_net_raw=ep" ]
	# With the capability the same migration goes through, and keeps it.
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
	[ "$(getcap "$VOL/bin/tool")" = "$VOL/bin/tool cap_net_raw=ep" ]
}

@test "a restore that cannot remove what a step left (an immutable file) names it: 82, the snapshot kept, restored on the next start" {
	command -v chattr >/dev/null || { echo "chattr is needed (e2fsprogs)" >&2; return 1; }
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	mg_hook 2 'echo two >>data.txt; mkdir -p sub; touch sub/locked; chattr +i sub/locked; exit 1'
	mg_conf 2
	run vi migrate -c "$CONF"
	chattr -i "$VOL/sub/locked" 2>/dev/null || true
	echo "$output"
	[ "$status" -eq 82 ]
	[[ "$output" == *"FATAL"*"exited with 1, and the restore failed: sub/locked: Operation not permitted"* ]]
	[[ "$output" == *"hint: the snapshot is kept in $VOL/.volinit/snapshot"* ]]
	[ -d "$VOL/.volinit/snapshot" ]
	[ -e "$VOL/.volinit/dirty" ]
	# Once the file can go, the next start restores, then migrates with the fixed hook.
	mg_hook 2 'echo two >>data.txt'
	run vi -c "$CONF" -- true
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"restoring its snapshot"* ]]
	[ "$(cat "$VOL/data.txt")" = "base
two" ]
	[ ! -e "$VOL/sub" ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ "$(mg_version)" = 2 ]
}

@test "the snapshot holds the volume during the steps and is removed after success" {
	mg_rich_tree "$VOL"
	echo 1 >"$VOL/schema_version.txt"
	# The hook lists the snapshot as it sees it.
	mg_hook 2 "
bash -c \". '$VI_REPO/tests/integration/migrate_helpers.bash'; mg_listing .volinit/snapshot\" >'$TD/snap-listing'
ls -A .volinit/snapshot >'$TD/snap-names'"
	mg_conf 2
	local before
	before=$(mg_listing "$VOL")
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	cat "$TD/snap-names"
	[ "$(mg_count "^\\.volinit$" "$TD/snap-names")" -eq 0 ]
	diff <(echo "$before" | grep -v '^root ') <(grep -v '^root ' "$TD/snap-listing")
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ ! -e "$VOL/.volinit/snapshot.tmp" ]
}

@test "snapshot = false: a failed step leaves .volinit/dirty, starts give 83, stamp clears it (journaled), then the start succeeds" {
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	mg_hook 2 'echo two >>data.txt'
	mg_hook 3 "echo half >>data.txt; [ ! -e '$TD/break' ]"
	mg_hook 4 'echo four >>data.txt'
	touch "$TD/break"
	mg_conf 4 "snapshot = false"
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 82 ]
	[[ "$output" == *"left dirty"* ]]
	[ -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	jq -e '.from == 2 and .to == 3 and .hook == "3"' "$VOL/.volinit/dirty"
	# The data is left as the failed hook left it: nothing to restore.
	[ "$(cat "$VOL/data.txt")" = "base
two
half" ]
	[ "$(mg_version)" = 2 ]

	# Every start refuses with 83, and changes nothing; so does migrate.
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 83 ]
	[[ "$output" == *"FATAL"*"dirty"* ]]
	[[ "$output" == *" --entrypoint "*" stamp -c $CONF data N"* ]]
	[ ! -e "$TD/app-ran" ]
	run vi check -c "$CONF"
	[ "$status" -eq 83 ]
	run vi migrate -c "$CONF"
	[ "$status" -eq 83 ]
	[ "$(cat "$HLOG" | wc -l)" -eq 2 ]

	# The operator repairs the data and says where it stands.
	printf 'base\ntwo\n' >"$VOL/data.txt"
	rm "$TD/break"
	run vi stamp -c "$CONF" data 2
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ "$(mg_version)" = 2 ]
	[ "$(jq -r 'select(.event == "stamp") | "\(.to) \(.detail)"' "$VOL/.volinit/journal.jsonl")" = "2 by an operator; cleared dirty" ]

	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/app-ran" ]
	[ "$(mg_version)" = 4 ]
	[ "$(cat "$VOL/data.txt")" = "base
two
half
four" ]
}

@test "a start that finds dirty plus a complete snapshot restores it, journals restore, and migrates" {
	mg_rich_tree "$VOL"
	echo 1 >"$VOL/schema_version.txt"
	local before
	before=$(mg_listing "$VOL")
	# The state a crash during a hook leaves (the crash itself is in
	# faults.bats): a complete snapshot, the marker, a half-changed volume.
	mkdir -m 0700 "$VOL/.volinit" "$VOL/.volinit/snapshot"
	# One cp for everything, so that hard links across directories stay links.
	(cd "$VOL" && find . -mindepth 1 -maxdepth 1 ! -name .volinit -print0 |
		xargs -0 cp -a -t .volinit/snapshot/)
	printf '{"from":1,"to":2,"hook":"2","sha256":"","pid":99999,"host":"elsewhere","started_at":"2020-01-01T00:00:00Z"}\n' >"$VOL/.volinit/dirty"
	echo half >>"$VOL/a.txt"
	rm "$VOL/hardlink.bin" "$VOL/link-to-a"
	echo new >"$VOL/new-file"
	run vi status -c "$CONF"
	mg_hook 2 'echo two >>a.txt'
	mg_conf 2
	run vi status -c "$CONF"
	echo "$output"
	[[ "$output" == *"state:"*"dirty"* ]]
	[[ "$output" == *"snapshot:"*"present"* ]]
	[[ "$output" == *"a start:"*"restore"* ]]

	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/app-ran" ]
	[ "$(mg_version)" = 2 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ "$(cat "$HLOG")" = "2 1 2" ]
	# Restored, then migrated once: a.txt gained "two" only; the rest as before.
	[ "$(cat "$VOL/a.txt")" = "hello
two" ]
	diff <(echo "$before" | grep -v 'a\.txt\|a-again\.txt\|schema_version\|^root ') \
		<(mg_listing "$VOL" | grep -v 'a\.txt\|a-again\.txt\|schema_version\|^root ')
	run mg_events
	echo "$output"
	[[ "$output" =~ ^"restore "[^$'\n']*"
migrate_begin 1 2
step_ok 1 2
start 2 2
exit 2 2"$ ]]
}

@test "dirty with a snapshot that, restored, is still too old (on_older = fail): check says 80 and changes nothing; a start restores, then refuses 80 and says it restored" {
	echo 1 >"$VOL/schema_version.txt"
	echo keep >"$VOL/data.txt"
	mkdir -m 0700 "$VOL/.volinit" "$VOL/.volinit/snapshot"
	cp -a "$VOL/data.txt" "$VOL/schema_version.txt" "$VOL/.volinit/snapshot/"
	printf '{"from":1,"to":2,"hook":"2","sha256":"","pid":99999,"host":"elsewhere","started_at":"2020-01-01T00:00:00Z"}\n' >"$VOL/.volinit/dirty"
	echo half >>"$VOL/data.txt"
	printf '[volinit]\n[data]\npath = %s\nexpected = 2\n' "$VOL" >"$TD/fail.ini"
	local before
	before=$(mg_listing "$VOL")

	run --separate-stderr vi check --json -c "$TD/fail.ini"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 80 ]
	jq -e '.code == 80 and .volumes[0].action == "restore" and .volumes[0].code == 80
		and .volumes[0].state == "older" and .volumes[0].version == 1' <<<"$output"
	[[ "$stderr" == *"a start restores it first"*"FATAL: incompatible persistent state in volume \"data\" ($VOL): schema_version=1, expected=2"* ]]
	[[ "$stderr" == *"hint: the data on the volume was not changed"* ]]
	[ "$(mg_listing "$VOL")" = "$before" ]
	[ -e "$VOL/.volinit/dirty" ]
	[ -d "$VOL/.volinit/snapshot" ]

	run vi -c "$TD/fail.ini" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 80 ]
	[[ "$output" == *"restoring its snapshot"*"FATAL: incompatible persistent state in volume \"data\" ($VOL): schema_version=1, expected=2"* ]]
	[[ "$output" == *"hint: the volume was restored from its snapshot, as it was before the interrupted migration"* ]]
	[[ "$output" != *"the data on the volume was not changed"* ]]
	[ ! -e "$TD/app-ran" ]
	[ "$(cat "$VOL/data.txt")" = keep ]
	[ ! -e "$VOL/.volinit/dirty" ]
}

@test "check on dirty with a snapshot that a start would restore and then migrate: 0, nothing changed" {
	echo 1 >"$VOL/schema_version.txt"
	echo keep >"$VOL/data.txt"
	mkdir -m 0700 "$VOL/.volinit" "$VOL/.volinit/snapshot"
	cp -a "$VOL/data.txt" "$VOL/schema_version.txt" "$VOL/.volinit/snapshot/"
	printf '{"from":1,"to":2,"hook":"2","sha256":"","pid":99999,"host":"elsewhere","started_at":"2020-01-01T00:00:00Z"}\n' >"$VOL/.volinit/dirty"
	mg_hook 2
	mg_conf 2
	run --separate-stderr vi check --json -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e '.code == 0 and .volumes[0].action == "restore" and .volumes[0].state == "older"' <<<"$output"
	[ -e "$VOL/.volinit/dirty" ]
	[ ! -s "$HLOG" ]
	# Without the hook for that step, check finds what the start would.
	rm "$HOOKS/2"
	run vi check -c "$CONF"
	[ "$status" -eq 80 ]
	[[ "$output" == *"no hook for step 1 -> 2"* ]]
}

@test "status shows dirty with its JSON, the snapshot and the last journal events" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 0002-split-sessions.sh "exec '$PROBE' signals '$TD/hook-signals'"
	mg_conf 2
	mg_bg "$TD/migrate.out" "$VOLINIT" migrate -c "$CONF"
	local mpid=$MG_PID
	wait_for_line "$TD/hook-signals" '^ready$'

	run --separate-stderr vi status -c "$CONF" --json
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e . <<<"$output" >/dev/null
	local v
	v=$(jq -c '.volumes[0]' <<<"$output")
	jq -e '.snapshot == true and .state == "dirty" and .action == "restore"' <<<"$v"
	# What the version file says meanwhile: still 1.
	jq -e '.version == 1' <<<"$v"
	jq -e '.lock == "exclusive"' <<<"$v"
	jq -e '(.journal | length) >= 1 and .journal[-1].event == "migrate_begin"' <<<"$v"
	# The dirty marker's JSON, whole: as an object, or as a string holding it.
	run jq -e --arg sum "$(sha256sum "$HOOKS/0002-split-sessions.sh" | cut -d' ' -f1)" \
		--arg host "$(uname -n)" --argjson pid "$mpid" '
		.dirty | (if type == "string" then fromjson else . end)
		| .from == 1 and .to == 2 and .hook == "0002-split-sessions.sh"
		and .sha256 == $sum and .pid == $pid and .host == $host
		and (.started_at | type) == "string"' <<<"$v"
	echo "$output"
	[ "$status" -eq 0 ]

	run --separate-stderr vi status -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"state:"*"dirty"* ]]
	[[ "$output" == *"version:"*"schema_version.txt = 1 (a migration step did not finish)"* ]]
	[[ "$output" == *"dirty:"*"0002-split-sessions.sh"* ]]
	[[ "$output" == *"snapshot:"*"present"* ]]
	[[ "$output" == *"journal:"*'"event":"migrate_begin"'* ]]
	# The text form shows the marker as JSON too, not escaped twice.
	[[ "$output" == *'"hook":"0002-split-sessions.sh"'* ]]

	kill -TERM "$mpid"
	mg_wait_exit "$mpid"
}

@test "a mount inside the volume (a tmpfs at uploads): the snapshot leaves it out, a failed step's restore puts the rest back and leaves the mount and its files alone" {
	mg_rich_tree "$VOL"
	echo 1 >"$VOL/schema_version.txt"
	mg_mount_tmpfs "$VOL/uploads" 8m
	echo photo >"$VOL/uploads/photo.jpg"
	mkdir "$VOL/uploads/dir"
	echo y >"$VOL/uploads/dir/y"
	# Below a directory of the volume too: that directory stays, the rest of it goes back.
	mkdir "$VOL/d/inner"
	mg_mount_tmpfs "$VOL/d/inner/cache" 8m
	echo cached >"$VOL/d/inner/cache/c"
	local before
	before=$(mg_listing "$VOL")
	mg_hook 2 "ls -A .volinit/snapshot .volinit/snapshot/d >'$TD/snap-names'
echo changed >a.txt; rm -r 'name with spaces'; echo new >d/inner/new; echo new >new; exit 1"
	mg_conf 2
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 82 ]
	[[ "$output" == *"the volume was restored as it was before the migration"* ]]
	cat "$TD/snap-names"
	[ "$(mg_count '^uploads$' "$TD/snap-names")" -eq 0 ]
	[ "$(mg_count '^inner$' "$TD/snap-names")" -eq 1 ]
	mountpoint -q "$VOL/uploads"
	mountpoint -q "$VOL/d/inner/cache"
	[ "$(cat "$VOL/uploads/photo.jpg")" = photo ]
	[ "$(cat "$VOL/d/inner/cache/c")" = cached ]
	diff <(echo "$before") <(mg_listing "$VOL")
	[ ! -e "$VOL/.volinit/snapshot" ]
	# And a step that succeeds: migrated, the mounts as they were.
	mg_hook 2 'echo two >>a.txt'
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
	[ "$(cat "$VOL/uploads/dir/y")" = y ]
}

@test "SIGKILL while the snapshot is being removed never leaves a half snapshot/: it is renamed aside first, and the leftovers go with the next migration" {
	mg_rich_tree "$VOL"
	local i
	for i in $(seq 1 40); do
		mkdir -p "$VOL/many/$i"
		echo "$i" >"$VOL/many/$i/f"
	done
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 'echo two >>a.txt'
	mg_hook 3 'echo three >>a.txt'
	mg_conf 2
	command -v strace >/dev/null || skip "strace is not installed"
	# Killed at its 30th unlinkat: the removal after the step is under way.
	run timeout -k 5 "$VI_TIMEOUT" strace -qq -o /dev/null -e trace=unlinkat \
		-e inject=unlinkat:signal=SIGKILL:when=30 "$VOLINIT" migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 137 ]
	[ "$(mg_version)" = 2 ]
	ls -A "$VOL/.volinit"
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ "$(find "$VOL/.volinit" -maxdepth 1 -name 'snapshot.del.*' | wc -l)" -eq 1 ]
	mg_conf 3
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
	[ "$(find "$VOL/.volinit" -maxdepth 1 -name 'snapshot*' | wc -l)" -eq 0 ]
}

# Past the descriptors it may hold (a low open-files limit), the first copy
# of a hard-linked file is reached again from the snapshot's root, path
# component by path component, and checked by inode.
@test "with few descriptors to spare (ulimit -n 220), 300 hard-link pairs in nested directories are snapshotted and restored as links (82)" {
	local i
	for i in $(seq 1 300); do
		mkdir -p "$VOL/first/$((i % 7))/deep" "$VOL/second/$((i % 11))"
		echo "file $i" >"$VOL/first/$((i % 7))/deep/f$i"
		ln "$VOL/first/$((i % 7))/deep/f$i" "$VOL/second/$((i % 11))/l$i"
	done
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 'echo changed >first/0/deep/f7; rm second/0/l11; exit 3'
	mg_conf 2
	local before
	before=$(mg_listing "$VOL")
	run bash -c 'ulimit -n 220 && exec "$@"' sh timeout -k 5 "$VI_TIMEOUT" "$VOLINIT" migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 82 ]
	[[ "$output" == *"restored"* ]]
	diff <(echo "$before") <(mg_listing "$VOL")
	[ "$(find "$VOL/first" -type f -links 2 | wc -l)" -eq 300 ]
}
