// SPDX-License-Identifier: MIT
/* Unit tests: the agent's SA lifetimes, from its settings through the desired state to the netlink message the kernel gets. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent/agentd.h"
#include "agent/desired.h"
#include "xfrm/xfrm_int.h"

static int set_lifetime(struct agent_config *c, const char *val,
			struct why *why)
{
	return agent_config_set(c, "sa_lifetime", val, why);
}

/* One peer (index 2) with keys of generation 1, committed. */
static int build(const struct desired_config *dc, struct desired_state *s)
{
	static struct desired_peer p;
	struct desired_view v;
	struct why why = { "" };

	memset(&p, 0, sizeof(p));
	p.index = 2;
	p.addrs[0].family = AF_INET;
	inet_pton(AF_INET, "192.168.77.12", &p.addrs[0].ip.v4);
	p.n_addrs = 1;
	p.keys[0] = (struct desired_keys){ .g = 1,
					   .spi_out = 0x02000001,
					   .spi_in = 0x02000002 };
	memset(p.keys[0].key_out, 0x11, DESIRED_KEY_LEN);
	memset(p.keys[0].key_in, 0x22, DESIRED_KEY_LEN);
	p.n_keys = 1;
	memset(&v, 0, sizeof(v));
	v.self[0].family = AF_INET;
	inet_pton(AF_INET, "192.168.77.11", &v.self[0].ip.v4);
	v.n_self = 1;
	v.gens[0] = (struct desired_gen){ 1, DPHASE_COMMITTED };
	v.n_gens = 1;
	v.peers = &p;
	v.n_peers = 1;
	return desired_build(&v, dc, s, &why);
}

/* The lifetime the kernel would get for sa, as XFRM_MSG_NEWSA carries it. */
static struct xfrm_lifetime_cfg wire_lft(const struct xfrm_sa *sa)
{
	static uint8_t buf[1024];
	const struct xfrm_usersa_info *info;
	struct xfrm_lifetime_cfg lft;

	assert_true(xfrm_build_req(buf, sizeof(buf), XFRM_REQ_SA_ADD, sa, NULL,
				   1, NLM_F_ACK) > 0);
	info = mnl_nlmsg_get_payload((struct nlmsghdr *)buf);
	lft = info->lft;
	memset(buf, 0, sizeof(buf)); /* it held a key */
	return lft;
}

/*
 * The default can never end an SA: no hard limit (bytes, packets, time)
 * reaches the kernel, so a leader away for days leaves every pair
 * working; the soft byte limit (2^40) asks for an early rotation, and no
 * soft time limit fires on an idle cluster.
 */
static void test_default_has_no_hard_limit(void **state)
{
	struct agent_config c;
	struct desired_state s;

	(void)state;
	agent_config_defaults(&c);
	assert_true(c.dc.lft.soft_bytes == 1ULL << 40);
	assert_true(c.dc.lft.hard_bytes == 0);
	assert_true(c.dc.lft.soft_packets == 0);
	assert_true(c.dc.lft.hard_packets == 0);
	assert_true(c.dc.lft.soft_secs == 0);
	assert_true(c.dc.lft.hard_secs == 0);

	assert_int_equal(build(&c.dc, &s), 0);
	assert_int_equal(s.n_sas, 2); /* out and in */
	for (size_t i = 0; i < s.n_sas; i++) {
		struct xfrm_lifetime_cfg lft = wire_lft(&s.sas[i]);

		assert_true(lft.soft_byte_limit == 1ULL << 40);
		assert_true(lft.hard_byte_limit == XFRM_INF);
		assert_true(lft.soft_packet_limit == XFRM_INF);
		assert_true(lft.hard_packet_limit == XFRM_INF);
		assert_true(lft.soft_add_expires_seconds == 0);
		assert_true(lft.hard_add_expires_seconds == 0);
		assert_true(lft.soft_use_expires_seconds == 0);
		assert_true(lft.hard_use_expires_seconds == 0);
	}
	desired_state_free(&s);
}

