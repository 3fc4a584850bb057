/* SPDX-License-Identifier: MIT */
/* keymgr keys: per-ordered-pair keys from a generation master (keyed BLAKE2b), SPIs. */
#ifndef VXSEC_KEYS_H
#define VXSEC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_MASTER_LEN 32
#define KEYS_PAIR_LEN 36 /* AES-256 key + 4-byte salt for rfc4106(gcm(aes)) */
#define KEYS_INDEX_MAX 0xffffffu
#define KEYS_NODE_ID_MAX 64

/* One side of a pair: who, and which life of that node. */
struct keys_node {
	const char *id;
	uint64_t incarnation;
};

/*
 * K(g, from -> to) = BLAKE2b-288 keyed with M_g, personalised "vxsec pair
 * key 1", over generation (32-bit) | len, from's id, incarnation (64-bit) |
 * len, to's id, incarnation (big-endian), 36 bytes. A PRF of the random
 * master (libsodium's crypto_kdf construction); a change of any input gives
 * an unrelated key; the direction matters. 0 or -EINVAL.
 */
int keys_pair(const uint8_t master[KEYS_MASTER_LEN], uint32_t generation,
	      const struct keys_node *from, const struct keys_node *to,
	      uint8_t out[KEYS_PAIR_LEN]);

/*
 * The SPI a sender uses for generation g: (1 + g mod 255) << 24 | index.
 * Unique per receiver while at most 3 generations live; never below 256.
 * 0 if index is 0 or above KEYS_INDEX_MAX.
 */
uint32_t keys_spi(uint32_t generation, uint32_t sender_index);

#endif
