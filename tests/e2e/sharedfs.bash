# shellcheck shell=bash
# Shared filesystems for shared-fs.bats, each mounted twice on this machine,
# each mount standing for a node: GlusterFS (one brick, glusterd on this
# host), MooseFS (master and chunkserver in a network namespace of the
# suite's own, whose loopback also answers to SF_MFS_IP: MooseFS refuses a
# master on 127.0.0.0/8) and bindfs (two FUSE mounts of one directory: the
# node-local case). Services are started by sf_*_up and stopped by
# sf_down_all (teardown_file), by the pids they wrote, never by name; every
# wait is bounded.
#
# Set: SF_BASE (the suite's directory), SF_GLUSTER_A/B, SF_MFS_A/B,
# SF_BIND_A/B (the mounts), SF_*_WHY (why one could not be had: its tests
# skip with that line; "FAILED: ..." when its setup failed: they fail), SF_TIMES (setup measurements, printed by the tests).
# SF_GLUSTER_OPTS and SF_MFS_OPTS: mount options for both clients (to try
# the clients' cache timeouts: entry-timeout=0,attribute-timeout=0,
# negative-timeout=0; mfsattrcacheto=0,mfsentrycacheto=0,mfsdirentrycacheto=0).
# SF_GLUSTER_SET: "KEY VALUE;KEY VALUE..." set on the volume before it is
# mounted (the client's caching translators: performance.quick-read off...).

: "${SF_WAIT:=30}"
: "${SF_NETNS:=volinit-sharedfs-$$}"
SF_MFS_IP=10.254.21.1
: "${SF_GV:=volinit-e2e-$$}"

# sf_umount DIR: unmounted, lazily when busy (a process of a failed test
# still in it). Looked up in the mount table: a mount whose FUSE client
# died answers mountpoint(1) with ENOTCONN.
sf_umount() {
	awk -v d="$1" '$5 == d { found = 1 } END { exit !found }' /proc/self/mountinfo || return 0
	umount "$1" 2>/dev/null || umount -l "$1"
}

# sf_until SECONDS CMD...: CMD until it succeeds, bounded; 1 when it never did.
sf_until() {
	local t=$1 end
	shift
	end=$((SECONDS + t))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

sf_now() { date +%s.%N; }
sf_took() { awk -v a="$1" -v b="$(sf_now)" 'BEGIN { printf "%.1f", b - a }'; }

# One line saying what is missing, or nothing.
sf_missing() {
	local c
	[ "$(id -u)" = 0 ] || { echo "needs root (mounts, services)"; return; }
	[ -c /dev/fuse ] || { echo "no /dev/fuse"; return; }
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "$c is not installed (sh tools/deps.sh sharedfs)"; return; }
	done
}

sf_gluster_up() {
	SF_GLUSTER_WHY=$(sf_missing glusterd gluster mount.glusterfs)
	[ -z "$SF_GLUSTER_WHY" ] || return 0
	if pgrep -x glusterd >/dev/null; then
		SF_GLUSTER_WHY="a glusterd this suite did not start is running"
		return 0
	fi
	local t0 host
	t0=$(sf_now)
	host=$(hostname)
	mkdir -p "$SF_BASE/gluster/brick" "$SF_BASE/gluster/a" "$SF_BASE/gluster/b"
	glusterd -p "$SF_BASE/gluster/glusterd.pid" --log-file="$SF_BASE/gluster/glusterd.log" ||
		{ SF_GLUSTER_WHY="FAILED: glusterd did not start"; return 1; }
	sf_until "$SF_WAIT" gluster --mode=script pool list ||
		{ SF_GLUSTER_WHY="FAILED: glusterd did not answer within ${SF_WAIT}s"; return 1; }
	gluster --mode=script volume create "$SF_GV" "$host:$SF_BASE/gluster/brick" force >&2 ||
		{ SF_GLUSTER_WHY="FAILED: gluster volume create failed"; return 1; }
	local kv k val
	while IFS= read -r -d ';' kv; do
		[ -n "$kv" ] || continue
		read -r k val <<<"$kv"
		gluster --mode=script volume set "$SF_GV" "$k" "$val" >&2 ||
			{ SF_GLUSTER_WHY="FAILED: gluster volume set $kv failed"; return 1; }
	done <<<"${SF_GLUSTER_SET:-};"
	gluster --mode=script volume start "$SF_GV" >&2 ||
		{ SF_GLUSTER_WHY="FAILED: gluster volume start failed"; return 1; }
	SF_GLUSTER_A=$SF_BASE/gluster/a
	SF_GLUSTER_B=$SF_BASE/gluster/b
	local o=()
	[ -z "${SF_GLUSTER_OPTS:-}" ] || o=(-o "$SF_GLUSTER_OPTS")
	mount -t glusterfs "${o[@]}" "$host:/$SF_GV" "$SF_GLUSTER_A" &&
		mount -t glusterfs "${o[@]}" "$host:/$SF_GV" "$SF_GLUSTER_B" ||
		{ SF_GLUSTER_WHY="FAILED: mount -t glusterfs failed"; return 1; }
	SF_TIMES+="glusterfs: glusterd, volume and two mounts in $(sf_took "$t0") s; "
}

