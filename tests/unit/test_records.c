// SPDX-License-Identifier: MIT
/* Unit tests: the leader's state as sealed records and back, what is refused, and the diff. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "keymgr/records.h"
#include "state_util.h"

static const char cert[] = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU"
			   "\n-----END CERTIFICATE-----\n";
static const enum gen_phase three[] = { GEN_RETIRING, GEN_COMMITTED,
					GEN_PREPARED };

/* ---- frees seen: which plaintexts were handed back, and wiped ---- */

void __real_sodium_free(void *p);
void __wrap_sodium_free(void *p);
void __real_free(void *p);
void __wrap_free(void *p);

static const void *watched[64];
static size_t watched_len[64];
static size_t n_watched, n_sodium_freed, n_wiped_freed;

/* Plaintexts of s from i on are watched. */
static void watch(const struct record_set *s, size_t i)
{
	n_watched = n_sodium_freed = n_wiped_freed = 0;
	for (; i < s->n; i++) {
		watched_len[n_watched] = s->v[i].len;
		watched[n_watched++] = s->v[i].plain;
	}
}

static ssize_t watched_at(const void *p)
{
	for (size_t i = 0; p && i < n_watched; i++)
		if (watched[i] == p)
			return (ssize_t)i;
	return -1;
}

/* sodium_free wipes. */
void __wrap_sodium_free(void *p)
{
	ssize_t i = watched_at(p);

	if (i >= 0) {
		watched[i] = NULL;
		n_sodium_freed++;
	}
	__real_sodium_free(p);
}

/* A plaintext freed from the heap: counted if wiped first, NUL included. */
void __wrap_free(void *p)
{
	ssize_t i = watched_at(p);

	if (i >= 0) {
		watched[i] = NULL;
		if (sodium_is_zero(p, watched_len[i] + 1))
			n_wiped_freed++;
	}
	__real_free(p);
}

/* ---- a state, and a state read back ---- */

struct sample {
	struct registry *reg;
	struct rotation rot;
	struct state_extra x;
};

/* Six nodes (keys, pending keys, one connected, one removed), 3 gens. */
static void sample_init(struct sample *s)
{
	s->reg = registry_sample();
	rot_sample(&s->rot, ROT_PREPARE, 3, three);
	memset(&s->x, 0, sizeof(s->x));
	extra_sample(&s->x);
}

static void sample_free(struct sample *s)
{
	registry_free(s->reg);
	rot_cleanup(&s->rot);
	state_extra_wipe(&s->x);
}

static void sample_encode(struct sample *s, struct record_set *out)
{
	assert_int_equal(records_encode(s->reg, &s->rot, revision, &s->x, cert,
					strlen(cert), true, out),
			 0);
}

struct loaded {
	struct registry *reg;
	struct rotation rot;
	uint64_t revision;
	struct state_extra x;
	char *cert;
	size_t cert_len;
	bool autolock;
	struct why why;
};

static int decode(const struct record_set *in, struct loaded *l)
{
	memset(l, 0, sizeof(*l));
	l->reg = registry_new();
	assert_non_null(l->reg);
	rot_init(&l->rot, &cfg, rnd, NULL);
	return records_decode(in, l->reg, &l->rot, &l->revision, &l->x,
			      &l->cert, &l->cert_len, &l->autolock, &l->why);
}

static void loaded_free(struct loaded *l)
{
	registry_free(l->reg);
	rot_cleanup(&l->rot);
	state_extra_wipe(&l->x);
	free(l->cert);
}

/* A refusal with err whose why holds text, and nothing kept. */
static void assert_refused(const struct record_set *in, int err,
			   const char *text)
{
	static const struct state_extra zero;
	struct loaded l;

	assert_int_equal(decode(in, &l), err);
	if (!strstr(l.why.msg, text))
		fail_msg("why \"%s\" lacks \"%s\"", l.why.msg, text);
	assert_int_equal(l.rot.n_gens, 0);
	assert_true(sodium_is_zero((const uint8_t *)l.rot.gens,
				   sizeof(l.rot.gens)));
	assert_int_equal(l.revision, 0);
	assert_memory_equal(&l.x, &zero, sizeof(zero));
	assert_null(l.cert);
	assert_false(l.autolock);
	loaded_free(&l);
}

