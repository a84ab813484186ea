/* config: the ini file (read with inih) and --expect, into struct config. */
#ifndef VOLINIT_CONFIG_H
#define VOLINIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

#define CONFIG_DEFAULT_FILE "/etc/volinit.ini"
#define VERSION_MAX INT32_MAX

enum on_refuse { REFUSE_EXIT, REFUSE_HOLD };
enum on_missing { MISSING_INIT, MISSING_FAIL, MISSING_APP };
enum on_older { OLDER_FAIL, OLDER_MIGRATE };
enum on_newer { NEWER_FAIL, NEWER_ALLOW };

struct volume_conf {
	char *name;
	char *path;          /* absolute, without trailing slashes */
	char *version_file;  /* a name or relative path below path (no ., .., //) */
	int32_t expected;
	bool has_expected;
	int32_t baseline;
	bool has_baseline;
	enum on_missing on_missing;
	enum on_older on_older;
	enum on_newer on_newer;
	char *migrations;    /* NULL: none */
	bool snapshot;
	unsigned lock_timeout;
	bool require_mount;
	bool single_node;    /* the operator says one node mounts it: volinit may act where its locks stay on this node */
	char *verify;         /* the verify hook (absolute), or NULL */
	unsigned verify_timeout; /* seconds before it is killed (failed) */
	int32_t readers;     /* the oldest expected version that can run on what this image writes */
	bool has_readers;    /* unset: readers = expected */
	int readers_line;    /* where readers is set */
	int line;            /* where the section starts, for messages */
	int path_line;       /* where path is set */
	uint32_t seen;       /* keys already set, to refuse duplicates */
	const struct config *config; /* the whole config, for checks across volumes */
};

struct config {
	const char *file;    /* NULL when no file was read */
	enum on_refuse on_refuse;
	enum log_format log_format;
	char *user;          /* NULL: keep volinit's identity */
	char *capabilities;  /* NULL: keep none when switching user */
	bool no_new_privs;
	unsigned grace;
	char *termination_log; /* NULL: /dev/termination-log (Kubernetes' default) */
	uint32_t seen;
	struct volume_conf *volumes;
	size_t nvolumes;
};

/* Everything that is not given takes the default of SPEC.md. */
void config_init(struct config *cfg);
void config_free(struct config *cfg);

/* Reads an ini file into cfg. Returns 0, or 78 with a one-line message
 * ("FILE:LINE: ...") in err. */
int config_load(struct config *cfg, const char *file, char *err, size_t errlen);

/* The same from an open stream; name is used in messages. Tests and the
 * fuzzer hand it fmemopen's stream (kept out of volinit itself, where
 * fmemopen would cost the static binary a page). */
int config_load_stream(struct config *cfg, const char *name, FILE *f, char *err, size_t errlen);

/* Adds a volume from --expect PATH=VERSION. Returns 0, 64 for a malformed
 * argument, or 78 when the path is already declared. */
int config_add_expect(struct config *cfg, const char *arg, char *err, size_t errlen);

/* Strict parsers shared with the command line. */
bool config_parse_version(const char *s, int32_t *out);
bool config_parse_seconds(const char *s, unsigned *out);

/* The volume's readers: the key's value, else expected. */
int32_t config_readers(const struct volume_conf *v);
/* A migration by this image is online (SPEC.md "Rolling updates"): its
 * readers are below its expected version. */
bool config_online(const struct volume_conf *v);

#endif
