// SPDX-License-Identifier: MIT
/* Unit tests: the agent's desired state — SAs, policies, SPIs, families, catch-all, refusals. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "vmlck.h"

#include "agent/desired.h"

static const struct desired_config cfg = { .reqid = 0x7658,
					   .vxlan_port = 4789,
					   .replay_window = 1024 };

static struct desired_addr v4(const char *s)
{
	struct desired_addr a = { .family = AF_INET };

	inet_pton(AF_INET, s, &a.ip.v4);
	return a;
}

static struct desired_addr v6(const char *s)
{
	struct desired_addr a = { .family = AF_INET6 };

	inet_pton(AF_INET6, s, &a.ip.v6);
	return a;
}

static uint32_t spi(uint32_t g, uint32_t index)
{
	return (1u + g % 255u) << 24 | index;
}

/* Peer `index` with keys of the given generations, self being index 1. */
static void peer(struct desired_peer *p, uint32_t index, const char *addr,
		 const uint32_t *gens, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->index = index;
	p->addrs[0] = v4(addr);
	p->n_addrs = 1;
	for (size_t i = 0; i < n; i++) {
		struct desired_keys *k = &p->keys[p->n_keys++];

		k->g = gens[i];
		k->spi_out = spi(gens[i], 1);
		k->spi_in = spi(gens[i], index);
		memset(k->key_out, (int)(0x10 * gens[i] + index), 36);
		memset(k->key_in, (int)(0x80 + 0x10 * gens[i] + index), 36);
	}
}

static void view(struct desired_view *v, const struct desired_peer *peers,
		 size_t n)
{
	memset(v, 0, sizeof(*v));
	v->self[0] = v4("192.168.77.11");
	v->n_self = 1;
	v->gens[0] = (struct desired_gen){ 1, DPHASE_RETIRING };
	v->gens[1] = (struct desired_gen){ 2, DPHASE_COMMITTED };
	v->gens[2] = (struct desired_gen){ 3, DPHASE_PREPARED };
	v->n_gens = 3;
	v->peers = peers;
	v->n_peers = n;
}

/* The SAs (keys) are in locked memory until desired_state_free(). */
static void test_sas_locked(void **state)
{
	static const uint32_t g123[] = { 1, 2, 3 };
	static struct desired_peer peers[200];
	struct desired_view v;
	struct desired_state s;
	char addr[32];
	struct why why = { "" };
	long before = vmlck_kb();

	(void)state;
	assert_true(before >= 0);
	for (uint32_t i = 0; i < 200; i++) {
		snprintf(addr, sizeof(addr), "10.1.%u.%u", i / 200,
			 i % 200 + 1);
		peer(&peers[i], i + 2, addr, g123, 3);
	}
	view(&v, peers, 200);
	assert_int_equal(desired_build(&v, &cfg, &s, &why), 0);
	assert_int_equal(s.n_sas, 1200);
	if (VMLCK_SEEN)
		assert_true(vmlck_kb() - before >=
			    (long)(s.n_sas * sizeof(*s.sas) / 1024));
	else
		print_message(VMLCK_UNSEEN_NOTE);
	desired_state_free(&s);
	assert_int_equal(vmlck_kb(), before);
}

