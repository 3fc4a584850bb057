// SPDX-License-Identifier: MIT
/* Unit tests: protocol 2 on the leader: static keys, epochs, and a leader that holds no pair key. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/pairkey.h"
#include "keymgr/cluster.h"
#include "keymgr/state.h"
#include "keymgr/wire.h"

#define N 6
static const struct rot_config cfg = { .interval_ms = 1000000,
				       .deadline_ms = 1000,
				       .grace_ms = 100 };
static struct rot_action acts[64];
static uint64_t now = 1000;

static void rnd(uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static const uint8_t *key(uint8_t v)
{
	static uint8_t k[REGISTRY_PUB_LEN];

	memset(k, v, sizeof(k));
	return k;
}

/* Steps until idle with generation g committed, every member acking. */
static void rotate_to(struct cluster *c, uint32_t g)
{
	for (int k = 0; k < 20 && (c->rot.phase != ROT_IDLE ||
				   cluster_transmit_gen(c) != g);
	     k++) {
		if (c->rot.phase == ROT_IDLE)
			rot_request(&c->rot);
		assert_true(cluster_step(c, now, acts, 64) >= 0);
		for (uint32_t i = 1; cluster_node(c, i); i++)
			cluster_ack(c, i, cluster_revision(c));
		now += cfg.grace_ms;
	}
	assert_int_equal(cluster_transmit_gen(c), g);
	assert_int_equal(c->rot.phase, ROT_IDLE);
}

/* n members, connected, with the given keys, generation 1 committed. */
static void make(struct cluster *c, size_t n, const uint8_t (*pubs)[32])
{
	uint8_t b[REGISTRY_BOOT_ID_LEN];
	char id[16];

	assert_int_equal(cluster_init(c, &cfg, rnd, NULL), 0);
	for (size_t i = 1; i <= n; i++) {
		struct node_addr a = { 4, { 10, 0, 0, (uint8_t)i } };

		snprintf(id, sizeof(id), "node-%zu", i);
		memset(b, (int)i, sizeof(b));
		assert_int_equal(cluster_join(c, id, b, &a, 1, NULL, NULL),
				 -EINVAL);
		assert_int_equal(cluster_join(c, id, b, &a, 1, pubs[i], NULL),
				 0);
		assert_int_equal(cluster_hello(c, id, b, &a, 1, false, pubs[i],
					       NULL, NULL),
				 0);
	}
	rotate_to(c, 1);
}

/* Every frame the leader can send now: snapshots and every delta. */
struct frames {
	uint8_t *f[256];
	size_t len[256], n;
};

static void collect(struct frames *fs, const struct cluster *c)
{
	struct change ch;

	for (uint32_t i = 1; cluster_node(c, i); i++) {
		const struct node *to = cluster_node(c, i);

		assert_true(fs->n < 256);
		assert_int_equal(
			wire_snapshot(c, to, 0, &fs->f[fs->n], &fs->len[fs->n]),
			0);
		fs->n++;
		for (uint64_t r = 0; cluster_change_after(c, r, &ch) == 0;
		     r++) {
			assert_true(fs->n < 256);
			if (wire_delta(c, to, &ch, 0, &fs->f[fs->n],
				       &fs->len[fs->n]) == 0)
				fs->n++;
		}
	}
}

static void release(struct frames *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		frame_buf_free(fs->f[i], fs->len[i]);
	fs->n = 0;
}

/* bytes occur in no frame and not in the saved state's plaintext body. */
static void assert_nowhere(const struct frames *fs, const uint8_t *body,
			   size_t body_len, const uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < fs->n; i++)
		assert_null(memmem(fs->f[i], fs->len[i], bytes, n));
	assert_null(memmem(body, body_len, bytes, n));
}

static void body_of(struct cluster *c, uint8_t **body, size_t *len)
{
	struct state_extra x = { 0 };

	assert_int_equal(state_body_encode(cluster_registry(c),
					   cluster_rotation(c),
					   cluster_revision(c), &x, body, len),
			 0);
}

