// SPDX-License-Identifier: MIT
/* fakeagents: one agent on the wire: join with the token, then a mutual-TLS session that acks. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/pki.h"
#include "fakeagents.h"

#define HANDSHAKE_MS 60000
static const struct conn_limits limits = { .auth_ms = HANDSHAKE_MS,
					   .frame_unauth = FRAME_MAX_DEFAULT,
					   .frame_max = FRAME_MAX_DEFAULT };

static const struct conn_ops join_ops, session_ops;

/*
 * A fresh P-256 key and a CSR naming the node, before the clock starts,
 * and its X25519 static key: a real one if it derives keys (sampled),
 * else 32 random bytes (the leader relays them; nobody derives with them).
 */
int fa_agent_prepare(struct fa_agent *a, const char *id, bool sampled)
{
	X509_REQ *csr;
	int err = -ENOMEM;

	randombytes_buf(a->boot_id, sizeof(a->boot_id));
	if (sampled) {
		a->sk = pairkey_generate();
		if (!a->sk)
			return -ENOMEM;
		memcpy(a->pub, pairkey_public(a->sk), sizeof(a->pub));
	} else {
		randombytes_buf(a->pub, sizeof(a->pub));
	}
	a->key = pki_key_new();
	csr = a->key ? pki_csr_new(a->key, id) : NULL;
	if (csr)
		err = pki_csr_to_der(csr, &a->csr, &a->csr_len);
	X509_REQ_free(csr);
	return err;
}

void fa_agent_cleanup(struct fa_agent *a)
{
	if (a->conn)
		conn_close(a->conn, "the run is over", false);
	tls_ctx_free(a->tls);
	EVP_PKEY_free(a->key);
	OPENSSL_free(a->csr);
	fa_state_cleanup(&a->st);
	pairkey_free(a->sk);
	pairkey_free(a->sk_old);
	a->sk_old = NULL;
	a->conn = NULL, a->tls = NULL, a->key = NULL, a->csr = NULL;
	a->sk = NULL;
}

struct fa_bytes fa_agent_rx(const struct fa_agent *a)
{
	struct fa_bytes b = a->rx;

	if (a->conn)
		b.wire += tls_conn_bytes_read(conn_tls(a->conn));
	return b;
}

/* A connection ends: its wire bytes join the agent's total. */
static void rx_closed(struct fa_agent *a, struct conn *c)
{
	a->rx.wire += tls_conn_bytes_read(conn_tls(c));
	a->conn = NULL;
}