static void test_pairs_and_generations(void **state)
{
	static const uint32_t g123[] = { 1, 2, 3 };
	struct desired_peer peers[2];
	struct desired_view v;
	struct desired_state s;
	struct why why = { "" };

	(void)state;
	peer(&peers[0], 2, "192.168.77.12", g123, 3);
	peer(&peers[1], 3, "192.168.77.13", g123, 3);
	view(&v, peers, 2);
	assert_int_equal(desired_build(&v, &cfg, &s, &why), 0);
	/* 2 peers x 3 generations x (in + out); 2 policies a peer. */
	assert_int_equal(s.n_sas, 12);
	assert_int_equal(s.n_pols, 4);
	for (size_t i = 0; i < s.n_sas; i++) {
		const struct xfrm_sa *sa = &s.sas[i];

		assert_int_equal(xfrm_sa_check(sa), 0);
		assert_true(sa->esn);
		assert_int_equal(sa->replay_window, 1024);
		assert_int_equal(sa->reqid, cfg.reqid);
		assert_int_equal(sa->icv_bits, 128);
		assert_int_equal(sa->key_len, 36);
	}
	/* Peer 2, generation 3: out is ours (SPI of sender 1), in theirs. */
	assert_int_equal(s.sas[4].spi, spi(3, 1));
	assert_int_equal(s.sas[4].dst.v4.s_addr, inet_addr("192.168.77.12"));
	assert_int_equal(s.sas[4].key[0], 0x32);
	assert_int_equal(s.sas[5].spi, spi(3, 2));
	assert_int_equal(s.sas[5].src.v4.s_addr, inet_addr("192.168.77.12"));
	assert_int_equal(s.sas[5].key[0], 0xb2);
	/* The out policy names the transmit (committed) generation's SPI. */
	assert_int_equal(s.pols[0].dir, XFRM_OUT);
	assert_int_equal(s.pols[0].tmpl_spi, spi(2, 1));
	assert_int_equal(s.pols[0].sel.dport, 4789);
	assert_int_equal(s.pols[0].sel.proto, IPPROTO_UDP);
	assert_int_equal(s.pols[0].sel.dst_plen, 32);
	/* The in policy requires ESP of our reqid from that peer. */
	assert_int_equal(s.pols[1].dir, XFRM_IN);
	assert_true(s.pols[1].has_tmpl);
	assert_int_equal(s.pols[1].tmpl_reqid, cfg.reqid);
	assert_int_equal(s.pols[1].sel.src.v4.s_addr,
			 inet_addr("192.168.77.12"));
	for (size_t i = 0; i < s.n_pols; i++)
		assert_int_equal(xfrm_policy_check(&s.pols[i]), 0);
	desired_state_free(&s);
	assert_null(s.sas);
}

static void test_ipv6_and_family_choice(void **state)
{
	static const uint32_t g2[] = { 2 };
	struct desired_peer peers[1];
	struct desired_view v;
	struct desired_state s;
	struct why why = { "" };

	(void)state;
	peer(&peers[0], 2, "192.168.77.12", g2, 1);
	peers[0].addrs[0] = v6("fd00::12"); /* the peer has IPv6 only */
	view(&v, peers, 1);
	v.self[1] = v6("fd00::11");
	v.n_self = 2;
	assert_int_equal(desired_build(&v, &cfg, &s, &why), 0);
	assert_int_equal(s.sas[0].family, AF_INET6);
	assert_int_equal(s.pols[0].sel.family, AF_INET6);
	assert_int_equal(s.pols[0].sel.dst_plen, 128);
	desired_state_free(&s);
	/* No family in common: refused, with the peer named. */
	v.n_self = 1;
	assert_int_equal(desired_build(&v, &cfg, &s, &why), -EINVAL);
	assert_string_equal(why.msg, "peer 2: no address family in common");
}

/*
 * Both ends of a pair choose the same family whatever order each lists
 * its own addresses in: the lower index's order decides, then each end's
 * first address of that family.
 */
static void test_family_choice_is_symmetric(void **state)
{
	struct desired_peer p;
	struct desired_view v;
	const struct desired_addr *me, *them;

	(void)state;
	peer(&p, 2, "192.168.77.12", NULL, 0); /* IPv4 first, then IPv6 */
	p.addrs[1] = v6("fd00::12");
	p.n_addrs = 2;
	view(&v, &p, 1);
	v.self[0] = v6("fd00::11"); /* IPv6 first, then two IPv4 */
	v.self[1] = v4("192.168.77.11");
	v.self[2] = v4("192.168.77.111");
	v.n_self = 3;
	v.self_index = 5; /* the peer (2) is lower: its order, IPv4 */
	assert_int_equal(desired_pair_addrs(&v, &p, &me, &them), 0);
	assert_ptr_equal(me, &v.self[1]);
	assert_ptr_equal(them, &p.addrs[0]);
	v.self_index = 1; /* self is lower: self's order, IPv6 */
	assert_int_equal(desired_pair_addrs(&v, &p, &me, &them), 0);
	assert_ptr_equal(me, &v.self[0]);
	assert_ptr_equal(them, &p.addrs[1]);
	/* The lower one's first family missing at the other: the next. */
	v.self_index = 5;
	p.addrs[0] = v6("fd00::12");
	p.addrs[1] = v4("192.168.77.12");
	v.self[0] = v4("192.168.77.11");
	v.n_self = 1;
	assert_int_equal(desired_pair_addrs(&v, &p, &me, &them), 0);
	assert_ptr_equal(me, &v.self[0]);
	assert_ptr_equal(them, &p.addrs[1]);
}

