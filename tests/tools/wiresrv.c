// SPDX-License-Identifier: MIT
/* wiresrv: the leader's side of join and hello over mutual TLS, for the wire tests. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/conn.h"
#include "common/pki.h"
#include "common/token.h"
#include "proto/frame.h"

#define HANDSHAKE_MS 5000
static const struct conn_limits limits = { .auth_ms = HANDSHAKE_MS,
					   .frame_unauth = FRAME_MAX_DEFAULT,
					   .frame_max = FRAME_MAX_DEFAULT };
#define LEADER_ID "vxsec-leader"
#define IDS_MAX 65536 /* node indexes it hands out */

struct server {
	struct loop *loop;
	struct tls_ctx *tls;
	EVP_PKEY *ca_key, *key;
	X509 *ca, *cert;
	const char *dir;
	int lfd;
	uint32_t next_index;
	long cert_secs; /* life of the node certificates it issues */
	char ids[IDS_MAX][PKI_NODE_ID_MAX + 1]; /* index i + 1 is ids[i] */
};

struct client {
	struct server *s;
	char addr[64];
	char peer[PKI_NODE_ID_MAX + 1]; /* "" until a certificate names it */
};

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logf_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("wiresrv: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void path(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* The token file holds the current token: rewriting it rotates it. */
static int current_token(struct server *s, struct join_token *t)
{
	char p[4096], text[TOKEN_TEXT_LEN + 8] = "";
	struct why why = { "" };
	FILE *f;
	int err;

	path(p, sizeof(p), s->dir, "token");
	f = fopen(p, "re");
	if (!f)
		return -errno;
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	err = token_parse(text, t, &why);
	sodium_memzero(text, sizeof(text));
	return err;
}

static bool removed(struct server *s, const char *node_id)
{
	char p[4096], line[PKI_NODE_ID_MAX + 8];
	bool found = false;
	FILE *f;

	path(p, sizeof(p), s->dir, "removed");
	f = fopen(p, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		found = strcmp(line, node_id) == 0;
	}
	fclose(f);
	return found;
}

static void send_env(struct conn *c, Vxsec__Envelope *env)
{
	uint8_t *buf;
	size_t len;

	if (frame_encode(env, &buf, &len) == 0) {
		conn_send(c, buf, len);
		frame_buf_free(buf, len);
	}
}

/* Tells the peer why, logs it once, and closes after the frame is out. */
static void refuse(struct conn *c, struct client *cl, Vxsec__ErrorCode code,
		   const char *why)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Error err = VXSEC__ERROR__INIT;

	logf_("%s (%s): refused: %s", cl->addr,
	      cl->peer[0] ? cl->peer : "no certificate", why);
	err.code = code;
	err.reason = (char *)why;
	env.msg_case = VXSEC__ENVELOPE__MSG_ERROR;
	env.error = &err;
	send_env(c, &env);
	conn_close(c, why, true);
}

static bool proof_ok(struct client *cl, struct conn *c,
		     const Vxsec__JoinRequest *req)
{
	uint8_t exp[TLS_EXPORTER_LEN];
	struct join_token t;
	bool ok;

	if (current_token(cl->s, &t) ||
	    tls_conn_exporter(conn_tls(c), TLS_EXPORTER_JOIN, exp))
		return false;
	ok = crypto_auth_hmacsha256_verify(req->secret_proof.data, exp,
					   sizeof(exp), t.secret) == 0;
	token_wipe(&t);
	sodium_memzero(exp, sizeof(exp));
	return ok;
}

/* A node keeps its index for life; a new node gets the next one. */
static uint32_t index_of(struct server *s, const char *node_id)
{
	uint32_t i;

	for (i = 0; i + 1 < s->next_index; i++)
		if (strcmp(s->ids[i], node_id) == 0)
			return i + 1;
	if (s->next_index > IDS_MAX)
		return 0;
	snprintf(s->ids[s->next_index - 1], sizeof(s->ids[0]), "%s", node_id);
	return s->next_index++;
}

