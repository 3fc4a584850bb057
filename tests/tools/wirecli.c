// SPDX-License-Identifier: MIT
/* wirecli: the agent's side of join and hello, for the wire tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/conn.h"
#include "common/pairkey.h"
#include "common/pki.h"
#include "common/token.h"
#include "proto/frame.h"

#define LEADER_ID "vxsec-leader"
#define TIMEOUT_MS 10000
static const struct conn_limits limits = { .auth_ms = TIMEOUT_MS,
					   .frame_unauth = FRAME_MAX_DEFAULT,
					   .frame_max = FRAME_MAX_DEFAULT };

enum mode { JOIN, HELLO, RENEW, SESSION };

struct cli {
	enum mode mode;
	const char *dir;
	const char *node_id;
	struct join_token token;
	EVP_PKEY *key;	   /* the key the saved certificate will hold */
	EVP_PKEY *tls_key; /* renew: the current key, for this session */
	int rc;
	bool done, ending;
	struct conn *conn;
	struct loop_timer *renew; /* session: the next renewal */
	int renewals;
	/* this run's X25519 public key (protocol 2; each run is a new boot,
	 * so a new incarnation with a new key: the private half is dropped,
	 * this tool derives no pair key) */
	uint8_t pub[PAIRKEY_PUB_LEN];
};

/*
 * The underlay address this node announces: 127.x.y.z from its id
 * (FNV-1a), so that different nodes announce different addresses, as the
 * leader requires.
 */
static void node_underlay(const char *id, uint8_t out[4])
{
	uint32_t h = 2166136261u;

	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	out[0] = 127;
	out[1] = (uint8_t)(h >> 16);
	out[2] = (uint8_t)(h >> 8);
	out[3] = (uint8_t)(h | 1u);
}

static void path(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void send_env(struct conn *c, Vxsec__Envelope *env)
{
	uint8_t *buf;
	size_t len;

	if (frame_encode(env, &buf, &len) == 0) {
		/* WIRECLI_PROTOCOL=1: speak as a peer of protocol 1 (the
		 * envelope's version, field 1, comes first: 0x08 then 2). */
		if (getenv("WIRECLI_PROTOCOL") && len > FRAME_HEADER + 1 &&
		    buf[FRAME_HEADER] == 0x08)
			buf[FRAME_HEADER + 1] =
				(uint8_t)atoi(getenv("WIRECLI_PROTOCOL"));
		conn_send(c, buf, len);
		frame_buf_free(buf, len);
	}
}

static void send_join(struct conn *c, struct cli *cl)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__JoinRequest req = VXSEC__JOIN_REQUEST__INIT;
	Vxsec__Address a = VXSEC__ADDRESS__INIT, *addrs[1] = { &a };
	uint8_t exp[TLS_EXPORTER_LEN], proof[32], boot[16], *der = NULL;
	uint8_t underlay[4];
	X509_REQ *csr = pki_csr_new(cl->key, cl->node_id);
	size_t len = 0;

	/* The proof binds the token secret to this very TLS session. */
	tls_conn_exporter(conn_tls(c), TLS_EXPORTER_JOIN, exp);
	crypto_auth_hmacsha256(proof, exp, sizeof(exp), cl->token.secret);
	randombytes_buf(boot, sizeof(boot));
	pki_csr_to_der(csr, &der, &len);
	req.node_id = (char *)cl->node_id;
	req.secret_proof = (ProtobufCBinaryData){ sizeof(proof), proof };
	req.csr_der = (ProtobufCBinaryData){ len, der };
	req.boot_id = (ProtobufCBinaryData){ sizeof(boot), boot };
	node_underlay(cl->node_id, underlay);
	a.ip = (ProtobufCBinaryData){ 4, underlay };
	req.n_underlay = 1;
	req.underlay = addrs;
	req.static_key = (ProtobufCBinaryData){ sizeof(cl->pub), cl->pub };
	env.msg_case = VXSEC__ENVELOPE__MSG_JOIN_REQUEST;
	env.join_request = &req;
	send_env(c, &env);
	sodium_memzero(proof, sizeof(proof));
	sodium_memzero(exp, sizeof(exp));
	OPENSSL_free(der);
	X509_REQ_free(csr);
}

