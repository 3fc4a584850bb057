// SPDX-License-Identifier: MIT
/* Unit tests: common/sdnotify.c against a socket of our own (a path in a temp dir, and an abstract name): READY=1, STATUS=, WATCHDOG=1, STOPPING=1. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/loop.h"
#include "common/sdnotify.h"

struct ctx {
	char dir[48], path[96];
	int fd; /* what systemd would hold: a bound datagram socket */
	struct loop *l;
	char line[SDNOTIFY_STATUS_MAX];
	int polls, ready_at; /* the status callback readies at that poll */
	struct sdnotify *n;
};

/* Our "manager": a datagram socket bound at a path in a fresh dir. */
static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(c->dir, sizeof(c->dir), "/tmp/vxsec-sdnotify-XXXXXX");
	if (!mkdtemp(c->dir))
		return -1;
	snprintf(c->path, sizeof(c->path), "%s/notify", c->dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", c->path);
	c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sun, sizeof(sun)))
		return -1;
	c->l = loop_new();
	setenv("NOTIFY_SOCKET", c->path, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	*state = c;
	return c->l ? 0 : -1;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	close(c->fd);
	unlink(c->path);
	rmdir(c->dir);
	loop_free(c->l);
	free(c);
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

/* The next datagram within ms, or "" if none came. */
static const char *next_msg(int fd, int ms)
{
	static char buf[1024];
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void status_cb(void *arg, char *line, size_t len)
{
	struct ctx *c = arg;

	c->polls++;
	snprintf(line, len, "%s", c->line);
	if (c->ready_at && c->polls == c->ready_at)
		sdnotify_ready(c->n);
}

static void test_addr(void **state)
{
	struct sockaddr_un sun;
	socklen_t len;
	char longp[200];

	(void)state;
	assert_int_equal(sdnotify_addr("/run/systemd/notify", &sun, &len, NULL),
			 0);
	assert_string_equal(sun.sun_path, "/run/systemd/notify");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 20);
	/* Abstract: a leading NUL, the length without a trailing one. */
	assert_int_equal(sdnotify_addr("@sd/x", &sun, &len, NULL), 0);
	assert_int_equal(sun.sun_path[0], '\0');
	assert_memory_equal(sun.sun_path + 1, "sd/x", 4);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 5);
	assert_int_equal(sdnotify_addr("relative", &sun, &len, NULL), -EINVAL);
	assert_int_equal(sdnotify_addr("@", &sun, &len, NULL), -EINVAL);
	assert_int_equal(sdnotify_addr("", &sun, &len, NULL), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(sdnotify_addr(longp, &sun, &len, NULL), -ENAMETOOLONG);
}

static void test_watchdog_env(void **state)
{
	uint64_t ms = 1;

	(void)state;
	assert_int_equal(sdnotify_watchdog_ms(NULL, NULL, 42, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(sdnotify_watchdog_ms("30000000", NULL, 42, &ms), 0);
	assert_int_equal(ms, 15000); /* half of 30 s */
	assert_int_equal(sdnotify_watchdog_ms("30000000", "42", 42, &ms), 0);
	assert_int_equal(ms, 15000);
	/* Meant for another process (a child of ours, say): none here. */
	assert_int_equal(sdnotify_watchdog_ms("30000000", "43", 42, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(sdnotify_watchdog_ms("1", NULL, 42, &ms), 0);
	assert_int_equal(ms, SDNOTIFY_WATCHDOG_MIN_MS);
	assert_int_equal(sdnotify_watchdog_ms("-5", NULL, 42, &ms), -EINVAL);
	assert_int_equal(sdnotify_watchdog_ms("5s", NULL, 42, &ms), -EINVAL);
	assert_int_equal(sdnotify_watchdog_ms("5", "x", 42, &ms), -EINVAL);
}

/* Without NOTIFY_SOCKET nothing is opened, armed or sent. */
static void test_unset_does_nothing(void **state)
{
	struct ctx *c = *state;
	struct sdnotify n;

	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "10000", 1);
	assert_int_equal(sdnotify_init(&n, c->l, status_cb, c, NULL), 0);
	assert_false(n.on);
	assert_null(n.watchdog);
	assert_null(n.tick);
	assert_int_equal(sdnotify_ready(&n), 0);
	assert_int_equal(sdnotify_stopping(&n), 0);
	assert_int_equal(loop_run_once(c->l, 50), 0);
	assert_string_equal(next_msg(c->fd, 50), "");
	assert_int_equal(n.sent, 0);
	assert_int_equal(c->polls, 0);
	sdnotify_cleanup(&n);
}

static void test_bad_env_refused(void **state)
{
	struct ctx *c = *state;
	struct sdnotify n;
	struct why why = { "" };

	setenv("NOTIFY_SOCKET", "notify", 1);
	assert_int_equal(sdnotify_init(&n, c->l, NULL, NULL, &why), -EINVAL);
	assert_non_null(strstr(why.msg, "absolute"));
	sdnotify_cleanup(&n);
	setenv("NOTIFY_SOCKET", c->path, 1);
	setenv("WATCHDOG_USEC", "lots", 1);
	assert_int_equal(sdnotify_init(&n, c->l, NULL, NULL, &why), -EINVAL);
	sdnotify_cleanup(&n);
}

/* READY=1 carries the status; the status goes again only on a change. */
static void test_ready_status_stopping(void **state)
{
	struct ctx *c = *state;
	struct sdnotify n;

	c->n = &n;
	snprintf(c->line, sizeof(c->line), "leader: 3 members");
	assert_int_equal(sdnotify_init(&n, c->l, status_cb, c, NULL), 0);
	sdnotify_status_update(&n); /* not ready yet: nothing */
	assert_string_equal(next_msg(c->fd, 50), "");
	assert_int_equal(sdnotify_ready(&n), 0);
	assert_string_equal(next_msg(c->fd, 1000),
			    "READY=1\nSTATUS=leader: 3 members");
	assert_int_equal(sdnotify_ready(&n), 0); /* once */
	sdnotify_status_update(&n);		 /* unchanged */
	assert_string_equal(next_msg(c->fd, 50), "");
	snprintf(c->line, sizeof(c->line), "leader: 4 members\nsecond line");
	sdnotify_status_update(&n);
	assert_string_equal(next_msg(c->fd, 1000), "STATUS=leader: 4 members");
	assert_int_equal(sdnotify_stopping(&n), 0);
	assert_string_equal(next_msg(c->fd, 1000),
			    "STOPPING=1\nSTATUS=stopping (was: leader: 4 "
			    "members)");
	assert_int_equal(n.sent, 3);
	sdnotify_cleanup(&n);
}

/* The timer rebuilds the status once a second: changes in between are
 * folded into one STATUS=; a polled readiness comes from the callback. */
static void test_status_rate_limited(void **state)
{
	struct ctx *c = *state;
	struct sdnotify n;
	uint64_t t0;
	int msgs = 0;

	c->n = &n;
	c->ready_at = 1;
	snprintf(c->line, sizeof(c->line), "agent: connecting");
	assert_int_equal(sdnotify_init(&n, c->l, status_cb, c, NULL), 0);
	t0 = loop_mono_ms();
	while (!n.ready && loop_mono_ms() - t0 < 3000)
		loop_run_once(c->l, 100);
	assert_true(loop_mono_ms() - t0 >= SDNOTIFY_STATUS_MS - 50);
	assert_string_equal(next_msg(c->fd, 1000),
			    "READY=1\nSTATUS=agent: connecting");
	for (int i = 0; i < 50; i++) { /* 50 changes within 0.5 s */
		snprintf(c->line, sizeof(c->line), "agent: change %d", i);
		loop_run_once(c->l, 10);
	}
	t0 = loop_mono_ms();
	while (loop_mono_ms() - t0 < 1200)
		loop_run_once(c->l, 100);
	while (next_msg(c->fd, 10)[0])
		msgs++;
	assert_in_range(msgs, 1, 2);
	assert_string_equal(n.last, "agent: change 49");
	sdnotify_cleanup(&n);
}

/* WATCHDOG_USEC=200000: a WATCHDOG=1 every 100 ms from the loop. */
static void test_watchdog_pings(void **state)
{
	struct ctx *c = *state;
	struct sdnotify n;
	char pid[16];
	uint64_t t0;
	int pings = 0;

	setenv("WATCHDOG_USEC", "200000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_init(&n, c->l, NULL, NULL, NULL), 0);
	assert_int_equal(n.watchdog_ms, 100);
	t0 = loop_mono_ms();
	while (loop_mono_ms() - t0 < 450)
		loop_run_once(c->l, 50);
	while (strcmp(next_msg(c->fd, 10), "WATCHDOG=1") == 0)
		pings++;
	assert_in_range(pings, 2, 5); /* 4 due; a starved host coalesces */
	sdnotify_cleanup(&n);
	/* Another process's watchdog: no pings from us. */
	setenv("WATCHDOG_PID", "1", 1);
	assert_int_equal(sdnotify_init(&n, c->l, NULL, NULL, NULL), 0);
	assert_null(n.watchdog);
	sdnotify_cleanup(&n);
}

/* "@name": the abstract namespace, as systemd --user may hand out. */
static void test_abstract_socket(void **state)
{
	struct ctx *c = *state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char name[64];
	struct sdnotify n;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len;

	snprintf(name, sizeof(name), "@vxsec-test-%d", (int)getpid());
	assert_int_equal(sdnotify_addr(name, &sun, &len, NULL), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sdnotify_init(&n, c->l, NULL, NULL, NULL), 0);
	assert_int_equal(sdnotify_ready(&n), 0);
	assert_string_equal(next_msg(fd, 1000), "READY=1");
	/* Nobody listens any more: an error, and the daemon goes on. */
	close(fd);
	assert_int_equal(sdnotify_send(&n, "STATUS=x"), -ECONNREFUSED);
	sdnotify_cleanup(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_watchdog_env),
		cmocka_unit_test_setup_teardown(test_unset_does_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_env_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ready_status_stopping,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_rate_limited, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_pings, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_abstract_socket, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
