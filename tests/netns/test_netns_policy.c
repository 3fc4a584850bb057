// SPDX-License-Identifier: MIT
/* netns tests: xfrm/ policies against this machine's kernel, checked with ip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/netns/netns_util.h"
#include "xfrm/xfrm.h"

#define REQID 0x1234u
#define OTHER_REQID 7u
#define VXLAN_PORT 4789

static struct xfrm_sock *sock;

static void make_policy(struct xfrm_policy *p, const char *src, const char *dst,
			enum xfrm_dir dir, uint32_t spi)
{
	int family;

	memset(p, 0, sizeof(*p));
	assert_int_equal(xfrm_ip_parse(src, &p->sel.family, &p->sel.src), 0);
	assert_int_equal(xfrm_ip_parse(dst, &family, &p->sel.dst), 0);
	p->sel.src_plen = p->sel.dst_plen = family == AF_INET ? 32 : 128;
	p->sel.proto = IPPROTO_UDP;
	p->sel.dport = VXLAN_PORT;
	p->dir = dir;
	p->priority = 100;
	p->action = XFRM_ALLOW;
	p->has_tmpl = true;
	p->tmpl_reqid = REQID;
	p->tmpl_spi = spi;
}

/* The i-th of many distinct host-to-host selectors. */
static void nth_policy(struct xfrm_policy *p, uint32_t i, uint32_t spi)
{
	char dst[32];

	snprintf(dst, sizeof(dst), "10.%u.%u.%u", (i >> 16) & 255,
		 (i >> 8) & 255, i & 255);
	make_policy(p, "192.0.2.1", dst, XFRM_OUT, spi);
}

struct collect {
	struct xfrm_policy items[8];
	size_t count;
};

static int collect_cb(const struct xfrm_policy *p, void *arg)
{
	struct collect *c = arg;

	if (c->count < 8)
		c->items[c->count] = *p;
	c->count++;
	return 0;
}

static size_t count_ours(void)
{
	struct collect c = { .count = 0 };

	assert_int_equal(xfrm_policy_dump(sock, REQID, collect_cb, &c), 0);
	return c.count;
}

static char *ip_policies(void)
{
	char *out = NULL;

	assert_int_equal(netns_run("ip xfrm policy", &out, NULL), 0);
	return out;
}

static int setup(void **state)
{
	(void)state;
	if (netns_test_setup(&sock))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xfrm_sock_close(sock);
	return 0;
}

static int clean(void **state)
{
	(void)state;
	return xfrm_policy_flush(sock);
}

static void check_roundtrip(const char *src, const char *dst,
			    const char *ip_sel)
{
	struct xfrm_policy out, in;
	struct collect c = { .count = 0 };
	char *text;

	make_policy(&out, src, dst, XFRM_OUT, 0x01000001);
	make_policy(&in, dst, src, XFRM_IN, 0);
	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_ADD, &out), 0);
	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_ADD, &in), 0);

	assert_int_equal(xfrm_policy_dump(sock, REQID, collect_cb, &c), 0);
	assert_int_equal(c.count, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct xfrm_policy *p = &c.items[i];
		const struct xfrm_policy *want =
			p->dir == XFRM_OUT ? &out : &in;

		assert_memory_equal(&p->sel, &want->sel, sizeof(p->sel));
		assert_int_equal(p->priority, 100);
		assert_true(p->has_tmpl);
		assert_int_equal(p->tmpl_reqid, REQID);
		assert_int_equal(p->tmpl_spi, want->tmpl_spi);
	}

	text = ip_policies();
	assert_non_null(strstr(text, ip_sel));
	assert_int_equal(netns_count_lines(text, "proto udp dport 4789"), 2);
	assert_int_equal(netns_count_lines(text, "dir out priority 100"), 1);
	assert_int_equal(netns_count_lines(text, "dir in priority 100"), 1);
	assert_int_equal(netns_count_lines(text, "spi 0x01000001 reqid 4660 "
						 "mode transport"),
			 1);
	free(text);

	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_DEL, &out), 0);
	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_DEL, &in), 0);
	assert_int_equal(count_ours(), 0);
	text = ip_policies();
	assert_string_equal(text, "");
	free(text);
}

