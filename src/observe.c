/* observe: what state a volume is in (guard.h), read without changing
 * anything: its version file, its dirty marker and snapshot, whether it
 * is empty. */
#include "guard.h"
#include "record.h"
#include "version.h"
#include "volume.h"
#include "snapshot.h"
#include "state.h"

#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The dirty marker, and whether the snapshot present is the one its
 * migration took: a marker names its snapshot (null: it took none), so that
 * one left by another migration, half removed by a crash say, is never
 * restored. A marker of volinit 0.1 names none and takes any complete one,
 * as 0.1 did; an unreadable marker takes none. Returns state_dirty_read's. */
static int observe_dirty(int dirfd, struct observation *obs)
{
	static struct dirty_record r; /* a 4 KiB store: not on the stack */
	int dirty = state_dirty_read_record(dirfd, &r, obs->detail, sizeof(obs->detail));
	if (dirty != 1)
		return dirty;
	char id[sizeof(obs->snapshot_id)];
	obs->online = r.readable && r.readers.kind == RECORD_INT;
	obs->online_readers = obs->online ? (int32_t)r.readers.num : 0;
	if (!r.readable || r.snapshot.kind == RECORD_NULL) {
		obs->snapshot = false;
	} else if (r.snapshot.kind == RECORD_ABSENT) {
		obs->snapshot = snapshot_exists(dirfd);
	} else {
		obs->snapshot = r.snapshot.kind == RECORD_STRING &&
				snapshot_id(dirfd, id, sizeof(id)) == 0 &&
				strcmp(id, r.snapshot.str) == 0;
		if (obs->snapshot)
			snprintf(obs->snapshot_id, sizeof(obs->snapshot_id), "%s", id);
	}
	return 1;
}

/* An open window lets older images start: trusted only from the one state
 * directory of volinit's on the volume, never from one that an app put
 * back beside the current one (read only while a window is open). */
static void window_alone(int dirfd, struct observation *obs)
{
	struct stat in_use;
	int sfd = state_open(dirfd, false);
	if (sfd < 0)
		return;
	char names[256];
	int n = fstat(sfd, &in_use) == 0 ? state_find_elsewhere(dirfd, &in_use, names,
								 sizeof(names)) : 0;
	close(sfd);
	if (n == 0)
		return;
	obs->what = OBS_STATE_MOVED;
	if (n > 0)
		snprintf(obs->detail, sizeof(obs->detail), "beside %s/, another state directory "
			 "of volinit's: %s; its readers window is not trusted", VOLUME_STATE_DIR,
			 names);
	else
		snprintf(obs->detail, sizeof(obs->detail), "cannot look for other state "
			 "directories of volinit's in the volume's root: %s", strerror(errno));
}

void guard_observe(const struct volume_conf *v, struct observation *obs, int *dirfd)
{
	memset(obs, 0, sizeof(*obs));
	if (*dirfd < 0)
		*dirfd = volume_open(v->path);
	if (*dirfd < 0) {
		obs->err = errno;
		obs->what = (errno == ENOENT || errno == ENOTDIR) ? OBS_NO_PATH : OBS_UNREADABLE;
		return;
	}
	fsinfo_of(*dirfd, &obs->fs);
	if (v->require_mount) {
		int m = volume_is_mountpoint_at(*dirfd);
		if (m != 1) {
			obs->err = m < 0 ? errno : 0;
			obs->what = OBS_NOT_MOUNTED;
			return;
		}
	}
	/* Nothing in a state directory is trusted unless it is the one (see
	 * state.c, "where volinit's state is"). */
	if (state_moved(*dirfd, obs->detail, sizeof(obs->detail))) {
		obs->what = OBS_STATE_MOVED;
		return;
	}
	/* A client that caches entries and contents (FUSE: GlusterFS's
	 * md-cache and quick-read) can still open a file another node removed,
	 * or read what it replaced, for about a second: on a filesystem that
	 * may be shared, whether volinit's files are there is what a readdir
	 * says (the server answers it, and it refreshes what is then read by
	 * name). Local filesystems are read as they are. */
	bool cached = obs->fs.locks != FS_LOCKS_LOCAL;
	struct version_read r;
	int dirty = cached && state_listed(*dirfd, "dirty") == 0 ? 0 : observe_dirty(*dirfd, obs);
	if (dirty < 0) {
		/* Not a marker volinit wrote (a FIFO, a hard link): refused,
		 * 73; detail names it. */
		obs->what = OBS_UNREADABLE;
		obs->err = errno;
		return;
	}
	if (dirty == 1) {
		obs->what = OBS_DIRTY;
		/* For status: what the file says while a step is unfinished. */
		version_read_at(*dirfd, v->version_file, &r);
		obs->has_version = r.status == VERSION_OK;
		obs->version = obs->has_version ? r.version : 0;
		window_read(*dirfd, obs->version, &obs->window);
		return;
	}
	if (cached && version_listed(*dirfd, v->version_file) == 0)
		r = (struct version_read){ .status = VERSION_MISSING };
	else
		version_read_at(*dirfd, v->version_file, &r);
	switch (r.status) {
	case VERSION_OK:
		obs->what = OBS_VERSION;
		obs->version = r.version;
		obs->has_version = true;
		window_read(*dirfd, obs->version, &obs->window);
		if (obs->window.state == WINDOW_SET)
			window_alone(*dirfd, obs);
		return;
	case VERSION_CORRUPT:
		obs->what = OBS_CORRUPT;
		snprintf(obs->detail, sizeof(obs->detail), "%s", r.detail);
		return;
	case VERSION_UNREADABLE:
		obs->what = OBS_UNREADABLE;
		obs->err = r.err;
		return;
	case VERSION_MISSING:
		break;
	}
	/* A temporary version file of volinit's is no data: only beside a
	 * version file in the root, under that file's name. */
	const char *base = strchr(v->version_file, '/') ? NULL : v->version_file;
	int empty = volume_is_empty(*dirfd, base);
	if (empty < 0) {
		obs->what = OBS_UNREADABLE;
		obs->err = errno;
		return;
	}
	obs->what = empty ? OBS_EMPTY : OBS_UNVERSIONED;
}
