// SPDX-License-Identifier: MIT
/* Unit tests of agent/view.c and agent/keyer.c: snapshots and deltas applied (through agent/wire.c, as the agent receives them), the pair keys derived equal to the peer's own, and every message the view must refuse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent/view.h"
#include "common/pairkey.h"
#include "proto/frame.h"

/* The nodes: real X25519 keys, the second one each a periodic change. */
struct node {
	const char *id;
	uint32_t index;
	struct pairkey_static *k[2];
};

static struct node nodes[] = {
	{ "self", 1, { 0 } },	{ "node-a", 2, { 0 } }, { "node-b", 3, { 0 } },
	{ "node-c", 4, { 0 } }, { "node-0", 9, { 0 } },
};
#define N_NODES (sizeof(nodes) / sizeof(nodes[0]))

/* This node's private keys as the daemon holds them: k[0] from 0. */
static struct static_keys self_sk;

static struct node *node(const char *id)
{
	for (size_t i = 0; i < N_NODES; i++)
		if (strcmp(nodes[i].id, id) == 0)
			return &nodes[i];
	fail_msg("no node %s", id);
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_NODES; i++)
		for (size_t j = 0; j < 2; j++)
			if (!(nodes[i].k[j] = pairkey_generate()))
				return -1;
	self_sk.key[0] = (struct static_key){ nodes[0].k[0], 0, 0, true };
	self_sk.n = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_NODES; i++)
		for (size_t j = 0; j < 2; j++)
			pairkey_free(nodes[i].k[j]);
	return 0;
}

/* A message under construction: protobuf structs on the stack. */
struct msg {
	Vxsec__Peer peers[8], *pp[8];
	Vxsec__Address addr[8], *ap[8];
	uint8_t ip[8][4];
	Vxsec__NodeKey nk[8][2], *nkp[8][2];
	Vxsec__Generation gens[3], *gp[3];
	Vxsec__Epoch ep[3], *epp[3];
	uint8_t secret[3][PROTO_EPOCH_LEN];
	Vxsec__KeyChange kc[8], *kcp[8];
	size_t n_peers, n_gens, n_kc;
};

/* A node with its first key (from 0); a second from `from` if not 0. */
static Vxsec__Peer *peer(struct msg *m, const char *id, uint64_t inc,
			 uint32_t from)
{
	size_t i = m->n_peers++;
	const struct node *n = node(id);

	vxsec__peer__init(&m->peers[i]);
	vxsec__address__init(&m->addr[i]);
	m->ip[i][0] = 10, m->ip[i][3] = (uint8_t)n->index;
	m->addr[i].ip = (ProtobufCBinaryData){ 4, m->ip[i] };
	m->ap[i] = &m->addr[i];
	m->peers[i].node_id = (char *)id;
	m->peers[i].index = n->index;
	m->peers[i].incarnation = inc;
	m->peers[i].n_underlay = 1;
	m->peers[i].underlay = &m->ap[i];
	for (size_t k = 0; k < 2; k++) {
		vxsec__node_key__init(&m->nk[i][k]);
		m->nk[i][k].from_generation = k ? from : 0;
		m->nk[i][k].key = (ProtobufCBinaryData){
			PAIRKEY_PUB_LEN, (uint8_t *)pairkey_public(n->k[k])
		};
		m->nkp[i][k] = &m->nk[i][k];
	}
	m->peers[i].n_keys = from ? 2 : 1;
	m->peers[i].keys = m->nkp[i];
	m->pp[i] = &m->peers[i];
	return &m->peers[i];
}

/* Generation g: epoch bytes all g, SPI slot g + 10. */
static void gen(struct msg *m, uint32_t g, Vxsec__Phase phase)
{
	size_t i = m->n_gens++;

	vxsec__generation__init(&m->gens[i]);
	m->gens[i].generation = g;
	m->gens[i].phase = phase;
	m->gens[i].spi_slot = g + 10;
	m->gp[i] = &m->gens[i];
	vxsec__epoch__init(&m->ep[i]);
	m->ep[i].generation = g;
	memset(m->secret[i], (int)g, PROTO_EPOCH_LEN);
	m->ep[i].secret =
		(ProtobufCBinaryData){ PROTO_EPOCH_LEN, m->secret[i] };
	m->epp[i] = &m->ep[i];
}

