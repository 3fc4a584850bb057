// SPDX-License-Identifier: MIT
/* vxsec-keymgr: agent connections — accept, join, hello, renewal, acks, expiry reports. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/array.h"
#include "common/log.h"
#include "common/pki.h"
#include "common/tls.h"
#include "session_int.h"

static const struct conn_ops ops;

/* ---- receiving ---- */

static bool proof_ok(struct client *cl, const struct wire_in *in)
{
	uint8_t exp[TLS_EXPORTER_LEN];
	bool ok = false;

	if (!tls_conn_exporter(conn_tls(cl->conn), TLS_EXPORTER_JOIN, exp))
		ok = store_token_ok(cl->ss->st, in->proof, exp, sizeof(exp));
	sodium_memzero(exp, sizeof(exp));
	return ok;
}

/*
 * A certificate for the CSR's key naming n, as a join answer frame; its
 * serial goes to the registry (and the state file).
 */
static int certify(struct client *cl, const struct wire_in *in, struct node *n,
		   uint8_t **f, size_t *len, struct why *why)
{
	const struct ca *ca = cl->ss->ca;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int err = ca_issue(ca, in->csr, in->csr_len, n->id, &der, &der_len,
			   n->cert_serial, sizeof(n->cert_serial), why);

	if (!err) {
		err = wire_join_response(der, der_len, ca->ca_der,
					 ca->ca_der_len, n->index, f, len);
		store_touch(cl->ss->st);
	}
	OPENSSL_free(der);
	return err;
}

/* Another member announces one of this node's underlay addresses. */
static void refuse_addr_in_use(struct client *cl, const struct wire_in *in)
{
	const struct node *o = cluster_addr_owner(cl->ss->cl, in->node_id,
						  in->addrs, in->n_addrs);
	const char *who = o ? o->id : "?";
	struct why why = { "" };

	why_set(&why,
		"an underlay address of this node is member %s's: two "
		"members cannot share one (if %s is gone for good: "
		"vxsec-keymgr remove %s)",
		who, who, who);
	session_refuse(cl, WERR_UNAUTHORIZED, why.msg);
}

static void handle_join(struct client *cl, const struct wire_in *in)
{
	struct sessions *ss = cl->ss;
	struct node *n = NULL;
	struct why why = { "" };
	int err;

	if (!proof_ok(cl, in)) {
		session_token_failed(cl);
		return;
	}
	guard_token_ok(&ss->guard, &cl->src);
	if (store_failed(
		    ss->st)) { /* no answer could be kept: the agent retries */
		session_refuse(cl, WERR_INTERNAL,
			       "the leader cannot save its state (see its "
			       "status): no join is answered until it can");
		return;
	}
	if (strcmp(in->node_id, CA_LEADER_ID) == 0) {
		session_refuse(cl, WERR_UNAUTHORIZED,
			       "this node id is the leader's own");
		return;
	}
	err = cluster_join(ss->cl, in->node_id, in->boot_id, in->addrs,
			   in->n_addrs, in->static_key, &n);
	if (err == -EPERM) {
		session_refuse(cl, WERR_REMOVED,
			       "this node id was removed from the cluster");
		return;
	}
	if (err == -EADDRINUSE) {
		refuse_addr_in_use(cl, in);
		return;
	}
	if (err == -EEXIST) {
		/* A token may add nodes, never take over a member's identity. */
		session_refuse(cl, WERR_UNAUTHORIZED,
			       "this node id is already a member: it connects "
			       "with its certificate (lost or expired: remove "
			       "it and join under a new id)");
		return;
	}
	if (err) {
		session_refuse(cl, WERR_BAD_MESSAGE,
			       "cannot register this node");
		return;
	}
	log_info("%s: %s joined with index %u", cl->addr, in->node_id,
		 n->index);
	if (certify(cl, in, n, &cl->reply, &cl->reply_len, &why)) {
		session_refuse(cl, WERR_BAD_MESSAGE, why.msg);
		return;
	}
	/* The answer leaves once the new member is on disk. */
	cl->reply_after = cluster_revision(ss->cl);
	ss->n_replies++;
	snprintf(cl->peer, sizeof(cl->peer), "%s", in->node_id);
	session_kick(ss);
}