/* Node x's private key for generation g (its key then), from kp. */
static struct pairkey_static *priv_for(struct pairkey_static **kp, size_t nk,
				       const struct node *x, uint32_t g)
{
	const uint8_t *pub = registry_key_for(x, g);

	for (size_t i = 0; pub && i < nk; i++)
		if (memcmp(pairkey_public(kp[i]), pub, PAIRKEY_PUB_LEN) == 0)
			return kp[i];
	fail_msg("no private key for %s in generation %u", x->id, g);
	return NULL;
}

/* Every pair key the agents derive, checked to be in no frame or state. */
static void assert_pair_keys_nowhere(const struct cluster *c,
				     struct pairkey_static **kp, size_t nk,
				     const struct frames *fs,
				     const uint8_t *body, size_t body_len)
{
	uint8_t shared[PAIRKEY_SHARED_LEN], back[PAIRKEY_SHARED_LEN];
	uint8_t k[PAIRKEY_LEN];
	size_t checked = 0;
	struct node *a, *b;

	for (size_t g = 0; g < c->rot.n_gens; g++) {
		const struct rot_gen *gen = &c->rot.gens[g];

		for (uint32_t i = 1; (a = cluster_node(c, i)); i++)
			for (uint32_t j = 1; (b = cluster_node(c, j)); j++) {
				struct pairkey_end
					from = { a->index, a->incarnation,
						 registry_key_for(a, gen->g) },
					to = { b->index, b->incarnation,
					       registry_key_for(b, gen->g) };

				if (a == b)
					continue;
				assert_int_equal(
					pairkey_shared(
						priv_for(kp, nk, a, gen->g),
						to.pub, shared),
					0);
				/* both ends compute the same secret */
				assert_int_equal(
					pairkey_shared(
						priv_for(kp, nk, b, gen->g),
						from.pub, back),
					0);
				assert_memory_equal(shared, back,
						    sizeof(shared));
				assert_int_equal(
					pairkey_derive(shared, gen->epoch,
						       gen->g, &from, &to, k),
					0);
				assert_nowhere(fs, body, body_len, shared,
					       sizeof(shared));
				assert_nowhere(fs, body, body_len, k, 16);
				assert_nowhere(fs, body, body_len, k + 16, 16);
				checked++;
			}
	}
	assert_true(checked >= (size_t)N * (N - 1) * 2);
}

/*
 * The leader is blind: no frame it sends and nothing it saves holds a
 * pair key, an X25519 shared secret or a private key; only epochs and
 * public keys. Two generations live, one node with a changed key.
 */
static void test_leader_blind(void **state)
{
	struct pairkey_static *kp[N + 2];
	uint8_t pubs[N + 1][32], priv[PAIRKEY_PRIV_LEN], *body;
	struct cluster c;
	struct frames fs = { 0 };
	size_t body_len;

	(void)state;
	for (size_t i = 1; i <= N; i++) {
		kp[i] = pairkey_generate();
		assert_non_null(kp[i]);
		memcpy(pubs[i], pairkey_public(kp[i]), 32);
	}
	make(&c, N, (const uint8_t(*)[32])pubs);
	kp[0] = pairkey_generate(); /* node 3's periodic change */
	assert_int_equal(cluster_key_update(&c, 3, pairkey_public(kp[0])), 1);
	rot_request(&c.rot);
	assert_true(cluster_step(&c, now, acts, 64) > 0); /* 2 prepared */
	assert_int_equal(cluster_node(&c, 3)->n_keys, 2);
	collect(&fs, &c);
	body_of(&c, &body, &body_len);
	assert_pair_keys_nowhere(&c, kp, N + 1, &fs, body, body_len);
	for (size_t i = 0; i <= N; i++) {
		assert_int_equal(pairkey_private(kp[i], priv), 0);
		assert_nowhere(&fs, body, body_len, priv, sizeof(priv));
	}
	/* what the frames hold: the epochs (sent), the public keys */
	for (size_t g = 0; g < c.rot.n_gens; g++)
		assert_non_null(memmem(fs.f[0], fs.len[0], c.rot.gens[g].epoch,
				       KEYS_EPOCH_LEN));
	sodium_memzero(priv, sizeof(priv));
	sodium_free(body);
	release(&fs);
	for (size_t i = 0; i <= N; i++)
		pairkey_free(kp[i]);
	cluster_cleanup(&c);
}

