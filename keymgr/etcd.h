/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr etcd: requests to etcd's v3 JSON gateway over the leader's loop — one keep-alive HTTP/1.1 connection (TLS with etcd_ca), requests in order, endpoints tried in turn. */
#ifndef VXSEC_ETCD_H
#define VXSEC_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/loop.h"
#include "common/why.h"

#define ETCD_ENDPOINTS_MAX 8
#define ETCD_QUEUE_MAX 1024			/* requests waiting at once */
#define ETCD_BODY_MAX ((size_t)4 * 1024 * 1024) /* a reply's JSON */
#define ETCD_TIMEOUT_MS 5000			/* connect, or one request */

struct etcd;
struct tls_ctx;

/*
 * The end of one request: err 0 and the HTTP status with the reply's
 * body (NUL-terminated, valid during the call; the caller parses the
 * JSON), or err -errno with why: -ETIMEDOUT, -ECONNREFUSED and the like
 * (whether etcd applied it is then unknown), -EBADMSG (a reply that is
 * not HTTP), -ECANCELED (etcd_free with the request queued).
 */
typedef void (*etcd_cb)(void *arg, int err, int status, const char *body,
			size_t len, const struct why *why);

struct etcd_config {
	const char *const *endpoints; /* "ip:port" or "[ip6]:port" */
	size_t n_endpoints;
	uint64_t timeout_ms; /* 0: ETCD_TIMEOUT_MS */
	/*
	 * NULL: plain TCP. Else every connection is TLS with it
	 * (tls_ctx_client_files: etcd_ca, etcd_cert, etcd_key), the
	 * handshake within the connect's timeout, etcd's certificate
	 * checked for the endpoint's IP address. Held by the caller while
	 * the etcd lives.
	 */
	struct tls_ctx *tls;
};

/* NULL with errno: EINVAL (why says which endpoint) or ENOMEM. */
struct etcd *etcd_new(struct loop *l, const struct etcd_config *cfg,
		      struct why *why);
/* Ends the connection; every request still queued gets -ECANCELED. */
void etcd_free(struct etcd *e);

/*
 * POSTs body (JSON) to path ("/v3/kv/range") after the requests queued
 * before it; cb is called once, never from inside this call. 0, or
 * -ENOBUFS (ETCD_QUEUE_MAX requests wait), -ENOMEM.
 */
int etcd_post(struct etcd *e, const char *path, const char *body, size_t len,
	      etcd_cb cb, void *arg);

/* One line of a streamed reply (a JSON object), valid during the call. */
typedef void (*etcd_line_cb)(void *arg, const char *line, size_t len);

/*
 * A request whose reply streams (/v3/watch, /v3/lease/keepalive): line is
 * called for each line as it arrives, with no deadline once the reply's
 * head is in; cb ends it (the connection closed, an error, etcd_free). It
 * holds the connection: give a stream an etcd of its own.
 */
int etcd_stream(struct etcd *e, const char *path, const char *body, size_t len,
		etcd_line_cb line, etcd_cb cb, void *arg);

/* The endpoint of the connection, or of the next attempt. */
const char *etcd_endpoint(const struct etcd *e);
/* Requests waiting or on the wire. */
size_t etcd_pending(const struct etcd *e);

#endif
