// SPDX-License-Identifier: MIT
/* Unit tests: the agent's diff — nothing to do, a rotation, a peer's new incarnation, a removal, order. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent/diff.h"

static const struct desired_config cfg = { .reqid = 0x7658,
					   .vxlan_port = 4789,
					   .replay_window = 1024 };

static uint32_t spi(uint32_t g, uint32_t index)
{
	return (1u + g % 255u) << 24 | index;
}

/*
 * Self is index 1; peers 2..n+1 with keys for generations from..to
 * (committed: tx); key bytes depend on the generation, the peer and inc.
 */
static void build(struct desired_state *s, struct desired_peer *peers, size_t n,
		  uint32_t from, uint32_t to, uint32_t tx, uint8_t inc)
{
	struct desired_view v;
	struct why why = { "" };

	memset(&v, 0, sizeof(v));
	v.self[0].family = AF_INET;
	inet_pton(AF_INET, "192.168.77.11", &v.self[0].ip.v4);
	v.n_self = 1;
	for (uint32_t g = from; g <= to; g++)
		v.gens[v.n_gens++] =
			(struct desired_gen){ g, g == tx  ? DPHASE_COMMITTED
						 : g < tx ? DPHASE_RETIRING
							  : DPHASE_PREPARED };
	for (size_t i = 0; i < n; i++) {
		struct desired_peer *p = &peers[i];

		memset(p, 0, sizeof(*p));
		p->index = (uint32_t)i + 2;
		p->addrs[0].family = AF_INET;
		p->addrs[0].ip.v4.s_addr = htonl(0xc0a84d0c + (uint32_t)i);
		p->n_addrs = 1;
		for (uint32_t g = from; g <= to; g++) {
			struct desired_keys *k = &p->keys[p->n_keys++];

			k->g = g;
			k->spi_out = spi(g, 1);
			k->spi_in = spi(g, p->index);
			memset(k->key_out, (int)(g * 16 + i + inc), 36);
			memset(k->key_in, (int)(128 + g * 16 + i + inc), 36);
		}
	}
	v.peers = peers;
	v.n_peers = n;
	assert_int_equal(desired_build(&v, &cfg, s, &why), 0);
}

static size_t count(const struct diff_plan *p, enum diff_op op)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->steps[i].op == op;
	return n;
}

static void test_nothing_to_do(void **state)
{
	struct desired_peer a[5], b[5];
	struct desired_state have, want;
	struct diff_plan p;

	(void)state;
	build(&have, a, 5, 1, 2, 2, 0);
	build(&want, b, 5, 1, 2, 2, 0);
	assert_int_equal(diff_plan(&have, &want, &p), 0);
	assert_int_equal(p.n, 0);
	diff_plan_free(&p);
	/* From an empty kernel: everything is an add. */
	struct desired_state none = { 0 };

	assert_int_equal(diff_plan(&none, &want, &p), 0);
	assert_int_equal(count(&p, DIFF_SA_ADD), 20);
	assert_int_equal(count(&p, DIFF_POL_ADD), 10);
	assert_int_equal(p.n, 30);
	diff_plan_free(&p);
	desired_state_free(&have), desired_state_free(&want);
}

/* Prepare 3, commit 3, retire 2: the three steps of a rotation. */
static void test_rotation_steps(void **state)
{
	struct desired_peer a[4], b[4], c[4], d[4];
	struct desired_state g2, prep, commit, retire;
	struct diff_plan p;

	(void)state;
	build(&g2, a, 4, 2, 2, 2, 0);
	build(&prep, b, 4, 2, 3, 2, 0);
	build(&commit, c, 4, 2, 3, 3, 0);
	build(&retire, d, 4, 3, 3, 3, 0);
	assert_int_equal(diff_plan(&g2, &prep, &p), 0);
	assert_int_equal(p.n, 8); /* in + out SA of 3 for 4 peers, only */
	assert_int_equal(count(&p, DIFF_SA_ADD), 8);
	diff_plan_free(&p);
	assert_int_equal(diff_plan(&prep, &commit, &p), 0);
	assert_int_equal(p.n, 4); /* one update per out policy: the switch */
	for (size_t i = 0; i < p.n; i++) {
		assert_int_equal(p.steps[i].op, DIFF_POL_UPDATE);
		assert_int_equal(commit.pols[p.steps[i].i].tmpl_spi, spi(3, 1));
	}
	diff_plan_free(&p);
	assert_int_equal(diff_plan(&commit, &retire, &p), 0);
	assert_int_equal(p.n, 8);
	assert_int_equal(count(&p, DIFF_SA_DEL), 8);
	for (size_t i = 0; i < p.n; i++)
		assert_int_equal(commit.sas[p.steps[i].i].spi >> 24, 3);
	diff_plan_free(&p);
	desired_state_free(&g2), desired_state_free(&prep);
	desired_state_free(&commit), desired_state_free(&retire);
}

