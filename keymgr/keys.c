// SPDX-License-Identifier: MIT
/* keymgr keys: keyed-BLAKE2b pair keys bound to both incarnations, leader-chosen SPIs. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "keys.h"

/* BLAKE2b personalisation: exactly 16 bytes, the domain of pair keys. */
static const uint8_t PAIR_PERSONAL[crypto_generichash_blake2b_PERSONALBYTES] = {
	'v', 'x', 's', 'e', 'c', ' ', 'p', 'a',
	'i', 'r', ' ', 'k', 'e', 'y', ' ', '1'
};

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Appends a node: length-prefixed id, then its incarnation. */
static size_t put_node(uint8_t *p, const struct keys_node *n)
{
	size_t len = strlen(n->id);

	p[0] = (uint8_t)len;
	memcpy(p + 1, n->id, len);
	put_u64(p + 1 + len, n->incarnation);
	return 1 + len + 8;
}

int keys_pair(const uint8_t master[KEYS_MASTER_LEN], uint32_t generation,
	      const struct keys_node *from, const struct keys_node *to,
	      uint8_t out[KEYS_PAIR_LEN])
{
	uint8_t info[4 + 2 * (1 + KEYS_NODE_ID_MAX + 8)];
	size_t len = 0, a, b;

	a = from && from->id ? strlen(from->id) : 0;
	b = to && to->id ? strlen(to->id) : 0;
	if (!a || !b || a > KEYS_NODE_ID_MAX || b > KEYS_NODE_ID_MAX ||
	    generation == 0)
		return -EINVAL;
	info[0] = (uint8_t)(generation >> 24);
	info[1] = (uint8_t)(generation >> 16);
	info[2] = (uint8_t)(generation >> 8);
	info[3] = (uint8_t)generation;
	len = 4;
	len += put_node(info + len, from);
	len += put_node(info + len, to);
	crypto_generichash_blake2b_salt_personal(out, KEYS_PAIR_LEN, info, len,
						 master, KEYS_MASTER_LEN, NULL,
						 PAIR_PERSONAL);
	sodium_memzero(info, sizeof(info));
	return 0;
}

uint32_t keys_spi(uint32_t generation, uint32_t sender_index)
{
	if (sender_index == 0 || sender_index > KEYS_INDEX_MAX)
		return 0;
	return (1u + generation % 255u) << 24 | sender_index;
}
