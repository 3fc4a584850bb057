// SPDX-License-Identifier: MIT
/* Unit tests: admission before authentication (caps, per-source shares, wrong-token delays). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keymgr/guard.h"

static struct guard_src v4(const char *ip)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct guard_src s;

	in->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
	guard_src_from(&s, &ss);
	return s;
}

static void test_caps(void **state)
{
	struct guard g;
	struct guard_src a = v4("10.0.0.1"), b = v4("10.0.0.2"),
			 c = v4("10.0.0.3");

	(void)state;
	assert_int_equal(guard_init(&g, 5, 3), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(guard_admit(&g, &a), 0);
	/* a's share is taken; others still get in */
	assert_int_equal(guard_admit(&g, &a), -EUSERS);
	assert_int_equal(g.refused_source, 1);
	assert_int_equal(guard_admit(&g, &b), 0);
	assert_int_equal(guard_admit(&g, &b), 0);
	/* 5 open in all: everyone waits */
	assert_int_equal(guard_admit(&g, &c), -EBUSY);
	assert_int_equal(g.refused_total, 1);
	assert_int_equal(g.n_open, 5);
	/* one of a's ends: a and c may come again */
	guard_release(&g, &a);
	assert_int_equal(guard_admit(&g, &c), 0);
	assert_int_equal(guard_admit(&g, &a), -EBUSY);
	guard_release(&g, &b);
	guard_release(&g, &b);
	assert_int_equal(g.n_sources, 2);
	assert_int_equal(guard_admit(&g, &a), 0);
	assert_int_equal(guard_admit(&g, &a), -EUSERS);
	/* releasing what was never admitted changes nothing */
	guard_release(&g, &b);
	assert_int_equal(g.n_open, 4);
	guard_cleanup(&g);
}

static void test_ipv6_sources_apart(void **state)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	struct guard_src x, y;
	struct guard g;

	(void)state;
	in6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "fd00::1", &in6->sin6_addr);
	guard_src_from(&x, &ss);
	inet_pton(AF_INET6, "fd00::2", &in6->sin6_addr);
	guard_src_from(&y, &ss);
	assert_int_equal(guard_init(&g, 10, 1), 0);
	assert_int_equal(guard_admit(&g, &x), 0);
	assert_int_equal(guard_admit(&g, &x), -EUSERS);
	assert_int_equal(guard_admit(&g, &y), 0);
	guard_cleanup(&g);
}

static void test_token_delays(void **state)
{
	struct guard g;
	struct guard_src a = v4("192.0.2.7"), b = v4("192.0.2.8");
	const uint64_t want[] = { 0, 250, 500, 1000, 2000, 4000, 5000, 5000 };
	uint64_t now = 1000;

	(void)state;
	assert_int_equal(guard_init(&g, 4, 4), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(guard_token_failed(&g, &a, now += 10),
				 want[i]);
	/* another source starts from nothing */
	assert_int_equal(guard_token_failed(&g, &b, now), 0);
	assert_int_equal(guard_token_failed(&g, &b, now), 250);
	/* a quiet source is forgiven; a right token forgives at once */
	now += GUARD_FORGET_MS + 1;
	assert_int_equal(guard_token_failed(&g, &a, now), 0);
	assert_int_equal(guard_token_failed(&g, &a, now), 250);
	guard_token_ok(&g, &a);
	assert_int_equal(guard_token_failed(&g, &a, now), 0);
	assert_int_equal(g.token_failures, 13);
	guard_cleanup(&g);
}

static void test_token_table_bounded(void **state)
{
	struct guard g;
	struct guard_src s = v4("198.51.100.1"), first = s;

	(void)state;
	assert_int_equal(guard_init(&g, 4, 4), 0);
	guard_token_failed(&g, &first, 1);
	guard_token_failed(&g, &first, 1);
	/* many more sources than the table holds: the oldest is dropped */
	for (uint32_t i = 0; i < 3 * GUARD_FAILS_MAX; i++) {
		memcpy(s.a + 8, &i, sizeof(i));
		guard_token_failed(&g, &s, 2 + i);
	}
	assert_int_equal(g.n_fails, GUARD_FAILS_MAX);
	assert_int_equal(guard_token_failed(&g, &first, 1u << 20), 0);
	guard_cleanup(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_ipv6_sources_apart),
		cmocka_unit_test(test_token_delays),
		cmocka_unit_test(test_token_table_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
