// SPDX-License-Identifier: MIT
/* netns tests: the agent's VXLAN devices on a dual-stack underlay, the second made, kept, adopted or refused, and two of them bridged without a loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/overlay_set.h"
#include "tests/netns/netns_util.h"

#define SELF4 "192.168.77.11"
#define SELF6 "fd00:77::11"
#define PEER6 "fd00:77::12"   /* n2: an IPv6 pair */
#define PEER4 "192.168.77.13" /* n3: an IPv4 pair */
#define ZERO_MAC "\"mac\":\"00:00:00:00:00:00\""

static char peer_ns[64]; /* holds PEER6 and PEER4 */

/* Root, a fresh namespace (self) and the peers' namespace, a veth between. */
static int setup(void **state)
{
	(void)state;
	if (netns_enter())
		return -1;
	return netns_peer_add(peer_ns, sizeof(peer_ns), "ovset", "u0", SELF4,
			      SELF6, "u1", PEER4, PEER6);
}

static int teardown(void **state)
{
	(void)state;
	netns_peer_del(peer_ns);
	return 0;
}

/* ---- the view: self (index 1: its order decides) and two peers ---- */

struct fixture {
	struct desired_view v;
	struct desired_peer peers[2];
};

static struct desired_addr addr(const char *text)
{
	struct desired_addr a = { .family = strchr(text, ':') ? AF_INET6
							      : AF_INET };

	assert_int_equal(inet_pton(a.family, text, &a.ip), 1);
	return a;
}

/* n2 (PEER6 and an IPv4 address: the pair is IPv6, self's order) and, if
 * with_n3, n3 (PEER4 only). */
static void view(struct fixture *f, bool with_n3)
{
	memset(f, 0, sizeof(*f));
	f->v.self_index = 1;
	f->v.self[0] = addr(SELF6);
	f->v.self[1] = addr(SELF4);
	f->v.n_self = 2;
	f->v.peers = f->peers;
	f->peers[0].index = 2;
	f->peers[0].addrs[0] = addr(PEER6);
	f->peers[0].addrs[1] = addr("192.168.77.12");
	f->peers[0].n_addrs = 2;
	f->peers[1].index = 3;
	f->peers[1].addrs[0] = addr(PEER4);
	f->peers[1].n_addrs = 1;
	f->v.n_peers = with_n3 ? 2 : 1;
}

static const char *name_of(const void *arg, size_t i)
{
	(void)arg;
	return i ? "n3" : "n2";
}

static void open_set(struct overlay_set *s, const struct fixture *f)
{
	struct overlay_config c = { .vni = 4242,
				    .port = 4789,
				    .family = AF_INET6,
				    .local = f->v.self[0].ip };
	struct why why = { "" };

	snprintf(c.ifname, sizeof(c.ifname), "vxsec0");
	assert_int_equal(overlay_set_init(s, &c, f->v.self, f->v.n_self, &why),
			 0);
	if (overlay_set_open(s, &why))
		fail_msg("open: %s", why.msg);
}

/* The device's zero-MAC entries: exactly one, to dst (NULL: none). */
static void check_fdb(const char *dev, const char *dst)
{
	char *fdb = netns_out("bridge -j fdb show dev %s", dev), want[96];

	assert_int_equal(netns_count(fdb, ZERO_MAC), dst ? 1 : 0);
	if (dst) {
		snprintf(want, sizeof(want), "\"dst\":\"%s\"", dst);
		assert_int_equal(netns_count(fdb, want), 1);
	}
	free(fdb);
}

static void check_link(const char *dev, const char *local, uint32_t mtu)
{
	char *out = netns_out("ip -d -j link show dev %s", dev), want[96];

	snprintf(want, sizeof(want), "\"mtu\":%u,", mtu);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "\"info_kind\":\"vxlan\""));
	assert_non_null(strstr(out, "\"id\":4242,"));
	assert_non_null(strstr(out, "\"port\":4789"));
	snprintf(want, sizeof(want), "\"local%s\":\"%s\"",
		 strchr(local, ':') ? "6" : "", local);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "\"UP\""));
	free(out);
}

/*
 * vxsec0 over IPv6; vxsec0v4 appears with the first IPv4 pair, with the
 * IPv4 MTU and exactly that peer in its FDB, stays (emptied) when the
 * pair goes, and is adopted, its stale entries dropped, after a restart.
 */
static void test_second_made_kept_adopted(void **state)
{
	struct overlay_set s;
	struct fixture f;
	unsigned int index;

	(void)state;
	view(&f, false);
	open_set(&s, &f);
	check_link("vxsec0", SELF6, 1396);
	overlay_set_sync(&s, &f.v, name_of, NULL);
	check_fdb("vxsec0", PEER6);
	assert_int_equal(if_nametoindex("vxsec0v4"), 0);

	view(&f, true);
	overlay_set_sync(&s, &f.v, name_of, NULL);
	check_link("vxsec0v4", SELF4, 1416);
	check_fdb("vxsec0v4", PEER4);
	check_fdb("vxsec0", PEER6);
	assert_int_equal(s.dev[1].mtu, 1416);
	index = if_nametoindex("vxsec0v4");

	view(&f, false);
	overlay_set_sync(&s, &f.v, name_of, NULL);
	assert_int_equal(if_nametoindex("vxsec0v4"), index);
	check_fdb("vxsec0v4", NULL);
	check_fdb("vxsec0", PEER6);

	/* A restart: vxsec0v4 is adopted at once, its stale entry goes. */
	netns_sh("bridge fdb append 00:00:00:00:00:00 dev vxsec0v4 dst "
		 "192.168.77.99");
	open_set(&s, &f);
	assert_true(s.dev[1].made);
	overlay_set_sync(&s, &f.v, name_of, NULL);
	check_fdb("vxsec0v4", NULL);
	assert_int_equal(if_nametoindex("vxsec0v4"), index);
	assert_int_equal(overlay_remove("vxsec0v4"), 0);
}