static void test_fail_closed_without_keys(void **state)
{
	struct desired_peer peers[1];
	struct desired_view v;
	struct desired_state s;
	struct why why = { "" };

	(void)state;
	peer(&peers[0], 2, "192.168.77.12", NULL, 0);
	view(&v, peers, 1);
	assert_int_equal(desired_build(&v, &cfg, &s, &why), 0);
	assert_int_equal(s.n_sas, 0);
	assert_int_equal(s.n_pols, 2); /* still no cleartext either way */
	assert_true(s.pols[0].has_tmpl);
	assert_int_equal(s.pols[0].tmpl_spi, 0);
	desired_state_free(&s);
}

static void test_catchall_block(void **state)
{
	static const uint32_t g2[] = { 2 };
	struct desired_config c = cfg;
	struct desired_peer peers[1];
	struct desired_view v;
	struct desired_state s;
	struct why why = { "" };

	(void)state;
	c.catchall = true;
	c.catchall_nets[0] = (struct desired_prefix){ v4("192.168.77.0"), 24 };
	c.n_catchall_nets = 1;
	peer(&peers[0], 2, "192.168.77.12", g2, 1);
	view(&v, peers, 1);
	assert_int_equal(desired_build(&v, &c, &s, &why), 0);
	assert_int_equal(s.n_pols, 4);
	assert_int_equal(s.pols[2].action, XFRM_BLOCK);
	assert_false(s.pols[2].has_tmpl);
	assert_int_equal(s.pols[2].sel.dst_plen, 24);
	assert_true(s.pols[2].priority > s.pols[0].priority); /* loses */
	assert_int_equal(xfrm_policy_check(&s.pols[2]), 0);
	/* In: VXLAN from anywhere in the underlay must be ESP of ours. */
	assert_int_equal(s.pols[3].dir, XFRM_IN);
	assert_int_equal(s.pols[3].action, XFRM_ALLOW);
	assert_true(s.pols[3].has_tmpl);
	assert_int_equal(s.pols[3].tmpl_reqid, cfg.reqid);
	assert_int_equal(s.pols[3].sel.src_plen, 24);
	assert_int_equal(s.pols[3].sel.dst_plen, 32);
	assert_int_equal(s.pols[3].priority, s.pols[2].priority);
	assert_int_equal(xfrm_policy_check(&s.pols[3]), 0);
	desired_state_free(&s);
}

/*
 * The default: no prefix given, so each of self's addresses gets its whole
 * family (0.0.0.0/0, ::/0); a prefix given narrows its family only; a
 * second address of one family gets its own pair.
 */
