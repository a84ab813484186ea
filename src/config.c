/* config: inih callbacks into struct config, defaults, and validation with
 * FILE:LINE messages. One key table drives parsing, duplicates and errors. */
#include "config.h"
#include "trust.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

enum key_kind {
	K_CHOICE,   /* one of a list of words: stored as its index */
	K_BOOL,
	K_SECONDS,
	K_VERSION,  /* required */
	K_BASELINE, /* a version, or empty for none */
	K_PATH,     /* absolute */
	K_FILENAME, /* a name or a relative path below the volume */
	K_USER,
	K_CAPS,
};

struct key {
	const char *name;
	enum key_kind kind;
	size_t offset;          /* into struct config or struct volume_conf */
	size_t flag;            /* offset of the has_ flag, or 0 */
	const char *const *choices;
};

static const char *const on_refuse_words[] = { "exit", "hold", NULL };
static const char *const log_format_words[] = { "text", "json", NULL };
static const char *const on_missing_words[] = { "init", "fail", "app", NULL };
static const char *const on_older_words[] = { "fail", "migrate", NULL };
static const char *const on_newer_words[] = { "fail", "allow", NULL };

#define G(field) offsetof(struct config, field)
#define V(field) offsetof(struct volume_conf, field)

static const struct key global_keys[] = {
	{ "on_refuse", K_CHOICE, G(on_refuse), 0, on_refuse_words },
	{ "log_format", K_CHOICE, G(log_format), 0, log_format_words },
	{ "user", K_USER, G(user), 0, NULL },
	{ "capabilities", K_CAPS, G(capabilities), 0, NULL },
	{ "no_new_privs", K_BOOL, G(no_new_privs), 0, NULL },
	{ "grace", K_SECONDS, G(grace), 0, NULL },
	{ "termination_log", K_PATH, G(termination_log), 0, NULL },
	{ NULL, 0, 0, 0, NULL },
};

static const struct key volume_keys[] = {
	{ "path", K_PATH, V(path), 0, NULL },
	{ "version_file", K_FILENAME, V(version_file), 0, NULL },
	{ "expected", K_VERSION, V(expected), V(has_expected), NULL },
	{ "on_missing", K_CHOICE, V(on_missing), 0, on_missing_words },
	{ "baseline", K_BASELINE, V(baseline), V(has_baseline), NULL },
	{ "on_older", K_CHOICE, V(on_older), 0, on_older_words },
	{ "on_newer", K_CHOICE, V(on_newer), 0, on_newer_words },
	{ "migrations", K_PATH, V(migrations), 0, NULL },
	{ "snapshot", K_BOOL, V(snapshot), 0, NULL },
	{ "lock_timeout", K_SECONDS, V(lock_timeout), 0, NULL },
	{ "require_mount", K_BOOL, V(require_mount), 0, NULL },
	{ "verify", K_PATH, V(verify), 0, NULL },
	{ "verify_timeout", K_SECONDS, V(verify_timeout), 0, NULL },
	{ "readers", K_BASELINE, V(readers), V(has_readers), NULL },
	{ "single_node", K_BOOL, V(single_node), 0, NULL },
	{ NULL, 0, 0, 0, NULL },
};

#define DEFAULT_VERSION_FILE "schema_version.txt"
#define DEFAULT_LOCK_TIMEOUT 60
#define DEFAULT_VERIFY_TIMEOUT 30
#define MAX_SECONDS 86400u

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->on_refuse = REFUSE_EXIT;
	cfg->log_format = LOG_TEXT;
}

static void volume_free(struct volume_conf *v)
{
	free(v->name);
	free(v->path);
	free(v->version_file);
	free(v->migrations);
	free(v->verify);
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nvolumes; i++)
		volume_free(&cfg->volumes[i]);
	free(cfg->volumes);
	free(cfg->user);
	free(cfg->capabilities);
	free(cfg->termination_log);
	config_init(cfg);
}