/* A peer came back with a new incarnation: same SPIs, new keys. */
static void test_new_keys_replace_old(void **state)
{
	struct desired_peer a[3], b[3];
	struct desired_state have, want;
	struct diff_plan p;
	size_t first_add = 0;

	(void)state;
	build(&have, a, 3, 1, 1, 1, 0);
	build(&want, b, 3, 1, 1, 1, 7); /* every key differs */
	assert_int_equal(diff_plan(&have, &want, &p), 0);
	assert_int_equal(count(&p, DIFF_SA_DEL), 6);
	assert_int_equal(count(&p, DIFF_SA_ADD), 6);
	assert_int_equal(count(&p, DIFF_POL_UPDATE), 0);
	/* Deletes of the replaced first: the SPI must be free to add. */
	while (first_add < p.n && p.steps[first_add].op == DIFF_SA_DEL)
		first_add++;
	assert_int_equal(first_add, 6);
	for (size_t i = first_add; i < p.n; i++) {
		assert_int_equal(p.steps[i].op, DIFF_SA_ADD);
		assert_true(p.steps[i].from_want);
	}
	diff_plan_free(&p);
	desired_state_free(&have), desired_state_free(&want);
}

/* A removed peer: its policies, then its SAs, go last, in that order. */
static void test_removed_peer_last(void **state)
{
	struct desired_peer a[3], b[2], c[3];
	struct desired_state have, want;
	struct diff_plan p;

	(void)state;
	build(&have, a, 3, 1, 1, 1, 0);
	build(&want, b, 2, 1, 1, 1, 0);
	assert_int_equal(diff_plan(&have, &want, &p), 0);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.steps[0].op, DIFF_POL_DEL);
	assert_int_equal(p.steps[1].op, DIFF_POL_DEL);
	assert_int_equal(p.steps[2].op, DIFF_SA_DEL);
	assert_int_equal(p.steps[3].op, DIFF_SA_DEL);
	for (size_t i = 0; i < 4; i++)
		assert_false(p.steps[i].from_want);
	diff_plan_free(&p);
	/* And a new one at the same time: adds before any delete. */
	desired_state_free(&want);
	build(&want, c, 3, 1, 1, 1, 0);
	want.sas[4].dst.v4.s_addr = htonl(0xc0a84d63); /* peer moved */
	want.pols[4].sel.dst.v4.s_addr = htonl(0xc0a84d63);
	assert_int_equal(diff_plan(&have, &want, &p), 0);
	assert_int_equal(p.steps[0].op, DIFF_SA_ADD);
	assert_int_equal(p.steps[p.n - 1].op, DIFF_SA_DEL);
	diff_plan_free(&p);
	desired_state_free(&have), desired_state_free(&want);
}

static void set_encap(struct desired_state *s, uint16_t sport, uint16_t dport)
{
	for (size_t i = 0; i < s->n_sas; i++) {
		s->sas[i].encap_type = XFRM_ENCAP_ESPINUDP;
		s->sas[i].encap_sport = sport;
		s->sas[i].encap_dport = dport;
	}
}

/*
 * ESP in UDP: the same encap is nothing to do; a port or original address
 * that moved (a NAT mapping) is one update in place per SA, no delete;
 * plain ESP to ESP in UDP (or back) replaces the SA.
 */
static void test_encap_changes(void **state)
{
	struct desired_peer a[2], b[2];
	struct desired_state have, want;
	struct diff_plan p;

	(void)state;
	build(&have, a, 2, 1, 1, 1, 0);
	build(&want, b, 2, 1, 1, 1, 0);
	set_encap(&have, 4500, 4500);
	set_encap(&want, 4500, 4500);
	assert_int_equal(diff_plan(&have, &want, &p), 0);
	assert_int_equal(p.n, 0);
	diff_plan_free(&p);

	want.sas[1].encap_dport = 61001; /* the peer's NAT moved */
	want.sas[3].encap_oa.v4.s_addr = htonl(0xc0a80001);
	assert_int_equal(diff_plan(&have, &want, &p), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(count(&p, DIFF_SA_UPDATE), 2);
	for (size_t i = 0; i < p.n; i++) {
		assert_true(p.steps[i].from_want);
		assert_true(p.steps[i].i == 1 || p.steps[i].i == 3);
	}
	diff_plan_free(&p);

	/* The key differs as well: never an update, which would keep it. */
	want.sas[1].key[0] ^= 1;
	assert_int_equal(diff_plan(&have, &want, &p), 0);
	assert_int_equal(count(&p, DIFF_SA_UPDATE), 1);
	assert_int_equal(count(&p, DIFF_SA_DEL), 1);
	assert_int_equal(count(&p, DIFF_SA_ADD), 1);
	assert_int_equal(p.steps[0].op, DIFF_SA_DEL);
	diff_plan_free(&p);
	desired_state_free(&want);

	/* Plain ESP wanted where the kernel has ESP in UDP: replaced. */
	build(&want, b, 2, 1, 1, 1, 0);
	assert_int_equal(diff_plan(&have, &want, &p), 0);
	assert_int_equal(count(&p, DIFF_SA_DEL), 4);
	assert_int_equal(count(&p, DIFF_SA_ADD), 4);
	assert_int_equal(count(&p, DIFF_SA_UPDATE), 0);
	diff_plan_free(&p);
	/* And the other way round. */
	assert_int_equal(diff_plan(&want, &have, &p), 0);
	assert_int_equal(count(&p, DIFF_SA_DEL), 4);
	assert_int_equal(count(&p, DIFF_SA_ADD), 4);
	diff_plan_free(&p);
	desired_state_free(&have), desired_state_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_to_do),
		cmocka_unit_test(test_rotation_steps),
		cmocka_unit_test(test_new_keys_replace_old),
		cmocka_unit_test(test_removed_peer_last),
		cmocka_unit_test(test_encap_changes),
	};

	return cmocka_run_group_tests_name("diff", tests, NULL, NULL);
}
