// SPDX-License-Identifier: MIT
/* Process tests: keymgr/etcd.c against a real etcd (Debian's etcd-server) on loopback, in a temporary directory. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <sodium.h>

#include "keymgr/etcd.h"
#include "keymgr/elector.h"
#include "keymgr/etcd_kv.h"
#include "tests/wire/etcd_fixture.h"
#include "tests/wire/proc_util.h"

#define REPLIES_MAX 64

static struct fixture {
	struct etcd_fixture ef; /* ef.loop: the clients' */
	pid_t etcd;		/* ef.pid[0], for the SIGSTOP case */
	char client[32];	/* 127.0.0.1:port */
	char dead[32];		/* a port nobody listens on */
	struct etcd_fixture_reply got[REPLIES_MAX];
	size_t n_got;
} fx;

static void on_reply(void *arg, int err, int status, const char *body,
		     size_t len, const struct why *why)
{
	(void)arg;
	etcd_fixture_reply_set(&fx.got[fx.n_got < REPLIES_MAX ? fx.n_got : 0],
			       err, status, body, len, why);
	fx.n_got++;
}

/* Runs the loop until n replies are in (or secs pass). */
static void wait_replies(size_t n, int secs)
{
	for (int i = 0; i < secs * 10 && fx.n_got < n; i++)
		loop_run_once(fx.ef.loop, 100);
	assert_int_equal(fx.n_got, n);
}

static struct etcd *client(const char *const *eps, size_t n, uint64_t ms)
{
	struct etcd *e = etcd_fixture_client(&fx.ef, eps, n, ms, NULL);

	assert_non_null(e);
	return e;
}

static int post(struct etcd *e, const char *path, const char *json)
{
	return etcd_post(e, path, json, strlen(json), on_reply, NULL);
}

static int setup(void **state)
{
	int dport = etcd_fixture_free_port();

	(void)state;
	memset(&fx, 0, sizeof(fx));
	if (dport < 0 || etcd_fixture_start(&fx.ef, 1))
		return -1;
	fx.etcd = fx.ef.pid[0];
	snprintf(fx.client, sizeof(fx.client), "%s", fx.ef.client[0]);
	snprintf(fx.dead, sizeof(fx.dead), "127.0.0.1:%d", dport);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return etcd_fixture_stop(&fx.ef);
}

/* A put then a range: the value comes back, in order, one connection. */
static void test_put_range(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *e = client(eps, 1, 0);

	(void)state;
	/* key "vxsec/a", value "hello" (base64) */
	assert_int_equal(
		post(e, "/v3/kv/put",
		     "{\"key\":\"dnhzZWMvYQ==\",\"value\":\"aGVsbG8=\"}"),
		0);
	assert_int_equal(post(e, "/v3/kv/range", "{\"key\":\"dnhzZWMvYQ==\"}"),
			 0);
	assert_int_equal(fx.n_got, 0); /* never from inside etcd_post */
	assert_int_equal(etcd_pending(e), 2);
	wait_replies(2, 10);
	assert_int_equal(fx.got[0].err, 0);
	assert_int_equal(fx.got[0].status, 200);
	assert_int_equal(fx.got[1].status, 200);
	assert_non_null(strstr(fx.got[1].body, "\"value\":\"aGVsbG8=\""));
	assert_int_equal(etcd_pending(e), 0);
	etcd_free(e);
}

/* Many requests queued at once: answered in order, each revision newer. */
static void test_in_order(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *e = client(eps, 1, 0);
	char body[128], key[16], b64[32];
	long last = 0;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "key%02d", i);
		sodium_bin2base64(b64, sizeof(b64), (const uint8_t *)key,
				  strlen(key), sodium_base64_VARIANT_ORIGINAL);
		snprintf(body, sizeof(body),
			 "{\"key\":\"%s\",\"value\":\"dg==\"}", b64);
		assert_int_equal(post(e, "/v3/kv/put", body), 0);
	}
	wait_replies(40, 20);
	for (int i = 0; i < 40; i++) {
		const char *r = strstr(fx.got[i].body, "\"revision\":\"");
		long rev;

		assert_int_equal(fx.got[i].status, 200);
		assert_non_null(r);
		rev = strtol(r + 12, NULL, 10);
		assert_true(rev > last);
		last = rev;
	}
	etcd_free(e);
}