static void reply_join(struct conn *c, struct client *cl, X509 *cert,
		       const char *node_id)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__JoinResponse resp = VXSEC__JOIN_RESPONSE__INIT;
	uint8_t *der = NULL, *ca_der = NULL;
	size_t len = 0, ca_len = 0;

	pki_cert_to_der(cert, &der, &len);
	pki_cert_to_der(cl->s->ca, &ca_der, &ca_len);
	resp.cert_der = (ProtobufCBinaryData){ len, der };
	resp.ca_cert_der = (ProtobufCBinaryData){ ca_len, ca_der };
	resp.node_index = index_of(cl->s, node_id);
	env.msg_case = VXSEC__ENVELOPE__MSG_JOIN_RESPONSE;
	env.join_response = &resp;
	send_env(c, &env);
	OPENSSL_free(der);
	OPENSSL_free(ca_der);
}

static void handle_join(struct conn *c, struct client *cl,
			const Vxsec__JoinRequest *req)
{
	X509_REQ *csr;
	X509 *cert = NULL;
	struct why why = { "" };

	if (!proof_ok(cl, c, req)) {
		refuse(c, cl, VXSEC__ERROR_CODE__ERROR_UNAUTHORIZED,
		       "join token secret does not match (wrong or rotated "
		       "token)");
		return;
	}
	if (removed(cl->s, req->node_id)) {
		refuse(c, cl, VXSEC__ERROR_CODE__ERROR_REMOVED,
		       "this node id was removed from the cluster");
		return;
	}
	csr = pki_csr_from_der(req->csr_der.data, req->csr_der.len);
	if (!csr || pki_issue_secs(cl->s->ca_key, cl->s->ca, csr, req->node_id,
				   cl->s->cert_secs, &cert, &why)) {
		X509_REQ_free(csr);
		refuse(c, cl, VXSEC__ERROR_CODE__ERROR_BAD_MESSAGE,
		       csr ? why.msg : "CSR is not DER");
		return;
	}
	logf_("%s: %s joined", cl->addr, req->node_id);
	reply_join(c, cl, cert, req->node_id);
	X509_free(cert);
	X509_REQ_free(csr);
	conn_close(c, "joined", true);
}

static void handle_renew(struct conn *c, struct client *cl,
			 const Vxsec__RenewRequest *req)
{
	X509_REQ *csr = pki_csr_from_der(req->csr_der.data, req->csr_der.len);
	X509 *cert = NULL;
	struct why why = { "" };

	if (!csr || pki_issue_secs(cl->s->ca_key, cl->s->ca, csr, cl->peer,
				   cl->s->cert_secs, &cert, &why)) {
		X509_REQ_free(csr);
		refuse(c, cl, VXSEC__ERROR_CODE__ERROR_BAD_MESSAGE,
		       csr ? why.msg : "CSR is not DER");
		return;
	}
	logf_("%s: renewed the certificate of %s", cl->addr, cl->peer);
	reply_join(c, cl, cert, cl->peer);
	X509_free(cert);
	X509_REQ_free(csr);
}

static void handle_hello(struct conn *c, struct client *cl,
			 const Vxsec__Hello *hello)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Snapshot snap = VXSEC__SNAPSHOT__INIT;
	Vxsec__Peer self = VXSEC__PEER__INIT;
	Vxsec__NodeKey key = VXSEC__NODE_KEY__INIT, *keys[1] = { &key };
	struct why why = { "" };

	if (strcmp(hello->node_id, cl->peer) != 0) {
		why_set(&why,
			"hello names %s but the certificate "
			"names %s",
			hello->node_id, cl->peer);
		refuse(c, cl, VXSEC__ERROR_CODE__ERROR_UNAUTHORIZED, why.msg);
		return;
	}
	logf_("%s: hello from %s", cl->addr, cl->peer);
	/* protocol 2: the snapshot names the node itself, with its key */
	key.key = hello->static_key;
	self.node_id = hello->node_id;
	self.index = index_of(cl->s, cl->peer);
	self.incarnation = 1;
	self.n_underlay = hello->n_underlay;
	self.underlay = hello->underlay;
	self.n_keys = 1;
	self.keys = keys;
	snap.self = &self;
	snap.revision = 1;
	env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
	env.snapshot = &snap;
	send_env(c, &env);
}