/* sa_lifetime opts in to a hard time limit, soft at 90 %; bytes stay soft. */
static void test_sa_lifetime_opt_in(void **state)
{
	struct agent_config c;
	struct desired_state s;
	struct why why = { "" };

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(set_lifetime(&c, "1h", &why), 0);
	assert_true(c.dc.lft.hard_secs == 3600);
	assert_true(c.dc.lft.soft_secs == 3240);
	assert_int_equal(build(&c.dc, &s), 0);
	for (size_t i = 0; i < s.n_sas; i++) {
		struct xfrm_lifetime_cfg lft = wire_lft(&s.sas[i]);

		assert_true(lft.hard_add_expires_seconds == 3600);
		assert_true(lft.soft_add_expires_seconds == 3240);
		assert_true(lft.soft_byte_limit == 1ULL << 40);
		assert_true(lft.hard_byte_limit == XFRM_INF);
	}
	desired_state_free(&s);
}

static void test_sa_lifetime_refusals(void **state)
{
	struct agent_config c;
	struct why why = { "" };

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(set_lifetime(&c, "5s", &why), -EINVAL);
	assert_non_null(strstr(why.msg, "sa_lifetime"));
	assert_int_equal(set_lifetime(&c, "soon", &why), -EINVAL);
	/* A refused value changes nothing. */
	assert_true(c.dc.lft.hard_secs == 0);
	assert_true(c.dc.lft.soft_secs == 0);
	/* "none", the default, written out. */
	assert_int_equal(set_lifetime(&c, "20s", &why), 0);
	assert_int_equal(set_lifetime(&c, "none", &why), 0);
	assert_true(c.dc.lft.hard_secs == 0);
	assert_true(c.dc.lft.soft_secs == 0);
	assert_true(c.dc.lft.soft_bytes == 1ULL << 40);
}

/* node_id: the rule of proto/node_id.h, said in the agent's words; a
 * refused value changes nothing. */
static void test_node_id(void **state)
{
	struct agent_config c;
	char id[66];
	struct why why = { "" };

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(agent_config_set(&c, "node_id", "node-1", &why), 0);
	assert_string_equal(c.node_id, "node-1");
	assert_int_equal(agent_config_set(&c, "node_id", "node 2", &why),
			 -EINVAL);
	assert_string_equal(why.msg,
			    "node_id: \"node 2\" is not 1-64 characters "
			    "of [A-Za-z0-9._-]");
	assert_int_equal(agent_config_set(&c, "node_id", "", &why), -EINVAL);
	assert_string_equal(c.node_id, "node-1");
	memset(id, 'x', 64);
	id[64] = '\0';
	assert_int_equal(agent_config_set(&c, "node_id", id, &why), 0);
	assert_string_equal(c.node_id, id);
	id[64] = 'y';
	id[65] = '\0';
	assert_int_equal(agent_config_set(&c, "node_id", id, &why), -EINVAL);
	assert_non_null(strstr(why.msg, "is not 1-64 characters"));
	id[64] = '\0';
	assert_string_equal(c.node_id, id);
}

/* static_key_lifetime: 24 hours unless set; at least a minute. */
static void test_static_key_lifetime(void **state)
{
	struct agent_config c;
	struct why why = { "" };

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(c.static_key_lifetime_ms, 24ull * 3600 * 1000);
	assert_int_equal(
		agent_config_set(&c, "static_key_lifetime", "6h", &why), 0);
	assert_int_equal(c.static_key_lifetime_ms, 6ull * 3600 * 1000);
	assert_int_equal(
		agent_config_set(&c, "static_key_lifetime", "10s", &why),
		-EINVAL);
	assert_non_null(strstr(why.msg, "static_key_lifetime"));
	assert_int_equal(c.static_key_lifetime_ms, 6ull * 3600 * 1000);
}

