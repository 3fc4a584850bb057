// SPDX-License-Identifier: MIT
/* Unit tests: who is behind NAT (docs/nat.md) — detection, the member's public address, its incarnations, and what peers are sent. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "keymgr/cluster.h"
#include "keymgr/wire.h"

static const struct rot_config cfg = { .interval_ms = 1000000,
				       .deadline_ms = 1000,
				       .grace_ms = 100 };
static struct rot_action acts[64];

static void counter_random(uint8_t *buf, size_t len, void *arg)
{
	uint8_t *c = arg;

	memset(buf, ++*c, len);
}

static const uint8_t *pk(uint8_t v)
{
	static uint8_t k[REGISTRY_PUB_LEN];

	memset(k, v, sizeof(k));
	return k;
}

static struct node_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct node_addr x = { 4, { a, b, c, d } };

	return x;
}

/* ::ffff:a.b.c.d, as a leader listening on :: sees an IPv4 client. */
static struct node_addr mapped(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct node_addr x = { 16,
			       { [10] = 0xff,
				 [11] = 0xff,
				 [12] = a,
				 [13] = b,
				 [14] = c,
				 [15] = d } };

	return x;
}

static struct node_addr v6(uint8_t last)
{
	struct node_addr x = { 16, { 0x20, 0x01, 0x0d, 0xb8, [15] = last } };

	return x;
}

/* n members node-1.. at 10.0.0.i, joined and connected, not NAT'd. */
static void make(struct cluster *c, uint8_t *ctr, int n)
{
	uint8_t b[REGISTRY_BOOT_ID_LEN];
	char id[16];

	assert_int_equal(cluster_init(c, &cfg, counter_random, ctr), 0);
	for (int i = 1; i <= n; i++) {
		struct node_addr a = v4(10, 0, 0, (uint8_t)i);

		snprintf(id, sizeof(id), "node-%d", i);
		memset(b, i, sizeof(b));
		assert_int_equal(
			cluster_join(c, id, b, &a, 1, pk((uint8_t)i), NULL), 0);
		assert_int_equal(cluster_hello(c, id, b, &a, 1, false,
					       pk((uint8_t)i), NULL, NULL),
				 0);
	}
	for (int k = 0; k < 6 && (c->rot.phase != ROT_IDLE || !c->rot.n_gens);
	     k++)
		assert_true(cluster_step(c, 1000 + 1000 * (uint64_t)k, acts,
					 64) >= 0);
	assert_int_equal(rot_transmit(&c->rot)->g, 1);
}

/* node-i says hello again, the same boot and address; public or not. */
static int hello(struct cluster *c, int i, const struct node_addr *pub)
{
	uint8_t b[REGISTRY_BOOT_ID_LEN];
	struct node_addr a = v4(10, 0, 0, (uint8_t)i);
	char id[16];

	snprintf(id, sizeof(id), "node-%d", i);
	memset(b, i, sizeof(b));
	return cluster_hello(c, id, b, &a, 1, false, pk((uint8_t)i), pub, NULL);
}

static Vxsec__Envelope *decode(uint8_t *f, size_t len)
{
	Vxsec__Envelope *env = NULL;
	struct why why = { "" };

	assert_int_equal(
		frame_decode(f + FRAME_HEADER, len - FRAME_HEADER, &env, &why),
		0);
	frame_buf_free(f, len);
	return env;
}

/* The change after rev, rendered for to. */
static Vxsec__Envelope *delta_for(struct cluster *c, uint64_t rev,
				  const struct node *to)
{
	struct change ch;
	uint8_t *f;
	size_t len;

	assert_int_equal(cluster_change_after(c, rev, &ch), 0);
	assert_int_equal(ch.type, CHG_PEER_UPDATED);
	assert_int_equal(wire_delta(c, to, &ch, 0, &f, &len), 0);
	return decode(f, len);
}

static void assert_public(const Vxsec__Peer *p, const struct node_addr *a)
{
	if (!a) {
		assert_null(p->public_address);
		return;
	}
	assert_non_null(p->public_address);
	assert_int_equal(p->public_address->ip.len, a->len);
	assert_memory_equal(p->public_address->ip.data, a->ip, a->len);
}

