// SPDX-License-Identifier: MIT
/* agent desired state: per peer, in and out SAs of each live generation and two policies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/socket.h>

#include "desired.h"

static const struct desired_gen *gen_of(const struct desired_view *v,
					uint32_t g)
{
	for (size_t i = 0; i < v->n_gens; i++)
		if (v->gens[i].g == g)
			return &v->gens[i];
	return NULL;
}

static const struct desired_gen *transmit(const struct desired_view *v)
{
	for (size_t i = 0; i < v->n_gens; i++)
		if (v->gens[i].phase == DPHASE_COMMITTED)
			return &v->gens[i];
	return NULL;
}

/* The first of addrs (n of them) of family, or NULL. */
static const struct desired_addr *first_of(const struct desired_addr *addrs,
					   size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (addrs[i].family == family)
			return &addrs[i];
	return NULL;
}

/* The pair's announced addresses: the lower-index node's order decides. */
static int announced(const struct desired_view *v, const struct desired_peer *p,
		     const struct desired_addr **me,
		     const struct desired_addr **peer)
{
	bool ours = !v->self_index || v->self_index < p->index;
	const struct desired_addr *order = ours ? v->self : p->addrs;
	size_t n = ours ? v->n_self : p->n_addrs;

	for (size_t i = 0; i < n; i++) {
		*me = first_of(v->self, v->n_self, order[i].family);
		*peer = first_of(p->addrs, p->n_addrs, order[i].family);
		if (*me && *peer)
			return 0;
	}
	return -EINVAL;
}

static bool addr_eq(const struct desired_addr *a, const struct desired_addr *b)
{
	size_t len = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && memcmp(&a->ip, &b->ip, len) == 0;
}

static void refuse(struct desired_pair *out, const char *why)
{
	out->path = DPATH_REFUSED;
	out->sport = out->dport = 0;
	out->why = why;
}

/*
 * Exactly one of the two behind NAT: ESP in UDP on the family of the
 * NAT'd one's public address (where the other must send); the NAT'd node
 * sends from its own address of that family to the peer's announced one.
 */
static void udp_path(const struct desired_view *v, const struct desired_peer *p,
		     const struct desired_config *cfg, struct desired_pair *out)
{
	int family =
		v->self_nat ? v->self_public.family : p->public_addr.family;
	const struct desired_addr *me = first_of(v->self, v->n_self, family);
	const struct desired_addr *peer =
		v->self_nat ? first_of(p->addrs, p->n_addrs, family)
			    : &p->public_addr;

	if (!me || !peer) {
		refuse(out, v->self_nat ? "this node's public address is of a "
					  "family the peer has no address of"
					: "the peer's public address is of a "
					  "family this node has no address of");
		return;
	}
	out->path = DPATH_UDP;
	out->me = me, out->peer = peer;
	out->sport = cfg ? cfg->nat_port : 0;
	out->dport = p->nat_port ? p->nat_port : out->sport;
}

int desired_pair(const struct desired_view *v, const struct desired_peer *p,
		 const struct desired_config *cfg, struct desired_pair *out)
{
	memset(out, 0, sizeof(*out));
	if (announced(v, p, &out->me, &out->peer))
		return -EINVAL;
	out->path = DPATH_ESP;
	if (v->self_nat != p->nat &&
	    (v->self_nat ? v->self_nat_second : p->nat_second)) {
		refuse(out, "another member behind the same NAT (public "
			    "address) has the pairs with members outside it: "
			    "ESP in transport mode cannot tell two nodes "
			    "behind one address apart");
		return 0;
	}
	if (v->self_nat && p->nat) {
		if (!addr_eq(&v->self_public, &p->public_addr))
			refuse(out, "both nodes are behind NAT, behind "
				    "different public addresses: neither "
				    "can receive first");
		/* one public address: one site, plain ESP inside it */
	} else if (v->self_nat || p->nat) {
		udp_path(v, p, cfg, out);
	}
	return 0;
}

struct nat_member {
	struct desired_addr pub;
	uint32_t index;
	bool *second;
};

static int nat_member_cmp(const void *x, const void *y)
{
	const struct nat_member *a = x, *b = y;
	int c = a->pub.family - b->pub.family;

	if (!c)
		c = memcmp(a->pub.ip.raw, b->pub.ip.raw, sizeof(a->pub.ip.raw));
	if (!c)
		c = (a->index > b->index) - (a->index < b->index);
	return c;
}