static void handle_renew(struct client *cl, const struct wire_in *in)
{
	struct why why = { "" };
	uint8_t *f;
	size_t len;

	if (certify(cl, in, cluster_find(cl->ss->cl, cl->peer), &f, &len,
		    &why)) {
		session_refuse(cl, WERR_BAD_MESSAGE, why.msg);
		return;
	}
	log_info("%s: renewed the certificate of %s", cl->addr, cl->peer);
	session_send_frame(cl, f, len);
	session_kick(cl->ss); /* the new serial goes to disk */
}

static int grow_index(struct sessions *ss, uint32_t index)
{
	struct client **p = array_grow(ss->by_index, &ss->by_index_cap, index,
				       sizeof(struct client *));

	if (!p)
		return -ENOMEM;
	ss->by_index = p;
	return 0;
}

/* cl is now the session of node index (a session it replaces closes). */
static void take_index(struct client *cl, uint32_t index)
{
	struct sessions *ss = cl->ss;

	if (ss->by_index[index]) {
		struct client *old = ss->by_index[index];

		old->index = 0; /* its close no longer speaks for the node */
		ss->n_sessions--;
		session_refuse(old, WERR_INTERNAL,
			       "replaced by a newer session of the same node");
	}
	ss->by_index[index] = cl;
	cl->index = index;
	cl->snapshot = true;
	ss->n_sessions++;
}

/* ", behind NAT at X" for a member found behind NAT, else "". */
static const char *nat_text(const struct node *n, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!n->nat || !inet_ntop(n->public_addr.len == 4 ? AF_INET : AF_INET6,
				  n->public_addr.ip, a, sizeof(a)))
		return "";
	snprintf(out, len, ", behind NAT at %s", a);
	return out;
}

/* Behind NAT, and where: the agent's setting and the leader's finding. */
static bool nat_of(const struct client *cl, const struct wire_in *in,
		   struct node_addr *public_addr)
{
	enum cluster_nat_mode mode =
		in->nat == WIRE_IN_NAT_FORCE   ? CLUSTER_NAT_FORCE
		: in->nat == WIRE_IN_NAT_NEVER ? CLUSTER_NAT_NEVER
					       : CLUSTER_NAT_AUTO;

	return cluster_nat_decide(mode, in->has_local ? &in->local : NULL,
				  cl->source.len ? &cl->source : NULL,
				  in->has_public ? &in->public_addr : NULL,
				  public_addr);
}

