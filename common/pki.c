// SPDX-License-Identifier: MIT
/* Cluster PKI with OpenSSL 3: CA, node keys, CSRs, node certificates. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "pki.h"

EVP_PKEY *pki_key_new(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int set_serial(X509 *x)
{
	unsigned char raw[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	raw[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -EIO;
}

int pki_cert_serial(X509 *cert, char *out, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	int err = -EINVAL;

	if (hex && strlen(hex) < len) {
		memcpy(out, hex, strlen(hex) + 1);
		err = 0;
	}
	OPENSSL_free(hex);
	BN_free(bn);
	return err;
}

static int set_cn(X509_NAME *name, const char *cn)
{
	return X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
					  (const unsigned char *)cn, -1, -1,
					  0) == 1
		       ? 0
		       : -EINVAL;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EINVAL;
}

/*
 * Version, serial, validity and key. A negative life makes a certificate
 * that expired that long ago (tests). notBefore is set back a little for
 * clock skew: 5 minutes, or a tenth of a short life.
 */
static X509 *cert_base(EVP_PKEY *pub, long secs)
{
	X509 *x = X509_new();
	long back = secs < 0 ? 2 * secs : secs >= 3000 ? -300 : -(secs / 10);

	if (!x || !X509_set_version(x, X509_VERSION_3) || set_serial(x) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), back) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), secs) ||
	    !X509_set_pubkey(x, pub)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *pki_ca_new(EVP_PKEY *key, const char *name, int days)
{
	char cn[128];
	X509 *x = cert_base(key, (long)days * 86400);

	snprintf(cn, sizeof(cn), "vxsec cluster CA %s", name);
	if (!x || set_cn(X509_get_subject_name(x), cn) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    add_ext(x, x, NID_basic_constraints,
		    "critical,CA:TRUE,pathlen:0") ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509_REQ *pki_csr_new(EVP_PKEY *key, const char *node_id)
{
	X509_REQ *req = X509_REQ_new();

	if (!req || !X509_REQ_set_pubkey(req, key) ||
	    set_cn(X509_REQ_get_subject_name(req), node_id) ||
	    !X509_REQ_sign(req, key, EVP_sha256())) {
		X509_REQ_free(req);
		return NULL;
	}
	return req;
}

static int csr_check(X509_REQ *csr, const char *node_id, struct why *why)
{
	char cn[PKI_NODE_ID_MAX + 2];
	EVP_PKEY *pub = X509_REQ_get0_pubkey(csr);

	if (!pub || X509_REQ_verify(csr, pub) != 1)
		return why_fail(why, -EINVAL, "CSR signature does not verify");
	if (X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(csr),
				      NID_commonName, cn, sizeof(cn)) < 0 ||
	    strcmp(cn, node_id) != 0)
		return why_fail(why, -EINVAL,
				"CSR does not name the joining node");
	return 0;
}

/* eku: what the certificate may do ("clientAuth", or with serverAuth). */
static int issue(EVP_PKEY *ca_key, X509 *ca, X509_REQ *csr, const char *node_id,
		 long secs, const char *eku, X509 **out, struct why *why)
{
	X509 *x;
	int err = csr_check(csr, node_id, why);

	*out = NULL;
	if (err)
		return err;
	x = cert_base(X509_REQ_get0_pubkey(csr), secs);
	if (!x || set_cn(X509_get_subject_name(x), node_id) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
	    add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, ca, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, ca, NID_ext_key_usage, eku) ||
	    add_ext(x, ca, NID_authority_key_identifier, "keyid:always") ||
	    !X509_sign(x, ca_key, EVP_sha256())) {
		X509_free(x);
		return why_fail(why, -EINVAL,
				"cannot build the node certificate");
	}
	*out = x;
	return 0;
}

int pki_issue(EVP_PKEY *ca_key, X509 *ca, X509_REQ *csr, const char *node_id,
	      int days, X509 **out, struct why *why)
{
	return pki_issue_secs(ca_key, ca, csr, node_id, (long)days * 86400, out,
			      why);
}

int pki_issue_secs(EVP_PKEY *ca_key, X509 *ca, X509_REQ *csr,
		   const char *node_id, long secs, X509 **out, struct why *why)
{
	return issue(ca_key, ca, csr, node_id, secs, "clientAuth", out, why);
}

int pki_issue_server(EVP_PKEY *ca_key, X509 *ca, X509_REQ *csr,
		     const char *node_id, int days, X509 **out, struct why *why)
{
	return pki_issue_server_secs(ca_key, ca, csr, node_id,
				     (long)days * 86400, out, why);
}

int pki_issue_server_secs(EVP_PKEY *ca_key, X509 *ca, X509_REQ *csr,
			  const char *node_id, long secs, X509 **out,
			  struct why *why)
{
	return issue(ca_key, ca, csr, node_id, secs, "serverAuth,clientAuth",
		     out, why);
}