static void send_hello(struct conn *c, struct cli *cl)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Hello hello = VXSEC__HELLO__INIT;
	Vxsec__Address a = VXSEC__ADDRESS__INIT, *addrs[1] = { &a };
	uint8_t boot[16], underlay[4];

	randombytes_buf(boot, sizeof(boot));
	hello.node_id = (char *)cl->node_id;
	hello.boot_id = (ProtobufCBinaryData){ sizeof(boot), boot };
	node_underlay(cl->node_id, underlay);
	a.ip = (ProtobufCBinaryData){ 4, underlay };
	hello.n_underlay = 1;
	hello.underlay = addrs;
	hello.static_key = (ProtobufCBinaryData){ sizeof(cl->pub), cl->pub };
	env.msg_case = VXSEC__ENVELOPE__MSG_HELLO;
	env.hello = &hello;
	send_env(c, &env);
}

/* A new key, and a CSR for it naming the same node. */
static void send_renew(struct conn *c, struct cli *cl)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__RenewRequest req = VXSEC__RENEW_REQUEST__INIT;
	X509_REQ *csr = pki_csr_new(cl->key, cl->node_id);
	uint8_t *der = NULL;
	size_t len = 0;

	pki_csr_to_der(csr, &der, &len);
	req.csr_der = (ProtobufCBinaryData){ len, der };
	env.msg_case = VXSEC__ENVELOPE__MSG_RENEW_REQUEST;
	env.renew_request = &req;
	send_env(c, &env);
	OPENSSL_free(der);
	X509_REQ_free(csr);
}

static void on_ready(struct conn *c, void *arg)
{
	struct cli *cl = arg;
	char peer[PKI_NODE_ID_MAX + 1];

	if (tls_conn_peer_id(conn_tls(c), peer, sizeof(peer)) ||
	    strcmp(peer, LEADER_ID) != 0) {
		conn_close(c, "the server is not the cluster's leader", false);
		return;
	}
	conn_auth(c);
	cl->conn = c;
	if (cl->mode == JOIN)
		send_join(c, cl);
	else if (cl->mode == RENEW)
		send_renew(c, cl);
	else
		send_hello(c, cl);
}

static int save_join(struct cli *cl, const Vxsec__JoinResponse *r)
{
	X509 *cert = pki_cert_from_der(r->cert_der.data, r->cert_der.len);
	X509 *ca = pki_cert_from_der(r->ca_cert_der.data, r->ca_cert_der.len);
	char p[4096];
	int err = -EINVAL;

	if (cert && ca && X509_check_private_key(cert, cl->key) == 1) {
		path(p, sizeof(p), cl->dir, "node.key");
		err = pki_key_save(p, cl->key);
		path(p, sizeof(p), cl->dir, "node.pem");
		err = err ? err : pki_cert_save(p, cert);
		path(p, sizeof(p), cl->dir, "ca.pem");
		err = err ? err : pki_cert_save(p, ca);
	}
	X509_free(cert);
	X509_free(ca);
	return err;
}

/* Arms the next renewal at a random point in 50-80% of the cert's life. */
static void schedule_renewal(struct cli *cl)
{
	char p[4096];
	time_t nb, na, at, now = time(NULL);
	X509 *cert;

	path(p, sizeof(p), cl->dir, "node.pem");
	cert = pki_cert_load(p);
	if (!cert || pki_cert_times(cert, &nb, &na)) {
		X509_free(cert);
		return;
	}
	X509_free(cert);
	at = pki_renew_at(nb, na, randombytes_uniform(1000000) / 1e6);
	printf("next renewal in %ld s (certificate valid %ld s)\n",
	       (long)(at > now ? at - now : 0), (long)(na - nb));
	fflush(stdout);
	loop_timer_arm(cl->renew, at > now ? (uint64_t)(at - now) * 1000 : 1,
		       0);
}

