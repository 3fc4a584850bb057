// SPDX-License-Identifier: MIT
/* Unit tests of agent/view.c: snapshots and deltas applied (through agent/wire.c, as the agent receives them), and every message the view must refuse. */
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
#include "proto/frame.h"

#define KEYS_MAX 16

/* A message under construction: protobuf structs on the stack. */
struct msg {
	Vxsec__Peer peers[8], *pp[8];
	Vxsec__Address addr[8], *ap[8];
	uint8_t ip[8][4];
	Vxsec__PairKey keys[KEYS_MAX], *kp[KEYS_MAX];
	uint8_t kbytes[KEYS_MAX][2][PROTO_KEY_LEN];
	Vxsec__Generation gens[3], *gp[3];
	size_t n_peers, n_keys, n_gens;
};

static Vxsec__Peer *peer(struct msg *m, const char *id, uint32_t index,
			 uint64_t inc)
{
	size_t i = m->n_peers++;

	vxsec__peer__init(&m->peers[i]);
	vxsec__address__init(&m->addr[i]);
	m->ip[i][0] = 10, m->ip[i][3] = (uint8_t)index;
	m->addr[i].ip = (ProtobufCBinaryData){ 4, m->ip[i] };
	m->ap[i] = &m->addr[i];
	m->peers[i].node_id = (char *)id;
	m->peers[i].index = index;
	m->peers[i].incarnation = inc;
	m->peers[i].n_underlay = 1;
	m->peers[i].underlay = &m->ap[i];
	m->pp[i] = &m->peers[i];
	return &m->peers[i];
}

/* Key bytes tell where they belong: fill, generation, direction. */
static void key(struct msg *m, const char *peer_id, uint32_t g, uint8_t fill)
{
	size_t i = m->n_keys++;

	vxsec__pair_key__init(&m->keys[i]);
	memset(m->kbytes[i][0], fill, PROTO_KEY_LEN);
	memset(m->kbytes[i][1], fill ^ 0xff, PROTO_KEY_LEN);
	m->keys[i].peer_id = (char *)peer_id;
	m->keys[i].generation = g;
	m->keys[i].spi_out = (1 + g) << 24 | 1;
	m->keys[i].spi_in = (1 + g) << 24 | fill;
	m->keys[i].key_out =
		(ProtobufCBinaryData){ PROTO_KEY_LEN, m->kbytes[i][0] };
	m->keys[i].key_in =
		(ProtobufCBinaryData){ PROTO_KEY_LEN, m->kbytes[i][1] };
	m->kp[i] = &m->keys[i];
}

static void gen(struct msg *m, uint32_t g, Vxsec__Phase phase)
{
	size_t i = m->n_gens++;

	vxsec__generation__init(&m->gens[i]);
	m->gens[i].generation = g;
	m->gens[i].phase = phase;
	m->gp[i] = &m->gens[i];
}

static void snapshot_of(struct msg *m, uint64_t rev, Vxsec__Snapshot *s)
{
	vxsec__snapshot__init(s);
	s->revision = rev;
	s->n_peers = m->n_peers, s->peers = m->pp;
	s->n_keys = m->n_keys, s->keys = m->kp;
	s->n_generations = m->n_gens, s->generations = m->gp;
}

/* This node: IPv4, as every peer here. */
static const struct desired_addr self_addr = { .family = AF_INET };
static const struct wire_self self_node = { "self", &self_addr, 1 };

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

/* Three peers, generation 1 committed, the keys of each. */
static void base(struct view *v)
{
	struct msg m = { 0 };
	Vxsec__Snapshot s;
	struct why why = { "" };

	assert_int_equal(view_init(v, "self"), 0);
	peer(&m, "node-c", 4, 1);
	peer(&m, "node-a", 2, 1);
	peer(&m, "node-b", 3, 7);
	gen(&m, 1, VXSEC__PHASE__PHASE_COMMITTED);
	key(&m, "node-a", 1, 0xa1);
	key(&m, "node-b", 1, 0xb1);
	key(&m, "node-c", 1, 0xc1);
	snapshot_of(&m, 10, &s);
	assert_int_equal(snapshot(v, &s, &why), 0);
}

