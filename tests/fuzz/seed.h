/* SPDX-License-Identifier: MIT */
/* Seed generators: where they write (the corpus folder) and how (one file a seed). */
#ifndef VXSEC_FUZZ_SEED_H
#define VXSEC_FUZZ_SEED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The corpus folder: the generator's first argument, else ".". */
static const char *seed_dir = ".";

static inline void seed_dir_from(int argc, char **argv)
{
	if (argc > 1)
		seed_dir = argv[1];
}

/*
 * <seed_dir>/seed-<name>: head (head_len bytes, may be 0) then body. Exits
 * 1 on any error: a generator that cannot write its corpus fails the build.
 */
static inline void seed_write_parts(const char *name, const uint8_t *head,
				    size_t head_len, const uint8_t *body,
				    size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%s", seed_dir, name);
	f = fopen(path, "wb");
	if (!f || (head_len && fwrite(head, 1, head_len, f) != head_len) ||
	    fwrite(body, 1, len, f) != len || fclose(f))
		exit(1);
}

static inline void seed_write(const char *name, const uint8_t *buf, size_t len)
{
	seed_write_parts(name, NULL, 0, buf, len);
}

#endif
