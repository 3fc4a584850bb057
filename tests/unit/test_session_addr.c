// SPDX-License-Identifier: MIT
/* Unit tests of agent/session_addr.c: which leader address the session tries next, when it backs off, and which standby's answer it follows. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/session_int.h"
#include "common/config.h"

/* A session with leaders 127.0.0.1:1 .. 127.0.0.1:n (no connection). */
static struct session *with_leaders(size_t n)
{
	struct sockaddr_storage l[SESSION_LEADERS_MAX];
	struct session *s = calloc(1, sizeof(*s));
	char text[32];
	socklen_t len;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "127.0.0.1:%zu", i + 1);
		assert_int_equal(config_addr_port(text, &l[i], &len), 0);
	}
	session_leaders_set(s, l, n);
	assert_int_equal(s->cur, 0);
	assert_string_equal(s->leader_text, "127.0.0.1:1");
	return s;
}

/* Fails the address in use: whether the next is tried at once. */
static bool fail_addr(struct session *s, size_t want_next)
{
	bool now = session_leader_next(s);

	assert_int_equal(s->cur, want_next);
	return now;
}

/*
 * Each failure moves to the next address at once; the pass that
 * completes the list backs off (and the next pass starts after it); a
 * session that opens starts a new pass. One address: every failure
 * backs off, as before lists.
 */
static void test_pass_then_backoff(void **state)
{
	struct session *s = with_leaders(3);

	(void)state;
	assert_true(fail_addr(s, 1));
	assert_string_equal(s->leader_text, "127.0.0.1:2");
	assert_true(fail_addr(s, 2));
	assert_false(fail_addr(s, 0)); /* a whole pass failed: back off */
	assert_true(fail_addr(s, 1));
	session_leader_reached(s); /* connected at 2 */
	assert_true(fail_addr(s, 2));
	assert_true(fail_addr(s, 0));
	assert_false(fail_addr(s, 1));
	free(s);

	s = with_leaders(1);
	assert_false(fail_addr(s, 0));
	assert_false(fail_addr(s, 0));
	free(s);
}

/*
 * A standby names the leader: the agent goes there next, and that hop
 * costs nothing the first time in a pass. A name not in the list, not
 * an address, empty, or the refusing instance's own is not followed.
 */
static void test_named_leader(void **state)
{
	struct session *s = with_leaders(3);

	(void)state;
	session_leader_named(s, "127.0.0.1:3");
	assert_true(fail_addr(s, 2)); /* straight to it */
	assert_int_equal(s->tried, 0);
	assert_true(fail_addr(s, 0)); /* it failed too: on with the list */
	assert_true(fail_addr(s, 1));
	assert_false(fail_addr(s, 2)); /* three failures: a whole pass */

	for (int i = 0; i < 4; i++) {
		static const char *const ignored[] = { "10.9.9.9:7120",
						       "leader-b:7120", "",
						       "127.0.0.1:3" };

		session_leader_reached(s);
		session_leader_use(s, 2);
		session_leader_named(s, ignored[i]);
		assert_true(fail_addr(s, 0));
	}
	free(s);
}

/* Two standbys naming each other cannot keep the agent from backing off. */
static void test_standbys_naming_each_other(void **state)
{
	struct session *s = with_leaders(2);

	(void)state;
	session_leader_named(s, "127.0.0.1:2");
	assert_true(fail_addr(s, 1)); /* the free hop */
	session_leader_named(s, "127.0.0.1:1");
	assert_true(fail_addr(s, 0)); /* counts: one failure */
	session_leader_named(s, "127.0.0.1:2");
	assert_false(fail_addr(s, 1)); /* counts: a whole pass, back off */
	session_leader_named(s, "127.0.0.1:1");
	assert_true(fail_addr(s, 0)); /* a new pass: a free hop again */
	free(s);
}

/* IPv6 with its port, matched against what a standby names. */
static void test_ipv6(void **state)
{
	struct sockaddr_storage l[2];
	struct session *s = calloc(1, sizeof(*s));
	socklen_t len;

	(void)state;
	assert_non_null(s);
	assert_int_equal(config_addr_port("[fd00::1]:7120", &l[0], &len), 0);
	assert_int_equal(config_addr_port("[fd00::2]:7120", &l[1], &len), 0);
	session_leaders_set(s, l, 2);
	assert_string_equal(s->leader_text, "[fd00::1]:7120");
	assert_int_equal(session_leader_len(s), sizeof(struct sockaddr_in6));
	session_leader_named(s, "[fd00::2]:7121"); /* another port */
	assert_int_equal(s->redirect, -1);
	session_leader_named(s, "[fd00::2]:7120");
	assert_int_equal(s->redirect, 1);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_then_backoff),
		cmocka_unit_test(test_named_leader),
		cmocka_unit_test(test_standbys_naming_each_other),
		cmocka_unit_test(test_ipv6),
	};

	return cmocka_run_group_tests_name("session_addr", tests, NULL, NULL);
}