static void test_roundtrip_ipv4(void **state)
{
	(void)state;
	check_roundtrip(
		"192.0.2.1", "192.0.2.2",
		"src 192.0.2.1/32 dst 192.0.2.2/32 proto udp dport 4789");
}

static void test_roundtrip_ipv6(void **state)
{
	(void)state;
	check_roundtrip("2001:db8::1", "2001:db8::2",
			"src 2001:db8::1/128 dst 2001:db8::2/128 proto udp "
			"dport 4789");
}

static void test_update_switches_spi(void **state)
{
	struct xfrm_policy p;
	struct collect c = { .count = 0 };
	char *text;

	(void)state;
	make_policy(&p, "192.0.2.1", "192.0.2.2", XFRM_OUT, 0x01000001);
	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_ADD, &p), 0);
	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_ADD, &p), -EEXIST);
	p.tmpl_spi = 0x02000001;
	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_UPDATE, &p), 0);

	assert_int_equal(xfrm_policy_dump(sock, REQID, collect_cb, &c), 0);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.items[0].tmpl_spi, 0x02000001);
	text = ip_policies();
	assert_int_equal(netns_count_lines(text, "spi 0x02000001"), 1);
	assert_int_equal(netns_count_lines(text, "spi 0x01000001"), 0);
	free(text);
}

static void test_block_and_mark(void **state)
{
	struct xfrm_policy p;
	struct collect c = { .count = 0 };
	char *text;

	(void)state;
	make_policy(&p, "2001:db8::1", "2001:db8::", XFRM_OUT, 0);
	p.sel.dst_plen = 64;
	p.has_tmpl = false;
	p.action = XFRM_BLOCK;
	p.priority = 200;
	p.mark = 0x10;
	p.mark_mask = 0xff;
	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_ADD, &p), 0);
	assert_int_equal(xfrm_policy_dump(sock, 0, collect_cb, &c), 0);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.items[0].action, XFRM_BLOCK);
	assert_false(c.items[0].has_tmpl);
	assert_int_equal(c.items[0].mark, 0x10);
	assert_int_equal(c.items[0].mark_mask, 0xff);
	assert_int_equal(c.items[0].sel.dst_plen, 64);
	text = ip_policies();
	assert_int_equal(netns_count_lines(text, "dir out action block "
						 "priority 200"),
			 1);
	assert_int_equal(netns_count_lines(text, "mark 0x10/0xff"), 1);
	free(text);
	/* Deleting needs the mark too: without it, nothing matches. */
	p.mark_mask = 0;
	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_DEL, &p), -ENOENT);
}

static void test_dump_filters_reqid(void **state)
{
	struct xfrm_policy p;

	(void)state;
	/* Another IPsec daemon's policy: never reported as ours. */
	assert_int_equal(netns_run("ip xfrm policy add src 198.51.100.1/32 "
				   "dst 198.51.100.2/32 dir out tmpl proto esp "
				   "mode transport reqid 7",
				   NULL, NULL),
			 0);
	make_policy(&p, "192.0.2.1", "192.0.2.2", XFRM_OUT, 0);
	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_ADD, &p), 0);
	assert_int_equal(count_ours(), 1);
	{
		struct collect c = { .count = 0 };

		assert_int_equal(
			xfrm_policy_dump(sock, OTHER_REQID, collect_cb, &c), 0);
		assert_int_equal(c.count, 1);
		assert_int_equal(c.items[0].sel.dst.raw[3], 2);
		assert_int_equal(c.items[0].sel.dst.raw[0], 198);
	}
}

