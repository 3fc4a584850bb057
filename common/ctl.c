// SPDX-License-Identifier: MIT
/* The control socket server on the loop: one request line in, a code and a body out. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

#define RETRY_MS 100 /* accepting again after EMFILE and the like */
#define ACCEPT_BURST 16
#define DRAIN_MAX 65536
#define HEAD_MAX 8

_Static_assert(CTL_LATER_MAX_MS < CTL_WRITE_MS,
	       "ctl_call() must outwait a deferred reply");

enum client_state {
	C_READING, /* the request, before read_ms */
	C_SERVING, /* in the handler */
	C_WAITING, /* for ctl_later_finish(), before later_ms */
	C_WRITING, /* the reply, before write_ms */
};

/* A deferred reply; it lives in its client. */
struct ctl_later {
	struct ctl_later **slot; /* the daemon's pointer; NULL once ended */
	void (*gone)(void *arg);
	void *arg;
	bool taken, finished; /* finished: inside the handler, with code */
	int code;
};

struct client {
	struct ctl_server *srv;
	struct client *next;
	int fd;
	enum client_state state;
	struct loop_timer *deadline; /* of the state */
	struct ctl_later later;
	char req[CTL_REQUEST_MAX];
	size_t req_len;
	char head[HEAD_MAX];   /* "<code>\n" */
	size_t head_len, sent; /* sent counts head and body bytes */
	struct ctl_reply reply;
};

struct ctl_server {
	struct loop *loop;
	int fd;
	bool bound, paused, closing;
	dev_t dev;
	ino_t ino;
	char *path;
	uid_t euid;
	ctl_handler cb;
	void *arg;
	uint64_t read_ms, write_ms, later_ms;
	struct loop_timer *retry;
	struct client *clients;
	unsigned int nclients;
};

/* ---- server: one client ---- */

static void on_client(struct loop *l, int fd, uint32_t events, void *arg);
static void server_resume(struct ctl_server *s);

/* The client whose handler runs: whom ctl_reply_later() may defer. */
static struct client *serving;

/* Unless it ended: the daemon's pointer cleared, then gone told. */
static void later_drop(struct ctl_later *l)
{
	if (!l->slot)
		return;
	*l->slot = NULL;
	l->slot = NULL;
	if (l->gone)
		l->gone(l->arg);
}

