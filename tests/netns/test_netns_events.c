// SPDX-License-Identifier: MIT
/* netns tests: acquire events and event loss (ENOBUFS) on this machine's kernel. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/netns/netns_util.h"
#include "xfrm/xfrm.h"

#define REQID 0x3456u

static struct xfrm_sock *sock;

static int setup(void **state)
{
	(void)state;
	if (netns_test_setup(&sock))
		return -1;
	/* Somewhere for 10.99.0.0/16 to route to, inside this namespace. */
	if (netns_run("ip link set lo up && ip link add v0 type veth peer name "
		      "v1 && "
		      "ip addr add 10.99.255.254/16 dev v0 && ip link set v0 "
		      "up && "
		      "ip link set v1 up",
		      NULL, NULL)) {
		fprintf(stderr, "cannot set up the veth pair\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xfrm_sock_close(sock);
	return 0;
}

/* Out policy: VXLAN to 10.99.0.0/16 needs an ESP SA, which nobody has. */
static void add_policy(void)
{
	struct xfrm_policy p;
	int family;

	memset(&p, 0, sizeof(p));
	assert_int_equal(
		xfrm_ip_parse("10.99.255.254", &p.sel.family, &p.sel.src), 0);
	assert_int_equal(xfrm_ip_parse("10.99.0.0", &family, &p.sel.dst), 0);
	p.sel.src_plen = 32;
	p.sel.dst_plen = 16;
	p.sel.proto = IPPROTO_UDP;
	p.sel.dport = 4789;
	p.dir = XFRM_OUT;
	p.has_tmpl = true;
	p.tmpl_reqid = REQID;
	assert_int_equal(xfrm_policy_apply(sock, XFRM_OP_ADD, &p), 0);
}

/* One UDP datagram to each of n addresses 10.99.x.y: n acquires. */
static void send_to_many(unsigned int first, unsigned int n)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(4789) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	for (unsigned int i = first; i < first + n; i++) {
		to.sin_addr.s_addr = htonl(0x0a630000u | (i & 0xffff));
		/* Refused (no SA yet): the kernel asks key managers instead. */
		(void)sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
	}
	close(fd);
}

struct count {
	int acquire, lost, other;
	struct xfrm_event last;
};

static void count_cb(const struct xfrm_event *ev, void *arg)
{
	struct count *c = arg;

	if (ev->type == XFRM_EVENT_ACQUIRE) {
		c->acquire++;
		c->last = *ev;
	} else if (ev->type == XFRM_EVENT_LOST) {
		c->lost++;
	} else {
		c->other++;
	}
}

static void drain(struct xfrm_sock *ev, struct count *c, int want)
{
	struct pollfd pfd = { .fd = xfrm_sock_fd(ev), .events = POLLIN };
	double end = netns_now() + 5;

	while (c->acquire + c->lost < want && netns_now() < end)
		if (poll(&pfd, 1, 100) > 0)
			assert_true(xfrm_events_read(ev, count_cb, c) >= 0);
}

static void test_acquire_event(void **state)
{
	struct xfrm_sock *ev = xfrm_sock_open(XFRM_EV_ACQUIRE | XFRM_EV_EXPIRE);
	struct count c = { 0 };
	char ip[INET6_ADDRSTRLEN];

	(void)state;
	assert_non_null(ev);
	add_policy();
	send_to_many(0x0102, 1);
	drain(ev, &c, 1);
	assert_int_equal(c.acquire, 1);
	assert_int_equal(c.lost, 0);
	assert_int_equal(c.last.reqid, REQID);
	assert_int_equal(c.last.family, AF_INET);
	assert_string_equal(xfrm_ip_fmt(AF_INET, &c.last.dst, ip, sizeof(ip)),
			    "10.99.1.2");
	assert_int_equal(c.last.sel.dport, 4789);
	assert_int_equal(c.last.sel.proto, IPPROTO_UDP);
	/* Nothing else pending: a read returns no event, no error. */
	assert_int_equal(xfrm_events_read(ev, count_cb, &c), 0);
	xfrm_sock_close(ev);
}

/* Events beyond the receive buffer are dropped: reported, never silent. */
static void test_lost_events_reported(void **state)
{
	struct xfrm_sock *ev = xfrm_sock_open(XFRM_EV_ACQUIRE);
	struct count c = { 0 };
	int small = 1024;

	(void)state;
	assert_non_null(ev);
	assert_int_equal(setsockopt(xfrm_sock_fd(ev), SOL_SOCKET,
				    SO_RCVBUFFORCE, &small, sizeof(small)),
			 0);
	send_to_many(0x2000, 2000);
	drain(ev, &c, 2000);
	assert_true(c.lost >= 1);
	assert_true(c.acquire < 2000);
	xfrm_sock_close(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acquire_event),
		cmocka_unit_test(test_lost_events_reported),
	};

	return cmocka_run_group_tests_name("netns_events", tests, setup,
					   teardown);
}
