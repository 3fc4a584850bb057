// SPDX-License-Identifier: MIT
/* test_view's fixture: nodes with real X25519 keys, the leader's messages built and applied through agent/wire.c, the keys a peer derives on its own. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/unit/view_fixture.h"

struct node nodes[VIEW_NODES] = {
	{ "self", 1, { 0 } },	{ "node-a", 2, { 0 } }, { "node-b", 3, { 0 } },
	{ "node-c", 4, { 0 } }, { "node-0", 9, { 0 } },
};

struct static_keys self_sk;

struct node *node(const char *id)
{
	for (size_t i = 0; i < VIEW_NODES; i++)
		if (strcmp(nodes[i].id, id) == 0)
			return &nodes[i];
	fail_msg("no node %s", id);
	return NULL;
}

int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < VIEW_NODES; i++)
		for (size_t j = 0; j < 2; j++)
			if (!(nodes[i].k[j] = pairkey_generate()))
				return -1;
	self_sk.key[0] = (struct static_key){ nodes[0].k[0], 0, 0, true };
	self_sk.n = 1;
	return 0;
}

int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < VIEW_NODES; i++)
		for (size_t j = 0; j < 2; j++)
			pairkey_free(nodes[i].k[j]);
	return 0;
}

/* A node with its first key (from 0); a second from `from` if not 0. */
Vxsec__Peer *peer(struct msg *m, const char *id, uint64_t inc, uint32_t from)
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
void gen(struct msg *m, uint32_t g, Vxsec__Phase phase)
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
void snapshot_of(struct msg *m, uint64_t rev, struct msg *self_m,
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
int apply(struct view *v, Vxsec__Envelope *env, struct why *why)
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

int snapshot(struct view *v, Vxsec__Snapshot *s, struct why *why)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;

	env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
	env.snapshot = s;
	return apply(v, &env, why);
}

int delta(struct view *v, Vxsec__Delta *d, struct why *why)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;

	env.msg_case = VXSEC__ENVELOPE__MSG_DELTA;
	env.delta = d;
	return apply(v, &env, why);
}

const struct desired_peer *find(const struct view *v, const char *id)
{
	long i = view_find(v, id);

	assert_true(i >= 0);
	return &v->peers[i];
}

const struct desired_keys *keys_of(const struct desired_peer *p, uint32_t g)
{
	for (size_t k = 0; k < p->n_keys; k++)
		if (p->keys[k].g == g)
			return &p->keys[k];
	return NULL;
}

/*
 * What `from` derives for sending to `to` in g, on its own, with
 * common/pairkey alone: the view's key must be the same.
 */
void peer_derives(const struct end *from, const struct end *to, uint32_t g,
		  uint8_t out[PAIRKEY_LEN])
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
void assert_pair(const struct view *v, const char *id, uint64_t inc, uint32_t g,
		 int peer_key, int self_key)
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
void base(struct view *v)
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

void delta_init(Vxsec__Delta *d, uint64_t rev)
{
	vxsec__delta__init(d);
	d->revision = rev;
}

/* A prepare of g: epoch bytes all g, slot g + 10, m's key changes. */
void prepare_of(Vxsec__GenerationPrepare *p, struct msg *m, uint32_t g,
		uint8_t epoch[PROTO_EPOCH_LEN])
{
	vxsec__generation_prepare__init(p);
	memset(epoch, (int)g, PROTO_EPOCH_LEN);
	p->generation = g, p->spi_slot = g + 10;
	p->epoch = (ProtobufCBinaryData){ PROTO_EPOCH_LEN, epoch };
	p->n_key_changes = m->n_kc, p->key_changes = m->kcp;
}

/* id's second key from the prepared generation on. */
void key_change(struct msg *m, const char *id)
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
