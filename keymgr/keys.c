// SPDX-License-Identifier: MIT
/* keymgr keys: HKDF-SHA256 pair keys bound to both incarnations, leader-chosen SPIs. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "keys.h"

#define HASH_LEN crypto_auth_hmacsha256_BYTES
#define PAIR_SALT "vxsec pair key v1"

int keys_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
	      size_t ikm_len, const uint8_t *info, size_t info_len,
	      uint8_t *okm, size_t okm_len)
{
	static const uint8_t no_salt[HASH_LEN]; /* RFC 5869: HashLen zeros */
	crypto_auth_hmacsha256_state st;
	uint8_t prk[HASH_LEN], t[HASH_LEN];
	size_t done = 0, n;
	uint8_t i;

	if (okm_len > (size_t)255 * HASH_LEN)
		return -EINVAL;
	if (!salt || !salt_len) {
		salt = no_salt;
		salt_len = sizeof(no_salt);
	}
	/* Extract: PRK = HMAC(salt, IKM). */
	crypto_auth_hmacsha256_init(&st, salt, salt_len);
	crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
	crypto_auth_hmacsha256_final(&st, prk);
	/* Expand: T(i) = HMAC(PRK, T(i-1) | info | i). */
	for (i = 1; done < okm_len; i++) {
		crypto_auth_hmacsha256_init(&st, prk, sizeof(prk));
		if (i > 1)
			crypto_auth_hmacsha256_update(&st, t, sizeof(t));
		if (info_len)
			crypto_auth_hmacsha256_update(&st, info, info_len);
		crypto_auth_hmacsha256_update(&st, &i, 1);
		crypto_auth_hmacsha256_final(&st, t);
		n = okm_len - done < HASH_LEN ? okm_len - done : HASH_LEN;
		memcpy(okm + done, t, n);
		done += n;
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
	sodium_memzero(&st, sizeof(st));
	return 0;
}

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
	return keys_hkdf((const uint8_t *)PAIR_SALT, strlen(PAIR_SALT), master,
			 KEYS_MASTER_LEN, info, len, out, KEYS_PAIR_LEN);
}

uint32_t keys_spi(uint32_t generation, uint32_t sender_index)
{
	if (sender_index == 0 || sender_index > KEYS_INDEX_MAX)
		return 0;
	return (1u + generation % 255u) << 24 | sender_index;
}