/* The name is taken by something else: refused, left alone, its pairs
 * counted as left out; the first device is synced all the same. */
static void test_second_refused(void **state)
{
	struct overlay_set s;
	struct fixture f;
	char *out;

	(void)state;
	netns_sh("ip link add vxsec0v4 type veth peer name x1");
	view(&f, true);
	open_set(&s, &f);
	overlay_set_sync(&s, &f.v, name_of, NULL);
	assert_false(s.dev[1].made);
	assert_int_equal(s.dev[1].n_left_out, 1);
	assert_int_equal(s.dev[1].err, -EEXIST);
	assert_non_null(strstr(s.dev[1].why.msg, "not a VXLAN device"));
	check_fdb("vxsec0", PEER6);
	out = netns_out("ip -d -j link show dev vxsec0v4");
	assert_non_null(strstr(out, "\"info_kind\":\"veth\""));
	free(out);
	netns_sh("ip link del vxsec0v4");
}

/* The device's received packets, from ip -s (sysfs is the host's). */
static unsigned long long counter(const char *ns, const char *dev)
{
	char *out = netns_out("ip %s%s -s -j link show dev %s", ns ? "-n " : "",
			      ns ? ns : "", dev);
	const char *rx = strstr(out, "\"rx\":{");
	unsigned long long bytes, n;

	if (!rx || sscanf(rx, "\"rx\":{\"bytes\":%llu,\"packets\":%llu", &bytes,
			  &n) != 2)
		fail_msg("no rx packets for %s in: %s", dev, out);
	free(out);
	return n;
}

/* n2 floods 20 broadcast frames to self over IPv6; how many of them
 * self's bridge sends on to n3 over IPv4, and how many reached the bridge. */
static void flood(unsigned long long *crossed, unsigned long long *arrived)
{
	unsigned long long c0 = counter(peer_ns, "pv4");
	unsigned long long a0 = counter(NULL, "br0");

	netns_sh("ip netns exec %s ping -b -c 20 -i 0.05 -W 1 10.99.0.255 "
		 ">/dev/null 2>&1 || true",
		 peer_ns);
	*crossed = counter(peer_ns, "pv4") - c0;
	*arrived = counter(NULL, "br0") - a0;
	printf("# %llu frames flooded in over IPv6, %llu out over IPv4\n",
	       *arrived, *crossed);
}

/*
 * The two devices as ports of one bridge: a frame flooded in from a peer
 * on one goes out to the peers of the other, unless both ports are
 * isolated (docs/operations.md). The peers' namespace has a VXLAN device
 * per family, pv6 sending to self over IPv6, pv4 receiving from self
 * over IPv4.
 */
static void test_bridge_isolated(void **state)
{
	unsigned long long crossed, arrived;
	struct overlay_set s;
	struct fixture f;
	char *out;

	(void)state;
	view(&f, true);
	open_set(&s, &f);
	overlay_set_sync(&s, &f.v, name_of, NULL);
	/* No IPv6 on self's bridge and ports: only the peers' frames move
	 * (no neighbour discovery or MLD of their own). */
	netns_sh(
		"ip link add br0 type bridge && "
		"for d in br0 vxsec0 vxsec0v4; do "
		"sysctl -qw net.ipv6.conf.$d.disable_ipv6=1 || exit 1; done && "
		"ip link set br0 up && "
		"ip link set vxsec0 master br0 && ip link set vxsec0v4 master "
		"br0");
	netns_sh("ip -n %1$s link add pv6 type vxlan id 4242 dstport 4789 "
		 "local " PEER6 " remote " SELF6 " && "
		 "ip -n %1$s link add pv4 type vxlan id 4242 dstport 4789 "
		 "local " PEER4
		 " && ip -n %1$s addr add 10.99.0.2/24 dev pv6 && "
		 "ip -n %1$s link set pv6 up && ip -n %1$s link set pv4 up && "
		 "ip netns exec %1$s sysctl -qw "
		 "net.ipv4.icmp_echo_ignore_broadcasts=0",
		 peer_ns);
	flood(&crossed, &arrived);
	if (arrived < 10 || crossed < 10)
		fail_msg("not isolated: %llu frames reached the bridge, %llu "
			 "crossed to the IPv4 peer (want both >= 10)",
			 arrived, crossed);
	netns_sh("bridge link set dev vxsec0 isolated on && "
		 "bridge link set dev vxsec0v4 isolated on");
	out = netns_out("bridge -d -j link show");
	assert_int_equal(netns_count(out, "\"isolated\":true"), 2);
	free(out);
	flood(&crossed, &arrived);
	if (arrived < 10 || crossed != 0)
		fail_msg("isolated: %llu frames reached the bridge, %llu "
			 "crossed to the IPv4 peer (want >= 10 and 0)",
			 arrived, crossed);
	netns_sh("ip link del br0 && ip -n %1$s link del pv6 && "
		 "ip -n %1$s link del pv4",
		 peer_ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_second_made_kept_adopted),
		cmocka_unit_test(test_second_refused),
		cmocka_unit_test(test_bridge_isolated),
	};

	return cmocka_run_group_tests_name("netns_overlay_set", tests, setup,
					   teardown);
}