/* The port of the i-th leader instance, and whether it is IPv6. */
static int leader_port(const struct agent_config *c, size_t i, bool *six)
{
	const struct sockaddr_in *s4 = (const void *)&c->leaders[i];
	const struct sockaddr_in6 *s6 = (const void *)&c->leaders[i];

	*six = c->leaders[i].ss_family == AF_INET6;
	return ntohs(*six ? s6->sin6_port : s4->sin_port);
}

/*
 * leader: one ADDRESS:PORT as ever, or a list of up to 8 instances
 * (IPv6 in brackets, spaces after commas allowed), tried in that order; a
 * value set again replaces the list; a bad one changes nothing and says
 * which entry is wrong.
 */
static void test_leader_list(void **state)
{
	static const char *const bad[][2] = {
		{ "10.0.0.1:7120,", "an empty or overlong address" },
		{ "10.0.0.1:7120,,10.0.0.2:7120", "an empty or overlong" },
		{ "10.0.0.1:7120,10.0.0.2",
		  "\"10.0.0.2\" is not ADDRESS:PORT" },
		{ "10.0.0.1:7120,host-b:7120", "\"host-b:7120\" is not" },
		{ "10.0.0.1:7120, 10.0.0.1:7120",
		  "10.0.0.1:7120 is listed twice" },
		{ "1.0.0.1:1,1.0.0.2:1,1.0.0.3:1,1.0.0.4:1,1.0.0.5:1,1.0.0.6:1,"
		  "1.0.0.7:1,1.0.0.8:1,1.0.0.9:1",
		  "more than 8 addresses" },
	};
	struct agent_config c;
	struct why why = { "" };
	bool six;

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(agent_config_check(&c, &why), -EINVAL);
	assert_non_null(strstr(why.msg, "no leader"));
	assert_int_equal(agent_config_set(&c, "leader", "10.0.0.1:7120", &why),
			 0);
	assert_int_equal(c.n_leaders, 1);
	assert_int_equal(leader_port(&c, 0, &six), 7120);
	assert_false(six);
	assert_int_equal(agent_config_set(&c, "leader",
					  "10.0.0.1:7120, [fd00::2]:7121 ,"
					  "10.0.0.3:7122",
					  &why),
			 0);
	assert_int_equal(c.n_leaders, 3);
	assert_int_equal(leader_port(&c, 1, &six), 7121);
	assert_true(six);
	assert_int_equal(leader_port(&c, 2, &six), 7122);
	assert_false(six);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why.msg[0] = '\0';
		assert_int_equal(
			agent_config_set(&c, "leader", bad[i][0], &why),
			-EINVAL);
		if (!strstr(why.msg, bad[i][1]))
			fail_msg("%s: %s", bad[i][0], why.msg);
		assert_int_equal(c.n_leaders, 3); /* as it was */
	}
	/* Eight is the most; set again, the list is replaced. */
	assert_int_equal(agent_config_set(&c, "leader",
					  "1.0.0.1:1,1.0.0.2:1,1.0.0.3:1,"
					  "1.0.0.4:1,1.0.0.5:1,1.0.0.6:1,"
					  "1.0.0.7:1,1.0.0.8:1",
					  &why),
			 0);
	assert_int_equal(c.n_leaders, 8);
	assert_int_equal(agent_config_set(&c, "leader", "[::1]:9", &why), 0);
	assert_int_equal(c.n_leaders, 1);
	assert_int_equal(leader_port(&c, 0, &six), 9);
	assert_true(six);
}

/*
 * The catch-all is on by default over each family of the node's
 * addresses; underlay_cidr narrows a family (a list, replaced when given
 * again); catchall = no turns it off; contradictions and bad prefixes are
 * refused with what is wrong.
 */