static int open_conn(struct fa_agent *a, struct tls_ctx *t,
		     const struct conn_ops *ops)
{
	int fd = fa_dial(a);

	if (fd < 0 && a->run->reconnect) {
		fa_agent_retry(a);
		return 0;
	}
	if (fd < 0) {
		fa_fail(a->run, a, "connect to the leader: %s", strerror(-fd));
		return fd;
	}
	a->conn = conn_new(a->run->loop, t, fd, false, ops, a, &limits);
	if (!a->conn) {
		fa_fail(a->run, a, "cannot set up a TLS connection: %s",
			strerror(errno));
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/* --certs DIR: DIR/<id>.key, DIR/<id>.pem, DIR/ca.pem. */
static void cert_path(const struct fa_agent *a, char *out, size_t len,
		      const char *ext)
{
	snprintf(out, len, "%s/%s.%s", a->run->o.certs, fa_id(a->run, a), ext);
}

static int save_certs(struct fa_agent *a, X509 *cert)
{
	char p[600];
	int err;

	cert_path(a, p, sizeof(p), "key");
	err = pki_key_save(p, a->key);
	cert_path(a, p, sizeof(p), "pem");
	err = err ? err : pki_cert_save(p, cert);
	snprintf(p, sizeof(p), "%s/ca.pem", a->run->o.certs);
	return err ? err : pki_cert_save(p, a->run->ca);
}

/* A member from an earlier run: its session context, without a join. */
static bool load_certs(struct fa_agent *a)
{
	char p[600];
	X509 *cert, *ca;
	EVP_PKEY *key;

	cert_path(a, p, sizeof(p), "pem");
	cert = pki_cert_load(p);
	cert_path(a, p, sizeof(p), "key");
	key = cert ? pki_key_load(p) : NULL;
	snprintf(p, sizeof(p), "%s/ca.pem", a->run->o.certs);
	ca = key ? pki_cert_load(p) : NULL;
	if (ca)
		a->tls = tls_ctx_client(cert, key, ca, NULL);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	return a->tls != NULL;
}

int fa_agent_start(struct fa_agent *a)
{
	a->run->in_flight++;
	if (!a->run->t_first)
		a->run->t_first = fa_now();
	if (a->run->o.certs && load_certs(a)) {
		a->joined = true;
		a->phase = FA_SESSION;
		return open_conn(a, a->tls, &session_ops);
	}
	a->phase = FA_JOINING;
	return open_conn(a, a->run->join_tls, &join_ops);
}

/* The agent is no longer connected: it leaves the counters it was in. */
static void gone(struct fa_agent *a)
{
	struct fa_run *r = a->run;

	if (a->phase == FA_JOINING || a->phase == FA_SESSION)
		r->in_flight--;
	if (a->phase == FA_RECONNECT && !a->silent)
		r->n_away--;
	if (a->phase == FA_LIVE && !a->silent) {
		r->n_live--;
		if (a->counted == r->max_rev)
			r->n_at_max--;
		if (a->rotated)
			r->n_rotated--;
	}
	a->phase = FA_GONE;
	a->conn = NULL;
}

/*
 * Its connection failed or its session was lost, and it tries the next
 * leader: a live agent leaves the counters until its next snapshot.
 */
static void lost(struct fa_agent *a)
{
	struct fa_run *r = a->run;

	if (a->phase == FA_LIVE && !a->silent) {
		r->n_live--;
		r->n_away++;
		if (a->counted == r->max_rev)
			r->n_at_max--;
		if (a->rotated)
			r->n_rotated--;
	}
	if (a->phase == FA_LIVE)
		a->phase = FA_RECONNECT;
	if (a->failed_over) { /* in sync again later, or not at all */
		a->failed_over = false;
		r->n_failed_over--;
	}
	a->counted = 0;
	a->rotated = false;
	a->ack_due = false;
	a->conn = NULL;
	fa_agent_retry(a);
}

void fa_agent_reopen(struct fa_agent *a)
{
	a->ready = false;
	if (a->joined)
		open_conn(a, a->tls, &session_ops);
	else
		open_conn(a, a->run->join_tls, &join_ops);
}

/* ---- join ---- */

static void join_ready(struct conn *c, void *arg)
{
	struct fa_agent *a = arg;
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__JoinRequest req = VXSEC__JOIN_REQUEST__INIT;
	Vxsec__Address ad = VXSEC__ADDRESS__INIT, *addrs[1] = { &ad };
	uint8_t exp[TLS_EXPORTER_LEN], proof[32], ip[4];
	uint32_t be = htonl(a->addr);

	conn_auth(c);
	a->ready = true;
	/* The proof binds the token secret to this very TLS session. */
	if (tls_conn_exporter(conn_tls(c), TLS_EXPORTER_JOIN, exp)) {
		fa_fail(a->run, a, "join: no TLS exporter");
		return;
	}
	crypto_auth_hmacsha256(proof, exp, sizeof(exp), a->run->token.secret);
	memcpy(ip, &be, sizeof(ip));
	req.node_id = (char *)fa_id(a->run, a);
	req.secret_proof = (ProtobufCBinaryData){ sizeof(proof), proof };
	req.csr_der = (ProtobufCBinaryData){ a->csr_len, a->csr };
	req.boot_id = (ProtobufCBinaryData){ sizeof(a->boot_id), a->boot_id };
	ad.ip = (ProtobufCBinaryData){ sizeof(ip), ip };
	req.n_underlay = 1;
	req.underlay = addrs;
	req.static_key = (ProtobufCBinaryData){ sizeof(a->pub), a->pub };
	env.msg_case = VXSEC__ENVELOPE__MSG_JOIN_REQUEST;
	env.join_request = &req;
	fa_send(c, &env);
	sodium_memzero(proof, sizeof(proof));
	sodium_memzero(exp, sizeof(exp));
}

/* Every agent must be handed the same CA; the first one sets it. */
static int take_ca(struct fa_run *r, const ProtobufCBinaryData *der)
{
	if (r->ca)
		return der->len == r->ca_len && memcmp(der->data, r->ca_der,
						       r->ca_len) == 0
			       ? 0
			       : -EINVAL;
	r->ca = pki_cert_from_der(der->data, der->len);
	r->ca_der = malloc(der->len);
	if (!r->ca || !r->ca_der)
		return -EINVAL;
	memcpy(r->ca_der, der->data, der->len);
	r->ca_len = der->len;
	return 0;
}

static const char *joined(struct fa_agent *a, const Vxsec__JoinResponse *m)
{
	X509 *cert = pki_cert_from_der(m->cert_der.data, m->cert_der.len);
	char id[PKI_NODE_ID_MAX + 1];
	const char *why = NULL;

	if (take_ca(a->run, &m->ca_cert_der))
		why = "join response: not the CA the other agents were given";
	else if (!cert || X509_check_private_key(cert, a->key) != 1)
		why = "join response: the certificate is not for our key";
	else if (pki_node_id(cert, id, sizeof(id)) ||
		 strcmp(id, fa_id(a->run, a)) != 0)
		why = "join response: the certificate names another node";
	else if (!(a->tls = tls_ctx_client(cert, a->key, a->run->ca, NULL)))
		why = "join response: cannot make a TLS context of it";
	else if (a->run->o.certs && save_certs(a, cert))
		why = "join response: cannot save it in --certs";
	X509_free(cert);
	if (!why) {
		a->index = m->node_index;
		a->joined = true;
		OPENSSL_free(a->csr);
		a->csr = NULL;
	}
	return why;
}

static void leader_error(struct fa_agent *a, const Vxsec__Error *e)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&vxsec__error_code__descriptor, (int)e->code);
	const char *code = v ? v->name : "?";

	if (a->run->reconnect &&
	    e->code == VXSEC__ERROR_CODE__ERROR_NOT_LEADER) {
		a->run->n_not_leader++; /* the close tries another */
		fa_leader_named(a, e->leader);
		return;
	}
	a->refused = true;
	if (a->silent) /* dropped for not acking: what it is for */
		printf("%s (silent): closed by the leader (%s): %s\n",
		       fa_id(a->run, a), code, e->reason);
	else if (a->run->holding && e->code == VXSEC__ERROR_CODE__ERROR_REMOVED)
		printf("%s: removed by the leader: %s\n", fa_id(a->run, a),
		       e->reason);
	else
		fa_fail(a->run, a, "refused by the leader (%s): %s", code,
			e->reason);
}

