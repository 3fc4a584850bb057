// SPDX-License-Identifier: MIT
/* agent session: the agent's messages to the leader, its credentials on disk, certificate renewal. */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/why.h"
#include "session_int.h"

static void path(char *out, size_t len, const struct session *s,
		 const char *name)
{
	snprintf(out, len, "%s/%s", s->dir, name);
}

/* Sends a frame wire.c built (err: it could not). */
static int send_frame(struct conn *c, int err, uint8_t *frame, size_t len)
{
	if (err)
		return err;
	err = conn_send(c, frame, len);
	wire_frame_free(frame, len);
	return err;
}

static struct wire_node node_of(const struct session *s)
{
	const struct static_key *k = static_keys_newest(s->sk);

	return (struct wire_node){ .id = s->node_id,
				   .boot_id = s->boot_id,
				   .static_key = pairkey_public(k->k),
				   .addrs = s->addrs,
				   .n_addrs = s->n_addrs };
}

/* ---- credentials ---- */

void session_creds_free(struct session *s)
{
	tls_ctx_free(s->tls);
	tls_ctx_free(s->join_tls);
	EVP_PKEY_free(s->join_key);
	EVP_PKEY_free(s->renew_key);
	s->tls = s->join_tls = NULL;
	s->join_key = s->renew_key = NULL;
}

/* A session context from the node's key, certificate and the CA. */
static int use_creds(struct session *s, X509 *cert, EVP_PKEY *key, X509 *ca,
		     struct why *why)
{
	char id[PKI_NODE_ID_MAX + 1];
	struct tls_ctx *t;
	time_t nb;

	if (X509_check_private_key(cert, key) != 1)
		return why_fail(why, -EINVAL,
				"the node certificate is not for the node key");
	if (pki_node_id(cert, id, sizeof(id)) || strcmp(id, s->node_id) != 0)
		return why_fail(why, -EINVAL,
				"the node certificate names another node (%s)",
				id);
	t = tls_ctx_client(cert, key, ca, NULL);
	if (!t)
		return why_fail(why, -ENOMEM,
				"cannot make a TLS context of the credentials");
	tls_ctx_free(s->tls);
	s->tls = t;
	pki_cert_times(cert, &nb, &s->cert_not_after);
	return 0;
}

int session_load_creds(struct session *s, struct why *why)
{
	char p[600];
	X509 *cert, *ca = NULL;
	EVP_PKEY *key = NULL;
	int err = -EINVAL;

	path(p, sizeof(p), s, "node.pem");
	if (access(p, F_OK) != 0 && errno == ENOENT)
		return -ENOENT; /* not a member yet: join */
	cert = pki_cert_load(p);
	if (cert) {
		path(p, sizeof(p), s, "node.key");
		key = pki_key_load(p);
		path(p, sizeof(p), s, "ca.pem");
		ca = key ? pki_cert_load(p) : NULL;
	}
	if (!cert || !key || !ca)
		why_set(why,
			"cannot read the credentials in %s (node.pem, "
			"node.key, ca.pem): %s",
			s->dir, strerror(errno));
	else
		err = use_creds(s, cert, key, ca, why);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	if (!err && s->cert_not_after <= time(NULL) && s->have_token) {
		log_warn("the node certificate expired: joining again with "
			 "the token");
		tls_ctx_free(s->tls);
		s->tls = NULL;
		return -ENOENT;
	}
	return err;
}

/* ---- join ---- */

int session_join_prepare(struct session *s, struct why *why)
{
	if (!s->have_token)
		return why_fail(why, -ENOKEY, "not a member and no join token");
	if (!s->join_tls)
		s->join_tls =
			tls_ctx_client(NULL, NULL, NULL, s->token.ca_digest);
	if (!s->join_key)
		s->join_key = pki_key_new();
	if (!s->join_tls || !s->join_key)
		return why_fail(why, -ENOMEM,
				"cannot make a key and a TLS context to join");
	return 0;
}

int session_send_join(struct session *s, struct conn *c)
{
	struct wire_node n = node_of(s);
	uint8_t exp[TLS_EXPORTER_LEN], proof[32], *der = NULL, *frame = NULL;
	X509_REQ *csr = pki_csr_new(s->join_key, s->node_id);
	size_t der_len = 0, len = 0;
	int err = -ENOMEM;

	/* The proof binds the token secret to this very TLS session. */
	if (!csr || pki_csr_to_der(csr, &der, &der_len) ||
	    tls_conn_exporter(conn_tls(c), TLS_EXPORTER_JOIN, exp))
		goto out;
	crypto_auth_hmacsha256(proof, exp, sizeof(exp), s->token.secret);
	err = wire_join(&n, proof, der, der_len, &frame, &len);
	err = send_frame(c, err, frame, len);
	sodium_memzero(proof, sizeof(proof));
	sodium_memzero(exp, sizeof(exp));
out:
	OPENSSL_free(der);
	X509_REQ_free(csr);
	return err;
}

/* Saves the key first and the certificate last: node.pem means joined. */
static int save_creds(struct session *s, EVP_PKEY *key, X509 *cert, X509 *ca,
		      struct why *why)
{
	char p[600];
	int err;

	path(p, sizeof(p), s, "node.key");
	err = pki_key_save(p, key);
	if (!err && ca) {
		path(p, sizeof(p), s, "ca.pem");
		err = pki_cert_save(p, ca);
	}
	if (!err) {
		path(p, sizeof(p), s, "node.pem");
		err = pki_cert_save(p, cert);
	}
	if (err)
		return why_fail(why, err, "cannot save %s: %s", p,
				strerror(-err));
	return 0;
}

