// SPDX-License-Identifier: MIT
/* Unit tests: the leader's cluster state, change log, snapshots and deltas (protocol 2). */
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
static uint64_t now = 1000;

static void counter_random(uint8_t *buf, size_t len, void *arg)
{
	uint8_t *c = arg;

	memset(buf, ++*c, len);
}

static void boot(uint8_t b[REGISTRY_BOOT_ID_LEN], uint8_t v)
{
	memset(b, v, REGISTRY_BOOT_ID_LEN);
}

/* A node's static public key: its id's bytes (cluster_* copy it). */
static const uint8_t *pk(const char *id)
{
	static uint8_t k[REGISTRY_PUB_LEN];

	size_t n = strlen(id);

	memset(k, 0x5a, sizeof(k));
	memcpy(k, id, n < sizeof(k) ? n : sizeof(k));
	return k;
}

static struct node_addr v4(uint8_t last)
{
	struct node_addr a = { 4, { 192, 168, 0, last } };

	return a;
}

/* A cluster of n members, all connected, generation 1 committed. */
static void make(struct cluster *c, uint8_t *ctr, int n)
{
	uint8_t b[REGISTRY_BOOT_ID_LEN];
	char id[16];

	assert_int_equal(cluster_init(c, &cfg, counter_random, ctr), 0);
	for (int i = 1; i <= n; i++) {
		struct node_addr a = v4((uint8_t)i);

		snprintf(id, sizeof(id), "node-%d", i);
		boot(b, (uint8_t)i);
		assert_int_equal(cluster_join(c, id, b, &a, 1, pk(id), NULL),
				 0);
		assert_int_equal(cluster_hello(c, id, b, &a, 1, false, pk(id),
					       NULL, NULL),
				 0);
	}
	/* Nobody acks: the deadlines carry generation 1 through. */
	for (int k = 0; k < 6 && (c->rot.phase != ROT_IDLE || !c->rot.n_gens);
	     k++) {
		assert_true(cluster_step(c, now, acts, 64) >= 0);
		now += 1000;
	}
	assert_int_equal(rot_transmit(&c->rot)->g, 1);
}

static Vxsec__Envelope *decode(uint8_t *frame, size_t len)
{
	Vxsec__Envelope *env = NULL;
	struct why why = { "" };

	assert_int_equal(frame_decode(frame + FRAME_HEADER, len - FRAME_HEADER,
				      &env, &why),
			 0);
	return env;
}

/* A peer (or self) as the leader knows it: index, incarnation, keys. */
static void assert_peer_is(const Vxsec__Peer *p, const struct node *n)
{
	assert_string_equal(p->node_id, n->id);
	assert_int_equal(p->index, n->index);
	assert_int_equal(p->incarnation, n->incarnation);
	assert_int_equal(p->n_keys, n->n_keys);
	for (size_t k = 0; k < n->n_keys; k++) {
		assert_int_equal(p->keys[k]->from_generation, n->keys[k].from);
		assert_int_equal(p->keys[k]->key.len, REGISTRY_PUB_LEN);
		assert_memory_equal(p->keys[k]->key.data, n->keys[k].pub,
				    REGISTRY_PUB_LEN);
	}
}

/* A snapshot: every other member, each live generation and its epoch. */
static void test_snapshot_v2(void **state)
{
	struct cluster c;
	uint8_t ctr = 0, *f;
	size_t len;

	(void)state;
	make(&c, &ctr, 5);
	rot_request(&c.rot);
	assert_true(cluster_step(&c, now, acts, 64) > 0); /* 2 prepared */
	for (uint32_t i = 1; i <= 5; i++) {
		const struct node *self = cluster_node(&c, i);
		Vxsec__Snapshot *s;
		Vxsec__Envelope *env;

		assert_int_equal(wire_snapshot(&c, self, 40 + i, &f, &len), 0);
		env = decode(f, len);
		s = env->snapshot;
		assert_int_equal(s->revision, cluster_revision(&c));
		assert_int_equal(s->term, 40 + i); /* the leader's term */
		assert_int_equal(s->n_peers, 4);
		assert_int_equal(s->n_generations, 2);
		assert_int_equal(s->n_epochs, 2);
		for (size_t g = 0; g < 2; g++) {
			assert_int_equal(s->generations[g]->generation,
					 c.rot.gens[g].g);
			assert_int_equal(s->generations[g]->spi_slot,
					 keys_spi_slot(c.rot.gens[g].g));
			assert_int_equal(s->epochs[g]->generation,
					 c.rot.gens[g].g);
			assert_memory_equal(s->epochs[g]->secret.data,
					    c.rot.gens[g].epoch,
					    KEYS_EPOCH_LEN);
		}
		assert_peer_is(s->self, self);
		for (size_t p = 0; p < s->n_peers; p++) {
			assert_string_not_equal(s->peers[p]->node_id, self->id);
			assert_peer_is(s->peers[p],
				       cluster_find(&c, s->peers[p]->node_id));
		}
		frame_free(env);
		frame_buf_free(f, len);
	}
	cluster_cleanup(&c);
}

