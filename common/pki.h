/* SPDX-License-Identifier: MIT */
/* Cluster PKI: the CA (ECDSA P-256), node keys, CSRs, short-lived node certificates. */
#ifndef VXSEC_PKI_H
#define VXSEC_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "why.h"

#define PKI_NODE_ID_MAX 64
#define PKI_CERT_DAYS_DEFAULT 30
#define PKI_CA_DAYS 3650
#define PKI_DIGEST_LEN 32

/* A fresh ECDSA P-256 key, or NULL. */
EVP_PKEY *pki_key_new(void);

/* A self-signed CA certificate for key ("vxsec cluster CA <name>"). */
X509 *pki_ca_new(EVP_PKEY *key, const char *name, int days);

/* A CSR naming node_id, signed by key. */
X509_REQ *pki_csr_new(EVP_PKEY *key, const char *node_id);

/*
 * Issues a node certificate for node_id from csr, valid for days (for
 * tests, a negative days makes one that expired -days ago). The CSR must
 * be correctly signed and name node_id: -EINVAL with why otherwise.
 */
int pki_issue(EVP_PKEY *ca_key, X509 *ca, X509_REQ *csr, const char *node_id,
	      int days, X509 **out, struct why *why);

/* The same with the life in seconds (short-lived certificates in tests). */
int pki_issue_secs(EVP_PKEY *ca_key, X509 *ca, X509_REQ *csr,
		   const char *node_id, long secs, X509 **out, struct why *why);
/*
 * The leader's own certificate: the only kind that may serve TLS
 * (serverAuth). Node certificates are clientAuth only, so a node cannot
 * pose as the leader to another node, whatever its name.
 */
int pki_issue_server(EVP_PKEY *ca_key, X509 *ca, X509_REQ *csr,
		     const char *node_id, int days, X509 **out,
		     struct why *why);
/* The same, with a lifetime in seconds. */
int pki_issue_server_secs(EVP_PKEY *ca_key, X509 *ca, X509_REQ *csr,
			  const char *node_id, long secs, X509 **out,
			  struct why *why);

/* SHA-256 of the certificate's DER: what a join token pins. */
int pki_cert_digest(X509 *cert, uint8_t out[PKI_DIGEST_LEN]);

/* The node id (CN) a certificate names; -EINVAL if none or invalid. */
int pki_node_id(X509 *cert, char *out, size_t len);

/*
 * When to renew a certificate valid from not_before to not_after: a point
 * drawn uniformly between 50% and 80% of its life (r in [0, 1)).
 */
time_t pki_renew_at(time_t not_before, time_t not_after, double r);

/* The serial number in hex (at most 32 digits: 127 random bits). */
int pki_cert_serial(X509 *cert, char *out, size_t len);

/* not_before/not_after of a certificate as time_t. */
int pki_cert_times(X509 *cert, time_t *not_before, time_t *not_after);

/* DER and PEM conversions; DER buffers from OPENSSL_malloc. */
int pki_cert_to_der(X509 *cert, uint8_t **der, size_t *len);
X509 *pki_cert_from_der(const uint8_t *der, size_t len);
int pki_csr_to_der(X509_REQ *csr, uint8_t **der, size_t *len);
X509_REQ *pki_csr_from_der(const uint8_t *der, size_t len);

/*
 * A private key as PEM text in memory (malloc'd, NUL-terminated, *len
 * without the NUL; a secret: wipe before free), and back.
 */
char *pki_key_to_pem(EVP_PKEY *key, size_t *len);
EVP_PKEY *pki_key_from_pem(const char *pem, size_t len);

/*
 * PEM files; keys are written with mode 0600, atomically (temp + rename).
 * Loads read regular files only: NULL with errno ESPIPE for a FIFO, a
 * device or a directory (a FIFO would block the caller for ever).
 */
/* A certificate as PEM text (malloc'd, NUL-terminated, *len without it)
 * and back; NULL on failure. */
char *pki_cert_to_pem(X509 *cert, size_t *len);
X509 *pki_cert_from_pem(const char *pem, size_t len);
int pki_key_save(const char *path, EVP_PKEY *key);
EVP_PKEY *pki_key_load(const char *path);
int pki_cert_save(const char *path, X509 *cert);
X509 *pki_cert_load(const char *path);

#endif
