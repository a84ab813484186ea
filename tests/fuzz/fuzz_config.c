/* fuzz_config: libFuzzer harness for the config loader (config_load_stream)
 * and --expect (config_add_expect). Beyond the sanitizers, it checks what a
 * loaded config promises to the rest of volinit, and that a refusal always
 * says why with exit code 78 (64 for a malformed --expect). */
#include "config.h"

#include <stdio.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void check_loaded(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		const struct volume_conf *v = &cfg->volumes[i];
		CHECK(v->name && v->name[0]);
		CHECK(v->path && v->path[0] == '/');
		/* normalized: no "//", no trailing slash but for "/" itself */
		CHECK(!strstr(v->path, "//"));
		CHECK(strcmp(v->path, "/") == 0 || v->path[strlen(v->path) - 1] != '/');
		CHECK(v->version_file && v->version_file[0]);
		CHECK(!strchr(v->version_file, '/'));
		CHECK(strcmp(v->version_file, ".") && strcmp(v->version_file, "..") &&
		      strcmp(v->version_file, ".volinit"));
		CHECK(v->has_expected && v->expected >= 0);
		CHECK(!v->has_baseline || v->baseline >= 0);
		CHECK(!v->migrations || v->migrations[0] == '/');
		CHECK(v->lock_timeout <= 86400);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(cfg->volumes[j].path, v->path) != 0);
	}
	CHECK(cfg->grace <= 86400);
	CHECK(!cfg->user || cfg->user[0]);
	CHECK(!cfg->capabilities || cfg->capabilities[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct config cfg;
	char err[512];
	err[0] = '\0';
	config_init(&cfg);
	/* Up to the first NUL, as a file read by fgets would be. */
	FILE *f = fmemopen(text, strlen(text), "r");
	int rc = 78;
	if (f) {
		rc = config_load_stream(&cfg, "fuzz.ini", f, err, sizeof(err));
		fclose(f);
	} else {
		snprintf(err, sizeof(err), "fuzz.ini: empty");
	}
	CHECK(rc == 0 || rc == 78);
	if (rc == 0)
		check_loaded(&cfg);
	else
		CHECK(strncmp(err, "fuzz.ini:", 9) == 0);
	config_free(&cfg);

	/* The same bytes as one --expect argument. */
	config_init(&cfg);
	err[0] = '\0';
	rc = config_add_expect(&cfg, text, err, sizeof(err));
	CHECK(rc == 0 || rc == 64);
	if (rc == 0) {
		CHECK(cfg.nvolumes == 1);
		check_loaded(&cfg);
		/* A second, identical declaration is refused. */
		CHECK(config_add_expect(&cfg, text, err, sizeof(err)) == 78);
	} else {
		CHECK(err[0] != '\0');
	}
	config_free(&cfg);
	free(text);
	return 0;
}
