// SPDX-License-Identifier: MIT
/* agent session: the connection to the leader: join, hello, state frames, acks, renewal, backoff. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/conn.h"
#include "common/log.h"
#include "common/why.h"
#include "session_int.h"

#define HANDSHAKE_MS 10000

/* The leader is authenticated by the handshake (ready: conn_auth). */
static const struct conn_limits limits = { .auth_ms = HANDSHAKE_MS,
					   .frame_unauth = WIRE_FRAME_MAX,
					   .frame_max = WIRE_FRAME_MAX };
static const struct conn_ops join_ops, live_ops;
static void connect_now(struct session *s);

/* The state status shows for a phase; the closing phases show none. */
static bool shown_as(enum session_phase ph, enum session_state *st)
{
	switch (ph) {
	case PH_IDLE:
		*st = SESSION_IDLE;
		return true;
	case PH_JOIN_HANDSHAKE:
	case PH_JOIN_SENT:
		*st = SESSION_JOINING;
		return true;
	case PH_HANDSHAKE:
	case PH_HELLO_SENT:
		*st = SESSION_CONNECTING;
		return true;
	case PH_LIVE:
		*st = SESSION_LIVE;
		return true;
	case PH_BACKOFF:
		*st = SESSION_BACKOFF;
		return true;
	case PH_REMOVED:
		*st = SESSION_REMOVED;
		return true;
	default:
		return false;
	}
}

static void set_phase(struct session *s, enum session_phase ph)
{
	enum session_state st;

	s->phase = ph;
	if (shown_as(ph, &st)) {
		s->st.state = st;
		s->st.since = time(NULL);
	}
}

const char *session_state_name(enum session_state st)
{
	switch (st) {
	case SESSION_JOINING:
		return "joining";
	case SESSION_CONNECTING:
		return "connecting";
	case SESSION_LIVE:
		return "connected";
	case SESSION_BACKOFF:
		return "waiting to reconnect";
	case SESSION_REMOVED:
		return "removed from the cluster";
	default:
		return "idle";
	}
}

static void on_retry(struct loop *l, struct loop_timer *t, void *arg)
{
	(void)l, (void)t;
	connect_now(arg);
}

/* The next attempt: exponential, drawn in [d/2, d] so nodes spread out. */
static void backoff(struct session *s, const char *why)
{
	uint64_t d = s->backoff_min << (s->attempt < 16 ? s->attempt : 16);

	if (d > s->backoff_max || d == 0)
		d = s->backoff_max;
	d = d / 2 + randombytes_uniform((uint32_t)(d / 2 + 1));
	s->attempt++;
	if (why != s->st.last_error.msg) /* never copy it onto itself */
		why_set(&s->st.last_error, "%s", why);
	s->st.retry_in_ms = d;
	set_phase(s, PH_BACKOFF);
	log_info("leader %s: retrying in %llu ms", s->leader_text,
		 (unsigned long long)d);
	loop_timer_arm(s->retry, d, 0);
}

static int dial(struct session *s)
{
	/*
	 * A leader whose host died sends no FIN or RST: an idle session
	 * learns of it from keepalives within 5 + 3 x 2 s, one with data
	 * unacknowledged within 15 s, and the agent moves to the next
	 * instance (a standby that took over).
	 */
	int one = 1, idle = 5, intvl = 2, cnt = 3, user_ms = 15000, fd, err;

	fd = socket(s->leaders[s->cur].ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms,
		   sizeof(user_ms));
	if (connect(fd, (struct sockaddr *)&s->leaders[s->cur],
		    session_leader_len(s)) == 0 ||
	    errno == EINPROGRESS) {
		session_local_read(s, fd); /* bound by connect() */
		return fd;
	}
	err = -errno;
	close(fd);
	return err;
}

/* The address in use failed: the next one now, or after the backoff. */
static void next_or_backoff(struct session *s, const char *why)
{
	if (why != s->st.last_error.msg) /* never copy it onto itself */
		why_set(&s->st.last_error, "%s", why);
	if (!session_leader_next(s)) {
		backoff(s, s->st.last_error.msg);
		return;
	}
	log_info("leader %s: trying this address now", s->leader_text);
	connect_now(s);
}