bool config_parse_version(const char *s, int32_t *out)
{
	if (*s == '\0')
		return false;
	int64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
		if (v > VERSION_MAX)
			return false;
	}
	*out = (int32_t)v;
	return true;
}

int32_t config_readers(const struct volume_conf *v)
{
	return v->has_readers ? v->readers : v->expected;
}

bool config_online(const struct volume_conf *v)
{
	return config_readers(v) < v->expected;
}

bool config_parse_seconds(const char *s, unsigned *out)
{
	int32_t v;
	if (!config_parse_version(s, &v) || (unsigned)v > MAX_SECONDS)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };
	for (int i = 0; yes[i]; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* "a//b/" -> "a/b"; "/" stays "/". */
static void normalize_path(char *p)
{
	char *w = p;
	for (const char *r = p; *r; r++) {
		if (*r == '/' && w > p && w[-1] == '/')
			continue;
		*w++ = *r;
	}
	while (w > p + 1 && w[-1] == '/')
		w--;
	*w = '\0';
}

static bool valid_name_part(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* NAME[:GROUP] or UID[:GID]: the syntax only; privs resolves the names. */
/* version_file: a name or a relative path below the volume, such as
 * pgdata/PG_VERSION (PostgreSQL's data directory one level below the mount,
 * so that .volinit/ stays out of it). Each part is a plain name: no "." or
 * "..", no empty part, and not inside .volinit; version.c opens the
 * directories one by one beneath the volume, never following a symlink. */
static bool valid_relative(const char *s)
{
	if (!*s || strlen(s) >= 1024)
		return false;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (p == s && n == 8 && strncmp(p, ".volinit", 8) == 0)
			return false;
		p += n;
		if (*p == '/' && !*++p)
			return false; /* a trailing slash */
	}
	return true;
}

static bool valid_user(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	if (!valid_name_part(s, n))
		return false;
	return !colon || valid_name_part(colon + 1, strlen(colon + 1));
}

/* Comma- or space-separated capability names libcap knows. */
static bool valid_caps(const char *s, char *bad, size_t badlen)
{
	char buf[1024];
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	char *save = NULL;
	int n = 0;
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		cap_value_t cap;
		if (cap_from_name(tok, &cap) != 0) {
			snprintf(bad, badlen, "%s", tok);
			return false;
		}
		n++;
	}
	return n > 0;
}

struct parse_state {
	struct config *cfg;
	const char *file;
	FILE *stream;
	int line;          /* line of the text the reader returned last */
	int next_line;
	int long_line;     /* first line too long for inih, or 0 */
	int error_line;
	char *err;
	size_t errlen;
	int volinit_line;  /* where [volinit] starts, or 0 */
};

static int fail(struct parse_state *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parse_state *ps, int line, const char *fmt, ...)
{
	if (ps->error_line)
		return 0; /* the first error is the one reported */
	ps->error_line = line;
	int n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->file, line);
	if (n < 0 || (size_t)n >= ps->errlen)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

static struct volume_conf *find_volume(struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nvolumes; i++)
		if (strcmp(cfg->volumes[i].name, name) == 0)
			return &cfg->volumes[i];
	return NULL;
}

static struct volume_conf *add_volume(struct config *cfg, const char *name, int line)
{
	struct volume_conf *vs = realloc(cfg->volumes, (cfg->nvolumes + 1) * sizeof(*vs));
	if (!vs)
		return NULL;
	cfg->volumes = vs;
	struct volume_conf *v = &vs[cfg->nvolumes];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	if (!v->name)
		return NULL;
	v->on_missing = MISSING_INIT;
	v->on_older = OLDER_FAIL;
	v->on_newer = NEWER_FAIL;
	v->snapshot = true;
	v->lock_timeout = DEFAULT_LOCK_TIMEOUT;
	v->verify_timeout = DEFAULT_VERIFY_TIMEOUT;
	v->line = line;
	cfg->nvolumes++;
	return v;
}

