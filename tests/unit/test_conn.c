// SPDX-License-Identifier: MIT
/* Unit tests: framed TLS connections' limits — the authentication deadline, frame sizes before and after, a started frame's deadline. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "common/conn.h"
#include "common/pki.h"
#include "common/tls.h"

static EVP_PKEY *ca_key, *leader_key;
static X509 *ca, *leader_cert;

/* What the server side saw. */
struct side {
	bool auth_at_ready; /* the owner authenticates the peer at once */
	int frames;
	size_t last_len;
	char bad[256], closed[256];
	bool done;
};

static void on_ready(struct conn *c, void *arg)
{
	if (((struct side *)arg)->auth_at_ready)
		conn_auth(c);
}

static void on_frame(struct conn *c, const uint8_t *body, size_t len, void *arg)
{
	struct side *s = arg;

	(void)c, (void)body;
	s->frames++;
	s->last_len = len;
}

static void on_bad(struct conn *c, const char *why, void *arg)
{
	(void)c;
	snprintf(((struct side *)arg)->bad, 256, "%s", why);
}

static void on_closed(struct conn *c, const char *why, void *arg)
{
	struct side *s = arg;

	(void)c;
	snprintf(s->closed, sizeof(s->closed), "%s", why);
	s->done = true;
}

static const struct conn_ops ops = { .ready = on_ready,
				     .frame = on_frame,
				     .bad_frame = on_bad,
				     .closed = on_closed };

static const struct conn_limits server_lim = {
	.auth_ms = 400, .frame_unauth = 64, .frame_max = 1024, .frame_ms = 300
};
static const struct conn_limits client_lim = { .auth_ms = 5000,
					       .frame_unauth = 1 << 20,
					       .frame_max = 1 << 20 };

struct rig {
	struct loop *loop;
	struct tls_ctx *st, *ct;
	struct conn *client;
	struct side server, cside;
};

static int setup(void **state)
{
	X509_REQ *csr;
	struct why why = { "" };

	(void)state;
	ca_key = pki_key_new();
	ca = pki_ca_new(ca_key, "test", 10);
	leader_key = pki_key_new();
	csr = pki_csr_new(leader_key, "leader");
	pki_issue_server(ca_key, ca, csr, "leader", 10, &leader_cert, &why);
	X509_REQ_free(csr);
	return leader_cert ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(leader_cert), X509_free(ca);
	EVP_PKEY_free(leader_key), EVP_PKEY_free(ca_key);
	return 0;
}

/* A server conn (anonymous clients allowed) and a client conn. */
static void rig_open(struct rig *r, bool auth_at_ready)
{
	int fd[2];

	memset(r, 0, sizeof(*r));
	r->server.auth_at_ready = auth_at_ready;
	r->cside.auth_at_ready = true;
	r->loop = loop_new();
	r->st = tls_ctx_server(leader_cert, leader_key, ca, true);
	r->ct = tls_ctx_client(NULL, NULL, ca, NULL);
	assert_int_equal(socketpair(AF_UNIX,
				    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    0, fd),
			 0);
	assert_non_null(conn_new(r->loop, r->st, fd[0], true, &ops, &r->server,
				 &server_lim));
	r->client = conn_new(r->loop, r->ct, fd[1], false, &ops, &r->cside,
			     &client_lim);
	assert_non_null(r->client);
}

/* Runs the loop until the server side closed or ms passed; elapsed ms. */
static long run_until_closed(struct rig *r, int ms)
{
	struct timespec a, b;
	long el = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	while (!r->server.done && el < ms) {
		loop_run_once(r->loop, 20);
		clock_gettime(CLOCK_MONOTONIC, &b);
		el = (b.tv_sec - a.tv_sec) * 1000 +
		     (b.tv_nsec - a.tv_nsec) / 1000000;
	}
	return el;
}

static void rig_close(struct rig *r)
{
	if (!r->cside.done)
		conn_close(r->client, "test over", false);
	run_until_closed(r, 1000);
	loop_free(r->loop);
	tls_ctx_free(r->st), tls_ctx_free(r->ct);
}

/* A frame: 4-byte length announcing len, then have bytes of it. */
static void send_part(struct rig *r, uint32_t len, size_t have)
{
	uint8_t buf[4096] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
			      (uint8_t)(len >> 8), (uint8_t)len };

	assert_true(have + 4 <= sizeof(buf));
	assert_int_equal(conn_send(r->client, buf, have + 4), 0);
}

static void test_silent_peer_cut_at_auth_deadline(void **state)
{
	struct rig r;
	long el;

	(void)state;
	rig_open(&r, false);
	el = run_until_closed(&r, 3000);
	assert_true(r.server.done);
	assert_non_null(strstr(r.server.closed, "not authenticated within"));
	assert_true(el >= 350);
	rig_close(&r);
}

/* Before authentication, a slow sender is cut at the same deadline. */
static void test_slow_unauth_frame_cut(void **state)
{
	struct rig r;

	(void)state;
	rig_open(&r, false);
	send_part(&r, 60, 10); /* within the small limit, never finished */
	run_until_closed(&r, 3000);
	assert_non_null(strstr(r.server.closed, "not authenticated within"));
	assert_int_equal(r.server.frames, 0);
	rig_close(&r);
}

static void test_frame_limits_before_and_after(void **state)
{
	struct rig r;

	(void)state;
	rig_open(&r, false);
	send_part(&r, 100, 0); /* over 64 before authentication */
	run_until_closed(&r, 3000);
	assert_non_null(strstr(r.server.bad, "before authentication"));
	assert_int_equal(r.server.frames, 0);
	rig_close(&r);

	rig_open(&r, true);
	send_part(&r, 1000, 1000); /* fits after */
	send_part(&r, 2000, 0);	   /* does not */
	run_until_closed(&r, 3000);
	assert_int_equal(r.server.frames, 1);
	assert_int_equal(r.server.last_len, 1000);
	assert_non_null(strstr(r.server.bad, "frame of 2000 bytes"));
	assert_null(strstr(r.server.bad, "before authentication"));
	rig_close(&r);
}

/* After authentication: no deadline while idle, one for a started frame. */
static void test_started_frame_deadline(void **state)
{
	struct rig r;
	long el;

	(void)state;
	rig_open(&r, true);
	el = run_until_closed(&r, 800); /* idle past both deadlines */
	assert_false(r.server.done);
	assert_true(el >= 800);
	send_part(&r, 500, 10);
	el = run_until_closed(&r, 3000);
	assert_true(r.server.done);
	assert_non_null(strstr(r.server.closed, "not complete within 300 ms"));
	assert_true(el >= 250);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_peer_cut_at_auth_deadline),
		cmocka_unit_test(test_slow_unauth_frame_cut),
		cmocka_unit_test(test_frame_limits_before_and_after),
		cmocka_unit_test(test_started_frame_deadline),
	};

	signal(SIGPIPE,
	       SIG_IGN); /* as in the daemons: a closed peer is -EPIPE */
	return cmocka_run_group_tests(tests, setup, teardown);
}
