// SPDX-License-Identifier: MIT
/* netns tests: the overlay VXLAN device and its FDB on this machine's kernel, checked with ip and bridge. */
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

#include "agent/overlay.h"
#include "tests/netns/netns_util.h"

#define SELF4 "192.168.77.11"
#define SELF6 "fd00:77::11"
#define ZERO_MAC "\"mac\":\"00:00:00:00:00:00\""

/*
 * Root, a fresh namespace, and the underlay: a veth pair (no dummy
 * driver on this machine) with an IPv4 and an IPv6 address, MTU 1500.
 */
static int setup(void **state)
{
	(void)state;
	if (netns_enter())
		return -1;
	if (netns_run("ip link add u0 mtu 1500 type veth peer name u1 && "
		      "ip addr add " SELF4 "/24 dev u0 && "
		      "ip addr add " SELF6 "/64 dev u0 nodad && "
		      "ip link set u0 up && ip link set u1 up",
		      NULL, NULL) != 0) {
		fprintf(stderr, "cannot make the veth underlay\n");
		return -1;
	}
	return 0;
}

static struct overlay_config config(const char *name, uint32_t vni, int family)
{
	struct overlay_config c = { .vni = vni,
				    .port = 4789,
				    .family = family };

	snprintf(c.ifname, sizeof(c.ifname), "%s", name);
	inet_pton(family, family == AF_INET ? SELF4 : SELF6, &c.local);
	return c;
}

static struct overlay_peer peer(int family, const char *prefix, unsigned int i)
{
	struct overlay_peer p = { .family = family };
	char ip[64];

	snprintf(ip, sizeof(ip), "%s%u", prefix, i);
	assert_int_equal(inet_pton(family, ip, &p.ip), 1);
	return p;
}

static void test_underlay_mtu(void **state)
{
	union xfrm_ip ip;
	uint32_t mtu = 0;
	struct why why = { "" };

	(void)state;
	inet_pton(AF_INET, SELF4, &ip);
	assert_int_equal(overlay_underlay_mtu(AF_INET, &ip, &mtu, &why), 0);
	assert_int_equal(mtu, 1500);
	netns_sh("ip link set u0 mtu 9000");
	assert_int_equal(overlay_underlay_mtu(AF_INET, &ip, &mtu, &why), 0);
	assert_int_equal(mtu, 9000);
	netns_sh("ip link set u0 mtu 1500");
	inet_pton(AF_INET6, SELF6, &ip);
	assert_int_equal(overlay_underlay_mtu(AF_INET6, &ip, &mtu, &why), 0);
	assert_int_equal(mtu, 1500);
	inet_pton(AF_INET, "192.168.77.12", &ip);
	assert_int_equal(overlay_underlay_mtu(AF_INET, &ip, &mtu, &why),
			 -EADDRNOTAVAIL);
	assert_non_null(strstr(why.msg, "192.168.77.12"));
}

/* The device as ip -d -j link show reports it. */
static void check_link(const char *name, uint32_t vni, const char *local,
		       uint32_t mtu)
{
	char want[96], *out;

	out = netns_out("ip -d -j link show dev %s", name);
	snprintf(want, sizeof(want), "\"mtu\":%u,", mtu);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "\"info_kind\":\"vxlan\""));
	snprintf(want, sizeof(want), "\"id\":%u,", vni);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "\"local%s\":\"%s\"",
		 strchr(local, ':') ? "6" : "", local);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "\"port\":4789"));
	assert_non_null(strstr(out, "\"learning\":true"));
	assert_non_null(strstr(out, "\"UP\""));
	assert_null(strstr(out, "\"remote"));
	/* The link's group (default), but no VXLAN group address. */
	assert_int_equal(netns_count(out, "\"group"), 1);
	assert_non_null(strstr(out, "\"group\":\"default\""));
	free(out);
}