static void handle_hello(struct client *cl, const struct wire_in *in)
{
	struct sessions *ss = cl->ss;
	struct node *n = cluster_find(ss->cl, cl->peer);
	struct why why = { "" };
	struct node_addr public_addr;
	char pub[INET6_ADDRSTRLEN + 24], unreach[256];
	const struct node *first;
	bool key_changed, nat;
	int err;

	if (cl->index || strcmp(in->node_id, cl->peer) != 0) {
		why_set(&why,
			cl->index ? "a second hello"
				  : "hello names %s but the certificate "
				    "names %s",
			in->node_id, cl->peer);
		session_refuse(cl, WERR_BAD_MESSAGE, why.msg);
		return;
	}
	if (in->term > ss->term) { /* a newer leader has served it */
		why_set(&why,
			"this instance's term %llu is older than the agent's "
			"%llu: it is not the leader",
			(unsigned long long)ss->term,
			(unsigned long long)in->term);
		session_refuse_not_leader(cl, why.msg);
		return;
	}
	if (in->revision > cluster_revision(ss->cl)) {
		/* Its kernel holds a newer state than ours: an old backup. */
		why_set(&why,
			"this node has applied revision %llu and the leader is "
			"at %llu: the leader's state is older than the "
			"cluster's (an old backup?); refused so that no key "
			"is given twice",
			(unsigned long long)in->revision,
			(unsigned long long)cluster_revision(ss->cl));
		session_refuse(cl, WERR_INTERNAL, why.msg);
		return;
	}
	nat = nat_of(cl, in, &public_addr);
	err = cluster_hello(ss->cl, cl->peer, in->boot_id, in->addrs,
			    in->n_addrs, in->lost_state, in->static_key,
			    nat ? &public_addr : NULL, &key_changed);
	if (err == -EADDRINUSE) {
		refuse_addr_in_use(cl, in);
		return;
	}
	if (err < 0 || grow_index(ss, n->index)) {
		session_refuse(
			cl, err == -EPERM ? WERR_REMOVED : WERR_UNAUTHORIZED,
			err == -EPERM ? "this node was removed from the cluster"
				      : "not a member: join again");
		return;
	}
	take_index(cl, n->index);
	if (err == 1)
		events_node(ss->ev, EV_MEMBER_INCARNATION, n, NULL);
	events_node(ss->ev, EV_MEMBER_CONNECTED, n, NULL);
	if (key_changed) {
		log_info("%s: %s announced a new static key: it takes effect "
			 "with the next generation",
			 cl->addr, cl->peer);
		store_touch(ss->st); /* no revision, but it must reach disk */
	}
	if (cluster_nat_unreachable(ss->cl, n, unreach, sizeof(unreach)))
		log_warn("%s%s, cannot reach these members behind other "
			 "NATs: %s; neither end of those pairs can receive "
			 "first, so their agents refuse them (nothing passes "
			 "in clear; docs/nat.md)",
			 cl->peer, nat_text(n, pub, sizeof(pub)), unreach);
	if ((first = cluster_nat_first(ss->cl, n)))
		log_warn(
			"%s%s, as %s (index %u) is: only %s pairs with members "
			"outside that NAT (ESP in transport mode cannot tell "
			"two nodes behind one address apart; docs/nat.md)",
			cl->peer, nat_text(n, pub, sizeof(pub)), first->id,
			first->index, first->id);
	log_info("%s: %s connected (index %u, incarnation %llu%s%s)", cl->addr,
		 cl->peer, n->index, (unsigned long long)n->incarnation,
		 nat_text(n, pub, sizeof(pub)),
		 err != 1	  ? ""
		 : in->lost_state ? ", its kernel lost our SAs: fresh keys"
				  : ", new: fresh keys for its pairs");
	session_kick(ss);
}

static void handle_ack(struct client *cl, const struct wire_in *in)
{
	struct sessions *ss = cl->ss;

	if (in->revision > cl->sent || in->revision < cl->acked) {
		session_refuse(cl, WERR_BAD_MESSAGE,
			       "ack of a revision it was never sent");
		return;
	}
	cl->acked = in->revision;
	cluster_ack(ss->cl, cl->index, in->revision);
	if (cluster_rot_waiting(ss->cl))
		session_kick(ss);
}

/* A soft expiry: rotate early, unless a newer generation replaces it. */
static void handle_expire(struct client *cl, const struct wire_in *in)
{
	uint32_t newest = cluster_newest_gen(cl->ss->cl);

	if (in->generation < newest) {
		log_debug("%s: soft expiry of SPI 0x%08x (generation %u): "
			  "generation %u replaces it already",
			  cl->peer, in->spi, in->generation, newest);
		return;
	}
	log_info("%s: soft expiry of SPI 0x%08x (generation %u): rotating "
		 "early",
		 cl->peer, in->spi, in->generation);
	cluster_rot_request(cl->ss->cl);
	store_touch(cl->ss->st);
	session_kick(cl->ss);
}

/* A periodic change of the node's static key: the next prepare takes it. */
static void handle_key_update(struct client *cl, const struct wire_in *in)
{
	int err = cluster_key_update(cl->ss->cl, cl->index, in->static_key);

	if (err < 0) {
		session_refuse(cl, WERR_REMOVED,
			       "this node was removed from the cluster");
		return;
	}
	if (err == 0)
		return; /* it is the key the leader has already */
	log_info("%s: %s announced a new static key: it takes effect with "
		 "the next generation",
		 cl->addr, cl->peer);
	store_touch(cl->ss->st); /* no revision, but it must reach disk */
	session_kick(cl->ss);
}

