/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr: the cluster CA and the leader's own certificate and TLS context. */
#ifndef VXSEC_CA_H
#define VXSEC_CA_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/pki.h"
#include "common/tls.h"
#include "common/why.h"

/* The name in the leader's own certificate; no node may take it. */
#define CA_LEADER_ID "vxsec-leader"
/* The leader's own certificate is renewed each day (or at half its life). */
#define CA_RENEW_MS (24ull * 3600 * 1000)

struct ca {
	EVP_PKEY *ca_key, *key; /* the CA's, the leader's own */
	X509 *ca, *cert;
	uint8_t *ca_der;
	size_t ca_der_len;
	struct tls_ctx *tls;   /* for new connections */
	uint64_t cert_life_ms; /* of node certificates and our own */
	uint64_t renew_ms;     /* mono_ms() of the next own renewal */
};

/*
 * The CA from dir/ca.pem and its key (PEM, from the state), then a fresh
 * certificate of our own. -ESPIPE if ca.pem is not a regular file, -EIO
 * if it is missing, does not match the key, or TLS cannot be set up;
 * why says which.
 */
int ca_load(struct ca *ca, const char *dir, const char *key_pem,
	    size_t key_pem_len, uint64_t cert_life_ms, struct why *why);

/* The same from memory: the CA certificate as PEM (a store in etcd). */
int ca_load_mem(struct ca *ca, const char *cert_pem, size_t cert_pem_len,
		const char *key_pem, size_t key_pem_len, uint64_t cert_life_ms,
		struct why *why);
/* The CA certificate as PEM (malloc'd, NUL-terminated), or NULL. */
char *ca_cert_pem(const struct ca *ca, size_t *len);

/*
 * A new key and certificate for the leader's own TLS, valid for
 * cert_life_ms like the nodes', and the context new connections use
 * (those open keep theirs). At every start, then each day (or at half its
 * life, if shorter) from the tick: it never runs out while the leader
 * runs. 0 or -EIO.
 */
int ca_server_cert(struct ca *ca);

/* Renews our own certificate when due (now: mono_ms()); logs the outcome. */
void ca_renew(struct ca *ca, uint64_t now);

/*
 * A certificate naming id for the key of a CSR (DER), as DER (der, freed
 * with OPENSSL_free) and its serial in hex. 0, or -EINVAL and why.
 */
int ca_issue(const struct ca *ca, const uint8_t *csr, size_t csr_len,
	     const char *id, uint8_t **der, size_t *der_len, char *serial,
	     size_t serial_len, struct why *why);

/* The CA certificate's digest, as a join token names it. 0 or -EIO. */
int ca_digest(const struct ca *ca, uint8_t out[PKI_DIGEST_LEN]);

/* Frees every key and certificate. */
void ca_cleanup(struct ca *ca);

#endif
