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
 * Takes over fd (non-blocking, connected): TLS as server or client, the
 * handshake must finish within handshake_ms, frames longer than max_frame
 * end the connection before anything is allocated for them.
 */
struct conn *conn_new(struct loop *l, struct tls_ctx *t, int fd, bool server,
		      const struct conn_ops *ops, void *arg,
		      uint64_t handshake_ms, size_t max_frame);

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