/* src without the record drop (NULL: all of it) into dst (cleared). */
static void copy_set(struct record_set *dst, const struct record_set *src,
		     const char *drop)
{
	record_set_clear(dst);
	for (size_t i = src->n; i-- > 0;) /* backwards: add sorts */
		if (!drop || strcmp(src->v[i].name, drop) != 0)
			assert_int_equal(record_set_add(dst, src->v[i].name,
							src->v[i].plain,
							src->v[i].len),
					 0);
}

static const struct record *find(const struct record_set *s, const char *name)
{
	const struct record *r = record_set_find(s, name);

	assert_non_null(r);
	return r;
}

/* ---- tests ---- */

/* Each record sealed, then opened into back as the store would. */
static void seal_open_all(const struct record_set *set,
			  const uint8_t key[STATE_KEY_LEN],
			  struct record_set *back)
{
	uint8_t *val;
	size_t len;

	for (size_t i = set->n; i-- > 0;) {
		const struct record *r = &set->v[i];

		assert_true(r->len < 1024); /* none grows with the members */
		assert_int_equal(records_seal(key, r->name, r->plain, r->len,
					      &val, &len),
				 0);
		assert_int_equal(len, r->len + RECORD_SEAL_OVERHEAD);
		if (r->len >= 8) /* no plaintext shows through */
			assert_null(memmem(val, len, r->plain, 8));
		assert_int_equal(
			records_open_add(key, r->name, val, len, back, NULL),
			0);
		free(val);
	}
	assert_int_equal(back->n, set->n);
	for (size_t i = 0; i < set->n; i++) {
		assert_int_equal(back->v[i].len, set->v[i].len);
		assert_memory_equal(back->v[i].sum, set->v[i].sum,
				    RECORD_SUM_LEN);
		assert_int_equal(back->v[i].secret, set->v[i].secret);
	}
}

/* Encoded, sealed, opened (in reverse order), decoded: the same state. */
static void test_roundtrip(void **state)
{
	static const char *names[] = {
		"ca",
		"gen/0000000007",
		"gen/0000000009",
		"gen/0000000011",
		"meta",
		"node/00000001",
		"node/00000002",
		"node/00000003",
		"node/00000004",
		"node/00000005",
		"node/00000006",
		"token",
	};
	struct record_set set = { 0 }, back = { 0 };
	uint8_t key[STATE_KEY_LEN];
	struct sample s;
	struct loaded l;

	(void)state;
	randombytes_buf(key, sizeof(key));
	sample_init(&s);
	sample_encode(&s, &set);
	assert_int_equal(set.n, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < set.n; i++)
		assert_string_equal(set.v[i].name, names[i]);
	seal_open_all(&set, key, &back);
	assert_int_equal(decode(&back, &l), 0);
	assert_int_equal(l.revision, revision);
	assert_registry_same(s.reg, l.reg);
	assert_rot_same(&s.rot, &l.rot);
	assert_memory_equal(l.x.token_secret, s.x.token_secret, 32);
	assert_string_equal(l.x.ca_key_pem, pem);
	assert_int_equal(l.x.ca_key_pem_len, strlen(pem));
	assert_string_equal(l.cert, cert);
	assert_int_equal(l.cert_len, strlen(cert));
	assert_true(l.autolock);
	loaded_free(&l);
	record_set_clear(&back);
	record_set_clear(&set);
	sample_free(&s);
}

/* No CA yet, idle without generations, default mode: the same, empty. */
static void test_roundtrip_empty(void **state)
{
	struct registry *reg = registry_new();
	struct state_extra x = { 0 };
	struct record_set set = { 0 };
	struct rotation rot;
	struct loaded l;

	(void)state;
	rot_init(&rot, &cfg, rnd, NULL);
	assert_int_equal(records_encode(reg, &rot, 0, &x, NULL, 0, false, &set),
			 0);
	assert_int_equal(set.n, 3); /* ca, meta, token */
	assert_int_equal(decode(&set, &l), 0);
	assert_string_equal(l.cert, "");
	assert_null(l.x.ca_key_pem);
	assert_false(l.autolock);
	assert_null(registry_at(l.reg, 0));
	loaded_free(&l);
	/* what decode would refuse is not encoded: two committed gens */
	rot.n_gens = 2;
	rot.gens[0] = (struct rot_gen){ .g = 1, .phase = GEN_COMMITTED };
	rot.gens[1] = (struct rot_gen){ .g = 2, .phase = GEN_COMMITTED };
	assert_int_equal(records_encode(reg, &rot, 0, &x, NULL, 0, false, &set),
			 -EINVAL);
	assert_int_equal(set.n, 0);
	rot_cleanup(&rot);
	registry_free(reg);
}

