// SPDX-License-Identifier: MIT
/* What systemd and a scraper see of a daemon: notify datagrams on a socket of our own, raw HTTP requests on loopback. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/wire/probe.h"
#include "tests/wire/proc_util.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int probe_notify_bind(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

bool probe_notify_wait(int fd, const char *needle, int secs, char *log,
		       size_t len)
{
	long long end = now_ms() + secs * 1000LL;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[1024];
	ssize_t n;

	while (now_ms() < end) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		snprintf(log + strlen(log), len - strlen(log), "%s|", buf);
		if (strstr(buf, needle))
			return true;
	}
	print_message("no notify message held \"%s\"; got: %s\n", needle, log);
	return false;
}

bool probe_metrics_addr(const char *log, char *out, size_t len, int secs)
{
	char text[65536];
	const char *p;
	FILE *f;
	size_t n;

	if (!wait_file(log, "metrics on http://", secs))
		return false;
	f = fopen(log, "re");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strstr(text, "metrics on http://") + strlen("metrics on http://");
	snprintf(out, len, "%.*s", (int)strcspn(p, "/"), p);
	return true;
}

int probe_dial(const char *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *colon = strrchr(addr, ':');
	char host[32];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_non_null(colon);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	assert_int_equal(inet_pton(AF_INET, host, &sin.sin_addr), 1);
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

long probe_http(const char *addr, const char *req, size_t len, char *out,
		size_t out_len, int secs)
{
	long long end = now_ms() + secs * 1000LL;
	int fd = probe_dial(addr);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n = -1;

	if (len)
		assert_int_equal(send(fd, req, len, MSG_NOSIGNAL),
				 (ssize_t)len);
	while (now_ms() < end && got < out_len - 1) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, out + got, out_len - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	close(fd);
	return n == 0 || (n < 0 && got) ? (long)got : -1;
}