static void test_catchall_default_and_narrowed(void **state)
{
	static const uint32_t g2[] = { 2 };
	struct desired_config c = cfg;
	struct desired_peer peers[1];
	struct desired_view v;
	struct desired_state s;
	struct why why = { "" };
	const struct xfrm_policy *p;

	(void)state;
	c.catchall = true;
	peer(&peers[0], 2, "192.168.77.12", g2, 1);
	view(&v, peers, 1);
	v.self[1] = v6("fd00:77::11");
	v.self[2] = v4("10.9.0.11");
	v.n_self = 3;
	assert_int_equal(desired_build(&v, &c, &s, &why), 0);
	assert_int_equal(s.n_pols, 2 + 2 * 3);
	for (size_t i = 2; i < s.n_pols; i++) {
		p = &s.pols[i];
		assert_int_equal(p->priority, DESIRED_PRIO_CATCHALL);
		assert_int_equal(p->dir == XFRM_OUT ? p->sel.dst_plen
						    : p->sel.src_plen,
				 0);
		assert_int_equal(p->sel.dport, 4789);
		assert_int_equal(xfrm_policy_check(p), 0);
	}
	p = &s.pols[4]; /* the IPv6 address's out policy: ::/0 */
	assert_int_equal(p->sel.family, AF_INET6);
	assert_int_equal(p->action, XFRM_BLOCK);
	assert_int_equal(p->sel.src_plen, 128);
	assert_memory_equal(&p->sel.src, &v.self[1].ip, sizeof(p->sel.src));
	assert_int_equal(s.pols[5].sel.family, AF_INET6);
	assert_true(s.pols[5].has_tmpl);
	desired_state_free(&s);

	/* Two IPv4 prefixes narrow IPv4; IPv6 keeps ::/0. */
	c.catchall_nets[0] = (struct desired_prefix){ v4("192.168.77.0"), 24 };
	c.catchall_nets[1] = (struct desired_prefix){ v4("10.9.0.0"), 16 };
	c.n_catchall_nets = 2;
	assert_int_equal(desired_build(&v, &c, &s, &why), 0);
	assert_int_equal(s.n_pols, 2 + 2 * 2 + 2 * 1 + 2 * 2);
	assert_int_equal(s.pols[2].sel.dst_plen, 24);
	assert_int_equal(s.pols[4].sel.dst_plen, 16);
	assert_int_equal(s.pols[6].sel.family, AF_INET6);
	assert_int_equal(s.pols[6].sel.dst_plen, 0);
	assert_int_equal(s.pols[8].sel.dst_plen, 24);
	assert_int_equal(s.pols[10].sel.dst_plen, 16);
	desired_state_free(&s);

	/* Off: the pairs alone. */
	c.catchall = false;
	assert_int_equal(desired_build(&v, &c, &s, &why), 0);
	assert_int_equal(s.n_pols, 2);
	desired_state_free(&s);
}

static void test_refusals(void **state)
{
	static const uint32_t g7[] = { 7 }, g3[] = { 3 };
	struct desired_peer peers[1];
	struct desired_view v;
	struct desired_state s;
	struct why why = { "" };

	(void)state;
	peer(&peers[0], 2, "192.168.77.12", g7, 1);
	view(&v, peers, 1);
	assert_int_equal(desired_build(&v, &cfg, &s, &why), -EINVAL);
	assert_string_equal(why.msg,
			    "peer 2: keys of generation 7, which is not live");
	peer(&peers[0], 2, "192.168.77.12", g3, 1);
	v.gens[1].phase = DPHASE_PREPARED; /* nothing committed */
	assert_int_equal(desired_build(&v, &cfg, &s, &why), -EINVAL);
	assert_string_equal(why.msg, "keys but no committed generation");
	assert_null(s.sas);
}

/* A NAT'd peer (docs/nat.md, "What each pair uses"). */
static void nat_peer(struct desired_peer *p, uint32_t index, const char *addr,
		     const char *public_addr)
{
	static const uint32_t g2[] = { 2 };

	peer(p, index, addr, g2, 1);
	p->nat = public_addr != NULL;
	if (public_addr)
		p->public_addr = strchr(public_addr, ':') ? v6(public_addr)
							  : v4(public_addr);
}

static void assert_encap(const struct xfrm_sa *sa, uint16_t sport,
			 uint16_t dport)
{
	assert_int_equal(sa->encap_type, XFRM_ENCAP_ESPINUDP);
	assert_int_equal(sa->encap_sport, sport);
	assert_int_equal(sa->encap_dport, dport);
	assert_int_equal(xfrm_sa_check(sa), 0);
}

static void assert_addr(const union xfrm_ip *ip, const char *text)
{
	struct desired_addr a = v4(text);

	assert_memory_equal(ip->raw, a.ip.raw, 4);
}

/* Exactly one of the two behind NAT: ESP in UDP, the NAT'd one at its
 * public address and learned port; the NAT'd side sends from its own. */
