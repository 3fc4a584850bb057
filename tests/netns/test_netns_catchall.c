// SPDX-License-Identifier: MIT
/*
 * netns tests: the agent's default catch-all on this machine's kernel.
 * Cleartext VXLAN from a stranger (another namespace, over a veth) is
 * dropped and sending cleartext VXLAN to it is refused, for IPv4 and IPv6,
 * with no underlay_cidr; underlay_cidr narrows it; a datagram to another
 * port passes every time, so "nothing arrived" means the policy.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agentd.h"
#include "agent/desired.h"
#include "agent/xstat.h"
#include "tests/netns/netns_util.h"
#include "xfrm/xfrm.h"

#define REQID 0x7658u
#define VXLAN 4789
#define OTHER 4790

static struct xfrm_sock *sock;
static char stranger[64]; /* the named namespace across the veth */

static int setup(void **state)
{
	(void)state;
	if (netns_test_setup(&sock))
		return -1;
	return netns_peer_add(stranger, sizeof(stranger), "catchall", "v0",
			      "192.168.77.11", "fd00:77::11", "v1",
			      "192.168.77.99", "fd00:77::99");
}

static int teardown(void **state)
{
	(void)state;
	netns_peer_del(stranger);
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

/*
 * Self on both families, one member (…12) with no keys yet, and cfg's
 * catch-all: replaces whatever policies the namespace held.
 */
static void apply(const struct desired_config *cfg)
{
	struct desired_peer peer = { .index = 2 };
	struct desired_view v = { .n_self = 2, .n_peers = 1 };
	struct desired_state s;
	struct xfrm_batch *b = xfrm_batch_new();
	struct why why = { "" };

	v.self[0] = addr(AF_INET, "192.168.77.11");
	v.self[1] = addr(AF_INET6, "fd00:77::11");
	v.gens[0] = (struct desired_gen){ 1, DPHASE_COMMITTED };
	v.n_gens = 1;
	peer.addrs[0] = addr(AF_INET, "192.168.77.12");
	peer.addrs[1] = addr(AF_INET6, "fd00:77::12");
	peer.n_addrs = 2;
	v.peers = &peer;
	assert_int_equal(desired_build(&v, cfg, &s, &why), 0);
	assert_int_equal(xfrm_policy_flush(sock), 0);
	assert_non_null(b);
	for (size_t i = 0; i < s.n_pols; i++)
		assert_true(xfrm_batch_policy(b, XFRM_OP_ADD, &s.pols[i]) >= 0);
	assert_int_equal(xfrm_batch_send(sock, b), 0);
	xfrm_batch_free(b);
	desired_state_free(&s);
}

static uint64_t counter(const char *name)
{
	struct xstat x;
	uint64_t v = 0;

	assert_int_equal(xstat_read(&x), 0);
	assert_int_equal(xstat_get(&x, name, &v), 0);
	return v;
}

static socklen_t sockaddr_of(int family, const char *ip, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, ip, &s4->sin_addr);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &s6->sin6_addr);
	return sizeof(*s6);
}

/* A UDP socket bound to self's ip:port, reads time out after 400 ms. */
static int bound(int family, const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(family, ip, port, &ss);
	struct timeval tv = { .tv_usec = 400000 };
	int fd = socket(family, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return fd;
}

/* The stranger sends one datagram to ip:port (bash's /dev/udp). */
static void stranger_sends(const char *ip, uint16_t port)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "ip netns exec %s bash -c 'echo vxlan >/dev/udp/%s/%u'",
		 stranger, ip, port);
	assert_int_equal(netns_run(cmd, NULL, NULL), 0);
}

/* Whether a datagram the stranger sends to self's ip:port arrives. */
static bool arrives(int family, const char *ip, uint16_t port)
{
	char buf[64];
	int fd = bound(family, ip, port);
	ssize_t n;

	stranger_sends(ip, port);
	n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	return n > 0;
}