/* The change after `rev` rendered for `to`: its frame, decoded. */
static Vxsec__Envelope *delta_for(struct cluster *c, uint64_t rev,
				  const struct node *to, int want)
{
	struct change ch;
	uint8_t *f;
	size_t len;
	Vxsec__Envelope *env;

	assert_int_equal(cluster_change_after(c, rev, &ch), 0);
	assert_int_equal(ch.revision, rev + 1);
	assert_int_equal(wire_delta(c, to, &ch, 9000 + rev, &f, &len), want);
	if (want)
		return NULL;
	env = decode(f, len);
	frame_buf_free(f, len);
	assert_int_equal(env->delta->revision, rev + 1);
	assert_int_equal(env->delta->term, 9000 + rev); /* on every delta */
	return env;
}

static void test_join_reboot_remove_deltas(void **state)
{
	struct cluster c;
	uint8_t ctr = 0, b[REGISTRY_BOOT_ID_LEN];
	struct node_addr a = v4(9);
	struct node *n1, *n9;
	Vxsec__Envelope *env;
	uint64_t rev;

	(void)state;
	make(&c, &ctr, 3);
	n1 = cluster_node(&c, 1);
	rev = cluster_revision(&c);
	boot(b, 9);
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a, 1, pk("node-9"), &n9), 0);
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a, 1, pk("node-x"), NULL),
		-EEXIST);
	env = delta_for(&c, rev, n1, 0);
	assert_int_equal(env->delta->change_case,
			 VXSEC__DELTA__CHANGE_PEER_ADDED);
	assert_peer_is(env->delta->peer_added->peer, n9);
	assert_int_equal(n9->n_keys, 1);
	assert_int_equal(n9->keys[0].from, 0);
	assert_memory_equal(n9->keys[0].pub, pk("node-9"), REGISTRY_PUB_LEN);
	frame_free(env);
	delta_for(&c, rev, n9, -ENODATA); /* about itself */

	/* Same boot id and addresses: nothing changes. */
	assert_int_equal(cluster_hello(&c, "node-9", b, &a, 1, false,
				       pk("node-9"), NULL, NULL),
			 0);
	/* A reboot: a new incarnation and its new key for every gen. */
	rev = cluster_revision(&c);
	boot(b, 10);
	assert_int_equal(cluster_hello(&c, "node-9", b, &a, 1, false,
				       pk("node-9 rebooted"), NULL, NULL),
			 1);
	env = delta_for(&c, rev, n1, 0);
	assert_int_equal(env->delta->change_case,
			 VXSEC__DELTA__CHANGE_INCARNATION_CHANGED);
	assert_int_equal(env->delta->incarnation_changed->peer->incarnation, 2);
	assert_peer_is(env->delta->incarnation_changed->peer, n9);
	assert_memory_equal(n9->keys[0].pub, pk("node-9 rebooted"),
			    REGISTRY_PUB_LEN);
	frame_free(env);
	/* New addresses, same boot: a new incarnation as well. */
	rev = cluster_revision(&c);
	a = v4(99);
	assert_int_equal(cluster_hello(&c, "node-9", b, &a, 1, false,
				       pk("node-9"), NULL, NULL),
			 1);
	assert_int_equal(n9->incarnation, 3);
	assert_int_equal(n9->addrs[0].ip[3], 99);
	/* Same boot and addresses, but its kernel lost our SAs: new keys. */
	rev = cluster_revision(&c);
	assert_int_equal(cluster_hello(&c, "node-9", b, &a, 1, true,
				       pk("node-9"), NULL, NULL),
			 1);
	assert_int_equal(n9->incarnation, 4);
	env = delta_for(&c, rev, n1, 0);
	assert_int_equal(env->delta->change_case,
			 VXSEC__DELTA__CHANGE_INCARNATION_CHANGED);
	frame_free(env);

	/* Removal: peers are told, a rotation is asked for, no more keys. */
	rev = cluster_revision(&c);
	assert_int_equal(cluster_remove(&c, "node-9"), 0);
	assert_int_equal(cluster_remove(&c, "node-9"), -EPERM);
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a, 1, pk("node-9"), NULL),
		-EPERM);
	assert_int_equal(cluster_hello(&c, "node-9", b, &a, 1, false,
				       pk("node-9"), NULL, NULL),
			 -EPERM);
	assert_true(c.rot.requested);
	env = delta_for(&c, rev, n1, 0);
	assert_int_equal(env->delta->change_case,
			 VXSEC__DELTA__CHANGE_PEER_REMOVED);
	assert_string_equal(env->delta->peer_removed->node_id, "node-9");
	frame_free(env);
	/* Its old join, rendered late, says nothing any more. */
	{
		struct change ch = { 1, CHG_PEER_ADDED, n9->index, 0 };
		uint8_t *f;
		size_t len;

		assert_int_equal(wire_delta(&c, n1, &ch, 0, &f, &len),
				 -ENODATA);
	}
	cluster_cleanup(&c);
}