static void on_renew_due(struct loop *l, struct loop_timer *t, void *arg)
{
	struct cli *cl = arg;

	(void)l, (void)t;
	EVP_PKEY_free(cl->key);
	cl->key = pki_key_new(); /* every certificate gets a new key */
	send_renew(cl->conn, cl);
}

/* Session mode: a reply that keeps the session going; false ends it. */
static bool session_reply(struct cli *cl, const Vxsec__Envelope *env)
{
	if (env->msg_case == VXSEC__ENVELOPE__MSG_SNAPSHOT) {
		printf("session open: revision %llu\n",
		       (unsigned long long)env->snapshot->revision);
	} else if (env->msg_case == VXSEC__ENVELOPE__MSG_JOIN_RESPONSE &&
		   save_join(cl, env->join_response) == 0) {
		printf("renewed as %s (renewal %d)\n", cl->node_id,
		       ++cl->renewals);
	} else {
		return false;
	}
	schedule_renewal(cl);
	return true;
}

static void on_frame(struct conn *c, const uint8_t *body, size_t len, void *arg)
{
	struct cli *cl = arg;
	Vxsec__Envelope *env;
	struct why why = { "" };

	cl->done = true;
	cl->rc = 1;
	if (cl->mode == SESSION && frame_decode(body, len, &env, &why) == 0) {
		bool go_on = session_reply(cl, env);

		if (!go_on && env->msg_case == VXSEC__ENVELOPE__MSG_ERROR)
			fprintf(stderr, "wirecli: refused by the leader: %s\n",
				env->error->reason);
		frame_free(env);
		cl->done = !go_on;
		if (!go_on)
			conn_close(c, "unexpected reply", false);
		return;
	}
	if (frame_decode(body, len, &env, &why)) {
		fprintf(stderr, "wirecli: bad reply from the leader: %s\n",
			why.msg);
	} else if (env->msg_case == VXSEC__ENVELOPE__MSG_ERROR) {
		fprintf(stderr, "wirecli: refused by the leader: %s\n",
			env->error->reason);
	} else if (env->msg_case == VXSEC__ENVELOPE__MSG_JOIN_RESPONSE &&
		   save_join(cl, env->join_response) == 0) {
		printf("%s as %s, node index %u\n",
		       cl->mode == RENEW ? "renewed" : "joined", cl->node_id,
		       env->join_response->node_index);
		cl->rc = 0;
	} else if (env->msg_case == VXSEC__ENVELOPE__MSG_SNAPSHOT) {
		printf("hello accepted: revision %llu\n",
		       (unsigned long long)env->snapshot->revision);
		cl->rc = 0;
	} else {
		fprintf(stderr, "wirecli: unexpected reply\n");
	}
	if (env)
		frame_free(env);
	conn_close(c, "done", false);
}

static void on_closed(struct conn *c, const char *why, void *arg)
{
	struct cli *cl = arg;

	(void)c;
	if (cl->ending) {
		printf("session over: %d renewals\n", cl->renewals);
		cl->rc = 0;
	} else if (!cl->done) {
		fprintf(stderr, "wirecli: connection failed: %s\n", why);
		cl->rc = 1;
	}
	cl->done = true;
}

static const struct conn_ops ops = { .ready = on_ready,
				     .frame = on_frame,
				     .closed = on_closed };

static int dial(const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)atoi(port)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static void on_timeout(struct loop *l, struct loop_timer *t, void *arg)
{
	struct cli *cl = arg;

	(void)t;
	if (cl->mode == SESSION && cl->conn && !cl->done) {
		cl->ending = true; /* the session ran its time: a clean end */
		conn_close(cl->conn, "session over", false);
		cl->done = true;
		return;
	}
	fprintf(stderr, "wirecli: no answer within %d ms\n", TIMEOUT_MS);
	((struct cli *)arg)->done = true;
	loop_stop(l);
}

static struct tls_ctx *join_ctx(struct cli *cl, char **argv)
{
	struct why why = { "" };