static void connect_now(struct session *s)
{
	bool join = !s->tls;
	struct why why = { "" };
	int fd;

	if (s->conn || s->phase == PH_REMOVED || s->phase == PH_ENDING)
		return;
	if (join && session_join_prepare(s, &why)) {
		backoff(s, why.msg);
		return;
	}
	fd = dial(s);
	if (fd < 0) {
		why_set(&why, "connect to %s: %s", s->leader_text,
			strerror(-fd));
		log_warn("leader %s: %s", s->leader_text, why.msg);
		next_or_backoff(s, why.msg);
		return;
	}
	s->conn = conn_new(s->loop, join ? s->join_tls : s->tls, fd, false,
			   join ? &join_ops : &live_ops, s, &limits);
	if (!s->conn) {
		close(fd);
		backoff(s, "cannot set up a TLS connection");
		return;
	}
	set_phase(s, join ? PH_JOIN_HANDSHAKE : PH_HANDSHAKE);
}

/* ---- both kinds of connection ---- */

static bool leader_is_leader(struct session *s, struct conn *c)
{
	char peer[WIRE_NODE_ID_MAX + 1];

	if (tls_conn_peer_id(conn_tls(c), peer, sizeof(peer)) == 0 &&
	    strcmp(peer, SESSION_LEADER_ID) == 0)
		return true;
	log_err("leader %s: the server's certificate does not name %s",
		s->leader_text, SESSION_LEADER_ID);
	conn_close(c, "the server is not the cluster's leader", false);
	return false;
}

static void leader_error(struct session *s, const struct wire_msg *e)
{
	why_set(&s->st.last_error, "refused by the leader: %s", e->reason);
	if (e->not_leader) { /* a standby, or an instance behind the agent */
		log_info("leader %s: %s", s->leader_text, s->st.last_error.msg);
		session_leader_named(s, e->leader);
	} else {
		log_err("leader %s: %s", s->leader_text, s->st.last_error.msg);
	}
	set_phase(s, e->removed ? PH_REMOVING : PH_CLOSING);
}

/* Decodes a frame from the leader, checked against this node. */
static int decode(const struct session *s, const uint8_t *body, size_t len,
		  struct wire_msg *m, struct why *why)
{
	const struct wire_self self = { .id = s->node_id,
					.addrs = s->addrs,
					.n_addrs = s->n_addrs,
					.index = s->node_index };

	return wire_decode(body, len, &self, m, why);
}

/* A connection ended: what follows depends on the phase it ended in. */
static void closed(struct conn *c, const char *why, void *arg)
{
	struct session *s = arg;
	enum session_phase ph = s->phase;
	char text[200];

	(void)c;
	s->conn = NULL;
	if (ph == PH_ENDING)
		return;
	if (ph == PH_REMOVING) {
		set_phase(s, PH_REMOVED);
		if (s->ops->removed)
			s->ops->removed(s->arg, s->st.last_error.msg);
		return;
	}
	if (s->st.state == SESSION_LIVE) {
		s->st.reconnects++;
		log_warn("leader %s: session lost: %s", s->leader_text, why);
		if (s->ops->down)
			s->ops->down(s->arg, why);
	}
	if (ph == PH_RECONNECT) {
		connect_now(s);
		return;
	}
	if (ph != PH_CLOSING) {
		snprintf(text, sizeof(text), "%s", why);
		why_set(&s->st.last_error, "%s%s",
			ph == PH_JOIN_HANDSHAKE || ph == PH_HANDSHAKE
				? "connection failed: "
				: "",
			text);
		log_warn("leader %s: %s", s->leader_text, s->st.last_error.msg);
	}
	next_or_backoff(s, s->st.last_error.msg);
}

/* ---- join ---- */

static void join_ready(struct conn *c, void *arg)
{
	struct session *s = arg;

	if (!leader_is_leader(s, c))
		return;
	conn_auth(c);
	set_phase(s, PH_JOIN_SENT);
	if (session_send_join(s, c)) {
		log_err("join: cannot build the request");
		conn_close(c, "cannot build the join request", false);
	}
}

