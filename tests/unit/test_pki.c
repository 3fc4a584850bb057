// SPDX-License-Identifier: MIT
/* Unit tests: the cluster PKI (CA, CSR, issuing, chain checks, renewal time). */
#include <errno.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pki.h"

static EVP_PKEY *ca_key, *node_key;
static X509 *ca;

static int setup(void **state)
{
	(void)state;
	ca_key = pki_key_new();
	node_key = pki_key_new();
	ca = ca_key ? pki_ca_new(ca_key, "test", PKI_CA_DAYS) : NULL;
	return ca && node_key ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(node_key);
	return 0;
}

/* What the TLS layer will ask: does cert chain to this CA, now? */
static int verify(X509 *trusted, X509 *cert)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok, err;

	X509_STORE_add_cert(store, trusted);
	X509_STORE_CTX_init(ctx, store, cert, NULL);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok == 1 ? 0 : err;
}

static X509 *issue(const char *csr_name, const char *node_id, int days)
{
	X509_REQ *csr = pki_csr_new(node_key, csr_name);
	struct why why = { "" };
	X509 *cert = NULL;
	int err;

	assert_non_null(csr);
	err = pki_issue(ca_key, ca, csr, node_id, days, &cert, &why);
	X509_REQ_free(csr);
	if (err)
		assert_string_equal(why.msg,
				    "CSR does not name the joining node");
	return cert;
}

static void test_issue_and_verify(void **state)
{
	X509 *cert = issue("node-7", "node-7", PKI_CERT_DAYS_DEFAULT);
	char id[PKI_NODE_ID_MAX + 1];
	time_t nb, na, now = time(NULL);

	(void)state;
	assert_non_null(cert);
	assert_int_equal(verify(ca, cert), 0);
	assert_int_equal(pki_node_id(cert, id, sizeof(id)), 0);
	assert_string_equal(id, "node-7");
	assert_int_equal(pki_cert_times(cert, &nb, &na), 0);
	assert_true(nb <= now && now - nb < 3600);
	assert_true(na - now > 29 * 86400 && na - now <= 30 * 86400);
	assert_int_equal(X509_check_ca(cert), 0);
	assert_true(X509_check_ca(ca) > 0);
	X509_free(cert);
}

static void test_refusals(void **state)
{
	X509 *expired = issue("node-7", "node-7", -1);
	EVP_PKEY *other_key = pki_key_new();
	X509 *other_ca = pki_ca_new(other_key, "other", 10);

	(void)state;
	/* A CSR for another name is refused. */
	assert_null(issue("node-8", "node-7", 30));
	/* Expired, and another CA's trust: both fail verification. */
	assert_non_null(expired);
	assert_int_equal(verify(ca, expired), X509_V_ERR_CERT_HAS_EXPIRED);
	assert_int_not_equal(verify(other_ca, expired), 0);
	X509_free(expired);
	X509_free(other_ca);
	EVP_PKEY_free(other_key);
}

static void test_tampered_csr(void **state)
{
	X509_REQ *csr = pki_csr_new(node_key, "node-7"), *back;
	uint8_t *der, *extra;
	size_t len;
	struct why why = { "" };
	X509 *cert;

	(void)state;
	assert_int_equal(pki_csr_to_der(csr, &der, &len), 0);
	back = pki_csr_from_der(der, len);
	assert_non_null(back);
	X509_REQ_free(back);
	assert_null(pki_csr_from_der(der, len - 1)); /* cut short */
	extra = OPENSSL_malloc(len + 1);
	assert_non_null(extra);
	memcpy(extra, der, len);
	extra[len] = 0x00;
	assert_null(pki_csr_from_der(extra, len + 1)); /* trailing byte */
	OPENSSL_free(extra);
	der[len - 10] ^= 0x01; /* inside the signature */
	back = pki_csr_from_der(der, len);
	if (back) {
		assert_int_equal(
			pki_issue(ca_key, ca, back, "node-7", 30, &cert, &why),
			-EINVAL);
		assert_null(cert);
		assert_string_equal(why.msg, "CSR signature does not verify");
		X509_REQ_free(back);
	}
	OPENSSL_free(der);
	X509_REQ_free(csr);
}

static void test_digest_and_der(void **state)
{
	uint8_t d1[PKI_DIGEST_LEN], d2[PKI_DIGEST_LEN], *der, *extra;
	size_t len;
	X509 *back;

	(void)state;
	assert_int_equal(pki_cert_digest(ca, d1), 0);
	assert_int_equal(pki_cert_to_der(ca, &der, &len), 0);
	back = pki_cert_from_der(der, len);
	assert_non_null(back);
	assert_int_equal(pki_cert_digest(back, d2), 0);
	assert_memory_equal(d1, d2, sizeof(d1)); /* the pin is stable */
	extra = OPENSSL_malloc(len + 1);
	memcpy(extra, der, len);
	extra[len] = 0;
	assert_null(pki_cert_from_der(extra, len + 1)); /* trailing byte */
	assert_null(pki_cert_from_der(der, len - 1));
	OPENSSL_free(extra);
	OPENSSL_free(der);
	X509_free(back);
}

/* The CA key goes into the encrypted state as PEM text, and back. */
static void test_key_pem_round_trip(void **state)
{
	EVP_PKEY *key = pki_key_new(), *back;
	size_t len = 0;
	char *pem;

	(void)state;
	assert_non_null(key);
	pem = pki_key_to_pem(key, &len);
	assert_non_null(pem);
	assert_int_equal(strlen(pem), len);
	assert_non_null(strstr(pem, "PRIVATE KEY"));
	back = pki_key_from_pem(pem, len);
	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(key, back), 1);
	EVP_PKEY_free(back);
	pem[len / 2] ^= 0x55; /* damaged text: refused */
	back = pki_key_from_pem(pem, len);
	assert_null(back);
	free(pem);
	EVP_PKEY_free(key);
}

static void test_renew_at(void **state)
{
	time_t nb = 1000000, na = nb + 30 * 86400;

	(void)state;
	assert_int_equal(pki_renew_at(nb, na, 0.0), nb + 15 * 86400);
	assert_true(pki_renew_at(nb, na, 0.999999) <= nb + 24 * 86400);
	assert_true(pki_renew_at(nb, na, 0.999999) > nb + 23 * 86400);
	assert_int_equal(pki_renew_at(nb, na, 7.0), nb + 15 * 86400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_and_verify),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_tampered_csr),
		cmocka_unit_test(test_digest_and_der),
		cmocka_unit_test(test_renew_at),
		cmocka_unit_test(test_key_pem_round_trip),
	};

	return cmocka_run_group_tests_name("pki", tests, setup, teardown);
}