	if (token_parse(argv[2], &cl->token, &why)) {
		fprintf(stderr, "wirecli: %s\n", why.msg);
		return NULL;
	}
	cl->node_id = argv[3];
	cl->dir = argv[5];
	cl->key = pki_key_new();
	return tls_ctx_client(NULL, NULL, NULL, cl->token.ca_digest);
}

static struct tls_ctx *hello_ctx(struct cli *cl, int argc, char **argv)
{
	static char id[PKI_NODE_ID_MAX + 1];
	char p[4096];
	X509 *cert, *ca;
	struct tls_ctx *t = NULL;

	cl->dir = argv[2];
	path(p, sizeof(p), cl->dir, "node.key");
	cl->key = pki_key_load(p);
	path(p, sizeof(p), cl->dir, "node.pem");
	cert = pki_cert_load(p);
	path(p, sizeof(p), cl->dir, "ca.pem");
	ca = pki_cert_load(p);
	if (cl->key && cert && ca && pki_node_id(cert, id, sizeof(id)) == 0)
		t = tls_ctx_client(cert, cl->key, ca, NULL);
	else
		fprintf(stderr,
			"wirecli: no node key, certificate and CA in "
			"%s\n",
			cl->dir);
	cl->node_id = argc > 4 ? argv[4] : id;
	X509_free(cert);
	X509_free(ca);
	return t;
}

/* A new X25519 key pair; only its public half is kept. */
static int static_key(uint8_t pub[PAIRKEY_PUB_LEN])
{
	struct pairkey_static *k = pairkey_generate();

	if (!k)
		return -ENOMEM;
	memcpy(pub, pairkey_public(k), PAIRKEY_PUB_LEN);
	pairkey_free(k);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cl = { .rc = 1 };
	struct tls_ctx *t = NULL;
	struct loop *l;
	struct loop_timer *timer;
	const char *port;
	int fd, timeout_ms = TIMEOUT_MS;

	if (argc == 6 && !strcmp(argv[1], "join")) {
		cl.mode = JOIN;
		port = argv[4];
	} else if ((argc == 4 || argc == 5) && !strcmp(argv[1], "hello")) {
		cl.mode = HELLO;
		port = argv[3];
	} else if (argc == 4 && !strcmp(argv[1], "renew")) {
		cl.mode = RENEW;
		port = argv[3];
	} else if (argc == 5 && !strcmp(argv[1], "session")) {
		cl.mode = SESSION;
		port = argv[3];
		timeout_ms = (int)strtol(argv[4], NULL, 10) * 1000;
	} else {
		fprintf(stderr,
			"usage: wirecli join TOKEN NODE_ID PORT DIR\n"
			"       wirecli hello DIR PORT [NODE_ID]\n"
			"       wirecli renew DIR PORT\n"
			"       wirecli session DIR PORT SECONDS  (renews "
			"by itself)\n"
			"Talks to wiresrv on 127.0.0.1:PORT.\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0 || static_key(cl.pub))
		return 1;
	t = cl.mode == JOIN
		    ? join_ctx(&cl, argv)
		    : hello_ctx(&cl, cl.mode == SESSION ? 4 : argc, argv);
	if (cl.mode == RENEW || cl.mode == SESSION) {
		cl.tls_key = cl.key;
		cl.key = pki_key_new();
	}
	l = loop_new();
	fd = dial(port);
	if (!t || !l || fd < 0 ||
	    !conn_new(l, t, fd, false, &ops, &cl, &limits))
		return 1;
	timer = loop_timer_new(l, on_timeout, &cl);
	loop_timer_arm(timer, (uint64_t)timeout_ms, 0);
	cl.renew = loop_timer_new(l, on_renew_due, &cl);
	while (!cl.done && loop_run_once(l, -1) >= 0)
		;
	token_wipe(&cl.token);
	loop_free(l);
	tls_ctx_free(t);
	EVP_PKEY_free(cl.key);
	EVP_PKEY_free(cl.tls_key);
	return cl.rc;
}