/* Whether self (ip) may send a datagram to the stranger's to:port. */
static bool may_send(int family, const char *ip, const char *to, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(family, to, port, &ss);
	int fd = bound(family, ip, 0);
	ssize_t n = sendto(fd, "vxlan", 5, 0, (struct sockaddr *)&ss, len);
	int err = errno;

	close(fd);
	if (n < 0)
		assert_int_equal(err, EPERM); /* the block, nothing else */
	return n == 5;
}

struct fam {
	int family;
	const char *self, *stranger;
};

static const struct fam fams[] = {
	{ AF_INET, "192.168.77.11", "192.168.77.99" },
	{ AF_INET6, "fd00:77::11", "fd00:77::99" },
};

/* No underlay_cidr: 0.0.0.0/0 and ::/0; the stranger gets nothing. */
static void test_default_covers_everyone(void **state)
{
	struct desired_config cfg = { .reqid = REQID,
				      .vxlan_port = VXLAN,
				      .replay_window = 1024,
				      .catchall = true };

	(void)state;
	apply(&cfg);
	for (size_t i = 0; i < 2; i++) {
		const struct fam *f = &fams[i];
		uint64_t tmpl = counter("XfrmInTmplMismatch");
		uint64_t block = counter("XfrmOutPolBlock");

		assert_true(arrives(f->family, f->self, OTHER));
		assert_false(arrives(f->family, f->self, VXLAN));
		assert_int_equal(counter("XfrmInTmplMismatch"), tmpl + 1);
		assert_true(may_send(f->family, f->self, f->stranger, OTHER));
		assert_false(may_send(f->family, f->self, f->stranger, VXLAN));
		assert_int_equal(counter("XfrmOutPolBlock"), block + 1);
	}
}

/*
 * underlay_cidr 192.168.77.0/28 and fd00:77::/121 hold self and the
 * member but not the stranger (…99): its VXLAN is not the catch-all's.
 */
static void test_underlay_cidr_narrows(void **state)
{
	struct desired_config cfg = { .reqid = REQID,
				      .vxlan_port = VXLAN,
				      .replay_window = 1024,
				      .catchall = true,
				      .n_catchall_nets = 2 };

	(void)state;
	cfg.catchall_nets[0].net = addr(AF_INET, "192.168.77.0");
	cfg.catchall_nets[0].plen = 28;
	cfg.catchall_nets[1].net = addr(AF_INET6, "fd00:77::");
	cfg.catchall_nets[1].plen = 121; /* ::0 to ::7f */
	apply(&cfg);
	for (size_t i = 0; i < 2; i++) {
		const struct fam *f = &fams[i];

		assert_true(arrives(f->family, f->self, OTHER));
		assert_true(arrives(f->family, f->self, VXLAN));
		assert_true(may_send(f->family, f->self, f->stranger, VXLAN));
	}
	/* The stranger moved into the prefix: dropped again. */
	cfg.catchall_nets[0].plen = 24;
	cfg.catchall_nets[1].plen = 64;
	apply(&cfg);
	for (size_t i = 0; i < 2; i++) {
		const struct fam *f = &fams[i];

		assert_false(arrives(f->family, f->self, VXLAN));
		assert_false(may_send(f->family, f->self, f->stranger, VXLAN));
	}
}

/* catchall = no: the pairs alone, the stranger's cleartext passes. */
static void test_off(void **state)
{
	struct desired_config cfg = { .reqid = REQID,
				      .vxlan_port = VXLAN,
				      .replay_window = 1024 };

	(void)state;
	apply(&cfg);
	for (size_t i = 0; i < 2; i++) {
		assert_true(arrives(fams[i].family, fams[i].self, VXLAN));
		assert_true(may_send(fams[i].family, fams[i].self,
				     fams[i].stranger, VXLAN));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_covers_everyone),
		cmocka_unit_test(test_underlay_cidr_narrows),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests_name("netns_catchall", tests, setup,
					   teardown);
}