/* A dead endpoint first: the request goes to the next one. */
static void test_next_endpoint(void **state)
{
	const char *eps[] = { fx.dead, fx.client };
	struct etcd *e = client(eps, 2, 0);

	(void)state;
	post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	wait_replies(1, 10);
	assert_int_equal(fx.got[0].err, 0);
	assert_int_equal(fx.got[0].status, 200);
	assert_string_equal(etcd_endpoint(e), fx.client);
	etcd_free(e);
}

/* Nothing listens anywhere: the request fails, naming the endpoint. */
static void test_all_dead(void **state)
{
	const char *eps[] = { fx.dead };
	struct etcd *e = client(eps, 1, 0);

	(void)state;
	post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	wait_replies(1, 10);
	assert_int_equal(fx.got[0].err, -ECONNREFUSED);
	assert_non_null(strstr(fx.got[0].why, fx.dead));
	etcd_free(e);
}

/* etcd stopped: -ETIMEDOUT after the timeout; continued: served again. */
static void test_timeout(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *e = client(eps, 1, 500);

	(void)state;
	kill(fx.etcd, SIGSTOP);
	post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	wait_replies(1, 5);
	kill(fx.etcd, SIGCONT);
	assert_int_equal(fx.got[0].err, -ETIMEDOUT);
	assert_non_null(strstr(fx.got[0].why, "timed out"));
	for (int i = 0; i < 10; i++) {
		post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
		wait_replies(2 + (size_t)i, 5);
		if (fx.got[1 + i].status == 200)
			break;
	}
	assert_int_equal(fx.got[fx.n_got - 1].status, 200);
	etcd_free(e);
}

/* A request etcd refuses: its HTTP status and error body reach the caller. */
static void test_http_error(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *e = client(eps, 1, 0);

	(void)state;
	post(e, "/v3/kv/range", "{\"key\":");
	wait_replies(1, 10);
	assert_int_equal(fx.got[0].err, 0);
	assert_int_equal(fx.got[0].status, 400);
	assert_non_null(strstr(fx.got[0].body, "\"error\""));
	etcd_free(e);
}

/* Freed with requests queued: each one's callback says canceled. */
static void test_free_cancels(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *e = client(eps, 1, 0);

	(void)state;
	post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	etcd_free(e);
	assert_int_equal(fx.n_got, 2);
	assert_int_equal(fx.got[0].err, -ECANCELED);
	assert_int_equal(fx.got[1].err, -ECANCELED);
}

/* ---- etcd_kv.c's requests and replies, on the real etcd ---- */

#define B(s) ((struct etcd_bytes){ (const uint8_t *)(s), sizeof(s) - 1 })

/* One request built by etcd_kv, its reply opened: the document. */
static void ask(struct etcd *e, const char *path, const char *body, size_t len,
		struct json_doc *doc, struct etcd_header *h)
{
	struct why why = { "" };
	size_t n = fx.n_got;

	assert_int_equal(etcd_post(e, path, body, len, on_reply, NULL), 0);
	wait_replies(n + 1, 10);
	json_doc_init(doc, NULL, JSON_TOKENS_MAX);
	if (etcd_reply_open(doc, fx.got[n].status, fx.got[n].body,
			    strlen(fx.got[n].body), h, &why))
		print_message("%s: %s\n", path, why.msg);
	assert_int_equal(fx.got[n].status, 200);
	assert_true(h->revision > 0);
}

static struct etcd *kv_client(void)
{
	const char *eps[] = { fx.client };

	return client(eps, 1, 0);
}

struct seen {
	char values[4][32];
	size_t n;
};

static int on_kv(void *arg, const struct etcd_kv *kv)
{
	struct seen *s = arg;

	if (s->n < 4)
		snprintf(s->values[s->n++], sizeof(s->values[0]), "%.*s",
			 (int)kv->value.len, (const char *)kv->value.p);
	return 0;
}

/* The election's transaction: create-if-absent wins once; the loser reads
 * who holds the key, in the same round trip. */
