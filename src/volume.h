/* volume: what a volume's directory is: there?, a mount point?, empty? */
#ifndef VOLINIT_VOLUME_H
#define VOLINIT_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The directory volinit keeps its own state in, ignored when deciding
 * whether a volume is empty. */
#define VOLUME_STATE_DIR ".volinit"

/* volinit's temporary files, written then renamed over their name (a
 * version file, .volinit/dirty, .volinit/readers): ".NAME" VOLUME_TMP_INFIX
 * "PID" beside a version file NAME, "NAME" VOLUME_TMP_INFIX "PID" in
 * .volinit/. One left by a crash is volinit's, never the app's data (SPEC.md
 * "Version file"); a name of the app's that merely looks alike is the app's. */
#define VOLUME_TMP_INFIX ".volinit-tmp."

/* Whether name is a temporary file of volinit's: of the version file base
 * (".BASE" VOLUME_TMP_INFIX digits), or, with base NULL (in .volinit/,
 * which is volinit's), any name ending in VOLUME_TMP_INFIX digits. */
bool volume_is_tmp_name(const char *name, const char *base);

/* Removes volinit's temporary files left by a crash in the directory dirfd
 * (volume_is_tmp_name(NAME, base); names only: nothing is opened, a
 * directory of that name stays). Reads the directory: for a command that
 * writes, under its lock. */
void volume_remove_tmp(int dirfd, const char *base);

/* Whether the directory dirfd lists name: 1, 0, or -1 with errno. Reads
 * the whole directory: on a client that caches entries (FUSE, NFS), a
 * readdir is answered by the server and refreshes what the client then
 * reads by name (SPEC.md "Shared volumes"). */
int volume_lists(int dirfd, const char *name);

/* Makes everything written on dirfd's filesystem durable (syncfs): what a
 * hook, a restore or the app wrote, before a record that vouches for it.
 * Returns 0 or an errno value (EIO when writeback failed since the last
 * call, as syncfs reports it since Linux 5.8). */
int volume_sync(int dirfd);

/* Opens path as a directory (O_PATH is not enough: it is read). Returns the
 * descriptor, or -1 with errno (ENOTDIR when it is something else). */
int volume_open(const char *path);

/* 1 when the directory holds nothing but .volinit, lost+found and volinit's
 * temporary files of the version file version_base (NULL: none, the
 * version file is deeper), 0 when it holds more, -1 on error. Reads at
 * most a few entries: the cost does not grow with the volume. */
int volume_is_empty(int dirfd, const char *version_base);

/* 1 when the directory dirfd is the root of a mount (its mount differs
 * from its parent's), 0 when not, -1 when that cannot be told (errno set).
 * Looks at nothing else in the mount table. */
int volume_is_mountpoint_at(int dirfd);

/* The mount ID of fd (its line in /proc/self/mountinfo) from
 * /proc/self/fdinfo (Linux 3.15), or -1: for kernels whose statx lacks
 * STATX_MNT_ID, and where the line itself is looked for. */
long long volume_fdinfo_mnt_id(int fd);

/* The same for a path (opened once). */
int volume_is_mountpoint(const char *path);

/* What an entry is, for messages: "a regular file", "a FIFO", ... */
const char *volume_kind_name(mode_t mode);

#endif