/* Both ends of one connection compared; IPv4-mapped equals IPv4. */
static void test_detect(void **state)
{
	struct node_addr l = v4(192, 168, 1, 7), s = v4(203, 0, 113, 9);
	struct node_addr pub = { 0 }, m, l6 = v6(1), s6 = v6(2);

	(void)state;
	assert_true(cluster_nat_detect(&l, &s, &pub));
	assert_int_equal(pub.len, 4);
	assert_memory_equal(pub.ip, s.ip, 4);
	assert_false(cluster_nat_detect(&l, &l, &pub));
	assert_false(cluster_nat_detect(NULL, &s, &pub)); /* never said */
	assert_false(cluster_nat_detect(&l, NULL, &pub));
	/* a leader on :: sees ::ffff:192.168.1.7 for an IPv4 client */
	m = mapped(192, 168, 1, 7);
	assert_false(cluster_nat_detect(&l, &m, &pub));
	assert_false(cluster_nat_detect(&m, &l, &pub));
	m = mapped(203, 0, 113, 9);
	assert_true(cluster_nat_detect(&l, &m, &pub));
	assert_int_equal(pub.len, 4); /* kept as IPv4 */
	assert_memory_equal(pub.ip, s.ip, 4);
	/* IPv6: NPTv6 or NAT66 rewrote it */
	assert_false(cluster_nat_detect(&l6, &l6, &pub));
	assert_true(cluster_nat_detect(&l6, &s6, &pub));
	assert_int_equal(pub.len, 16);
	assert_memory_equal(pub.ip, s6.ip, 16);
	/* a bad length is no finding */
	s.len = 5;
	assert_false(cluster_nat_detect(&l, &s, &pub));
}

/* The agent's nat setting: auto is the detection, never and force win. */
static void test_decide(void **state)
{
	struct node_addr l = v4(192, 168, 1, 7), s = v4(203, 0, 113, 9);
	struct node_addr conf = v4(198, 51, 100, 1), pub = { 0 };
	struct node_addr m = mapped(192, 168, 1, 7);

	(void)state;
	assert_true(cluster_nat_decide(CLUSTER_NAT_AUTO, &l, &s, NULL, &pub));
	assert_memory_equal(pub.ip, s.ip, 4);
	assert_false(cluster_nat_decide(CLUSTER_NAT_AUTO, &l, &l, NULL, &pub));
	/* never: whatever the leader sees */
	assert_false(cluster_nat_decide(CLUSTER_NAT_NEVER, &l, &s, NULL, &pub));
	/* force: at the configured address, else at the source (as IPv4) */
	memset(&pub, 0, sizeof(pub));
	assert_true(cluster_nat_decide(CLUSTER_NAT_FORCE, &l, &l, &conf, &pub));
	assert_int_equal(pub.len, 4);
	assert_memory_equal(pub.ip, conf.ip, 4);
	memset(&pub, 0, sizeof(pub));
	assert_true(cluster_nat_decide(CLUSTER_NAT_FORCE, &l, &m, NULL, &pub));
	assert_int_equal(pub.len, 4);
	assert_memory_equal(pub.ip, l.ip, 4);
	assert_false(cluster_nat_decide(CLUSTER_NAT_FORCE, NULL, NULL, NULL,
					&pub)); /* nowhere to be reached */
}

/*
 * Found behind NAT: a new incarnation and a change for its peers, whose
 * frames name its public address; the same address again changes
 * nothing; another one, or none, is a new incarnation again.
 */
static void test_hello_nat(void **state)
{
	struct cluster c;
	uint8_t ctr = 0, *f;
	size_t len;
	struct node_addr p1 = v4(203, 0, 113, 9), p2 = v6(7);
	struct node *n1, *n2;
	Vxsec__Envelope *env;
	uint64_t rev, inc;

	(void)state;
	make(&c, &ctr, 3);
	n1 = cluster_find(&c, "node-1");
	n2 = cluster_find(&c, "node-2");
	assert_false(n1->nat);
	rev = cluster_revision(&c);
	inc = n1->incarnation;
	assert_int_equal(hello(&c, 1, &p1), 1);
	assert_true(n1->nat);
	assert_int_equal(n1->public_addr.len, 4);
	assert_memory_equal(n1->public_addr.ip, p1.ip, 4);
	assert_int_equal(n1->incarnation, inc + 1);
	assert_int_equal(n1->n_keys, 1); /* a new incarnation's key */
	assert_int_equal(n1->keys[0].from, 0);
	assert_int_equal(cluster_revision(&c), rev + 1);
	env = delta_for(&c, rev, n2);
	assert_int_equal(env->delta->change_case,
			 VXSEC__DELTA__CHANGE_INCARNATION_CHANGED);
	assert_int_equal(env->delta->incarnation_changed->peer->index,
			 n1->index);
	assert_public(env->delta->incarnation_changed->peer, &p1);
	frame_free(env);
	/* snapshots: node-2's peer node-1, node-1's self */
	assert_int_equal(wire_snapshot(&c, n2, 0, &f, &len), 0);
	env = decode(f, len);
	for (size_t i = 0; i < env->snapshot->n_peers; i++)
		assert_public(
			env->snapshot->peers[i],
			strcmp(env->snapshot->peers[i]->node_id, "node-1") == 0
				? &p1
				: NULL);
	assert_public(env->snapshot->self, NULL);
	frame_free(env);
	assert_int_equal(wire_snapshot(&c, n1, 0, &f, &len), 0);
	env = decode(f, len);
	assert_public(env->snapshot->self, &p1);
	frame_free(env);

	/* the same public address: the same incarnation, no change */
	rev = cluster_revision(&c);
	assert_int_equal(hello(&c, 1, &p1), 0);
	assert_int_equal(cluster_revision(&c), rev);
	assert_int_equal(n1->incarnation, inc + 1);
	/* another public address (its NAT's changed): a new incarnation */
	assert_int_equal(hello(&c, 1, &p2), 1);
	assert_int_equal(n1->incarnation, inc + 2);
	assert_int_equal(n1->public_addr.len, 16);
	env = delta_for(&c, rev, n2);
	assert_public(env->delta->incarnation_changed->peer, &p2);
	frame_free(env);
	/* no NAT any more (or an agent that does not say): one more */
	rev = cluster_revision(&c);
	assert_int_equal(hello(&c, 1, NULL), 1);
	assert_false(n1->nat);
	assert_int_equal(n1->public_addr.len, 0);
	assert_int_equal(n1->incarnation, inc + 3);
	env = delta_for(&c, rev, n2);
	assert_public(env->delta->incarnation_changed->peer, NULL);
	frame_free(env);
	/* a bad public address is refused before anything changes */
	rev = cluster_revision(&c);
	p1.len = 5;
	assert_int_equal(hello(&c, 1, &p1), -EINVAL);
	assert_false(n1->nat);
	assert_int_equal(cluster_revision(&c), rev);
	cluster_cleanup(&c);
}

