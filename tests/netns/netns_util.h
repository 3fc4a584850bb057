/* SPDX-License-Identifier: MIT */
/* netns test helpers: a fresh network namespace and command capture. */
#ifndef VXSEC_NETNS_UTIL_H
#define VXSEC_NETNS_UTIL_H

#include <stddef.h>

/*
 * Moves the calling process into a new, empty network namespace
 * (unshare(CLONE_NEWNET)); commands it runs afterwards (ip, ...) see the
 * same namespace. The previous one is released when nothing holds it.
 * Returns 0 or -errno (-EPERM without CAP_SYS_ADMIN).
 */
int netns_fresh(void);

/*
 * Group set-up of every netns test: checks root, enters a fresh namespace
 * and opens an XFRM request socket into *sock. Says why on failure (-1).
 */
struct xfrm_sock;
int netns_test_setup(struct xfrm_sock **sock);

/*
 * Runs a shell command, returns its exit status (or -errno) and, if out is
 * not NULL, its standard output as a NUL-terminated malloc'd string.
 */
int netns_run(const char *cmd, char **out, size_t *out_len);

/* Counts the lines of text that contain needle. */
size_t netns_count_lines(const char *text, const char *needle);

/* Monotonic seconds, for benchmarks only. */
double netns_now(void);

#endif
