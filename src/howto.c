/* howto: see howto.h. */
#include "howto.h"
#include "jbuf.h"
#include "self.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct config *howto_cfg;
static const char *howto_config_file;
static char *const *howto_expects;
static size_t howto_nexpects;
static bool howto_start;

void howto_setup(const struct config *cfg, const char *config_file, char *const *expects,
		 size_t nexpects, bool start)
{
	howto_cfg = cfg;
	howto_config_file = config_file && *config_file ? config_file : NULL;
	howto_expects = expects;
	howto_nexpects = nexpects;
	howto_start = start;
}

bool howto_in_container(void)
{
	return getpid() == 1 || self_image()[0];
}

/* One word of a shell command line: quoted unless it is plain. */
static void word(struct jbuf *b, const char *w)
{
	jbuf_puts(b, " ");
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789_./:=@%+,-") == strlen(w)) {
		jbuf_puts(b, w);
		return;
	}
	jbuf_puts(b, "'");
	for (const char *p = w; *p; p++)
		jbuf_puts(b, *p == '\'' ? "'\\''" : (char[2]){ *p, '\0' });
	jbuf_puts(b, "'");
}

/* As the container sees it: the ENTRYPOINT to name. */
const char *howto_self(void)
{
	static char path[PATH_MAX];
	if (!path[0]) {
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		if (n <= 0 || path[0] != '/' || strstr(path, " (deleted)"))
			snprintf(path, sizeof(path), "/sbin/volinit");
		else
			path[n] = '\0';
	}
	return path;
}

/* sub, then its arguments (NULL: none). */
static const char *command(const char *sub, const char *arg1, const char *arg2)
{
	/* Several commands in one hint: each call its own buffer. */
	static char bufs[4][2048];
	static unsigned next;
	char *out = bufs[next++ % 4];
	struct jbuf b;
	jbuf_init(&b, out, sizeof(bufs[0]));
	size_t nvol = howto_cfg ? howto_cfg->nvolumes : 0;
	if (!howto_in_container()) {
		jbuf_puts(&b, "volinit");
	} else if (howto_start && howto_cfg && howto_cfg->on_refuse == REFUSE_HOLD) {
		/* The container stays up: exec into it. */
		jbuf_puts(&b, "docker exec CONTAINER");
		word(&b, howto_self());
	} else {
		/* A container of its own: the volumes are words the user fills in
		 * (which volume is mounted here cannot be known from inside). */
		jbuf_puts(&b, "docker run --rm");
		for (size_t i = 0; i < nvol; i++) {
			char v[8200];
			if (nvol == 1)
				snprintf(v, sizeof(v), "VOLUME:%s", howto_cfg->volumes[i].path);
			else
				snprintf(v, sizeof(v), "VOLUME%zu:%s", i + 1, howto_cfg->volumes[i].path);
			jbuf_puts(&b, " -v");
			word(&b, v);
		}
		jbuf_puts(&b, " --entrypoint");
		word(&b, howto_self());
		word(&b, self_image()[0] ? self_image() : "IMAGE");
	}
	jbuf_puts(&b, " ");
	jbuf_puts(&b, sub);
	if (howto_config_file) {
		jbuf_puts(&b, " -c");
		word(&b, howto_config_file);
	}
	for (size_t i = 0; i < howto_nexpects; i++) {
		jbuf_puts(&b, " --expect");
		word(&b, howto_expects[i]);
	}
	if (arg1)
		word(&b, arg1);
	if (arg2)
		word(&b, arg2);
	return out;
}

const char *howto(const char *sub)
{
	return command(sub, NULL, NULL);
}

const char *howto_stamp(const char *volume, const char *version)
{
	return command("stamp", volume, version);
}

const char *howto_stamp_at(const char *volume, int version)
{
	char v[16];
	snprintf(v, sizeof(v), "%d", version);
	return command("stamp", volume, v);
}