/*
 * Two members behind one NAT share its address: that is no "two members
 * on one address". Nor is a member announcing another's public address.
 */
static void test_shared_public(void **state)
{
	struct cluster c;
	uint8_t ctr = 0, b[REGISTRY_BOOT_ID_LEN];
	struct node_addr pub = v4(198, 51, 100, 1), a3 = v4(10, 0, 0, 3), other;
	char names[64];

	(void)state;
	make(&c, &ctr, 3);
	assert_int_equal(hello(&c, 1, &pub), 1);
	assert_int_equal(hello(&c, 2, &pub), 1);
	assert_true(cluster_find(&c, "node-1")->nat);
	assert_true(cluster_find(&c, "node-2")->nat);
	/* only node-1 pairs outside that NAT */
	assert_null(cluster_nat_first(&c, cluster_find(&c, "node-1")));
	assert_ptr_equal(cluster_nat_first(&c, cluster_find(&c, "node-2")),
			 cluster_find(&c, "node-1"));
	assert_null(cluster_nat_first(&c, cluster_find(&c, "node-3")));
	/* one NAT: they reach each other; node-3 behind another cannot */
	assert_int_equal(cluster_nat_unreachable(&c, cluster_find(&c, "node-1"),
						 names, sizeof(names)),
			 0);
	assert_string_equal(names, "");
	other = v4(203, 0, 113, 5);
	assert_int_equal(hello(&c, 3, &other), 1);
	assert_int_equal(cluster_nat_unreachable(&c, cluster_find(&c, "node-3"),
						 names, sizeof(names)),
			 2);
	assert_string_equal(names, "node-1, node-2");
	assert_int_equal(cluster_nat_unreachable(&c, cluster_find(&c, "node-3"),
						 names, 9),
			 2); /* cut, still counted */
	assert_string_equal(names, "node-1, ");
	assert_int_equal(hello(&c, 3, NULL), 1); /* out of NAT again */
	/* public addresses are nobody's announced address */
	assert_null(cluster_addr_owner(&c, "node-9", &pub, 1));
	/* a joiner may announce it (e.g. the NAT router itself) */
	memset(b, 9, sizeof(b));
	assert_int_equal(cluster_join(&c, "node-9", b, &pub, 1, pk(9), NULL),
			 0);
	/* but an announced address stays its member's */
	assert_int_equal(cluster_join(&c, "node-10", b, &pub, 1, pk(10), NULL),
			 -EADDRINUSE);
	/* node-1 coming from node-3's address refuses neither of them */
	assert_int_equal(hello(&c, 1, &a3), 1);
	assert_int_equal(hello(&c, 3, NULL), 0);
	/* a removed member's hello changes nothing */
	assert_int_equal(cluster_remove(&c, "node-2"), 0);
	assert_int_equal(hello(&c, 2, NULL), -EPERM);
	assert_true(cluster_find(&c, "node-2")->nat);
	cluster_cleanup(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_hello_nat),
		cmocka_unit_test(test_shared_public),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