static void test_ensure_ipv4(void **state)
{
	struct overlay_config c = config("vxs4", 42, AF_INET);
	unsigned int index;
	struct why why = { "" };

	(void)state;
	assert_int_equal(overlay_ensure(&c, &why), 0);
	check_link("vxs4", 42, SELF4, 1416);
	index = if_nametoindex("vxs4");
	assert_true(index > 0);
	/* Again: the same device, untouched. */
	assert_int_equal(overlay_ensure(&c, &why), 0);
	assert_int_equal(if_nametoindex("vxs4"), index);
	check_link("vxs4", 42, SELF4, 1416);
	/* Taken down and shrunk behind our back: fixed in place. */
	netns_sh("ip link set vxs4 down mtu 1300");
	assert_int_equal(overlay_ensure(&c, &why), 0);
	assert_int_equal(if_nametoindex("vxs4"), index);
	check_link("vxs4", 42, SELF4, 1416);
	/* The underlay grows: the MTU follows. */
	netns_sh("ip link set u0 mtu 9000");
	assert_int_equal(overlay_ensure(&c, &why), 0);
	check_link("vxs4", 42, SELF4, 8916);
	netns_sh("ip link set u0 mtu 1500");
	assert_int_equal(overlay_ensure(&c, &why), 0);
	check_link("vxs4", 42, SELF4, 1416);
	assert_int_equal(if_nametoindex("vxs4"), index);
}

static void test_ensure_ipv6_and_explicit_mtu(void **state)
{
	struct overlay_config c = config("vxs6", 43, AF_INET6);
	struct why why = { "" };

	(void)state;
	assert_int_equal(overlay_ensure(&c, &why), 0);
	check_link("vxs6", 43, SELF6, 1396);
	c = config("vxsm", 44, AF_INET);
	c.mtu = 1350;
	assert_int_equal(overlay_ensure(&c, &why), 0);
	check_link("vxsm", 44, SELF4, 1350);
	assert_int_equal(overlay_remove("vxsm"), 0);
}

/* Each refusal leaves the existing device as it was. */
static void refused(struct overlay_config *c, const char *reason)
{
	struct why why = { "" };

	assert_int_equal(overlay_ensure(c, &why), -EEXIST);
	if (!strstr(why.msg, reason))
		fail_msg("reason \"%s\" lacks \"%s\"", why, reason);
}

static void test_ensure_refuses_conflicts(void **state)
{
	struct overlay_config c;
	char *out;

	(void)state;
	netns_sh("ip link add cf0 type veth peer name cf0p");
	c = config("cf0", 50, AF_INET);
	refused(&c, "cf0 exists and is not a VXLAN device (kind \"veth\")");
	netns_sh("ip link add cf1 type vxlan id 51 dstport 4789 local " SELF4);
	c = config("cf1", 52, AF_INET);
	refused(&c, "cf1 exists with VNI 51 port 4789, not VNI 52 port 4789");
	netns_sh("ip link add cf2 type vxlan id 53 dstport 4790 local " SELF4);
	c = config("cf2", 53, AF_INET);
	refused(&c, "not VNI 53 port 4789");
	netns_sh("ip link add cf3 type vxlan id 54 dstport 4789 local "
		 "192.168.77.99");
	c = config("cf3", 54, AF_INET);
	refused(&c, "local address 192.168.77.99, not " SELF4);
	netns_sh("ip link add cf4 type vxlan id 55 dstport 4789 local " SELF4
		 " remote 192.168.77.50");
	c = config("cf4", 55, AF_INET);
	refused(&c, "cf4 exists with a remote or group address");
	/* Untouched: still a veth, still VNI 51, not brought up. */
	out = netns_out("ip -d -j link show");
	assert_non_null(strstr(out, "\"info_kind\":\"veth\""));
	assert_non_null(strstr(out, "\"id\":51,"));
	free(out);
	out = netns_out("ip -j link show up");
	assert_null(strstr(out, "\"cf1\""));
	free(out);
	/* The kernel's own reason (extack): another device has the VNI. */
	c = config("cf5", 51, AF_INET);
	refused(&c, "create VXLAN device cf5: ");
	assert_int_equal(if_nametoindex("cf5"), 0);
}