/* The snapshot of m; this node is the last peer of self_m. */
static void snapshot_of(struct msg *m, uint64_t rev, struct msg *self_m,
			Vxsec__Snapshot *s)
{
	vxsec__snapshot__init(s);
	s->revision = rev;
	s->n_peers = m->n_peers, s->peers = m->pp;
	s->n_generations = m->n_gens, s->generations = m->gp;
	s->n_epochs = m->n_gens, s->epochs = m->epp;
	s->self = peer(self_m, "self", 1, 0);
}

/* This node: IPv4, as every peer here; the join gave it index 1. */
static const struct desired_addr self_addr = { .family = AF_INET };
static const struct wire_self self_node = { "self", &self_addr, 1, 1 };

/* Encodes env, decodes it as the agent does, applies it to v. */
static int apply(struct view *v, Vxsec__Envelope *env, struct why *why)
{
	struct wire_msg m;
	uint8_t *frame;
	size_t flen;
	int err;

	assert_int_equal(frame_encode(env, &frame, &flen), 0);
	err = wire_decode(frame + FRAME_HEADER, flen - FRAME_HEADER, &self_node,
			  &m, why);
	frame_buf_free(frame, flen);
	if (!err && m.type == WIRE_SNAPSHOT)
		err = view_snapshot(v, &m.snapshot, why);
	else if (!err)
		err = view_delta(v, &m.delta, why);
	wire_msg_free(&m);
	return err;
}

static int snapshot(struct view *v, Vxsec__Snapshot *s, struct why *why)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;

	env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
	env.snapshot = s;
	return apply(v, &env, why);
}

static int delta(struct view *v, Vxsec__Delta *d, struct why *why)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;

	env.msg_case = VXSEC__ENVELOPE__MSG_DELTA;
	env.delta = d;
	return apply(v, &env, why);
}

static const struct desired_peer *find(const struct view *v, const char *id)
{
	long i = view_find(v, id);

	assert_true(i >= 0);
	return &v->peers[i];
}

static const struct desired_keys *keys_of(const struct desired_peer *p,
					  uint32_t g)
{
	for (size_t k = 0; k < p->n_keys; k++)
		if (p->keys[k].g == g)
			return &p->keys[k];
	return NULL;
}

/* One end of a pair, as the node at that end sees itself. */
struct end {
	const struct pairkey_static *k;
	uint32_t index;
	uint64_t inc;
};

/*
 * What `from` derives for sending to `to` in g, on its own, with
 * common/pairkey alone: the view's key must be the same.
 */
static void peer_derives(const struct end *from, const struct end *to,
			 uint32_t g, uint8_t out[PAIRKEY_LEN])
{
	uint8_t shared[PAIRKEY_SHARED_LEN], epoch[PAIRKEY_EPOCH_LEN];
	struct pairkey_end a = { from->index, from->inc,
				 pairkey_public(from->k) };
	struct pairkey_end b = { to->index, to->inc, pairkey_public(to->k) };

	memset(epoch, (int)g, sizeof(epoch));
	assert_int_equal(pairkey_shared(from->k, pairkey_public(to->k), shared),
			 0);
	assert_int_equal(pairkey_derive(shared, epoch, g, &a, &b, out), 0);
}

/*
 * The keys this node holds for the pair with `id` in g are the ones the
 * peer derives at its end (both directions), the SPIs the slot's.
 */
static void assert_pair(const struct view *v, const char *id, uint64_t inc,
			uint32_t g, int peer_key, int self_key)
{
	const struct node *n = node(id);
	const struct desired_keys *k = keys_of(find(v, id), g);
	struct end self = { nodes[0].k[self_key], 1, 1 };
	struct end it = { n->k[peer_key], n->index, inc };
	uint8_t want[PAIRKEY_LEN];

	assert_non_null(k);
	assert_int_equal(k->spi_out, (g + 10) << 24 | 1);
	assert_int_equal(k->spi_in, (g + 10) << 24 | n->index);
	peer_derives(&it, &self, g, want); /* the peer sends with it */
	assert_memory_equal(k->key_in, want, PAIRKEY_LEN);
	peer_derives(&self, &it, g, want);
	assert_memory_equal(k->key_out, want, PAIRKEY_LEN);
	assert_memory_not_equal(k->key_in, k->key_out, PAIRKEY_LEN);
}