static void test_catchall(void **state)
{
	static const char *const bad[][2] = {
		{ "10.0.0.0", "is not a prefix such as" },
		{ "10.0.0.0/33", "\"10.0.0.0/33\" is not a prefix" },
		{ "fd00::/129", "is not a prefix" },
		{ "10.0.0.0/16,", "an empty or overlong prefix" },
		{ "10.0.1.0/16", "\"10.0.1.0/16\" has bits set past" },
		{ "fd00::1/64", "has bits set past" },
		{ "10.0.0.0/16, 10.0.0.0/16", "10.0.0.0/16 is listed twice" },
		{ "1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,6.0.0.0/8,"
		  "7.0.0.0/8,8.0.0.0/8,9.0.0.0/8",
		  "more than 8 prefixes" },
	};
	struct agent_config c;
	struct why why = { "" };
	char text[512];

	(void)state;
	agent_config_defaults(&c);
	assert_true(c.dc.catchall);
	assert_int_equal(agent_config_set(&c, "leader", "10.0.0.1:7120", &why),
			 0);
	assert_int_equal(agent_config_set(&c, "node_id", "n1", &why), 0);
	assert_int_equal(agent_config_set(&c, "address", "10.0.0.2", &why), 0);
	assert_int_equal(agent_config_check(&c, &why), 0);
	assert_string_equal(agent_catchall_text(&c, text, sizeof(text)),
			    "0.0.0.0/0");
	assert_int_equal(agent_config_set(&c, "address", "fd00::2", &why), 0);
	assert_string_equal(agent_catchall_text(&c, text, sizeof(text)),
			    "0.0.0.0/0, ::/0");
	assert_int_equal(agent_config_set(&c, "address", "10.0.0.2", &why),
			 -EINVAL);
	assert_non_null(strstr(why.msg, "10.0.0.2 is listed twice"));

	assert_int_equal(agent_config_set(&c, "underlay_cidr",
					  "10.0.0.0/24, 10.1.0.0/16", &why),
			 0);
	assert_int_equal(c.dc.n_catchall_nets, 2);
	assert_int_equal(agent_config_check(&c, &why), 0);
	assert_string_equal(agent_catchall_text(&c, text, sizeof(text)),
			    "10.0.0.0/24, 10.1.0.0/16, ::/0");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why.msg[0] = '\0';
		assert_int_equal(
			agent_config_set(&c, "underlay_cidr", bad[i][0], &why),
			-EINVAL);
		if (!strstr(why.msg, bad[i][1]))
			fail_msg("%s: %s", bad[i][0], why.msg);
		assert_int_equal(c.dc.n_catchall_nets, 2); /* as it was */
	}
	/* Given again: replaced. */
	assert_int_equal(
		agent_config_set(&c, "underlay_cidr", "fd00::/64", &why), 0);
	assert_string_equal(agent_catchall_text(&c, text, sizeof(text)),
			    "0.0.0.0/0, fd00::/64");

	/* A prefix of a family the node has no address of. */
	agent_config_defaults(&c);
	assert_int_equal(agent_config_set(&c, "leader", "10.0.0.1:7120", &why),
			 0);
	assert_int_equal(agent_config_set(&c, "node_id", "n1", &why), 0);
	assert_int_equal(agent_config_set(&c, "address", "10.0.0.2", &why), 0);
	assert_int_equal(
		agent_config_set(&c, "underlay_cidr", "fd00::/64", &why), 0);
	assert_int_equal(agent_config_check(&c, &why), -EINVAL);
	assert_string_equal(why.msg, "underlay_cidr: an IPv6 prefix but no "
				     "IPv6 address");

	/* Off, and off with prefixes: a contradiction. */
	assert_int_equal(agent_config_set(&c, "catchall", "no", &why), 0);
	assert_int_equal(agent_config_check(&c, &why), -EINVAL);
	assert_non_null(strstr(why.msg, "underlay_cidr is set but catchall"));
	agent_config_defaults(&c);
	assert_int_equal(agent_config_set(&c, "leader", "10.0.0.1:7120", &why),
			 0);
	assert_int_equal(agent_config_set(&c, "node_id", "n1", &why), 0);
	assert_int_equal(agent_config_set(&c, "address", "10.0.0.2", &why), 0);
	assert_int_equal(agent_config_set(&c, "catchall", "no", &why), 0);
	assert_int_equal(agent_config_check(&c, &why), 0);
	assert_string_equal(agent_catchall_text(&c, text, sizeof(text)), "");
	assert_int_equal(agent_config_set(&c, "catchall", "maybe", &why),
			 -EINVAL);
}