/* Two members never share an underlay address; a removed one frees it. */
static void test_addresses_unique(void **state)
{
	struct cluster c;
	uint8_t ctr = 0, b[REGISTRY_BOOT_ID_LEN];
	struct node_addr a2 = v4(2), a3 = v4(3), a7 = v4(7);
	struct node *x;
	uint64_t rev;

	(void)state;
	make(&c, &ctr, 3);
	boot(b, 42);
	rev = cluster_revision(&c);
	/* A token holder announcing node-2's address is refused, unchanged. */
	assert_int_equal(
		cluster_join(&c, "node-x", b, &a2, 1, pk("node-x"), NULL),
		-EADDRINUSE);
	assert_string_equal(cluster_addr_owner(&c, "node-x", &a2, 1)->id,
			    "node-2");
	assert_null(registry_find(c.reg, "node-x"));
	assert_int_equal(cluster_revision(&c), rev);
	/* Its own address is no conflict; a free one joins. */
	assert_null(cluster_addr_owner(&c, "node-2", &a2, 1));
	assert_int_equal(
		cluster_join(&c, "node-x", b, &a7, 1, pk("node-x"), &x), 0);
	/* A member cannot move onto another's address either. */
	rev = cluster_revision(&c);
	assert_int_equal(cluster_hello(&c, "node-x", b, &a3, 1, false,
				       pk("node-x"), NULL, NULL),
			 -EADDRINUSE);
	assert_int_equal(x->addrs[0].ip[3], 7);
	assert_int_equal(cluster_revision(&c), rev);
	/* Once node-3 is removed, its address is free. */
	assert_int_equal(cluster_remove(&c, "node-3"), 0);
	assert_null(cluster_addr_owner(&c, "node-x", &a3, 1));
	assert_int_equal(cluster_hello(&c, "node-x", b, &a3, 1, false,
				       pk("node-x"), NULL, NULL),
			 1);
	assert_int_equal(x->addrs[0].ip[3], 3);
	cluster_cleanup(&c);
}