static void test_snapshot(void **state)
{
	struct view v;
	struct desired_view dv;
	struct desired_addr self = { .family = AF_INET };
	const struct desired_keys *k;

	(void)state;
	base(&v);
	assert_true(v.have_snapshot);
	assert_int_equal(v.revision, 10);
	assert_int_equal(v.n_peers, 3);
	/* Sorted by id whatever the order on the wire. */
	assert_string_equal(v.meta[0].id, "node-a");
	assert_string_equal(v.meta[2].id, "node-c");
	assert_int_equal(v.meta[1].incarnation, 7);
	k = keys_of(find(&v, "node-b"), 1);
	assert_non_null(k);
	assert_int_equal(k->spi_in, 2u << 24 | 0xb1);
	assert_int_equal(k->key_out[0], 0xb1);
	assert_int_equal(k->key_in[35], 0xb1 ^ 0xff);
	assert_int_equal(find(&v, "node-c")->addrs[0].ip.raw[3], 4);
	assert_int_equal(view_committed(&v), 1);
	view_desired(&v, &self, 1, &dv);
	assert_int_equal(dv.n_peers, 3);
	assert_int_equal(dv.n_gens, 1);
	assert_int_equal(view_find(&v, "node-z"), -1);
	view_cleanup(&v);
}

