// SPDX-License-Identifier: MIT
/* TLS 1.3 with OpenSSL 3: contexts, CA pinning, non-blocking connections; and a plain client of another service's TLS (etcd). */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "pki.h"
#include "tls.h"
#include "why.h"

struct tls_ctx {
	SSL_CTX *ssl;
	bool pinned;
	uint8_t pin[PKI_DIGEST_LEN];
};

struct tls_conn {
	SSL *ssl;
	struct why err;
};

static SSL_CTX *ctx_base(const SSL_METHOD *method, int min_version, X509 *cert,
			 EVP_PKEY *key)
{
	SSL_CTX *ssl = SSL_CTX_new(method);

	if (!ssl)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ssl, min_version) ||
	    !SSL_CTX_set_max_proto_version(ssl, TLS1_3_VERSION) ||
	    (cert && (SSL_CTX_use_certificate(ssl, cert) != 1 ||
		      SSL_CTX_use_PrivateKey(ssl, key) != 1 ||
		      SSL_CTX_check_private_key(ssl) != 1))) {
		SSL_CTX_free(ssl);
		return NULL;
	}
	/* CLEANSE_PLAINTEXT: decrypted records (keys) are wiped once read. */
	SSL_CTX_set_options(ssl, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CLEANSE_PLAINTEXT);
	/* No resumption: and TLS 1.3 tickets would cost a Nagle stall. */
	SSL_CTX_set_num_tickets(ssl, 0);
	SSL_CTX_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	return ssl;
}

/*
 * A certificate without an extended key usage may do anything, so
 * OpenSSL's purpose check lets it through: ours always name theirs, and
 * a peer's must name what it does here (clientAuth from a node,
 * serverAuth from the leader).
 */
static bool eku_has(X509 *cert, uint32_t xku)
{
	return (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) &&
	       (X509_get_extended_key_usage(cert) & xku);
}

static int verify_purpose(int ok, X509_STORE_CTX *xctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		xctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	X509 *cert = X509_STORE_CTX_get_current_cert(xctx);

	if (!ok || X509_STORE_CTX_get_error_depth(xctx) != 0 || !ssl || !cert)
		return ok;
	if (eku_has(cert, SSL_is_server(ssl) ? XKU_SSL_CLIENT : XKU_SSL_SERVER))
		return 1;
	X509_STORE_CTX_set_error(xctx, X509_V_ERR_INVALID_PURPOSE);
	return 0;
}

static int trust(SSL_CTX *ssl, X509 *ca)
{
	return X509_STORE_add_cert(SSL_CTX_get_cert_store(ssl), ca) == 1
		       ? 0
		       : -EINVAL;
}

struct tls_ctx *tls_ctx_server(X509 *cert, EVP_PKEY *key, X509 *ca,
			       bool allow_anonymous)
{
	struct tls_ctx *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ssl = ctx_base(TLS_server_method(), TLS1_3_VERSION, cert, key);
	if (!t->ssl || trust(t->ssl, ca) ||
	    SSL_CTX_add1_chain_cert(t->ssl, ca) != 1) {
		tls_ctx_free(t);
		return NULL;
	}
	SSL_CTX_set_verify(
		t->ssl,
		SSL_VERIFY_PEER |
			(allow_anonymous ? 0 : SSL_VERIFY_FAIL_IF_NO_PEER_CERT),
		verify_purpose);
	return t;
}

