// SPDX-License-Identifier: MIT
/* Unit tests: common/httpd.c — which requests get which status, and the server on the loop under small limits (deadline, head size, connection cap) on 127.0.0.1. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/httpd.h"
#include "common/loop.h"

#define ST(s) httpd_request_status((s), strlen(s), "/metrics")

static void test_request_status(void **state)
{
	(void)state;
	assert_int_equal(ST("GET /metrics HTTP/1.1\r\nHost: x"), 200);
	assert_int_equal(ST("GET /metrics HTTP/1.0"), 200);
	assert_int_equal(ST("GET /metrics?x=1 HTTP/1.1"), 200);
	assert_int_equal(ST("GET /metricsx HTTP/1.1"), 404);
	assert_int_equal(ST("GET / HTTP/1.1"), 404);
	assert_int_equal(ST("GET /metric HTTP/1.1"), 404);
	assert_int_equal(ST("POST /metrics HTTP/1.1"), 405);
	assert_int_equal(ST("HEAD /metrics HTTP/1.1"), 405);
	assert_int_equal(ST("GET /metrics HTTP/2.0"), 505);
	assert_int_equal(ST("GET /metrics HTTP/1.2"), 505);
	assert_int_equal(ST("GET /metrics HTTP/1"), 400);
	assert_int_equal(ST("GET /metrics"), 400);
	assert_int_equal(ST("GET  /metrics HTTP/1.1"), 400);
	assert_int_equal(ST("GET /metrics HTTP/1.1 x"), 400);
	assert_int_equal(ST("G(T /metrics HTTP/1.1"), 400);
	assert_int_equal(ST(" /metrics HTTP/1.1"), 400);
	assert_int_equal(ST(""), 400);
	assert_int_equal(ST("GET /metrics HTTP/1.1\r\nX: \x01"), 400);
	assert_int_equal(
		httpd_request_status("GET /metrics\0 HTTP/1.1", 23, "/metrics"),
		400);
}

static void test_addr_parse(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len = 1;
	struct why why = { "" };

	(void)state;
	assert_int_equal(httpd_addr_parse("k", "off", &ss, &len, &why), 0);
	assert_int_equal(len, 0);
	assert_int_equal(httpd_addr_parse("k", "", &ss, &len, &why), 0);
	assert_int_equal(len, 0);
	assert_int_equal(
		httpd_addr_parse("k", "127.0.0.1:7121", &ss, &len, &why), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(httpd_addr_parse("k", "[::1]:7121", &ss, &len, &why),
			 0);
	assert_int_equal(httpd_addr_parse("metrics_listen", "localhost:1", &ss,
					  &len, &why),
			 -EINVAL);
	assert_non_null(strstr(why.msg, "metrics_listen"));
}

/* ---- the server ---- */

struct ctx {
	struct loop *l;
	struct httpd *h;
	struct sockaddr_in sin;
	int calls, code;
};

static int page_cb(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct ctx *c = arg;

	assert_int_equal(argc, 1);
	assert_string_equal(argv[0], "metrics");
	c->calls++;
	ctl_reply_printf(r, "# TYPE x gauge\nx %d\n", c->calls);
	return c->code;
}

static int setup(void **state)
{
	static const struct httpd_limits lim = { 64, 300, 2 };
	struct ctx *c = calloc(1, sizeof(*c));
	struct sockaddr_storage ss;
	socklen_t len;

	c->l = loop_new();
	if (!c->l || config_addr_port("127.0.0.1:0", &ss, &len))
		return -1;
	c->h = httpd_new(c->l, &ss, len, "/metrics", "metrics", page_cb, c,
			 &lim, NULL);
	if (!c->h)
		return -1;
	c->sin.sin_family = AF_INET;
	c->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->sin.sin_port =
		htons((uint16_t)atoi(strrchr(httpd_address(c->h), ':') + 1));
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	httpd_free(c->h);
	loop_free(c->l);
	free(c);
	return 0;
}

static int dial(struct ctx *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(
		connect(fd, (struct sockaddr *)&c->sin, sizeof(c->sin)), 0);
	return fd;
}

static void pump(struct ctx *c, int ms)
{
	uint64_t t0 = loop_mono_ms();

	while (loop_mono_ms() - t0 < (uint64_t)ms)
		loop_run_once(c->l, 10);
}

/* What the server sent until it closed (runs the loop meanwhile). */
static const char *reply(struct ctx *c, int fd, int ms)
{
	static char buf[4096];
	size_t len = 0;
	ssize_t n = -1;
	uint64_t t0 = loop_mono_ms();

	while (loop_mono_ms() - t0 < (uint64_t)ms && len < sizeof(buf) - 1) {
		loop_run_once(c->l, 10);
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return n == 0 ? buf : "(not closed)";
}

static const char *get(struct ctx *c, const char *req)
{
	int fd = dial(c);

	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	return reply(c, fd, 1000);
}

static void test_serves_the_command(void **state)
{
	struct ctx *c = *state;
	const char *r = get(c, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");

	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(
		strstr(r, "Content-Type: text/plain; version=0.0.4\r\n"));
	assert_non_null(strstr(r, "Content-Length: 19\r\n"));
	assert_non_null(
		strstr(r, "Connection: close\r\n\r\n# TYPE x gauge\nx 1\n"));
	/* HTTP/1.0 is served the same. */
	r = get(c, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, "200 OK"));
	assert_int_equal(c->calls, 2);
	c->code = 1; /* the command fails */
	r = get(c, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 500 Internal Server Error\r\n"));
	assert_null(strstr(r, "x 3"));
}

static void test_errors(void **state)
{
	struct ctx *c = *state;

	assert_non_null(strstr(get(c, "GET / HTTP/1.1\r\n\r\n"), " 404 "));
	assert_non_null(
		strstr(get(c, "PUT /metrics HTTP/1.1\r\n\r\n"), "Allow: GET"));
	assert_non_null(strstr(get(c, "hello\r\n\r\n"), " 400 "));
	/* 64 bytes and no blank line: 431, and the page never made. */
	assert_non_null(strstr(get(c, "GET /metrics HTTP/1.1\r\nX-Long: "
				      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				      "aaaaaaaa"),
			       "HTTP/1.1 431 "));
	assert_int_equal(c->calls, 0);
}

/* A client that stalls gets a 408 at the deadline and is closed. */
static void test_deadline(void **state)
{
	struct ctx *c = *state;
	int fd = dial(c);
	uint64_t t0 = loop_mono_ms();
	const char *r;

	assert_int_equal(send(fd, "GET /met", 8, 0), 8);
	r = reply(c, fd, 2000);
	assert_non_null(strstr(r, "HTTP/1.1 408 "));
	assert_true(loop_mono_ms() - t0 >= 250);
	/* Silent from the start: the same. */
	fd = dial(c);
	assert_non_null(strstr(reply(c, fd, 2000), " 408 "));
}

/* Two at once at most: the third is told 503; a freed slot serves again. */
static void test_connection_cap(void **state)
{
	struct ctx *c = *state;
	int a = dial(c), b = dial(c), fd;

	pump(c, 50);
	fd = dial(c);
	assert_non_null(strstr(reply(c, fd, 1000), "HTTP/1.1 503 "));
	close(a);
	pump(c, 50);
	assert_non_null(strstr(get(c, "GET /metrics HTTP/1.1\r\n\r\n"), "200"));
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_status),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test_setup_teardown(test_serves_the_command, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_cap, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
