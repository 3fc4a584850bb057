// SPDX-License-Identifier: MIT
/* A small HTTP/1.x server on the loop: one request per connection, one page made by a control command, bounded in size, time and number. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "httpd.h"

#define RETRY_MS 100 /* accepting again after EMFILE and the like */
#define ACCEPT_BURST 16

/* A connection goes through these once each, in order. */
enum hstate {
	H_READING, /* the request head, until its blank line */
	H_WRITING, /* the response */
	H_DRAINING /* written, our side shut: the peer's EOF, then close */
};

struct hclient {
	struct httpd *srv;
	struct hclient *next, **pprev;
	int fd;
	enum hstate state;
	struct loop_timer *deadline;
	size_t len, sent;
	struct ctl_reply out; /* the whole response */
	char head[];	      /* srv->lim.head_max + 1 */
};

struct httpd {
	struct loop *loop;
	int fd;
	char *path, *cmd;
	ctl_handler cb;
	void *arg;
	struct httpd_limits lim;
	struct loop_timer *retry;
	struct hclient *clients;
	unsigned int n;
	char address[ADDR_TEXT_MAX];
};

int httpd_addr_parse(const char *key, const char *val,
		     struct sockaddr_storage *ss, socklen_t *len,
		     struct why *why)
{
	if (!val[0] || strcmp(val, "off") == 0 || strcmp(val, "none") == 0) {
		*len = 0;
		return 0;
	}
	if (config_addr_port(val, ss, len))
		return why_fail(why, -EINVAL,
				"%s: \"%s\" is not ADDRESS:PORT or off (e.g. "
				"127.0.0.1:7121, [::1]:7121)",
				key, val);
	return 0;
}

/* ---- the request ---- */

static bool token_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch);
}

/* "HTTP/d.d": 1 for 1.0 or 1.1, 0 for another version, -1 if not one. */
static int version_ok(const char *v, size_t n)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9')
		return -1;
	return v[5] == '1' && (v[7] == '0' || v[7] == '1');
}

int httpd_request_status(const char *head, size_t len, const char *path)
{
	const char *sp1, *sp2, *eol = memmem(head, len, "\r\n", 2);
	size_t line = eol ? (size_t)(eol - head) : len, plen = strlen(path);
	int v;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)head[i] < ' ' && head[i] != '\t' &&
		    head[i] != '\r' && head[i] != '\n')
			return 400;
	sp1 = memchr(head, ' ', line);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', line - (size_t)(sp1 + 1 - head))
		  : NULL;
	if (!sp1 || !sp2 || sp1 == head || sp2 == sp1 + 1 ||
	    memchr(sp2 + 1, ' ', line - (size_t)(sp2 + 1 - head)))
		return 400;
	for (const char *p = head; p < sp1; p++)
		if (!token_char(*p))
			return 400;
	for (const char *p = sp1 + 1; p < sp2; p++)
		if (*p <= ' ' || *p > '~')
			return 400;
	v = version_ok(sp2 + 1, line - (size_t)(sp2 + 1 - head));
	if (v < 0)
		return 400;
	if (v == 0)
		return 505;
	if (sp1 - head != 3 || memcmp(head, "GET", 3) != 0)
		return 405;
	if ((size_t)(sp2 - sp1 - 1) < plen ||
	    memcmp(sp1 + 1, path, plen) != 0 ||
	    (sp1 + 1 + plen != sp2 && sp1[1 + plen] != '?'))
		return 404;
	return 200;
}

/* ---- one connection ---- */

static void on_client(struct loop *l, int fd, uint32_t events, void *arg);

static void client_free(struct hclient *c)
{
	struct httpd *h = c->srv;

	*c->pprev = c->next; /* unlinked in O(1) */
	if (c->next)
		c->next->pprev = c->pprev;
	h->n--;
	loop_del_fd(h->loop, c->fd);
	close(c->fd);
	loop_timer_free(c->deadline);
	ctl_reply_cleanup(&c->out);
	free(c);
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Internal Server Error";
	}
}