static void test_txn_create_if_absent(void **state)
{
	struct etcd *e = kv_client();
	struct etcd_cmp cmp = {
		B("t/leader"), ETCD_CREATE, ETCD_EQUAL, 0, { NULL, 0 }
	};
	struct etcd_op put_a = {
		ETCD_PUT, B("t/leader"), B("a:7120"), { NULL, 0 }, 0
	};
	struct etcd_op put_b = {
		ETCD_PUT, B("t/leader"), B("b:7120"), { NULL, 0 }, 0
	};
	struct etcd_op get = {
		ETCD_RANGE, B("t/leader"), { NULL, 0 }, { NULL, 0 }, 0
	};
	struct etcd_header h;
	struct json_doc doc;
	struct json_out out;
	struct seen seen = { 0 };
	struct why why = { "" };
	char body[2048];
	bool ok, more;
	int resp, r;
	size_t len;

	(void)state;
	json_out_init(&out, body, sizeof(body));
	assert_int_equal(etcd_txn_req(&out, &cmp, 1, &put_a, 1, &get, 1), 0);
	assert_int_equal(json_out_finish(&out, &len), 0);
	ask(e, "/v3/kv/txn", body, len, &doc, &h);
	assert_int_equal(etcd_txn_reply(&doc, &ok, &resp, &why), 0);
	assert_true(ok);
	json_doc_cleanup(&doc);

	json_out_init(&out, body, sizeof(body));
	assert_int_equal(etcd_txn_req(&out, &cmp, 1, &put_b, 1, &get, 1), 0);
	assert_int_equal(json_out_finish(&out, &len), 0);
	ask(e, "/v3/kv/txn", body, len, &doc, &h);
	assert_int_equal(etcd_txn_reply(&doc, &ok, &resp, &why), 0);
	assert_false(ok);
	assert_true(resp >= 0);
	r = json_get(&doc, resp + 1, "response_range"); /* its first element */
	assert_true(r >= 0);
	r = etcd_kvs(&doc, r, on_kv, &seen, &more, &why);
	if (r)
		print_message("%s\n", why.msg);
	assert_int_equal(r, 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.values[0], "a:7120");
	json_doc_cleanup(&doc);
	etcd_free(e);
}

/* A prefix range with a limit: the first keys in order, and "more". */
static void test_range_prefix(void **state)
{
	struct etcd *e = kv_client();
	const char *vals[] = { "one", "two", "three" };
	const char *keys[] = { "p/1", "p/2", "p/3" };
	struct etcd_header h;
	struct json_doc doc;
	struct json_out out;
	struct seen seen = { 0 };
	struct why why = { "" };
	char body[512];
	bool more;
	size_t len;

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct etcd_bytes k = { (const uint8_t *)keys[i], 3 };
		struct etcd_bytes v = { (const uint8_t *)vals[i],
					strlen(vals[i]) };

		json_out_init(&out, body, sizeof(body));
		assert_int_equal(etcd_put_req(&out, k, v, 0), 0);
		assert_int_equal(json_out_finish(&out, &len), 0);
		ask(e, "/v3/kv/put", body, len, &doc, &h);
		json_doc_cleanup(&doc);
	}
	json_out_init(&out, body, sizeof(body));
	assert_int_equal(etcd_range_req(&out, B("p/"), B("p0"), 2), 0);
	assert_int_equal(json_out_finish(&out, &len), 0);
	ask(e, "/v3/kv/range", body, len, &doc, &h);
	assert_int_equal(etcd_kvs(&doc, 0, on_kv, &seen, &more, &why), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.values[0], "one");
	assert_string_equal(seen.values[1], "two");
	assert_true(more);
	json_doc_cleanup(&doc);
	etcd_free(e);
}