static void session_frame(struct client *cl, const struct wire_in *in)
{
	uint8_t *f;
	size_t len;

	switch (in->type) {
	case IN_HELLO:
		handle_hello(cl, in);
		return;
	case IN_RENEW: /* the certificate is enough: no hello needed */
		handle_renew(cl, in);
		return;
	case IN_ACK:
	case IN_EXPIRE:
	case IN_KEY_UPDATE:
		if (!cl->index) {
			session_refuse(cl, WERR_BAD_MESSAGE,
				       "expected a hello first");
			return;
		}
		if (in->type == IN_ACK)
			handle_ack(cl, in);
		else if (in->type == IN_EXPIRE)
			handle_expire(cl, in);
		else
			handle_key_update(cl, in);
		return;
	case IN_PING:
		if (wire_ping_reply(in->nonce, &f, &len) == 0)
			session_send_frame(cl, f, len);
		return;
	case IN_ERROR:
		log_warn("%s (%s): agent reports error %d: %s", cl->addr,
			 cl->peer, in->error_code, in->reason);
		cl->closing = true;
		conn_close(cl->conn, "agent reported an error", false);
		return;
	default:
		session_refuse(cl, WERR_BAD_MESSAGE,
			       "a join request over a session");
	}
}

static void on_frame(struct conn *c, const uint8_t *body, size_t len, void *arg)
{
	struct client *cl = arg;
	struct wire_in *in = malloc(sizeof(*in));
	struct why why = { "" };
	int err;

	(void)c;
	if (!in || cl->closing || cl->refuse_at) {
		free(in);
		return;
	}
	err = wire_decode(body, len, in, &why);
	if (err)
		session_refuse(cl,
			       err == -EPROTO ? WERR_VERSION : WERR_BAD_MESSAGE,
			       why.msg);
	else if (!cl->peer[0] && in->type == IN_JOIN)
		handle_join(cl, in);
	else if (!cl->peer[0] || cl->reply)
		session_refuse(cl, WERR_UNAUTHORIZED,
			       "without a certificate only a join request is "
			       "accepted");
	else
		session_frame(cl, in);
	wire_in_wipe(in);
	free(in);
}

static void on_ready(struct conn *c, void *arg)
{
	struct client *cl = arg;
	struct node *n;

	cl->ready = true;
	if (tls_conn_peer_id(conn_tls(c), cl->peer, sizeof(cl->peer)))
		cl->peer[0] = '\0';
	if (!cl->peer[0])
		return;
	n = cluster_find(cl->ss->cl, cl->peer);
	if (!n) {
		session_refuse(cl, WERR_UNAUTHORIZED,
			       "not a member of this cluster: join again");
	} else if (n->state == NODE_REMOVED) {
		session_refuse(cl, WERR_REMOVED,
			       "this node was removed from the cluster");
	} else { /* a member's certificate: large frames from now on */
		guard_release(&cl->ss->guard, &cl->src);
		cl->counted = false;
		conn_auth(c);
	}
}

static void on_bad_frame(struct conn *c, const char *why, void *arg)
{
	(void)c;
	session_refuse(arg, WERR_BAD_MESSAGE, why);
}

static void unlink_client(struct sessions *ss, struct client *cl)
{
	struct client **p;

	if (cl->prev)
		cl->prev->next = cl->next;
	else
		ss->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	for (p = &ss->qhead; *p; p = &(*p)->qnext) {
		if (*p != cl)
			continue;
		*p = cl->qnext;
		if (ss->qtail == cl) {
			ss->qtail = NULL;
			for (struct client *q = ss->qhead; q; q = q->qnext)
				ss->qtail = q;
		}
		break;
	}
}

/*
 * A connection closed before it authenticated, and not by us: its TLS
 * handshake failed (a wrong CA, a timeout, a port scan) or it said nothing
 * in time. One line a second at most, so that a flood of them cannot
 * flood the log.
 */
static void unauth_closed(struct sessions *ss, const struct client *cl,
			  const char *why)
{
	const char *what = cl->ready ? "closed before authentication"
				     : "TLS handshake failed";
	uint64_t quiet;

	if (!log_limit_pass(&ss->hs_log, loop_now_ms(), &quiet))
		return;
	if (quiet)
		log_info("%s: %s: %s (and %llu more events before "
			 "authentication not logged)",
			 cl->addr, what, why, (unsigned long long)quiet);
	else
		log_info("%s: %s: %s", cl->addr, what, why);
}