/* A retired generation's epoch is in no later frame, nor in the state. */
static void test_retired_epoch_gone(void **state)
{
	uint8_t pubs[4][32], e1[KEYS_EPOCH_LEN], *body;
	struct cluster c;
	struct frames fs = { 0 };
	size_t body_len;

	(void)state;
	for (size_t i = 0; i < 4; i++)
		memset(pubs[i], 0x70 + (int)i, 32);
	make(&c, 3, (const uint8_t(*)[32])pubs);
	memcpy(e1, cluster_gen(&c, 1)->epoch, sizeof(e1));
	rotate_to(&c, 2);
	assert_null(cluster_gen(&c, 1));
	collect(&fs, &c);
	assert_true(fs.n >= 3);
	body_of(&c, &body, &body_len);
	assert_nowhere(&fs, body, body_len, e1, sizeof(e1));
	assert_null(memmem(c.rot.gens, sizeof(c.rot.gens), e1, sizeof(e1)));
	/* the epoch of generation 2 is sent and saved */
	assert_non_null(memmem(body, body_len, cluster_gen(&c, 2)->epoch,
			       KEYS_EPOCH_LEN));
	sodium_free(body);
	release(&fs);
	cluster_cleanup(&c);
}

/* The prepare frame of generation g, decoded. */
static Vxsec__Envelope *prepare_of(const struct cluster *c, uint32_t g)
{
	struct change ch;
	Vxsec__Envelope *env = NULL;
	struct why why = { "" };
	uint8_t *f;
	size_t len;

	for (uint64_t r = 0; cluster_change_after(c, r, &ch) == 0; r++)
		if (ch.type == CHG_PREPARE && ch.generation == g)
			break;
	assert_int_equal(ch.type, CHG_PREPARE);
	assert_int_equal(wire_prepare(c, &ch, 0, &f, &len), 0);
	assert_int_equal(
		frame_decode(f + FRAME_HEADER, len - FRAME_HEADER, &env, &why),
		0);
	frame_buf_free(f, len);
	return env;
}

/*
 * A periodic key change takes effect with the next prepared generation,
 * never the one being prepared; a key no live generation uses goes.
 */
