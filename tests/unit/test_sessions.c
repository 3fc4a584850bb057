// SPDX-License-Identifier: MIT
/* Unit tests of keymgr/session*.c with the connection layer faked (-Wl,--wrap): a hello of a newer term refused with ERROR_NOT_LEADER naming the leader, and an instance stepping down (session_refuse_all). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/tls.h"
#include "keymgr/cluster.h"
#include "keymgr/session_int.h"

#define CONNS 8

/* What session*.c did to its connections. */
static char fake[CONNS]; /* the connections: &fake[i] */
static const struct conn_ops *ops_of[CONNS];
static void *arg_of[CONNS];
static size_t n_conns;
static Vxsec__Envelope *sent_on[CONNS]; /* the last frame each was sent */
static int closed_on[CONNS];		/* 0 open, 1 at once, 2 flushed */
static char peer_id[64];		/* what every certificate names */
static unsigned int kicks;

struct conn *__wrap_conn_new(struct loop *l, struct tls_ctx *t, int fd,
			     bool server, const struct conn_ops *ops, void *arg,
			     const struct conn_limits *lim);
int __wrap_conn_send(struct conn *c, const uint8_t *frame, size_t len);
void __wrap_conn_close(struct conn *c, const char *why, bool flush);
size_t __wrap_conn_queued(const struct conn *c);
struct tls_conn *__wrap_conn_tls(struct conn *c);
void __wrap_conn_auth(struct conn *c);
int __wrap_tls_conn_peer_id(struct tls_conn *c, char *out, size_t len);

static size_t which(const struct conn *c)
{
	size_t i = (size_t)((const char *)c - fake);

	assert_true(i < n_conns);
	return i;
}

struct conn *__wrap_conn_new(struct loop *l, struct tls_ctx *t, int fd,
			     bool server, const struct conn_ops *ops, void *arg,
			     const struct conn_limits *lim)
{
	(void)l, (void)t, (void)fd, (void)server, (void)lim;
	assert_true(n_conns < CONNS);
	ops_of[n_conns] = ops;
	arg_of[n_conns] = arg;
	return (struct conn *)&fake[n_conns++];
}

int __wrap_conn_send(struct conn *c, const uint8_t *frame, size_t len)
{
	size_t i = which(c);
	struct why why = { "" };

	frame_free(sent_on[i]);
	assert_int_equal(frame_decode(frame + FRAME_HEADER, len - FRAME_HEADER,
				      &sent_on[i], &why),
			 0);
	return 0;
}

void __wrap_conn_close(struct conn *c, const char *why, bool flush)
{
	(void)why;
	closed_on[which(c)] = flush ? 2 : 1;
}

size_t __wrap_conn_queued(const struct conn *c)
{
	(void)c;
	return 0;
}

struct tls_conn *__wrap_conn_tls(struct conn *c)
{
	(void)c;
	return NULL;
}

void __wrap_conn_auth(struct conn *c)
{
	(void)c;
}

int __wrap_tls_conn_peer_id(struct tls_conn *c, char *out, size_t len)
{
	(void)c;
	if (!peer_id[0])
		return -ENOENT;
	snprintf(out, len, "%s", peer_id);
	return 0;
}

static void counter_random(uint8_t *buf, size_t len, void *arg)
{
	uint8_t *ctr = arg;

	memset(buf, ++*ctr, len);
}

static void kick(void *arg)
{
	(void)arg;
	kicks++;
}

static struct cluster cl;
static struct ca ca;
static struct store st;
static struct sessions ss;
static uint8_t ctr, pub[REGISTRY_PUB_LEN], boot[REGISTRY_BOOT_ID_LEN];
static const struct node_addr addr = { 4, { 192, 168, 0, 1 } };

