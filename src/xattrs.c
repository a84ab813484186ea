/* xattrs: see xattrs.h. Lists, values and sets go through the descriptor
 * (f*xattr) or the /proc/self/fd path (*xattr, followed) of each struct xnode. */
#include "xattrs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/xattr.h>

static ssize_t x_list(const struct xnode *n, char *buf, size_t len)
{
	return n->path ? listxattr(n->path, buf, len) : flistxattr(n->fd, buf, len);
}

static ssize_t x_get(const struct xnode *n, const char *name, void *buf, size_t len)
{
	return n->path ? getxattr(n->path, name, buf, len) : fgetxattr(n->fd, name, buf, len);
}

static int x_set(const struct xnode *n, const char *name, const void *val, size_t len)
{
	return n->path ? setxattr(n->path, name, val, len, 0) : fsetxattr(n->fd, name, val, len, 0);
}

static int x_remove(const struct xnode *n, const char *name)
{
	return n->path ? removexattr(n->path, name) : fremovexattr(n->fd, name);
}

/* The attribute names (NUL-separated) in a new buffer; NULL and *len 0
 * when there are none or the filesystem keeps none. Returns 0 or an errno. */
static int names_of(const struct xnode *n, char **names, size_t *len)
{
	*names = NULL;
	*len = 0;
	for (;;) {
		ssize_t size = x_list(n, NULL, 0);
		if (size < 0)
			return errno == ENOTSUP ? 0 : errno;
		if (size == 0)
			return 0;
		char *buf = malloc((size_t)size);
		if (!buf)
			return ENOMEM;
		ssize_t got = x_list(n, buf, (size_t)size);
		if (got >= 0) {
			*names = buf;
			*len = (size_t)got;
			return 0;
		}
		free(buf);
		if (errno != ERANGE)
			return errno; /* ERANGE: the list grew meanwhile, ask again */
	}
}

static bool listed(const char *names, size_t len, const char *name)
{
	for (size_t i = 0; i < len; i += strlen(names + i) + 1)
		if (strcmp(names + i, name) == 0)
			return true;
	return false;
}

/* The value of name, in *buf (grown as needed). Returns its length or -1.
 * (A size of 0 would ask only for the length: the buffer is never empty.) */
static ssize_t value_of(const struct xnode *n, const char *name, char **buf, size_t *cap)
{
	for (;;) {
		ssize_t size = x_get(n, name, NULL, 0);
		if (size < 0)
			return -1;
		if ((size_t)size + 1 > *cap) {
			char *b = realloc(*buf, (size_t)size + 1);
			if (!b) {
				errno = ENOMEM;
				return -1;
			}
			*buf = b;
			*cap = (size_t)size + 1;
		}
		ssize_t got = x_get(n, name, *buf, *cap);
		if (got >= 0 || errno != ERANGE)
			return got; /* ERANGE: the value grew meanwhile, ask again */
	}
}

/* A label the LSM owns: it may refuse to let volinit set or remove it,
 * and gives a new inode one of its own. A file capability is not one. */
static bool is_label(const char *name, int err)
{
	return strncmp(name, "security.", 9) == 0 && strcmp(name, "security.capability") != 0 &&
	       (err == EACCES || err == EPERM || err == ENOTSUP);
}

int xattrs_copy(const struct xnode *from, const struct xnode *to, unsigned *labels_left)
{
	char *src = NULL, *dst = NULL, *val = NULL, *cur = NULL;
	size_t nsrc = 0, ndst = 0, valcap = 0, curcap = 0;
	int err = names_of(from, &src, &nsrc);
	if (!err)
		err = names_of(to, &dst, &ndst);
	for (size_t i = 0; !err && i < ndst; i += strlen(dst + i) + 1) {
		const char *name = dst + i;
		if (listed(src, nsrc, name) || x_remove(to, name) == 0 || errno == ENODATA)
			continue;
		if (is_label(name, errno))
			++*labels_left;
		else
			err = errno;
	}
	for (size_t i = 0; !err && i < nsrc; i += strlen(src + i) + 1) {
		const char *name = src + i;
		ssize_t len = value_of(from, name, &val, &valcap);
		if (len < 0) {
			err = errno == ENODATA ? 0 : errno; /* ENODATA: removed meanwhile */
			continue;
		}
		if (x_set(to, name, val, (size_t)len) == 0)
			continue;
		int set_err = errno;
		if (value_of(to, name, &cur, &curcap) == len && memcmp(cur, val, (size_t)len) == 0)
			continue; /* it has that value already (a label the kernel gave) */
		if (is_label(name, set_err))
			++*labels_left;
		else
			err = set_err;
	}
	free(src);
	free(dst);
	free(val);
	free(cur);
	return err;
}