static void on_ready(struct conn *c, void *arg)
{
	struct client *cl = arg;

	conn_auth(c); /* a test server: every peer may send big frames */
	if (tls_conn_peer_id(conn_tls(c), cl->peer, sizeof(cl->peer)))
		cl->peer[0] = '\0';
	if (cl->peer[0] && removed(cl->s, cl->peer))
		refuse(c, cl, VXSEC__ERROR_CODE__ERROR_REMOVED,
		       "this node id was removed from the cluster");
}

static void on_frame(struct conn *c, const uint8_t *body, size_t len, void *arg)
{
	struct client *cl = arg;
	Vxsec__Envelope *env;
	struct why why = { "" };
	int err = frame_decode(body, len, &env, &why);

	if (err) {
		refuse(c, cl,
		       err == -EPROTO ? VXSEC__ERROR_CODE__ERROR_VERSION
				      : VXSEC__ERROR_CODE__ERROR_BAD_MESSAGE,
		       why.msg);
		return;
	}
	if (!cl->peer[0] && env->msg_case == VXSEC__ENVELOPE__MSG_JOIN_REQUEST)
		handle_join(c, cl, env->join_request);
	else if (!cl->peer[0])
		refuse(c, cl, VXSEC__ERROR_CODE__ERROR_UNAUTHORIZED,
		       "without a certificate only a join request is accepted");
	else if (env->msg_case == VXSEC__ENVELOPE__MSG_HELLO)
		handle_hello(c, cl, env->hello);
	else if (env->msg_case == VXSEC__ENVELOPE__MSG_RENEW_REQUEST)
		handle_renew(c, cl, env->renew_request);
	else if (env->msg_case == VXSEC__ENVELOPE__MSG_ACK)
		; /* the snapshot applied: nothing more to send */
	else
		refuse(c, cl, VXSEC__ERROR_CODE__ERROR_BAD_MESSAGE,
		       "expected a hello or a renew request");
	frame_free(env);
}

static void on_closed(struct conn *c, const char *why, void *arg)
{
	struct client *cl = arg;

	(void)c;
	logf_("%s: closed: %s", cl->addr, why);
	free(cl);
}

static void on_bad_frame(struct conn *c, const char *why, void *arg)
{
	refuse(c, arg, VXSEC__ERROR_CODE__ERROR_BAD_MESSAGE, why);
}

static const struct conn_ops ops = { .ready = on_ready,
				     .frame = on_frame,
				     .bad_frame = on_bad_frame,
				     .closed = on_closed };