static void test_key_change_next_generation(void **state)
{
	uint8_t pubs[4][32], b[REGISTRY_BOOT_ID_LEN];
	struct node_addr a = { 4, { 10, 0, 0, 2 } };
	struct cluster c;
	struct node *n2;
	Vxsec__Envelope *env;
	uint64_t rev;
	bool changed;

	(void)state;
	for (size_t i = 0; i < 4; i++)
		memset(pubs[i], 0x70 + (int)i, 32);
	make(&c, 3, (const uint8_t(*)[32])pubs);
	n2 = cluster_node(&c, 2);
	rev = cluster_revision(&c);
	assert_int_equal(cluster_key_update(&c, 2, pubs[2]), 0); /* newest */
	assert_int_equal(cluster_key_update(&c, 2, key(0xb1)), 1);
	assert_int_equal(cluster_key_update(&c, 2, key(0xb1)), 0);
	assert_int_equal(cluster_key_update(&c, 9, key(0xb1)), -ENOENT);
	assert_true(n2->has_pending);
	assert_int_equal(n2->n_keys, 1);
	assert_int_equal(cluster_revision(&c), rev); /* nobody told yet */
	/* prepare 2 takes it */
	rot_request(&c.rot);
	assert_true(cluster_step(&c, now, acts, 64) > 0);
	assert_false(n2->has_pending);
	assert_int_equal(n2->n_keys, 2);
	assert_int_equal(n2->keys[1].from, 2);
	assert_memory_equal(registry_key_for(n2, 1), pubs[2], 32);
	assert_memory_equal(registry_key_for(n2, 2), key(0xb1), 32);
	env = prepare_of(&c, 2);
	assert_int_equal(env->delta->prepare->n_key_changes, 1);
	assert_int_equal(env->delta->prepare->key_changes[0]->index, 2);
	assert_memory_equal(env->delta->prepare->key_changes[0]->key.data,
			    key(0xb1), 32);
	frame_free(env);
	/* a change during prepare 2 (by hello) waits for generation 3 */
	memset(b, 2, sizeof(b));
	rev = cluster_revision(&c);
	assert_int_equal(cluster_hello(&c, "node-2", b, &a, 1, false, key(0xb2),
				       NULL, &changed),
			 0);
	assert_true(changed);
	assert_int_equal(cluster_revision(&c), rev);
	assert_int_equal(n2->n_keys, 2);
	assert_true(n2->has_pending);
	rotate_to(&c, 2); /* commit 2, retire 1: the key of 1 goes */
	assert_int_equal(n2->n_keys, 1);
	assert_int_equal(n2->keys[0].from, 2);
	assert_memory_equal(n2->keys[0].pub, key(0xb1), 32);
	rotate_to(&c, 3);
	assert_false(n2->has_pending);
	assert_int_equal(n2->n_keys, 1);
	assert_int_equal(n2->keys[0].from, 3);
	assert_memory_equal(n2->keys[0].pub, key(0xb2), 32);
	/* the others never changed */
	assert_int_equal(cluster_node(&c, 1)->n_keys, 1);
	assert_int_equal(cluster_node(&c, 1)->keys[0].from, 0);
	cluster_cleanup(&c);
}

/* A new incarnation replaces every key at once, pending included. */
static void test_new_incarnation_resets_keys(void **state)
{
	uint8_t pubs[4][32], b[REGISTRY_BOOT_ID_LEN];
	struct node_addr a = { 4, { 10, 0, 0, 2 } };
	struct cluster c;
	struct node *n2;
	uint64_t rev;
	bool changed;

	(void)state;
	for (size_t i = 0; i < 4; i++)
		memset(pubs[i], 0x70 + (int)i, 32);
	make(&c, 3, (const uint8_t(*)[32])pubs);
	n2 = cluster_node(&c, 2);
	assert_int_equal(cluster_key_update(&c, 2, key(0xc1)), 1);
	rot_request(&c.rot);
	assert_true(cluster_step(&c, now, acts, 64) > 0); /* (2, c1) */
	assert_int_equal(cluster_key_update(&c, 2, key(0xc2)), 1);
	assert_int_equal(n2->n_keys, 2);
	/* a reboot */
	memset(b, 0xee, sizeof(b));
	rev = cluster_revision(&c);
	assert_int_equal(cluster_hello(&c, "node-2", b, &a, 1, false, key(0xc3),
				       NULL, &changed),
			 1);
	assert_false(changed);
	assert_int_equal(cluster_revision(&c), rev + 1);
	assert_int_equal(n2->n_keys, 1);
	assert_int_equal(n2->keys[0].from, 0);
	assert_memory_equal(n2->keys[0].pub, key(0xc3), 32);
	assert_false(n2->has_pending);
	/* lost state, same boot: the same */
	assert_int_equal(cluster_hello(&c, "node-2", b, &a, 1, true, key(0xc4),
				       NULL, NULL),
			 1);
	assert_memory_equal(registry_key_for(n2, 2), key(0xc4), 32);
	assert_memory_equal(registry_key_for(n2, 1), key(0xc4), 32);
	cluster_cleanup(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leader_blind),
		cmocka_unit_test(test_retired_epoch_gone),
		cmocka_unit_test(test_key_change_next_generation),
		cmocka_unit_test(test_new_incarnation_resets_keys),
	};

	if (sodium_init() < 0)
		return 1;
	(void)pairkey_init(); /* without the secure heap: the same keys */
	return cmocka_run_group_tests_name("cluster_keys", tests, NULL, NULL);
}
