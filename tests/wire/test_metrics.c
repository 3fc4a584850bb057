// SPDX-License-Identifier: MIT
/* vxsec-keymgr's GET /metrics over HTTP (metrics_listen) as a scraper and a hostile client see it, and its systemd notify messages, on 127.0.0.1. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/wire/leader_fixture.h"
#include "tests/wire/probe.h"

#define METRICS "--metrics-listen 127.0.0.1:0"
#define GET "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"

static char at[64]; /* where the leader serves /metrics */

static void start(void)
{
	assert_int_equal(start_leader(METRICS, 10), 0);
	assert_true(probe_metrics_addr(path("leader.log"), at, sizeof(at), 5));
}

/* The "# TYPE" lines of text, in order, into out. */
static void types(const char *text, char *out, size_t len)
{
	const char *p = text;

	out[0] = '\0';
	while ((p = strstr(p, "# TYPE "))) {
		size_t n = strcspn(p, "\n");

		snprintf(out + strlen(out), len - strlen(out), "%.*s;", (int)n,
			 p);
		p += n;
	}
}

/* curl sees what the metrics command prints, as Prometheus 0.0.4. */
static void test_metrics_over_http(void **state)
{
	char out[16384], ctl[16384], want[4096], got[4096];

	(void)state;
	start();
	assert_true(wait_ctl("status", "rotation:    idle", 10));
	assert_int_equal(run_cmd(ctl, sizeof(ctl), KM " -s %s metrics", sock),
			 0);
	assert_int_equal(run_cmd(out, sizeof(out),
				 "curl -sS -i --max-time 5 http://%s/metrics",
				 at),
			 0);
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(
		strstr(out, "Content-Type: text/plain; version=0.0.4\r\n"));
	assert_non_null(strstr(out, "Connection: close\r\n"));
	types(ctl, want, sizeof(want));
	types(out, got, sizeof(got));
	assert_true(strlen(want) > 100);
	assert_string_equal(got, want);
	assert_non_null(strstr(out, "\nvxsec_keymgr_members 0\n"));
	assert_non_null(strstr(out, "\nvxsec_keymgr_leader 1\n"));
	/* HTTP/1.0, and what is not GET /metrics. */
	assert_int_equal(run_cmd(out, sizeof(out),
				 "curl -sS -0 -o /dev/null -w '%%{http_code} "
				 "%%{http_version}' http://%s/metrics",
				 at),
			 0);
	assert_non_null(strstr(out, "200 1.1"));
	run_cmd(out, sizeof(out),
		"curl -sS -o /dev/null -w '%%{http_code}' http://%s/", at);
	assert_non_null(strstr(out, "404"));
	run_cmd(out, sizeof(out),
		"curl -sS -X POST -o /dev/null -w '%%{http_code}' "
		"http://%s/metrics",
		at);
	assert_non_null(strstr(out, "405"));
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A head over 8 KiB: 431 and closed, the page never made. */
static void test_oversized_request(void **state)
{
	char req[9000], out[4096];

	(void)state;
	start();
	memcpy(req, "GET /metrics HTTP/1.1\r\nX: ", 26);
	memset(req + 26, 'a', sizeof(req) - 26);
	assert_true(probe_http(at, req, sizeof(req), out, sizeof(out), 5) > 0);
	assert_non_null(strstr(out, "HTTP/1.1 431 "));
	assert_null(strstr(out, "vxsec_keymgr"));
	assert_true(probe_http(at, GET, strlen(GET), out, sizeof(out), 5) > 0);
	assert_non_null(strstr(out, " 200 OK"));
}

/*
 * A client that stops halfway is answered 408 and closed at its 5 s
 * deadline; meanwhile the leader answers everyone else.
 */
static void test_slow_client_deadline(void **state)
{
	const char *half = "GET /metrics HTTP/1.1\r\nHost:";
	char out[4096];
	long long t0;
	long n;

	(void)state;
	start();
	t0 = mono_ms();
	n = probe_http(at, half, strlen(half), out, sizeof(out), 10);
	print_message("a stalled request was closed after %lld ms\n",
		      mono_ms() - t0);
	assert_true(n > 0);
	assert_non_null(strstr(out, "HTTP/1.1 408 "));
	assert_true(mono_ms() - t0 >= 4500);
}

/*
 * 16 connections that send nothing fill the server: the 17th is told
 * 503 at once, the control socket still answers, and once they hang up
 * a scrape is served again.
 */
static void test_too_many_connections(void **state)
{
	char out[4096];
	int fds[16];
	bool ok = false;

	(void)state;
	start();
	for (int i = 0; i < 16; i++)
		fds[i] = probe_dial(at);
	usleep(200000);
	assert_true(probe_http(at, GET, strlen(GET), out, sizeof(out), 5) > 0);
	assert_non_null(strstr(out, "HTTP/1.1 503 "));
	assert_true(wait_ctl("status", "members:", 5));
	for (int i = 0; i < 16; i++)
		close(fds[i]);
	for (int i = 0; i < 20 && !ok; i++) {
		usleep(100000);
		ok = probe_http(at, GET, strlen(GET), out, sizeof(out), 5) >
			     0 &&
		     strstr(out, " 200 OK");
	}
	assert_true(ok);
}

/* Under systemd: READY=1 with a STATUS= line, WATCHDOG=1, STOPPING=1. */
static void test_notify(void **state)
{
	char log[4096] = "";
	int fd = probe_notify_bind(path("notify"));

	(void)state;
	setenv("NOTIFY_SOCKET", path("notify"), 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	assert_int_equal(start_leader("", 10), 0);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	assert_true(probe_notify_wait(fd, "READY=1\nSTATUS=leader: 0 members",
				      5, log, sizeof(log)));
	assert_true(probe_notify_wait(fd, "WATCHDOG=1", 3, log, sizeof(log)));
	assert_true(probe_notify_wait(fd,
				      "STATUS=leader: 0 members, 0 "
				      "connected, revision 2, generation 1",
				      5, log, sizeof(log)));
	stop(&leader, SIGTERM);
	assert_true(probe_notify_wait(fd, "STOPPING=1", 3, log, sizeof(log)));
	assert_int_equal(count(log, "READY=1"), 1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, leader_setup, leader_teardown)
		T(test_metrics_over_http),
		T(test_oversized_request),
		T(test_slow_client_deadline),
		T(test_too_many_connections),
		T(test_notify),
#undef T
	};

	if (leader_fixture_init("metrics", ""))
		return 1;
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