static void on_closed(struct conn *c, const char *why, void *arg)
{
	struct client *cl = arg;
	struct sessions *ss = cl->ss;

	(void)c;
	if (!cl->ready || (cl->counted && !cl->peer[0] && !cl->closing))
		unauth_closed(ss, cl, why);
	if (cl->index && ss->by_index[cl->index] == cl) {
		ss->by_index[cl->index] = NULL;
		cluster_disconnect(ss->cl, cl->peer);
		ss->n_sessions--;
		log_info("%s: %s disconnected: %s", cl->addr, cl->peer, why);
		events_node(ss->ev, EV_MEMBER_DISCONNECTED,
			    cluster_find(ss->cl, cl->peer), why);
		if (cluster_rot_waiting(ss->cl))
			session_kick(ss);
	}
	if (cl->counted)
		guard_release(&ss->guard, &cl->src);
	if (cl->refuse_at)
		ss->n_delayed--;
	ss->inflight -= cl->inflight;
	unlink_client(ss, cl);
	if (cl->reply) { /* a join never answered: its id is not taken */
		ss->n_replies--;
		cluster_join_abandoned(ss->cl, cl->peer);
	}
	frame_buf_free(cl->reply, cl->reply_len);
	free(cl);
}

static const struct conn_ops ops = { .ready = on_ready,
				     .frame = on_frame,
				     .bad_frame = on_bad_frame,
				     .closed = on_closed,
				     .drained = session_on_drained };

struct client *session_client_new(struct sessions *ss, int fd,
				  const struct sockaddr_storage *from,
				  const struct guard_src *src)
{
	static const struct conn_limits lim = {
		.auth_ms = HANDSHAKE_MS,
		.frame_unauth = FRAME_MAX_UNAUTH,
		.frame_max = FRAME_MAX_DEFAULT,
		.frame_ms = FRAME_MS,
	};
	struct client *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	cl->ss = ss;
	cl->src = *src;
	cl->counted = true;
	addr_format(from, cl->addr, sizeof(cl->addr));
	cl->conn = conn_new(ss->loop, ss->ca->tls, fd, true, &ops, cl, &lim);
	if (!cl->conn) {
		free(cl);
		return NULL;
	}
	cl->next = ss->clients;
	if (ss->clients)
		ss->clients->prev = cl;
	ss->clients = cl;
	return cl;
}

void session_init(struct sessions *ss, struct loop *lp, struct cluster *cl,
		  struct ca *ca, struct store *st, void (*kick)(void *arg),
		  void *kick_arg)
{
	memset(ss, 0, sizeof(*ss));
	ss->loop = lp;
	ss->cl = cl;
	ss->ca = ca;
	ss->st = st;
	ss->kick = kick;
	ss->kick_arg = kick_arg;
	ss->lfd = -1;
}

void session_cleanup(struct sessions *ss)
{
	session_unlisten(ss);
	loop_timer_free(ss->accept_retry);
	ss->accept_retry = NULL;
	loop_timer_free(ss->pace);
	ss->pace = NULL;
	guard_cleanup(&ss->guard);
	session_prep_free(ss);
	free(ss->by_index);
	ss->by_index = NULL;
	ss->by_index_cap = 0;
}

void session_kick(struct sessions *ss)
{
	ss->kick(ss->kick_arg);
}

void session_drop(struct sessions *ss, uint32_t index, int code,
		  const char *why)
{
	if (index < ss->by_index_cap && ss->by_index[index])
		session_refuse(ss->by_index[index], code, why);
}

void session_close_all(struct sessions *ss)
{
	while (ss->clients)
		conn_close(ss->clients->conn, "leader shutting down", false);
}

size_t session_count(const struct sessions *ss)
{
	return ss->n_sessions;
}

void session_revisions(const struct sessions *ss, uint32_t index,
		       uint64_t *sent, uint64_t *acked)
{
	const struct client *cl =
		index < ss->by_index_cap ? ss->by_index[index] : NULL;

	*sent = cl ? cl->sent : 0;
	*acked = cl ? cl->acked : 0;
}
