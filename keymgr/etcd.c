// SPDX-License-Identifier: MIT
/* vxsec-keymgr etcd: requests to etcd's v3 JSON gateway over the leader's loop — one keep-alive HTTP/1.1 connection (TLS with etcd_ca), requests in order, endpoints tried in turn. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>

#include "common/config.h"
#include "common/http.h"
#include "common/tls.h"
#include "etcd.h"

#define READ_CHUNK 16384
#define HEAD_ROOM 512 /* request line and headers */

struct etcd_req {
	struct etcd_req *next;
	char *path, *body;
	size_t len;
	etcd_cb cb;
	etcd_line_cb line; /* a stream: each line of the reply */
	void *arg;
};

struct etcd {
	struct loop *loop;
	struct sockaddr_storage addr[ETCD_ENDPOINTS_MAX];
	socklen_t addr_len[ETCD_ENDPOINTS_MAX];
	char text[ETCD_ENDPOINTS_MAX][64];
	char ip[ETCD_ENDPOINTS_MAX][INET6_ADDRSTRLEN]; /* its certificate's */
	size_t n, cur, failed; /* failed: connects in a row that failed */
	uint64_t timeout_ms;
	int fd;
	struct tls_ctx *tls;  /* NULL: plain TCP */
	struct tls_conn *tc;  /* TLS: from the TCP connect on */
	uint32_t events;      /* epoll's, now */
	bool rd_out, wr_out;  /* a read or a write waits to write */
	bool connected, sent; /* sent: the head request is on its way */
	bool answered;	      /* this connection brought a reply */
	struct etcd_req *head, *tail;
	size_t queued;
	char *out; /* the head request's bytes */
	size_t out_len, out_off;
	struct http_resp resp;
	struct loop_timer *deadline, *defer;
};

static void req_free(struct etcd_req *r)
{
	if (!r)
		return;
	free(r->path);
	if (r->body)
		sodium_memzero(r->body, r->len);
	free(r->body);
	free(r);
}

static void out_free(struct etcd *e)
{
	if (e->out)
		sodium_memzero(e->out, e->out_len);
	free(e->out);
	e->out = NULL;
	e->out_len = e->out_off = 0;
}

static void kick(struct etcd *e)
{
	loop_timer_arm(e->defer, 1, 0);
}

/* The head request ends: its callback, then the next request's turn. */
static void finish(struct etcd *e, int err, int status, const char *body,
		   size_t len, const struct why *why)
{
	struct etcd_req *r = e->head;

	if (!r)
		return;
	e->head = r->next;
	if (!e->head)
		e->tail = NULL;
	e->queued--;
	e->sent = false;
	out_free(e);
	loop_timer_arm(e->deadline, 0, 0);
	r->cb(r->arg, err, status, body, len, why);
	req_free(r);
	if (e->head)
		kick(e);
}

static void disconnect(struct etcd *e)
{
	tls_conn_free(e->tc);
	e->tc = NULL;
	if (e->fd >= 0) {
		loop_del_fd(e->loop, e->fd);
		close(e->fd);
	}
	e->fd = -1;
	e->connected = e->answered = false;
	e->rd_out = e->wr_out = false;
	e->events = 0;
	http_resp_reset(&e->resp, HTTP_BODY);
	loop_timer_arm(e->deadline, 0, 0);
}

/*
 * The connection failed: the request on the wire fails with err (etcd
 * may or may not have applied it); a connect that failed moves to the
 * next endpoint, and the request waiting for it fails once every
 * endpoint was tried. A connection that ends before its first reply
 * counts as a connect that failed (with TLS 1.3, etcd refuses a client
 * certificate after the client's handshake is done).
 */
static void fail(struct etcd *e, int err, const char *what)
{
	struct why why;
	bool fresh = !e->answered;

	why_set(&why, "etcd %s: %s", e->text[e->cur], what);
	disconnect(e);
	e->cur = (e->cur + 1) % e->n;
	if (e->sent || (fresh && ++e->failed >= e->n)) {
		e->failed = 0;
		finish(e, err, 0, NULL, 0, &why);
	} else if (e->head) {
		kick(e);
	}
}

