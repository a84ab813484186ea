/* env: see env.h. */
#include "env.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Whether entry (NAME=VALUE) sets the same NAME as var (NAME=VALUE). */
static bool same_name(const char *entry, const char *var)
{
	size_t n = strcspn(var, "=");
	return strncmp(entry, var, n) == 0 && entry[n] == '=';
}

char **env_with(char *const *base, const char *const *set, size_t nset)
{
	size_t n = 0;
	while (base[n])
		n++;
	char **env = calloc(n + nset + 1, sizeof(char *));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < nset && !replaced; j++)
			replaced = same_name(base[i], set[j]);
		if (!replaced)
			env[k++] = base[i];
	}
	for (size_t j = 0; j < nset; j++)
		env[k++] = (char *)set[j];
	env[k] = NULL;
	return env;
}
