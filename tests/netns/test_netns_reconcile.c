// SPDX-License-Identifier: MIT
/* netns tests: the reconciler over xfrm/ on this machine's kernel: policies converge, others are left alone. */
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

#include "agent/kernel.h"
#include "tests/netns/netns_util.h"
#include "xfrm/xfrm.h"

#define REQID 0x7658u
#define OTHER_REQID 99u

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

/*
 * n peers without keys yet (the host kernel has no ESP: SAs are proven
 * in the lab), so the state is their policies and the catch-all block.
 */
static void want_state(struct desired_state *s, size_t n)
{
	struct desired_config cfg = { .reqid = REQID,
				      .vxlan_port = 4789,
				      .replay_window = 64,
				      .catchall = true,
				      .n_catchall_nets = 1 };
	struct desired_peer peers[64];
	struct desired_view v;
	struct why why = { "" };

	memset(&v, 0, sizeof(v));
	v.self[0].family = AF_INET;
	inet_pton(AF_INET, "192.168.77.11", &v.self[0].ip.v4);
	v.n_self = 1;
	cfg.catchall_nets[0].plen = 24;
	cfg.catchall_nets[0].net.family = AF_INET;
	inet_pton(AF_INET, "192.168.77.0", &cfg.catchall_nets[0].net.ip.v4);
	for (size_t i = 0; i < n; i++) {
		memset(&peers[i], 0, sizeof(peers[i]));
		peers[i].index = (uint32_t)i + 2;
		peers[i].addrs[0].family = AF_INET;
		peers[i].addrs[0].ip.v4.s_addr =
			htonl(0xc0a84d0c + (uint32_t)i);
		peers[i].n_addrs = 1;
	}
	v.peers = peers;
	v.n_peers = n;
	assert_int_equal(desired_build(&v, &cfg, s, &why), 0);
}

static size_t lines(const char *needle)
{
	char *out = NULL;
	size_t n;

	assert_int_equal(netns_run("ip xfrm policy", &out, NULL), 0);
	n = netns_count_lines(out, needle);
	free(out);
	return n;
}

static void test_policies_converge(void **state)
{
	struct agent_xfrm x = { sock, REQID, 4789 };
	struct agent_kernel k;
	struct reconciler r;
	struct reconcile_result res;
	struct desired_state want;

	(void)state;
	agent_kernel_xfrm(&k, &x);
	assert_int_equal(reconciler_init(&r), 0);
	/* Someone else's policy (strongSwan, say) on another reqid. */
	assert_int_equal(system("ip xfrm policy add src 10.9.9.1/32 "
				"dst 10.9.9.2/32 dir out tmpl proto esp "
				"mode transport reqid 99"),
			 0);
	want_state(&want, 40);
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(res.applied, 82); /* 80 + the catch-all's two */
	assert_int_equal(lines("reqid 30296"), 81);
	assert_int_equal(lines("action block"), 1);
	/* The kernel equals want: the next run finds nothing to do. */
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(res.applied, 0);
	desired_state_free(&want);
	/* Ten peers leave: exactly their policies go. */
	want_state(&want, 30);
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(res.applied, 20);
	assert_int_equal(lines("reqid 30296"), 61);
	assert_int_equal(lines("action block"), 1);
	assert_int_equal(lines("reqid 99"), 1); /* never touched */
	desired_state_free(&want);
	reconciler_cleanup(&r);
}

/* A policy deleted behind our back comes back at the next run. */
static void test_drift_repaired(void **state)
{
	struct agent_xfrm x = { sock, REQID, 4789 };
	struct agent_kernel k;
	struct reconciler r;
	struct reconcile_result res;
	struct desired_state want;

	(void)state;
	assert_int_equal(xfrm_policy_flush(sock), 0);
	agent_kernel_xfrm(&k, &x);
	assert_int_equal(reconciler_init(&r), 0);
	want_state(&want, 5);
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(system("ip xfrm policy delete src 192.168.77.12/32 "
				"dst 192.168.77.11/32 proto udp dport 4789 "
				"dir in"),
			 0);
	assert_int_equal(lines("dir in"), 5); /* 4 peers + the catch-all */
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(res.applied, 1);
	assert_int_equal(lines("dir in"), 6);
	desired_state_free(&want);
	reconciler_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policies_converge),
		cmocka_unit_test(test_drift_repaired),
	};

	return cmocka_run_group_tests_name("netns_reconcile", tests, setup,
					   teardown);
}