/* Closing with unread bytes queued would turn the peer's EOF into a reset. */
static void drain_and_close(int fd)
{
	char sink[4096];
	size_t total = 0;
	ssize_t n;

	shutdown(fd, SHUT_WR);
	while (total < DRAIN_MAX &&
	       (n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	close(fd);
}

static void client_free(struct client *c)
{
	struct ctl_server *s = c->srv;
	struct ctl_later later = c->later;
	struct client **p;

	for (p = &s->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	s->nclients--;
	loop_del_fd(s->loop, c->fd);
	loop_timer_free(c->deadline);
	drain_and_close(c->fd);
	ctl_reply_cleanup(&c->reply);
	free(c);
	if (s->paused && !s->closing)
		server_resume(s);
	later_drop(&later); /* last: gone may finish other laters */
}

/* 0 once head and body are out, -EAGAIN, or the error that ends it. */
static int client_flush(struct client *c)
{
	size_t total = c->head_len + c->reply.len, boff;
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov };
	ssize_t n;

	while (c->sent < total) {
		msg.msg_iovlen = 0;
		if (c->sent < c->head_len) {
			iov[0].iov_base = c->head + c->sent;
			iov[0].iov_len = c->head_len - c->sent;
			msg.msg_iovlen = 1;
		}
		boff = c->sent > c->head_len ? c->sent - c->head_len : 0;
		if (boff < c->reply.len) {
			iov[msg.msg_iovlen].iov_base = c->reply.buf + boff;
			iov[msg.msg_iovlen++].iov_len = c->reply.len - boff;
		}
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN
								       : -errno;
		c->sent += (size_t)n;
	}
	return 0;
}

static void client_pump(struct client *c)
{
	if (client_flush(c) != -EAGAIN)
		client_free(c);
}

static void client_send(struct client *c, int code)
{
	if (code < 0 || code > 255)
		code = CTL_FAIL;
	c->head_len = (size_t)snprintf(c->head, sizeof(c->head), "%d\n", code);
	c->state = C_WRITING;
	if (loop_timer_arm(c->deadline, c->srv->write_ms, 0) ||
	    loop_mod_fd(c->srv->loop, c->fd, EPOLLOUT)) {
		client_free(c);
		return;
	}
	client_pump(c);
}

/* A reply the server makes itself: code and a one-line reason. */
__attribute__((format(printf, 3, 4))) static void
client_answer(struct client *c, int code, const char *fmt, ...)
{
	va_list ap;

	ctl_reply_cleanup(&c->reply);
	va_start(ap, fmt);
	ctl_reply_vprintf(&c->reply, fmt, ap);
	va_end(ap);
	ctl_reply_append(&c->reply, "\n", 1);
	client_send(c, code);
}

/* The handler's code and body, unless an append failed. */
static void client_reply(struct client *c, int code)
{
	if (c->reply.err)
		client_answer(c, CTL_FAIL, "reply lost: %s",
			      strerror(-c->reply.err));
	else
		client_send(c, code);
}

/* Nothing to read any more: only a hang-up (EPOLLHUP) is reported. */
static void client_wait(struct client *c)
{
	c->state = C_WAITING;
	if (loop_timer_arm(c->deadline, c->srv->later_ms, 0) ||
	    loop_mod_fd(c->srv->loop, c->fd, 0))
		client_free(c);
}

static void client_served(struct client *c, int code)
{
	struct ctl_later *l = &c->later;

	if (code == CTL_LATER && l->slot) {
		client_wait(c);
		return;
	}
	if (code == CTL_LATER && !l->finished) {
		client_answer(c, CTL_FAIL, "internal error: no deferred reply");
		return;
	}
	if (code == CTL_LATER)
		code = l->code;
	later_drop(l); /* taken, yet answered at once */
	client_reply(c, code);
}

static void client_serve(struct client *c, size_t len)
{
	struct ctl_server *s = c->srv;
	char *argv[CTL_ARGS_MAX + 1];
	struct why why = { "" };
	int argc, code;

	if (strlen(c->req) != len) {
		client_answer(c, CTL_USAGE, "NUL byte in request");
		return;
	}
	if (len && c->req[len - 1] == '\r')
		c->req[len - 1] = '\0';
	argc = ctl_request_split(c->req, argv, CTL_ARGS_MAX, &why);
	if (argc < 0) {
		client_answer(c, CTL_USAGE, "bad request: %s", why.msg);
		return;
	}
	if (argc == 0) {
		client_answer(c, CTL_USAGE, "empty request");
		return;
	}
	c->state = C_SERVING;
	serving = c;
	code = s->cb(s->arg, argc, argv, &c->reply);
	serving = NULL;
	client_served(c, code);
}

static void client_read(struct client *c)
{
	size_t room;
	ssize_t n;
	char *nl;

	for (;;) {
		room = CTL_REQUEST_MAX - c->req_len;
		n = recv(c->fd, c->req + c->req_len, room, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			client_free(c);
			return;
		}
		if (n == 0) {
			client_answer(c, CTL_USAGE,
				      "request ended without a newline");
			return;
		}
		nl = memchr(c->req + c->req_len, '\n', (size_t)n);
		c->req_len += (size_t)n;
		if (nl) {
			*nl = '\0';
			client_serve(c, (size_t)(nl - c->req));
			return;
		}
		if (c->req_len == CTL_REQUEST_MAX) {
			client_answer(c, CTL_USAGE,
				      "request longer than %d bytes",
				      CTL_REQUEST_MAX);
			return;
		}
	}
}

static void on_client(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct client *c = arg;

	(void)l, (void)fd;
	if (c->state == C_WRITING)
		client_pump(c);
	else if (c->state == C_WAITING && (events & (EPOLLHUP | EPOLLERR)))
		client_free(c); /* it hung up: nobody to answer */
	else if (c->state == C_READING)
		client_read(c);
}

/* "30 s", or "150 ms" if not whole seconds. */
static void ms_text(uint64_t ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "%llu ms", (unsigned long long)ms);
	else
		snprintf(buf, len, "%llu s", (unsigned long long)(ms / 1000));
}

static void on_client_deadline(struct loop *l, struct loop_timer *t, void *arg)
{
	struct client *c = arg;
	char when[32];

	(void)l, (void)t;
	if (c->state == C_WRITING) {
		client_free(c); /* it does not read its reply */
	} else if (c->state == C_WAITING) {
		later_drop(&c->later);
		ms_text(c->srv->later_ms, when, sizeof(when));
		client_answer(c, CTL_FAIL, "no answer within %s", when);
	} else {
		client_answer(c, CTL_USAGE,
			      "no complete request within %llu ms",
			      (unsigned long long)c->srv->read_ms);
	}
}

static bool peer_allowed(const struct ctl_server *s, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) ||
	    len != sizeof(cr))
		return false;
	return cr.uid == 0 || cr.uid == s->euid;
}

