// SPDX-License-Identifier: MIT
/* netns tests: the agent's desired policies programmed into this machine's kernel, checked with ip. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent/desired.h"
#include "tests/netns/netns_util.h"
#include "xfrm/xfrm.h"

#define REQID 0x7658u

static struct xfrm_sock *sock;

static int setup(void **state)
{
	(void)state;
	return netns_test_setup(&sock) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	xfrm_policy_flush(sock);
	xfrm_sock_close(sock);
	return 0;
}

static struct desired_addr addr(int family, const char *s)
{
	struct desired_addr a = { .family = family };

	inet_pton(family, s, &a.ip);
	return a;
}

/* Self (index 1) and n peers, generations 1 (retiring) and 2 (committed). */
static void make_view(struct desired_view *v, struct desired_peer *peers,
		      size_t n, int family)
{
	char ip[64];

	memset(v, 0, sizeof(*v));
	v->self[0] = addr(family,
			  family == AF_INET ? "192.168.77.11" : "fd00:77::11");
	v->n_self = 1;
	v->gens[0] = (struct desired_gen){ 1, DPHASE_RETIRING };
	v->gens[1] = (struct desired_gen){ 2, DPHASE_COMMITTED };
	v->n_gens = 2;
	for (size_t i = 0; i < n; i++) {
		struct desired_peer *p = &peers[i];

		memset(p, 0, sizeof(*p));
		p->index = (uint32_t)i + 2;
		snprintf(ip, sizeof(ip),
			 family == AF_INET ? "192.168.77.%zu" : "fd00:77::%zu",
			 i + 12);
		p->addrs[0] = addr(family, ip);
		p->n_addrs = 1;
		for (uint32_t g = 1; g <= 2; g++) {
			struct desired_keys *k = &p->keys[p->n_keys++];

			k->g = g;
			k->spi_out = (1u + g) << 24 | 1u;
			k->spi_in = (1u + g) << 24 | p->index;
			memset(k->key_out, 0x11, sizeof(k->key_out));
			memset(k->key_in, 0x22, sizeof(k->key_in));
		}
	}
	v->peers = peers;
	v->n_peers = n;
}

/* Programs the state's policies in one batch; every request succeeds. */
static void apply_policies(const struct desired_state *s)
{
	struct xfrm_batch *b = xfrm_batch_new();

	assert_non_null(b);
	for (size_t i = 0; i < s->n_pols; i++)
		assert_true(xfrm_batch_policy(b, XFRM_OP_ADD, &s->pols[i]) >=
			    0);
	assert_int_equal(xfrm_batch_send(sock, b), 0);
	xfrm_batch_free(b);
}

static int count_cb(const struct xfrm_policy *p, void *arg)
{
	(void)p;
	++*(size_t *)arg;
	return 0;
}

static void check_family(int family)
{
	struct desired_config cfg = { .reqid = REQID,
				      .vxlan_port = 4789,
				      .replay_window = 1024,
				      .catchall = true,
				      .n_catchall_nets = 1 };
	struct desired_peer peers[50];
	struct desired_view v;
	struct desired_state s;
	size_t ours = 0;
	char *out = NULL, want[128];
	struct why why = { "" };

	cfg.catchall_nets[0].net =
		addr(family, family == AF_INET ? "192.168.77.0" : "fd00:77::");
	cfg.catchall_nets[0].plen = family == AF_INET ? 24 : 64;
	make_view(&v, peers, 50, family);
	assert_int_equal(desired_build(&v, &cfg, &s, &why), 0);
	apply_policies(&s);
	/*
	 * 2 a peer and the catch-all's in policy carry our reqid; its block
	 * has no template.
	 */
	assert_int_equal(xfrm_policy_dump(sock, REQID, count_cb, &ours), 0);
	assert_int_equal(ours, 101);
	assert_int_equal(netns_run("ip xfrm policy", &out, NULL), 0);
	assert_int_equal(netns_count_lines(out, "dir out"), 51);
	assert_int_equal(netns_count_lines(out, "dir in"), 51);
	assert_int_equal(netns_count_lines(out, "action block"), 1);
	/* Every out template names the transmit generation's SPI. */
	snprintf(want, sizeof(want), "spi 0x%08x reqid %u",
		 (1u + 2u) << 24 | 1u, REQID);
	assert_int_equal(netns_count_lines(out, want), 50);
	free(out);
	desired_state_free(&s);
	assert_int_equal(xfrm_policy_flush(sock), 0);
}

static void test_desired_policies_ipv4(void **state)
{
	(void)state;
	check_family(AF_INET);
}

static void test_desired_policies_ipv6(void **state)
{
	(void)state;
	check_family(AF_INET6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_desired_policies_ipv4),
		cmocka_unit_test(test_desired_policies_ipv6),
	};

	return cmocka_run_group_tests_name("netns_desired", tests, setup,
					   teardown);
}
