/* SPDX-License-Identifier: MIT */
/* common pairkey: X25519 node keys and the pair-key KDF only the pair can run. */
#ifndef VXSEC_PAIRKEY_H
#define VXSEC_PAIRKEY_H

#include <stddef.h>
#include <stdint.h>

#define PAIRKEY_PUB_LEN 32    /* an X25519 public key */
#define PAIRKEY_PRIV_LEN 32   /* an X25519 private key */
#define PAIRKEY_SHARED_LEN 32 /* X25519(own private, peer public) */
#define PAIRKEY_EPOCH_LEN 32  /* a generation's epoch secret E_g */
#define PAIRKEY_LEN 36	      /* AES-256 key + 4-byte salt, rfc4106(gcm(aes)) */
#define PAIRKEY_FPR_LEN 45    /* base64 of the public key and a NUL, like wg */

/*
 * A node's static key pair. The private key is in OpenSSL's secure heap
 * once pairkey_init() has run (locked, left out of core files), and is
 * wiped when freed.
 */
struct pairkey_static;

/*
 * Sets up OpenSSL's secure heap for private keys; call once at start.
 * 0, or -ENOMEM (keys then live in ordinary memory: the caller says so).
 */
int pairkey_init(void);

/* A new random pair, or NULL. */
struct pairkey_static *pairkey_generate(void);
/* From its 32 private bytes (as kept in the agent's state), or NULL. */
struct pairkey_static *
pairkey_from_private(const uint8_t priv[PAIRKEY_PRIV_LEN]);
/* The private bytes, to be saved (wipe them after): 0 or -EINVAL. */
int pairkey_private(const struct pairkey_static *k,
		    uint8_t out[PAIRKEY_PRIV_LEN]);
const uint8_t *pairkey_public(const struct pairkey_static *k);
void pairkey_free(struct pairkey_static *k); /* NULL-safe */

/*
 * X25519 of own private key and a peer's public key: the same 32 bytes at
 * both ends. -EINVAL if the result is all zero (a low-order point: the
 * peer's key contributes nothing) or OpenSSL refuses; out is then wiped.
 */
int pairkey_shared(const struct pairkey_static *self,
		   const uint8_t peer_pub[PAIRKEY_PUB_LEN],
		   uint8_t out[PAIRKEY_SHARED_LEN]);

/* One end of a pair in generation g. */
struct pairkey_end {
	uint32_t index;	      /* from 1, never reused */
	uint64_t incarnation; /* which life of the node */
	const uint8_t *pub;   /* its static public key for this generation */
};

/*
 * K(g, from -> to), the key `from` sends with and `to` receives with:
 * HKDF-SHA256 (RFC 5869) with
 *   IKM  = shared (X25519 of the two static keys)
 *   salt = epoch (E_g, 32 bytes)
 *   info = "vxsec pair key v2" (17 bytes) | g (u32) |
 *          from.index (u32) | from.incarnation (u64) | from.pub (32) |
 *          to.index (u32) | to.incarnation (u64) | to.pub (32)
 *   L    = 36
 * integers big-endian: 109 bytes of info. The order of from and to is the
 * direction: K(g, b -> a) is unrelated to K(g, a -> b). -EINVAL (out
 * wiped) for generation 0, an index of 0, from.index == to.index or a
 * missing public key.
 */
int pairkey_derive(const uint8_t shared[PAIRKEY_SHARED_LEN],
		   const uint8_t epoch[PAIRKEY_EPOCH_LEN], uint32_t generation,
		   const struct pairkey_end *from, const struct pairkey_end *to,
		   uint8_t out[PAIRKEY_LEN]);

/*
 * HKDF-SHA256 (RFC 5869), len <= 255 * 32 bytes into out; every
 * intermediate wiped. Also for keys derived from a pair key (natprobe).
 */
void pairkey_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
		  size_t ikm_len, const uint8_t *info, size_t info_len,
		  uint8_t *out, size_t len);

/* The public key in base64, as an operator compares it across nodes. */
void pairkey_fingerprint(const uint8_t pub[PAIRKEY_PUB_LEN],
			 char out[PAIRKEY_FPR_LEN]);

#endif