/* Stores one value; returns false with a message for a bad one. */
static bool set_value(struct parse_state *ps, const char *section, const struct key *k,
		      void *base, const char *value)
{
	char *field = (char *)base + k->offset;
	char bad[64];
	switch (k->kind) {
	case K_CHOICE:
		for (int i = 0; k->choices[i]; i++) {
			if (strcmp(value, k->choices[i]) == 0) {
				*(int *)(void *)field = i;
				return true;
			}
		}
		fail(ps, ps->line, "[%s] %s: must be %s or %s, not \"%s\"", section, k->name,
		     k->choices[0], k->choices[1], value);
		return false;
	case K_BOOL:
		if (parse_bool(value, (bool *)field))
			return true;
		fail(ps, ps->line, "[%s] %s: must be true or false, not \"%s\"", section,
		     k->name, value);
		return false;
	case K_SECONDS:
		if (config_parse_seconds(value, (unsigned *)(void *)field))
			return true;
		fail(ps, ps->line, "[%s] %s: not a number of seconds from 0 to %u: \"%s\"",
		     section, k->name, MAX_SECONDS, value);
		return false;
	case K_VERSION:
	case K_BASELINE:
		if (config_parse_version(value, (int32_t *)(void *)field)) {
			*(bool *)(void *)((char *)base + k->flag) = true;
			if (k->offset == V(readers))
				((struct volume_conf *)base)->readers_line = ps->line;
			return true;
		}
		fail(ps, ps->line, "[%s] %s: not an integer from 0 to %d: \"%s\"", section,
		     k->name, VERSION_MAX, value);
		return false;
	case K_PATH:
		if (value[0] != '/') {
			fail(ps, ps->line, "[%s] %s: must be an absolute path, not \"%s\"",
			     section, k->name, value);
			return false;
		}
		break;
	case K_FILENAME:
		if (!valid_relative(value)) {
			fail(ps, ps->line, "[%s] %s: must be a file name or a relative path below "
			     "the volume (no \".\", \"..\", empty parts or .volinit), not \"%s\"",
			     section, k->name, value);
			return false;
		}
		break;
	case K_USER:
		if (!valid_user(value)) {
			fail(ps, ps->line, "[%s] %s: must be NAME[:GROUP] or UID[:GID], not \"%s\"",
			     section, k->name, value);
			return false;
		}
		break;
	case K_CAPS:
		bad[0] = '\0';
		if (!valid_caps(value, bad, sizeof(bad))) {
			fail(ps, ps->line, "[%s] %s: unknown capability \"%s\"", section, k->name,
			     bad[0] ? bad : value);
			return false;
		}
		break;
	}
	char *copy = strdup(value);
	if (!copy) {
		fail(ps, ps->line, "out of memory");
		return false;
	}
	if (k->kind == K_PATH)
		normalize_path(copy);
	if (k->offset == V(path) && base != ps->cfg)
		((struct volume_conf *)base)->path_line = ps->line;
	free(*(char **)(void *)field);
	*(char **)(void *)field = copy;
	return true;
}

static int handle_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	struct config *cfg = ps->cfg;
	const struct key *keys;
	void *base;
	uint32_t *seen;

	if (ps->error_line)
		return 0;
	if (section[0] == '\0')
		return fail(ps, ps->line, "%s: key outside a section (start with [volinit] or [VOLUME])", name);
	if (strcmp(section, "volinit") == 0) {
		keys = global_keys;
		base = cfg;
		seen = &cfg->seen;
	} else {
		struct volume_conf *v = find_volume(cfg, section);
		if (!v && !(v = add_volume(cfg, section, ps->line)))
			return fail(ps, ps->line, "out of memory");
		keys = volume_keys;
		base = v;
		seen = &v->seen;
	}
	for (int i = 0; keys[i].name; i++) {
		if (strcmp(keys[i].name, name) != 0)
			continue;
		if (*seen & (1u << i))
			return fail(ps, ps->line, "[%s] %s: duplicate key", section, name);
		*seen |= 1u << i;
		if (value[0] == '\0')
			return 1; /* empty: the default stays */
		return set_value(ps, section, &keys[i], base, value) ? 1 : 0;
	}
	return fail(ps, ps->line, "[%s] %s: unknown key", section, name);
}

