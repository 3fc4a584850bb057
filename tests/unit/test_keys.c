// SPDX-License-Identifier: MIT
/* Unit tests: a KDF vector, pair keys bound to every input, SPI rule. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "keymgr/keys.h"

static void hex(const char *s, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned int v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/*
 * A vector from an independent implementation (Python's hashlib):
 * blake2b(b"", digest_size=36, key=bytes(range(32)),
 *         salt=g | inc_a | index_a | 01, person=inc_b | index_b | "vxpk1").
 */
static void test_pair_vector(void **state)
{
	struct keys_node a = { 5, 3 }, b = { 9, 1 };
	uint8_t m[KEYS_MASTER_LEN], k[KEYS_PAIR_LEN], want[KEYS_PAIR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	hex("a1e7f9d109c531e018d526bcd4bf3f5dc8aa907a18178792abb4c0ac8c927537"
	    "bd107d25",
	    want, sizeof(want));
	assert_int_equal(keys_pair(m, 7, &a, &b, k), 0);
	assert_memory_equal(k, want, sizeof(want));
}

static uint8_t master[KEYS_MASTER_LEN];

static void pair(uint32_t g, uint32_t a, uint64_t ia, uint32_t b, uint64_t ib,
		 uint8_t out[KEYS_PAIR_LEN])
{
	struct keys_node from = { a, ia }, to = { b, ib };

	assert_int_equal(keys_pair(master, g, &from, &to, out), 0);
}

static void test_pair_keys(void **state)
{
	uint8_t k[KEYS_PAIR_LEN], same[KEYS_PAIR_LEN], other[KEYS_PAIR_LEN];

	(void)state;
	memset(master, 0x42, sizeof(master));
	pair(7, 1, 1, 2, 1, k);
	pair(7, 1, 1, 2, 1, same);
	assert_memory_equal(k, same, sizeof(k)); /* deterministic */
	/* Every input changes the key. */
	pair(8, 1, 1, 2, 1, other);
	assert_memory_not_equal(k, other, sizeof(k));
	pair(7, 2, 1, 1, 1, other); /* direction */
	assert_memory_not_equal(k, other, sizeof(k));
	pair(7, 1, 2, 2, 1, other); /* a reboot of node 1 */
	assert_memory_not_equal(k, other, sizeof(k));
	pair(7, 1, 1, 2, 2, other);
	assert_memory_not_equal(k, other, sizeof(k));
	pair(7, 1, 1, 3, 1, other);
	assert_memory_not_equal(k, other, sizeof(k));
	/* Fields are fixed-width: index 1 inc 2 is not index 2 inc 1. */
	pair(7, 1, 2, 3, 1, other);
	pair(7, 2, 1, 3, 1, same);
	assert_memory_not_equal(other, same, sizeof(k));
	/* Wide values land in their own bytes. */
	pair(7, 0xffffff, UINT64_MAX, 1, UINT64_MAX, other);
	pair(7, 0xffffff, UINT64_MAX - 1, 1, UINT64_MAX, same);
	assert_memory_not_equal(other, same, sizeof(k));
	master[0] ^= 1;
	pair(7, 1, 1, 2, 1, other);
	assert_memory_not_equal(k, other, sizeof(k));
}

static void test_pair_refusals(void **state)
{
	struct keys_node a = { 1, 1 }, none = { 0, 1 }, big = { 0x1000000, 1 };
	uint8_t k[KEYS_PAIR_LEN];

	(void)state;
	assert_int_equal(keys_pair(master, 0, &a, &none, k), -EINVAL);
	assert_int_equal(keys_pair(master, 1, &a, &a, k), -EINVAL);
	assert_int_equal(keys_pair(master, 1, &a, &none, k), -EINVAL);
	assert_int_equal(keys_pair(master, 1, &big, &a, k), -EINVAL);
	assert_int_equal(keys_pair(master, 1, NULL, &a, k), -EINVAL);
}

static void test_spi_rule(void **state)
{
	(void)state;
	assert_int_equal(keys_spi(1, 2), 0x02000002);
	assert_int_equal(keys_spi(254, 2), 0xff000002);
	assert_int_equal(keys_spi(255, 2), 0x01000002); /* slot wraps */
	assert_int_equal(keys_spi(0, 0), 0);
	assert_int_equal(keys_spi(1, 0x1000000), 0);
	/* Three consecutive generations never share a slot, never < 256. */
	for (uint32_t g = 1; g < 2000; g++) {
		assert_true(keys_spi(g, 1) >= 256);
		assert_int_not_equal(keys_spi(g, 5), keys_spi(g + 1, 5));
		assert_int_not_equal(keys_spi(g, 5), keys_spi(g + 2, 5));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_vector),
		cmocka_unit_test(test_pair_keys),
		cmocka_unit_test(test_pair_refusals),
		cmocka_unit_test(test_spi_rule),
	};

	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
