/* volume: the volume directory itself (see volume.h). */
#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int volume_open(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int volume_is_empty(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int empty = 1;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    strcmp(n, VOLUME_STATE_DIR) == 0 ||
		    /* mkfs.ext4 leaves it on every fresh block volume */
		    strcmp(n, "lost+found") == 0)
			continue;
		empty = 0;
		break;
	}
	if (!e && errno != 0)
		empty = -1;
	closedir(d);
	return empty;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* A mount point listed in mountinfo that is the very directory path names
 * (same device and inode): no realpath needed, and symlinks in path or in
 * the mount table do not matter. */
int volume_is_mountpoint(const char *path)
{
	struct stat want;
	if (stat(path, &want) != 0)
		return -1;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	while (!found && getline(&line, &cap, f) > 0) {
		/* id parent major:minor root MOUNTPOINT options ... */
		char *save = NULL, *field = strtok_r(line, " ", &save);
		for (int i = 0; field && i < 4; i++)
			field = strtok_r(NULL, " ", &save);
		if (!field)
			continue;
		unescape_octal(field);
		struct stat st;
		found = stat(field, &st) == 0 && st.st_dev == want.st_dev &&
			st.st_ino == want.st_ino;
	}
	free(line);
	fclose(f);
	return found;
}