/* Three peers, generation 1 committed. */
static void base(struct view *v)
{
	struct msg m = { 0 }, me = { 0 };
	Vxsec__Snapshot s;
	struct why why = { "" };

	assert_int_equal(view_init(v, "self", &self_sk), 0);
	peer(&m, "node-c", 1, 0);
	peer(&m, "node-a", 1, 0);
	peer(&m, "node-b", 7, 0);
	gen(&m, 1, VXSEC__PHASE__PHASE_COMMITTED);
	snapshot_of(&m, 10, &me, &s);
	assert_int_equal(snapshot(v, &s, &why), 0);
}

static void test_snapshot(void **state)
{
	struct view v;
	struct desired_view dv;
	struct desired_addr self = { .family = AF_INET };

	(void)state;
	base(&v);
	assert_true(v.have_snapshot);
	assert_int_equal(v.revision, 10);
	assert_int_equal(v.n_peers, 3);
	/* Sorted by id whatever the order on the wire. */
	assert_string_equal(v.meta[0].id, "node-a");
	assert_string_equal(v.meta[2].id, "node-c");
	assert_int_equal(v.meta[1].incarnation, 7);
	assert_int_equal(v.self.index, 1);
	assert_pair(&v, "node-a", 1, 1, 0, 0);
	assert_pair(&v, "node-b", 7, 1, 0, 0);
	assert_pair(&v, "node-c", 1, 1, 0, 0);
	assert_int_equal(find(&v, "node-c")->addrs[0].ip.raw[3], 4);
	assert_int_equal(view_committed(&v), 1);
	view_desired(&v, &self, 1, &dv);
	assert_int_equal(dv.n_peers, 3);
	assert_int_equal(dv.n_gens, 1);
	assert_int_equal(view_find(&v, "node-z"), -1);
	view_cleanup(&v);
}

/* The first member: no peers (protobuf-c leaves peers NULL). */
static void test_empty_snapshot(void **state)
{
	struct view v;
	struct msg m = { 0 }, me = { 0 };
	Vxsec__Snapshot s;
	struct why why = { "" };

	(void)state;
	assert_int_equal(view_init(&v, "self", &self_sk), 0);
	gen(&m, 1, VXSEC__PHASE__PHASE_COMMITTED);
	snapshot_of(&m, 3, &me, &s);
	s.peers = NULL;
	assert_int_equal(snapshot(&v, &s, &why), 0);
	assert_int_equal(v.n_peers, 0);
	assert_true(v.have_snapshot);
	view_cleanup(&v);
}

static void delta_init(Vxsec__Delta *d, uint64_t rev)
{
	vxsec__delta__init(d);
	d->revision = rev;
}

/* A prepare of g: epoch bytes all g, slot g + 10, m's key changes. */
static void prepare_of(Vxsec__GenerationPrepare *p, struct msg *m, uint32_t g,
		       uint8_t epoch[PROTO_EPOCH_LEN])
{
	vxsec__generation_prepare__init(p);
	memset(epoch, (int)g, PROTO_EPOCH_LEN);
	p->generation = g, p->spi_slot = g + 10;
	p->epoch = (ProtobufCBinaryData){ PROTO_EPOCH_LEN, epoch };
	p->n_key_changes = m->n_kc, p->key_changes = m->kcp;
}

/* id's second key from the prepared generation on. */
static void key_change(struct msg *m, const char *id)
{
	size_t i = m->n_kc++;
	const struct node *n = node(id);

	vxsec__key_change__init(&m->kc[i]);
	m->kc[i].index = n->index;
	m->kc[i].key =
		(ProtobufCBinaryData){ PAIRKEY_PUB_LEN,
				       (uint8_t *)pairkey_public(n->k[1]) };
	m->kcp[i] = &m->kc[i];
}

