// SPDX-License-Identifier: MIT
/* Fuzz target: common/conn.c's framing from a decrypted byte stream, and the leader's join gate behind it. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/conn.h"
#include "keymgr/wire.h"
#include "tests/fuzz/fake_io.h"
#include "tests/fuzz/fuzz.h"

/*
 * The input: [flags] [n] [n tape bytes] [stream]. The stream is what the
 * peer sends, as TLS would decrypt it; the tape cuts it into reads,
 * blocks the handshake and writes, and moves the clock between rounds
 * (fake_io.h).
 */
#define F_AUTH 0x03	  /* when to call conn_auth(): enum auth_when */
#define F_EOF 0x04	  /* the stream ends closed, else silent */
#define F_PARTIAL 0x08	  /* writes block and cut where the tape says */
#define F_FLUSH 0x10	  /* refusals flush an error frame first */
#define F_SERVER 0x20	  /* conn_new as the server */
#define F_LIMITS 0xc0	  /* which of limits[] */
#define ROUNDS_MAX 100000 /* a bound on rounds; the tape ends sooner */

enum auth_when { AUTH_NEVER, AUTH_READY, AUTH_JOIN, AUTH_FIRST };

/*
 * The leader's (keymgr/session_int.h: 10 s, 12 KiB, 30 s) and odd ones;
 * frame_ms 0: none. frame_max stays at 1 MiB, not the leader's 16:
 * conn.c allocates a frame's announced length when its header is in
 * (pages never touched cost nothing on Linux), and under ASan each such
 * allocation maps and poisons its whole size, 100 times slower a run.
 */
static const struct conn_limits limits[] = {
	{ .auth_ms = 10000,
	  .frame_unauth = 12 * 1024,
	  .frame_max = 1u << 20,
	  .frame_ms = 30000 },
	{ .auth_ms = 3000,
	  .frame_unauth = 64,
	  .frame_max = 65536,
	  .frame_ms = 1000 },
	{ .auth_ms = 60000,
	  .frame_unauth = 16384,
	  .frame_max = 16384,
	  .frame_ms = 0 },
	{ .auth_ms = 500,
	  .frame_unauth = 1,
	  .frame_max = 128 * 1024,
	  .frame_ms = 200 },
};

static const char END_WHY[] = "fuzz: end of input";
static const char REFUSED_WHY[] = "fuzz: refused";

/* The harness's view of the one connection of an input. */
struct harness {
	struct conn *c;
	struct conn_limits lim;
	uint8_t flags;
	const uint8_t *stream;
	size_t stream_len;
	bool ready, authed, closed, closing, bad_frame;
	struct why why;
	uint64_t start, frame_since; /* frame_since: a header is in, 0 */
	size_t expect_off;	     /* where the next frame starts */
	size_t frames;
	size_t sent_len; /* of every frame queued (sent[]: the first MiB) */
};

static struct harness h;
static uint8_t sent[FAKE_WRITTEN_MAX]; /* static: no mmap per input */

static size_t be32(const uint8_t *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	       p[3];
}

static size_t frame_limit(void)
{
	return h.authed ? h.lim.frame_max : h.lim.frame_unauth;
}

/* The length in the next header, if all of it has been read. */
static bool next_header(size_t *len)
{
	if (fake_tls_seen()->stream_off < h.expect_off + FRAME_HEADER)
		return false;
	*len = be32(h.stream + h.expect_off);
	return true;
}

static void send_frame(uint8_t *f, size_t len)
{
	if (h.closed)
		abort();
	if (h.sent_len + len <= FAKE_WRITTEN_MAX)
		memcpy(sent + h.sent_len, f, len);
	h.sent_len += len;
	if (conn_send(h.c, f, len))
		abort();
	frame_buf_free(f, len);
}

static void authorize(void)
{
	if (h.authed || h.closing)
		return;
	conn_auth(h.c);
	h.authed = true;
	h.frame_since = 0;
}

/* As the leader's session_refuse(): an error frame, then the end. */
static void refuse(enum wire_error code, const char *why)
{
	uint8_t *f;
	size_t len;

	if (h.closing)
		return;
	if (wire_error(code, why, &f, &len))
		abort();
	send_frame(f, len);
	h.closing = true;
	conn_close(h.c, REFUSED_WHY, h.flags & F_FLUSH);
}

