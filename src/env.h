/* env: an environment for a child, volinit's own with some variables set. */
#ifndef VOLINIT_ENV_H
#define VOLINIT_ENV_H

#include <stddef.h>

/* A new NULL-terminated array: base's entries, except those that set
 * (NAME=VALUE strings) replaces, then set's. The strings are not copied:
 * they must outlive the array. Free the array with free(). NULL when out of
 * memory. */
char **env_with(char *const *base, const char *const *set, size_t nset);

#endif