static void join_frame(struct conn *c, const uint8_t *body, size_t len,
		       void *arg)
{
	struct fa_agent *a = arg;
	Vxsec__Envelope *env = NULL;
	struct why why = { "" };
	const char *bad = NULL;

	a->rx.frames += 4 + len; /* its length, then its body */
	if (frame_decode(body, len, &env, &why)) {
		a->refused = true;
		fa_fail(a->run, a, "join: bad frame from the leader: %s",
			why.msg);
	} else if (env->msg_case == VXSEC__ENVELOPE__MSG_ERROR) {
		leader_error(a, env->error);
	} else if (env->msg_case != VXSEC__ENVELOPE__MSG_JOIN_RESPONSE) {
		a->refused = true;
		fa_fail(a->run, a,
			"join: unexpected message %d from the "
			"leader",
			(int)env->msg_case);
	} else if ((bad = joined(a, env->join_response))) {
		a->refused = true;
		fa_fail(a->run, a, "%s", bad);
	}
	frame_free(env);
	conn_close(c, a->joined ? "joined" : "join failed", false);
}

static void join_closed(struct conn *c, const char *why, void *arg)
{
	struct fa_agent *a = arg;

	rx_closed(a, c);
	if (a->run->ending)
		return;
	if (!a->joined && !a->refused && a->run->reconnect) {
		lost(a);
		return;
	}
	if (!a->joined) {
		if (!a->refused)
			fa_fail(a->run, a, "join: %s: %s",
				a->ready ? "closed before an answer"
					 : "no TLS session with the leader",
				why);
		gone(a);
		return;
	}
	a->phase = FA_SESSION; /* with the certificate, now */
	if (open_conn(a, a->tls, &session_ops))
		gone(a);
}