/* A section header at the start of a line: so that an empty volume section
 * is not silently ignored and a repeated one is caught. */
static void note_section(struct parse_state *ps, const char *text)
{
	const char *end = strchr(text, ']');
	if (text[0] != '[' || !end)
		return; /* inih reports the syntax error */
	char name[256];
	size_t n = (size_t)(end - text - 1);
	if (n >= sizeof(name)) {
		fail(ps, ps->line, "section name too long");
		return;
	}
	memcpy(name, text + 1, n);
	name[n] = '\0';
	if (name[0] == '\0') {
		fail(ps, ps->line, "empty section name");
		return;
	}
	if (strcmp(name, "volinit") == 0) {
		if (ps->volinit_line)
			fail(ps, ps->line, "[volinit] appears twice (first at line %d)",
			     ps->volinit_line);
		ps->volinit_line = ps->line;
		return;
	}
	if (find_volume(ps->cfg, name)) {
		fail(ps, ps->line, "[%s] appears twice", name);
		return;
	}
	if (!add_volume(ps->cfg, name, ps->line))
		fail(ps, ps->line, "out of memory");
}

static char *read_line(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	char *s = fgets(str, num, ps->stream);
	if (!s)
		return NULL;
	ps->line = ps->next_line;
	size_t n = strlen(s);
	if (n > 0 && s[n - 1] == '\n')
		ps->next_line++;
	else if (!feof(ps->stream) && !ps->long_line)
		ps->long_line = ps->line;
	/* Indentation is only layout: inih would take an indented line for
	 * the continuation of the previous key's value, and blame that key. */
	size_t indent = strspn(s, " \t");
	if (indent)
		memmove(s, s + indent, n - indent + 1);
	note_section(ps, s);
	return s;
}

/* The index of an earlier volume on the same directory as volume i, under
 * whatever spelling (/x/data/., a symlink, a bind mount), or -1. A volume
 * whose path is not there yet is left to the guard (66). The second lock
 * of one directory would wait on the first for lock_timeout. */
static long same_directory(const struct config *cfg, size_t i)
{
	struct stat a, b;
	if (stat(cfg->volumes[i].path, &a) != 0 || !S_ISDIR(a.st_mode))
		return -1;
	for (size_t j = 0; j < i; j++) {
		if (stat(cfg->volumes[j].path, &b) == 0 && S_ISDIR(b.st_mode) &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return (long)j;
	}
	return -1;
}

static void link_volumes(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nvolumes; i++)
		cfg->volumes[i].config = cfg;
}

static int check_volumes(struct parse_state *ps)
{
	struct config *cfg = ps->cfg;
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		struct volume_conf *v = &cfg->volumes[i];
		if (!v->path)
			return fail(ps, v->line, "[%s] path: required", v->name), 78;
		if (!v->has_expected)
			return fail(ps, v->line, "[%s] expected: required", v->name), 78;
		if (v->has_readers && v->readers > v->expected)
			return fail(ps, v->readers_line, "[%s] readers: %d is above expected (%d): "
				    "readers is the oldest expected version that can still run on "
				    "the data this image writes", v->name, (int)v->readers,
				    (int)v->expected), 78;
		if (!v->version_file && !(v->version_file = strdup(DEFAULT_VERSION_FILE)))
			return fail(ps, v->line, "out of memory"), 78;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->volumes[j].path, v->path) == 0)
				return fail(ps, v->path_line, "[%s] path: %s is already the path of [%s]",
					    v->name, v->path, cfg->volumes[j].name), 78;
		}
		long j = same_directory(cfg, i);
		if (j >= 0)
			return fail(ps, v->path_line, "[%s] path: %s is the same directory as %s, "
				    "the path of [%s]", v->name, v->path, cfg->volumes[j].path,
				    cfg->volumes[j].name), 78;
	}
	link_volumes(cfg);
	return 0;
}

