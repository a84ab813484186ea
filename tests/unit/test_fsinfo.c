/* Unit tests for fsinfo_classify: a table of mountinfo lines and statfs
 * types to the filesystem's name and the reach of its locks (shared with
 * other nodes, this node only, local, unknown). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fsinfo.h"

struct row {
	long f_type;
	const char *line; /* NULL: no mountinfo line found */
	const char *type;
	enum fs_locks locks;
	const char *why; /* a part of why, or NULL */
};

static const struct row rows[] = {
	/* Local disks and memory. */
	{ 0xEF53, "29 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard", "ext4",
	  FS_LOCKS_LOCAL, "local" },
	{ 0x58465342, "40 29 8:17 / /data rw,noatime - xfs /dev/sdb1 rw,attr2,inode64", "xfs",
	  FS_LOCKS_LOCAL, NULL },
	{ 0x9123683E, "41 29 0:40 /@data /data rw - btrfs /dev/sdc rw,space_cache=v2", "btrfs",
	  FS_LOCKS_LOCAL, NULL },
	{ 0x01021994, "42 29 0:41 / /run/x rw,nosuid master:3 - tmpfs tmpfs rw,size=100k", "tmpfs",
	  FS_LOCKS_LOCAL, NULL },
	{ 0x794c7630,
	  "650 600 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/a:/b,upperdir=/c,workdir=/d",
	  "overlay", FS_LOCKS_LOCAL, NULL },
	/* Shared between nodes: NFS, CephFS, SMB, GlusterFS, MooseFS. */
	{ 0x6969,
	  "77 29 0:52 /export /data rw,relatime shared:40 - nfs4 srv:/export "
	  "rw,vers=4.2,rsize=1048576,hard,proto=tcp,timeo=600,sec=sys,local_lock=none,addr=10.0.0.2",
	  "nfs4", FS_LOCKS_SHARED, "shares locks" },
	{ 0x6969, "78 29 0:53 / /data rw - nfs srv:/e rw,vers=3,hard,proto=tcp,local_lock=none",
	  "nfs", FS_LOCKS_SHARED, NULL },
	{ 0x00C36400, "79 29 0:54 /vol /data rw - ceph 10.0.0.1:6789:/vol rw,name=k8s,fsid=x",
	  "ceph", FS_LOCKS_SHARED, NULL },
	{ (long)0xFE534D42, "80 29 0:55 / /data rw - smb3 //srv/share rw,vers=3.1.1,cache=strict",
	  "smb3", FS_LOCKS_SHARED, NULL },
	{ 0x65735546,
	  "81 29 0:56 / /mnt/a rw,relatime - fuse.glusterfs localhost:/gv0 "
	  "rw,user_id=0,group_id=0,default_permissions,allow_other,max_read=131072",
	  "fuse.glusterfs", FS_LOCKS_SHARED, NULL },
	{ 0x65735546,
	  "82 29 0:57 / /mnt/m rw,nosuid,nodev,relatime - fuse.mfs mfs#localhost:9421 "
	  "rw,user_id=0,group_id=0,allow_other",
	  "fuse.mfs", FS_LOCKS_SHARED, NULL },
	/* mfsmount as root: type fuse, no subtype; the source names MooseFS. */
	{ 0x65735546,
	  "51 27 0:43 / /tmp/shfs/ma rw,nosuid,nodev,relatime - fuse mfs\\04310.254.21.1:9421 "
	  "rw,user_id=0,group_id=0,allow_other",
	  "fuse.mfs", FS_LOCKS_SHARED, NULL },
	/* bindfs as root: type fuse, no subtype, a directory as source. */
	{ 0x65735546,
	  "47 27 0:40 / /tmp/rt/a rw,nosuid,nodev,relatime - fuse /tmp/rt/src "
	  "rw,user_id=0,group_id=0,default_permissions,allow_other",
	  "fuse", FS_LOCKS_UNKNOWN, NULL },
	/* Locks kept on this node by a mount option. */
	{ 0x6969, "83 29 0:58 / /data rw - nfs srv:/e rw,vers=3,nolock,proto=tcp,local_lock=all",
	  "nfs", FS_LOCKS_NODE, "local_lock=all" },
	{ 0x6969, "84 29 0:59 / /data rw - nfs srv:/e rw,vers=3,nolock,proto=tcp", "nfs",
	  FS_LOCKS_NODE, "nolock" },
	{ 0x6969, "85 29 0:60 / /data rw - nfs4 srv:/e rw,vers=4.1,local_lock=posix", "nfs4",
	  FS_LOCKS_NODE, "local_lock=posix" },
	{ 0x6969, "86 29 0:61 / /data rw - nfs srv:/e rw,vers=3,local_lock=flock", "nfs",
	  FS_LOCKS_SHARED, NULL },
	{ (long)0xFF534D42, "87 29 0:62 / /data rw - cifs //srv/s rw,vers=2.1,nobrl", "cifs",
	  FS_LOCKS_NODE, "nobrl" },
	{ 0x01161970, "88 29 253:3 / /data rw - gfs2 /dev/dm-3 rw,localflocks", "gfs2",
	  FS_LOCKS_NODE, "localflocks" },
	{ 0x65735546,
	  "89 29 0:63 / /mnt/m rw - fuse.mfs mfs#localhost:9421 rw,mfsnoposixlocks,user_id=0",
	  "fuse.mfs", FS_LOCKS_NODE, "mfsnoposixlocks" },
	/* FUSE drivers without lock support. */
	{ 0x65735546, "90 29 0:64 / /mnt/b rw,nosuid,nodev,relatime - fuse.bindfs /srv/d "
		      "rw,user_id=0,group_id=0,default_permissions,allow_other",
	  "fuse.bindfs", FS_LOCKS_NODE, "bindfs" },
	{ 0x65735546, "91 29 0:65 / /mnt/s rw - fuse.sshfs u@h:/d rw,user_id=0,group_id=0",
	  "fuse.sshfs", FS_LOCKS_NODE, "sshfs" },
	{ 0x65735546, "92 29 0:66 / /mnt/s rw - fuse.rclone remote: rw,user_id=0", "fuse.rclone",
	  FS_LOCKS_NODE, NULL },
	/* Not known: a FUSE driver not named, 9p, lustre without flock. */
	{ 0x65735546, "93 29 0:67 / /mnt/x rw - fuse.whateverfs src rw,user_id=0",
	  "fuse.whateverfs", FS_LOCKS_UNKNOWN, "not one volinit knows" },
	{ 0x01021997, "94 29 0:68 / /mnt/9 rw - 9p hostshare rw,trans=virtio", "9p",
	  FS_LOCKS_UNKNOWN, NULL },
	{ 0x0BD00BD0, "95 29 0:69 / /mnt/l rw - lustre mgs@tcp:/fs rw,flock", "lustre",
	  FS_LOCKS_SHARED, "flock" },
	{ 0x0BD00BD0, "96 29 0:70 / /mnt/l rw - lustre mgs@tcp:/fs rw,localflock", "lustre",
	  FS_LOCKS_NODE, "localflock" },
	{ 0x0BD00BD0, "97 29 0:71 / /mnt/l rw - lustre mgs@tcp:/fs rw", "lustre",
	  FS_LOCKS_UNKNOWN, NULL },
	/* No mountinfo line (no /proc): from f_type alone. */
	{ 0xEF53, NULL, "ext4", FS_LOCKS_LOCAL, NULL },
	{ 0x6969, NULL, "nfs", FS_LOCKS_SHARED, NULL },
	{ 0x65735546, NULL, "fuse", FS_LOCKS_UNKNOWN, NULL },
	{ 0x12345, NULL, "unknown", FS_LOCKS_UNKNOWN, NULL },
	{ 0, NULL, "unknown", FS_LOCKS_UNKNOWN, NULL },
	/* Optional fields (several), a line cut short, a trailing newline. */
	{ 0xEF53, "98 29 8:1 / /d rw shared:5 master:7 propagate_from:2 - ext4 /dev/sda1 rw\n",
	  "ext4", FS_LOCKS_LOCAL, NULL },
	{ 0x6969, "99 29 8:1 / /d rw shared:5", "nfs", FS_LOCKS_SHARED, NULL },
	/* An option only looks like one volinit knows: not it. */
	{ 0x6969, "100 29 0:72 / /d rw - nfs srv:/e rw,nolockd=1,local_lock=none", "nfs",
	  FS_LOCKS_SHARED, NULL },
};