/* prepare 2 -> commit 2 -> retire 1: the keys and epoch of 1 go. */
static void test_rotation(void **state)
{
	struct view v;
	struct msg m = { 0 };
	Vxsec__Delta d;
	Vxsec__GenerationPrepare p;
	Vxsec__GenerationCommit c = VXSEC__GENERATION_COMMIT__INIT;
	Vxsec__GenerationRetire r = VXSEC__GENERATION_RETIRE__INIT;
	uint8_t epoch[PROTO_EPOCH_LEN], zero[sizeof(*v.epochs)] = { 0 };
	struct why why = { "" };

	(void)state;
	base(&v);
	prepare_of(&p, &m, 2, epoch);
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_PREPARE, d.prepare = &p;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(v.n_gens, 2);
	assert_int_equal(view_committed(&v), 1);
	for (size_t i = 1; i < 4; i++) { /* every peer: keys of 1 and 2 */
		assert_pair(&v, nodes[i].id, i == 2 ? 7 : 1, 1, 0, 0);
		assert_pair(&v, nodes[i].id, i == 2 ? 7 : 1, 2, 0, 0);
	}
	assert_memory_not_equal(keys_of(find(&v, "node-a"), 1)->key_out,
				keys_of(find(&v, "node-a"), 2)->key_out,
				PAIRKEY_LEN);

	c.generation = 2;
	delta_init(&d, 12);
	d.change_case = VXSEC__DELTA__CHANGE_COMMIT, d.commit = &c;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(view_committed(&v), 2);
	assert_int_equal(v.gens[0].phase, DPHASE_RETIRING);

	r.generation = 1;
	delta_init(&d, 13);
	d.change_case = VXSEC__DELTA__CHANGE_RETIRE, d.retire = &r;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(v.n_gens, 1);
	for (size_t i = 0; i < v.n_peers; i++) {
		assert_int_equal(v.peers[i].n_keys, 1);
		assert_null(keys_of(&v.peers[i], 1));
	}
	assert_int_equal(v.epochs[0].g, 2);
	assert_int_equal(v.epochs[0].secret[0], 2);
	/* the epoch of 1 is wiped, not only forgotten */
	assert_memory_equal(&v.epochs[1], zero, sizeof(zero));
	assert_int_equal(v.revision, 13);
	view_cleanup(&v);
}

/*
 * A periodic key change of node-b and of this node with generation 2:
 * the keys of 2 use the new keys, those of 1 stay as they were.
 */
static void test_key_change(void **state)
{
	struct view v;
	struct msg m = { 0 };
	Vxsec__Delta d;
	Vxsec__GenerationPrepare p;
	uint8_t epoch[PROTO_EPOCH_LEN], before[PAIRKEY_LEN];
	struct why why = { "" };

	(void)state;
	base(&v);
	memcpy(before, keys_of(find(&v, "node-b"), 1)->key_out, PAIRKEY_LEN);
	key_change(&m, "node-b");
	key_change(&m, "self");
	/* the daemon binds this node's new key before the view sees it */
	self_sk.key[1] = (struct static_key){ nodes[0].k[1], 0, 2, true };
	self_sk.n = 2;
	prepare_of(&p, &m, 2, epoch);
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_PREPARE, d.prepare = &p;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_pair(&v, "node-b", 7, 2, 1, 1);
	assert_pair(&v, "node-a", 1, 2, 0, 1);
	assert_pair(&v, "node-b", 7, 1, 0, 0);
	assert_memory_equal(keys_of(find(&v, "node-b"), 1)->key_out, before,
			    PAIRKEY_LEN);
	assert_int_equal(v.self.n_keys, 2);
	assert_int_equal(v.self.keys[1].from, 2);
	view_cleanup(&v);
	self_sk.key[1] = (struct static_key){ 0 };
	self_sk.n = 1;
}