static void join_frame(struct conn *c, const uint8_t *body, size_t len,
		       void *arg)
{
	struct session *s = arg;
	struct wire_msg m;
	struct why why = { "" };
	int err = decode(s, body, len, &m, &why);

	if (err && err != -ENOTSUP) {
		why_set(&s->st.last_error,
			"join: bad frame from the leader: %s", why.msg);
	} else if (!err && m.type == WIRE_ERROR) {
		leader_error(s, &m);
	} else if (err || m.type != WIRE_JOIN_RESPONSE ||
		   session_joined(s, &m, &why)) {
		why_set(&s->st.last_error, "join: %s",
			!err && m.type == WIRE_JOIN_RESPONSE
				? why.msg
				: "unexpected answer from the leader");
	} else {
		log_info("joined the cluster as %s (node index %u)", s->node_id,
			 m.node_index);
		s->node_index = m.node_index;
		/* the join carried the static key: its first incarnation */
		s->lost_state = false;
		set_phase(s, PH_RECONNECT); /* with the new certificate */
		s->attempt = 0;
		session_leader_reached(s);
	}
	if (s->phase == PH_JOIN_SENT) { /* refused, and not yet logged */
		log_err("leader %s: %s", s->leader_text, s->st.last_error.msg);
		set_phase(s, PH_CLOSING);
	}
	wire_msg_free(&m);
	conn_close(c, s->phase == PH_RECONNECT ? "joined" : "join failed",
		   false);
}

static const struct conn_ops join_ops = {
	.ready = join_ready,
	.frame = join_frame,
	.closed = closed,
};

/* ---- the mutual-TLS session ---- */

static void live_ready(struct conn *c, void *arg)
{
	struct session *s = arg;

	if (!leader_is_leader(s, c))
		return;
	conn_auth(c);
	set_phase(s, PH_HELLO_SENT);
	s->st.acked = 0;
	if (session_send_hello(s, c)) {
		conn_close(c, "cannot build the hello", false);
		return;
	}
	s->lost_state = false;
	session_schedule_renewal(s);
}

static void state_frame(struct session *s, const struct wire_msg *m)
{
	if (m->type == WIRE_SNAPSHOT) {
		if (s->phase != PH_LIVE) {
			log_info("leader %s: session open at revision %llu",
				 s->leader_text,
				 (unsigned long long)m->snapshot.revision);
			set_phase(s, PH_LIVE);
			s->attempt = 0;
			session_leader_reached(s);
			s->st.last_error.msg[0] = '\0';
		}
		s->ops->snapshot(s->arg, &m->snapshot);
	} else if (s->phase != PH_LIVE) {
		session_refuse(s, "a delta before the snapshot");
	} else {
		s->ops->delta(s->arg, &m->delta);
	}
}

static void live_frame(struct conn *c, const uint8_t *body, size_t len,
		       void *arg)
{
	struct session *s = arg;
	struct wire_msg m;
	struct why why = { "" };

	if (decode(s, body, len, &m, &why)) {
		session_refuse(s, why.msg);
		wire_msg_free(&m);
		return;
	}
	switch (m.type) {
	case WIRE_SNAPSHOT:
	case WIRE_DELTA:
		state_frame(s, &m);
		break;
	case WIRE_PING:
		if (!m.reply)
			session_send_pong(c, m.nonce);
		break;
	case WIRE_JOIN_RESPONSE:
		session_renewed(s, &m);
		break;
	default: /* WIRE_ERROR */
		leader_error(s, &m);
		conn_close(c, s->st.last_error.msg, false);
	}
	wire_msg_free(&m);
}

static void live_read_done(struct conn *c, void *arg)
{
	struct session *s = arg;

	(void)c;
	if (s->phase == PH_LIVE && s->ops->settled)
		s->ops->settled(s->arg);
}

static const struct conn_ops live_ops = {
	.ready = live_ready,
	.frame = live_frame,
	.closed = closed,
	.read_done = live_read_done,
};

/* ---- the owner's side ---- */