int session_joined(struct session *s, const struct wire_msg *m, struct why *why)
{
	X509 *cert = pki_cert_from_der(m->cert, m->cert_len);
	X509 *ca = pki_cert_from_der(m->ca, m->ca_len);
	uint8_t digest[PKI_DIGEST_LEN];
	int err = -EINVAL;

	if (!cert || !ca)
		why_set(why, "the certificates do not parse");
	else if (pki_cert_digest(ca, digest) ||
		 sodium_memcmp(digest, s->token.ca_digest, sizeof(digest)))
		why_set(why, "the CA is not the one the token names");
	else if (X509_verify(cert, X509_get0_pubkey(ca)) != 1)
		why_set(why, "the certificate is not signed by the CA");
	else
		err = use_creds(s, cert, s->join_key, ca, why);
	if (!err)
		err = save_creds(s, s->join_key, cert, ca, why);
	X509_free(cert);
	X509_free(ca);
	return err;
}

/* ---- the session's messages ---- */

int session_send_hello(struct session *s, struct conn *c)
{
	struct wire_node n = node_of(s);
	uint8_t *frame = NULL;
	size_t len = 0;
	int err;

	n.local = s->has_local ? &s->local : NULL; /* NAT detection */
	n.nat = s->nat;
	n.nat_public = s->nat_public.family ? &s->nat_public : NULL;
	err = wire_hello(&n, s->lost_state, s->kernel_rev, s->kernel_term,
			 &frame, &len);

	return send_frame(c, err, frame, len);
}

int session_send_key_update(struct session *s, struct conn *c)
{
	struct wire_node n = node_of(s);
	uint8_t *frame = NULL;
	size_t len = 0;
	int err = wire_key_update(n.static_key, &frame, &len);

	return send_frame(c, err, frame, len);
}

int session_send_ack(struct conn *c, uint64_t revision)
{
	uint8_t *frame = NULL;
	size_t len = 0;
	int err = wire_ack(revision, &frame, &len);

	return send_frame(c, err, frame, len);
}

int session_send_expire(struct conn *c, uint32_t g, uint32_t spi)
{
	uint8_t *frame = NULL;
	size_t len = 0;
	int err = wire_expire(g, spi, &frame, &len);

	return send_frame(c, err, frame, len);
}

int session_send_pong(struct conn *c, uint64_t nonce)
{
	uint8_t *frame = NULL;
	size_t len = 0;
	int err = wire_pong(nonce, &frame, &len);

	return send_frame(c, err, frame, len);
}

int session_send_error(struct conn *c, const char *why)
{
	uint8_t *frame = NULL;
	size_t len = 0;
	int err = wire_refusal(why, &frame, &len);

	return send_frame(c, err, frame, len);
}

/* ---- renewal ---- */

/* At a random point between 50% and 80% of the certificate's life. */
void session_schedule_renewal(struct session *s)
{
	char p[600];
	time_t nb, na, now = time(NULL);
	X509 *cert;

	path(p, sizeof(p), s, "node.pem");
	cert = pki_cert_load(p);
	if (!cert || pki_cert_times(cert, &nb, &na)) {
		X509_free(cert);
		log_warn("cannot read %s: no renewal scheduled", p);
		return;
	}
	X509_free(cert);
	s->cert_not_after = na;
	s->renew_at = pki_renew_at(nb, na, randombytes_uniform(1000000) / 1e6);
	loop_timer_arm(s->renew,
		       s->renew_at > now ? (uint64_t)(s->renew_at - now) * 1000
					 : 1,
		       0);
}

void session_on_renew_due(struct loop *l, struct loop_timer *t, void *arg)
{
	struct session *s = arg;
	X509_REQ *csr = NULL;
	uint8_t *der = NULL, *frame = NULL;
	size_t len = 0, flen = 0;
	int err;

	(void)l, (void)t;
	if (s->phase != PH_LIVE)
		return; /* the next session schedules it again */
	EVP_PKEY_free(s->renew_key);
	s->renew_key = pki_key_new(); /* every certificate gets a new key */
	csr = s->renew_key ? pki_csr_new(s->renew_key, s->node_id) : NULL;
	if (!csr || pki_csr_to_der(csr, &der, &len)) {
		log_err("renewal: cannot make a key and a CSR");
		loop_timer_arm(s->renew, 60000, 0);
	} else {
		err = wire_renew(der, len, &frame, &flen);
		send_frame(s->conn, err, frame, flen);
		log_info("renewing the node certificate");
	}
	OPENSSL_free(der);
	X509_REQ_free(csr);
}

void session_renewed(struct session *s, const struct wire_msg *m)
{
	X509 *cert = pki_cert_from_der(m->cert, m->cert_len);
	char p[600];
	struct why why = { "the certificate does not parse" };
	X509 *ca;
	int err = -EINVAL;

	path(p, sizeof(p), s, "ca.pem");
	ca = pki_cert_load(p);
	if (!s->renew_key)
		why_set(&why, "a certificate nobody asked for");
	else if (cert && ca && X509_verify(cert, X509_get0_pubkey(ca)) != 1)
		why_set(&why, "not signed by the cluster CA");
	else if (cert && ca)
		err = use_creds(s, cert, s->renew_key, ca, &why);
	if (!err)
		err = save_creds(s, s->renew_key, cert, NULL, &why);
	X509_free(cert);
	X509_free(ca);
	if (err) {
		log_err("renewal refused: %s", why.msg);
		loop_timer_arm(s->renew, 60000, 0);
		return;
	}
	EVP_PKEY_free(s->renew_key);
	s->renew_key = NULL;
	log_info("node certificate renewed");
	session_schedule_renewal(s);
}
