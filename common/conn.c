// SPDX-License-Identifier: MIT
/* Framed TLS connections: a state machine driven by the loop, never blocking. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "why.h"

#define HEADER 4
#define READ_CHUNK 16384

struct out {
	uint8_t *buf;
	size_t len, off;
	struct out *next;
};

struct conn {
	struct loop *loop;
	struct tls_conn *tls;
	struct loop_timer *deadline;	/* until conn_auth() */
	struct loop_timer *frame_timer; /* a started frame, after it */
	uint64_t frames;		/* delivered so far */
	uint64_t frame_timed;		/* frames when frame_timer was armed */
	int fd;
	bool handshaken, authed, closing, dead;
	bool sent;     /* frames went out since the last drained() */
	bool received; /* frames came in since the last read_done() */
	int busy;      /* inside io(): finish() leaves the free to io() */
	const struct conn_ops *ops;
	void *arg;
	struct conn_limits lim;
	uint8_t hdr[HEADER];
	size_t hdr_len;
	uint8_t *body; /* the frame being read; wiped and freed */
	size_t body_len, body_off;
	struct out *out, *out_tail;
	size_t queued;
	uint32_t events; /* what the loop waits for on fd */
	struct why why;
};

static void io(struct loop *l, int fd, uint32_t events, void *arg);
static int flush_out(struct conn *c);

static void free_out(struct out *o)
{
	explicit_bzero(o->buf, o->len);
	free(o->buf);
	free(o);
}

/*
 * Closing with unread bytes queued makes the kernel send a reset, which
 * can destroy our last frame (the error telling the peer why) in flight.
 */
static void drain_and_close(int fd)
{
	char sink[4096];

	shutdown(fd, SHUT_WR);
	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

static void finish(struct conn *c, const char *why)
{
	struct out *o;

	if (c->dead)
		return;
	c->dead = true;
	tls_conn_shutdown(c->tls);
	loop_del_fd(c->loop, c->fd);
	loop_timer_free(c->deadline);
	loop_timer_free(c->frame_timer);
	drain_and_close(c->fd);
	while ((o = c->out)) {
		c->out = o->next;
		free_out(o);
	}
	if (c->body) {
		/* Only what arrived was written: the rest was never touched. */
		explicit_bzero(c->body, c->body_off);
		free(c->body);
	}
	c->ops->closed(c, why, c->arg);
	tls_conn_free(c->tls);
	c->tls = NULL;
	if (!c->busy)
		free(c);
}

static void on_deadline(struct loop *l, struct loop_timer *t, void *arg)
{
	struct conn *c = arg;

	(void)l, (void)t;
	why_set(&c->why, "%s within %llu ms",
		c->handshaken ? "not authenticated" : "TLS handshake not done",
		(unsigned long long)c->lim.auth_ms);
	finish(c, c->why.msg);
}

static void on_frame_deadline(struct loop *l, struct loop_timer *t, void *arg)
{
	struct conn *c = arg;

	(void)l, (void)t;
	why_set(&c->why,
		"a frame of %zu bytes was not complete within %llu ms "
		"(%zu arrived)",
		c->body_len, (unsigned long long)c->lim.frame_ms, c->body_off);
	finish(c, c->why.msg);
}

struct conn *conn_new(struct loop *l, struct tls_ctx *t, int fd, bool server,
		      const struct conn_ops *ops, void *arg,
		      const struct conn_limits *lim)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->loop = l;
	c->fd = fd;
	c->ops = ops;
	c->arg = arg;
	c->lim = *lim;
	c->tls = tls_conn_new(t, fd, server);
	c->deadline = loop_timer_new(l, on_deadline, c);
	if (!c->tls || !c->deadline ||
	    loop_timer_arm(c->deadline, lim->auth_ms, 0) ||
	    loop_add_fd(l, fd, EPOLLIN | EPOLLOUT, io, c)) {
		loop_timer_free(c->deadline);
		tls_conn_free(c->tls);
		free(c);
		return NULL;
	}
	c->events = EPOLLIN | EPOLLOUT;
	return c;
}