static void on_deadline(struct loop *l, struct loop_timer *t, void *arg)
{
	struct etcd *e = arg;

	(void)l, (void)t;
	fail(e, -ETIMEDOUT,
	     e->connected ? "timed out waiting for the answer"
	     : e->tc	  ? "TLS handshake timed out"
			  : "connect timed out");
}

/* Plain or TLS: n > 0, 0 at the peer's close, -EAGAIN (*want: the
 * events it waits for) or -errno. */
static ssize_t io_read(struct etcd *e, void *buf, size_t len, uint32_t *want)
{
	ssize_t r;

	if (e->tc)
		return tls_conn_read(e->tc, buf, len, want);
	do
		r = recv(e->fd, buf, len, 0);
	while (r < 0 && errno == EINTR);
	*want = EPOLLIN;
	return r < 0 ? -errno : r;
}

static ssize_t io_write(struct etcd *e, const void *buf, size_t len,
			uint32_t *want)
{
	ssize_t w;

	if (e->tc)
		return tls_conn_write(e->tc, buf, len, want);
	do
		w = send(e->fd, buf, len, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	*want = EPOLLOUT;
	return w < 0 ? -errno : (w ? w : -EPIPE);
}

/* Why an io_read or io_write failed (n < 0) or ended (0). */
static const char *io_why(struct etcd *e, ssize_t n, struct why *why)
{
	if (!n)
		why_set(why, "connection closed");
	else if (e->tc && *tls_conn_error(e->tc))
		why_set(why, "TLS: %s", tls_conn_error(e->tc));
	else
		why_set(why, "%s", strerror((int)-n));
	return why->msg;
}

/* epoll: input always; output while a write, or a TLS read, waits for it. */
static void watch(struct etcd *e)
{
	uint32_t ev = EPOLLIN | (e->rd_out || e->wr_out ? EPOLLOUT : 0);

	if (ev != e->events && !loop_mod_fd(e->loop, e->fd, ev))
		e->events = ev;
}

static void write_out(struct etcd *e)
{
	struct why why;
	uint32_t want = 0;

	e->wr_out = false;
	while (e->out_off < e->out_len) {
		ssize_t w = io_write(e, e->out + e->out_off,
				     e->out_len - e->out_off, &want);

		if (w == -EAGAIN) {
			e->wr_out = want & EPOLLOUT;
			break;
		}
		if (w < 0) {
			fail(e, (int)w, io_why(e, w, &why));
			return;
		}
		e->out_off += (size_t)w;
	}
	watch(e);
}

/* Writes the head request (connected, nothing on the wire). */
static void send_head(struct etcd *e)
{
	struct etcd_req *r = e->head;
	struct http_req hr = { "POST",	e->text[e->cur],
			       r->path, "application/json",
			       NULL,	r->body,
			       r->len };
	struct why why;
	size_t cap = r->len + strlen(r->path) + HEAD_ROOM;
	int err;

	e->out = malloc(cap);
	if (!e->out) {
		why_set(&why, "out of memory");
		finish(e, -ENOMEM, 0, NULL, 0, &why);
		return;
	}
	e->out_len = cap;
	err = http_request_write(e->out, cap, &hr, &e->out_len, &why);
	if (err) {
		e->out_len = cap;
		finish(e, err, 0, NULL, 0, &why);
		return;
	}
	e->sent = true;
	e->out_off = 0;
	http_resp_reset(&e->resp, r->line ? HTTP_LINES : HTTP_BODY);
	loop_timer_arm(e->deadline, e->timeout_ms, 0);
	write_out(e);
}

/* Bytes from etcd: the head request's reply, once complete. */
static int take(struct etcd *e, const char *buf, size_t len)
{
	size_t used;
	bool keep;
	int ev;

	do {
		ev = http_resp_feed(&e->resp, buf, len, &used, NULL);
		buf += used, len -= used;
		if (ev < 0) {
			fail(e, ev, e->resp.why.msg);
			return -1;
		}
		if (ev == HTTP_HEAD && e->sent && e->head->line)
			loop_timer_arm(e->deadline, 0, 0); /* a stream lasts */
		if (ev == HTTP_LINE && e->sent && e->head->line)
			e->head->line(e->head->arg, e->resp.line,
				      e->resp.line_len);
		if (ev == HTTP_DONE) {
			if (!e->sent || len) {
				fail(e, -EBADMSG, "an answer nobody asked for");
				return -1;
			}
			keep = e->resp.keep_alive;
			e->failed = 0;
			e->answered = true;
			finish(e, 0, e->resp.status, e->resp.body,
			       e->resp.body_len, NULL);
			http_resp_reset(&e->resp, HTTP_BODY);
			if (!keep)
				disconnect(e);
			return 0;
		}
	} while (ev != HTTP_MORE);
	return 0;
}

static void read_in(struct etcd *e)
{
	char buf[READ_CHUNK];
	struct why why;
	uint32_t want = 0;

	for (;;) {
		ssize_t r = io_read(e, buf, sizeof(buf), &want);

		if (r == -EAGAIN) {
			e->rd_out = want & EPOLLOUT;
			watch(e);
			return;
		}
		if (r <= 0) {
			fail(e, r < 0 ? (int)r : -ECONNRESET,
			     io_why(e, r, &why));
			return;
		}
		if (take(e, buf, (size_t)r) || e->fd < 0)
			return;
	}
}

static void connected(struct etcd *e)
{
	e->connected = true;
	loop_timer_arm(e->deadline, 0, 0);
	watch(e);
	kick(e);
}

/* TLS over the TCP connection, under the connect's deadline. */
static void handshake(struct etcd *e)
{
	struct why why;
	uint32_t want = 0;
	int err;

	if (!e->tc) {
		e->tc = tls_conn_new(e->tls, e->fd, false);
		if (!e->tc || tls_conn_verify_ip(e->tc, e->ip[e->cur])) {
			fail(e, -ENOMEM, "cannot set up TLS");
			return;
		}
	}
	err = tls_conn_handshake(e->tc, &want);
	if (!err) {
		connected(e);
	} else if (err == -EAGAIN) {
		if (!loop_mod_fd(e->loop, e->fd, want))
			e->events = want;
	} else {
		why_set(&why, "TLS handshake failed: %s",
			*tls_conn_error(e->tc) ? tls_conn_error(e->tc)
					       : strerror(-err));
		fail(e, err, why.msg);
	}
}

static void on_fd(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct etcd *e = arg;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	(void)l, (void)events;
	if (!e->connected && !e->tc) {
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			fail(e, -soerr, strerror(soerr));
			return;
		}
		if (!e->tls) {
			connected(e);
			return;
		}
	}
	if (!e->connected) {
		handshake(e);
		return;
	}
	/* TLS: a read may wait on output, a write on input; plain: an
	 * extra recv or send that says EAGAIN */
	read_in(e);
	if (e->fd >= 0 && e->sent && e->out_off < e->out_len)
		write_out(e);
}