/* The status line and headers, then body (len bytes), into out. */
static void response(struct ctl_reply *out, int status, const char *body,
		     size_t len)
{
	ctl_reply_printf(out,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
			 status, reason(status),
			 status == 200 ? HTTPD_CONTENT_TYPE : "text/plain", len,
			 status == 405 ? "Allow: GET\r\n" : "");
	ctl_reply_append(out, body, len);
}

/* An error's response: its reason as the body. */
static void error_response(struct ctl_reply *out, int status)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", reason(status));

	response(out, status, body, (size_t)n);
}

/* The page: what the command prints, or a 500. */
static int page(struct httpd *h, struct ctl_reply *out)
{
	struct ctl_reply body;
	char *argv[] = { h->cmd, NULL };
	int code;

	ctl_reply_init(&body);
	code = h->cb(h->arg, 1, argv, &body);
	if (code != CTL_OK || body.err || body.len > HTTPD_PAGE_MAX) {
		ctl_reply_cleanup(&body);
		error_response(out, 500);
		return 500;
	}
	response(out, 200, body.buf, body.len);
	ctl_reply_cleanup(&body);
	return 200;
}

/*
 * One non-blocking send (out) or recv, EINTR retried: bytes, 0 at EOF,
 * -EAGAIN, or -errno.
 */
static ssize_t io(int fd, char *buf, size_t len, bool out)
{
	ssize_t n;

	do
		n = out ? send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT)
			: recv(fd, buf, len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

/* Writes what is left; then shuts our side and waits for the peer's. */
static void client_write(struct hclient *c)
{
	ssize_t n;

	while (c->sent < c->out.len) {
		n = io(c->fd, c->out.buf + c->sent, c->out.len - c->sent, true);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			client_free(c);
			return;
		}
		c->sent += (size_t)n;
	}
	c->state = H_DRAINING;
	if (shutdown(c->fd, SHUT_WR) ||
	    loop_mod_fd(c->srv->loop, c->fd, EPOLLIN))
		client_free(c);
}

/* Answers with status (a page for 200), then closes. */
static void client_answer(struct hclient *c, int status)
{
	if (status == 200)
		page(c->srv, &c->out);
	else
		error_response(&c->out, status);
	if (c->out.err) {
		client_free(c);
		return;
	}
	c->state = H_WRITING;
	if (loop_mod_fd(c->srv->loop, c->fd, EPOLLOUT)) {
		client_free(c);
		return;
	}
	client_write(c);
}

/* Bytes of the head until its blank line; 431 past head_max. */
static void client_read(struct hclient *c)
{
	size_t max = c->srv->lim.head_max;
	const char *end;
	ssize_t n;

	for (;;) {
		n = io(c->fd, c->head + c->len, max - c->len, false);
		if (n == -EAGAIN)
			return;
		if (n <= 0) { /* gone before asking anything whole */
			client_free(c);
			return;
		}
		c->len += (size_t)n;
		end = memmem(c->head, c->len, "\r\n\r\n", 4);
		if (end) {
			client_answer(
				c, httpd_request_status(c->head,
							(size_t)(end - c->head),
							c->srv->path));
			return;
		}
		if (c->len == max) {
			client_answer(c, 431);
			return;
		}
	}
}

/* Our response is out: whatever else comes is dropped until EOF. */
static void client_drain(struct hclient *c)
{
	char sink[4096];
	ssize_t n;

	while ((n = io(c->fd, sink, sizeof(sink), false)) > 0)
		;
	if (n != -EAGAIN)
		client_free(c);
}

static void on_client(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct hclient *c = arg;

	(void)l, (void)fd, (void)events;
	switch (c->state) {
	case H_READING:
		client_read(c);
		break;
	case H_WRITING:
		client_write(c);
		break;
	case H_DRAINING:
		client_drain(c);
		break;
	default:
		client_free(c);
	}
}

