/* SPDX-License-Identifier: MIT */
/* What systemd and a scraper see of a daemon: notify datagrams on a socket of our own, raw HTTP requests on loopback. */
#ifndef VXSEC_TEST_PROBE_H
#define VXSEC_TEST_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* A datagram socket bound at path, as systemd's $NOTIFY_SOCKET (asserted). */
int probe_notify_bind(const char *path);

/*
 * Reads datagrams for up to secs until one holds needle; every one read
 * is appended to log (len bytes, NUL-terminated, "|" between them).
 */
bool probe_notify_wait(int fd, const char *needle, int secs, char *log,
		       size_t len);

/*
 * "http://ADDR:PORT/metrics" from a daemon's log line "metrics on ...":
 * the ADDR:PORT part into out (false if the log never says it in secs).
 */
bool probe_metrics_addr(const char *log, char *out, size_t len, int secs);

/*
 * Connects to addr ("127.0.0.1:PORT"), sends req (len bytes) and reads
 * until the server closes or secs pass: what it answered in out (NUL-
 * terminated). The connection's fd is closed. The read bytes, or -1 if
 * it did not close within secs.
 */
long probe_http(const char *addr, const char *req, size_t len, char *out,
		size_t out_len, int secs);

/* A connection to addr that sends nothing (the fd; asserted). */
int probe_dial(const char *addr);

#endif
