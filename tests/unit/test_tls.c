// SPDX-License-Identifier: MIT
/* Unit tests: TLS 1.3 contexts and connections over a socketpair, both ends here. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/pki.h"
#include "common/tls.h"

struct party {
	EVP_PKEY *key;
	X509 *cert;
};

static EVP_PKEY *ca_key, *other_key;
static X509 *ca, *other_ca;
static struct party leader, node, stranger, expired, bare, bare_leader;

/*
 * Signed by the cluster CA, naming id, with no extended key usage: what
 * a CA operator's slip or another tool could produce. It may not pass
 * for a member nor for the leader.
 */
static void make_bare(struct party *p, const char *id)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);

	p->key = pki_key_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
				   (const unsigned char *)id, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(ca));
	X509_set_pubkey(x, p->key);
	assert_true(X509_sign(x, ca_key, EVP_sha256()) > 0);
	p->cert = x;
}

static void make_party(struct party *p, EVP_PKEY *ik, X509 *issuer,
		       const char *id, int days)
{
	X509_REQ *csr;
	struct why why = { "" };
	bool server = strcmp(id, "leader") == 0;

	p->key = pki_key_new();
	csr = pki_csr_new(p->key, id);
	assert_int_equal((server ? pki_issue_server : pki_issue)(
				 ik, issuer, csr, id, days, &p->cert, &why),
			 0);
	X509_REQ_free(csr);
}

static int setup(void **state)
{
	(void)state;
	ca_key = pki_key_new();
	other_key = pki_key_new();
	ca = pki_ca_new(ca_key, "test", 100);
	other_ca = pki_ca_new(other_key, "other", 100);
	make_party(&leader, ca_key, ca, "leader", 30);
	make_party(&node, ca_key, ca, "node-1", 30);
	make_party(&stranger, other_key, other_ca, "node-1", 30);
	make_party(&expired, ca_key, ca, "node-1", -1);
	make_bare(&bare, "node-1");
	make_bare(&bare_leader, "leader");
	return 0;
}

static void free_party(struct party *p)
{
	X509_free(p->cert);
	EVP_PKEY_free(p->key);
}

static int teardown(void **state)
{
	(void)state;
	free_party(&leader), free_party(&node), free_party(&stranger);
	free_party(&expired);
	free_party(&bare), free_party(&bare_leader);
	X509_free(ca), X509_free(other_ca);
	EVP_PKEY_free(ca_key), EVP_PKEY_free(other_key);
	return 0;
}

struct pair {
	int fd[2];
	struct tls_conn *s, *c;
	int rs, rc;
};

static void open_pair(struct pair *p, struct tls_ctx *sctx,
		      struct tls_ctx *cctx)
{
	assert_int_equal(
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->fd), 0);
	p->s = tls_conn_new(sctx, p->fd[0], true);
	p->c = tls_conn_new(cctx, p->fd[1], false);
	assert_non_null(p->s);
	assert_non_null(p->c);
}

/* Steps both handshakes until each is done or failed. */
static void pump(struct pair *p)
{
	uint32_t want;

	p->rs = p->rc = -EAGAIN;
	for (int i = 0; i < 50 && (p->rs == -EAGAIN || p->rc == -EAGAIN); i++) {
		if (p->rc == -EAGAIN)
			p->rc = tls_conn_handshake(p->c, &want);
		if (p->rs == -EAGAIN)
			p->rs = tls_conn_handshake(p->s, &want);
	}
	/* One side may finish before the other sees its alert. */
	if (p->rs && p->rc == 0) {
		char b[8];

		p->rc = (int)tls_conn_read(p->c, b, sizeof(b), &want);
	}
}

static void close_pair(struct pair *p)
{
	tls_conn_free(p->s);
	tls_conn_free(p->c);
	close(p->fd[0]);
	close(p->fd[1]);
}