static void test_underlay_too_small(void **state)
{
	struct overlay_config c;
	struct why why = { "" };

	(void)state;
	netns_sh("ip link add s0 mtu 151 type veth peer name s1 && "
		 "ip addr add 192.168.78.11/24 dev s0");
	c = config("vxsmall", 60, AF_INET);
	inet_pton(AF_INET, "192.168.78.11", &c.local);
	assert_int_equal(overlay_ensure(&c, &why), -ERANGE);
	assert_non_null(strstr(why.msg, "underlay MTU 151"));
	netns_sh("ip link set s0 mtu 152");
	assert_int_equal(overlay_ensure(&c, &why), 0);
	check_link("vxsmall", 60, "192.168.78.11", 68);
	assert_int_equal(overlay_remove("vxsmall"), 0);
	/* IPv6 needs 1280 inside: 1383 outside is not enough. */
	netns_sh("ip link set s0 mtu 1383 && ip addr add fd00:78::11/64 dev s0 "
		 "nodad");
	c = config("vxsmall6", 61, AF_INET6);
	inet_pton(AF_INET6, "fd00:78::11", &c.local);
	assert_int_equal(overlay_ensure(&c, &why), -ERANGE);
	assert_int_equal(if_nametoindex("vxsmall6"), 0);
	netns_sh("ip link del s0");
}

/* The device's all-zeros-MAC entries, as bridge -j fdb show lists them. */
static char *fdb_of(const char *dev)
{
	return netns_out("bridge -j fdb show dev %s", dev);
}

static size_t has_dst(const char *fdb, const char *ip)
{
	char want[128];

	snprintf(want, sizeof(want), ZERO_MAC ",\"dst\":\"%s\"", ip);
	return netns_count(fdb, want);
}

static void sync_ok(const struct overlay_config *c,
		    const struct overlay_peer *p, size_t n, size_t want_added,
		    size_t want_removed)
{
	size_t added = 999, removed = 999;
	struct why why = { "" };
	int err = overlay_fdb_sync(c, p, n, &added, &removed, &why);

	if (err)
		fail_msg("fdb sync: %s (%d)", why, err);
	assert_int_equal(added, want_added);
	assert_int_equal(removed, want_removed);
}

/* Exactly the entries of prefix + first .. last - 1, once each. */
static void check_fdb(const char *dev, const char *prefix, unsigned int first,
		      unsigned int last)
{
	char *fdb = fdb_of(dev), ip[64];

	assert_int_equal(netns_count(fdb, ZERO_MAC), last - first);
	for (unsigned int i = first; i < last; i++) {
		snprintf(ip, sizeof(ip), "%s%u", prefix, i);
		if (has_dst(fdb, ip) != 1)
			fail_msg("%s: %zu entries for %s", dev,
				 has_dst(fdb, ip), ip);
	}
	free(fdb);
}

static void test_fdb_sync_ipv4(void **state)
{
	struct overlay_config c = config("vxs4", 42, AF_INET);
	struct overlay_peer p[80];
	struct why why = { "" };
	size_t i, n = 0;

	(void)state;
	assert_int_equal(overlay_ensure(&c, &why), 0);
	for (i = 0; i < 50; i++)
		p[n++] = peer(AF_INET, "192.168.77.", 100 + (unsigned int)i);
	sync_ok(&c, p, n, 50, 0);
	check_fdb("vxs4", "192.168.77.", 100, 150);
	sync_ok(&c, p, n, 0, 0);
	/* 100..109 leave, 150..164 join; one peer is listed twice. */
	n = 0;
	for (i = 110; i < 165; i++)
		p[n++] = peer(AF_INET, "192.168.77.", (unsigned int)i);
	p[n++] = p[3];
	sync_ok(&c, p, n, 15, 10);
	check_fdb("vxs4", "192.168.77.", 110, 165);
	sync_ok(&c, p, n, 0, 0);
}