/* A sealed value opens only as its own record, under its own key. */
static void test_seal(void **state)
{
	static const uint8_t plain[] = "node record bytes";
	uint8_t key[STATE_KEY_LEN], other[STATE_KEY_LEN], *v1, *v2, *out;
	size_t l1, l2, n;
	struct why why = { "" };
	struct record_set set = { 0 };

	(void)state;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(other, sizeof(other));
	assert_int_equal(records_seal(key, "node/00000001", plain,
				      sizeof(plain), &v1, &l1),
			 0);
	assert_int_equal(records_seal(key, "node/00000001", plain,
				      sizeof(plain), &v2, &l2),
			 0);
	assert_int_equal(l1, l2);
	assert_memory_not_equal(v1, v2, l1); /* a fresh nonce each time */
	assert_int_equal(
		records_open(key, "node/00000002", v1, l1, &out, &n, &why),
		-EBADMSG);
	assert_non_null(strstr(why.msg, "another record"));
	assert_null(out);
	assert_int_equal(
		records_open(other, "node/00000001", v1, l1, &out, &n, &why),
		-EKEYREJECTED);
	assert_string_equal(why.msg, "sealed under another state key");
	assert_int_equal(records_open(key, "node/00000001", v1,
				      RECORD_SEAL_OVERHEAD - 1, &out, &n, &why),
			 -EBADMSG);
	v1[l1 - 1] ^= 1; /* the tag */
	assert_int_equal(
		records_open(key, "node/00000001", v1, l1, &out, &n, &why),
		-EBADMSG);
	v1[l1 - 1] ^= 1;
	v1[0] ^= 1; /* the key id is authenticated too */
	assert_int_equal(
		records_open(key, "node/00000001", v1, l1, &out, &n, &why),
		-EKEYREJECTED);
	v1[0] ^= 1;
	assert_int_equal(
		records_open(key, "node/00000001", v1, l1, &out, &n, &why), 0);
	assert_int_equal(n, sizeof(plain));
	assert_memory_equal(out, plain, n);
	sodium_free(out);
	assert_int_equal(
		records_open_add(key, "node/00000002", v1, l1, &set, &why),
		-EBADMSG);
	assert_int_equal(
		records_open_add(other, "node/00000001", v1, l1, &set, &why),
		-EKEYREJECTED);
	assert_int_equal(set.n, 0);
	assert_int_equal(
		records_open_add(key, "node/00000001", v1, l1, &set, &why), 0);
	assert_memory_equal(set.v[0].plain, plain, sizeof(plain));
	record_set_clear(&set);
	assert_int_equal(records_seal(key, "", plain, 1, &out, &n), -EINVAL);
	free(v1);
	free(v2);
}

/* Every record that must be there, and nothing else. */
static void test_incomplete(void **state)
{
	static const char *needed[][2] = {
		{ "meta", "record meta missing" },
		{ "ca", "record ca missing" },
		{ "token", "record token missing" },
		{ "gen/0000000009", "record gen/0000000009 missing" },
		{ "node/00000004", "meta counts 6 nodes, 5 node records" },
	};
	struct record_set set = { 0 }, bad = { 0 };
	const struct record *r;
	struct sample s;

	(void)state;
	sample_init(&s);
	sample_encode(&s, &set);
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		copy_set(&bad, &set, needed[i][0]);
		assert_refused(&bad, -EBADMSG, needed[i][1]);
		record_set_clear(&bad);
	}
	copy_set(&bad, &set, NULL);
	assert_int_equal(
		record_set_add(&bad, "leader", (const uint8_t *)"x", 1), 0);
	assert_refused(&bad, -EBADMSG, "record leader: unknown name");
	record_set_clear(&bad);
	copy_set(&bad, &set, NULL);
	r = find(&set, "gen/0000000011");
	assert_int_equal(
		record_set_add(&bad, "gen/0000000013", r->plain, r->len), 0);
	assert_refused(&bad, -EBADMSG, "gen/0000000013: a generation meta");
	record_set_clear(&bad);
	record_set_clear(&set);
	sample_free(&s);
}