/* The first member: no peers, no keys (protobuf-c leaves peers NULL). */
static void test_empty_snapshot(void **state)
{
	struct view v;
	struct msg m = { 0 };
	Vxsec__Snapshot s;
	struct why why = { "" };

	(void)state;
	assert_int_equal(view_init(&v, "self"), 0);
	gen(&m, 1, VXSEC__PHASE__PHASE_COMMITTED);
	snapshot_of(&m, 3, &s);
	s.peers = NULL, s.keys = NULL;
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

/* prepare 2 -> commit 2 -> retire 1: the keys of 1 leave every peer. */
static void test_rotation(void **state)
{
	struct view v;
	struct msg m = { 0 };
	Vxsec__Delta d;
	Vxsec__GenerationPrepare p = VXSEC__GENERATION_PREPARE__INIT;
	Vxsec__GenerationCommit c = VXSEC__GENERATION_COMMIT__INIT;
	Vxsec__GenerationRetire r = VXSEC__GENERATION_RETIRE__INIT;
	struct why why = { "" };

	(void)state;
	base(&v);
	key(&m, "node-a", 2, 0xa2);
	key(&m, "node-b", 2, 0xb2);
	key(&m, "node-c", 2, 0xc2);
	p.generation = 2, p.n_keys = m.n_keys, p.keys = m.kp;
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_PREPARE, d.prepare = &p;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(v.n_gens, 2);
	assert_int_equal(view_committed(&v), 1);
	assert_int_equal(keys_of(find(&v, "node-c"), 2)->key_out[0], 0xc2);

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
	assert_int_equal(v.revision, 13);
	view_cleanup(&v);
}

/* Added, new incarnation (keys replaced), removed. */
static void test_peers(void **state)
{
	struct view v;
	struct msg m = { 0 };
	Vxsec__Delta d;
	Vxsec__PeerUpdate u = VXSEC__PEER_UPDATE__INIT;
	Vxsec__PeerRemoved rm = VXSEC__PEER_REMOVED__INIT;
	struct why why = { "" };

	(void)state;
	base(&v);
	u.peer = peer(&m, "node-0", 9, 1);
	key(&m, "node-0", 1, 0x01);
	u.n_keys = 1, u.keys = m.kp;
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_PEER_ADDED, d.peer_added = &u;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(v.n_peers, 4);
	assert_string_equal(v.meta[0].id, "node-0"); /* still sorted */
	assert_int_equal(keys_of(find(&v, "node-0"), 1)->key_out[0], 0x01);

	m.n_peers = m.n_keys = 0;
	u.peer = peer(&m, "node-b", 3, 8);
	key(&m, "node-b", 1, 0x55);
	u.n_keys = 1, u.keys = m.kp;
	delta_init(&d, 12);
	d.change_case = VXSEC__DELTA__CHANGE_INCARNATION_CHANGED;
	d.incarnation_changed = &u;
	assert_int_equal(delta(&v, &d, &why), 0);

	assert_int_equal(v.meta[view_find(&v, "node-b")].incarnation, 8);
	assert_int_equal(keys_of(find(&v, "node-b"), 1)->key_out[0], 0x55);

	rm.node_id = "node-a";
	delta_init(&d, 13);
	d.change_case = VXSEC__DELTA__CHANGE_PEER_REMOVED, d.peer_removed = &rm;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(v.n_peers, 3);
	assert_int_equal(view_find(&v, "node-a"), -1);
	/* Removing it again (a delta rendered late) changes nothing. */
	delta_init(&d, 14);
	d.change_case = VXSEC__DELTA__CHANGE_PEER_REMOVED, d.peer_removed = &rm;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(v.n_peers, 3);
	view_cleanup(&v);
}

/*
 * Each refused snapshot names why and leaves the view as it was: the
 * first four on receipt (agent/wire.c, proto/), the last by the view.
 */
static void test_bad_snapshots(void **state)
{
	static const char *const reasons[] = { "not a peer", "not live",
					       "this node", "twice",
					       "goes back" };
	static const int errs[] = { -EBADMSG, -EBADMSG, -EBADMSG, -EBADMSG,
				    -EPROTO };
	struct view v;
	struct why why = { "" };

	(void)state;
	base(&v);
	for (size_t t = 0; t < 5; t++) {
		struct msg m = { 0 };
		Vxsec__Snapshot s;

		peer(&m, "node-a", 2, 1);
		gen(&m, 1, VXSEC__PHASE__PHASE_COMMITTED);
		if (t == 0)
			key(&m, "node-x", 1, 1);
		if (t == 1)
			key(&m, "node-a", 5, 1);
		if (t == 2)
			peer(&m, "self", 1, 1);
		if (t == 3)
			peer(&m, "node-a", 2, 1);
		snapshot_of(&m, t == 4 ? 9 : 20, &s);
		why.msg[0] = '\0';
		assert_int_equal(snapshot(&v, &s, &why), errs[t]);
		assert_non_null(strstr(why.msg, reasons[t]));
		assert_int_equal(v.revision, 10);
		assert_int_equal(v.n_peers, 3);
		assert_true(v.have_snapshot);
	}
	view_cleanup(&v);
}

static void test_bad_deltas(void **state)
{
	struct view v;
	Vxsec__Delta d;
	Vxsec__GenerationRetire r = VXSEC__GENERATION_RETIRE__INIT;
	Vxsec__GenerationPrepare p = VXSEC__GENERATION_PREPARE__INIT;
	struct why why = { "" };

	(void)state;
	assert_int_equal(view_init(&v, "self"), 0);
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
	p.generation = 1; /* already live */
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_PREPARE, d.prepare = &p;
	assert_int_equal(delta(&v, &d, &why), -EPROTO);
	assert_non_null(strstr(why.msg, "already live"));
	view_cleanup(&v);
}

/*
 * Nothing committed yet (generation 1 prepared): a delta bringing keys is
 * refused on receipt, not later by desired_build() ("keys but no
 * committed generation"), both for a prepare and for a new peer.
 */
static void test_keys_need_commit(void **state)
{
	struct view v;
	Vxsec__Delta d;
	Vxsec__GenerationPrepare p = VXSEC__GENERATION_PREPARE__INIT;
	Vxsec__PeerUpdate u = VXSEC__PEER_UPDATE__INIT;
	struct why why = { "" };

	(void)state;
	for (int t = 0; t < 2; t++) {
		struct msg m = { 0 };
		Vxsec__Snapshot s;

		assert_int_equal(view_init(&v, "self"), 0);
		peer(&m, "node-a", 2, 1);
		gen(&m, 1, VXSEC__PHASE__PHASE_PREPARED);
		snapshot_of(&m, 5, &s);
		assert_int_equal(snapshot(&v, &s, &why), 0);
		m.n_peers = 0;
		delta_init(&d, 6);
		if (t == 0) {
			key(&m, "node-a", 2, 0xa2);
			p.generation = 2, p.n_keys = 1, p.keys = m.kp;
			d.change_case = VXSEC__DELTA__CHANGE_PREPARE;
			d.prepare = &p;
		} else {
			u.peer = peer(&m, "node-b", 3, 1);
			key(&m, "node-b", 1, 0xb1);
			u.n_keys = 1, u.keys = m.kp;
			d.change_case = VXSEC__DELTA__CHANGE_PEER_ADDED;
			d.peer_added = &u;
		}
		why.msg[0] = '\0';
		assert_int_equal(delta(&v, &d, &why), -EPROTO);
		assert_non_null(strstr(why.msg, "no committed generation"));
		assert_false(v.have_snapshot);
		view_cleanup(&v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_empty_snapshot),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_bad_snapshots),
		cmocka_unit_test(test_bad_deltas),
		cmocka_unit_test(test_keys_need_commit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