static const struct conn_ops join_ops = { .ready = join_ready,
					  .frame = join_frame,
					  .closed = join_closed };

/* ---- session ---- */

static void session_ready(struct conn *c, void *arg)
{
	struct fa_agent *a = arg;
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Hello hello = VXSEC__HELLO__INIT;
	Vxsec__Address ad = VXSEC__ADDRESS__INIT, *addrs[1] = { &ad };
	Vxsec__Address local = VXSEC__ADDRESS__INIT;
	uint32_t be = htonl(a->addr), lbe;
	uint8_t ip[4], lip[4];

	conn_auth(c);
	memcpy(ip, &be, sizeof(ip));
	if (a->run->o.claim || a->has_local) {
		lbe = htonl(a->run->o.claim ? a->run->o.claim_local : a->local);
		memcpy(lip, &lbe, sizeof(lip));
		local.ip = (ProtobufCBinaryData){ sizeof(lip), lip };
		hello.local_address = &local;
	}
	hello.node_id = (char *)fa_id(a->run, a);
	hello.boot_id = (ProtobufCBinaryData){ sizeof(a->boot_id), a->boot_id };
	/* After a lost session: what it holds, and from which term. */
	hello.last_revision = a->st.have_snapshot ? a->st.revision : 0;
	hello.last_term = a->term;
	ad.ip = (ProtobufCBinaryData){ sizeof(ip), ip };
	hello.n_underlay = 1;
	hello.underlay = addrs;
	hello.static_key = (ProtobufCBinaryData){ sizeof(a->pub), a->pub };
	env.msg_case = VXSEC__ENVELOPE__MSG_HELLO;
	env.hello = &hello;
	fa_send(c, &env);
}

/* After each applied snapshot or delta: the run's counters. */
static void count(struct fa_agent *a)
{
	struct fa_run *r = a->run;
	const struct fa_state *s = &a->st;

	if (a->phase != FA_LIVE) {
		if (a->phase != FA_RECONNECT && ++r->n_snap == r->o.n)
			r->t_snap = fa_now();
		if (a->phase != FA_RECONNECT)
			r->in_flight--;
		else if (!a->silent)
			r->n_away--;
		a->phase = FA_LIVE;
		r->n_live += !a->silent;
	}
	if (a->silent)
		return;
	if (s->revision > r->max_rev) {
		r->max_rev = s->revision;
		r->n_at_max = 0;
	}
	if (s->revision == r->max_rev && a->counted != r->max_rev) {
		a->counted = r->max_rev;
		r->n_at_max++;
	}
	if (r->rotating && !a->rotated && s->n_gens == 1 &&
	    s->gens[0].phase == VXSEC__PHASE__PHASE_COMMITTED &&
	    s->gens[0].number > r->g0) {
		a->rotated = true;
		if (++r->n_rotated == r->n_live)
			r->t_rotated = fa_now();
	}
}

static void apply(struct conn *c, struct fa_agent *a,
		  const Vxsec__Envelope *env)
{
	bool snap = env->msg_case == VXSEC__ENVELOPE__MSG_SNAPSHOT;
	unsigned long long rev =
		snap ? env->snapshot->revision : env->delta->revision;
	uint64_t term = snap ? env->snapshot->term : env->delta->term;
	struct why why = { "" };
	int err;

	if (term < a->term) {
		a->run->n_stale++;
		printf("%s: %s revision %llu of term %llu after term %llu: "
		       "from a leader that no longer leads; closed\n",
		       fa_id(a->run, a), snap ? "snapshot" : "delta", rev,
		       (unsigned long long)term, (unsigned long long)a->term);
		conn_close(c, "a frame of an older term", false);
		return;
	}
	a->term = term;
	fa_leader_reached(a);
	if (snap)
		err = fa_state_snapshot(&a->st, &a->run->names, env->snapshot,
					&why);
	else
		err = fa_state_delta(&a->st, &a->run->names, env->delta, &why);
	if (err) {
		a->refused = true;
		fa_fail(a->run, a, "%s revision %llu: %s",
			snap ? "snapshot" : "delta", rev, why.msg);
		conn_close(c, why.msg, false);
		return;
	}
	a->ack_due = !a->silent; /* once the burst is read: session_read_done */
	if (!snap && a->run->o.hold_commit &&
	    env->delta->change_case == VXSEC__DELTA__CHANGE_COMMIT)
		a->commit_held = true;
	if (snap && a->expire)
		fa_send_expire(c, a);
	if (snap && a->key_update)
		fa_send_key_update(c, a);
	count(a);
}

