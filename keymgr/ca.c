// SPDX-License-Identifier: MIT
/* vxsec-keymgr: the cluster CA — node certificates, the leader's own, renewed while it runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "ca.h"
#include "common/log.h"
#include "common/loop.h"

/* The CA's key matches its certificate: our own certificate and TLS. */
static int ca_ready(struct ca *ca, const char *key_pem, size_t key_pem_len,
		    const char *where, struct why *why)
{
	int err = -EIO;

	ca->ca_key = pki_key_from_pem(key_pem, key_pem_len);
	if (!ca->ca || !ca->ca_key ||
	    X509_check_private_key(ca->ca, ca->ca_key) != 1) {
		why_set(why,
			"%s is missing or does not match the CA key in the "
			"state",
			where);
		return -EIO;
	}
	if (!pki_cert_to_der(ca->ca, &ca->ca_der, &ca->ca_der_len))
		err = ca_server_cert(ca);
	if (err) {
		why_set(why, "cannot set up TLS with the cluster CA");
		return -EIO;
	}
	return 0;
}

int ca_load(struct ca *ca, const char *dir, const char *key_pem,
	    size_t key_pem_len, uint64_t cert_life_ms, struct why *why)
{
	char p[PATH_MAX + 16];

	ca->cert_life_ms = cert_life_ms;
	snprintf(p, sizeof(p), "%s/%s", dir, "ca.pem");
	errno = 0;
	ca->ca = pki_cert_load(p);
	if (!ca->ca && errno == ESPIPE) {
		why_set(why,
			"%s is not a regular file (a FIFO, device or "
			"directory): move it away and put the CA "
			"certificate back",
			p);
		return -ESPIPE;
	}
	return ca_ready(ca, key_pem, key_pem_len, p, why);
}

int ca_load_mem(struct ca *ca, const char *cert_pem, size_t cert_pem_len,
		const char *key_pem, size_t key_pem_len, uint64_t cert_life_ms,
		struct why *why)
{
	ca->cert_life_ms = cert_life_ms;
	ca->ca = pki_cert_from_pem(cert_pem, cert_pem_len);
	return ca_ready(ca, key_pem, key_pem_len, "the CA certificate in etcd",
			why);
}

char *ca_cert_pem(const struct ca *ca, size_t *len)
{
	return ca->ca ? pki_cert_to_pem(ca->ca, len) : NULL;
}

/* A day, or half the certificate's life if that is shorter. */
static uint64_t renew_after(const struct ca *ca)
{
	return ca->cert_life_ms / 2 < CA_RENEW_MS ? ca->cert_life_ms / 2
						  : CA_RENEW_MS;
}

int ca_server_cert(struct ca *ca)
{
	EVP_PKEY *key = pki_key_new();
	X509_REQ *csr = key ? pki_csr_new(key, CA_LEADER_ID) : NULL;
	X509 *cert = NULL;
	struct tls_ctx *t = NULL;

	if (csr && !pki_issue_server_secs(ca->ca_key, ca->ca, csr, CA_LEADER_ID,
					  (long)(ca->cert_life_ms / 1000),
					  &cert, NULL))
		t = tls_ctx_server(cert, key, ca->ca, true);
	X509_REQ_free(csr);
	if (!t) {
		X509_free(cert);
		EVP_PKEY_free(key);
		return -EIO;
	}
	tls_ctx_free(ca->tls);
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	ca->tls = t, ca->cert = cert, ca->key = key;
	ca->renew_ms = loop_mono_ms() + renew_after(ca);
	return 0;
}

void ca_renew(struct ca *ca, uint64_t now)
{
	uint64_t retry;

	if (now < ca->renew_ms)
		return;
	if (ca_server_cert(ca))
		log_err("cannot renew the leader's own certificate; retrying "
			"in an hour (or a quarter of its life)");
	else
		log_info("the leader's own certificate was renewed");
	if (now >= ca->renew_ms) {
		retry = renew_after(ca) / 2;
		ca->renew_ms = now + (retry < 3600000ull ? retry : 3600000ull);
	}
}

int ca_issue(const struct ca *ca, const uint8_t *csr_der, size_t csr_len,
	     const char *id, uint8_t **der, size_t *der_len, char *serial,
	     size_t serial_len, struct why *why)
{
	X509_REQ *csr = pki_csr_from_der(csr_der, csr_len);
	X509 *cert = NULL;
	int err = -EINVAL;

	*der = NULL;
	if (!csr)
		why_set(why, "CSR is not DER");
	else if (!pki_issue_secs(ca->ca_key, ca->ca, csr, id,
				 (long)(ca->cert_life_ms / 1000), &cert, why) &&
		 !pki_cert_to_der(cert, der, der_len) &&
		 !pki_cert_serial(cert, serial, serial_len))
		err = 0;
	if (err) {
		OPENSSL_free(*der);
		*der = NULL;
	}
	X509_free(cert);
	X509_REQ_free(csr);
	return err;
}

int ca_digest(const struct ca *ca, uint8_t out[PKI_DIGEST_LEN])
{
	return !ca->ca || pki_cert_digest(ca->ca, out) ? -EIO : 0;
}

void ca_cleanup(struct ca *ca)
{
	tls_ctx_free(ca->tls);
	X509_free(ca->cert), X509_free(ca->ca);
	EVP_PKEY_free(ca->key), EVP_PKEY_free(ca->ca_key);
	OPENSSL_free(ca->ca_der);
	ca->tls = NULL, ca->cert = ca->ca = NULL, ca->key = ca->ca_key = NULL;
	ca->ca_der = NULL;
}
