/* log: every line volinit writes to stderr, as text ("volinit: ...") or as
 * one JSON object per line. Logging never changes errno. */
#ifndef VOLINIT_LOG_H
#define VOLINIT_LOG_H

enum log_level {
	LOG_FATAL,  /* volinit stops: one such line per failure */
	LOG_HINT,   /* what to do next, after a FATAL line */
	LOG_ERROR,  /* a failure volinit survives */
	LOG_WARN,
	LOG_NOTICE, /* something changed on a volume: shown by default */
	LOG_INFO,   /* -v */
	LOG_DEBUG,  /* -vv */
};

enum log_format { LOG_TEXT, LOG_JSON };

/* verbosity: 0 default, <0 quiet (-q: FATAL, hints and errors only), >0 -v. */
void log_setup(enum log_format format, int verbosity);
enum log_format log_get_format(void);

/* The first FATAL line and the first hint after it, as text lines
 * ("volinit: FATAL: ...\nvolinit: hint: ...\n"), whatever log_format is;
 * "" before any FATAL line. For a termination message (termlog.h). */
const char *log_first_fatal(void);

/* volume may be NULL; code is an exit code, or 0 when none applies. */
void log_msg(enum log_level level, const char *volume, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_fatal(code, vol, ...) log_msg(LOG_FATAL, (vol), (code), __VA_ARGS__)
#define log_hint(vol, ...) log_msg(LOG_HINT, (vol), 0, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, NULL, 0, __VA_ARGS__)
#define log_warn(vol, ...) log_msg(LOG_WARN, (vol), 0, __VA_ARGS__)
#define log_notice(vol, ...) log_msg(LOG_NOTICE, (vol), 0, __VA_ARGS__)
#define log_info(vol, ...) log_msg(LOG_INFO, (vol), 0, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, NULL, 0, __VA_ARGS__)

#endif
