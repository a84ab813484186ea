/* version: reading a volume's version file strictly, and writing it so that
 * a crash leaves the old value or the new one, never a torn file. */
#ifndef VOLINIT_VERSION_H
#define VOLINIT_VERSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest version file read; anything longer is corrupt. A valid file
 * is longer than a dozen bytes only by whitespace or leading zeros around
 * the number (SPEC.md allows any): one page of them is read. */
#define VERSION_FILE_MAX 4096
#define VERSION_FILE_MAX_TEXT "4096"

enum version_status {
	VERSION_OK,
	VERSION_MISSING,  /* no such file */
	VERSION_CORRUPT,  /* not a decimal integer, not a regular file, or hard-linked */
	VERSION_UNREADABLE, /* permission or I/O error: errno in .err */
};

struct version_read {
	enum version_status status;
	int32_t version;
	int err;
	char detail[160];  /* why it is corrupt, with the first bytes escaped */
};

/* Parses the text of a version file: digits with optional ASCII whitespace
 * around them, value 0..2147483647. Returns 0, or -1 if corrupt. */
int version_parse(const char *buf, size_t len, int32_t *out);

/* name is a file name or a relative path below dirfd (pgdata/PG_VERSION):
 * its directories are opened one by one, never following a symlink.
 * Reads name in the directory dirfd without following a symlink and
 * without opening anything but a regular file; a file with more than one
 * link is corrupt, and its content is never read. */
void version_read_at(int dirfd, const char *name, struct version_read *res);

/* Writes "N\n" through a temporary file, fsync, rename and a directory
 * fsync. The file takes the directory's owner where volinit may set it.
 * Returns 0 or an errno value. */
int version_write_at(int dirfd, const char *name, int32_t version);
/* The same for any text (volinit's own small records), created with mode
 * (before the umask). */
int version_write_file_at(int dirfd, const char *name, const char *text, mode_t mode);

/* Removes the temporary files a crashed write of name (a path below dirfd)
 * left beside it (volume.h). */
void version_remove_tmp(int dirfd, const char *name);

#endif