static void test_nat_esp_in_udp(void **state)
{
	struct desired_config c = cfg;
	struct desired_peer p[1];
	struct desired_view v;
	struct desired_state s;
	struct desired_pair pr;
	struct why why = { "" };

	(void)state;
	c.nat_port = 4500;
	/* the peer behind NAT, we outside */
	nat_peer(&p[0], 2, "10.0.9.15", "192.168.77.14");
	view(&v, p, 1);
	assert_int_equal(desired_pair(&v, &p[0], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_UDP);
	assert_int_equal(desired_build(&v, &c, &s, &why), 0);
	assert_int_equal(s.n_sas, 2);
	assert_addr(&s.sas[0].src, "192.168.77.11");
	assert_addr(&s.sas[0].dst, "192.168.77.14");
	assert_encap(&s.sas[0], 4500, 4500);
	assert_addr(&s.sas[1].src, "192.168.77.14");
	assert_addr(&s.sas[1].dst, "192.168.77.11");
	assert_encap(&s.sas[1], 4500, 4500);
	assert_addr(&s.pols[0].sel.dst, "192.168.77.14");
	assert_addr(&s.pols[1].sel.src, "192.168.77.14");
	assert_int_equal(s.pols[0].tmpl_spi, s.sas[0].spi);
	desired_state_free(&s);
	/* its NAT's port learned: the out SA sends there, the in SA expects
	 * it */
	p[0].nat_port = 31000;
	assert_int_equal(desired_build(&v, &c, &s, &why), 0);
	assert_encap(&s.sas[0], 4500, 31000);
	assert_encap(&s.sas[1], 31000, 4500);
	desired_state_free(&s);
	/* we behind NAT (10.0.9.15, public .14), the peer outside */
	nat_peer(&p[0], 2, "192.168.77.12", NULL);
	view(&v, p, 1);
	v.self[0] = v4("10.0.9.15");
	v.self_index = 3;
	v.self_nat = true;
	v.self_public = v4("192.168.77.14");
	c.nat_port = 4501;
	assert_int_equal(desired_build(&v, &c, &s, &why), 0);
	assert_int_equal(s.n_sas, 2);
	assert_addr(&s.sas[0].src, "10.0.9.15");
	assert_addr(&s.sas[0].dst, "192.168.77.12");
	assert_encap(&s.sas[0], 4501, 4501);
	assert_addr(&s.sas[1].src, "192.168.77.12");
	assert_encap(&s.sas[1], 4501, 4501);
	desired_state_free(&s);
	/* neither: plain ESP, as ever */
	v.self_nat = false;
	assert_int_equal(desired_build(&v, &c, &s, &why), 0);
	assert_int_equal(s.sas[0].encap_type, 0);
	assert_int_equal(s.sas[1].encap_type, 0);
	desired_state_free(&s);
}

/* Both behind NAT: one public address is one site (plain ESP between the
 * announced addresses); two are refused, failing closed. */
static void test_nat_both(void **state)
{
	struct desired_config c = cfg;
	struct desired_peer p[1];
	struct desired_view v;
	struct desired_state s;
	struct desired_pair pr;
	struct why why = { "" };

	(void)state;
	c.nat_port = 4500;
	nat_peer(&p[0], 2, "10.0.9.16", "192.168.77.14");
	view(&v, p, 1);
	v.self[0] = v4("10.0.9.15");
	v.self_nat = true;
	v.self_public = v4("192.168.77.14");
	assert_int_equal(desired_build(&v, &c, &s, &why), 0);
	assert_int_equal(s.n_sas, 2);
	assert_int_equal(s.sas[0].encap_type, 0);
	assert_addr(&s.sas[0].dst, "10.0.9.16");
	desired_state_free(&s);
	/* behind two NATs */
	p[0].public_addr = v4("192.168.77.99");
	assert_int_equal(desired_pair(&v, &p[0], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_REFUSED);
	assert_non_null(strstr(pr.why, "different public addresses"));
	assert_int_equal(desired_build(&v, &c, &s, &why), 0);
	assert_int_equal(s.n_sas, 0);
	assert_int_equal(s.n_pols, 2); /* the pair's policies stay */
	assert_int_equal(s.pols[0].dir, XFRM_OUT);
	assert_int_equal(s.pols[0].tmpl_spi, 0); /* nothing leaves */
	assert_true(s.pols[0].has_tmpl);
	assert_int_equal(s.pols[1].dir, XFRM_IN);
	desired_state_free(&s);
	/* a public address of a family we lack */
	v.self_nat = false;
	p[0].public_addr = v6("2001:db8::14");
	assert_int_equal(desired_pair(&v, &p[0], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_REFUSED);
	assert_non_null(strstr(pr.why, "family"));
}

/* Two members behind one NAT: inside it they pair; outside it only the
 * lower index keeps its pairs, at both ends alike. */
static void test_nat_shared(void **state)
{
	struct desired_config c = cfg;
	struct desired_peer p[4];
	struct desired_view v;
	struct desired_pair pr;
	struct desired_addr pub = v4("192.168.77.14");
	bool second = true;

	(void)state;
	c.nat_port = 4500;
	/* seen from outside (self 1): peers 4 and 2 behind .14, 3 behind
	 * another NAT, 5 outside */
	nat_peer(&p[0], 4, "10.0.9.16", "192.168.77.14");
	nat_peer(&p[1], 2, "10.0.9.15", "192.168.77.14");
	nat_peer(&p[2], 3, "10.0.8.15", "192.168.77.15");
	nat_peer(&p[3], 5, "192.168.77.13", NULL);
	assert_int_equal(desired_nat_shared(p, 4, 1, false, NULL, &second), 0);
	assert_false(second);
	assert_true(p[0].nat_second); /* 4: behind 2 */
	assert_false(p[1].nat_second);
	assert_false(p[2].nat_second);
	assert_false(p[3].nat_second);
	view(&v, p, 4);
	v.self_index = 1;
	assert_int_equal(desired_pair(&v, &p[0], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_REFUSED);
	assert_non_null(strstr(pr.why, "behind the same NAT"));
	assert_int_equal(desired_pair(&v, &p[1], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_UDP);
	assert_int_equal(desired_pair(&v, &p[2], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_UDP);

	/* seen from node 4 itself (behind .14 after node 2): refused with
	 * the outside node 5, plain ESP with node 2 inside */
	nat_peer(&p[0], 1, "192.168.77.11", NULL);
	assert_int_equal(desired_nat_shared(p, 4, 4, true, &pub, &second), 0);
	assert_true(second);
	view(&v, p, 4);
	v.self[0] = v4("10.0.9.16");
	v.self_index = 4;
	v.self_nat = true;
	v.self_public = pub;
	v.self_nat_second = second;
	assert_int_equal(desired_pair(&v, &p[0], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_REFUSED);
	assert_int_equal(desired_pair(&v, &p[3], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_REFUSED);
	assert_int_equal(desired_pair(&v, &p[1], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_ESP);
	assert_addr(&pr.peer->ip, "10.0.9.15");
	/* from node 2 (the first behind .14): ESP in UDP outside, node 4
	 * marked */
	nat_peer(&p[1], 4, "10.0.9.16", "192.168.77.14");
	assert_int_equal(desired_nat_shared(p, 4, 2, true, &pub, &second), 0);
	assert_false(second);
	assert_true(p[1].nat_second);
	v.self[0] = v4("10.0.9.15");
	v.self_index = 2;
	v.self_nat_second = second;
	assert_int_equal(desired_pair(&v, &p[0], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_UDP);
	assert_int_equal(desired_pair(&v, &p[1], &c, &pr), 0);
	assert_int_equal(pr.path, DPATH_ESP); /* inside the NAT */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs_and_generations),
		cmocka_unit_test(test_sas_locked),
		cmocka_unit_test(test_ipv6_and_family_choice),
		cmocka_unit_test(test_family_choice_is_symmetric),
		cmocka_unit_test(test_fail_closed_without_keys),
		cmocka_unit_test(test_catchall_block),
		cmocka_unit_test(test_catchall_default_and_narrowed),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_nat_esp_in_udp),
		cmocka_unit_test(test_nat_both),
		cmocka_unit_test(test_nat_shared),
	};

	return cmocka_run_group_tests_name("desired", tests, NULL, NULL);
}