/* Too slow: a 408 if it was still asking (best effort), then gone. */
static void on_deadline(struct loop *l, struct loop_timer *t, void *arg)
{
	struct hclient *c = arg;
	struct ctl_reply r;

	(void)l, (void)t;
	if (c->state == H_READING) {
		ctl_reply_init(&r);
		error_response(&r, 408);
		if (!r.err)
			(void)!send(c->fd, r.buf, r.len,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
		ctl_reply_cleanup(&r);
	}
	client_free(c);
}

static void client_new(struct httpd *h, int fd)
{
	struct hclient *c = calloc(1, sizeof(*c) + h->lim.head_max + 1);

	if (!c) {
		close(fd);
		return;
	}
	*c = (struct hclient){
		.srv = h, .fd = fd, .next = h->clients, .pprev = &h->clients
	};
	ctl_reply_init(&c->out);
	if (c->next)
		c->next->pprev = &c->next;
	h->clients = c;
	h->n++;
	c->deadline = loop_timer_new(h->loop, on_deadline, c);
	if (!c->deadline ||
	    loop_timer_arm(c->deadline, h->lim.deadline_ms, 0) ||
	    loop_add_fd(h->loop, fd, EPOLLIN, on_client, c))
		client_free(c); /* its fd closed too */
}

/* Over the cap: a 503 now (best effort) rather than a wait in the backlog. */
static void refuse(int fd)
{
	struct ctl_reply r;

	ctl_reply_init(&r);
	error_response(&r, 503);
	if (!r.err)
		(void)!send(fd, r.buf, r.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	ctl_reply_cleanup(&r);
	close(fd);
}

static void on_retry(struct loop *l, struct loop_timer *t, void *arg)
{
	struct httpd *h = arg;

	(void)t;
	loop_mod_fd(l, h->fd, EPOLLIN);
}

static void on_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct httpd *h = arg;
	int cfd;

	(void)events;
	for (int i = 0; i < ACCEPT_BURST; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0 && h->n < h->lim.clients_max)
			client_new(h, cfd);
		else if (cfd >= 0)
			refuse(cfd);
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		else if (errno != EINTR && errno != ECONNABORTED) {
			/* EMFILE and the like: not a busy loop */
			if (!loop_mod_fd(l, fd, 0))
				loop_timer_arm(h->retry, RETRY_MS, 0);
			return;
		}
	}
}

static int bind_listen(struct httpd *h, const struct sockaddr_storage *addr,
		       socklen_t addr_len)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	int one = 1;

	h->fd = socket(addr->ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0 ||
	    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(h->fd, (const struct sockaddr *)addr, addr_len) ||
	    listen(h->fd, (int)h->lim.clients_max) ||
	    getsockname(h->fd, (struct sockaddr *)&ss, &len))
		return -errno;
	addr_format(&ss, h->address, sizeof(h->address));
	return loop_add_fd(h->loop, h->fd, EPOLLIN, on_accept, h);
}

struct httpd *httpd_new(struct loop *l, const struct sockaddr_storage *addr,
			socklen_t addr_len, const char *path, const char *cmd,
			ctl_handler cb, void *arg,
			const struct httpd_limits *lim, struct why *why)
{
	static const struct httpd_limits defaults = { HTTPD_HEAD_MAX,
						      HTTPD_DEADLINE_MS,
						      HTTPD_CLIENTS_MAX };
	struct httpd *h = calloc(1, sizeof(*h));
	char text[ADDR_TEXT_MAX];
	int err = -ENOMEM;

	if (!h)
		return NULL;
	*h = (struct httpd){ .loop = l,
			     .fd = -1,
			     .path = strdup(path),
			     .cmd = strdup(cmd),
			     .cb = cb,
			     .arg = arg,
			     .lim = lim ? *lim : defaults };
	h->retry = loop_timer_new(l, on_retry, h);
	if (h->path && h->cmd && h->retry)
		err = bind_listen(h, addr, addr_len);
	if (!err)
		return h;
	addr_format(addr, text, sizeof(text));
	why_set(why, "cannot listen on %s: %s", text, strerror(-err));
	httpd_free(h);
	errno = -err;
	return NULL;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	for (struct hclient *c = h->clients, *next; c; c = next) {
		next = c->next;
		client_free(c);
	}
	if (h->fd >= 0) {
		loop_del_fd(h->loop, h->fd);
		close(h->fd);
	}
	loop_timer_free(h->retry);
	free(h->path);
	free(h->cmd);
	free(h);
}

const char *httpd_address(const struct httpd *h)
{
	return h->address;
}