static void test_rotation_deltas(void **state)
{
	struct cluster c;
	uint8_t ctr = 0;
	struct node *n2;
	Vxsec__Envelope *env;
	uint64_t rev;
	int k;

	(void)state;
	make(&c, &ctr, 4);
	n2 = cluster_node(&c, 2);
	rev = cluster_revision(&c);
	rot_request(&c.rot);
	k = cluster_step(&c, now, acts, 64);
	assert_int_equal(k, 2);
	env = delta_for(&c, rev, n2, 0);
	assert_int_equal(env->delta->change_case, VXSEC__DELTA__CHANGE_PREPARE);
	assert_int_equal(env->delta->prepare->generation, 2);
	assert_int_equal(env->delta->prepare->spi_slot, keys_spi_slot(2));
	assert_memory_equal(env->delta->prepare->epoch.data,
			    cluster_gen(&c, 2)->epoch, KEYS_EPOCH_LEN);
	assert_int_equal(env->delta->prepare->n_key_changes, 0);
	frame_free(env);
	for (uint32_t i = 1; i <= 4; i++)
		cluster_ack(&c, i, rev + 1);
	assert_int_equal(cluster_step(&c, now + 1, acts, 64), 2);
	env = delta_for(&c, rev + 1, n2, 0);
	assert_int_equal(env->delta->commit->generation, 2);
	frame_free(env);
	for (uint32_t i = 1; i <= 4; i++)
		cluster_ack(&c, i, rev + 2);
	cluster_step(&c, now + 2, acts, 64);
	assert_int_equal(cluster_step(&c, now + 2 + cfg.grace_ms, acts, 64), 2);
	env = delta_for(&c, rev + 2, n2, 0);
	assert_int_equal(env->delta->retire->generation, 1);
	frame_free(env);
	assert_int_equal(cluster_revision(&c), rev + 3);
	/* Generation 1 is gone: its prepare cannot be rendered any more. */
	{
		struct change ch = { 1, CHG_PREPARE, 0, 1 };
		uint8_t *f;
		size_t len;

		assert_int_equal(wire_delta(&c, n2, &ch, 0, &f, &len), -ESTALE);
	}
	cluster_cleanup(&c);
}

static void test_change_log_window(void **state)
{
	struct cluster c;
	uint8_t ctr = 0, b[REGISTRY_BOOT_ID_LEN];
	struct change ch;
	struct node_addr a1;
	uint64_t start;

	(void)state;
	make(&c, &ctr, 2);
	start = cluster_revision(&c);
	assert_int_equal(cluster_change_after(&c, start, &ch), -ENOENT);
	for (int i = 0; i < CLUSTER_LOG_MAX + 10; i++) {
		struct node_addr a = v4(1);

		boot(b, (uint8_t)(i + 50));
		assert_int_equal(cluster_hello(&c, "node-1", b, &a, 1, false,
					       pk("node-1"), NULL, NULL),
				 1);
	}
	assert_int_equal(cluster_revision(&c), start + CLUSTER_LOG_MAX + 10);
	/* Too far behind: a snapshot; recent enough: the next change. */
	assert_int_equal(cluster_change_after(&c, start, &ch), -ESTALE);
	assert_int_equal(cluster_change_after(&c, start + 9, &ch), -ESTALE);
	assert_int_equal(cluster_change_after(&c, start + 10, &ch), 0);
	assert_int_equal(ch.revision, start + 11);
	assert_int_equal(ch.type, CHG_PEER_UPDATED);
	/* Restored from disk: the revision goes on, no change is known. */
	cluster_restore(&c, 5000);
	assert_int_equal(cluster_revision(&c), 5000);
	assert_int_equal(cluster_change_after(&c, 5000, &ch), -ENOENT);
	assert_int_equal(cluster_change_after(&c, 4999, &ch), -ESTALE);
	a1 = v4(1);
	assert_int_equal(cluster_hello(&c, "node-1", b, &a1, 1, true,
				       pk("node-1"), NULL, NULL),
			 1);
	assert_int_equal(cluster_change_after(&c, 5000, &ch), 0);
	assert_int_equal(ch.revision, 5001);
	cluster_cleanup(&c);
}

/* A restart in the middle of a prepare waits for every member again. */
static void test_resume_waits_for_members(void **state)
{
	struct cluster c;
	uint8_t ctr = 0;

	(void)state;
	make(&c, &ctr, 3);
	rot_request(&c.rot);
	cluster_step(&c, now, acts, 64);
	for (uint32_t i = 1; i <= 3; i++)
		cluster_disconnect(&c, cluster_node(&c, i)->id);
	assert_int_equal(c.rot.n_pending, 0);
	assert_int_equal(cluster_resume(&c, now), 0);
	assert_int_equal(c.rot.n_pending, 3);
	assert_int_equal(cluster_step(&c, now + 1, acts, 64), 0);
	cluster_cleanup(&c);
}

/*
 * A removal that could not be saved is taken back whole: the node is a
 * member again, the phase waits for its ack again, and the revision, the
 * change log and the rotation request are as before.
 */
