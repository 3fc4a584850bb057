// SPDX-License-Identifier: MIT
/* Process tests: keymgr/store_etcd*.c against a real etcd on loopback — commits (one transaction, or through the journal), fencing, paged loads, a crash's journal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/json.h"
#include "keymgr/etcd.h"
#include "keymgr/etcd_kv.h"
#include "keymgr/records.h"
#include "keymgr/state.h"
#include "keymgr/store_etcd.h"
#include "tests/wire/etcd_fixture.h"

#define PREFIX "/t/"

static struct fixture {
	struct etcd_fixture ef; /* ef.loop: the stores' and clients' */
	uint8_t key[STATE_KEY_LEN], other[STATE_KEY_LEN];
	int64_t term;
	int done, err;
	char why[512];
	/* a raw request's reply */
	int status;
	char body[4096];
} fx;

static void on_done(void *arg, int err, const struct why *why)
{
	(void)arg;
	fx.done++;
	fx.err = err;
	snprintf(fx.why, sizeof(fx.why), "%s", why ? why->msg : "");
}

static void on_raw(void *arg, int err, int status, const char *body, size_t len,
		   const struct why *why)
{
	(void)arg, (void)why;
	fx.done++;
	fx.err = err;
	fx.status = status;
	snprintf(fx.body, sizeof(fx.body), "%.*s", (int)len, body ? body : "");
}

static void wait_done(int n)
{
	for (int i = 0; i < 300 && fx.done < n; i++)
		loop_run_once(fx.ef.loop, 100);
	assert_int_equal(fx.done, n);
}

/* A request of our own: its JSON body built by the caller. */
static void raw(const char *path, const char *body)
{
	struct etcd *e =
		etcd_fixture_client(&fx.ef, fx.ef.endpoints, 1, 0, NULL);

	assert_non_null(e);
	fx.done = 0;
	assert_int_equal(etcd_post(e, path, body, strlen(body), on_raw, NULL),
			 0);
	wait_done(1);
	etcd_free(e);
	assert_int_equal(fx.err, 0);
	assert_int_equal(fx.status, 200);
}

/* Puts key = value (text) with our own client: the reply's revision. */
static int64_t put_text(const char *key, const uint8_t *val, size_t len)
{
	char body[2048];
	struct json_out o;
	size_t n;
	char *rev;

	json_out_init(&o, body, sizeof(body));
	assert_int_equal(etcd_put_req(&o,
				      (struct etcd_bytes){ (const uint8_t *)key,
							   strlen(key) },
				      (struct etcd_bytes){ val, len }, 0),
			 0);
	assert_int_equal(json_out_finish(&o, &n), 0);
	raw("/v3/kv/put", body);
	rev = strstr(fx.body, "\"revision\":\"");
	assert_non_null(rev);
	return strtoll(rev + 12, NULL, 10);
}

/* Whether any key starts with key (text). */
static bool any_under(const char *key)
{
	char body[512], end[128];
	struct json_out o;
	size_t n, kl = strlen(key);

	memcpy(end, key, kl);
	end[kl - 1]++;
	json_out_init(&o, body, sizeof(body));
	assert_int_equal(
		etcd_range_req(
			&o, (struct etcd_bytes){ (const uint8_t *)key, kl },
			(struct etcd_bytes){ (const uint8_t *)end, kl }, 0),
		0);
	assert_int_equal(json_out_finish(&o, &n), 0);
	raw("/v3/kv/range", body);
	return strstr(fx.body, "\"kvs\"") != NULL;
}

static struct store_etcd *store(void)
{
	struct store_etcd_config cfg = { fx.ef.endpoints, 1, PREFIX, 0, NULL };
	struct why why = { "" };
	struct store_etcd *se = store_etcd_new(fx.ef.loop, &cfg, &why);

	assert_non_null(se);
	store_etcd_fence(se, fx.term);
	return se;
}

/* A set of n node records and a meta, each a few bytes naming itself. */
static void make_set(struct record_set *s, size_t n, const char *tag)
{
	char name[RECORD_NAME_MAX], plain[64];

	record_set_clear(s);
	snprintf(plain, sizeof(plain), "meta %s", tag);
	assert_int_equal(
		record_set_add(s, "meta", (uint8_t *)plain, strlen(plain)), 0);
	for (size_t i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "node/%08zu", i);
		snprintf(plain, sizeof(plain), "node %zu %s", i, tag);
		assert_int_equal(record_set_add(s, name, (uint8_t *)plain,
						strlen(plain)),
				 0);
	}
}

