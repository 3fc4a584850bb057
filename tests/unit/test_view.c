// SPDX-License-Identifier: MIT
/* Unit tests of agent/view.c and agent/keyer.c: snapshots and deltas applied (through agent/wire.c, as the agent receives them), the pair keys derived equal to the peer's own, and every message the view must refuse. */
#include <errno.h>
#include <string.h>

#include "tests/unit/view_fixture.h"

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

/* How many X25519 results the view keeps for the pair with id. */
static size_t cached(const struct view *v, const char *id)
{
	const struct keyer_cache *c = &v->cache[view_find(v, id)];
	size_t n = 0;

	for (size_t i = 0; i < KEYER_CACHE_MAX; i++)
		n += c->e[i].set;
	return n;
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
	assert_int_equal(cached(&v, "node-a"), 1); /* X25519 done once */

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
	Vxsec__GenerationCommit c = VXSEC__GENERATION_COMMIT__INIT;
	Vxsec__GenerationRetire r = VXSEC__GENERATION_RETIRE__INIT;
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
	/* one X25519 per pair of keys in use; the old ones go with 1 */
	assert_int_equal(cached(&v, "node-b"), 2);
	assert_int_equal(cached(&v, "node-c"), 2);
	c.generation = 2, r.generation = 1;
	delta_init(&d, 12);
	d.change_case = VXSEC__DELTA__CHANGE_COMMIT, d.commit = &c;
	assert_int_equal(delta(&v, &d, &why), 0);
	delta_init(&d, 13);
	d.change_case = VXSEC__DELTA__CHANGE_RETIRE, d.retire = &r;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_int_equal(cached(&v, "node-b"), 1);
	assert_int_equal(cached(&v, "node-c"), 1);
	assert_pair(&v, "node-b", 7, 2, 1, 1);
	view_cleanup(&v);
	self_sk.key[1] = (struct static_key){ 0 };
	self_sk.n = 1;
}

/*
 * This node's file says its new key starts from generation 3, the leader
 * says 2 (a leader restored from a backup): generation 2 uses the key the
 * leader names, as the peers do.
 */
static void test_key_from_disagrees(void **state)
{
	struct view v;
	struct msg m = { 0 };
	Vxsec__Delta d;
	Vxsec__GenerationPrepare p;
	uint8_t epoch[PROTO_EPOCH_LEN];
	struct why why = { "" };

	(void)state;
	base(&v);
	key_change(&m, "self");
	self_sk.key[1] = (struct static_key){ nodes[0].k[1], 0, 3, true };
	self_sk.n = 2;
	prepare_of(&p, &m, 2, epoch);
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_PREPARE, d.prepare = &p;
	assert_int_equal(delta(&v, &d, &why), 0);
	assert_pair(&v, "node-a", 1, 2, 0, 1);
	assert_pair(&v, "node-a", 1, 1, 0, 0);
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
}