/* What wire_decode() promises about what it accepted. */
static void check_in(const struct wire_in *in)
{
	if (!memchr(in->node_id, '\0', sizeof(in->node_id)) ||
	    in->n_addrs > REGISTRY_ADDRS_MAX || in->csr_len > sizeof(in->csr))
		abort();
	for (size_t i = 0; i < in->n_addrs; i++)
		if (in->addrs[i].len != 4 && in->addrs[i].len != 16)
			abort();
	if (in->type == IN_JOIN && (!in->node_id[0] || !in->csr_len))
		abort();
}

/* Authenticated: what a session answers without the cluster behind it. */
static void session_frame(const struct wire_in *in)
{
	uint8_t *f;
	size_t len;

	if (in->type == IN_PING) {
		if (wire_ping_reply(in->nonce, &f, &len))
			abort();
		send_frame(f, len);
	} else if (in->type == IN_ERROR) {
		h.closing = true;
		conn_close(h.c, "agent reported an error", false);
	}
}

/* The leader's on_frame(): before conn_auth() only a join goes through. */
static void gate(const uint8_t *body, size_t len)
{
	static const uint8_t cert[64], ca[64];
	struct wire_in in;
	struct why why = { "" };
	uint8_t *f;
	size_t flen;
	int err = wire_decode(body, len, &in, &why);

	if (err) {
		if ((err != -EBADMSG && err != -EPROTO && err != -ENOTSUP) ||
		    !why.msg[0])
			abort(); /* a refusal is one of these and says why */
		refuse(err == -EPROTO ? WERR_VERSION : WERR_BAD_MESSAGE,
		       why.msg);
		goto out;
	}
	check_in(&in);
	if (!h.authed && in.type != IN_JOIN) {
		refuse(WERR_UNAUTHORIZED, "without a certificate only a join "
					  "request is accepted");
	} else if (!h.authed) {
		if (wire_join_response(cert, sizeof(cert), ca, sizeof(ca), 2,
				       &f, &flen))
			abort();
		send_frame(f, flen);
		if ((h.flags & F_AUTH) == AUTH_JOIN)
			authorize();
	} else {
		session_frame(&in);
	}
out:
	wire_in_wipe(&in);
}

static void on_ready(struct conn *c, void *arg)
{
	if (c != h.c || arg != &h || h.ready || h.closed)
		abort();
	h.ready = true;
	if ((h.flags & F_AUTH) == AUTH_READY)
		authorize();
}

/* Exactly the next frame of the stream, within the limit that applies. */
static void on_frame(struct conn *c, const uint8_t *body, size_t len, void *arg)
{
	size_t want;

	if (c != h.c || arg != &h || !h.ready || h.closed || h.closing)
		abort();
	if (!next_header(&want) || len != want || !len || len > frame_limit() ||
	    h.expect_off + FRAME_HEADER + len > fake_tls_seen()->stream_off ||
	    memcmp(body, h.stream + h.expect_off + FRAME_HEADER, len) != 0)
		abort();
	h.expect_off += FRAME_HEADER + len;
	h.frame_since = 0;
	h.frames++;
	if ((h.flags & F_AUTH) == AUTH_FIRST && h.frames == 1)
		authorize();
	gate(body, len);
}

/* Only for a header that is over the limit (or empty). */
static void on_bad_frame(struct conn *c, const char *why, void *arg)
{
	size_t len;

	if (c != h.c || arg != &h || h.closed || h.bad_frame || !why[0])
		abort();
	if (!next_header(&len) || (len && len <= frame_limit()))
		abort();
	h.bad_frame = true;
	refuse(WERR_BAD_MESSAGE, why);
}

static void on_closed(struct conn *c, const char *why, void *arg)
{
	if (c != h.c || arg != &h || h.closed || !why || !why[0])
		abort();
	h.closed = true;
	why_set(&h.why, "%s", why);
}

static void on_idle(struct conn *c, void *arg)
{
	if (c != h.c || arg != &h || h.closed)
		abort();
}

static const struct conn_ops ops = {
	.ready = on_ready,
	.frame = on_frame,
	.bad_frame = on_bad_frame,
	.closed = on_closed,
	.drained = on_idle,
	.read_done = on_idle,
};

