/* fsinfo: see fsinfo.h. What is known of each filesystem's locks:
 *
 *   shared      nfs, nfs4 (unless local_lock=posix|all or nolock), ceph,
 *               cifs/smb3 (unless nobrl), gfs2 and ocfs2 (unless
 *               localflocks), lustre with flock; FUSE: glusterfs, mfs
 *               (MooseFS, LizardFS; unless mfsnoposixlocks), juicefs,
 *               ceph-fuse
 *   this node   the same with the options named, lustre with localflock;
 *               FUSE drivers that pass no locks to what they mount:
 *               bindfs, sshfs, s3fs, rclone, gcsfuse, goofys, blobfuse
 *   local       disks and memory: ext2-4, xfs, btrfs, zfs, tmpfs, overlay...
 *   unknown     anything else (a FUSE driver not named here, 9p, virtiofs)
 */
#include "fsinfo.h"
#include "volume.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

struct named {
	const char *name;
	enum fs_locks locks;
};

static const struct named types[] = {
	{ "nfs", FS_LOCKS_SHARED },        { "nfs4", FS_LOCKS_SHARED },
	{ "ceph", FS_LOCKS_SHARED },       { "cifs", FS_LOCKS_SHARED },
	{ "smb3", FS_LOCKS_SHARED },       { "gfs2", FS_LOCKS_SHARED },
	{ "ocfs2", FS_LOCKS_SHARED },      { "fuse.glusterfs", FS_LOCKS_SHARED },
	{ "fuse.mfs", FS_LOCKS_SHARED },   { "fuse.moosefs", FS_LOCKS_SHARED },
	{ "fuse.lizardfs", FS_LOCKS_SHARED }, { "fuse.juicefs", FS_LOCKS_SHARED },
	{ "fuse.ceph-fuse", FS_LOCKS_SHARED }, { "fuse.ceph", FS_LOCKS_SHARED },
	{ "fuse.bindfs", FS_LOCKS_NODE },  { "fuse.sshfs", FS_LOCKS_NODE },
	{ "fuse.s3fs", FS_LOCKS_NODE },    { "fuse.rclone", FS_LOCKS_NODE },
	{ "fuse.gcsfuse", FS_LOCKS_NODE }, { "fuse.goofys", FS_LOCKS_NODE },
	{ "fuse.blobfuse", FS_LOCKS_NODE }, { "fuse.blobfuse2", FS_LOCKS_NODE },
	{ "fuse.mountpoint-s3", FS_LOCKS_NODE },
	{ "ext2", FS_LOCKS_LOCAL },        { "ext3", FS_LOCKS_LOCAL },
	{ "ext4", FS_LOCKS_LOCAL },        { "xfs", FS_LOCKS_LOCAL },
	{ "btrfs", FS_LOCKS_LOCAL },       { "zfs", FS_LOCKS_LOCAL },
	{ "tmpfs", FS_LOCKS_LOCAL },       { "ramfs", FS_LOCKS_LOCAL },
	{ "overlay", FS_LOCKS_LOCAL },     { "f2fs", FS_LOCKS_LOCAL },
	{ "bcachefs", FS_LOCKS_LOCAL },    { "vfat", FS_LOCKS_LOCAL },
	{ "exfat", FS_LOCKS_LOCAL },       { "ntfs3", FS_LOCKS_LOCAL },
	{ "jfs", FS_LOCKS_LOCAL },         { "reiserfs", FS_LOCKS_LOCAL },
	{ "nilfs2", FS_LOCKS_LOCAL },      { "fuseblk", FS_LOCKS_LOCAL },
	{ "fuse.fuse-overlayfs", FS_LOCKS_LOCAL },
};

/* statfs magic numbers, for where no mountinfo line is found. */
static const struct {
	long magic;
	const char *name;
} magics[] = {
	{ 0xEF53, "ext4" },          { 0x58465342, "xfs" },      { 0x9123683E, "btrfs" },
	{ 0x2FC12FC1, "zfs" },       { 0x01021994, "tmpfs" },    { (long)0x858458f6, "ramfs" },
	{ 0x794c7630, "overlay" },   { (long)0xF2F52010, "f2fs" }, { 0x6969, "nfs" },
	{ 0x00C36400, "ceph" },      { (long)0xFF534D42, "cifs" }, { (long)0xFE534D42, "smb3" },
	{ 0x01161970, "gfs2" },      { 0x7461636f, "ocfs2" },    { 0x65735546, "fuse" },
};

const char *fsinfo_locks_name(enum fs_locks locks)
{
	switch (locks) {
	case FS_LOCKS_LOCAL: return "local";
	case FS_LOCKS_SHARED: return "shared";
	case FS_LOCKS_NODE: return "node";
	default: return "unknown";
	}
}

void fsinfo_text(const struct fsinfo *fs, char *buf, size_t len)
{
	switch (fs->locks) {
	case FS_LOCKS_LOCAL:
		snprintf(buf, len, "%s, a local filesystem (locks on this node, which alone mounts it)",
			 fs->type);
		break;
	case FS_LOCKS_SHARED:
		snprintf(buf, len, "%s, locks shared with other nodes that mount it", fs->type);
		break;
	case FS_LOCKS_NODE:
		snprintf(buf, len, "%s, locks stay on this node (%s): other nodes mounting it do "
				   "not see them", fs->type, fs->why);
		break;
	default:
		snprintf(buf, len, "%s, not known whether locks reach other nodes", fs->type);
		break;
	}
}

/* Whether the comma-separated list opts holds opt (exactly, or as
 * "opt=..." when opt ends with '='; then *val gets what follows). */
