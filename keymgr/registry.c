// SPDX-License-Identifier: MIT
/* keymgr registry: records in join order plus an open-addressing index by id. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

struct registry {
	/* join order; index i + 1 is nodes[i] after joins alone */
	struct node *nodes;
	size_t n, cap;
	uint32_t last_index; /* the highest index given or restored */
	size_t *slots;	     /* 0 = empty, else position + 1 in nodes */
	size_t n_slots;	     /* a power of two, at least twice n */
	size_t members;
};

struct registry *registry_new(void)
{
	return calloc(1, sizeof(struct registry));
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	free(r->nodes);
	free(r->slots);
	free(r);
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static size_t *slot_of(const struct registry *r, const char *id)
{
	size_t mask = r->n_slots - 1, i;

	if (!r->n_slots)
		return NULL;
	for (i = hash(id) & mask;; i = (i + 1) & mask)
		if (!r->slots[i] ||
		    strcmp(r->nodes[r->slots[i] - 1].id, id) == 0)
			return &r->slots[i];
}

static int rehash(struct registry *r)
{
	size_t n = r->n_slots ? r->n_slots * 2 : 64, i;
	size_t *old = r->slots, old_n = r->n_slots;

	r->slots = calloc(n, sizeof(*r->slots));
	if (!r->slots) {
		r->slots = old;
		return -ENOMEM;
	}
	r->n_slots = n;
	for (i = 0; i < old_n; i++)
		if (old[i])
			*slot_of(r, r->nodes[old[i] - 1].id) = old[i];
	free(old);
	return 0;
}

struct node *registry_find(struct registry *r, const char *id)
{
	size_t *s = slot_of(r, id);

	if (!s || !*s)
		return NULL;
	return &r->nodes[*s - 1];
}

static bool id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	return n > 0 && n <= REGISTRY_ID_MAX;
}

/* Room in the table and the array for one more record. */
static int make_room(struct registry *r)
{
	struct node *grown;

	if ((r->n + 1) * 2 > r->n_slots && rehash(r))
		return -ENOMEM;
	if (r->n == r->cap || !r->nodes) {
		grown = realloc(r->nodes,
				(r->cap ? r->cap * 2 : 16) * sizeof(*r->nodes));
		if (!grown)
			return -ENOMEM;
		r->nodes = grown;
		r->cap = r->cap ? r->cap * 2 : 16;
	}
	return 0;
}

int registry_join(struct registry *r, const char *id,
		  const uint8_t boot_id[REGISTRY_BOOT_ID_LEN],
		  struct node **out)
{
	struct node *n = id_ok(id) ? registry_find(r, id) : NULL;
	size_t *slot;

	if (!id_ok(id))
		return -EINVAL;
	if (n)
		return n->state == NODE_REMOVED ? -EPERM : -EEXIST;
	if (make_room(r))
		return -ENOMEM;
	n = &r->nodes[r->n++];
	memset(n, 0, sizeof(*n));
	strcpy(n->id, id);
	n->index = ++r->last_index;
	n->incarnation = 1;
	memcpy(n->boot_id, boot_id, REGISTRY_BOOT_ID_LEN);
	n->state = NODE_DISCONNECTED;
	slot = slot_of(r, id); /* the table has room: rehashed above */
	if (slot)
		*slot = r->n;
	r->members++;
	if (out)
		*out = n;
	return 0;
}

static struct node *member(struct registry *r, const char *id, int *err)
{
	struct node *n = registry_find(r, id);

	*err = !n ? -ENOENT : n->state == NODE_REMOVED ? -EPERM : 0;
	return *err ? NULL : n;
}

int registry_hello(struct registry *r, const char *id,
		   const uint8_t boot_id[REGISTRY_BOOT_ID_LEN])
{
	int err;
	struct node *n = member(r, id, &err);

	if (!n)
		return err;
	n->state = NODE_CONNECTED;
	if (memcmp(n->boot_id, boot_id, REGISTRY_BOOT_ID_LEN) == 0)
		return 0;
	memcpy(n->boot_id, boot_id, REGISTRY_BOOT_ID_LEN);
	n->incarnation++;
	return 1;
}

int registry_lost_state(struct registry *r, const char *id)
{
	int err;
	struct node *n = member(r, id, &err);

	if (n)
		n->incarnation++;
	return err;
}

int registry_disconnect(struct registry *r, const char *id)
{
	int err;
	struct node *n = member(r, id, &err);

	if (n)
		n->state = NODE_DISCONNECTED;
	return err;
}

int registry_remove(struct registry *r, const char *id)
{
	int err;
	struct node *n = member(r, id, &err);

	if (!n)
		return err;
	n->state = NODE_REMOVED;
	r->members--;
	return 0;
}

int registry_unremove(struct registry *r, const char *id, enum node_state state)
{
	struct node *n = registry_find(r, id);

	if (!n || n->state != NODE_REMOVED || state == NODE_REMOVED)
		return -EINVAL;
	n->state = state;
	r->members++;
	return 0;
}