/* nat = auto by default; yes with or without a public address; the port
 * and the keepalive checked; contradictions refused with the reason. */
static void test_nat(void **state)
{
	static const char *const bad[][3] = {
		{ "nat", "maybe", "is not auto, yes or no" },
		{ "nat_public_address", "10.0.0", "is not an IPv4 or IPv6" },
		{ "nat_port", "0", "is not a number from 1 to 65535" },
		{ "nat_port", "65536", "is not a number from 1 to 65535" },
		{ "nat_keepalive", "500ms", "at least 1000 ms" },
		{ "nat_keepalive", "2h", "at most 1h" },
	};
	struct agent_config c;
	struct why why = { "" };

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(c.nat, WIRE_NAT_AUTO);
	assert_int_equal(c.dc.nat_port, 4500);
	assert_int_equal(c.nat_keepalive_ms, 20000);
	assert_int_equal(agent_config_set(&c, "leader", "10.0.0.1:7120", &why),
			 0);
	assert_int_equal(agent_config_set(&c, "node_id", "n1", &why), 0);
	assert_int_equal(agent_config_set(&c, "address", "10.0.0.2", &why), 0);
	assert_int_equal(agent_config_set(&c, "nat", "no", &why), 0);
	assert_int_equal(c.nat, WIRE_NAT_NEVER);
	assert_int_equal(agent_config_set(&c, "nat_port", "4501", &why), 0);
	assert_int_equal(c.dc.nat_port, 4501);
	assert_int_equal(agent_config_set(&c, "nat_keepalive", "15s", &why), 0);
	assert_int_equal(c.nat_keepalive_ms, 15000);
	assert_int_equal(agent_config_check(&c, &why), 0);
	/* a public address only with nat = yes */
	assert_int_equal(
		agent_config_set(&c, "nat_public_address", "203.0.113.9", &why),
		0);
	assert_int_equal(agent_config_check(&c, &why), -EINVAL);
	assert_non_null(strstr(why.msg, "nat is not yes"));
	assert_int_equal(agent_config_set(&c, "nat", "yes", &why), 0);
	assert_int_equal(c.nat, WIRE_NAT_FORCE);
	assert_int_equal(agent_config_check(&c, &why), 0);
	/* the ESP-in-UDP port is not the VXLAN port */
	assert_int_equal(agent_config_set(&c, "nat_port", "4789", &why), 0);
	assert_int_equal(agent_config_check(&c, &why), -EINVAL);
	assert_non_null(strstr(why.msg, "nat_port and vxlan_port"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why.msg[0] = '\0';
		assert_int_equal(
			agent_config_set(&c, bad[i][0], bad[i][1], &why),
			-EINVAL);
		if (!strstr(why.msg, bad[i][2]))
			fail_msg("%s = %s: %s", bad[i][0], bad[i][1], why.msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_has_no_hard_limit),
		cmocka_unit_test(test_sa_lifetime_opt_in),
		cmocka_unit_test(test_sa_lifetime_refusals),
		cmocka_unit_test(test_node_id),
		cmocka_unit_test(test_static_key_lifetime),
		cmocka_unit_test(test_leader_list),
		cmocka_unit_test(test_catchall),
		cmocka_unit_test(test_nat),
	};

	return cmocka_run_group_tests_name("agent_config", tests, NULL, NULL);
}
