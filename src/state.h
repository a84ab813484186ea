/* state: volinit's own directory on a volume, PATH/.volinit/ (SPEC.md
 * "State on the volume"): the dirty marker. */
#ifndef VOLINIT_STATE_H
#define VOLINIT_STATE_H

#include <stdbool.h>
#include <stddef.h>

/* 1 when .volinit/dirty exists (its first line goes to detail, anything
 * but printable ASCII replaced by '?'),
 * 0 when not, -1 on error. Creates nothing. */
int state_dirty_read(int voldirfd, char *detail, size_t len);

/* Writes .volinit/dirty (the JSON text given) durably: it must be on disk
 * before the hook touches the data. Returns 0 or an errno value. */
int state_dirty_write(int voldirfd, const char *json);

/* Removes .volinit/dirty durably. Returns 0 or an errno value. */
int state_dirty_clear(int voldirfd);

/* Gives dirfd/name the owner of dirfd itself (when volinit is root):
 * .volinit/ and what is in it belong to whoever owns the volume, so that
 * an app's own tools (pg_basebackup, say) can read the whole volume. */
void state_own(int dirfd, const char *name);

/* Opens .volinit/ (creating it, mode 0700, when create is set) without
 * following a symlink. Returns the descriptor, or -1 with errno. */
int state_open(int voldirfd, bool create);

#endif
