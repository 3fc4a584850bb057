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
 * blake2b(info, digest_size=36, key=bytes(range(32)),
 *         person=b"vxsec pair key 1"), info as keys.h describes it.
 */
static void test_pair_vector(void **state)
{
	struct keys_node a = { "node-a", 3 }, b = { "node-b", 1 };
	uint8_t m[KEYS_MASTER_LEN], k[KEYS_PAIR_LEN], want[KEYS_PAIR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	hex("8575a20f7248459f281fb67696d7355f94fb1fa63d020a92366f444bede89fc2"
	    "2588ee50",
	    want, sizeof(want));
	assert_int_equal(keys_pair(m, 7, &a, &b, k), 0);
	assert_memory_equal(k, want, sizeof(want));
}

static uint8_t master[KEYS_MASTER_LEN];

static void pair(uint32_t g, const char *a, uint64_t ia, const char *b,
		 uint64_t ib, uint8_t out[KEYS_PAIR_LEN])
{
	struct keys_node from = { a, ia }, to = { b, ib };

	assert_int_equal(keys_pair(master, g, &from, &to, out), 0);
}

static void test_pair_keys(void **state)
{
	uint8_t k[KEYS_PAIR_LEN], same[KEYS_PAIR_LEN], other[KEYS_PAIR_LEN];

	(void)state;
	memset(master, 0x42, sizeof(master));
	pair(7, "node-1", 1, "node-2", 1, k);
	pair(7, "node-1", 1, "node-2", 1, same);
	assert_memory_equal(k, same, sizeof(k)); /* deterministic */
	/* Every input changes the key. */
	pair(8, "node-1", 1, "node-2", 1, other);
	assert_memory_not_equal(k, other, sizeof(k));
	pair(7, "node-2", 1, "node-1", 1, other); /* direction */
	assert_memory_not_equal(k, other, sizeof(k));
	pair(7, "node-1", 2, "node-2", 1, other); /* a reboot of node-1 */
	assert_memory_not_equal(k, other, sizeof(k));
	pair(7, "node-1", 1, "node-2", 2, other);
	assert_memory_not_equal(k, other, sizeof(k));
	pair(7, "node-1", 1, "node-3", 1, other);
	assert_memory_not_equal(k, other, sizeof(k));
	/* Ids are length-prefixed: "node-1"+"2" is not "node-"+"12". */
	pair(7, "node-12", 1, "x", 1, other);
	pair(7, "node-1", 1, "2x", 1, same);
	assert_memory_not_equal(other, same, sizeof(k));
	master[0] ^= 1;
	pair(7, "node-1", 1, "node-2", 1, other);
	assert_memory_not_equal(k, other, sizeof(k));
}

static void test_pair_refusals(void **state)
{
	struct keys_node a = { "node-1", 1 }, none = { "", 1 };
	char longid[66];
	struct keys_node l = { longid, 1 };
	uint8_t k[KEYS_PAIR_LEN];

	(void)state;
	memset(longid, 'a', 65);
	longid[65] = '\0';
	assert_int_equal(keys_pair(master, 0, &a, &a, k), -EINVAL);
	assert_int_equal(keys_pair(master, 1, &a, &none, k), -EINVAL);
	assert_int_equal(keys_pair(master, 1, &l, &a, k), -EINVAL);
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
