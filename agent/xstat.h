/* SPDX-License-Identifier: MIT */
/* agent xstat: the kernel's XFRM drop counters (/proc/net/xfrm_stat), names and values. */
#ifndef VXSEC_XSTAT_H
#define VXSEC_XSTAT_H

#include <stddef.h>
#include <stdint.h>

#define XSTAT_PATH "/proc/net/xfrm_stat"
#define XSTAT_MAX 48	  /* counters kept; Linux 6.x has about 32 */
#define XSTAT_NAME_MAX 40 /* bytes, NUL included */
#define XSTAT_FILE_MAX 8192

/* The counters in the kernel's order, unknown names included. */
struct xstat {
	struct {
		char name[XSTAT_NAME_MAX]; /* [A-Za-z0-9_]+ */
		uint64_t value;
	} c[XSTAT_MAX];
	size_t n;
	size_t skipped; /* valid lines beyond XSTAT_MAX, not kept */
};

/*
 * Parses the text of /proc/net/xfrm_stat: one counter a line, its name
 * ([A-Za-z0-9_], up to XSTAT_NAME_MAX - 1 bytes), spaces or tabs, its
 * value in decimal (fits 64 bits), optional trailing blanks; the last
 * line may lack its newline. Every line is checked; the first XSTAT_MAX
 * are kept, the rest counted in skipped. -EINVAL (out->n = 0) for any
 * malformed line: an empty line, a bad name or number, a NUL byte, a
 * name already kept. Names are safe to put in JSON and Prometheus labels.
 */
int xstat_parse(const char *text, size_t len, struct xstat *out);

/*
 * Reads and parses path (xstat_read: XSTAT_PATH, the calling process's
 * network namespace). -ENOENT: no such file (for XSTAT_PATH, a kernel
 * built without CONFIG_XFRM_STATISTICS or without XFRM); -EFBIG: more
 * than XSTAT_FILE_MAX bytes; -EINVAL as xstat_parse; another -errno of
 * open/read.
 */
int xstat_read_file(const char *path, struct xstat *out);
int xstat_read(struct xstat *out);

/* The value of counter name: 0, or -ENOENT if the kernel has none. */
int xstat_get(const struct xstat *x, const char *name, uint64_t *value);

#endif
