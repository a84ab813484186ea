/* sha256: the hook's digest recorded in .volinit/dirty (FIPS 180-4). */
#ifndef VOLINIT_SHA256_H
#define VOLINIT_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* 64 hex digits and a NUL. */
void sha256_hex(struct sha256 *s, char out[65]);

/* Digest of the file at dirfd/name; returns 0 or an errno value. */
int sha256_file_at(int dirfd, const char *name, char out[65]);

#endif
