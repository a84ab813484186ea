# Sourced by run.sh. crash_populate DIR: the app's data of a crash trial, the
# same bytes on every run (no randomness), so that manifests of different
# images compare. CRASH_FILES files in five directories, plus what a real
# volume has and a copy must keep: hard links, a sparse file with holes for
# the hooks to fill, symlinks (relative, absolute, dangling, to a directory),
# a FIFO, odd modes (0000, 0444, setuid, sticky), owners, old and future
# times, extended attributes.

crash_populate() {
	local dir=$1 n=${CRASH_FILES:-200} i d f
	local per=$(( n / 5 ))
	for d in d1 d2 d3 d4 d5; do
		mkdir -p "$dir/$d"
		for ((i = 0; i < per; i++)); do
			f=$(printf '%s/%s/f%03d' "$dir" "$d" "$i")
			# Sizes from 40 bytes to a few KiB: some span several blocks.
			printf 'volume %s file %d\n%*s\n' "$d" "$i" $(( (i * 97) % 6000 )) "" >"$f"
		done
	done
	head -c 1048576 /dev/zero | tr '\0' 'b' >"$dir/big.dat"

	# Hard links: a pair and a triple, across directories.
	mkdir -p "$dir/links"
	ln "$dir/d1/f001" "$dir/links/pair"
	ln "$dir/d5/f002" "$dir/links/triple-a"
	ln "$dir/d5/f002" "$dir/links/triple-b"

	# A sparse file: data at 0 and at 4 MiB, holes the hooks write into.
	truncate -s 8M "$dir/sparse.img"
	printf 'head' | dd of="$dir/sparse.img" conv=notrunc status=none
	printf 'middle' | dd of="$dir/sparse.img" bs=1M seek=4 conv=notrunc status=none

	ln -s d2/f003 "$dir/rel-link"
	ln -s /etc/hostname "$dir/abs-link"
	ln -s missing/nowhere "$dir/dangling-link"
	ln -s d3 "$dir/dir-link"
	mkfifo "$dir/fifo"

	chmod 0000 "$dir/d4/f000"
	chmod 0444 "$dir/d4/f001"
	chmod 4755 "$dir/d4/f002"
	mkdir -p "$dir/shared" && chmod 1777 "$dir/shared"
	printf 'tmp\n' >"$dir/shared/note"
	chown 1234:5678 "$dir/d3/f000" "$dir/d3/f001" "$dir/shared/note"
	chown 65534:65534 "$dir/d2"
	setfattr -n user.origin -v volume "$dir/d1/f000"
	setfattr -n user.empty "$dir/d1/f002"
	setfattr -n user.dir -v yes "$dir/d5"

	# Times last: old, future, and one for everything else.
	find "$dir" -mindepth 1 -exec touch -h -d @1500000000 {} +
	touch -d @86400 "$dir/d1/f003"
	touch -d @4102444800 "$dir/d1/f004"
}