static void client_new(struct ctl_server *s, int fd)
{
	struct client *c = calloc(1, sizeof(*c));

	if (c)
		c->deadline = loop_timer_new(s->loop, on_client_deadline, c);
	if (!c || !c->deadline || loop_timer_arm(c->deadline, s->read_ms, 0) ||
	    loop_add_fd(s->loop, fd, EPOLLIN, on_client, c)) {
		if (c)
			loop_timer_free(c->deadline);
		free(c);
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	c->next = s->clients;
	s->clients = c;
	s->nclients++;
	if (!peer_allowed(s, fd))
		client_answer(c, CTL_NOPERM, "permission denied");
}

/* ---- server: the listening socket ---- */

static void server_pause(struct ctl_server *s, bool retry)
{
	if (loop_mod_fd(s->loop, s->fd, 0))
		return;
	s->paused = true;
	if (retry)
		loop_timer_arm(s->retry, RETRY_MS, 0);
}

static void server_resume(struct ctl_server *s)
{
	if (s->nclients < CTL_CLIENTS_MAX &&
	    !loop_mod_fd(s->loop, s->fd, EPOLLIN))
		s->paused = false;
}

static void on_retry(struct loop *l, struct loop_timer *t, void *arg)
{
	(void)l, (void)t;
	server_resume(arg);
}

static void on_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ctl_server *s = arg;
	int cfd, i;

	(void)l, (void)events;
	for (i = 0; i < ACCEPT_BURST && s->nclients < CTL_CLIENTS_MAX; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			client_new(s, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			server_pause(s, true); /* EMFILE...: not a busy loop */
		return;
	}
	if (s->nclients >= CTL_CLIENTS_MAX)
		server_pause(s, false); /* until a client is done */
}

/* No file, or a socket nobody accepts on (removed): 0. */
static int clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, r;

	if (lstat(sun->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) ? -errno
								    : 0;
	close(fd);
	if (r == 0 || r == -EAGAIN)
		return -EADDRINUSE;
	if (r != -ECONNREFUSED)
		return r;
	return unlink(sun->sun_path) && errno != ENOENT ? -errno : 0;
}

static int server_bind(struct ctl_server *s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int r;

	if (strlen(s->path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, s->path);
	r = clear_stale(&sun);
	if (r)
		return r;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	old = umask(0177);
	r = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) ? -errno : 0;
	umask(old);
	if (r)
		return r;
	s->bound = true;
	if (chmod(s->path, 0600) || lstat(s->path, &st) ||
	    listen(s->fd, CTL_CLIENTS_MAX))
		return -errno;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

struct ctl_server *ctl_server_new(struct loop *l, const char *path,
				  ctl_handler cb, void *arg)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	if (!s)
		return NULL;
	s->loop = l;
	s->fd = -1;
	s->cb = cb;
	s->arg = arg;
	s->euid = geteuid();
	s->read_ms = CTL_READ_MS;
	s->write_ms = CTL_WRITE_MS;
	s->later_ms = CTL_LATER_MS;
	s->path = strdup(path);
	s->retry = loop_timer_new(l, on_retry, s);
	if (s->path && s->retry)
		r = server_bind(s);
	if (!r)
		r = loop_add_fd(l, s->fd, EPOLLIN, on_accept, s);
	if (!r)
		return s;
	ctl_server_free(s);
	errno = -r;
	return NULL;
}

void ctl_server_set_timeouts(struct ctl_server *s, uint64_t read_ms,
			     uint64_t write_ms)
{
	if (read_ms)
		s->read_ms = read_ms;
	if (write_ms)
		s->write_ms = write_ms;
}

void ctl_server_set_later_timeout(struct ctl_server *s, uint64_t ms)
{
	if (ms)
		s->later_ms = ms < CTL_LATER_MAX_MS ? ms : CTL_LATER_MAX_MS;
}

int ctl_reply_later(struct ctl_reply *r, struct ctl_later **slot,
		    void (*gone)(void *arg), void *arg)
{
	struct client *c = serving;

	if (!c || !r || r != &c->reply || !slot || c->later.taken)
		return -EINVAL;
	c->later = (struct ctl_later){
		.slot = slot, .gone = gone, .arg = arg, .taken = true
	};
	*slot = &c->later;
	return 0;
}

static struct client *later_client(struct ctl_later *l)
{
	return (struct client *)((char *)l - offsetof(struct client, later));
}

struct ctl_reply *ctl_later_reply(struct ctl_later *l)
{
	return l ? &later_client(l)->reply : NULL;
}

void ctl_later_finish(struct ctl_later **slot, int code)
{
	struct ctl_later *l = slot ? *slot : NULL;
	struct client *c;

	if (!l)
		return;
	c = later_client(l);
	*slot = NULL;
	*l->slot = NULL;
	l->slot = NULL;
	if (c->state == C_SERVING) { /* the handler sends it on return */
		l->finished = true;
		l->code = code;
		return;
	}
	client_reply(c, code);
}

void ctl_server_free(struct ctl_server *s)
{
	struct client *c;
	struct stat st;

	if (!s)
		return;
	s->closing = true;
	while ((c = s->clients)) /* gone may finish, and free, others */
		client_free(c);
	if (s->fd >= 0) {
		loop_del_fd(s->loop, s->fd);
		close(s->fd);
	}
	/* Only our own socket: an operator may have put another there. */
	if (s->bound && s->path && !lstat(s->path, &st) &&
	    st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	loop_timer_free(s->retry);
	free(s->path);
	free(s);
}
