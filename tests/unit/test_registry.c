// SPDX-License-Identifier: MIT
/* Unit tests: the registry (indexes never reused, incarnations, removal). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "keymgr/registry.h"

static const uint8_t boot1[16] = { 1 }, boot2[16] = { 2 };

static void test_join_and_indexes(void **state)
{
	struct registry *r = registry_new();
	struct node *n;

	(void)state;
	assert_int_equal(registry_join(r, "node-1", boot1, &n), 0);
	assert_int_equal(n->index, 1);
	assert_int_equal(n->incarnation, 1);
	assert_int_equal(n->state, NODE_DISCONNECTED);
	assert_int_equal(registry_join(r, "node-2", boot1, &n), 0);
	assert_int_equal(n->index, 2);
	assert_int_equal(registry_join(r, "node-1", boot1, NULL), -EEXIST);
	assert_int_equal(registry_join(r, "", boot1, NULL), -EINVAL);
	/* Removed: its id and index are never given again. */
	assert_int_equal(registry_remove(r, "node-1"), 0);
	assert_int_equal(registry_join(r, "node-1", boot2, NULL), -EPERM);
	assert_int_equal(registry_join(r, "node-3", boot1, &n), 0);
	assert_int_equal(n->index, 3);
	assert_int_equal(registry_count(r), 2);
	assert_int_equal(registry_find(r, "node-1")->state, NODE_REMOVED);
	assert_int_equal(registry_remove(r, "node-1"), -EPERM);
	assert_int_equal(registry_remove(r, "nobody"), -ENOENT);
	registry_free(r);
	registry_free(NULL);
}

static void test_incarnations(void **state)
{
	struct registry *r = registry_new();

	(void)state;
	assert_int_equal(registry_join(r, "node-1", boot1, NULL), 0);
	assert_int_equal(registry_hello(r, "node-1", boot1), 0);
	assert_int_equal(registry_find(r, "node-1")->state, NODE_CONNECTED);
	assert_int_equal(registry_find(r, "node-1")->incarnation, 1);
	/* A new boot id: a new incarnation, so its pairs get new keys. */
	assert_int_equal(registry_disconnect(r, "node-1"), 0);
	assert_int_equal(registry_hello(r, "node-1", boot2), 1);
	assert_int_equal(registry_find(r, "node-1")->incarnation, 2);
	assert_int_equal(registry_hello(r, "node-1", boot2), 0);
	assert_int_equal(registry_lost_state(r, "node-1"), 0);
	assert_int_equal(registry_find(r, "node-1")->incarnation, 3);
	assert_int_equal(registry_hello(r, "stranger", boot1), -ENOENT);
	assert_int_equal(registry_remove(r, "node-1"), 0);
	assert_int_equal(registry_hello(r, "node-1", boot2), -EPERM);
	assert_int_equal(registry_lost_state(r, "node-1"), -EPERM);
	registry_free(r);
}

static void test_many(void **state)
{
	struct registry *r = registry_new();
	char id[32];
	struct node *n;

	(void)state;
	for (int i = 1; i <= 20000; i++) {
		snprintf(id, sizeof(id), "node-%d", i);
		assert_int_equal(registry_join(r, id, boot1, NULL), 0);
	}
	for (int i = 1; i <= 20000; i += 997) {
		snprintf(id, sizeof(id), "node-%d", i);
		n = registry_find(r, id);
		assert_non_null(n);
		assert_int_equal(n->index, (uint32_t)i);
		assert_ptr_equal(registry_at(r, (size_t)i - 1), n);
	}
	assert_null(registry_find(r, "node-20001"));
	assert_null(registry_at(r, 20000));
	assert_int_equal(registry_count(r), 20000);
	registry_free(r);
}

static const uint8_t *pub(uint8_t v)
{
	static uint8_t k[4][REGISTRY_PUB_LEN];
	static int i;

	i = (i + 1) % 4;
	memset(k[i], v, REGISTRY_PUB_LEN);
	return k[i];
}

/*
 * A node's static keys: a reset serves every generation; a pending key
 * waits for the generation it is attached to; a key no live generation
 * uses goes; at most REGISTRY_KEYS_MAX, first generations increasing.
 */
static void test_static_keys(void **state)
{
	struct node n = { 0 };

	(void)state;
	registry_keys_reset(&n, pub(1));
	assert_int_equal(n.n_keys, 1);
	assert_memory_equal(registry_key_for(&n, 9), pub(1), REGISTRY_PUB_LEN);
	assert_int_equal(registry_key_pend(&n, pub(1)), 0); /* the newest */
	assert_int_equal(registry_key_attach(&n, 3), 0); /* nothing pending */
	assert_int_equal(registry_key_pend(&n, pub(2)), 1);
	assert_int_equal(registry_key_pend(&n, pub(2)), 0);
	assert_int_equal(registry_key_pend(&n, pub(3)), 1); /* replaces it */
	assert_memory_equal(n.pending, pub(3), REGISTRY_PUB_LEN);
	assert_memory_equal(registry_key_for(&n, 3), pub(1), REGISTRY_PUB_LEN);
	assert_int_equal(registry_key_attach(&n, 3), 1);
	assert_false(n.has_pending);
	assert_memory_equal(registry_key_for(&n, 2), pub(1), REGISTRY_PUB_LEN);
	assert_memory_equal(registry_key_for(&n, 3), pub(3), REGISTRY_PUB_LEN);
	assert_memory_equal(registry_key_newest(&n), pub(3), REGISTRY_PUB_LEN);
	registry_keys_prune(&n, 2); /* 2 still uses the first key */
	assert_int_equal(n.n_keys, 2);
	registry_keys_prune(&n, 3);
	assert_int_equal(n.n_keys, 1);
	assert_int_equal(n.keys[0].from, 3);
	assert_null(registry_key_for(&n, 2)); /* gone with its generations */
	for (uint32_t g = 4; g < 10; g++) {
		assert_int_equal(registry_key_pend(&n, pub((uint8_t)g)), 1);
		assert_int_equal(registry_key_attach(&n, g), 1);
		assert_true(n.n_keys <= REGISTRY_KEYS_MAX);
		for (size_t k = 1; k < n.n_keys; k++)
			assert_true(n.keys[k].from > n.keys[k - 1].from);
	}
	assert_memory_equal(registry_key_newest(&n), pub(9), REGISTRY_PUB_LEN);
	registry_keys_reset(&n, pub(7)); /* a new incarnation */
	assert_int_equal(n.n_keys, 1);
	assert_int_equal(n.keys[0].from, 0);
	assert_false(n.has_pending);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_and_indexes),
		cmocka_unit_test(test_incarnations),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_static_keys),
	};

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
