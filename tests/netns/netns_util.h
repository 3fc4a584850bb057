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
 * Group set-up of a netns test: checks root and enters a fresh namespace.
 * Says why on failure (-1).
 */
int netns_enter(void);

/* netns_enter(), then an XFRM request socket into *sock. */
struct xfrm_sock;
int netns_test_setup(struct xfrm_sock **sock);

/*
 * The far end for a test's traffic: a named namespace "vxsec-TAG-PID"
 * (its name in name), joined to this one by a veth: `here` in this
 * namespace with here4 and here6, `there` in the other with there4 and
 * there6 (IPv4 /24, IPv6 /64 without DAD; NULL: none), MTU 1500, both up,
 * lo up on both sides. 0, or -1 after saying why. netns_peer_del() removes
 * it, the veth with it.
 */
int netns_peer_add(char *name, size_t len, const char *tag, const char *here,
		   const char *here4, const char *here6, const char *there,
		   const char *there4, const char *there6);
void netns_peer_del(const char *name);

/* In netns_check.c (cmocka; the netns tests link it, the benchmarks not). */
/* A shell command that must succeed: a test failure naming it otherwise. */
void netns_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The standard output of a command that must succeed; free() it. */
char *netns_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* How many times needle occurs in text. */
size_t netns_count(const char *text, const char *needle);

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