int desired_nat_shared(struct desired_peer *peers, size_t n,
		       uint32_t self_index, bool self_nat,
		       const struct desired_addr *self_public,
		       bool *self_second)
{
	struct nat_member *m = calloc(n + 1, sizeof(*m));
	size_t k = 0;

	if (!m)
		return -ENOMEM;
	*self_second = false;
	if (self_nat)
		m[k++] = (struct nat_member){ *self_public, self_index,
					      self_second };
	for (size_t i = 0; i < n; i++) {
		peers[i].nat_second = false;
		if (peers[i].nat)
			m[k++] = (struct nat_member){ peers[i].public_addr,
						      peers[i].index,
						      &peers[i].nat_second };
	}
	for (size_t i = 0; i < k; i++) /* compare whole unions: zero tails */
		if (m[i].pub.family == AF_INET)
			memset(m[i].pub.ip.raw + 4, 0,
			       sizeof(m[i].pub.ip.raw) - 4);
	qsort(m, k, sizeof(*m), nat_member_cmp);
	for (size_t i = 1; i < k; i++)
		*m[i].second = addr_eq(&m[i].pub, &m[i - 1].pub);
	free(m);
	return 0;
}

int desired_pair_addrs(const struct desired_view *v,
		       const struct desired_peer *p,
		       const struct desired_addr **me,
		       const struct desired_addr **peer)
{
	struct desired_pair pr;
	int err = desired_pair(v, p, NULL, &pr);

	*me = pr.me, *peer = pr.peer;
	return err;
}

static void sa_fill(struct xfrm_sa *sa, const struct desired_config *cfg,
		    const struct desired_addr *src,
		    const struct desired_addr *dst, uint32_t spi,
		    const uint8_t key[DESIRED_KEY_LEN])
{
	/* ESP in UDP: encap_* set by the caller */
	memset(sa, 0, sizeof(*sa));
	sa->family = src->family;
	sa->src = src->ip;
	sa->dst = dst->ip;
	sa->spi = spi;
	sa->reqid = cfg->reqid;
	memcpy(sa->key, key, DESIRED_KEY_LEN);
	sa->key_len = DESIRED_KEY_LEN;
	sa->icv_bits = 128;
	sa->esn = true;
	sa->replay_window = cfg->replay_window;
	sa->lft = cfg->lft;
}

static void pol_fill(struct xfrm_policy *p, const struct desired_config *cfg,
		     const struct desired_addr *src,
		     const struct desired_addr *dst, enum xfrm_dir dir,
		     uint32_t spi)
{
	uint8_t plen = src->family == AF_INET ? 32 : 128;

	memset(p, 0, sizeof(*p));
	p->sel = (struct xfrm_selector_spec){ .family = src->family,
					      .src = src->ip,
					      .dst = dst->ip,
					      .src_plen = plen,
					      .dst_plen = plen,
					      .proto = IPPROTO_UDP,
					      .dport = cfg->vxlan_port };
	p->dir = dir;
	p->priority = DESIRED_PRIO_PAIR;
	p->action = XFRM_ALLOW;
	p->has_tmpl = true;
	p->tmpl_reqid = cfg->reqid;
	p->tmpl_spi = spi;
}

/* Checks the view before anything is built; counts the SAs it needs. */
static int check(const struct desired_view *v, const struct desired_config *cfg,
		 size_t *n_sas, struct why *why)
{
	struct desired_pair pr;
	bool keys = false;

	*n_sas = 0;
	for (size_t i = 0; i < v->n_peers; i++) {
		const struct desired_peer *p = &v->peers[i];

		if (desired_pair(v, p, cfg, &pr)) {
			why_set(why, "peer %u: no address family in common",
				p->index);
			return -EINVAL;
		}
		for (size_t k = 0; k < p->n_keys; k++) {
			if (gen_of(v, p->keys[k].g))
				continue;
			why_set(why,
				"peer %u: keys of generation %u, which is "
				"not live",
				p->index, p->keys[k].g);
			return -EINVAL;
		}
		if (pr.path != DPATH_REFUSED)
			*n_sas += 2 * p->n_keys;
		keys = keys || p->n_keys;
	}
	if (keys && !transmit(v)) {
		why_set(why, "keys but no committed generation");
		return -EINVAL;
	}
	return 0;
}

/* The SPI the out policy names: the transmit generation's, or 0. */
static uint32_t out_spi(const struct desired_view *v,
			const struct desired_peer *p)
{
	const struct desired_gen *tx = transmit(v);

	for (size_t k = 0; tx && k < p->n_keys; k++)
		if (p->keys[k].g == tx->g)
			return p->keys[k].spi_out;
	return 0;
}

static void set_encap(struct xfrm_sa *sa, uint16_t sport, uint16_t dport)
{
	sa->encap_type = XFRM_ENCAP_ESPINUDP;
	sa->encap_sport = sport;
	sa->encap_dport = dport;
}

/*
 * A refused pair keeps both policies, the out one naming no SPI: nothing
 * leaves or enters in cleartext, and no SA is there to use.
 */
