/* holders: PATH/.volinit/holders/, one small file per running volinit that
 * holds the lock (host, pid, image, since). For diagnosis only: the lock
 * decides, never these files. */
#ifndef VOLINIT_HOLDERS_H
#define VOLINIT_HOLDERS_H

#include <stddef.h>

/* Writes our file (no fsync: it is a hint). Returns 0 or errno. */
int holders_add(int voldirfd);

/* Removes our file. */
void holders_remove(int voldirfd);

/* Removes every file: called under the exclusive lock, when no one else can
 * hold the lock and every file left is stale. */
void holders_clear(int voldirfd);

/* "host pid since image; ..." for the files present, into buf. */
void holders_describe(int voldirfd, char *buf, size_t len);

#endif