/* Members node-1 and node-2; no connection yet. */
static int setup(void **state)
{
	static const struct rot_config rc = { .interval_ms = 1000000,
					      .deadline_ms = 1000,
					      .grace_ms = 100 };
	struct why why = { "" };
	struct node *n;
	struct node_addr a2 = addr;

	(void)state;
	memset(pub, 0x5a, sizeof(pub));
	memset(boot, 7, sizeof(boot));
	a2.ip[3] = 2;
	if (cluster_init(&cl, &rc, counter_random, &ctr) ||
	    cluster_join(&cl, "node-1", boot, &addr, 1, pub, &n) < 0 ||
	    cluster_join(&cl, "node-2", boot, &a2, 1, pub, &n) < 0)
		return -1;
	session_init(&ss, NULL, &cl, &ca, &st, kick, NULL);
	return session_admission(&ss, 64, 16, &why);
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < CONNS; i++) {
		frame_free(sent_on[i]);
		sent_on[i] = NULL;
		closed_on[i] = 0;
	}
	while (ss.clients) { /* what the fake never closed */
		struct client *c = ss.clients;

		ops_of[which(c->conn)]->closed(c->conn, "test over", c);
	}
	n_conns = 0;
	session_cleanup(&ss);
	cluster_cleanup(&cl);
	return 0;
}

/* A connection whose certificate names id (NULL: a join): its index. */
static size_t connect_as(const char *id)
{
	struct sockaddr_storage from = { .ss_family = AF_INET };
	struct guard_src src;
	struct client *c;

	guard_src_from(&src, &from);
	assert_int_equal(guard_admit(&ss.guard, &src), 0);
	c = session_client_new(&ss, -1, &from, &src);
	assert_non_null(c);
	snprintf(peer_id, sizeof(peer_id), "%s", id ? id : "");
	ops_of[n_conns - 1]->ready(c->conn, c);
	return n_conns - 1;
}

/* The agent on connection i says hello with its last revision and term. */
static void hello(size_t i, const char *id, uint64_t rev, uint64_t term)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Hello h = VXSEC__HELLO__INIT;
	Vxsec__Address a = VXSEC__ADDRESS__INIT, *ap = &a;
	uint8_t ip[4] = { 192, 168, 0, 1 }, *f;
	size_t len;

	ip[3] = id[strlen(id) - 1] == '2' ? 2 : 1;
	a.ip = (ProtobufCBinaryData){ 4, ip };
	h.node_id = (char *)id;
	h.boot_id = (ProtobufCBinaryData){ sizeof(boot), boot };
	h.last_revision = rev;
	h.last_term = term;
	h.n_underlay = 1;
	h.underlay = &ap;
	h.static_key = (ProtobufCBinaryData){ sizeof(pub), pub };
	env.msg_case = VXSEC__ENVELOPE__MSG_HELLO;
	env.hello = &h;
	assert_int_equal(frame_encode(&env, &f, &len), 0);
	ops_of[i]->frame((struct conn *)&fake[i], f + FRAME_HEADER,
			 len - FRAME_HEADER, arg_of[i]);
	frame_buf_free(f, len);
}

/* Connection i was sent ERROR_NOT_LEADER with reason and leader. */
static void assert_not_leader(size_t i, const char *reason, const char *leader)
{
	const Vxsec__Error *e;

	assert_non_null(sent_on[i]);
	assert_int_equal(sent_on[i]->msg_case, VXSEC__ENVELOPE__MSG_ERROR);
	e = sent_on[i]->error;
	assert_int_equal(e->code, VXSEC__ERROR_CODE__ERROR_NOT_LEADER);
	assert_string_equal(e->reason, reason);
	assert_string_equal(e->leader, leader);
	assert_int_equal(closed_on[i], 2); /* after the error is written */
}

/*
 * This instance leads in term 7. An agent that was served in term 9 is
 * refused (not the leader, naming the one that is); one of term 7 or
 * older (0: a single leader) becomes a session.
 */