/* Changes what the loop waits for, only if it changes. */
static int want(struct conn *c, uint32_t events)
{
	if (events == c->events)
		return 0;
	c->events = events;
	return loop_mod_fd(c->loop, c->fd, events);
}

void conn_auth(struct conn *c)
{
	if (c->authed)
		return;
	c->authed = true;
	loop_timer_free(c->deadline); /* one fd less for a long session */
	c->deadline = NULL;
}

bool conn_authed(const struct conn *c)
{
	return c->authed;
}

struct tls_conn *conn_tls(struct conn *c)
{
	return c->tls;
}

size_t conn_queued(const struct conn *c)
{
	return c->queued;
}

int conn_send(struct conn *c, const uint8_t *frame, size_t len)
{
	struct out *o = calloc(1, sizeof(*o));

	if (!o || !(o->buf = malloc(len))) {
		free(o);
		return -ENOMEM;
	}
	memcpy(o->buf, frame, len);
	o->len = len;
	c->queued += len;
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out = o;
	c->out_tail = o;
	/*
	 * Outside the loop's callback for this connection, write now: most
	 * frames then leave without a trip through epoll. Inside it, step()
	 * writes after the callback returns.
	 */
	if (!c->busy && c->handshaken && !c->dead && flush_out(c) == 0)
		return 0;
	return want(c, EPOLLIN | EPOLLOUT);
}

void conn_close(struct conn *c, const char *why, bool flush)
{
	if (!flush) {
		finish(c, why);
		return;
	}
	/*
	 * The loop finishes it once the queue is out, never this call: the
	 * owner's closed() must not free what its caller still holds.
	 */
	c->closing = true;
	if (why != c->why.msg)
		why_set(&c->why, "%s", why);
	want(c, EPOLLIN | EPOLLOUT);
}

/* Writes queued frames; 0, -EAGAIN, or the error that ended the conn. */
static int flush_out(struct conn *c)
{
	uint32_t want = 0;
	ssize_t n;
	struct out *o;

	while ((o = c->out)) {
		n = tls_conn_write(c->tls, o->buf + o->off, o->len - o->off,
				   &want);
		if (n < 0)
			return (int)n;
		o->off += (size_t)n;
		c->queued -= (size_t)n;
		c->sent = true;
		if (o->off < o->len)
			continue;
		c->out = o->next;
		if (!c->out)
			c->out_tail = NULL;
		free_out(o);
	}
	return 0;
}

static size_t max_frame(const struct conn *c)
{
	return c->authed ? c->lim.frame_max : c->lim.frame_unauth;
}

/* Consumes bytes into header and body; delivers complete frames. */
static int take(struct conn *c, const uint8_t *p, size_t n)
{
	size_t k;

	while (n && !c->dead && !c->closing) {
		if (c->hdr_len < HEADER) {
			k = HEADER - c->hdr_len < n ? HEADER - c->hdr_len : n;
			memcpy(c->hdr + c->hdr_len, p, k);
			c->hdr_len += k, p += k, n -= k;
			if (c->hdr_len < HEADER)
				break;
			c->body_len = (size_t)c->hdr[0] << 24 |
				      (size_t)c->hdr[1] << 16 |
				      (size_t)c->hdr[2] << 8 | c->hdr[3];
			if (c->body_len == 0 || c->body_len > max_frame(c)) {
				why_set(&c->why,
					"frame of %zu bytes (limit %zu%s)",
					c->body_len, max_frame(c),
					c->authed ? ""
						  : " before authentication");
				return -EMSGSIZE;
			}
			c->body = malloc(c->body_len);
			if (!c->body)
				return -ENOMEM;
			c->body_off = 0;
		}
		k = c->body_len - c->body_off < n ? c->body_len - c->body_off
						  : n;
		memcpy(c->body + c->body_off, p, k);
		c->body_off += k, p += k, n -= k;
		if (c->body_off < c->body_len)
			break;
		c->received = true;
		c->frames++;
		c->ops->frame(c, c->body, c->body_len, c->arg);
		if (c->dead)
			return -ECANCELED; /* closed by the callback: freed */
		explicit_bzero(c->body, c->body_len);
		free(c->body);
		c->body = NULL;
		c->hdr_len = 0;
	}
	return 0;
}