/* Added, new incarnation (keys replaced), removed. */
static void test_peers(void **state)
{
	struct view v;
	struct msg m = { 0 };
	Vxsec__Delta d;
	Vxsec__PeerUpdate u = VXSEC__PEER_UPDATE__INIT;
	Vxsec__PeerRemoved rm = VXSEC__PEER_REMOVED__INIT;
	uint8_t before[PAIRKEY_LEN];
	struct why why = { "" };

	(void)state;
	base(&v);
	u.peer = peer(&m, "node-0", 1, 0);
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_PEER_ADDED, d.peer_added = &u;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(v.n_peers, 4);
	assert_string_equal(v.meta[0].id, "node-0"); /* still sorted */
	assert_pair(&v, "node-0", 1, 1, 0, 0);
	assert_pair(&v, "node-b", 7, 1, 0, 0); /* the others moved intact */

	memcpy(before, keys_of(find(&v, "node-b"), 1)->key_in, PAIRKEY_LEN);
	m.n_peers = 0;
	u.peer = peer(&m, "node-b", 8, 0);
	delta_init(&d, 12);
	d.change_case = VXSEC__DELTA__CHANGE_INCARNATION_CHANGED;
	d.incarnation_changed = &u;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(v.meta[view_find(&v, "node-b")].incarnation, 8);
	assert_pair(&v, "node-b", 8, 1, 0, 0);
	assert_memory_not_equal(keys_of(find(&v, "node-b"), 1)->key_in, before,
				PAIRKEY_LEN);

	rm.node_id = "node-a";
	delta_init(&d, 13);
	d.change_case = VXSEC__DELTA__CHANGE_PEER_REMOVED, d.peer_removed = &rm;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(v.n_peers, 3);
	assert_int_equal(view_find(&v, "node-a"), -1);
	assert_pair(&v, "node-c", 1, 1, 0, 0);
	/* Removing it again (a delta rendered late) changes nothing. */
	delta_init(&d, 14);
	d.change_case = VXSEC__DELTA__CHANGE_PEER_REMOVED, d.peer_removed = &rm;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(v.n_peers, 3);
	view_cleanup(&v);
}

/*
 * Each refused snapshot names why and leaves the view as it was: the
 * first three on receipt (agent/wire.c, proto/), the rest by the view.
 */
static void test_bad_snapshots(void **state)
{
	static const char *const reasons[] = {
		"this node",
		"twice",
		"this node index 5",
		"goes back",
		"does not hold the key",
		"low-order point",
	};
	static const int errs[] = { -EBADMSG, -EBADMSG, -EBADMSG,
				    -EPROTO,  -EPROTO,	-EPROTO };
	static const uint8_t zero[PAIRKEY_PUB_LEN] = { 0 };
	struct view v;
	struct why why = { "" };

	(void)state;
	base(&v);
	for (size_t t = 0; t < 6; t++) {
		struct msg m = { 0 }, me = { 0 };
		Vxsec__Snapshot s;

		peer(&m, "node-a", 1, 0);
		gen(&m, 1, VXSEC__PHASE__PHASE_COMMITTED);
		if (t == 0)
			peer(&m, "self", 1, 0);
		if (t == 1)
			peer(&m, "node-a", 1, 0);
		snapshot_of(&m, t == 3 ? 9 : 20, &me, &s);
		if (t == 2)
			s.self->index = 5;
		if (t == 4) /* the leader names a key this node never had */
			me.nk[0][0].key = m.nk[0][0].key;
		if (t == 5) /* an all-zero public key: X25519 gives zero */
			m.nk[0][0].key.data = (uint8_t *)zero;
		why.msg[0] = '\0';
		assert_int_equal(snapshot(&v, &s, &why), errs[t]);
		assert_non_null(strstr(why.msg, reasons[t]));
		assert_int_equal(v.revision, 10);
		assert_int_equal(v.n_peers, 3);
		assert_true(v.have_snapshot);
		assert_pair(&v, "node-a", 1, 1, 0, 0);
	}
	view_cleanup(&v);
}