sf_gluster_down() {
	local m p
	for m in "$SF_BASE/gluster/a" "$SF_BASE/gluster/b"; do
		sf_umount "$m"
	done
	if [ -e "$SF_BASE/gluster/glusterd.pid" ]; then
		gluster --mode=script volume stop "$SF_GV" force >/dev/null 2>&1
		gluster --mode=script volume delete "$SF_GV" >/dev/null 2>&1
		p=$(cat "$SF_BASE/gluster/glusterd.pid")
		kill "$p" 2>/dev/null
		sf_until 10 sh -c "! kill -0 $p" || kill -KILL "$p" 2>/dev/null
	fi
	# A brick process of ours left by a failed stop: by the pids whose
	# command line names our brick.
	for p in $(pgrep -f -- "$SF_BASE/gluster/brick"); do kill -KILL "$p" 2>/dev/null; done
	return 0
}

sf_mfs_up() {
	SF_MFS_WHY=$(sf_missing mfsmaster mfschunkserver mfsmount ip nsenter)
	[ -z "$SF_MFS_WHY" ] || return 0
	local t0 m=$SF_BASE/mfs
	t0=$(sf_now)
	mkdir -p "$m/master" "$m/cs" "$m/hdd" "$m/a" "$m/b"
	ip netns add "$SF_NETNS" && ip -n "$SF_NETNS" link set lo up &&
		ip -n "$SF_NETNS" addr add "$SF_MFS_IP/32" dev lo ||
		{ SF_MFS_WHY="FAILED: cannot make a network namespace for MooseFS"; return 1; }
	touch "$m/netns"
	cp /var/lib/mfs/metadata.mfs.empty "$m/master/metadata.mfs"
	echo "*	/	rw,alldirs,admin,maproot=0:0" >"$m/exports.cfg"
	echo "$m/hdd" >"$m/hdd.cfg"
	cat >"$m/master.cfg" <<-EOF
		WORKING_USER = root
		WORKING_GROUP = root
		DATA_PATH = $m/master
		EXPORTS_FILENAME = $m/exports.cfg
		MATOML_LISTEN_HOST = $SF_MFS_IP
		MATOCS_LISTEN_HOST = $SF_MFS_IP
		MATOCL_LISTEN_HOST = $SF_MFS_IP
	EOF
	cat >"$m/chunkserver.cfg" <<-EOF
		WORKING_USER = root
		WORKING_GROUP = root
		DATA_PATH = $m/cs
		HDD_CONF_FILENAME = $m/hdd.cfg
		MASTER_HOST = $SF_MFS_IP
		CSSERV_LISTEN_HOST = $SF_MFS_IP
	EOF
	local ns=(nsenter --net=/run/netns/"$SF_NETNS")
	"${ns[@]}" mfsmaster -c "$m/master.cfg" start >&2 ||
		{ SF_MFS_WHY="FAILED: mfsmaster did not start"; return 1; }
	"${ns[@]}" mfschunkserver -c "$m/chunkserver.cfg" start >&2 ||
		{ SF_MFS_WHY="FAILED: mfschunkserver did not start"; return 1; }
	SF_MFS_A=$m/a
	SF_MFS_B=$m/b
	local o=()
	[ -z "${SF_MFS_OPTS:-}" ] || o=(-o "$SF_MFS_OPTS")
	"${ns[@]}" mfsmount "$SF_MFS_A" -H "$SF_MFS_IP" "${o[@]}" >&2 &&
		"${ns[@]}" mfsmount "$SF_MFS_B" -H "$SF_MFS_IP" "${o[@]}" >&2 ||
		{ SF_MFS_WHY="FAILED: mfsmount failed"; return 1; }
	# Writable once the chunkserver has registered: written through A,
	# read through B.
	sf_until "$SF_WAIT" sh -c "echo ready >'$SF_MFS_A/.ready' && grep -qx ready '$SF_MFS_B/.ready'" ||
		{ SF_MFS_WHY="FAILED: MooseFS not writable within ${SF_WAIT}s"; return 1; }
	rm -f "$SF_MFS_A/.ready"
	SF_TIMES+="moosefs: master, chunkserver and two mounts in $(sf_took "$t0") s; "
}

sf_mfs_down() {
	local m=$SF_BASE/mfs p
	[ -e "$m/netns" ] || return 0
	for p in "$m/a" "$m/b"; do
		sf_umount "$p"
	done
	local ns=(nsenter --net=/run/netns/"$SF_NETNS")
	[ -e "$m/chunkserver.cfg" ] && "${ns[@]}" mfschunkserver -c "$m/chunkserver.cfg" stop >/dev/null 2>&1
	[ -e "$m/master.cfg" ] && "${ns[@]}" mfsmaster -c "$m/master.cfg" stop >/dev/null 2>&1
	for p in $(pgrep -f -- "$m/"); do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$SF_NETNS" 2>/dev/null
	rm -f "$m/netns"
	return 0
}

sf_bind_up() {
	SF_BIND_WHY=$(sf_missing bindfs)
	[ -z "$SF_BIND_WHY" ] || return 0
	local b=$SF_BASE/bind
	mkdir -p "$b/dir" "$b/a" "$b/b"
	SF_BIND_A=$b/a
	SF_BIND_B=$b/b
	# subtype: as mounted by fusermount (a user's mount); as root without
	# it the type is plain "fuse", which volinit cannot tell.
	bindfs -o subtype=bindfs "$b/dir" "$SF_BIND_A" && bindfs -o subtype=bindfs "$b/dir" "$SF_BIND_B" ||
		{ SF_BIND_WHY="FAILED: bindfs failed"; return 1; }
}

sf_bind_down() {
	local m
	for m in "$SF_BASE/bind/a" "$SF_BASE/bind/b"; do
		sf_umount "$m"
	done
	return 0
}

sf_down_all() {
	sf_bind_down
	sf_mfs_down
	sf_gluster_down
}