struct session *session_new(struct loop *l, const struct session_config *c,
			    const struct session_ops *ops, void *arg)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = l, s->ops = ops, s->arg = arg;
	if (!c->n_leaders) {
		free(s);
		errno = EINVAL;
		return NULL;
	}
	session_leaders_set(s, c->leaders, c->n_leaders);
	snprintf(s->node_id, sizeof(s->node_id), "%s", c->node_id);
	snprintf(s->dir, sizeof(s->dir), "%s", c->state_dir);
	if (c->token) {
		s->token = *c->token;
		s->have_token = true;
	}
	s->n_addrs =
		c->n_addrs < DESIRED_ADDRS_MAX ? c->n_addrs : DESIRED_ADDRS_MAX;
	memcpy(s->addrs, c->addrs, s->n_addrs * sizeof(s->addrs[0]));
	memcpy(s->boot_id, c->boot_id, sizeof(s->boot_id));
	s->kernel_rev = c->last_revision;
	s->kernel_term = c->last_term;
	s->sk = c->sk;
	s->lost_state = c->lost_state;
	s->nat = c->nat;
	if (c->nat_public)
		s->nat_public = *c->nat_public;
	s->backoff_min =
		c->backoff_min_ms ? c->backoff_min_ms : SESSION_BACKOFF_MIN_MS;
	s->backoff_max =
		c->backoff_max_ms ? c->backoff_max_ms : SESSION_BACKOFF_MAX_MS;
	s->retry = loop_timer_new(l, on_retry, s);
	s->renew = loop_timer_new(l, session_on_renew_due, s);
	if (!s->retry || !s->renew) {
		session_free(s);
		return NULL;
	}
	return s;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	set_phase(s, PH_ENDING);
	if (s->conn)
		conn_close(s->conn, "the agent is stopping", false);
	loop_timer_free(s->retry);
	loop_timer_free(s->renew);
	session_creds_free(s);
	token_wipe(&s->token);
	free(s);
}

int session_start(struct session *s, struct why *why)
{
	int err = session_load_creds(s, why);

	if (err == -ENOENT && !s->have_token)
		return why_fail(why, -ENOKEY,
				"%s has no node certificate yet and no join "
				"token was given (--token-file)",
				s->dir);
	if (err && err != -ENOENT)
		return err;
	connect_now(s);
	return 0;
}

int session_ack(struct session *s, uint64_t revision, uint64_t term)
{
	if (s->phase != PH_LIVE)
		return -ENOTCONN;
	if (revision <= s->st.acked)
		return 0;
	s->st.acked = revision;
	s->kernel_rev = revision;
	s->kernel_term = term;
	return session_send_ack(s->conn, revision);
}

int session_key_update(struct session *s)
{
	if (s->phase != PH_LIVE && s->phase != PH_HELLO_SENT)
		return -ENOTCONN;
	return session_send_key_update(s, s->conn);
}

int session_expire(struct session *s, uint32_t generation, uint32_t spi)
{
	if (s->phase != PH_LIVE)
		return -ENOTCONN;
	return session_send_expire(s->conn, generation, spi);
}

void session_refuse(struct session *s, const char *why)
{
	why_set(&s->st.last_error, "refused the leader's message: %s", why);
	log_err("leader %s: %s", s->leader_text, s->st.last_error.msg);
	if (!s->conn)
		return;
	session_send_error(s->conn, why);
	set_phase(s, PH_CLOSING);
	conn_close(s->conn, s->st.last_error.msg, true);
}

void session_restart(struct session *s, bool lost_state, const char *why)
{
	if (lost_state && s->lost_state)
		return; /* asked already: the next hello says so */
	s->lost_state = s->lost_state || lost_state;
	log_info("leader %s: new session: %s", s->leader_text, why);
	if (s->phase == PH_REMOVED)
		return;
	if (!s->conn) {
		loop_timer_arm(s->retry, 0, 0);
		connect_now(s);
		return;
	}
	set_phase(s, PH_RECONNECT);
	conn_close(s->conn, why, false);
}

void session_status(const struct session *s, struct session_status *st)
{
	*st = s->st;
	snprintf(st->leader, sizeof(st->leader), "%s", s->leader_text);
	st->cert_not_after = s->cert_not_after;
	st->renew_at = s->renew_at;
}
