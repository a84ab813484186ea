/* holders: PATH/.volinit/holders/, one small file per running volinit that
 * holds the lock (host, pid, image, since). For diagnosis only: the lock
 * decides, never these files. An entry that is not a regular file with one
 * link of volinit's is left alone, with a warning. */
#ifndef VOLINIT_HOLDERS_H
#define VOLINIT_HOLDERS_H

#include <stddef.h>
#include <sys/types.h>

/* Our file. The directory stays open, so that removing the file when
 * PROGRAM has exited is a single unlinkat; dev and ino say which file is
 * ours, so that nothing else is ever removed by that name. */
struct holder {
	int dirfd; /* .volinit/holders/, or -1 */
	char name[96];
	dev_t dev;
	ino_t ino; /* 0: none written */
};
#define HOLDER_NONE ((struct holder){ .dirfd = -1 })

/* Writes our file, fresh each time (a temporary file renamed over it; no
 * fsync: it is a hint). Returns 0 or errno. */
int holders_add(int voldirfd, struct holder *h);

/* Removes our file, if any, and closes the directory. */
void holders_remove(struct holder *h);

/* Removes every file: called under the exclusive lock, when no one else can
 * hold the lock and every file left is stale. */
void holders_clear(int voldirfd);

/* "host pid since image; ..." for the files present, into buf. */
void holders_describe(int voldirfd, char *buf, size_t len);

#endif