static void table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct fsinfo fs;
		fsinfo_classify(r->f_type, r->line, &fs);
		printf("row %zu: %s %s (%s)\n", i, fs.type, fsinfo_locks_name(fs.locks), fs.why);
		assert_string_equal(fs.type, r->type);
		assert_int_equal(fs.locks, r->locks);
		if (r->why)
			assert_non_null(strstr(fs.why, r->why));
	}
}

static void words(void **state)
{
	(void)state;
	struct fsinfo fs;
	char buf[256];
	fsinfo_classify(0x65735546, "1 2 0:1 / /b rw - fuse.bindfs /d rw", &fs);
	fsinfo_text(&fs, buf, sizeof(buf));
	assert_string_equal(buf, "fuse.bindfs, locks stay on this node (bindfs passes no locks "
				 "to what it mounts): other nodes mounting it do not see them");
	assert_string_equal(fsinfo_locks_name(fs.locks), "node");
	fsinfo_classify(0x65735546, "1 2 0:1 / /g rw - fuse.glusterfs h:/v rw", &fs);
	fsinfo_text(&fs, buf, sizeof(buf));
	assert_string_equal(buf, "fuse.glusterfs, locks shared with other nodes that mount it");
	assert_string_equal(fsinfo_locks_name(fs.locks), "shared");
	fsinfo_classify(0xEF53, NULL, &fs);
	assert_string_equal(fsinfo_locks_name(fs.locks), "local");
	fsinfo_classify(0, NULL, &fs);
	assert_string_equal(fsinfo_locks_name(fs.locks), "unknown");
}

/* The running system: the root's line is found by its mount ID. */
static void this_system(void **state)
{
	(void)state;
	struct fsinfo fs;
	FILE *f = fopen("/", "r");
	assert_non_null(f);
	fsinfo_of(fileno(f), &fs);
	fclose(f);
	printf("/: %s %s (%s)\n", fs.type, fsinfo_locks_name(fs.locks), fs.why);
	assert_string_not_equal(fs.type, "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
		cmocka_unit_test(words),
		cmocka_unit_test(this_system),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