/* Zero-MAC entries that are not ours go; a real MAC's entry stays. */
static void test_fdb_sync_foreign_entries(void **state)
{
	struct overlay_config c = config("vxs4", 42, AF_INET);
	struct overlay_peer p[4], v6;
	size_t added = 9, removed = 9;
	char *fdb;
	struct why why = { "" };

	(void)state;
	for (unsigned int i = 0; i < 4; i++)
		p[i] = peer(AF_INET, "192.168.77.", 110 + i);
	assert_int_equal(overlay_ensure(&c, &why), 0);
	sync_ok(&c, p, 4, 0, 51);
	netns_sh("bridge fdb append 00:00:00:00:00:00 dev vxs4 dst "
		 "192.168.77.200");
	netns_sh("bridge fdb append 00:00:00:00:00:00 dev vxs4 dst "
		 "192.168.77.111 "
		 "port 4790");
	netns_sh("bridge fdb append 00:00:00:00:00:00 dev vxs4 dst "
		 "192.168.77.112 "
		 "vni 999");
	netns_sh(
		"bridge fdb add 02:00:00:00:00:01 dev vxs4 dst 192.168.77.111");
	sync_ok(&c, p, 4, 0, 3);
	check_fdb("vxs4", "192.168.77.", 110, 114);
	fdb = fdb_of("vxs4");
	assert_int_equal(netns_count(fdb, "\"port\":4790"), 0);
	assert_int_equal(netns_count(fdb, "\"vni\":999"), 0);
	assert_int_equal(netns_count(fdb, "\"mac\":\"02:00:00:00:00:01\""), 1);
	free(fdb);
	/* A peer of the other family: refused before anything changes. */
	v6 = peer(AF_INET6, "fd00:77::", 5);
	assert_int_equal(overlay_fdb_sync(&c, &v6, 1, &added, &removed, &why),
			 -EINVAL);
	assert_non_null(strstr(why.msg, "peer 0"));
	assert_int_equal(added + removed, 0);
	check_fdb("vxs4", "192.168.77.", 110, 114);
	/* No peers: all of ours go, the real MAC's entry stays. */
	sync_ok(&c, NULL, 0, 0, 4);
	fdb = fdb_of("vxs4");
	assert_int_equal(netns_count(fdb, ZERO_MAC), 0);
	assert_int_equal(netns_count(fdb, "\"mac\":\"02:00:00:00:00:01\""), 1);
	free(fdb);
}

static void test_fdb_sync_ipv6(void **state)
{
	struct overlay_config c = config("vxs6", 43, AF_INET6);
	struct overlay_peer p[8];
	struct why why = { "" };

	(void)state;
	assert_int_equal(overlay_ensure(&c, &why), 0);
	for (unsigned int i = 0; i < 5; i++)
		p[i] = peer(AF_INET6, "fd00:77::", 100 + i);
	sync_ok(&c, p, 5, 5, 0);
	check_fdb("vxs6", "fd00:77::", 100, 105);
	for (unsigned int i = 0; i < 5; i++)
		p[i] = peer(AF_INET6, "fd00:77::", 102 + i);
	sync_ok(&c, p, 5, 2, 2);
	check_fdb("vxs6", "fd00:77::", 102, 107);
}

static void test_fdb_sync_no_device(void **state)
{
	struct overlay_config c = config("absent0", 70, AF_INET);
	size_t added = 9, removed = 9;
	struct why why = { "" };

	(void)state;
	assert_int_equal(overlay_fdb_sync(&c, NULL, 0, &added, &removed, &why),
			 -ENODEV);
	assert_non_null(strstr(why.msg, "absent0"));
	assert_int_equal(added + removed, 0);
	c = config("cf0", 70, AF_INET);
	assert_int_equal(overlay_fdb_sync(&c, NULL, 0, NULL, NULL, &why),
			 -EMEDIUMTYPE);
}

static void test_remove(void **state)
{
	char *out;

	(void)state;
	assert_true(if_nametoindex("vxs4") > 0);
	assert_int_equal(overlay_remove("vxs4"), 0);
	assert_int_equal(if_nametoindex("vxs4"), 0);
	assert_int_equal(overlay_remove("vxs4"), -ENODEV);
	assert_int_equal(overlay_remove("vxs6"), 0);
	/* Not a VXLAN device: left alone. */
	assert_int_equal(overlay_remove("cf0"), -EMEDIUMTYPE);
	assert_true(if_nametoindex("cf0") > 0);
	out = netns_out("ip -j link show");
	assert_null(strstr(out, "\"vxs"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_underlay_mtu),
		cmocka_unit_test(test_ensure_ipv4),
		cmocka_unit_test(test_ensure_ipv6_and_explicit_mtu),
		cmocka_unit_test(test_ensure_refuses_conflicts),
		cmocka_unit_test(test_underlay_too_small),
		cmocka_unit_test(test_fdb_sync_ipv4),
		cmocka_unit_test(test_fdb_sync_foreign_entries),
		cmocka_unit_test(test_fdb_sync_ipv6),
		cmocka_unit_test(test_fdb_sync_no_device),
		cmocka_unit_test(test_remove),
	};

	return cmocka_run_group_tests_name("netns_overlay", tests, setup, NULL);
}
