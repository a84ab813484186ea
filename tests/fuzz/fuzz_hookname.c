/* fuzz_hookname: libFuzzer harness for migrate_hook_step, the parser of a
 * migration hook's file name, checked against SPEC.md's rule: the digits N
 * (optionally zero-padded) at the start, then the end of the name or a
 * non-digit and anything; N from 0 to 2147483647. */
#include "migrate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static int reference(const char *s, int32_t *out)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0)
		return -1;
	size_t z = 0;
	while (z + 1 < n && s[z] == '0')
		z++;
	if (n - z > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = z; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	int32_t got = -7, want = -7;
	int rc = migrate_hook_step(name, &got);
	int ref = reference(name, &want);
	CHECK(rc == 0 || rc == -1);
	CHECK(rc == ref);
	if (rc == 0)
		CHECK(got == want);
	else
		CHECK(got == -7); /* untouched on refusal */
	free(name);
	return 0;
}
