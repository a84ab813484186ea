/* state: volinit's own directory on a volume, PATH/.volinit/ (SPEC.md
 * "State on the volume"). It belongs to the user volinit runs as, mode
 * 0700, never to the volume's owner; found changed, it is taken back. Its
 * contents may still have been written by the app: every file in it is
 * opened without following a symlink, without blocking, and checked
 * through its descriptor; every file volinit writes is made fresh or
 * checked first (a regular file, one link, volinit's own). */
#ifndef VOLINIT_STATE_H
#define VOLINIT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "config.h"

struct dirty_record;

/* Opens .volinit/ without following a symlink. With create (a command
 * that writes), creates it (0700) when absent and takes it back when it is
 * not volinit's (owner, group, mode 0700; the files volinit uses in it
 * too), with one warning; -1 with EPERM when volinit cannot (not root, not
 * its owner). Returns the descriptor, or -1 with errno. */
int state_open(int voldirfd, bool create);

/* state_open(voldirfd, true) for a command that writes on volume v: the
 * warning names v, and any failure but a read-only volume (-1 with errno
 * EROFS, nothing said) is reported here, as one FATAL line (73) with its
 * hints; then -1 with errno EPERM. */
int state_prepare(const struct volume_conf *v, int voldirfd);

/* How many state directories of volinit's (directories owned by the user
 * volinit runs as, holding a lock file) the volume's root holds besides
 * except (NULL: any), their names escaped into names; -1 with errno when
 * the root cannot be read (EAGAIN: it changed under every look). Reads the
 * root: for a look that must know (no .volinit/ of volinit's, or an act). */
int state_find_elsewhere(int voldirfd, const struct stat *except, char *names, size_t len);

/* Whether volinit's state is where a look expects it: .volinit/ is
 * volinit's (and the one this process already works with, if any), or no
 * state directory of volinit's is anywhere in the root. Else 1, and why
 * names what was found. */
int state_moved(int voldirfd, char *why, size_t len);

/* The hints after a refusal for a state directory found moved: the data
 * was not changed, and how an operator puts it back. */
void state_hint_moved(const struct volume_conf *v);

/* Whether .volinit/ lists name: volume_lists's answer (0 when there is
 * no .volinit/). */
int state_listed(int voldirfd, const char *name);

/* 1 when .volinit/dirty exists (detail: its fields as volinit's JSON in
 * printable ASCII, or {"unreadable":true}), 0 when not (or when .volinit
 * is not a directory that could hold it), -1 when it is there but is not a
 * regular file with one link, or cannot be read (detail says which, and
 * SPEC.md refuses it: 73). Creates nothing, never blocks. */
int state_dirty_read(int voldirfd, char *detail, size_t len);

/* state_dirty_read, and r gets the marker's fields. */
int state_dirty_read_record(int voldirfd, struct dirty_record *r, char *detail, size_t len);

/* The same, parsed into r (for status). */
int state_dirty_load(int voldirfd, struct dirty_record *r, char *why, size_t len);

/* Writes .volinit/dirty (the JSON text given) durably, as a fresh file
 * renamed over the old one: it must be on disk before the hook touches
 * the data. Returns 0 or an errno value. */
int state_dirty_write(int voldirfd, const char *json);

/* Removes .volinit/dirty durably. Returns 0 or an errno value. */
int state_dirty_clear(int voldirfd);

/* Opens name in dirfd for reading or writing (flags: O_RDONLY, O_WRONLY,
 * O_RDWR, O_APPEND) if it is a regular file, looked at first so that a
 * FIFO or a device is never opened, then checked through the descriptor
 * (the same file, still regular). st gets what was found. Returns the
 * descriptor, or -1 with errno: ENOENT when absent, ELOOP for a symlink,
 * EINVAL for anything else that is not a regular file. */
int state_openat(int dirfd, const char *name, int flags, struct stat *st);

/* A regular file with one link owned by the user volinit runs as: one
 * volinit may write through its descriptor. */
bool state_is_ours(const struct stat *st);

/* What st is, for a message: "a FIFO", "a regular file with 2 links",
 * "owned by uid 65534"... */
const char *state_describe(const struct stat *st, char *buf, size_t len);

/* One warning about the entry st in .volinit/ of the volume voldirfd
 * (volume: its name, or NULL): said once per entry per process. */
void state_warn_once(const char *volume, int voldirfd, const struct stat *st, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

#endif
