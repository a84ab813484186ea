/* trust: what volinit executes or takes as instructions (the config file,
 * the migrations directory, hooks) must be the image's: owned by root or by
 * the user volinit runs as, and replaceable by no one else. */
#ifndef VOLINIT_TRUST_H
#define VOLINIT_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"

enum trust_result {
	TRUST_OK = 0,
	TRUST_SYSTEM = -1, /* could not look (errno set; err says where) */
	TRUST_UNSAFE = 1,  /* someone but the image could change it (err says why) */
	TRUST_TYPE = 2,    /* not a directory / not a regular file, as asked */
};

enum trust_problem {
	TRUST_FINE,
	TRUST_OWNER,  /* owned by someone but root and volinit's user */
	TRUST_MODE,   /* the object itself is writable by group or others */
	TRUST_PARENT, /* the directory it is in is writable by group or others */
};

/* The rule for one step of a path, pure: an entry st (file, directory or
 * symlink) found in the directory parent (NULL for "/"), as seen by volinit
 * running as euid. Only the object itself (is_object) is held to its own
 * mode: a directory on the way is judged as the parent of the next step,
 * where a sticky one (/tmp) is fine above an entry owned by root. */
enum trust_problem trust_judge(const struct stat *st, const struct stat *parent, uid_t euid,
			       bool is_object);

/* Checks path as OpenDoas checks doas.conf, and every directory on the
 * way to it: each is owned by root or by geteuid(), and none is writable by
 * group or others, except a sticky directory above an entry owned by root.
 * Symlinks on the way are followed, as execve and open would, and the
 * directories they lead through are checked the same way. The walk holds a
 * descriptor at each step (O_PATH|O_NOFOLLOW): no name is resolved twice.
 * With nvols > 0, a path inside one of those volumes (compared by device
 * and inode, up from the object through "..") is refused too. what names
 * it in messages: "config file", "migrations", "hook". */
enum trust_result trust_check(const char *path, const char *what, bool is_dir,
			      const struct volume_conf *vols, size_t nvols, char *err,
			      size_t errlen);

/* The same, then opens it for reading (O_RDONLY, O_DIRECTORY for a
 * directory) through the walk's own descriptors: *fd is set on TRUST_OK. */
enum trust_result trust_open(const char *path, const char *what, bool is_dir,
			     const struct volume_conf *vols, size_t nvols, int *fd, char *err,
			     size_t errlen);

#endif
