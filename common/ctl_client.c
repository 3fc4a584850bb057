// SPDX-License-Identifier: MIT
/* The control socket client: one blocking request, the whole reply, then out. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "why.h"

#define HEAD_MAX 8 /* longest first line taken: "<code>" is 1-3 digits */

static bool plain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("._-/:=,@+~", c));
}

/* The escaped request line with its '\n'; -E2BIG if it does not fit. */
static int request_build(int argc, char **argv, char *buf, size_t *len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	const unsigned char *p;
	int i;

	for (i = 0; i < argc; i++) {
		if (n + 3 > CTL_REQUEST_MAX)
			return -E2BIG;
		if (i)
			buf[n++] = ' ';
		if (!argv[i][0]) {
			buf[n++] = '"';
			buf[n++] = '"';
		}
		for (p = (const unsigned char *)argv[i]; *p; p++) {
			if (n + 3 > CTL_REQUEST_MAX)
				return -E2BIG;
			if (plain_byte(*p)) {
				buf[n++] = (char)*p;
				continue;
			}
			buf[n++] = '%';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 15];
		}
	}
	if (n + 1 > CTL_REQUEST_MAX)
		return -E2BIG;
	buf[n++] = '\n';
	*len = n;
	return 0;
}

/* "vxsec-keymgr" for "/run/vxsec-keymgr.sock". */
static void daemon_name(const char *path, char *name, size_t len)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".sock") == 0)
		n -= 5;
	if (!n)
		snprintf(name, len, "the daemon");
	else
		snprintf(name, len, "%.*s", (int)n, base);
}

static int client_connect(const char *path, const char *name, struct why *why)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CTL_WRITE_MS / 1000 };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		why_set(why, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		why_set(why, "socket: %s", strerror(-err));
		return err;
	}
	if (!setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) &&
	    !setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) &&
	    !connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		return fd;
	err = -errno;
	close(fd);
	if (err == -ENOENT || err == -ECONNREFUSED)
		why_set(why, "cannot connect to %s: %s — is %s running?", path,
			strerror(-err), name);
	else if (err == -EACCES || err == -EPERM)
		why_set(why, "cannot connect to %s: %s — run as root", path,
			strerror(-err));
	else
		why_set(why, "cannot connect to %s: %s", path, strerror(-err));
	return err;
}

static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* "<code>" of the first line: 1-3 digits, at most 255; else -1. */
static int parse_code(const char *head, size_t len)
{
	int code = 0;
	size_t i;

	if (len < 1 || len > 3)
		return -1;
	for (i = 0; i < len; i++) {
		if (head[i] < '0' || head[i] > '9')
			return -1;
		code = code * 10 + (head[i] - '0');
	}
	return code <= 255 ? code : -1;
}

/* Eats the first line from *p; -1 until it is complete, -2 if malformed. */
static int take_head(char *head, size_t *hlen, const char **p, size_t *left)
{
	char ch;
	int code;

	while (*left) {
		ch = *(*p)++;
		(*left)--;
		if (ch == '\n') {
			code = parse_code(head, *hlen);
			return code < 0 ? -2 : code;
		}
		if (*hlen == HEAD_MAX)
			return -2;
		head[(*hlen)++] = ch;
	}
	return -1;
}

/* Why recv() failed, as -errno: a timeout is the daemon not answering. */
static int recv_failed(const char *name, struct why *why)
{
	int err = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;

	if (err == -ETIMEDOUT)
		why_set(why, "no reply from %s within %d s", name,
			CTL_WRITE_MS / 1000);
	else
		why_set(why, "reading the reply of %s: %s", name,
			strerror(-err));
	return err;
}

/*
 * The code and the whole body, read at once: a slow consumer of out (a
 * pager) must not hold the daemon's socket until its deadline cuts it.
 * The body may be a secret: buf is wiped on the way out.
 */
static int reply_recv(int fd, struct ctl_reply *body, const char *name,
		      struct why *why)
{
	char buf[16384], head[HEAD_MAX];
	size_t hlen = 0, left;
	const char *p;
	int code = -1;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			code = recv_failed(name, why);
			goto out;
		}
		p = buf;
		left = (size_t)n;
		if (code < 0)
			code = take_head(head, &hlen, &p, &left);
		if (code == -2) {
			why_set(why, "malformed reply from %s", name);
			code = -EPROTO;
			goto out;
		}
		if (ctl_reply_append(body, p, left)) {
			why_set(why, "reply from %s: %s", name,
				strerror(-body->err));
			code = body->err;
			goto out;
		}
	}
	if (code < 0) {
		why_set(why, "%s closed the connection without a reply", name);
		code = -EPROTO;
	}
out:
	explicit_bzero(buf, sizeof(buf));
	return code;
}

static int reply_write(const struct ctl_reply *body, FILE *out, struct why *why)
{
	if ((body->len && fwrite(body->buf, 1, body->len, out) != body->len) ||
	    fflush(out)) {
		why_set(why, "cannot write the reply: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

int ctl_call(const char *path, int argc, char **argv, FILE *out,
	     struct why *why)
{
	char req[CTL_REQUEST_MAX], name[64];
	struct ctl_reply body;
	size_t len = 0;
	int fd, r, sent;

	if (argc < 1) {
		why_set(why, "no command");
		return -EINVAL;
	}
	if (argc > CTL_ARGS_MAX || request_build(argc, argv, req, &len)) {
		why_set(why, "request too long: at most %d words and %d bytes",
			CTL_ARGS_MAX, CTL_REQUEST_MAX);
		return -E2BIG;
	}
	daemon_name(path, name, sizeof(name));
	fd = client_connect(path, name, why);
	if (fd < 0)
		return fd;
	/* A refusing server may close before reading: its reply still counts. */
	sent = send_all(fd, req, len);
	ctl_reply_init(&body);
	r = reply_recv(fd, &body, name, why);
	close(fd);
	if (r < 0 && sent < 0) {
		why_set(why, "sending to %s: %s", name, strerror(-sent));
		r = sent;
	}
	if (r >= 0 && reply_write(&body, out, why))
		r = -EIO;
	ctl_reply_cleanup(&body); /* wipes what the daemon sent */
	return r;
}

int ctl_remote(const char *prog, const char *path, int argc, char **argv)
{
	struct why why = { "" };
	int code = ctl_call(path, argc, argv, stdout, &why);

	if (code >= 0)
		return code;
	fprintf(stderr, "%s: %s\n", prog, why.msg);
	if (code == -EACCES || code == -EPERM)
		return CTL_NOPERM;
	if (code == -ENOENT || code == -ECONNREFUSED)
		return CTL_NOT_RUNNING;
	return CTL_FAIL;
}
