/* SPDX-License-Identifier: MIT */
/* keymgr keys: per-ordered-pair keys from a generation master (keyed BLAKE2b), SPIs. */
#ifndef VXSEC_KEYS_H
#define VXSEC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_MASTER_LEN 32
#define KEYS_PAIR_LEN 36 /* AES-256 key + 4-byte salt for rfc4106(gcm(aes)) */
#define KEYS_INDEX_MAX 0xffffffu

/* One side of a pair: which node (its index, never reused), which life. */
struct keys_node {
	uint32_t index;
	uint64_t incarnation;
};

/*
 * K(g, from -> to): BLAKE2b keyed with M_g over an empty message, 36
 * bytes, with the inputs in the parameter block (libsodium's crypto_kdf
 * construction: one compression a key):
 *   salt     = g (32 bits) | from.incarnation (64) | from.index (24) | 0x01
 *   personal = to.incarnation (64) | to.index (24) | "vxpk1"
 * big-endian. A change of any input gives an unrelated key; the direction
 * matters. -EINVAL for generation 0, an index of 0 or above
 * KEYS_INDEX_MAX, or from == to.
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
