// SPDX-License-Identifier: MIT
/* Unit tests: the event loop (fds, deletion while dispatching, timers, signals). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/loop.h"

struct ctx {
	int reads, fires, sig;
	int pair[2]; /* the first callback to run deletes both */
};

static void on_read(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ctx *c = arg;
	char buf[16];

	assert_true(events & EPOLLIN);
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	c->reads++;
	/* The other one, ready in this same round, then itself. */
	assert_int_equal(
		loop_del_fd(l, fd == c->pair[0] ? c->pair[1] : c->pair[0]), 0);
	assert_int_equal(loop_del_fd(l, fd), 0);
}

static void test_fd_and_deletion_in_callbacks(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };
	int a[2], b[2];

	(void)state;
	assert_non_null(l);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(loop_add_fd(l, a[0], EPOLLIN, on_read, &c), 0);
	assert_int_equal(loop_add_fd(l, a[0], EPOLLIN, on_read, &c), -EEXIST);
	assert_int_equal(loop_add_fd(l, b[0], EPOLLIN, on_read, &c), 0);
	/* Both ready in one round: whichever runs first deletes the other. */
	c.pair[0] = a[0];
	c.pair[1] = b[0];
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "y", 1), 1);
	assert_int_equal(loop_run_once(l, 1000), 2);
	assert_int_equal(c.reads, 1);
	assert_int_equal(loop_del_fd(l, a[0]), -ENOENT);
	assert_int_equal(loop_del_fd(l, b[0]), -ENOENT);
	assert_int_equal(loop_run_once(l, 10), 0); /* nothing left */
	loop_free(l);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

static void on_timer(struct loop *l, struct loop_timer *t, void *arg)
{
	struct ctx *c = arg;

	(void)t;
	if (++c->fires == 3)
		loop_stop(l);
}

static void test_timers(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };
	struct loop_timer *once = loop_timer_new(l, on_timer, &c);
	struct loop_timer *every = loop_timer_new(l, on_timer, &c);

	(void)state;
	assert_non_null(once);
	assert_int_equal(loop_timer_arm(once, 5, 0), 0);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(c.fires, 1);
	assert_int_equal(loop_run_once(l, 30), 0); /* a one-shot stays quiet */
	assert_int_equal(loop_timer_arm(every, 2, 2), 0);
	assert_int_equal(loop_run(l), 0); /* until the third firing */
	assert_int_equal(c.fires, 3);
	assert_int_equal(loop_timer_arm(every, 0, 0), 0); /* disarmed */
	assert_int_equal(loop_run_once(l, 20), 0);
	loop_timer_free(once);
	loop_free(l);
}

static void on_signal(struct loop *l, int sig, void *arg)
{
	struct ctx *c = arg;

	c->sig = sig;
	loop_stop(l);
}

static void test_signals(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };
	const int sigs[] = { SIGUSR1 };

	(void)state;
	assert_int_equal(loop_signals(l, sigs, 1, on_signal, &c), 0);
	assert_int_equal(raise(SIGUSR1), 0); /* blocked: queued for the fd */
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.sig, SIGUSR1);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_and_deletion_in_callbacks),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_signals),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