int pki_cert_digest(X509 *cert, uint8_t out[PKI_DIGEST_LEN])
{
	unsigned int n = 0;

	if (!X509_digest(cert, EVP_sha256(), out, &n) || n != PKI_DIGEST_LEN)
		return -EINVAL;
	return 0;
}

int pki_node_id(X509 *cert, char *out, size_t len)
{
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					  NID_commonName, out, (int)len);

	if (n <= 0 || n > PKI_NODE_ID_MAX || (size_t)n >= len)
		return -EINVAL;
	return 0;
}

time_t pki_renew_at(time_t not_before, time_t not_after, double r)
{
	double life = difftime(not_after, not_before);

	if (r < 0 || r >= 1)
		r = 0;
	return not_before + (time_t)(life * (0.5 + 0.3 * r));
}

int pki_cert_times(X509 *cert, time_t *not_before, time_t *not_after)
{
	struct tm tb, ta;

	if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tb) != 1 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(cert), &ta) != 1)
		return -EINVAL;
	*not_before = timegm(&tb);
	*not_after = timegm(&ta);
	return 0;
}

/* DER of any ASN.1 type (a certificate, a request), through OpenSSL's item
 * tables: one encoder and one decoder for both. */
static int to_der(const void *v, const ASN1_ITEM *it, uint8_t **der,
		  size_t *len)
{
	int n;

	*der = NULL;
	n = ASN1_item_i2d((const ASN1_VALUE *)v, der, it);
	if (n <= 0)
		return -EINVAL;
	*len = (size_t)n;
	return 0;
}

/* Trailing bytes are refused: the input is exactly one value. */
static void *from_der(const ASN1_ITEM *it, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	ASN1_VALUE *v = ASN1_item_d2i(NULL, &p, (long)len, it);

	if (v && p != der + len) {
		ASN1_item_free(v, it);
		return NULL;
	}
	return v;
}

int pki_cert_to_der(X509 *cert, uint8_t **der, size_t *len)
{
	return to_der(cert, ASN1_ITEM_rptr(X509), der, len);
}

X509 *pki_cert_from_der(const uint8_t *der, size_t len)
{
	return from_der(ASN1_ITEM_rptr(X509), der, len);
}

int pki_csr_to_der(X509_REQ *csr, uint8_t **der, size_t *len)
{
	return to_der(csr, ASN1_ITEM_rptr(X509_REQ), der, len);
}

X509_REQ *pki_csr_from_der(const uint8_t *der, size_t len)
{
	return from_der(ASN1_ITEM_rptr(X509_REQ), der, len);
}

/* PEM into memory, then an atomic replacement (mode 0600). */
static int save_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	int ok, err = -EIO;

	if (!mem)
		return -ENOMEM;
	ok = key ? PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL)
		 : PEM_write_bio_X509(mem, cert);
	len = BIO_get_mem_data(mem, &data);
	if (ok && len > 0)
		err = atomic_write(path, data, (size_t)len, 0600);
	if (data && len > 0)
		OPENSSL_cleanse(data, (size_t)len); /* a private key */
	BIO_free(mem);
	return err;
}

char *pki_key_to_pem(EVP_PKEY *key, size_t *len)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long n = 0;

	if (mem &&
	    PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL))
		n = BIO_get_mem_data(mem, &data);
	if (n > 0 && (out = malloc((size_t)n + 1))) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	if (data && n > 0)
		OPENSSL_cleanse(data, (size_t)n);
	BIO_free(mem);
	return out;
}

EVP_PKEY *pki_key_from_pem(const char *pem, size_t len)
{
	BIO *mem = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *key = NULL;

	if (mem && len <= INT32_MAX)
		key = PEM_read_bio_PrivateKey(mem, NULL, NULL, NULL);
	BIO_free(mem);
	return key;
}

char *pki_cert_to_pem(X509 *cert, size_t *len)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long n = 0;

	if (mem && PEM_write_bio_X509(mem, cert))
		n = BIO_get_mem_data(mem, &data);
	if (n > 0 && (out = malloc((size_t)n + 1))) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	BIO_free(mem);
	return out;
}

X509 *pki_cert_from_pem(const char *pem, size_t len)
{
	BIO *mem = len <= INT32_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
	X509 *cert = mem ? PEM_read_bio_X509(mem, NULL, NULL, NULL) : NULL;

	BIO_free(mem);
	return cert;
}

int pki_key_save(const char *path, EVP_PKEY *key)
{
	return save_pem(path, key, NULL);
}

int pki_cert_save(const char *path, X509 *cert)
{
	return save_pem(path, NULL, cert);
}

/* A regular file (a FIFO would block the open or the read): errno ESPIPE. */
static FILE *open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = ESPIPE;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

/* A PEM private key (key) or certificate (!key) from a regular file. */
static void *pem_load(const char *path, bool key)
{
	FILE *f = open_regular(path);
	void *obj;

	if (!f)
		return NULL;
	if (key)
		obj = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	else
		obj = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return obj;
}

EVP_PKEY *pki_key_load(const char *path)
{
	return pem_load(path, true);
}

X509 *pki_cert_load(const char *path)
{
	return pem_load(path, false);
}