/* A lease: granted, kept alive, revoked; then its keepalive says gone. */
static void test_lease(void **state)
{
	struct etcd *e = kv_client();
	struct etcd_header h;
	struct json_doc doc;
	struct json_out out;
	struct why why = { "" };
	int64_t id, ttl, id2;
	char body[256];
	size_t len;

	(void)state;
	json_out_init(&out, body, sizeof(body));
	assert_int_equal(etcd_lease_grant_req(&out, 5), 0);
	assert_int_equal(json_out_finish(&out, &len), 0);
	ask(e, "/v3/lease/grant", body, len, &doc, &h);
	assert_int_equal(etcd_lease_reply(&doc, &id, &ttl, &why), 0);
	assert_int_equal(ttl, 5);
	json_doc_cleanup(&doc);

	json_out_init(&out, body, sizeof(body));
	assert_int_equal(etcd_lease_id_req(&out, id), 0);
	assert_int_equal(json_out_finish(&out, &len), 0);
	ask(e, "/v3/lease/keepalive", body, len, &doc, &h);
	assert_int_equal(etcd_lease_reply(&doc, &id2, &ttl, &why), 0);
	assert_true(id2 == id && ttl > 0 && ttl <= 5);
	json_doc_cleanup(&doc);

	ask(e, "/v3/lease/revoke", body, len, &doc, &h);
	json_doc_cleanup(&doc);
	ask(e, "/v3/lease/keepalive", body, len, &doc, &h);
	assert_int_equal(etcd_lease_reply(&doc, &id2, &ttl, &why), -ENOENT);
	assert_non_null(strstr(why.msg, "lease is gone"));
	json_doc_cleanup(&doc);
	etcd_free(e);
}

/* etcd's refusal (a keepalive of a lease id that is not a number) is
 * read as such: its message in why. */
static void test_reply_error(void **state)
{
	struct etcd *e = kv_client();
	struct etcd_header h;
	struct json_doc doc;
	struct why why = { "" };

	(void)state;
	post(e, "/v3/lease/keepalive", "{\"ID\":\"x\"}");
	wait_replies(1, 10);
	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	assert_int_equal(etcd_reply_open(&doc, fx.got[0].status, fx.got[0].body,
					 strlen(fx.got[0].body), &h, &why),
			 -EREMOTEIO);
	/* etcd 3.4's gateway: HTTP 500 with grpc-gateway's message */
	assert_non_null(strstr(why.msg, "etcd: HTTP 500: invalid character"));
	json_doc_cleanup(&doc);
	etcd_free(e);
}

struct lines {
	char line[8][512];
	size_t n;
};

static void on_line(void *arg, const char *line, size_t len)
{
	struct lines *l = arg;

	if (l->n < 8)
		snprintf(l->line[l->n++], sizeof(l->line[0]), "%.*s", (int)len,
			 line);
}

static void on_stream_end(void *arg, int err, int status, const char *body,
			  size_t len, const struct why *why)
{
	on_reply(NULL, err, status, body, len, why);
	(void)arg;
}

/* A watch streams its events as lines, with no deadline, until freed. */
static void test_watch_stream(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *w = client(eps, 1, 500), *e = kv_client();
	struct lines got = { 0 };
	/* a watch of the key "w/k" */
	const char *watch = "{\"create_request\":{\"key\":\"dy9r\"}}";

	(void)state;

	assert_int_equal(etcd_stream(w, "/v3/watch", watch, strlen(watch),
				     on_line, on_stream_end, &got),
			 0);
	for (int i = 0; i < 50 && !got.n; i++)
		loop_run_once(fx.ef.loop, 100);
	assert_int_equal(got.n, 1);
	assert_non_null(strstr(got.line[0], "\"created\":true"));
	post(e, "/v3/kv/put", "{\"key\":\"dy9r\",\"value\":\"dg==\"}");
	post(e, "/v3/kv/deleterange", "{\"key\":\"dy9r\"}");
	wait_replies(2, 10);
	/* past the 500 ms request deadline: the stream still flows */
	for (int i = 0; i < 20; i++)
		loop_run_once(fx.ef.loop, 100);
	assert_int_equal(got.n, 3);
	assert_non_null(strstr(got.line[1], "\"value\":\"dg==\""));
	assert_non_null(strstr(got.line[2], "\"type\":\"DELETE\""));
	assert_int_equal(fx.n_got, 2); /* the stream has not ended */
	etcd_free(w);
	assert_int_equal(fx.n_got, 3);
	assert_int_equal(fx.got[2].err, -ECANCELED);
	etcd_free(e);
}

/* ---- elector.c: two instances elect one leader on the real etcd ---- */

struct instance {
	struct elector *el;
	int64_t term;
	int leads, downs;
	char why[256];
};

