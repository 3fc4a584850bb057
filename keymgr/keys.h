/* SPDX-License-Identifier: MIT */
/* keymgr keys: the SPIs the leader allocates (protocol 2: it derives no pair key). */
#ifndef VXSEC_KEYS_H
#define VXSEC_KEYS_H

#include <stdint.h>

#define KEYS_EPOCH_LEN 32 /* a generation's epoch secret E_g */
#define KEYS_PUB_LEN 32	  /* a node's X25519 public key */
#define KEYS_INDEX_MAX 0xffffffu

/*
 * A generation's SPI slot, sent with it: 1 + g mod 255 (1..255). The
 * agent puts it together with a sender's index: slot << 24 | index.
 */
uint32_t keys_spi_slot(uint32_t generation);

/*
 * The SPI a sender uses for generation g: keys_spi_slot(g) << 24 | index.
 * Unique per receiver while at most 3 generations live; never below 256.
 * 0 if index is 0 or above KEYS_INDEX_MAX.
 */
uint32_t keys_spi(uint32_t generation, uint32_t sender_index);

#endif