static void test_mutual(void **state)
{
	struct tls_ctx *s = tls_ctx_server(leader.cert, leader.key, ca, false);
	struct tls_ctx *c = tls_ctx_client(node.cert, node.key, ca, NULL);
	uint8_t e1[TLS_EXPORTER_LEN], e2[TLS_EXPORTER_LEN];
	char id[PKI_NODE_ID_MAX + 1], buf[16];
	uint32_t want;
	struct pair p;

	(void)state;
	open_pair(&p, s, c);
	pump(&p);
	assert_int_equal(p.rs, 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(tls_conn_peer_id(p.s, id, sizeof(id)), 0);
	assert_string_equal(id, "node-1");
	assert_int_equal(tls_conn_peer_id(p.c, id, sizeof(id)), 0);
	assert_string_equal(id, "leader");
	assert_int_equal(tls_conn_exporter(p.s, TLS_EXPORTER_JOIN, e1), 0);
	assert_int_equal(tls_conn_exporter(p.c, TLS_EXPORTER_JOIN, e2), 0);
	assert_memory_equal(e1, e2, sizeof(e1));
	assert_int_equal(tls_conn_write(p.c, "hello", 5, &want), 5);
	assert_int_equal(tls_conn_read(p.s, buf, sizeof(buf), &want), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(tls_conn_read(p.s, buf, sizeof(buf), &want), -EAGAIN);
	assert_int_equal(want, EPOLLIN);
	close_pair(&p);
	tls_ctx_free(s), tls_ctx_free(c);
}

static void test_pinned_anonymous_join(void **state)
{
	struct tls_ctx *s = tls_ctx_server(leader.cert, leader.key, ca, true);
	uint8_t pin[PKI_DIGEST_LEN];
	struct tls_ctx *c;
	char id[PKI_NODE_ID_MAX + 1];
	struct pair p;

	(void)state;
	assert_int_equal(pki_cert_digest(ca, pin), 0);
	c = tls_ctx_client(NULL, NULL, NULL, pin);
	open_pair(&p, s, c);
	pump(&p);
	assert_int_equal(p.rs, 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(tls_conn_peer_id(p.s, id, sizeof(id)), -ENOENT);
	close_pair(&p);
	tls_ctx_free(c);

	pin[0] ^= 1; /* a token for another cluster */
	c = tls_ctx_client(NULL, NULL, NULL, pin);
	open_pair(&p, s, c);
	pump(&p);
	assert_int_equal(p.rc, -EPROTO);
	assert_non_null(strstr(tls_conn_error(p.c), "certificate"));
	assert_int_not_equal(p.rs, 0);
	close_pair(&p);
	tls_ctx_free(c), tls_ctx_free(s);
}

/* A client the server must refuse; returns the server's reason. */
static void expect_refused(struct party *who, bool anonymous_ok,
			   const char *reason)
{
	struct tls_ctx *s =
		tls_ctx_server(leader.cert, leader.key, ca, anonymous_ok);
	struct tls_ctx *c = tls_ctx_client(who ? who->cert : NULL,
					   who ? who->key : NULL, ca, NULL);
	struct pair p;

	open_pair(&p, s, c);
	pump(&p);
	assert_int_equal(p.rs, -EPROTO);
	assert_int_not_equal(p.rc, 0);
	assert_non_null(strstr(tls_conn_error(p.s), reason));
	close_pair(&p);
	tls_ctx_free(s), tls_ctx_free(c);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused(&stranger, false, "certificate");
	expect_refused(&stranger, true, "certificate");
	expect_refused(&expired, false, "expired");
	expect_refused(NULL, false, "certificate");
}

/*
 * A server with who's certificate: a member's client (the CA known) and a
 * joining one (the CA pinned) alike refuse it, for its purpose.
 */
static void expect_cannot_serve(struct party *who)
{
	struct tls_ctx *s = tls_ctx_server(who->cert, who->key, ca, true);
	uint8_t pin[PKI_DIGEST_LEN];
	struct pair p;

	assert_int_equal(pki_cert_digest(ca, pin), 0);
	for (int pinned = 0; pinned < 2; pinned++) {
		struct tls_ctx *c =
			pinned ? tls_ctx_client(NULL, NULL, NULL, pin)
			       : tls_ctx_client(NULL, NULL, ca, NULL);

		open_pair(&p, s, c);
		pump(&p);
		assert_int_equal(p.rc, -EPROTO);
		assert_non_null(strstr(tls_conn_error(p.c), "purpose"));
		close_pair(&p);
		tls_ctx_free(c);
	}
	tls_ctx_free(s);
}

/* A node's certificate (clientAuth only) cannot serve: no node can pose
 * as the leader to another node, even one named like it. */
static void test_node_cannot_serve(void **state)
{
	(void)state;
	expect_cannot_serve(&node);
}

/* Without an extended key usage, a certificate of the cluster CA is
 * neither a member's (clientAuth) nor the leader's (serverAuth). */
static void test_no_eku_refused(void **state)
{
	(void)state;
	expect_refused(&bare, false, "purpose");
	expect_refused(&bare, true, "purpose");
	expect_cannot_serve(&bare_leader);
}

static void test_garbage_and_tls12(void **state)
{
	struct tls_ctx *s = tls_ctx_server(leader.cert, leader.key, ca, true);
	SSL_CTX *old = SSL_CTX_new(TLS_client_method());
	struct tls_conn *sc;
	int fd[2], r = -EAGAIN;
	uint32_t want;
	SSL *cl;

	(void)state;
	assert_int_equal(
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
	sc = tls_conn_new(s, fd[0], true);
	assert_int_equal(write(fd[1], "GET / HTTP/1.0\r\n\r\n", 18), 18);
	r = tls_conn_handshake(sc, &want);
	assert_int_equal(r, -EPROTO);
	assert_true(strlen(tls_conn_error(sc)) > 0);
	tls_conn_free(sc);
	close(fd[0]), close(fd[1]);

	/* A TLS 1.2 client is refused: 1.3 only. */
	assert_int_equal(
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
	SSL_CTX_set_max_proto_version(old, TLS1_2_VERSION);
	cl = SSL_new(old);
	SSL_set_fd(cl, fd[1]);
	SSL_set_connect_state(cl);
	sc = tls_conn_new(s, fd[0], true);
	r = -EAGAIN;
	for (int i = 0; i < 10 && r != 0 && r != -EPROTO; i++) {
		SSL_do_handshake(cl);
		r = tls_conn_handshake(sc, &want);
	}
	assert_int_equal(r, -EPROTO);
	assert_non_null(strstr(tls_conn_error(sc), "unsupported protocol"));
	SSL_free(cl);
	SSL_CTX_free(old);
	tls_conn_free(sc);
	close(fd[0]), close(fd[1]);
	tls_ctx_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutual),
		cmocka_unit_test(test_pinned_anonymous_join),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_no_eku_refused),
		cmocka_unit_test(test_node_cannot_serve),
		cmocka_unit_test(test_garbage_and_tls12),
	};

	return cmocka_run_group_tests_name("tls", tests, setup, teardown);
}