/* Bad contents: each refused with the record's name. */
static void test_bad_contents(void **state)
{
	struct record_set set = { 0 }, bad = { 0 };
	const struct record *r;
	struct sample s;
	uint8_t buf[1024] = { 0 };

	(void)state;
	sample_init(&s);
	sample_encode(&s, &set);
	/* another format */
	r = find(&set, "meta");
	memcpy(buf, r->plain, r->len);
	buf[1] = RECORDS_FORMAT + 1;
	copy_set(&bad, &set, NULL);
	assert_int_equal(record_set_add(&bad, "meta", buf, r->len), 0);
	assert_refused(&bad, -EPROTONOSUPPORT, "record meta: format 2");
	/* unknown flags, a trailing byte */
	buf[1] = RECORDS_FORMAT;
	buf[2] = 0x80;
	assert_int_equal(record_set_add(&bad, "meta", buf, r->len), 0);
	assert_refused(&bad, -EBADMSG, "record meta: unknown flags");
	buf[2] = 0;
	assert_int_equal(record_set_add(&bad, "meta", buf, r->len + 1), 0);
	assert_refused(&bad, -EBADMSG, "record meta: 1 bytes of trailing");
	record_set_clear(&bad);
	/* node 1's record under node 3's name */
	copy_set(&bad, &set, NULL);
	r = find(&set, "node/00000001");
	assert_int_equal(
		record_set_add(&bad, "node/00000003", r->plain, r->len), 0);
	assert_refused(&bad, -EBADMSG, "record node/00000003: holds index 1");
	record_set_clear(&bad);
	/* a short token, a truncated gen */
	copy_set(&bad, &set, NULL);
	assert_int_equal(record_set_add(&bad, "token", buf, 31), 0);
	assert_refused(&bad, -EBADMSG, "record token: 31 bytes, want 32");
	record_set_clear(&bad);
	copy_set(&bad, &set, NULL);
	r = find(&set, "gen/0000000007");
	assert_int_equal(record_set_add(&bad, r->name, r->plain, r->len - 1),
			 0);
	assert_refused(&bad, -EBADMSG, "record gen/0000000007: truncated");
	record_set_clear(&bad);
	record_set_clear(&set);
	sample_free(&s);
}

struct seen {
	char names[16][RECORD_NAME_MAX];
	bool deleted[16];
	size_t n;
	size_t stop_at; /* 0: never */
};

static int seen_cb(void *arg, const char *name, const struct record *rec)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	snprintf(s->names[s->n], RECORD_NAME_MAX, "%s", name);
	s->deleted[s->n] = !rec;
	if (rec)
		assert_string_equal(rec->name, name);
	return ++s->n == s->stop_at ? -EINTR : 0;
}

static void diff(const struct record_sums *old, const struct record_set *now,
		 struct seen *seen, int want)
{
	memset(seen, 0, sizeof(*seen));
	assert_int_equal(records_diff(old, now, seen_cb, seen), want);
}

/* Only what changed since the last write, deletes included. */
static void test_diff(void **state)
{
	struct record_set set = { 0 }, now = { 0 };
	struct record_sums sums = { 0 };
	struct seen seen;
	struct sample s;
	uint8_t pub[REGISTRY_PUB_LEN] = { 0x99 };

	(void)state;
	sample_init(&s);
	sample_encode(&s, &set);
	diff(&sums, &set, &seen, 0); /* nothing written yet: all of it */
	assert_int_equal(seen.n, set.n);
	assert_int_equal(record_sums_take(&sums, &set), 0);
	sample_encode(&s, &now); /* unchanged */
	diff(&sums, &now, &seen, 0);
	assert_int_equal(seen.n, 0);
	/* a connect changes no record */
	assert_int_equal(registry_disconnect(s.reg, "node-2.rack_A"), 0);
	sample_encode(&s, &now);
	diff(&sums, &now, &seen, 0);
	assert_int_equal(seen.n, 0);
	/* one node's pending key */
	assert_int_equal(
		registry_key_pend(registry_find(s.reg, "node-3.rack_A"), pub),
		1);
	sample_encode(&s, &now);
	diff(&sums, &now, &seen, 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.names[0], "node/00000003");
	assert_false(seen.deleted[0]);
	assert_int_equal(record_sums_take(&sums, &now), 0);
	/* a node gone, and a callback that stops the walk */
	copy_set(&now, &set, "node/00000005");
	diff(&sums, &now, &seen, 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.names[0], "node/00000003"); /* back */
	assert_string_equal(seen.names[1], "node/00000005");
	assert_true(seen.deleted[1]);
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 1;
	assert_int_equal(records_diff(&sums, &now, seen_cb, &seen), -EINTR);
	assert_int_equal(seen.n, 1);
	record_sums_clear(&sums);
	record_set_clear(&now);
	record_set_clear(&set);
	sample_free(&s);
}

