// SPDX-License-Identifier: MIT
/* Unit tests: the event loop (fds, deletion while dispatching, timers, signals). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/array.h"
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

/* A timer the loop could not serve on time says how late it was. */
static void test_late_timer(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };
	struct loop_timer *t = loop_timer_new(l, on_timer, &c);
	struct timespec ts = { 1, 200000000 };

	(void)state;
	assert_non_null(t);
	assert_int_equal(loop_late_max_ms(l), 0);
	assert_int_equal(loop_timer_arm(t, 10, 0), 0);
	nanosleep(&ts, NULL); /* the loop is busy elsewhere */
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(c.fires, 1);
	assert_true(loop_late_max_ms(l) >= 1150);
	loop_timer_free(t);
	loop_free(l);
	/* an interval timer's lateness counts from its last due tick (its
	 * missed ticks are not late: the next one is within 100 ms) */
	l = loop_new();
	t = loop_timer_new(l, on_timer, &c);
	assert_non_null(t);
	assert_int_equal(loop_timer_arm(t, 5, 100), 0);
	nanosleep(&ts, NULL);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(c.fires, 2);
	assert_true(loop_late_max_ms(l) < 1000);
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

/* The table behind the loop's fds (and the leader's members): grows by
 * doubling, keeps what it held, zeroes what is new, refuses an overflow. */
static void test_array_grow(void **state)
{
	size_t cap = 0, big;
	int *t, *u;

	(void)state;
	t = array_grow(NULL, &cap, 0, sizeof(*t));
	assert_non_null(t);
	assert_int_equal(cap, 64);
	for (size_t i = 0; i < cap; i++)
		assert_int_equal(t[i], 0);
	t[63] = 7;
	assert_ptr_equal(array_grow(t, &cap, 63, sizeof(*t)), t);
	assert_int_equal(cap, 64);
	t = array_grow(t, &cap, 300, sizeof(*t));
	assert_non_null(t);
	assert_int_equal(cap, 512);
	assert_int_equal(t[63], 7);
	for (size_t i = 64; i < cap; i++)
		assert_int_equal(t[i], 0);
	big = cap;
	u = array_grow(t, &big, SIZE_MAX / 2, sizeof(*t));
	assert_null(u);
	assert_int_equal(big, 512);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_and_deletion_in_callbacks),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_late_timer),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_array_grow),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