static void assert_same(const struct record_set *a, const struct record_set *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->v[i].name, b->v[i].name);
		assert_int_equal(a->v[i].len, b->v[i].len);
		assert_memory_equal(a->v[i].plain, b->v[i].plain, a->v[i].len);
	}
}

static int commit(struct store_etcd *se, const struct record_set *s)
{
	fx.done = 0;
	assert_int_equal(store_etcd_commit(se, fx.key, s, on_done, NULL), 0);
	assert_true(store_etcd_busy(se));
	wait_done(1);
	for (int i = 0; i < 100 && store_etcd_busy(se); i++)
		loop_run_once(fx.ef.loop, 100); /* a journal's last steps */
	assert_false(store_etcd_busy(se));
	return fx.err;
}

static int load(const uint8_t *key, struct record_set *out)
{
	struct store_etcd *se = store();

	fx.done = 0;
	assert_int_equal(store_etcd_load(se, key, out, on_done, NULL), 0);
	wait_done(1);
	store_etcd_free(se);
	return fx.err;
}

/* Each case under its own prefix (the fixture's etcd is shared). */
static int setup_case(void **state)
{
	(void)state;
	raw("/v3/kv/deleterange", "{\"key\":\"L3Qv\",\"range_end\":\"L3Qw\"}");
	fx.term = put_text(PREFIX "leader", (const uint8_t *)"me", 2);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	if (sodium_init() < 0 || etcd_fixture_start(&fx.ef, 1))
		return -1;
	randombytes_buf(fx.key, sizeof(fx.key));
	randombytes_buf(fx.other, sizeof(fx.other));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return etcd_fixture_stop(&fx.ef);
}

/* Nothing under the prefix: -ENOENT, so a new cluster may be seeded. */
static void test_empty(void **state)
{
	struct record_set got = { 0 };

	(void)state;
	assert_int_equal(load(fx.key, &got), -ENOENT);
	assert_int_equal(got.n, 0);
	record_set_clear(&got);
}

/* A small round is one transaction; a load gives back what was written;
 * a second commit writes only what changed, and a deletion. */
static void test_commit_load(void **state)
{
	struct record_set s = { 0 }, got = { 0 };
	struct store_etcd_stats st;
	struct store_etcd *se = store();
	char plain[] = "node 3 changed";

	(void)state;
	make_set(&s, 5, "a");
	assert_int_equal(commit(se, &s), 0);
	store_etcd_stats(se, &st);
	assert_int_equal(st.txns, 1);
	assert_int_equal(st.journaled, 0);
	assert_int_equal(load(fx.key, &got), 0);
	assert_same(&s, &got);

	assert_int_equal(record_set_add(&s, "node/00000003", (uint8_t *)plain,
					strlen(plain)),
			 0);
	record_set_remove(&s, "node/00000005");
	assert_int_equal(commit(se, &s), 0);
	store_etcd_stats(se, &st);
	assert_int_equal(st.txns, 2);
	assert_int_equal(st.commits, 2);
	assert_int_equal(load(fx.key, &got), 0);
	assert_same(&s, &got);
	assert_false(any_under(PREFIX "node/00000005"));

	/* nothing changed: no transaction at all */
	assert_int_equal(commit(se, &s), 0);
	store_etcd_stats(se, &st);
	assert_int_equal(st.txns, 2);
	store_etcd_free(se);
	record_set_clear(&s);
	record_set_clear(&got);
}

/* Another term: etcd refuses the write, nothing changes. */
static void test_fenced(void **state)
{
	struct record_set s = { 0 }, t = { 0 }, got = { 0 };
	struct store_etcd *se = store();

	(void)state;
	make_set(&s, 3, "a");
	assert_int_equal(commit(se, &s), 0);
	/* the key is taken again: a new term */
	raw("/v3/kv/deleterange", "{\"key\":\"L3QvbGVhZGVy\"}");
	fx.term = put_text(PREFIX "leader", (const uint8_t *)"other", 5);
	make_set(&t, 3, "b");
	assert_int_equal(commit(se, &t), -ESTALE);
	assert_non_null(strstr(fx.why, "no longer holds the leader key"));
	assert_int_equal(load(fx.key, &got), 0);
	assert_same(&s, &got);
	store_etcd_free(se);
	record_set_clear(&s);
	record_set_clear(&t);
	record_set_clear(&got);
}