static void test_remove_undone(void **state)
{
	struct cluster c;
	struct cluster_undo u;
	struct change ch;
	uint8_t ctr = 0;
	uint64_t rev;

	(void)state;
	make(&c, &ctr, 3);
	rot_request(&c.rot);
	assert_true(cluster_step(&c, now, acts, 64) > 0); /* prepare */
	c.rot.requested = false;
	rev = cluster_revision(&c);
	assert_int_equal(c.rot.n_pending, 3);
	cluster_undo_mark(&c, "node-2", &u);
	assert_int_equal(cluster_remove(&c, "node-2"), 0);
	assert_int_equal(c.rot.n_pending, 2);
	cluster_undo(&c, &u);
	assert_int_equal(cluster_revision(&c), rev);
	assert_int_equal(cluster_change_after(&c, rev, &ch), -ENOENT);
	assert_int_equal(cluster_change_after(&c, rev - 1, &ch), 0);
	assert_int_equal(ch.type, CHG_PREPARE);
	assert_false(c.rot.requested);
	assert_int_equal(c.rot.n_pending, 3);
	assert_int_equal(registry_count(c.reg), 3);
	assert_int_equal(registry_find(c.reg, "node-2")->state, NODE_CONNECTED);
	/* It can be removed for real afterwards. */
	assert_int_equal(cluster_remove(&c, "node-2"), 0);
	assert_int_equal(cluster_revision(&c), rev + 1);
	assert_int_equal(registry_count(c.reg), 2);
	cluster_cleanup(&c);
}

/*
 * A join whose answer never left does not make its id "already a
 * member": the next join takes the record, with a new incarnation.
 */
static void test_abandoned_join_taken_over(void **state)
{
	struct cluster c;
	uint8_t ctr = 0, b[REGISTRY_BOOT_ID_LEN];
	struct node_addr a = v4(9), a2 = v4(10), a1 = v4(1);
	struct node *n, *m;

	(void)state;
	make(&c, &ctr, 2);
	boot(b, 9);
	assert_int_equal(cluster_join(&c, "node-9", b, &a, 1, pk("node-9"), &n),
			 0);
	boot(b, 8);
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a, 1, pk("node-9"), NULL),
		-EEXIST);
	cluster_join_abandoned(&c, "node-9");
	/* Still not on another member's address. */
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a1, 1, pk("node-9"), NULL),
		-EADDRINUSE);
	boot(b, 10);
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a2, 1, pk("node-9"), &m), 0);
	assert_ptr_equal(m, n);
	assert_int_equal(m->index, 3);
	assert_int_equal(m->incarnation, 2);
	assert_int_equal(m->addrs[0].ip[3], 10);
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a2, 1, pk("node-x"), NULL),
		-EEXIST);
	cluster_cleanup(&c);
}

/*
 * A join saved, its answer lost (the leader died or lost its lease before
 * it left): the same node asks again, same boot id, static key and
 * addresses, and gets the record with a new incarnation. Anyone else, and the node while
 * it has a session, is "already a member".
 */
static void test_join_again_after_lost_answer(void **state)
{
	struct cluster c;
	uint8_t ctr = 0, b[REGISTRY_BOOT_ID_LEN], b2[REGISTRY_BOOT_ID_LEN];
	struct node_addr a = v4(9), a1 = v4(1);
	struct node *n, *m;

	(void)state;
	make(&c, &ctr, 2);
	boot(b, 9);
	boot(b2, 10);
	assert_int_equal(cluster_join(&c, "node-9", b, &a, 1, pk("node-9"), &n),
			 0);
	assert_int_equal(n->incarnation, 1);
	/* another boot, another key: not the node that joined */
	assert_int_equal(
		cluster_join(&c, "node-9", b2, &a, 1, pk("node-9"), NULL),
		-EEXIST);
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a, 1, pk("node-x"), NULL),
		-EEXIST);
	/* the same boot and key elsewhere: not where the member is */
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a1, 1, pk("node-9"), NULL),
		-EEXIST);
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a, 0, pk("node-9"), NULL),
		-EEXIST);
	assert_int_equal(cluster_join(&c, "node-9", b, &a, 1, pk("node-9"), &m),
			 0);
	assert_ptr_equal(m, n);
	assert_int_equal(m->index, 3);
	assert_int_equal(m->incarnation, 2); /* its pairs get new keys */
	/* with a session open, nobody takes it over */
	assert_int_equal(cluster_hello(&c, "node-9", b, &a, 1, false,
				       pk("node-9"), NULL, NULL),
			 0);
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a, 1, pk("node-9"), NULL),
		-EEXIST);
	cluster_disconnect(&c, "node-9");
	assert_int_equal(cluster_join(&c, "node-9", b, &a, 1, pk("node-9"), &m),
			 0);
	assert_int_equal(m->incarnation, 3);
	assert_int_equal(cluster_remove(&c, "node-9"), 0);
	assert_int_equal(
		cluster_join(&c, "node-9", b, &a, 1, pk("node-9"), NULL),
		-EPERM);
	cluster_cleanup(&c);
}