static void test_batch_10000(void **state)
{
	struct xfrm_batch *b = xfrm_batch_new();
	struct xfrm_policy p;
	char *text;
	uint32_t i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < 10000; i++) {
		nth_policy(&p, i, 0x01000000 | (i + 1));
		assert_int_equal(xfrm_batch_policy(b, XFRM_OP_ADD, &p), (int)i);
	}
	assert_int_equal(xfrm_batch_send(sock, b), 0);
	assert_int_equal(xfrm_batch_failed(b), 0);
	assert_int_equal(count_ours(), 10000);
	/* Sent once: its buffers were wiped, no resend, no more requests. */
	assert_int_equal(xfrm_batch_send(sock, b), -EALREADY);
	assert_int_equal(xfrm_batch_policy(b, XFRM_OP_ADD, &p), -EALREADY);
	text = ip_policies();
	assert_int_equal(netns_count_lines(text, "dir out priority 100"),
			 10000);
	assert_int_equal(
		netns_count_lines(text, "src 192.0.2.1/32 dst 10.0.39.15/32"),
		1);
	free(text);

	/* The SPI switch: every out policy's template in one batch. */
	xfrm_batch_reset(b);
	for (i = 0; i < 10000; i++) {
		nth_policy(&p, i, 0x02000000 | (i + 1));
		assert_true(xfrm_batch_policy(b, XFRM_OP_UPDATE, &p) >= 0);
	}
	assert_int_equal(xfrm_batch_send(sock, b), 0);
	text = ip_policies();
	assert_int_equal(netns_count_lines(text, "proto esp spi 0x02"), 10000);
	free(text);

	xfrm_batch_reset(b);
	for (i = 0; i < 10000; i++) {
		nth_policy(&p, i, 0);
		assert_true(xfrm_batch_policy(b, XFRM_OP_DEL, &p) >= 0);
	}
	assert_int_equal(xfrm_batch_send(sock, b), 0);
	assert_int_equal(count_ours(), 0);
	xfrm_batch_free(b);
}

/* Bad requests in the middle: each reported on its own, the rest land. */
static void test_batch_partial_failure(void **state)
{
	struct xfrm_batch *b = xfrm_batch_new();
	struct xfrm_policy p;
	char desc[XFRM_DESC_MAX];
	uint32_t i;
	int dup = -1, gone = -1, idx;

	(void)state;
	for (i = 0; i < 3000; i++) {
		nth_policy(&p, i, 0x01000000 | (i + 1));
		idx = xfrm_batch_policy(b, XFRM_OP_ADD, &p);
		assert_true(idx >= 0);
		if (i == 1499) { /* the same selector again */
			nth_policy(&p, 7, 0x01000008);
			dup = xfrm_batch_policy(b, XFRM_OP_ADD, &p);
		}
		if (i == 2222) { /* delete of a policy never added */
			nth_policy(&p, 90000, 0);
			gone = xfrm_batch_policy(b, XFRM_OP_DEL, &p);
		}
	}
	assert_int_equal(xfrm_batch_send(sock, b), -EIO);
	assert_int_equal(xfrm_batch_failed(b), 2);
	assert_int_equal(xfrm_batch_error(b, (size_t)dup), -EEXIST);
	assert_int_equal(xfrm_batch_error(b, (size_t)gone), -ENOENT);
	assert_int_equal(xfrm_batch_error(b, 0), 0);
	assert_int_equal(xfrm_batch_error(b, (size_t)dup + 1), 0);
	assert_int_equal(xfrm_batch_error(b, xfrm_batch_count(b) - 1), 0);
	xfrm_batch_describe(b, (size_t)dup, desc, sizeof(desc));
	assert_non_null(
		strstr(desc, "add policy out 192.0.2.1/32->10.0.0.7/32"));
	xfrm_batch_describe(b, (size_t)gone, desc, sizeof(desc));
	assert_non_null(strstr(desc, "delete policy out"));
	assert_non_null(strstr(desc, "10.1.95.144/32"));
	assert_int_equal(count_ours(), 3000);
	xfrm_batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_roundtrip_ipv4, clean),
		cmocka_unit_test_setup(test_roundtrip_ipv6, clean),
		cmocka_unit_test_setup(test_update_switches_spi, clean),
		cmocka_unit_test_setup(test_block_and_mark, clean),
		cmocka_unit_test_setup(test_dump_filters_reqid, clean),
		cmocka_unit_test_setup(test_batch_10000, clean),
		cmocka_unit_test_setup(test_batch_partial_failure, clean),
	};

	return cmocka_run_group_tests_name("netns_policy", tests, setup,
					   teardown);
}