static int read_in(struct conn *c)
{
	uint8_t buf[READ_CHUNK];
	uint32_t want;
	ssize_t n;
	int err = 0;

	for (;;) {
		n = tls_conn_read(c->tls, buf, sizeof(buf), &want);
		if (n <= 0) {
			err = n == 0 ? -ECONNRESET : (int)n;
			break;
		}
		err = take(c, buf, (size_t)n);
		if (err)
			break;
	}
	explicit_bzero(buf, sizeof(buf));
	return err;
}

static int handshake(struct conn *c)
{
	uint32_t want;
	int err = tls_conn_handshake(c->tls, &want);

	if (err)
		return err;
	c->handshaken = true;
	c->ops->ready(c, c->arg);
	return c->dead ? -ECANCELED : 0;
}

/* Tells the owner the queue ran dry; writes what it queues in reply. */
static int drained(struct conn *c)
{
	int err = 0;

	while (!err && c->sent && !c->out && !c->closing && c->ops->drained) {
		c->sent = false;
		c->ops->drained(c, c->arg);
		if (c->dead)
			return -ECANCELED;
		err = flush_out(c);
	}
	return err;
}

/*
 * After authentication, a frame that is still partial when the read
 * would block must end within frame_ms of when it was first seen so.
 * Frames that arrive whole (almost all) cost no timer at all.
 */
static int time_frame(struct conn *c)
{
	if (!c->authed || !c->lim.frame_ms)
		return 0;
	if (!c->hdr_len) {
		loop_timer_free(c->frame_timer);
		c->frame_timer = NULL;
		return 0;
	}
	if (c->frame_timer && c->frame_timed == c->frames)
		return 0; /* the same frame: its deadline runs */
	if (!c->frame_timer)
		c->frame_timer = loop_timer_new(c->loop, on_frame_deadline, c);
	c->frame_timed = c->frames;
	if (!c->frame_timer ||
	    loop_timer_arm(c->frame_timer, c->lim.frame_ms, 0))
		return -ENOMEM;
	return 0;
}

static void step(struct conn *c)
{
	int err = 0;

	if (!c->handshaken)
		err = handshake(c);
	if (!err && c->handshaken)
		err = read_in(c);
	if (err == -EAGAIN && time_frame(c))
		err = -ENOMEM;
	if (err == -EAGAIN && c->received && c->ops->read_done && !c->closing) {
		c->received = false;
		c->ops->read_done(c, c->arg);
		if (c->dead)
			return;
	}
	if (err == -ECANCELED)
		return;
	if (err == -EMSGSIZE && c->ops->bad_frame && !c->closing) {
		c->ops->bad_frame(c, c->why.msg, c->arg);
		if (c->dead)
			return;
		c->closing = true;
		err = flush_out(c);
	}
	if (err == -EAGAIN)
		err = flush_out(c);
	if (!err && !c->out && !c->closing)
		err = drained(c);
	if (err == -ECANCELED)
		return;
	if (err == -EAGAIN || (!err && !c->closing)) {
		if (!err && !c->out)
			want(c, EPOLLIN);
		return;
	}
	if (!err) {
		finish(c, c->why.msg); /* closing, everything flushed */
		return;
	}
	if (!c->why.msg[0] || err != -EMSGSIZE)
		why_set(&c->why, "%s",
			err == -ECONNRESET && !*tls_conn_error(c->tls)
				? "connection closed"
			: *tls_conn_error(c->tls) ? tls_conn_error(c->tls)
						  : strerror(-err));
	finish(c, c->why.msg);
}

static void io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;

	(void)l, (void)fd, (void)events;
	c->busy++;
	step(c);
	/*
	 * finish() frees only when busy is 0, so c is still ours here; the
	 * analyzer cannot see busy survive the user callbacks.
	 */
	if (--c->busy == 0 && c->dead) // NOLINT(clang-analyzer-unix.Malloc)
		free(c); /* closed by a callback during this step */
}