static void test_decode_refusals(void **state)
{
	static const uint8_t junk[] = { 0x08, 0x01, 0xff, 0xff };
	struct wire_in in;
	struct why why = { "" };
	uint8_t *f;
	size_t len;

	(void)state;
	assert_int_equal(wire_decode(junk, sizeof(junk), &in, &why), -EBADMSG);
	/* A leader's own message sent back to it. */
	assert_int_equal(wire_ping_reply(7, &f, &len), 0);
	assert_int_equal(wire_decode(f + 4, len - 4, &in, &why), -ENOTSUP);
	frame_buf_free(f, len);
	assert_int_equal(wire_error(WERR_REMOVED, "gone", &f, &len), 0);
	assert_int_equal(wire_decode(f + 4, len - 4, &in, &why), 0);
	assert_int_equal(in.type, IN_ERROR);
	assert_int_equal(in.error_code, WERR_REMOVED);
	assert_string_equal(in.reason, "gone");
	frame_buf_free(f, len);
	/* A standby's answer names the leader (the agent decodes it). */
	assert_int_equal(
		wire_not_leader("a standby", "[fd00::2]:7120", &f, &len), 0);
	assert_int_equal(wire_decode(f + 4, len - 4, &in, &why), 0);
	assert_int_equal(in.error_code, WERR_NOT_LEADER);
	assert_string_equal(in.reason, "a standby");
	frame_buf_free(f, len);
}

/*
 * What the daemon asks instead of reading the rotation: a phase that
 * waits for acks is busy, not waiting; once every ack is in it waits for
 * its next step; a request taken back is gone; the status says it all.
 */
static void test_rotation_questions(void **state)
{
	struct cluster c;
	struct cluster_status s;
	uint8_t ctr = 0;
	int k;

	(void)state;
	make(&c, &ctr, 2);
	assert_false(cluster_rot_busy(&c));
	assert_false(cluster_rot_waiting(&c));
	assert_int_equal(cluster_transmit_gen(&c), 1);
	assert_int_equal(cluster_newest_gen(&c), 1);
	assert_false(cluster_rot_request(&c));
	cluster_rot_unrequest(&c, false);
	cluster_status(&c, &s);
	assert_false(s.requested);
	assert_false(cluster_rot_request(&c));
	assert_true(cluster_rot_request(&c));
	k = cluster_step(&c, now, acts, 64);
	assert_true(k > 0);
	assert_true(cluster_rot_busy(&c));
	assert_false(cluster_rot_waiting(&c)); /* two acks pending */
	assert_int_equal(cluster_newest_gen(&c), 2);
	assert_int_equal(cluster_transmit_gen(&c), 1);
	cluster_status(&c, &s);
	assert_int_equal(s.phase, ROT_PREPARE);
	assert_int_equal(s.target, 2);
	assert_int_equal(s.n_pending, 2);
	assert_int_equal(s.n_gens, 2);
	assert_int_equal(s.gens[1].g, 2);
	assert_int_equal(s.revision, cluster_revision(&c));
	cluster_ack(&c, 1, cluster_revision(&c));
	assert_false(cluster_rot_waiting(&c));
	cluster_ack(&c, 2, cluster_revision(&c));
	assert_true(cluster_rot_waiting(&c));
	assert_int_equal(cluster_members(&c), 2);
	assert_ptr_equal(cluster_find(&c, "node-2"), cluster_at(&c, 1));
	assert_null(cluster_at(&c, 2));
	cluster_cleanup(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_v2),
		cmocka_unit_test(test_join_reboot_remove_deltas),
		cmocka_unit_test(test_addresses_unique),
		cmocka_unit_test(test_rotation_deltas),
		cmocka_unit_test(test_change_log_window),
		cmocka_unit_test(test_resume_waits_for_members),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_remove_undone),
		cmocka_unit_test(test_abandoned_join_taken_over),
		cmocka_unit_test(test_join_again_after_lost_answer),
		cmocka_unit_test(test_rotation_questions),
	};

	return cmocka_run_group_tests_name("cluster", tests, NULL, NULL);
}