/* 250 changed records: through the journal, in pieces, none left. */
static void test_journal(void **state)
{
	struct record_set s = { 0 }, got = { 0 };
	struct store_etcd_stats st;
	struct store_etcd *se = store();

	(void)state;
	make_set(&s, 250, "a");
	assert_int_equal(commit(se, &s), 0);
	store_etcd_stats(se, &st);
	assert_int_equal(st.journaled, 1);
	/* clear, 3 pieces of journal, mark, 3 pieces applied, drop */
	assert_int_equal(st.txns, 9);
	assert_false(any_under(PREFIX "journal"));
	assert_int_equal(load(fx.key, &got), 0);
	assert_same(&s, &got);
	make_set(&s, 250, "b"); /* every record again */
	assert_int_equal(commit(se, &s), 0);
	assert_int_equal(load(fx.key, &got), 0);
	assert_same(&s, &got);
	store_etcd_free(se);
	record_set_clear(&s);
	record_set_clear(&got);
}

static void put_sealed(const char *etcd_name, const char *rec_name,
		       const char *plain)
{
	uint8_t *val = NULL;
	size_t len = 0;

	assert_int_equal(records_seal(fx.key, rec_name, (const uint8_t *)plain,
				      strlen(plain), &val, &len),
			 0);
	put_text(etcd_name, val, len);
	free(val);
}

/*
 * A leader that died after marking its journal: the journal is the
 * state. One that died before: the journal is dropped.
 */
static void test_crash_journal(void **state)
{
	struct record_set s = { 0 }, got = { 0 };
	struct store_etcd *se = store();
	char plain[] = "node 2 from the journal";

	(void)state;
	make_set(&s, 3, "a");
	assert_int_equal(commit(se, &s), 0);
	store_etcd_free(se);
	put_sealed(PREFIX "journal/node/00000002", "node/00000002", plain);
	put_text(PREFIX "journal/node/00000003", (const uint8_t *)"", 0);
	assert_int_equal(load(fx.key, &got), 0);
	assert_same(&s, &got); /* not marked: not the state */

	put_text(PREFIX "journal.commit", (const uint8_t *)"1", 1);
	assert_int_equal(record_set_add(&s, "node/00000002", (uint8_t *)plain,
					strlen(plain)),
			 0);
	record_set_remove(&s, "node/00000003");
	assert_int_equal(load(fx.key, &got), 0);
	assert_same(&s, &got);

	/* the next commit (after a load) writes it and drops the journal */
	se = store();
	fx.done = 0;
	assert_int_equal(store_etcd_load(se, fx.key, &got, on_done, NULL), 0);
	wait_done(1);
	assert_int_equal(commit(se, &got), 0);
	assert_false(any_under(PREFIX "journal"));
	store_etcd_free(se);
	assert_int_equal(load(fx.key, &got), 0);
	assert_same(&s, &got);
	record_set_clear(&s);
	record_set_clear(&got);
}

/* Records sealed under another key, or forged: the load says so. */
static void test_wrong_key(void **state)
{
	struct record_set s = { 0 }, got = { 0 };
	struct store_etcd *se = store();

	(void)state;
	make_set(&s, 2, "a");
	assert_int_equal(commit(se, &s), 0);
	store_etcd_free(se);
	assert_int_equal(load(fx.other, &got), -EKEYREJECTED);
	/* a record's value moved to another record's key */
	put_sealed(PREFIX "node/00000001", "node/00000002", "moved");
	assert_int_equal(load(fx.key, &got), -EBADMSG);
	assert_non_null(strstr(fx.why, "node/00000001"));
	record_set_clear(&s);
	record_set_clear(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_empty, setup_case),
		cmocka_unit_test_setup(test_commit_load, setup_case),
		cmocka_unit_test_setup(test_fenced, setup_case),
		cmocka_unit_test_setup(test_journal, setup_case),
		cmocka_unit_test_setup(test_crash_journal, setup_case),
		cmocka_unit_test_setup(test_wrong_key, setup_case),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