static void test_bad_deltas(void **state)
{
	struct view v;
	Vxsec__Delta d;
	Vxsec__GenerationRetire r = VXSEC__GENERATION_RETIRE__INIT;
	Vxsec__GenerationPrepare p;
	struct msg m = { 0 };
	uint8_t epoch[PROTO_EPOCH_LEN];
	struct why why = { "" };

	(void)state;
	assert_int_equal(view_init(&v, "self", &self_sk), 0);
	r.generation = 1;
	delta_init(&d, 1);
	d.change_case = VXSEC__DELTA__CHANGE_RETIRE, d.retire = &r;
	assert_int_equal(delta(&v, &d, &why), -EPROTO);
	assert_non_null(strstr(why.msg, "before any snapshot"));
	view_cleanup(&v);

	base(&v);
	delta_init(&d, 12); /* a gap */
	d.change_case = VXSEC__DELTA__CHANGE_RETIRE, d.retire = &r;
	assert_int_equal(delta(&v, &d, &why), -EPROTO);
	assert_non_null(strstr(why.msg, "revision 12 after revision 10"));
	assert_true(v.have_snapshot); /* a gap changed nothing */

	/* generation 1: the committed one */
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_RETIRE, d.retire = &r;
	assert_int_equal(delta(&v, &d, &why), -EPROTO);
	assert_non_null(strstr(why.msg, "committed"));
	assert_false(v.have_snapshot); /* untrusted until a snapshot */
	view_cleanup(&v);

	base(&v);
	prepare_of(&p, &m, 1, epoch); /* already live */
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_PREPARE, d.prepare = &p;
	assert_int_equal(delta(&v, &d, &why), -EPROTO);
	assert_non_null(strstr(why.msg, "already live"));
	view_cleanup(&v);

	/* this node's new key, which it was never told to bind */
	base(&v);
	key_change(&m, "self");
	prepare_of(&p, &m, 2, epoch);
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_PREPARE, d.prepare = &p;
	assert_int_equal(delta(&v, &d, &why), -EPROTO);
	assert_non_null(strstr(why.msg, "does not hold the key"));
	assert_false(v.have_snapshot);
	view_cleanup(&v);
}

/*
 * Nothing committed (generation 1 prepared): pairs would have keys that
 * desired_build() refuses, so the view refuses them on receipt: a
 * snapshot with peers, a new peer, a prepare.
 */
static void test_keys_need_commit(void **state)
{
	struct view v;
	Vxsec__Delta d;
	Vxsec__GenerationPrepare p;
	Vxsec__PeerUpdate u = VXSEC__PEER_UPDATE__INIT;
	uint8_t epoch[PROTO_EPOCH_LEN];
	struct why why = { "" };

	(void)state;
	for (int t = 0; t < 3; t++) {
		struct msg m = { 0 }, me = { 0 };
		Vxsec__Snapshot s;

		assert_int_equal(view_init(&v, "self", &self_sk), 0);
		if (t == 0)
			peer(&m, "node-a", 1, 0);
		gen(&m, 1, VXSEC__PHASE__PHASE_PREPARED);
		snapshot_of(&m, 5, &me, &s);
		why.msg[0] = '\0';
		if (t == 0) {
			assert_int_equal(snapshot(&v, &s, &why), -EPROTO);
			assert_non_null(strstr(why.msg, "no committed one"));
			assert_false(v.have_snapshot);
			view_cleanup(&v);
			continue;
		}
		assert_int_equal(snapshot(&v, &s, &why), 0);
		delta_init(&d, 6);
		if (t == 1) {
			u.peer = peer(&m, "node-b", 1, 0);
			d.change_case = VXSEC__DELTA__CHANGE_PEER_ADDED;
			d.peer_added = &u;
		} else {
			prepare_of(&p, &m, 2, epoch);
			d.change_case = VXSEC__DELTA__CHANGE_PREPARE;
			d.prepare = &p;
		}
		assert_int_equal(delta(&v, &d, &why), t == 1 ? -EPROTO : 0);
		if (t == 1) {
			assert_non_null(strstr(why.msg, "no committed one"));
			assert_false(v.have_snapshot);
		}
		view_cleanup(&v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_empty_snapshot),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_key_change),
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_bad_snapshots),
		cmocka_unit_test(test_bad_deltas),
		cmocka_unit_test(test_keys_need_commit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
