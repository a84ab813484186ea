# Sourced by run.sh: the loop-mounted filesystems of the crash trials, the
# power cut, and the cleanup that leaves no mount or loop device behind.

# XFS refuses to make a filesystem under 300 MiB; the image is sparse, so
# only what is written takes space (and time to copy).
crash_mkfs() { # FS IMAGE
	case $1 in
	xfs) truncate -s 320M "$2" && mkfs.xfs -q -f "$2" ;;
	ext4) truncate -s 96M "$2" && mkfs.ext4 -q -F "$2" ;;
	*) echo "crash: unknown filesystem $1" >&2; return 1 ;;
	esac
}

# -o loop with autoclear: unmounting frees the loop device. nouuid: every
# trial image of one template has the template's XFS UUID.
crash_mount() { # FS IMAGE MOUNTPOINT
	local opts=loop
	[ "$1" = xfs ] && opts=loop,nouuid
	mount -o "$opts" "$2" "$3"
}

# The power cut: FS_IOC_SHUTDOWN without a log flush (xfs_io's shutdown
# without -f; ext4 takes the same ioctl). What is only in the page cache,
# or in a log not yet written, is gone, as after a power loss.
crash_cut() { # MOUNTPOINT
	xfs_io -x -c shutdown "$1"
}

# Unmounts, waiting (bounded) for killed processes to let go of it and for
# the loop device to let go of the image (autoclear is asynchronous; mounting
# the image again before that is refused as "already mounted"). Watched by
# the image, not the device name: another run may take the freed device.
crash_umount() { # MOUNTPOINT
	local i dev image
	dev=$(findmnt -n -o SOURCE "$1") || return 0
	image=$(losetup -n -O BACK-FILE "$dev" 2>/dev/null)
	for ((i = 0; i < 200; i++)); do
		umount "$1" 2>/dev/null && break
		sleep 0.05
	done
	mountpoint -q "$1" && { echo "crash: cannot unmount $1" >&2; return 1; }
	[ -n "$image" ] || return 0
	# Up to 30 s: under other I/O the loop device's release can lag.
	for ((i = 0; i < 1500; i++)); do
		[ -z "$(losetup -n -j "$image" 2>/dev/null)" ] && return 0
		sleep 0.02
	done
	echo "crash: $dev still holds $image" >&2
	return 1
}

# Whether this machine can loop-mount at all (containers often cannot).
crash_can_loop() { # WORKDIR
	local img=$1/probe.img mnt=$1/probe.mnt
	mkdir -p "$mnt"
	truncate -s 16M "$img" && mkfs.ext4 -q -F "$img" >/dev/null 2>&1 &&
		mount -o loop "$img" "$mnt" 2>/dev/null || { rm -f "$img"; return 1; }
	umount "$mnt"
	rm -f "$img"
}

# Every process below PID, deepest first (hooks and what they started).
crash_descendants() { # PID
	local child
	for child in $(pgrep -P "$1"); do
		crash_descendants "$child"
		echo "$child"
	done
}

# Unmounts whatever is still mounted below WORKDIR (a trial interrupted).
crash_cleanup_mounts() { # WORKDIR
	local m
	for m in $(awk -v w="$1" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}
