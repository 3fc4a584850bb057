// SPDX-License-Identifier: MIT
/* common pairkey: X25519 (OpenSSL) node keys, HKDF-SHA256 (libsodium HMAC) pair keys. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "pairkey.h"

/* Enough for a few node keys and what TLS keeps there for one session. */
#define SECURE_HEAP_BYTES ((size_t)64 * 1024)
#define SECURE_HEAP_MIN 16

#define LABEL "vxsec pair key v2"
#define LABEL_LEN (sizeof(LABEL) - 1)
#define END_LEN ((size_t)4 + 8 + PAIRKEY_PUB_LEN)
#define INFO_LEN (LABEL_LEN + 4 + 2 * END_LEN)

struct pairkey_static {
	EVP_PKEY *pkey;
	uint8_t pub[PAIRKEY_PUB_LEN];
};

int pairkey_init(void)
{
	if (sodium_init() < 0)
		return -ENOMEM;
	if (CRYPTO_secure_malloc_initialized())
		return 0;
	return CRYPTO_secure_malloc_init(SECURE_HEAP_BYTES, SECURE_HEAP_MIN) ==
			       1
		       ? 0
		       : -ENOMEM;
}

static struct pairkey_static *wrap(EVP_PKEY *pkey)
{
	struct pairkey_static *k = pkey ? calloc(1, sizeof(*k)) : NULL;
	size_t len = PAIRKEY_PUB_LEN;

	if (!k || EVP_PKEY_get_raw_public_key(pkey, k->pub, &len) != 1 ||
	    len != PAIRKEY_PUB_LEN) {
		EVP_PKEY_free(pkey);
		free(k);
		return NULL;
	}
	k->pkey = pkey;
	return k;
}

struct pairkey_static *pairkey_generate(void)
{
	return wrap(EVP_PKEY_Q_keygen(NULL, NULL, "X25519"));
}

struct pairkey_static *
pairkey_from_private(const uint8_t priv[PAIRKEY_PRIV_LEN])
{
	return wrap(EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv,
						    PAIRKEY_PRIV_LEN));
}

int pairkey_private(const struct pairkey_static *k,
		    uint8_t out[PAIRKEY_PRIV_LEN])
{
	size_t len = PAIRKEY_PRIV_LEN;

	if (EVP_PKEY_get_raw_private_key(k->pkey, out, &len) == 1 &&
	    len == PAIRKEY_PRIV_LEN)
		return 0;
	sodium_memzero(out, PAIRKEY_PRIV_LEN);
	return -EINVAL;
}

const uint8_t *pairkey_public(const struct pairkey_static *k)
{
	return k->pub;
}

void pairkey_free(struct pairkey_static *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey); /* OpenSSL clears the private key it frees */
	free(k);
}

int pairkey_shared(const struct pairkey_static *self,
		   const uint8_t peer_pub[PAIRKEY_PUB_LEN],
		   uint8_t out[PAIRKEY_SHARED_LEN])
{
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key_ex(
		NULL, "X25519", NULL, peer_pub, PAIRKEY_PUB_LEN);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, self->pkey, NULL);
	size_t len = PAIRKEY_SHARED_LEN;
	int ok = peer && ctx && EVP_PKEY_derive_init(ctx) == 1 &&
		 EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
		 EVP_PKEY_derive(ctx, out, &len) == 1 &&
		 len == PAIRKEY_SHARED_LEN;

	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	/* OpenSSL refuses a zero result too; say it here as well. */
	if (ok && !sodium_is_zero(out, PAIRKEY_SHARED_LEN))
		return 0;
	sodium_memzero(out, PAIRKEY_SHARED_LEN);
	return -EINVAL;
}

static uint8_t *put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
	return p + bytes;
}

static uint8_t *put_end(uint8_t *p, const struct pairkey_end *e)
{
	p = put_be(p, e->index, 4);
	p = put_be(p, e->incarnation, 8);
	memcpy(p, e->pub, PAIRKEY_PUB_LEN);
	return p + PAIRKEY_PUB_LEN;
}

/*
 * On libsodium's HMAC: every intermediate is ours to wipe. (OpenSSL 3.0's
 * HKDF frees its copy of the salt, E_g here, without clearing it.)
 */
void pairkey_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
		  size_t ikm_len, const uint8_t *info, size_t info_len,
		  uint8_t *out, size_t len)
{
	crypto_auth_hmacsha256_state st;
	uint8_t prk[crypto_auth_hmacsha256_BYTES];
	uint8_t t[crypto_auth_hmacsha256_BYTES];
	uint8_t counter = 0;

	crypto_auth_hmacsha256_init(&st, salt, salt_len);
	crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
	crypto_auth_hmacsha256_final(&st, prk);
	for (size_t done = 0, n; done < len; done += n) {
		crypto_auth_hmacsha256_init(&st, prk, sizeof(prk));
		if (counter)
			crypto_auth_hmacsha256_update(&st, t, sizeof(t));
		counter++;
		crypto_auth_hmacsha256_update(&st, info, info_len);
		crypto_auth_hmacsha256_update(&st, &counter, 1);
		crypto_auth_hmacsha256_final(&st, t);
		n = len - done < sizeof(t) ? len - done : sizeof(t);
		memcpy(out + done, t, n);
	}
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
}

int pairkey_derive(const uint8_t shared[PAIRKEY_SHARED_LEN],
		   const uint8_t epoch[PAIRKEY_EPOCH_LEN], uint32_t generation,
		   const struct pairkey_end *from, const struct pairkey_end *to,
		   uint8_t out[PAIRKEY_LEN])
{
	uint8_t info[INFO_LEN], *p = info;

	if (!generation || !from->index || !to->index ||
	    from->index == to->index || !from->pub || !to->pub) {
		sodium_memzero(out, PAIRKEY_LEN);
		return -EINVAL;
	}
	memcpy(p, LABEL, LABEL_LEN);
	p = put_be(p + LABEL_LEN, generation, 4);
	p = put_end(p, from);
	put_end(p, to);
	pairkey_hkdf(epoch, PAIRKEY_EPOCH_LEN, shared, PAIRKEY_SHARED_LEN, info,
		     sizeof(info), out, PAIRKEY_LEN);
	return 0;
}

void pairkey_fingerprint(const uint8_t pub[PAIRKEY_PUB_LEN],
			 char out[PAIRKEY_FPR_LEN])
{
	sodium_bin2base64(out, PAIRKEY_FPR_LEN, pub, PAIRKEY_PUB_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}