/* The limits of conn.h, checked whenever the loop is idle. */
static void check_open(void)
{
	const struct fake_tls_seen *s = fake_tls_seen();
	uint64_t now = fake_now();
	size_t len;

	if (h.closed)
		return;
	if (!h.authed && now >= h.start + h.lim.auth_ms)
		abort(); /* the whole join has one deadline */
	if (!h.closing && next_header(&len) && (!len || len > frame_limit()))
		abort(); /* a header over the limit ends the connection */
	if (h.authed && !h.closing && !h.frame_since && next_header(&len))
		h.frame_since = now;
	if (h.authed && !h.closing && h.frame_since && h.lim.frame_ms &&
	    now >= h.frame_since + h.lim.frame_ms)
		abort(); /* a started frame ends within frame_ms */
	if (!s->write_failed && conn_queued(h.c) != h.sent_len - s->written_len)
		abort();
}

/* Nothing written but the frames queued, in order. */
static void check_written(void)
{
	const struct fake_tls_seen *s = fake_tls_seen();
	size_t n = s->written_len;

	if (n > h.sent_len)
		abort();
	if (n > FAKE_WRITTEN_MAX)
		n = FAKE_WRITTEN_MAX;
	if (memcmp(s->written, sent, n) != 0)
		abort();
	if (strcmp(h.why.msg, REFUSED_WHY) == 0 && (h.flags & F_FLUSH) &&
	    !s->write_failed && s->written_len != h.sent_len)
		abort(); /* a flushed close left frames behind */
}

/* Between rounds: the tape moves the clock, maybe sends a frame. */
static bool between(void)
{
	int b = fake_tape_byte();
	uint8_t *f;
	size_t len;

	if (b < 0)
		return false;
	if ((b & 0x80) && h.ready && !h.closing) {
		if (wire_ping_reply((uint64_t)b, &f, &len))
			abort();
		send_frame(f, len);
	}
	if (!h.closed)
		fake_advance((uint64_t)(b & 0x7f) * 100);
	check_open();
	return true;
}

/* Once the input is used up: time runs out, then the owner closes. */
static void end_game(void)
{
	for (int i = 0; i < 8 && !h.closed; i++) {
		uint64_t due = fake_next_due();

		if (due == UINT64_MAX)
			break;
		fake_advance(due - fake_now());
		check_open();
		if (!h.closed)
			fake_fd_ready(EPOLLIN | EPOLLOUT);
		check_open();
	}
	if (h.closed)
		return;
	if (!h.authed)
		abort(); /* unauthenticated, and no deadline left */
	h.closing = true;
	conn_close(h.c, END_WHY, h.flags & F_FLUSH);
	for (int i = 0; i < 1000 && !h.closed; i++)
		fake_fd_ready(EPOLLIN | EPOLLOUT);
	if (!h.closed)
		abort(); /* a flushed close that never ends */
}

static int devnull(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -1 : dup(fd);
}

static void run(void)
{
	int fd = devnull(), rounds = 0;

	if (fd < 0)
		abort();
	h.c = conn_new(fake_loop(), NULL, fd, h.flags & F_SERVER, &ops, &h,
		       &h.lim);
	if (!h.c)
		abort();
	h.start = fake_now();
	while (!h.closed && rounds++ < ROUNDS_MAX) {
		if (!fake_fd_ready(EPOLLIN | EPOLLOUT) && !h.closed)
			abort(); /* open, and waiting for nothing */
		check_open();
		if (h.closed || (!between() && fake_stream_done()))
			break;
	}
	end_game();
	check_written();
	if (fake_fd_registered() || fake_live_timers() ||
	    fake_tls_seen()->news != 1 || fake_tls_seen()->frees != 1)
		abort(); /* the fd, a timer or the TLS connection leaked */
	if (fcntl(fd, F_GETFD) != -1)
		abort(); /* conn_new() took over fd: closed */
}

int fuzz_conn(const uint8_t *data, size_t size)
{
	struct fake_tls_script s = { 0 };
	size_t n;

	if (size < 2)
		return 0;
	n = data[1] < size - 2 ? data[1] : size - 2;
	memset(&h, 0, sizeof(h));
	h.flags = data[0];
	h.lim = limits[(h.flags & F_LIMITS) >> 6];
	h.stream = data + 2 + n;
	h.stream_len = size - 2 - n;
	s.tape = data + 2;
	s.tape_len = n;
	s.stream = h.stream;
	s.stream_len = h.stream_len;
	s.eof = h.flags & F_EOF;
	s.partial_writes = h.flags & F_PARTIAL;
	fake_tls_start(&s);
	run();
	return 0;
}