static void on_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct server *s = arg;
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	struct client *cl;
	int cfd;

	(void)events;
	while ((cfd = accept4(fd, (struct sockaddr *)&from, &flen,
			      SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		cl = calloc(1, sizeof(*cl));
		if (!cl) {
			close(cfd);
			continue;
		}
		cl->s = s;
		snprintf(cl->addr, sizeof(cl->addr), "%s:%u",
			 inet_ntoa(from.sin_addr), ntohs(from.sin_port));
		if (!conn_new(l, s->tls, cfd, true, &ops, cl, &limits)) {
			close(cfd);
			free(cl);
		}
	}
}

/* Loads the CA, or creates it on first start; same for our own key. */
static int load_or_make(struct server *s)
{
	char kp[4096], cp[4096];
	struct why why = { "" };
	X509_REQ *csr;

	path(kp, sizeof(kp), s->dir, "ca.key");
	path(cp, sizeof(cp), s->dir, "ca.pem");
	s->ca_key = pki_key_load(kp);
	s->ca = pki_cert_load(cp);
	if (!s->ca_key || !s->ca) {
		s->ca_key = pki_key_new();
		s->ca = s->ca_key
				? pki_ca_new(s->ca_key, "wiresrv", PKI_CA_DAYS)
				: NULL;
		if (!s->ca || pki_key_save(kp, s->ca_key) ||
		    pki_cert_save(cp, s->ca))
			return -EIO;
		logf_("created the cluster CA in %s", s->dir);
	}
	s->key = pki_key_new();
	csr = s->key ? pki_csr_new(s->key, LEADER_ID) : NULL;
	if (!csr || pki_issue_server(s->ca_key, s->ca, csr, LEADER_ID,
				     PKI_CERT_DAYS_DEFAULT, &s->cert, &why)) {
		X509_REQ_free(csr);
		return -EIO;
	}
	X509_REQ_free(csr);
	return 0;
}

static int write_file(struct server *s, const char *name, const char *text)
{
	char p[4096], tmp[4200];
	FILE *f;

	/* Whole or absent: a test reads it as soon as the name appears. */
	path(p, sizeof(p), s->dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fputs(text, f);
	if (fclose(f))
		return -errno;
	return rename(tmp, p) ? -errno : 0;
}

static int make_token(struct server *s)
{
	char text[TOKEN_TEXT_LEN + 2];
	struct join_token t;
	int err;

	if (current_token(s, &t) == 0) {
		token_wipe(&t);
		return 0;
	}
	if (pki_cert_digest(s->ca, t.ca_digest))
		return -EIO;
	randombytes_buf(t.secret, sizeof(t.secret));
	err = token_format(&t, text, sizeof(text));
	token_wipe(&t);
	if (!err) {
		strcat(text, "\n");
		err = write_file(s, "token", text);
	}
	sodium_memzero(text, sizeof(text));
	return err;
}

static int listen_on(struct server *s, unsigned int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	char text[16];
	int one = 1;

	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 ||
	    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(s->lfd, 64) ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &len))
		return -errno;
	snprintf(text, sizeof(text), "%u\n", ntohs(a.sin_port));
	return write_file(s, "port", text);
}

static void on_signal(struct loop *l, int sig, void *arg)
{
	(void)sig, (void)arg;
	loop_stop(l);
}

int main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	static struct server s = { .next_index = 1,
				   .cert_secs =
					   PKI_CERT_DAYS_DEFAULT * 86400L };
	unsigned int port = 0;

	if (argc < 2 || argc > 4 || !strcmp(argv[1], "--help")) {
		fprintf(stderr,
			"usage: wiresrv DIR [PORT [CERT_SECONDS]]\n"
			"Serves join and hello on 127.0.0.1:PORT (0: any; "
			"written to DIR/port).\nDIR holds ca.key, ca.pem, "
			"token (rewrite it to rotate) and removed\n"
			"(node ids, one a line).\n");
		return 2;
	}
	s.dir = argv[1];
	if (argc >= 3)
		port = (unsigned int)strtoul(argv[2], NULL, 10);
	if (argc == 4)
		s.cert_secs = strtol(argv[3], NULL, 10);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0 || load_or_make(&s) || make_token(&s)) {
		logf_("cannot set up the CA and token in %s", s.dir);
		return 1;
	}
	s.loop = loop_new();
	s.tls = tls_ctx_server(s.cert, s.key, s.ca, true);
	if (!s.loop || !s.tls || listen_on(&s, port) ||
	    loop_add_fd(s.loop, s.lfd, EPOLLIN, on_accept, &s) ||
	    loop_signals(s.loop, sigs, 2, on_signal, NULL)) {
		logf_("cannot listen: %s", strerror(errno));
		return 1;
	}
	loop_run(s.loop);
	close(s.lfd);
	tls_ctx_free(s.tls);
	loop_free(s.loop);
	X509_free(s.cert), X509_free(s.ca);
	EVP_PKEY_free(s.key), EVP_PKEY_free(s.ca_key);
	return 0;
}