/* Sorted, replaced by name, summed over name and plaintext, freed wiped. */
static void test_set(void **state)
{
	static const uint8_t a[] = "alpha", b[] = "beta";
	static const char *sorted[] = { "ca", "gen/0000000001", "meta",
					"node/00000001", "token" };
	uint8_t sum[RECORD_SUM_LEN];
	crypto_generichash_state st;
	struct record_set s = { 0 };
	char longname[RECORD_NAME_MAX + 1];

	(void)state;
	assert_int_equal(record_set_add(&s, "token", a, sizeof(a)), 0);
	assert_int_equal(record_set_add(&s, "node/00000001", b, sizeof(b)), 0);
	assert_int_equal(record_set_add(&s, "ca", b, sizeof(b)), 0);
	assert_int_equal(record_set_add(&s, "meta", a, sizeof(a)), 0);
	assert_int_equal(record_set_add(&s, "gen/0000000001", a, sizeof(a)), 0);
	for (size_t i = 0; i < s.n; i++) {
		assert_string_equal(s.v[i].name, sorted[i]);
		assert_int_equal(s.v[i].secret, i != 2 && i != 3);
		assert_int_equal(s.v[i].plain[s.v[i].len], 0);
	}
	/* same plaintext, another name: another sum */
	assert_memory_not_equal(s.v[2].sum, s.v[4].sum, RECORD_SUM_LEN);
	crypto_generichash_init(&st, NULL, 0, RECORD_SUM_LEN);
	crypto_generichash_update(&st, (const uint8_t *)"meta", 5);
	crypto_generichash_update(&st, a, sizeof(a));
	crypto_generichash_final(&st, sum, RECORD_SUM_LEN);
	assert_memory_equal(s.v[2].sum, sum, RECORD_SUM_LEN);
	/* replaced: the old plaintexts handed back wiped */
	watch(&s, 2);
	assert_int_equal(record_set_add(&s, "meta", b, sizeof(b)), 0);
	assert_int_equal(record_set_add(&s, "token", b, sizeof(b)), 0);
	assert_int_equal(n_wiped_freed, 1);
	assert_int_equal(n_sodium_freed, 1);
	assert_int_equal(s.n, 5);
	assert_memory_equal(record_set_find(&s, "meta")->plain, b, sizeof(b));
	assert_null(record_set_find(&s, "gen"));
	memset(longname, 'x', RECORD_NAME_MAX);
	longname[RECORD_NAME_MAX] = '\0';
	assert_int_equal(record_set_add(&s, longname, a, 1), -EINVAL);
	longname[RECORD_NAME_MAX - 1] = '\0';
	assert_int_equal(record_set_add(&s, longname, a, 1), 0);
	assert_true(record_set_find(&s, longname)->secret); /* unknown */
	assert_int_equal(record_set_add(&s, "", a, 1), -EINVAL);
	/* cleared: every plaintext handed back wiped */
	watch(&s, 0);
	record_set_clear(&s);
	assert_int_equal(n_sodium_freed, 4); /* ca, gen, token, xxx... */
	assert_int_equal(n_wiped_freed, 2);  /* meta, node */
	assert_int_equal(s.n, 0);
	assert_null(s.v);
	n_watched = 0;
}

static void test_names(void **state)
{
	(void)state;
	assert_true(record_name_known("meta"));
	assert_true(record_name_known("ca"));
	assert_true(record_name_known("token"));
	assert_true(record_name_known("gen/4294967295"));
	assert_true(record_name_known("node/16777215"));
	assert_false(record_name_known("node/16777216"));
	assert_false(record_name_known("node/00000000"));
	assert_false(record_name_known("node/0000017"));
	assert_false(record_name_known("gen/4294967296"));
	assert_false(record_name_known("gen/000000001x"));
	assert_false(record_name_known("leader"));
	assert_false(record_name_known("meta/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_empty),
		cmocka_unit_test(test_seal),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_bad_contents),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_names),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
