/* state: PATH/.volinit/ (see state.h). */
#include "state.h"
#include "jbuf.h"
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int state_dirty_read(int voldirfd, char *detail, size_t len)
{
	int fd = openat(voldirfd, VOLUME_STATE_DIR "/dirty",
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	unsigned char buf[160];
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	struct jbuf b;
	jbuf_init(&b, detail, len);
	if (n > 0)
		jbuf_escape_bytes(&b, buf, (size_t)n);
	return 1;
}

int state_dir_create(int voldirfd)
{
	if (mkdirat(voldirfd, VOLUME_STATE_DIR, 0700) != 0 && errno != EEXIST)
		return errno;
	return 0;
}

static int fsync_state_dir(int voldirfd)
{
	int fd = openat(voldirfd, VOLUME_STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int err = fsync(fd) == 0 ? 0 : errno;
	close(fd);
	return err;
}

int state_dirty_write(int voldirfd, const char *json)
{
	int err = state_dir_create(voldirfd);
	if (err)
		return err;
	int fd = openat(voldirfd, VOLUME_STATE_DIR "/dirty",
			O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	size_t len = strlen(json);
	if (write(fd, json, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	if (!err && fsync(fd) != 0)
		err = errno;
	close(fd);
	return err ? err : fsync_state_dir(voldirfd);
}

int state_dirty_clear(int voldirfd)
{
	if (unlinkat(voldirfd, VOLUME_STATE_DIR "/dirty", 0) != 0 && errno != ENOENT)
		return errno;
	return fsync_state_dir(voldirfd);
}