int config_load_stream(struct config *cfg, const char *name, FILE *f, char *err, size_t errlen)
{
	struct parse_state ps = {
		.cfg = cfg, .file = name, .stream = f, .line = 1, .next_line = 1,
		.err = err, .errlen = errlen,
	};
	int rc = ini_parse_stream(read_line, &ps, handle_key, &ps);
	if (ps.long_line && (!ps.error_line || ps.long_line < ps.error_line)) {
		ps.error_line = 0;
		fail(&ps, ps.long_line, "line longer than %d characters", INI_MAX_LINE - 2);
	}
	/* inih returns the first bad line, ours or its own syntax error. */
	if (rc > 0 && (!ps.error_line || rc < ps.error_line)) {
		ps.error_line = 0;
		fail(&ps, rc, "syntax error: expected [section], key = value, or a ; comment");
	}
	if (rc < 0 && !ps.error_line)
		fail(&ps, 0, "cannot parse (out of memory)");
	if (ps.error_line || rc != 0)
		return 78;
	cfg->file = name;
	return check_volumes(&ps);
}

int config_load(struct config *cfg, const char *file, char *err, size_t errlen)
{
	/* Like doas, and more: the config is the image's, owned by root or
	 * volinit's user, and no one else can rewrite or replace it. */
	int fd;
	enum trust_result t = trust_open(file, "config file", false, NULL, 0, &fd, err, errlen);
	if (t == TRUST_SYSTEM) {
		snprintf(err, errlen, "%s: cannot open config file: %s", file, strerror(errno));
		return 78;
	}
	if (t == TRUST_TYPE) {
		snprintf(err, errlen, "%s: config file is not a regular file", file);
		return 78;
	}
	if (t != TRUST_OK)
		return 78;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot read config file: %s", file, strerror(errno));
		close(fd);
		return 78;
	}
	int rc = config_load_stream(cfg, file, f, err, errlen);
	fclose(f);
	return rc;
}

int config_add_expect(struct config *cfg, const char *arg, char *err, size_t errlen)
{
	const char *eq = strrchr(arg, '=');
	int32_t version;
	if (!eq || eq == arg || arg[0] != '/' || !config_parse_version(eq + 1, &version)) {
		snprintf(err, errlen,
			 "--expect %s: want ABSOLUTE_PATH=VERSION, VERSION from 0 to %d", arg,
			 VERSION_MAX);
		return 64;
	}
	char *path = strndup(arg, (size_t)(eq - arg));
	if (!path) {
		snprintf(err, errlen, "out of memory");
		return 64;
	}
	normalize_path(path);
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		if (strcmp(cfg->volumes[i].path, path) == 0) {
			snprintf(err, errlen, "--expect %s: %s is already declared as [%s]", arg,
				 path, cfg->volumes[i].name);
			free(path);
			return 78;
		}
	}
	struct volume_conf *v = add_volume(cfg, path, 0);
	if (!v || !(v->version_file = strdup(DEFAULT_VERSION_FILE))) {
		free(path);
		snprintf(err, errlen, "out of memory");
		return 64;
	}
	v->path = path;
	v->expected = version;
	v->has_expected = true;
	link_volumes(cfg);
	long j = same_directory(cfg, cfg->nvolumes - 1);
	if (j >= 0) {
		snprintf(err, errlen, "--expect %s: %s is the same directory as %s, the path of [%s]",
			 arg, path, cfg->volumes[j].path, cfg->volumes[j].name);
		return 78;
	}
	return 0;
}
