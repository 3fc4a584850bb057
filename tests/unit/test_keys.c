// SPDX-License-Identifier: MIT
/* Unit tests: HKDF vectors, pair keys bound to every input, SPI rule. */
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

/* RFC 5869, test cases 1 and 3. */
static void test_hkdf_rfc5869(void **state)
{
	uint8_t ikm[22], salt[13], info[10], okm[42], want[42];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	hex("000102030405060708090a0b0c", salt, sizeof(salt));
	hex("f0f1f2f3f4f5f6f7f8f9", info, sizeof(info));
	hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	    "34007208d5b887185865",
	    want, sizeof(want));
	assert_int_equal(keys_hkdf(salt, sizeof(salt), ikm, sizeof(ikm), info,
				   sizeof(info), okm, sizeof(okm)),
			 0);
	assert_memory_equal(okm, want, sizeof(want));
	hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	    "9d201395faa4b61a96c8",
	    want, sizeof(want));
	assert_int_equal(
		keys_hkdf(NULL, 0, ikm, sizeof(ikm), NULL, 0, okm, sizeof(okm)),
		0);
	assert_memory_equal(okm, want, sizeof(want));
	assert_int_equal(keys_hkdf(salt, 1, ikm, 1, info, 1, okm, 255 * 32 + 1),
			 -EINVAL);
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
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_pair_keys),
		cmocka_unit_test(test_pair_refusals),
		cmocka_unit_test(test_spi_rule),
	};

	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
