/* holders: PATH/.volinit/holders/, one small file per running volinit that
 * holds the lock (host, pid, image, since). For diagnosis only: the lock
 * decides, never these files. */
#ifndef VOLINIT_HOLDERS_H
#define VOLINIT_HOLDERS_H

#include <stddef.h>

/* Our file. The directory stays open, so that removing the file when
 * PROGRAM has exited is a single unlinkat. */
struct holder {
	int dirfd; /* .volinit/holders/, or -1 */
	char name[96];
};
#define HOLDER_NONE ((struct holder){ .dirfd = -1 })

/* Writes our file (no fsync: it is a hint); again, it rewrites it.
 * Returns 0 or errno. */
int holders_add(int voldirfd, struct holder *h);

/* Removes our file, if any, and closes the directory. */
void holders_remove(struct holder *h);

/* Removes every file: called under the exclusive lock, when no one else can
 * hold the lock and every file left is stale. */
void holders_clear(int voldirfd);

/* "host pid since image; ..." for the files present, into buf. */
void holders_describe(int voldirfd, char *buf, size_t len);

#endif