static void on_lead(void *arg, int64_t term)
{
	struct instance *in = arg;

	in->term = term;
	in->leads++;
}

static void on_down(void *arg, const char *why)
{
	struct instance *in = arg;

	in->downs++;
	snprintf(in->why, sizeof(in->why), "%s", why);
}

static void instance(struct instance *in, const char *value)
{
	static const struct elector_ops ops = { on_lead, on_down };
	const char *eps[] = { fx.client };
	struct elector_config cfg = {
		eps, 1, "/t/leader", value, { 3, 500, 300, 0 }, NULL
	};
	struct why why = { "" };

	memset(in, 0, sizeof(*in));
	in->el = elector_new(fx.ef.loop, &cfg, &ops, in, &why);
	assert_non_null(in->el);
	elector_start(in->el);
}

/* Runs the loop until cond holds (or secs pass). */
#define RUN_UNTIL(cond, secs)                                     \
	do {                                                      \
		for (int i_ = 0; i_ < (secs)*20 && !(cond); i_++) \
			loop_run_once(fx.ef.loop, 50);            \
		assert_true(cond);                                \
	} while (0)

/* One leads, one stands by; the leader resigns: the other takes over at
 * once with a newer term; etcd stopped: the leader steps down by itself
 * before its lease can end; etcd back: one leads again. */
static void test_elector(void **state)
{
	struct instance a, b;
	int64_t t1;

	(void)state;
	instance(&a, "a:7120");
	RUN_UNTIL(elector_state(a.el) == ELECT_LEADER, 10);
	instance(&b, "b:7120");
	RUN_UNTIL(elector_state(b.el) == ELECT_STANDBY, 10);
	assert_int_equal(a.leads, 1);
	assert_int_equal(b.leads, 0);
	t1 = a.term;
	/* 4 s of keepalives: a stays leader past its 3 s TTL */
	for (int i = 0; i < 80; i++)
		loop_run_once(fx.ef.loop, 50);
	assert_int_equal(elector_state(a.el), ELECT_LEADER);
	assert_int_equal(a.downs, 0);

	elector_resign(a.el);
	RUN_UNTIL(elector_state(b.el) == ELECT_LEADER, 10);
	assert_true(b.term > t1);
	assert_int_equal(a.downs, 1);

	kill(fx.etcd, SIGSTOP);
	RUN_UNTIL(b.downs == 1, 10);
	assert_non_null(strstr(b.why, "not renewed in time"));
	kill(fx.etcd, SIGCONT);
	RUN_UNTIL(elector_state(b.el) == ELECT_LEADER, 20);
	assert_true(b.term > t1);
	elector_resign(b.el);
	for (int i = 0; i < 10; i++)
		loop_run_once(fx.ef.loop, 50);
	elector_free(a.el);
	elector_free(b.el);
}

/* Endpoints that are not an address and port are refused, saying so. */
static void test_bad_endpoint(void **state)
{
	const char *eps[] = { "localhost:2379" };
	struct etcd_config cfg = { eps, 1, 0, NULL };
	struct why why = { "" };

	(void)state;
	assert_null(etcd_new(fx.ef.loop, &cfg, &why));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(why.msg, "localhost:2379"));
}

static int reset(void **state)
{
	(void)state;
	fx.n_got = 0;
	memset(fx.got, 0, sizeof(fx.got));
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_put_range, reset),
		cmocka_unit_test_setup(test_in_order, reset),
		cmocka_unit_test_setup(test_next_endpoint, reset),
		cmocka_unit_test_setup(test_all_dead, reset),
		cmocka_unit_test_setup(test_http_error, reset),
		cmocka_unit_test_setup(test_free_cancels, reset),
		cmocka_unit_test_setup(test_bad_endpoint, reset),
		cmocka_unit_test_setup(test_timeout, reset),
		cmocka_unit_test_setup(test_txn_create_if_absent, reset),
		cmocka_unit_test_setup(test_range_prefix, reset),
		cmocka_unit_test_setup(test_lease, reset),
		cmocka_unit_test_setup(test_reply_error, reset),
		cmocka_unit_test_setup(test_watch_stream, reset),
		cmocka_unit_test_setup(test_elector, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