size_t registry_count(const struct registry *r)
{
	return r->members;
}

struct node *registry_at(struct registry *r, size_t i)
{
	return i < r->n ? &r->nodes[i] : NULL;
}

void registry_keys_reset(struct node *n, const uint8_t pub[REGISTRY_PUB_LEN])
{
	memset(n->keys, 0, sizeof(n->keys));
	n->keys[0].from = 0;
	memcpy(n->keys[0].pub, pub, REGISTRY_PUB_LEN);
	n->n_keys = 1;
	n->has_pending = false;
	memset(n->pending, 0, sizeof(n->pending));
}

const uint8_t *registry_key_newest(const struct node *n)
{
	return n->n_keys ? n->keys[n->n_keys - 1].pub : NULL;
}

int registry_key_pend(struct node *n, const uint8_t pub[REGISTRY_PUB_LEN])
{
	const uint8_t *newest = registry_key_newest(n);

	if (newest && memcmp(newest, pub, REGISTRY_PUB_LEN) == 0)
		return 0;
	if (n->has_pending && memcmp(n->pending, pub, REGISTRY_PUB_LEN) == 0)
		return 0;
	memcpy(n->pending, pub, REGISTRY_PUB_LEN);
	n->has_pending = true;
	return 1;
}

int registry_key_attach(struct node *n, uint32_t g)
{
	if (!n->has_pending)
		return 0;
	if (n->n_keys && n->keys[n->n_keys - 1].from >= g) {
		/* cannot happen (generations only grow): replace it */
		n->n_keys--;
	}
	if (n->n_keys == REGISTRY_KEYS_MAX) { /* cannot happen either */
		memmove(n->keys, n->keys + 1,
			(REGISTRY_KEYS_MAX - 1) * sizeof(n->keys[0]));
		n->n_keys--;
	}
	n->keys[n->n_keys].from = g;
	memcpy(n->keys[n->n_keys].pub, n->pending, REGISTRY_PUB_LEN);
	n->n_keys++;
	n->has_pending = false;
	memset(n->pending, 0, sizeof(n->pending));
	return 1;
}

void registry_keys_prune(struct node *n, uint32_t oldest)
{
	size_t drop = 0;

	while (drop + 1 < n->n_keys && n->keys[drop + 1].from <= oldest)
		drop++;
	if (!drop)
		return;
	memmove(n->keys, n->keys + drop,
		(n->n_keys - drop) * sizeof(n->keys[0]));
	n->n_keys -= drop;
	memset(n->keys + n->n_keys, 0, drop * sizeof(n->keys[0]));
}

const uint8_t *registry_key_for(const struct node *n, uint32_t g)
{
	const uint8_t *pub = NULL;

	for (size_t i = 0; i < n->n_keys && n->keys[i].from <= g; i++)
		pub = n->keys[i].pub;
	return pub;
}

static bool keys_ok(const struct node *n)
{
	size_t min = n->state == NODE_REMOVED ? 0 : 1;

	if (n->n_keys < min || n->n_keys > REGISTRY_KEYS_MAX)
		return false;
	for (size_t i = 1; i < n->n_keys; i++)
		if (n->keys[i].from <= n->keys[i - 1].from)
			return false;
	return true;
}

static bool record_ok(const struct node *n)
{
	size_t i;

	if (!memchr(n->id, '\0', sizeof(n->id)) || !id_ok(n->id) ||
	    !memchr(n->cert_serial, '\0', sizeof(n->cert_serial)))
		return false;
	if (!n->index || n->index > REGISTRY_INDEX_MAX || !n->incarnation ||
	    n->n_addrs > REGISTRY_ADDRS_MAX ||
	    (unsigned int)n->state > NODE_REMOVED || !keys_ok(n))
		return false;
	for (i = 0; i < n->n_addrs; i++)
		if (n->addrs[i].len != 4 && n->addrs[i].len != 16)
			return false;
	if (n->nat)
		return n->public_addr.len == 4 || n->public_addr.len == 16;
	return n->public_addr.len == 0;
}

static bool index_taken(const struct registry *r, uint32_t index)
{
	if (index > r->last_index)
		return false; /* no index so far is above it */
	for (size_t i = 0; i < r->n; i++)
		if (r->nodes[i].index == index)
			return true;
	return false;
}

int registry_restore(struct registry *r, const struct node *rec)
{
	struct node *n;
	size_t *slot;

	if (!record_ok(rec))
		return -EINVAL;
	if (registry_find(r, rec->id) || index_taken(r, rec->index))
		return -EEXIST;
	if (make_room(r))
		return -ENOMEM;
	n = &r->nodes[r->n++];
	*n = *rec;
	if (n->index > r->last_index)
		r->last_index = n->index;
	slot = slot_of(r, n->id); /* the table has room: make_room() */
	if (slot)
		*slot = r->n;
	if (n->state != NODE_REMOVED)
		r->members++;
	return 0;
}
