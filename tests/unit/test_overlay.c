// SPDX-License-Identifier: MIT
/* Unit tests: the overlay MTU, checked against an independent count of the bytes on the wire. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent/overlay.h"

/*
 * The underlay bytes of one full-size inner packet of inner_mtu bytes,
 * counted header by header, the padding found by trying: what the kernel
 * puts on the wire for VXLAN in ESP transport mode, rfc4106(gcm(aes)).
 */
static uint64_t wire(uint64_t inner_mtu, int family)
{
	uint64_t outer = family == AF_INET ? 20 : 40;
	uint64_t esp_hdr = 4 + 4, iv = 8, icv = 16; /* SPI + seq, GCM IV */
	uint64_t udp = 8, vxlan = 8, eth = 14;
	uint64_t payload = udp + vxlan + eth + inner_mtu, pad = 0;

	while ((payload + pad + 1 + 1) % 4 != 0) /* pad length, next hdr */
		pad++;
	return outer + esp_hdr + iv + payload + pad + 1 + 1 + icv;
}

/* The largest inner MTU that fits, found by search; 0 if none. */
static uint32_t largest_fit(uint32_t underlay, int family)
{
	uint32_t m = underlay;

	while (m > 0 && wire(m, family) > underlay)
		m--;
	return m;
}

static void assert_exact(uint32_t underlay, int family, uint32_t want)
{
	uint32_t m = overlay_mtu(underlay, family);

	assert_int_equal(m, want);
	assert_true(wire(m, family) <= underlay);
	assert_true(wire((uint64_t)m + 1, family) > underlay);
}

static void test_1500(void **state)
{
	(void)state;
	assert_exact(1500, AF_INET, 1416);
	assert_int_equal(wire(1416, AF_INET), 1500); /* exactly full */
	assert_int_equal(wire(1417, AF_INET), 1504); /* padded past it */
	assert_exact(1500, AF_INET6, 1396);
	assert_int_equal(wire(1396, AF_INET6), 1500);
	assert_int_equal(wire(1397, AF_INET6), 1504);
}

static void test_jumbo(void **state)
{
	(void)state;
	assert_exact(9000, AF_INET, 8916);
	assert_exact(9000, AF_INET6, 8896);
	assert_exact(65535, AF_INET, 65448);
}

/* The padding makes the MTU move in steps of 4. */
static void test_unaligned_underlay(void **state)
{
	(void)state;
	assert_exact(1501, AF_INET, 1416);
	assert_exact(1503, AF_INET, 1416);
	assert_exact(1504, AF_INET, 1420);
	assert_exact(1499, AF_INET, 1412);
	assert_exact(1450, AF_INET6, 1344);
}

static void test_1280(void **state)
{
	(void)state;
	assert_exact(1280, AF_INET, 1196);
	/* 1280 - 40 - 64 = 1176 < 1280: no IPv6-capable overlay. */
	assert_int_equal(overlay_mtu(1280, AF_INET6), 0);
	assert_int_equal(largest_fit(1280, AF_INET6), 1176);
}

static void test_too_small(void **state)
{
	static const uint32_t tiny[] = { 0, 1, 20, 40, 52, 84, 100, 119 };

	(void)state;
	for (size_t i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++) {
		assert_int_equal(overlay_mtu(tiny[i], AF_INET), 0);
		assert_int_equal(overlay_mtu(tiny[i], AF_INET6), 0);
	}
	/* The smallest underlays that carry 68 (IPv4) and 1280 (IPv6). */
	assert_int_equal(overlay_mtu(151, AF_INET), 0);
	assert_int_equal(largest_fit(151, AF_INET), 64);
	assert_exact(152, AF_INET, 68);
	assert_int_equal(overlay_mtu(1383, AF_INET6), 0);
	assert_int_equal(largest_fit(1383, AF_INET6), 1276);
	assert_exact(1384, AF_INET6, 1280);
}

static void test_unknown_family(void **state)
{
	(void)state;
	assert_int_equal(overlay_mtu(1500, AF_UNSPEC), 0);
	assert_int_equal(overlay_mtu(1500, AF_PACKET), 0);
}

/* Every underlay MTU up to 10000: the answer is the search's, or 0. */
static void test_every_underlay(void **state)
{
	uint32_t u, m, fit;

	(void)state;
	for (u = 0; u <= 10000; u++) {
		m = overlay_mtu(u, AF_INET);
		fit = largest_fit(u, AF_INET);
		assert_int_equal(m, fit >= 68 ? fit : 0);
		m = overlay_mtu(u, AF_INET6);
		fit = largest_fit(u, AF_INET6);
		assert_int_equal(m, fit >= 1280 ? fit : 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1500),
		cmocka_unit_test(test_jumbo),
		cmocka_unit_test(test_unaligned_underlay),
		cmocka_unit_test(test_1280),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_unknown_family),
		cmocka_unit_test(test_every_underlay),
	};

	return cmocka_run_group_tests_name("overlay", tests, NULL, NULL);
}
