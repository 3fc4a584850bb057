// SPDX-License-Identifier: MIT
/* Unit tests: the parsers without a disk: state body codec, unlock key text, registry_restore(). */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "keymgr/state.h"

static const struct rot_config cfg = { 1000, 100, 10 };

static void rnd(uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static void test_registry_restore(void **state)
{
	struct registry *r = registry_new();
	uint8_t boot[16] = { 0 };
	struct node n = { .index = 3, .incarnation = 9, .n_keys = 1 }, *j;

	(void)state;
	strcpy(n.id, "a");
	n.n_keys = 0; /* a member without a static key */
	assert_int_equal(registry_restore(r, &n), -EINVAL);
	n.n_keys = REGISTRY_KEYS_MAX + 1;
	assert_int_equal(registry_restore(r, &n), -EINVAL);
	n.n_keys = 2; /* first generations not increasing: both 0 */
	assert_int_equal(registry_restore(r, &n), -EINVAL);
	n.keys[1].from = 5;
	assert_int_equal(registry_restore(r, &n), 0);
	assert_int_equal(registry_find(r, "a")->n_keys, 2);
	registry_free(r);
	r = registry_new();
	n.n_keys = 1;
	assert_int_equal(registry_restore(r, &n), 0);
	strcpy(n.id, "b");
	n.index = 7;
	n.state = NODE_REMOVED;
	assert_int_equal(registry_restore(r, &n), 0);
	n.index = 1;
	assert_int_equal(registry_restore(r, &n), -EEXIST); /* id */
	strcpy(n.id, "c");
	n.state = NODE_DISCONNECTED;
	n.index = 3;
	assert_int_equal(registry_restore(r, &n), -EEXIST); /* index */
	n.index = 0;
	assert_int_equal(registry_restore(r, &n), -EINVAL);
	n.index = 0x1000000;
	assert_int_equal(registry_restore(r, &n), -EINVAL);
	n.index = 2;
	n.n_addrs = 1;
	n.addrs[0].len = 5;
	assert_int_equal(registry_restore(r, &n), -EINVAL);
	n.n_addrs = 0;
	n.nat = true; /* behind NAT: a public address of 4 or 16 bytes */
	assert_int_equal(registry_restore(r, &n), -EINVAL);
	n.public_addr.len = 4;
	n.nat = false; /* none when not behind NAT */
	assert_int_equal(registry_restore(r, &n), -EINVAL);
	n.nat = true;
	assert_int_equal(registry_restore(r, &n), 0);
	assert_true(registry_find(r, "c")->nat);
	assert_int_equal(registry_count(r), 2);
	assert_int_equal(registry_find(r, "a")->incarnation, 9);
	assert_int_equal(registry_join(r, "b", boot, NULL), -EPERM);
	assert_int_equal(registry_join(r, "d", boot, &j), 0);
	assert_int_equal(j->index, 8); /* above every restored index */
	registry_free(r);
}

/* ---- the body codec ---- */

struct craft {
	uint8_t b[1024];
	size_t n;
};

static void put(struct craft *c, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		c->b[c->n++] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void put_raw(struct craft *c, const void *p, size_t n)
{
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

static void put_str(struct craft *c, const char *s)
{
	put(c, strlen(s), 1);
	put_raw(c, s, strlen(s));
}

/* Node i's keys: n1 (0, k1); n2 (0, k1), (4, k2) and a pending k3. */
static void craft_keys(struct craft *c, int i, int bad)
{
	uint8_t k[32];
	size_t n = i == 1 ? (bad == 19 ? 5 : bad == 20 ? 0 : 1) : 2;

	put(c, n, 1);
	for (size_t j = 0; j < n; j++) {
		memset(k, 0x10 * i + (int)j, sizeof(k));
		put(c, j == 0 ? 0 : bad == 21 ? 0 : 3 + j, 4);
		put_raw(c, k, sizeof(k));
	}
	/* flags: n1 none (23, 24: behind NAT), n2 a pending key */
	if (i == 1)
		put(c, bad == 23 || bad == 24 ? 2 : 0, 1);
	else
		put(c, bad == 22 ? 4 : 1, 1);
	if (i == 2 && bad != 22) {
		memset(k, 0x33, sizeof(k));
		put_raw(c, k, sizeof(k));
	}
	if (i == 1 && (bad == 23 || bad == 24)) {
		put(c, bad == 23 ? 5 : 4, 1);
		put_raw(c, "\xc6\x33\x64\x07\x00", bad == 23 ? 5 : 4);
	}
}

/* A body: rotation (idle, gens g1/g2 of phases p1/p2), no secrets, nodes. */
static void craft_body(struct craft *c, int bad)
{
	uint8_t zero[32] = { 0 };

	c->n = 0;
	put(c, 5, 8);
	put(c, bad == 1 ? 9 : ROT_IDLE, 1);
	put(c, 0, 4);
	put(c, bad == 2 ? 6 : 4, 8);
	put(c, 0, 8);
	put(c, bad == 3 ? 2 : 1, 1);
	put(c, bad == 4 ? 4 : 2, 1);
	put(c, 3, 4);
	put(c, bad == 5 ? GEN_COMMITTED : GEN_RETIRING, 1);
	put_raw(c, zero, 32);
	put(c, bad == 6 ? 3 : 4, 4);
	put(c, GEN_COMMITTED, 1);
	put_raw(c, zero, 32);
	put_raw(c, zero, 32);
	put(c, bad == 7 ? 2 : 1, 4);
	put_raw(c, bad == 7 ? "A\0" : "A", bad == 7 ? 2 : 1);
	put(c, 2, 4);
	for (int i = 1; i <= 2; i++) {
		const char *id = i == 1 ? "n1" : bad == 8 ? "n/2" : "n2";
		uint32_t index = i == 1 ? 1 : bad == 10 ? 0 : 2;

		if (i == 2 && bad == 17) {
			put(c, 2, 1);
			put_raw(c, "n\0", 2); /* "n" as far as C can tell */
		} else {
			put_str(c, i == 2 && bad == 9 ? "n1" : id);
		}
		put(c, i == 2 && bad == 11 ? 1 : index, 4);
		put(c, 1, 8);
		put_raw(c, zero, 16);
		put(c, bad == 12 ? 3 : NODE_DISCONNECTED, 1);
		put(c, bad == 13 ? 9 : 1, 1);
		put(c, bad == 14 ? 5 : 4, 1);
		put_raw(c, zero, bad == 14 ? 5 : 4);
		if (bad == 18) {
			put(c, 3, 1);
			put_raw(c, "0a\0", 3);
		} else {
			put_str(c, bad == 15 ? "xyz" : "0a");
		}
		craft_keys(c, i, bad);
	}
	if (bad == 16)
		put(c, 0, 1);
}

/* Every shorter body is refused, never read past (ASan watches). */
static void prefixes_refused(const struct craft *c)
{
	struct state_extra x = { 0 };
	struct rotation rot;
	struct why why = { "" };
	uint64_t rev;

	rot_init(&rot, &cfg, rnd, NULL);
	for (size_t n = 0; n < c->n; n++) {
		struct registry *r = registry_new();
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, c->b, n);
		assert_int_equal(
			state_body_decode(copy, n, r, &rot, &rev, &x, &why),
			-EBADMSG);
		assert_non_null(strstr(why.msg, "truncated"));
		free(copy);
		registry_free(r);
	}
}

static void test_body_decode(void **state)
{
	static const char *want[] = {
		NULL,
		"bad rotation phase 9",
		"awaited revision 6 is past revision 5",
		"bad rotation request flag 2",
		"4 generations, at most 3",
		"2 committed generations",
		"generation numbers not increasing (3 at position 2)",
		"CA key holds a NUL byte",
		"node record 2: bad id",
		"node record 2: id n1 or index 2 already taken",
		"node record 2: bad index 0",
		"node record 2: id n2 or index 1 already taken",
		"node record 1: bad state 3",
		"node record 1: 9 addresses, at most 8",
		"node record 1: address 1 of length 5 (want 4 or 16)",
		"node record 1: bad certificate serial",
		"1 bytes of trailing data after byte",
		"node record 2: id holds a NUL byte",
		"node record 1: certificate serial holds a NUL byte",
		"node record 1: 5 static keys, at most 4",
		"node record 1: 0 static keys, want 1..4",
		"node record 2: static key 2 from generation 0, not after 0",
		"node record 2: bad flags 0x4",
		"node record 1: public address of length 5 (want 4 or 16)",
		NULL, /* n1 behind NAT */
	};
	struct craft c;
	struct why why = { "" };

	(void)state;
	for (int bad = 0; bad < (int)(sizeof(want) / sizeof(want[0])); bad++) {
		struct registry *reg = registry_new();
		struct state_extra x = { 0 };
		struct rotation rot;
		uint64_t rev;
		int err;

		rot_init(&rot, &cfg, rnd, NULL);
		craft_body(&c, bad);
		strcpy(why.msg, "-");
		err = state_body_decode(c.b, c.n, reg, &rot, &rev, &x, &why);
		if (!want[bad]) {
			assert_int_equal(err, 0);
			assert_int_equal(rev, 5); /* the cluster's revision */
			assert_int_equal(registry_count(reg), 2);
			assert_string_equal(x.ca_key_pem, "A");
			assert_int_equal(registry_at(reg, 1)->n_keys, 2);
			assert_int_equal(registry_at(reg, 1)->keys[1].from, 4);
			assert_true(registry_at(reg, 1)->has_pending);
			assert_int_equal(registry_at(reg, 1)->pending[0], 0x33);
			/* data without the NAT flag: not NAT'd */
			assert_false(registry_at(reg, 1)->nat);
			assert_int_equal(registry_at(reg, 0)->nat, bad == 24);
			if (bad == 24) {
				assert_int_equal(
					registry_at(reg, 0)->public_addr.len,
					4);
				assert_memory_equal(
					registry_at(reg, 0)->public_addr.ip,
					"\xc6\x33\x64\x07", 4);
			}
			state_extra_wipe(&x);
			prefixes_refused(&c);
		} else {
			assert_int_equal(err, -EBADMSG);
			if (!strstr(why.msg, want[bad]))
				fail_msg("case %d: \"%s\" lacks \"%s\"", bad,
					 why, want[bad]);
			assert_int_equal(rot.n_gens, 0);
			assert_null(x.ca_key_pem);
		}
		state_extra_wipe(&x);
		rot_cleanup(&rot);
		registry_free(reg);
	}
}

static void test_unlock_text(void **state)
{
	static const struct {
		const char *prefix;
		size_t n, pos;
		char c;
		const char *why; /* in the reason */
	} bad[] = {
		{ "", 0, 0, 0, "empty" },
		{ "VXSEC-UNLOCK-", 0, 0, 0, "52 base32 characters, not 0" },
		{ "VXSEC-UNLOCK-", 51, 0, 0, "52 base32 characters, not 51" },
		{ "VXSEC-UNLOCK-", 53, 0, 0, "52 base32 characters, not 53" },
		{ "VXSEC-UNLOCK-", 52, 51, '1', "character 52 after" },
		{ "VXSEC-UNLOCK-", 52, 0, '=', "character 1 after" },
		{ "VXSEC-UNLOCK-", 52, 51, 'B', "last character cannot end" },
		{ "VXSEC-UNLOCK-", 52, 20, ' ', "character 21 after" },
		{ "VXSEC-LOCK-", 54, 0, 0,
		  "does not begin with VXSEC-UNLOCK-" },
		{ "VXSEC-1-", 57, 0, 0, "(this is a join token)" },
		{ "VXSEC-UNLOC", 0, 0, 0, "does not begin" },
	};
	char text[STATE_UNLOCK_TEXT_LEN + 8], low[sizeof(text) + 8];
	uint8_t key[32], back[32], zero[32] = { 0 };
	struct why why;
	size_t plen;

	(void)state;
	randombytes_buf(key, 32);
	assert_int_equal(state_unlock_format(key, text, STATE_UNLOCK_TEXT_LEN),
			 -ENOSPC);
	assert_int_equal(state_unlock_format(key, text, sizeof(text)), 0);
	assert_int_equal(strlen(text), STATE_UNLOCK_TEXT_LEN);
	assert_int_equal(strncmp(text, "VXSEC-UNLOCK-", 13), 0);
	assert_int_equal(state_unlock_parse(text, back, NULL), 0);
	assert_memory_equal(key, back, 32);
	snprintf(low, sizeof(low), " \t%s\n", text);
	for (char *p = low; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	assert_int_equal(state_unlock_parse(low, back, NULL), 0);
	assert_memory_equal(key, back, 32);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		plen = strlen(bad[i].prefix);
		memcpy(text, bad[i].prefix, plen);
		memset(text + plen, 'A', bad[i].n);
		text[plen + bad[i].n] = '\0';
		if (bad[i].c)
			text[plen + bad[i].pos] = bad[i].c;
		memset(back, 0xaa, 32);
		why.msg[0] = '\0';
		assert_int_equal(state_unlock_parse(text, back, &why), -EINVAL);
		assert_memory_equal(back, zero, 32);
		if (!strstr(why.msg, bad[i].why))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, why.msg,
				 bad[i].why);
		/* the reason never quotes the key's characters */
		assert_null(strstr(why.msg, "AAAA"));
		assert_int_equal(state_unlock_parse(text, back, NULL), -EINVAL);
	}
	assert_int_equal(state_unlock_format(zero, text, sizeof(text)), 0);
	assert_int_equal(state_unlock_parse(text, back, NULL), 0);
	assert_memory_equal(back, zero, 32);
}

/* What a valid body decodes to encodes back to the same bytes. */
static void test_body_encode(void **state)
{
	struct registry *reg = registry_new();
	struct state_extra x = { 0 };
	struct rotation rot;
	struct craft c;
	uint8_t *body;
	size_t len;
	uint64_t rev;
	struct why why = { "" };

	(void)state;
	rot_init(&rot, &cfg, rnd, NULL);
	craft_body(&c, 0);
	assert_int_equal(state_body_decode(c.b, c.n, reg, &rot, &rev, &x, &why),
			 0);
	assert_int_equal(state_body_encode(reg, &rot, rev, &x, &body, &len), 0);
	assert_int_equal(len, c.n);
	assert_memory_equal(body, c.b, len);
	sodium_free(body);
	/* what load would refuse is never encoded */
	rot.gens[0].phase = GEN_COMMITTED;
	assert_int_equal(state_body_encode(reg, &rot, rev, &x, &body, &len),
			 -EINVAL);
	rot.gens[0].phase = GEN_RETIRING;
	registry_at(reg, 1)->addrs[0].len = 5;
	assert_int_equal(state_body_encode(reg, &rot, rev, &x, &body, &len),
			 -EINVAL);
	registry_at(reg, 1)->addrs[0].len = 4;
	registry_at(reg, 1)->keys[1].from = 0;
	assert_int_equal(state_body_encode(reg, &rot, rev, &x, &body, &len),
			 -EINVAL);
	registry_at(reg, 1)->keys[1].from = 4;
	strcpy(registry_at(reg, 1)->id, "bad/id");
	assert_int_equal(state_body_encode(reg, &rot, rev, &x, &body, &len),
			 -EINVAL);
	state_extra_wipe(&x);
	rot_cleanup(&rot);
	registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_restore),
		cmocka_unit_test(test_body_decode),
		cmocka_unit_test(test_body_encode),
		cmocka_unit_test(test_unlock_text),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