/* A peer taking another's index, a key this node does not hold. */
static void test_bad_delta_keys(void **state)
{
	Vxsec__PeerUpdate u = VXSEC__PEER_UPDATE__INIT;
	struct view v;
	Vxsec__Delta d;
	Vxsec__GenerationPrepare p;
	struct msg m = { 0 };
	uint8_t epoch[PROTO_EPOCH_LEN];
	struct why why = { "" };

	(void)state;
	/* a new peer with node-a's index: its SPIs would be node-a's */
	base(&v);
	delta_init(&d, 11);
	d.change_case = VXSEC__DELTA__CHANGE_PEER_ADDED, d.peer_added = &u;
	u.peer = peer(&m, "node-0", 1, 0);
	u.peer->index = 2;
	assert_int_equal(delta(&v, &d, &why), -EPROTO);
	assert_non_null(strstr(why.msg, "node-0 has the index 2 of node-a"));
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

/* Removed from the cluster: keys, epochs and X25519 results wiped. */
static void test_forget_keys(void **state)
{
	struct view v;
	static const uint8_t zero[1024];

	(void)state;
	base(&v);
	assert_true(sizeof(v.cache[0]) <= sizeof(zero));
	assert_true(sizeof(v.peers[0].keys) <= sizeof(zero));
	view_forget_keys(&v);
	assert_int_equal(v.n_gens, 0);
	assert_int_equal(v.revision, 11);
	assert_int_equal(v.n_peers, 3);
	for (size_t i = 0; i < v.n_peers; i++) {
		assert_int_equal(v.peers[i].n_keys, 0);
		assert_memory_equal(&v.cache[i], zero, sizeof(v.cache[i]));
		assert_memory_equal(v.peers[i].keys, zero,
				    sizeof(v.peers[i].keys));
	}
	assert_memory_equal(&v.epochs[0], zero, sizeof(v.epochs[0]));
	view_cleanup(&v);
}

/* A snapshot of node-a and node-b at rev, of leader term term. */
static int snapshot_term(struct view *v, uint64_t rev, uint64_t term,
			 struct why *why)
{
	struct msg m = { 0 }, me = { 0 };
	Vxsec__Snapshot s;

	peer(&m, "node-a", 1, 0);
	peer(&m, "node-b", 7, 0);
	gen(&m, 1, VXSEC__PHASE__PHASE_COMMITTED);
	snapshot_of(&m, rev, &me, &s);
	s.term = term;
	why->msg[0] = '\0';
	return snapshot(v, &s, why);
}

/* node-b removed at rev, by a leader of term term. */
static int removal_term(struct view *v, uint64_t rev, uint64_t term,
			struct why *why)
{
	Vxsec__PeerRemoved rm = VXSEC__PEER_REMOVED__INIT;
	Vxsec__Delta d;

	rm.node_id = "node-b";
	delta_init(&d, rev);
	d.term = term;
	d.change_case = VXSEC__DELTA__CHANGE_PEER_REMOVED, d.peer_removed = &rm;
	why->msg[0] = '\0';
	return delta(v, &d, why);
}

/*
 * Terms (issue 16): a newer leader's snapshot is a takeover, whatever its
 * revision; a leader of an older term is refused, by snapshot or delta,
 * and changes nothing (the view stays trusted); within one term the
 * revision rules hold. The term held before any snapshot (the owner's,
 * from disk) counts as well.
 */
static void test_terms(void **state)
{
	static const char stale[] = "leader term 4 is older than the term 5 "
				    "this agent holds: refusing a stale leader";
	struct view v;
	struct why why = { "" };

	(void)state;
	base(&v); /* term 0, revision 10, three peers */
	assert_int_equal(v.term, 0);
	assert_int_equal(snapshot_term(&v, 8, 5, &why), 0);
	assert_int_equal(v.term, 5);
	assert_int_equal(v.revision, 8);
	assert_int_equal(v.n_peers, 2);

	assert_int_equal(snapshot_term(&v, 20, 4, &why), -EPROTO);
	assert_string_equal(why.msg, stale);
	assert_int_equal(removal_term(&v, 9, 4, &why), -EPROTO);
	assert_string_equal(why.msg, stale);
	assert_int_equal(view_term_check(&v, 4, &why), -EPROTO);
	assert_true(v.have_snapshot);
	assert_int_equal(v.revision, 8);
	assert_int_equal(v.n_peers, 2);

	/* The same term: a snapshot may not go back, deltas follow on. */
	assert_int_equal(snapshot_term(&v, 7, 5, &why), -EPROTO);
	assert_non_null(strstr(why.msg, "goes back from revision 8 to 7"));
	assert_int_equal(removal_term(&v, 10, 5, &why), -EPROTO);
	assert_non_null(strstr(why.msg, "revision 10 after revision 8"));
	view_cleanup(&v);

	base(&v);
	assert_int_equal(snapshot_term(&v, 11, 5, &why), 0);
	/* A newer term's delta is taken, under the revision rule. */
	assert_int_equal(removal_term(&v, 12, 6, &why), 0);
	assert_int_equal(v.term, 6);
	assert_int_equal(v.revision, 12);
	assert_int_equal(view_find(&v, "node-b"), -1);
	assert_int_equal(view_term_check(&v, 6, &why), 0);
	view_cleanup(&v);

	/* Before any snapshot: the term the kernel's revision came with. */
	assert_int_equal(view_init(&v, "self", &self_sk), 0);
	v.term = 5;
	assert_int_equal(snapshot_term(&v, 30, 4, &why), -EPROTO);
	assert_string_equal(why.msg, stale);
	assert_false(v.have_snapshot);
	assert_int_equal(snapshot_term(&v, 3, 5, &why), 0);
	assert_int_equal(v.revision, 3);
	view_cleanup(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_empty_snapshot),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_key_change),
		cmocka_unit_test(test_key_from_disagrees),
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_bad_snapshots),
		cmocka_unit_test(test_bad_deltas),
		cmocka_unit_test(test_bad_delta_keys),
		cmocka_unit_test(test_keys_need_commit),
		cmocka_unit_test(test_forget_keys),
		cmocka_unit_test(test_terms),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