static void connect_start(struct etcd *e)
{
	int one = 1, fd;

	fd = socket(e->addr[e->cur].ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(e, -errno, strerror(errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	e->fd = fd;
	if (connect(fd, (struct sockaddr *)&e->addr[e->cur],
		    e->addr_len[e->cur]) < 0 &&
	    errno != EINPROGRESS) {
		fail(e, -errno, strerror(errno));
		return;
	}
	if (loop_add_fd(e->loop, fd, EPOLLOUT, on_fd, e)) {
		fail(e, -ENOMEM, "cannot watch the socket");
		return;
	}
	e->events = EPOLLOUT;
	loop_timer_arm(e->deadline, e->timeout_ms, 0);
}

static void on_defer(struct loop *l, struct loop_timer *t, void *arg)
{
	struct etcd *e = arg;

	(void)l, (void)t;
	if (!e->head || e->sent)
		return;
	if (e->fd < 0)
		connect_start(e);
	else if (e->connected)
		send_head(e);
}

/* The address as text: what etcd's certificate must name. */
static int addr_ip(const struct sockaddr_storage *ss, char *out, size_t len)
{
	const void *a =
		ss->ss_family == AF_INET6
			? (const void *)&((const struct sockaddr_in6 *)ss)
				  ->sin6_addr
			: (const void *)&((const struct sockaddr_in *)ss)
				  ->sin_addr;

	return inet_ntop(ss->ss_family, a, out, (socklen_t)len) ? 0 : -EINVAL;
}

struct etcd *etcd_new(struct loop *l, const struct etcd_config *cfg,
		      struct why *why)
{
	struct etcd *e;

	if (!cfg->n_endpoints || cfg->n_endpoints > ETCD_ENDPOINTS_MAX) {
		why_set(why, "etcd: %zu endpoints (1 to %d)", cfg->n_endpoints,
			ETCD_ENDPOINTS_MAX);
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->loop = l;
	e->fd = -1;
	e->n = cfg->n_endpoints;
	e->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : ETCD_TIMEOUT_MS;
	e->tls = cfg->tls;
	for (size_t i = 0; i < e->n; i++) {
		snprintf(e->text[i], sizeof(e->text[i]), "%s",
			 cfg->endpoints[i]);
		if (strlen(cfg->endpoints[i]) >= sizeof(e->text[i]) ||
		    config_addr_port(cfg->endpoints[i], &e->addr[i],
				     &e->addr_len[i]) ||
		    addr_ip(&e->addr[i], e->ip[i], sizeof(e->ip[i]))) {
			why_set(why,
				"etcd endpoint '%s': not an address and port "
				"(127.0.0.1:2379, [::1]:2379)",
				cfg->endpoints[i]);
			free(e);
			errno = EINVAL;
			return NULL;
		}
	}
	http_resp_init(&e->resp, ETCD_BODY_MAX, ETCD_BODY_MAX);
	e->deadline = loop_timer_new(l, on_deadline, e);
	e->defer = loop_timer_new(l, on_defer, e);
	if (!e->deadline || !e->defer) {
		etcd_free(e);
		errno = ENOMEM;
		return NULL;
	}
	return e;
}

void etcd_free(struct etcd *e)
{
	struct why why;

	if (!e)
		return;
	disconnect(e);
	why_set(&why, "etcd client closed");
	while (e->head) {
		e->sent = false;
		finish(e, -ECANCELED, 0, NULL, 0, &why);
	}
	out_free(e);
	http_resp_cleanup(&e->resp);
	loop_timer_free(e->deadline);
	loop_timer_free(e->defer);
	free(e);
}

static int queue(struct etcd *e, const char *path, const char *body, size_t len,
		 etcd_cb cb, etcd_line_cb line, void *arg)
{
	struct etcd_req *r;

	if (e->queued >= ETCD_QUEUE_MAX)
		return -ENOBUFS;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->path = strdup(path);
	r->body = malloc(len ? len : 1);
	if (!r->path || !r->body) {
		req_free(r);
		return -ENOMEM;
	}
	memcpy(r->body, body, len);
	r->len = len;
	r->cb = cb;
	r->line = line;
	r->arg = arg;
	if (e->tail)
		e->tail->next = r;
	else
		e->head = r;
	e->tail = r;
	e->queued++;
	kick(e);
	return 0;
}

int etcd_post(struct etcd *e, const char *path, const char *body, size_t len,
	      etcd_cb cb, void *arg)
{
	return queue(e, path, body, len, cb, NULL, arg);
}

int etcd_stream(struct etcd *e, const char *path, const char *body, size_t len,
		etcd_line_cb line, etcd_cb cb, void *arg)
{
	return queue(e, path, body, len, cb, line, arg);
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->text[e->cur];
}

size_t etcd_pending(const struct etcd *e)
{
	return e->queued;
}