static void build_peer(const struct desired_view *v,
		       const struct desired_config *cfg,
		       const struct desired_peer *p, struct desired_state *s)
{
	struct desired_pair pr;
	bool sas;

	if (desired_pair(v, p, cfg, &pr))
		return; /* refused by check() before anything was built */
	sas = pr.path != DPATH_REFUSED;
	for (size_t k = 0; sas && k < p->n_keys; k++) {
		const struct desired_keys *kk = &p->keys[k];
		struct xfrm_sa *out = &s->sas[s->n_sas++];
		struct xfrm_sa *in = &s->sas[s->n_sas++];

		sa_fill(out, cfg, pr.me, pr.peer, kk->spi_out, kk->key_out);
		sa_fill(in, cfg, pr.peer, pr.me, kk->spi_in, kk->key_in);
		if (pr.path == DPATH_UDP) {
			set_encap(out, pr.sport, pr.dport);
			set_encap(in, pr.dport, pr.sport);
		}
	}
	pol_fill(&s->pols[s->n_pols++], cfg, pr.me, pr.peer, XFRM_OUT,
		 sas ? out_spi(v, p) : 0);
	pol_fill(&s->pols[s->n_pols++], cfg, pr.peer, pr.me, XFRM_IN, 0);
}

/*
 * One catch-all prefix for one of self's addresses, at a lower priority
 * than the pairs: cleartext VXLAN to it is blocked (out), and VXLAN from it
 * must come in ESP of our reqid (in): a removed node or a stranger gets
 * nothing in, even in cleartext, once its pair policies are gone.
 */
static void catchall_pair(const struct desired_config *cfg,
			  const struct desired_addr *self,
			  const struct desired_prefix *net,
			  struct desired_state *s)
{
	struct xfrm_policy *p = &s->pols[s->n_pols++];

	pol_fill(p, cfg, self, &net->net, XFRM_OUT, 0);
	p->sel.dst_plen = net->plen;
	p->priority = DESIRED_PRIO_CATCHALL;
	p->action = XFRM_BLOCK;
	p->has_tmpl = false;
	p->tmpl_reqid = 0;
	p = &s->pols[s->n_pols++];
	pol_fill(p, cfg, &net->net, self, XFRM_IN, 0);
	p->sel.src_plen = net->plen;
	p->priority = DESIRED_PRIO_CATCHALL;
}

/* How many catch-all prefixes self's address a gets (at least 1). */
static size_t catchall_count(const struct desired_config *cfg,
			     const struct desired_addr *a)
{
	size_t n = 0;

	for (size_t j = 0; j < cfg->n_catchall_nets; j++)
		n += cfg->catchall_nets[j].net.family == a->family;
	return n ? n : 1;
}

static void build_catchall(const struct desired_view *v,
			   const struct desired_config *cfg,
			   struct desired_state *s)
{
	for (size_t i = 0; i < v->n_self; i++) {
		const struct desired_addr *a = &v->self[i];
		struct desired_prefix all = { .net.family = a->family };
		bool any = false;

		for (size_t j = 0; j < cfg->n_catchall_nets; j++) {
			if (cfg->catchall_nets[j].net.family != a->family)
				continue;
			catchall_pair(cfg, a, &cfg->catchall_nets[j], s);
			any = true;
		}
		if (!any)
			catchall_pair(cfg, a, &all, s);
	}
}

int desired_build(const struct desired_view *v,
		  const struct desired_config *cfg, struct desired_state *out,
		  struct why *why)
{
	size_t n_sas, n_pols;
	int err = check(v, cfg, &n_sas, why);

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	out->sas = desired_sas_alloc(n_sas);
	n_pols = 2 * v->n_peers;
	for (size_t i = 0; cfg->catchall && i < v->n_self; i++)
		n_pols += 2 * catchall_count(cfg, &v->self[i]);
	out->pols = calloc(n_pols ? n_pols : 1, sizeof(*out->pols));
	if (!out->sas || !out->pols) {
		desired_state_free(out);
		why_set(why, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < v->n_peers; i++)
		build_peer(v, cfg, &v->peers[i], out);
	if (cfg->catchall)
		build_catchall(v, cfg, out);
	return 0;
}

struct xfrm_sa *desired_sas_alloc(size_t n)
{
	struct xfrm_sa *v;

	if (!n)
		n = 1;
	if (sodium_init() < 0 || !(v = sodium_allocarray(n, sizeof(*v))))
		return NULL;
	memset(v, 0, n * sizeof(*v));
	return v;
}

void desired_state_free(struct desired_state *s)
{
	if (!s)
		return;
	sodium_free(s->sas); /* wipes it */
	free(s->pols);
	memset(s, 0, sizeof(*s));
}
