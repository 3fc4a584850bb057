/* SPDX-License-Identifier: MIT */
/* A framed TLS connection on the event loop: handshake deadline, frames in and out. */
#ifndef VXSEC_CONN_H
#define VXSEC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "tls.h"

struct conn;

struct conn_ops {
	/* The handshake is done: tls_conn_peer_id() names the peer. */
	void (*ready)(struct conn *c, void *arg);
	/* One frame body (its 4-byte length stripped); wiped after return. */
	void (*frame)(struct conn *c, const uint8_t *body, size_t len,
		      void *arg);
	/*
	 * Optional: the peer broke the framing (why says how). The owner may
	 * conn_send() an error frame; the connection then closes.
	 */
	void (*bad_frame)(struct conn *c, const char *why, void *arg);
	/* Once, when the connection ends, with the reason; then it is freed. */
	void (*closed)(struct conn *c, const char *why, void *arg);
	/*
	 * Optional: everything queued has been written (flow control: the
	 * owner may conn_send() the next frame from here).
	 */
	void (*drained)(struct conn *c, void *arg);
	/*
	 * Optional: every frame that had arrived was delivered (the read
	 * would block). Lets the owner answer a burst of frames once, e.g.
	 * ack the last revision of a batch of deltas.
	 */
	void (*read_done)(struct conn *c, void *arg);
};

/*
 * What a connection may cost before and after its peer is authenticated.
 * Until conn_auth(), one deadline covers the TLS handshake and everything
 * after it (a join: request, answer), and frames are small. After it,
 * frames may be large, and one that has started must end within frame_ms.
 */
struct conn_limits {
	uint64_t auth_ms;    /* handshake until conn_auth(): one deadline */
	size_t frame_unauth; /* largest frame body before conn_auth() */
	size_t frame_max;    /* after */
	uint64_t frame_ms;   /* after: a started frame's deadline (0: none) */
};

/*
 * Takes over fd (non-blocking, connected): TLS as server or client, under
 * lim (copied). A frame over the limit ends the connection before
 * anything is allocated for it; memory grows only with bytes received.
 */
struct conn *conn_new(struct loop *l, struct tls_ctx *t, int fd, bool server,
		      const struct conn_ops *ops, void *arg,
		      const struct conn_limits *lim);

/*
 * The owner has authenticated the peer (a verified certificate, or
 * whatever its protocol asks): lim->frame_max and frame_ms apply from
 * now on and the authentication deadline ends. Idempotent.
 */
void conn_auth(struct conn *c);

/* conn_auth() was called. */
bool conn_authed(const struct conn *c);

/* Queues a whole frame (copied; the copy is wiped once sent). */
int conn_send(struct conn *c, const uint8_t *frame, size_t len);

/*
 * flush: closes from the loop once the queued frames are written (closed()
 * is never called from inside this call). !flush: closes at once, calling
 * closed() before it returns.
 */
void conn_close(struct conn *c, const char *why, bool flush);

struct tls_conn *conn_tls(struct conn *c);

/* Bytes queued and not yet handed to TLS. */
size_t conn_queued(const struct conn *c);

#endif
