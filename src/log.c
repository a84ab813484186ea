/* log: one function for every line on stderr (see log.h). Each line is
 * built in a fixed buffer and written with one write(2), so lines from
 * several processes never interleave and logging works in any phase. */
#include "log.h"
#include "jbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_format log_format = LOG_TEXT;
static int log_verbosity;
/* The first FATAL line and its first hint (log_first_fatal). */
static char first_fatal[2 * 1100];
static int first_fatal_lines;

static const char *const level_names[] = {
	[LOG_FATAL] = "fatal", [LOG_HINT] = "hint",     [LOG_ERROR] = "error",
	[LOG_WARN] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

/* Text prefixes after "volinit: "; notices and info lines have none. */
static const char *const level_prefix[] = {
	[LOG_FATAL] = "FATAL: ", [LOG_HINT] = "hint: ",  [LOG_ERROR] = "error: ",
	[LOG_WARN] = "warning: ", [LOG_NOTICE] = "",      [LOG_INFO] = "",
	[LOG_DEBUG] = "debug: ",
};

void log_setup(enum log_format format, int verbosity)
{
	log_format = format;
	log_verbosity = verbosity;
}

enum log_format log_get_format(void)
{
	return log_format;
}

static int shown(enum log_level level)
{
	if (level <= LOG_ERROR)
		return 1;
	if (log_verbosity < 0)
		return 0;
	if (level <= LOG_NOTICE)
		return 1;
	return (int)level - (int)LOG_NOTICE <= log_verbosity;
}

const char *log_first_fatal(void)
{
	return first_fatal;
}

/* The text form of a line, without its newline. */
static void text_line(struct jbuf *b, enum log_level level, const char *msg)
{
	jbuf_puts(b, "volinit: ");
	jbuf_puts(b, level_prefix[level]);
	/* Names from the volume (the app's) reach messages: a newline would
	 * forge a line, an ESC drive the operator's terminal. */
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p == '\n')
			jbuf_puts(b, "\\n");
		else if (*p < 0x20 || *p == 0x7f)
			jbuf_printf(b, "\\x%02x", *p);
		else
			jbuf_add(b, (const char *)p, 1);
	}
}

/* Into first_fatal, as text: the first FATAL line, then the first hint
 * after it. */
static void keep_first(enum log_level level, const char *msg)
{
	if (level == LOG_FATAL ? first_fatal_lines != 0
			       : level != LOG_HINT || first_fatal_lines != 1)
		return;
	struct jbuf b;
	size_t used = strlen(first_fatal);
	jbuf_init(&b, first_fatal + used, sizeof(first_fatal) - used - 2);
	text_line(&b, level, msg);
	first_fatal[used + b.len] = '\n';
	first_fatal[used + b.len + 1] = '\0';
	first_fatal_lines++;
}

void log_msg(enum log_level level, const char *volume, int code, const char *fmt, ...)
{
	if (!shown(level))
		return;
	int saved_errno = errno;
	char msg[1024], line[2048];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len >= (int)sizeof(msg)) {
		/* Cut: say so, after a whole UTF-8 character. */
		size_t end = sizeof(msg) - 4;
		while (end > 0 && ((unsigned char)msg[end] & 0xc0) == 0x80)
			end--;
		memcpy(msg + end, "...", 4);
	}
	keep_first(level, msg);

	struct jbuf b;
	jbuf_init(&b, line, sizeof(line) - 1); /* room for the newline */
	if (log_format == LOG_JSON) {
		jbuf_puts(&b, "{\"time\":\"");
		jbuf_time(&b);
		jbuf_puts(&b, "\",\"level\":");
		jbuf_json_str(&b, level_names[level]);
		/* Bounded: the object always fits the line, and stays valid. */
		jbuf_puts(&b, ",\"msg\":");
		jbuf_json_str_max(&b, msg, 1400);
		if (volume) {
			jbuf_puts(&b, ",\"volume\":");
			jbuf_json_str_max(&b, volume, 256);
		}
		if (code)
			jbuf_printf(&b, ",\"code\":%d", code);
		jbuf_puts(&b, "}");
	} else {
		text_line(&b, level, msg);
	}
	line[b.len++] = '\n';
	ssize_t off = 0;
	while (off < (ssize_t)b.len) {
		ssize_t n = write(STDERR_FILENO, line + off, b.len - (size_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	errno = saved_errno;
}