/* First contact: the CA is the one in the server's chain with our pin. */
static int pin_verify(X509_STORE_CTX *xctx, void *arg)
{
	struct tls_ctx *t = arg;
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(xctx);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *v = X509_STORE_CTX_new();
	uint8_t d[PKI_DIGEST_LEN];
	X509 *ca = NULL;
	int i, ok = 0;

	for (i = 0; chain && i < sk_X509_num(chain) && !ca; i++)
		if (!pki_cert_digest(sk_X509_value(chain, i), d) &&
		    CRYPTO_memcmp(d, t->pin, sizeof(d)) == 0)
			ca = sk_X509_value(chain, i);
	if (!ca) {
		X509_STORE_CTX_set_error(xctx, X509_V_ERR_CERT_UNTRUSTED);
	} else if (store && v && X509_STORE_add_cert(store, ca) == 1 &&
		   X509_STORE_CTX_init(v, store, X509_STORE_CTX_get0_cert(xctx),
				       chain) == 1 &&
		   /* a node's certificate (clientAuth only) is no server */
		   X509_STORE_CTX_set_purpose(v, X509_PURPOSE_SSL_SERVER) ==
			   1) {
		ok = X509_verify_cert(v) == 1;
		X509_STORE_CTX_set_error(xctx, X509_STORE_CTX_get_error(v));
		if (ok &&
		    !eku_has(X509_STORE_CTX_get0_cert(xctx), XKU_SSL_SERVER)) {
			X509_STORE_CTX_set_error(xctx,
						 X509_V_ERR_INVALID_PURPOSE);
			ok = 0;
		}
	}
	X509_STORE_CTX_free(v);
	X509_STORE_free(store);
	return ok;
}

struct tls_ctx *tls_ctx_client(X509 *cert, EVP_PKEY *key, X509 *ca,
			       const uint8_t *pin)
{
	struct tls_ctx *t = calloc(1, sizeof(*t));

	if (!t || (!ca && !pin)) {
		free(t);
		return NULL;
	}
	t->ssl = ctx_base(TLS_client_method(), TLS1_3_VERSION, cert, key);
	if (!t->ssl || (ca && trust(t->ssl, ca))) {
		tls_ctx_free(t);
		return NULL;
	}
	SSL_CTX_set_verify(t->ssl, SSL_VERIFY_PEER, verify_purpose);
	if (!ca) {
		t->pinned = true;
		memcpy(t->pin, pin, sizeof(t->pin));
		SSL_CTX_set_cert_verify_callback(t->ssl, pin_verify, t);
	}
	return t;
}

/* A file OpenSSL would not load: which, and OpenSSL's reason. */
static int load_fail(struct why *why, const char *what, const char *file)
{
	unsigned long code = ERR_peek_last_error();
	const char *reason = code ? ERR_reason_error_string(code) : NULL;

	why_set(why, "%s %s: %s", what, file, reason ? reason : "unusable");
	ERR_clear_error();
	return -EINVAL;
}

enum file_kind { CA_FILE, CERT_FILE, KEY_FILE };

static int load(SSL_CTX *ssl, enum file_kind kind, const char *file,
		struct why *why)
{
	static const char *const what[] = { "CA file", "certificate file",
					    "key file" };
	FILE *f = fopen(file, "re");
	int ok;

	if (!f)
		return why_fail(why, -errno, "%s %s: %s", what[kind], file,
				strerror(errno));
	fclose(f);
	if (kind == CA_FILE)
		ok = SSL_CTX_load_verify_file(ssl, file);
	else if (kind == CERT_FILE)
		ok = SSL_CTX_use_certificate_chain_file(ssl, file);
	else
		ok = SSL_CTX_use_PrivateKey_file(ssl, file, SSL_FILETYPE_PEM);
	return ok == 1 ? 0 : load_fail(why, what[kind], file);
}

/* An encrypted key is refused rather than asked for on a terminal. */
static int no_password(char *buf, int size, int rw, void *arg)
{
	(void)buf, (void)size, (void)rw, (void)arg;
	return -1;
}

