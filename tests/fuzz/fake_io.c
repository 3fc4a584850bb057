// SPDX-License-Identifier: MIT
/* Fakes of common/tls.c and common/loop.c for fuzz_conn: the input is the decrypted stream, the fuzzer the clock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "common/tls.h"
#include "common/why.h"
#include "tests/fuzz/fake_io.h"

/* ---- TLS: the decrypted stream, cut where the tape says ---- */

struct tls_conn {
	int magic;
	struct why err;
};

#define MAGIC 0x7f5a

static struct fake_tls_script script;
static struct fake_tls_seen seen;
static size_t tape_off;
static uint8_t written[FAKE_WRITTEN_MAX]; /* static: no mmap per input */

void fake_tls_start(const struct fake_tls_script *s)
{
	memset(&seen, 0, sizeof(seen));
	seen.written = written;
	script = *s;
	tape_off = 0;
}

const struct fake_tls_seen *fake_tls_seen(void)
{
	return &seen;
}

int fake_tape_byte(void)
{
	if (tape_off == script.tape_len)
		return -1;
	return script.tape[tape_off++];
}

bool fake_stream_done(void)
{
	return seen.stream_off == script.stream_len;
}

static void check(const struct tls_conn *c)
{
	if (!c || c->magic != MAGIC)
		abort(); /* a freed or foreign connection (ASan sees it too) */
}

struct tls_conn *tls_conn_new(struct tls_ctx *t, int fd, bool server)
{
	struct tls_conn *c = calloc(1, sizeof(*c));

	(void)t, (void)fd, (void)server;
	if (!c)
		return NULL;
	c->magic = MAGIC;
	seen.news++;
	return c;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	check(c);
	c->magic = 0;
	seen.frees++;
	free(c);
}

/* Tape: < 0x20 blocks (once per byte), 0x20 fails, anything else succeeds. */
int tls_conn_handshake(struct tls_conn *c, uint32_t *want)
{
	int b = fake_tape_byte();

	check(c);
	if (seen.handshaken)
		abort(); /* conn.c asked again after success */
	if (b >= 0 && b < 0x20) {
		*want = b & 1 ? EPOLLOUT : EPOLLIN;
		return -EAGAIN;
	}
	if (b == 0x20) {
		why_set(&c->err, "fake handshake failure");
		return -EPROTO;
	}
	seen.handshaken = true;
	return 0;
}

/*
 * Tape: 0 blocks, 0xff resets, below 0xc0 that many bytes, above
 * (b - 0xbf) * 256. The end of the stream closes it or blocks forever.
 */
ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t len, uint32_t *want)
{
	size_t left = script.stream_len - seen.stream_off, n = left;
	int b = fake_tape_byte();

	check(c);
	if (!seen.handshaken || !len)
		abort();
	if (b == 0 || (!left && !script.eof)) {
		*want = EPOLLIN;
		return -EAGAIN;
	}
	if (b == 0xff) {
		why_set(&c->err, "fake connection reset");
		return -ECONNRESET;
	}
	if (!left)
		return 0;
	if (b > 0)
		n = b < 0xc0 ? (size_t)b : (size_t)(b - 0xbf) * 256;
	n = n < left ? n : left;
	n = n < len ? n : len;
	memcpy(buf, script.stream + seen.stream_off, n);
	seen.stream_off += n;
	return (ssize_t)n;
}

/* With partial_writes, tape: 0 blocks, 0xff fails, else b * 16 bytes. */
ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t len,
		       uint32_t *want)
{
	size_t n = len;
	int b = script.partial_writes ? fake_tape_byte() : -1;

	check(c);
	if (!seen.handshaken || !len)
		abort();
	if (b == 0) {
		*want = EPOLLOUT;
		return -EAGAIN;
	}
	if (b == 0xff) {
		why_set(&c->err, "fake write failure");
		seen.write_failed = true;
		return -EPIPE;
	}
	if (b > 0)
		n = (size_t)b * 16 < len ? (size_t)b * 16 : len;
	if (seen.written_len + n <= FAKE_WRITTEN_MAX)
		memcpy(written + seen.written_len, buf, n);
	seen.written_len += n;
	return (ssize_t)n;
}