static void session_frame(struct conn *c, const uint8_t *body, size_t len,
			  void *arg)
{
	struct fa_agent *a = arg;
	Vxsec__Envelope *env = NULL;
	struct why why = { "" };

	a->rx.frames += 4 + len;
	if (frame_decode(body, len, &env, &why)) {
		a->refused = true;
		fa_fail(a->run, a, "bad frame from the leader: %s", why.msg);
		conn_close(c, why.msg, false);
		return;
	}
	switch (env->msg_case) {
	case VXSEC__ENVELOPE__MSG_SNAPSHOT:
	case VXSEC__ENVELOPE__MSG_DELTA:
		apply(c, a, env);
		break;
	case VXSEC__ENVELOPE__MSG_PING:
		if (!env->ping->reply)
			fa_send_pong(c, env->ping->nonce);
		break;
	case VXSEC__ENVELOPE__MSG_ERROR:
		leader_error(a, env->error);
		conn_close(c, "refused", false);
		break;
	default:
		a->refused = true;
		fa_fail(a->run, a, "unexpected message %d from the leader",
			(int)env->msg_case);
		conn_close(c, "unexpected message", false);
	}
	frame_free(env);
}

static void session_closed(struct conn *c, const char *why, void *arg)
{
	struct fa_agent *a = arg;

	rx_closed(a, c);
	a->commit_held = false; /* the next session acks its snapshot */
	if (!a->run->ending && !a->refused && a->run->reconnect) {
		lost(a);
		return;
	}
	if (!a->run->ending && !a->refused) {
		if (a->silent)
			printf("%s (silent): session closed: %s\n",
			       fa_id(a->run, a), why);
		else
			fa_fail(a->run, a, "session closed: %s", why);
	}
	gone(a);
}

/* --failover-after-sync: it acked a new enough state of a newer term. */
static void failed_over(struct fa_agent *a)
{
	struct fa_run *r = a->run;

	if (!r->failing_over || a->failed_over || a->term <= r->fo_term ||
	    a->st.revision < r->fo_rev)
		return;
	a->failed_over = true;
	if (++r->n_failed_over == r->fo_want)
		r->t_failed_over = fa_now();
}

/* --hold-commit: the acks held since the timer was armed leave. */
static void on_hold(struct loop *l, struct loop_timer *t, void *arg)
{
	struct fa_run *r = arg;

	(void)l, (void)t;
	r->hold_armed = false;
	for (uint32_t i = 0; i < r->o.n; i++) {
		struct fa_agent *a = &r->agents[i];

		if (!a->commit_held || !a->conn)
			continue;
		a->commit_held = a->ack_due = false;
		fa_send_ack(a->conn, a->st.revision);
		failed_over(a);
	}
}

/* Holds a commit's ack for --hold-commit ms; 0, or -1 if it cannot. */
static int hold_ack(struct fa_run *r)
{
	if (!r->hold) {
		r->hold = loop_timer_new(r->loop, on_hold, r);
		if (!r->hold)
			return -1;
	}
	/* the first held ack arms it; later ones leave with it */
	if (!r->hold_armed && loop_timer_arm(r->hold, r->o.hold_commit, 0))
		return -1;
	r->hold_armed = true;
	return 0;
}

/* One ack for a burst of frames, naming the last revision applied. */
static void session_read_done(struct conn *c, void *arg)
{
	struct fa_agent *a = arg;

	if (!a->ack_due)
		return;
	if (a->commit_held) {
		if (hold_ack(a->run) == 0)
			return;
		a->commit_held = false;
	}
	a->ack_due = false;
	fa_send_ack(c, a->st.revision);
	failed_over(a);
}

static const struct conn_ops session_ops = { .ready = session_ready,
					     .frame = session_frame,
					     .closed = session_closed,
					     .read_done = session_read_done };