struct tls_ctx *tls_ctx_client_files(const char *ca_file, const char *cert_file,
				     const char *key_file, struct why *why)
{
	struct tls_ctx *t = calloc(1, sizeof(*t));
	int err = -ENOMEM;

	if (t)
		t->ssl = ctx_base(TLS_client_method(), TLS1_2_VERSION, NULL,
				  NULL);
	if (t && t->ssl) {
		SSL_CTX_set_default_passwd_cb(t->ssl, no_password);
		err = load(t->ssl, CA_FILE, ca_file, why);
	}
	if (!err && cert_file)
		err = load(t->ssl, CERT_FILE, cert_file, why);
	if (!err && key_file)
		err = load(t->ssl, KEY_FILE, key_file, why);
	if (!err && key_file && SSL_CTX_check_private_key(t->ssl) != 1)
		err = why_fail(why, -EINVAL, "key file %s: not the key of %s",
			       key_file, cert_file);
	ERR_clear_error();
	if (err) {
		if (err == -ENOMEM)
			why_set(why, "out of memory");
		tls_ctx_free(t);
		errno = -err;
		return NULL;
	}
	SSL_CTX_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
	return t;
}

void tls_ctx_free(struct tls_ctx *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ssl);
	free(t);
}

struct tls_conn *tls_conn_new(struct tls_ctx *t, int fd, bool server)
{
	struct tls_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ssl = SSL_new(t->ssl);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
		tls_conn_free(c);
		return NULL;
	}
	if (server)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	return c;
}

int tls_conn_verify_ip(struct tls_conn *c, const char *ip)
{
	return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), ip) == 1
		       ? 0
		       : -EINVAL;
}

uint64_t tls_conn_bytes_read(const struct tls_conn *c)
{
	BIO *b = SSL_get_rbio(c->ssl);

	return b ? BIO_number_read(b) : 0;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	SSL_free(c->ssl);
	free(c);
}

/* Maps an OpenSSL result to 0/-EAGAIN/-errno, keeping the reason. */
static int io_result(struct tls_conn *c, int r, uint32_t *want)
{
	int e = SSL_get_error(c->ssl, r);
	long v;
	unsigned long code;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = EPOLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = EPOLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		why_set(&c->err, "connection closed by peer");
		ERR_clear_error();
		return -ECONNRESET;
	default:
		v = SSL_get_verify_result(c->ssl);
		code = ERR_get_error();
		if (v != X509_V_OK)
			why_set(&c->err, "certificate: %s",
				X509_verify_cert_error_string(v));
		else
			ERR_error_string_n(code, c->err.msg,
					   sizeof(c->err.msg));
		ERR_clear_error();
		return -EPROTO;
	}
}

int tls_conn_handshake(struct tls_conn *c, uint32_t *want)
{
	int r = SSL_do_handshake(c->ssl);

	if (r == 1)
		return 0;
	r = io_result(c, r, want);
	return r == 0 ? -ECONNRESET : r;
}

ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t len, uint32_t *want)
{
	size_t n = 0;
	int r = SSL_read_ex(c->ssl, buf, len, &n);

	return r == 1 ? (ssize_t)n : io_result(c, r, want);
}

ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t len,
		       uint32_t *want)
{
	size_t n = 0;
	int r = SSL_write_ex(c->ssl, buf, len, &n);

	if (r == 1)
		return (ssize_t)n;
	r = io_result(c, r, want);
	return r == 0 ? -ECONNRESET : r;
}

int tls_conn_peer_id(struct tls_conn *c, char *out, size_t len)
{
	X509 *peer = SSL_get0_peer_certificate(c->ssl);

	if (!peer)
		return -ENOENT;
	if (SSL_get_verify_result(c->ssl) != X509_V_OK)
		return -EPERM;
	return pki_node_id(peer, out, len);
}

int tls_conn_exporter(struct tls_conn *c, const char *label,
		      uint8_t out[TLS_EXPORTER_LEN])
{
	return SSL_export_keying_material(c->ssl, out, TLS_EXPORTER_LEN, label,
					  strlen(label), NULL, 0, 0) == 1
		       ? 0
		       : -EINVAL;
}

const char *tls_conn_error(const struct tls_conn *c)
{
	return c->err.msg;
}

void tls_conn_shutdown(struct tls_conn *c)
{
	if (SSL_is_init_finished(c->ssl))
		(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
}