const char *tls_conn_error(const struct tls_conn *c)
{
	check(c);
	return c->err.msg;
}

void tls_conn_shutdown(struct tls_conn *c)
{
	check(c);
}

/* ---- the loop: one fd, timers on a clock the harness moves ---- */

struct loop {
	int dummy;
};

struct loop_timer {
	loop_timer_cb cb;
	void *arg;
	uint64_t due, interval; /* due 0: disarmed */
	struct loop_timer *next;
};

static struct loop the_loop;
static uint64_t now = 1;
static struct loop_timer *timers;
static int live_timers;
static struct {
	bool on;
	int fd;
	uint32_t events;
	loop_fd_cb cb;
	void *arg;
} fd_slot;

struct loop *fake_loop(void)
{
	return &the_loop;
}

uint64_t fake_now(void)
{
	return now;
}

int fake_live_timers(void)
{
	return live_timers;
}

bool fake_fd_registered(void)
{
	return fd_slot.on;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb,
		void *arg)
{
	if (l != &the_loop || fd_slot.on)
		abort(); /* one connection, one fd */
	fd_slot.on = true;
	fd_slot.fd = fd;
	fd_slot.events = events;
	fd_slot.cb = cb;
	fd_slot.arg = arg;
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	if (l != &the_loop || !fd_slot.on || fd != fd_slot.fd)
		abort();
	fd_slot.events = events;
	return 0;
}

int loop_del_fd(struct loop *l, int fd)
{
	if (l != &the_loop || !fd_slot.on || fd != fd_slot.fd)
		abort();
	fd_slot.on = false;
	return 0;
}

bool fake_fd_ready(uint32_t events)
{
	if (!fd_slot.on || !(fd_slot.events & events))
		return false;
	fd_slot.cb(&the_loop, fd_slot.fd, fd_slot.events & events, fd_slot.arg);
	return true;
}

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg)
{
	struct loop_timer *t = calloc(1, sizeof(*t));

	if (l != &the_loop)
		abort();
	if (!t)
		return NULL;
	t->cb = cb;
	t->arg = arg;
	t->next = timers;
	timers = t;
	live_timers++;
	return t;
}

int loop_timer_arm(struct loop_timer *t, uint64_t ms, uint64_t interval_ms)
{
	t->due = ms ? now + ms : 0;
	t->interval = interval_ms;
	return 0;
}

void loop_timer_free(struct loop_timer *t)
{
	struct loop_timer **p;

	if (!t)
		return;
	for (p = &timers; *p != t; p = &(*p)->next)
		if (!*p)
			abort(); /* not a live timer: freed twice */
	*p = t->next;
	live_timers--;
	free(t);
}

uint64_t fake_next_due(void)
{
	uint64_t due = UINT64_MAX;

	for (struct loop_timer *t = timers; t; t = t->next)
		if (t->due && t->due < due)
			due = t->due;
	return due;
}

/* The earliest armed timer due by now, or NULL. */
static struct loop_timer *next_timer(void)
{
	struct loop_timer *best = NULL;

	for (struct loop_timer *t = timers; t; t = t->next)
		if (t->due && t->due <= now && (!best || t->due < best->due))
			best = t;
	return best;
}

void fake_advance(uint64_t ms)
{
	uint64_t until = now + ms;
	struct loop_timer *t;

	for (;;) {
		uint64_t due = fake_next_due();

		if (due > until)
			break;
		now = due > now ? due : now;
		t = next_timer();
		t->due = t->interval ? now + t->interval : 0;
		t->cb(&the_loop, t, t->arg);
	}
	now = until;
}
