/* window: .volinit/readers (see window.h). */
#include "window.h"
#include "state.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define READERS "readers"

void window_read(int voldirfd, int32_t version, struct window *w)
{
	w->state = WINDOW_CLOSED;
	w->readers = version;
	w->detail[0] = '\0';
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return;
	struct version_read r;
	version_read_at(sfd, READERS, &r); /* a regular file with one link, or corrupt */
	close(sfd);
	switch (r.status) {
	case VERSION_MISSING:
		return;
	case VERSION_OK:
		w->state = WINDOW_SET;
		if (r.version < version)
			w->readers = r.version;
		return;
	case VERSION_CORRUPT:
		snprintf(w->detail, sizeof(w->detail), "%s", r.detail);
		break;
	case VERSION_UNREADABLE:
		snprintf(w->detail, sizeof(w->detail), "cannot read: %s", strerror(r.err));
		break;
	}
	w->state = WINDOW_UNREADABLE;
}

int window_record(int voldirfd, int32_t readers)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return readers < 0 && errno == ENOENT ? 0 : errno; /* none to remove */
	int err = 0;
	if (readers >= 0) {
		err = version_write_mode_at(sfd, READERS, readers, 0600); /* .volinit/ is 0700, files 0600 */
	} else if (unlinkat(sfd, READERS, 0) == 0) {
		if (fsync(sfd) != 0)
			err = errno;
	} else if (errno != ENOENT) {
		err = errno;
	}
	close(sfd);
	return err;
}
