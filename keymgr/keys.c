// SPDX-License-Identifier: MIT
/* keymgr keys: pair keys by keyed BLAKE2b (the crypto_kdf construction), leader-chosen SPIs. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "keys.h"

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int keys_pair(const uint8_t master[KEYS_MASTER_LEN], uint32_t generation,
	      const struct keys_node *from, const struct keys_node *to,
	      uint8_t out[KEYS_PAIR_LEN])
{
	uint8_t salt[crypto_generichash_blake2b_SALTBYTES];
	uint8_t personal[crypto_generichash_blake2b_PERSONALBYTES];
	/* personalisation bytes, not a C string: no NUL */
	static const uint8_t label[5] = { 'v', 'x', 'p', 'k', '1' };

	if (!from || !to || generation == 0 || !from->index ||
	    from->index > KEYS_INDEX_MAX || !to->index ||
	    to->index > KEYS_INDEX_MAX || from->index == to->index)
		return -EINVAL;
	/* salt: generation | sender incarnation | sender index | 0x01 */
	put_be(salt, generation, 4);
	put_be(salt + 4, from->incarnation, 8);
	put_be(salt + 12, from->index, 3);
	salt[15] = 1;
	/* personal: receiver incarnation | receiver index | "vxpk1" */
	put_be(personal, to->incarnation, 8);
	put_be(personal + 8, to->index, 3);
	memcpy(personal + 11, label, sizeof(label));
	crypto_generichash_blake2b_salt_personal(out, KEYS_PAIR_LEN, NULL, 0,
						 master, KEYS_MASTER_LEN, salt,
						 personal);
	sodium_memzero(salt, sizeof(salt));
	sodium_memzero(personal, sizeof(personal));
	return 0;
}

uint32_t keys_spi(uint32_t generation, uint32_t sender_index)
{
	if (sender_index == 0 || sender_index > KEYS_INDEX_MAX)
		return 0;
	return (1u + generation % 255u) << 24 | sender_index;
}