static void test_hello_of_newer_term(void **state)
{
	size_t a, b, c;

	(void)state;
	session_set_term(&ss, 7);
	assert_int_equal(session_set_leader(&ss, "[fd00::9]:7120"), 0);
	a = connect_as("node-1");
	hello(a, "node-1", 0, 9);
	assert_not_leader(a,
			  "this instance's term 7 is older than the "
			  "agent's 9: it is not the leader",
			  "[fd00::9]:7120");
	assert_int_equal(session_count(&ss), 0);

	/* Not known who leads: the refusal names nobody. */
	assert_int_equal(session_set_leader(&ss, NULL), 0);
	b = connect_as("node-2");
	hello(b, "node-2", 0, 8);
	assert_not_leader(b,
			  "this instance's term 7 is older than the "
			  "agent's 8: it is not the leader",
			  "");

	kicks = 0;
	c = connect_as("node-1");
	hello(c, "node-1", 0, 7);
	assert_int_equal(closed_on[c], 0);
	assert_null(sent_on[c]); /* its snapshot follows in the next round */
	assert_int_equal(session_count(&ss), 1);
	assert_true(kicks > 0);
}

/* A leader address that cannot go on the wire is refused, and unknown. */
static void test_set_leader(void **state)
{
	char big[PROTO_LEADER_MAX + 2];

	(void)state;
	assert_int_equal(session_set_leader(&ss, "10.0.0.1:7120"), 0);
	assert_string_equal(ss.leader_addr, "10.0.0.1:7120");
	assert_int_equal(session_set_leader(&ss, "10.0.0.1:7120\n"), -EINVAL);
	assert_string_equal(ss.leader_addr, "");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(session_set_leader(&ss, big), -EINVAL);
	big[PROTO_LEADER_MAX] = '\0';
	assert_int_equal(session_set_leader(&ss, big), 0);
	assert_int_equal(strlen(ss.leader_addr), PROTO_LEADER_MAX);
}

/*
 * Stepping down: both sessions are told, naming the new leader, and
 * closed once that is written; a join in flight and a connection that
 * has not said hello are closed at once; one closing already is left.
 */
static void test_refuse_all(void **state)
{
	size_t s1, s2, join, quiet;

	(void)state;
	s1 = connect_as("node-1");
	hello(s1, "node-1", 0, 0);
	s2 = connect_as("node-2");
	hello(s2, "node-2", 0, 0);
	join = connect_as(NULL);
	quiet = connect_as("node-1");
	assert_int_equal(session_count(&ss), 2);
	session_refuse_all(&ss, "10.0.0.5:7120");
	assert_string_equal(ss.leader_addr, "10.0.0.5:7120");
	assert_not_leader(s1, "this instance is no longer the leader",
			  "10.0.0.5:7120");
	assert_not_leader(s2, "this instance is no longer the leader",
			  "10.0.0.5:7120");
	assert_null(sent_on[join]);
	assert_int_equal(closed_on[join], 1);
	assert_null(sent_on[quiet]);
	assert_int_equal(closed_on[quiet], 1);
	/* Again (nothing is left to tell): no second frame, no close. */
	frame_free(sent_on[s1]);
	sent_on[s1] = NULL;
	closed_on[s1] = 0;
	session_refuse_all(&ss, "10.0.0.5:7120");
	assert_null(sent_on[s1]);
	assert_int_equal(closed_on[s1], 0);
}

/* A new term drops the shared prepare frame (encoded with the old one). */
static void test_term_drops_prepare(void **state)
{
	(void)state;
	ss.prep = sodium_malloc(16);
	assert_non_null(ss.prep);
	ss.prep_len = 16;
	ss.prep_rev = 3;
	session_set_term(&ss, 0); /* the same term: kept */
	assert_non_null(ss.prep);
	session_set_term(&ss, 4);
	assert_null(ss.prep);
	assert_int_equal(ss.prep_rev, 0);
	assert_int_equal(ss.term, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_hello_of_newer_term),
		T(test_set_leader),
		T(test_refuse_all),
		T(test_term_drops_prepare),
#undef T
	};

	return cmocka_run_group_tests_name("sessions", tests, NULL, NULL);
}