static bool has_opt(const char *opts, const char *opt, char *val, size_t vlen)
{
	size_t n = strlen(opt);
	for (const char *p = opts; p && *p;) {
		const char *end = strchr(p, ',');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		if (l >= n && strncmp(p, opt, n) == 0 && (l == n || opt[n - 1] == '=')) {
			if (val)
				snprintf(val, vlen, "%.*s", (int)(l - n), p + n);
			return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* The fields of a mountinfo line: the mount's options (6th) and, after
 * " - ", the type and the superblock's options. A FUSE mount without a
 * subtype is named by its source where that tells the driver: mfsmount
 * mounts "fuse" from "mfs#HOST:PORT" ('#' escaped as \043). */
static bool parse_line(const char *line, char *type, size_t tlen, char *opts, size_t olen)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", line);
	buf[strcspn(buf, "\n")] = '\0';
	char *save = NULL, *f[64];
	int n = 0;
	for (char *t = strtok_r(buf, " ", &save); t && n < 64; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	int dash = -1;
	for (int i = 6; i < n; i++)
		if (strcmp(f[i], "-") == 0) {
			dash = i;
			break;
		}
	if (n < 6 || dash < 0 || dash + 1 >= n)
		return false;
	snprintf(type, tlen, "%s", f[dash + 1]);
	const char *src = dash + 2 < n ? f[dash + 2] : "";
	if (strcmp(type, "fuse") == 0 &&
	    (strncmp(src, "mfs#", 4) == 0 || strncmp(src, "mfs\\043", 7) == 0))
		snprintf(type, tlen, "fuse.mfs");
	snprintf(opts, olen, "%s%s%s", f[5], dash + 3 < n ? "," : "", dash + 3 < n ? f[dash + 3] : "");
	return true;
}

static enum fs_locks by_name(const char *type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, type) == 0)
			return types[i].locks;
	return FS_LOCKS_UNKNOWN;
}

void fsinfo_classify(long f_type, const char *line, struct fsinfo *out)
{
	char opts[4096] = "";
	memset(out, 0, sizeof(*out));
	snprintf(out->type, sizeof(out->type), "unknown");
	if (!line || !parse_line(line, out->type, sizeof(out->type), opts, sizeof(opts))) {
		for (size_t i = 0; f_type && i < sizeof(magics) / sizeof(magics[0]); i++)
			if (magics[i].magic == f_type)
				snprintf(out->type, sizeof(out->type), "%s", magics[i].name);
	}
	out->locks = by_name(out->type);
	char val[64];
	if (out->locks == FS_LOCKS_SHARED) {
		if (has_opt(opts, "local_lock=", val, sizeof(val)) &&
		    (strcmp(val, "all") == 0 || strcmp(val, "posix") == 0)) {
			out->locks = FS_LOCKS_NODE;
			snprintf(out->why, sizeof(out->why), "mount option local_lock=%s", val);
		} else if (has_opt(opts, "nolock", NULL, 0) || has_opt(opts, "nobrl", NULL, 0) ||
			   has_opt(opts, "localflocks", NULL, 0) ||
			   has_opt(opts, "mfsnoposixlocks", NULL, 0)) {
			out->locks = FS_LOCKS_NODE;
			const char *o = has_opt(opts, "nolock", NULL, 0)	   ? "nolock"
					: has_opt(opts, "nobrl", NULL, 0)	   ? "nobrl"
					: has_opt(opts, "localflocks", NULL, 0) ? "localflocks"
										    : "mfsnoposixlocks";
			snprintf(out->why, sizeof(out->why), "mount option %s", o);
		} else {
			snprintf(out->why, sizeof(out->why), "%s shares locks between its clients",
				 out->type);
		}
	} else if (strcmp(out->type, "lustre") == 0) {
		if (has_opt(opts, "flock", NULL, 0)) {
			out->locks = FS_LOCKS_SHARED;
			snprintf(out->why, sizeof(out->why), "mount option flock");
		} else if (has_opt(opts, "localflock", NULL, 0)) {
			out->locks = FS_LOCKS_NODE;
			snprintf(out->why, sizeof(out->why), "mount option localflock");
		}
	} else if (out->locks == FS_LOCKS_NODE) {
		const char *sub = strncmp(out->type, "fuse.", 5) == 0 ? out->type + 5 : out->type;
		snprintf(out->why, sizeof(out->why), "%s passes no locks to what it mounts", sub);
	} else if (out->locks == FS_LOCKS_LOCAL) {
		snprintf(out->why, sizeof(out->why), "a local filesystem");
	}
	if (out->locks == FS_LOCKS_UNKNOWN && strcmp(out->type, "lustre") == 0)
		snprintf(out->why, sizeof(out->why), "lustre without the flock mount option");
	else if (out->locks == FS_LOCKS_UNKNOWN && strcmp(out->type, "unknown") == 0)
		snprintf(out->why, sizeof(out->why), "the filesystem could not be told");
	else if (out->locks == FS_LOCKS_UNKNOWN)
		snprintf(out->why, sizeof(out->why), "%s is not one volinit knows", out->type);
}

void fsinfo_of(int dirfd, struct fsinfo *out)
{
	struct statfs sf;
	long f_type = fstatfs(dirfd, &sf) == 0 ? (long)sf.f_type : 0;
	long long id = volume_fdinfo_mnt_id(dirfd);
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	FILE *f = id >= 0 ? fopen("/proc/self/mountinfo", "re") : NULL;
	while (f && getline(&line, &cap, f) > 0) {
		char *end;
		if (strtoll(line, &end, 10) == id && end != line && *end == ' ') {
			found = line;
			break;
		}
	}
	if (f)
		fclose(f);
	fsinfo_classify(f_type, found, out);
	free(line);
}
