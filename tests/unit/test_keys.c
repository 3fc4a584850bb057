// SPDX-License-Identifier: MIT
/* Unit tests: the SPI rule and SPI slots (the leader derives no pair key in protocol 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "keymgr/keys.h"

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

/* The slot sent with each generation: 1..255, what the SPI is made of. */
static void test_spi_slot(void **state)
{
	(void)state;
	assert_int_equal(keys_spi_slot(1), 2);
	assert_int_equal(keys_spi_slot(254), 255);
	assert_int_equal(keys_spi_slot(255), 1);
	assert_int_equal(keys_spi_slot(0xffffffffu), 1 + 0xffffffffu % 255);
	for (uint32_t g = 1; g < 2000; g++) {
		uint32_t slot = keys_spi_slot(g);

		assert_true(slot >= 1 && slot <= 255);
		assert_int_equal(keys_spi(g, 7), slot << 24 | 7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spi_rule),
		cmocka_unit_test(test_spi_slot),
	};

	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
