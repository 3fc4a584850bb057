// SPDX-License-Identifier: MIT
/* Unit tests: the leader's state on disk (round trips, tampering, format versions, wrong keys, autolock, first start). */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "state_util.h"

static void test_round_trip(void **state)
{
	static const struct {
		enum rot_phase phase;
		size_t n;
		enum gen_phase ph[3];
	} cases[] = {
		{ ROT_IDLE, 0, { 0 } },
		{ ROT_IDLE, 1, { GEN_COMMITTED } },
		{ ROT_PREPARE, 1, { GEN_PREPARED } },
		{ ROT_PREPARE, 2, { GEN_COMMITTED, GEN_PREPARED } },
		{ ROT_COMMIT, 2, { GEN_RETIRING, GEN_COMMITTED } },
		{ ROT_GRACE, 2, { GEN_RETIRING, GEN_COMMITTED } },
		{ ROT_PREPARE,
		  3,
		  { GEN_RETIRING, GEN_COMMITTED, GEN_PREPARED } },
		{ ROT_GRACE, 3, { GEN_RETIRING, GEN_RETIRING, GEN_COMMITTED } },
	};
	struct registry *reg = registry_sample();
	struct state_extra x = { 0 };
	uint8_t key[32], got[32];
	struct rotation rot;
	struct stat st;
	struct why why = { "" };

	(void)state;
	extra_sample(&x);
	assert_int_equal(state_key_create(dir, key), 0);
	assert_int_equal(stat(at(STATE_KEY_FILE), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rot_sample(&rot, cases[i].phase, cases[i].n, cases[i].ph);
		assert_int_equal(
			state_save(dir, key, false, reg, &rot, revision, &x),
			0);
		assert_int_equal(stat(at(STATE_FILE), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(load(NULL, got, &why, reg, &rot, &x), 0);
		assert_memory_equal(key, got, 32);
		rot_cleanup(&rot);
	}
	assert_int_equal(entries(), 2);
	state_extra_wipe(&x);
	registry_free(reg);
}

/* States the real machine goes through, saved and loaded at every step. */
static void test_round_trip_machine(void **state)
{
	struct registry *reg = registry_sample();
	struct state_extra x = { 0 };
	struct rot_action act[32];
	const uint32_t up[] = { 1, 2 };
	struct rotation rot;
	uint8_t key[32];
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, key), 0);
	rot_init(&rot, &cfg, rnd, NULL);
	revision = 0;
	for (uint64_t now = 0; now < 2500; now += 50) {
		int k = rot_step(&rot, now, revision, up, 2, act, 32);

		assert_true(k >= 0);
		for (int i = 0; i < k; i++)
			revision = act[i].revision;
		if (now % 150 == 0) {
			rot_ack(&rot, 1, revision);
			rot_ack(&rot, 2, revision);
		}
		assert_int_equal(
			state_save(dir, key, false, reg, &rot, revision, &x),
			0);
		assert_int_equal(load(NULL, NULL, &why, reg, &rot, &x), 0);
	}
	assert_true(rot.gens[0].g >= 2);
	rot_cleanup(&rot);
	registry_free(reg);
}

static void test_no_plaintext(void **state)
{
	enum gen_phase ph[3] = { GEN_RETIRING, GEN_COMMITTED, GEN_PREPARED };
	struct registry *reg = registry_sample();
	struct state_extra x = { 0 };
	struct rotation rot;
	uint8_t key[32], *f;
	size_t len;

	(void)state;
	extra_sample(&x);
	rot_sample(&rot, ROT_PREPARE, 3, ph);
	assert_int_equal(state_key_create(dir, key), 0);
	assert_int_equal(state_save(dir, key, false, reg, &rot, revision, &x),
			 0);
	f = slurp(at(STATE_FILE), &len);
	assert_true(len > 300);
	for (size_t i = 0; i < 3; i++)
		assert_null(memmem(f, len, rot.gens[i].epoch, 8));
	assert_null(memmem(f, len, x.token_secret, 8));
	assert_null(memmem(f, len, key, 8));
	assert_null(memmem(f, len, "PRIVATE", 7));
	assert_null(memmem(f, len, "node-1", 6));
	free(f);
	state_extra_wipe(&x);
	rot_cleanup(&rot);
	registry_free(reg);
}

static void test_bit_flips(void **state)
{
	uint8_t key[32], *orig, *f, *after;
	size_t len, n;
	struct why why = { "" };
	int err;

	(void)state;
	assert_int_equal(state_key_create(dir, key), 0);
	small_state(key);
	orig = slurp(at(STATE_FILE), &len);
	f = malloc(len);
	assert_non_null(f);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(f, orig, len);
			f[i] ^= (uint8_t)(1 << bit);
			spill(at(STATE_FILE), f, len);
			err = load(NULL, NULL, &why, NULL, NULL, NULL);
			assert_int_equal(err,
					 i == 8 || i == 9    ? -EPROTONOSUPPORT
					 : i >= 12 && i < 20 ? -EKEYREJECTED
							     : -EBADMSG);
			/* nonce, ciphertext, tag, the autolock flag */
			if ((i >= 20 && (i < 44 || i >= 48)) ||
			    (i == 11 && bit == 0))
				assert_non_null(
					strstr(why.msg, "authentication"));
			assert_non_null(strstr(why.msg, at(STATE_FILE)));
			after = slurp(at(STATE_FILE), &n);
			assert_int_equal(n, len);
			assert_memory_equal(after, f, len);
			free(after);
			assert_int_equal(entries(), 2);
		}
	}
	spill(at(STATE_FILE), orig, len);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), 0);
	free(orig);
	free(f);
}

/* Every shorter file, a longer one, another version, another magic. */
static void test_truncation(void **state)
{
	uint8_t key[32], *f;
	size_t len;
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, key), 0);
	small_state(key);
	f = slurp(at(STATE_FILE), &len);
	for (size_t n = 0; n <= len + 1; n++) {
		spill(at(STATE_FILE), f, n);
		assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL),
				 n == len ? 0 : -EBADMSG);
		if (n != len)
			assert_non_null(
				strstr(why.msg, n < len ? "truncated at byte"
							: "trailing"));
	}
	f[9] = 7;
	spill(at(STATE_FILE), f, len);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL),
			 -EPROTONOSUPPORT);
	assert_non_null(
		strstr(why.msg, "format version 7, this build reads 2"));
	/* format 1 (protocol 1's masters): refused, and what to do said */
	f[9] = 1;
	spill(at(STATE_FILE), f, len);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(why.msg, "format 1 (before protocol 2)"));
	assert_non_null(strstr(why.msg, "new state directory"));
	assert_non_null(strstr(why.msg, "join again"));
	f[0] = 'x';
	spill(at(STATE_FILE), f, len);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -EBADMSG);
	assert_non_null(strstr(why.msg, "not a vxsec state file"));
	free(f);
}

static void test_wrong_key(void **state)
{
	uint8_t key[32], other[32];
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, key), 0);
	small_state(key);
	randombytes_buf(other, 32);
	spill(at(STATE_KEY_FILE), other, 32);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL),
			 -EKEYREJECTED);
	assert_non_null(strstr(why.msg, at(STATE_KEY_FILE)));
	spill(at(STATE_KEY_FILE), other, 31);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -EINVAL);
	assert_non_null(strstr(why.msg, "not a 32-byte key file"));
	assert_int_equal(unlink(at(STATE_KEY_FILE)), 0);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -ENOKEY);
	assert_non_null(strstr(why.msg, "is missing"));
	assert_int_equal(load(other, NULL, &why, NULL, NULL, NULL),
			 -EKEYREJECTED);
	assert_non_null(strstr(why.msg, "not autolocked"));
	assert_int_equal(entries(), 1);
}

static void test_autolock(void **state)
{
	enum gen_phase ph[2] = { GEN_COMMITTED, GEN_PREPARED };
	struct registry *reg = registry_sample();
	struct state_extra x = { 0 };
	uint8_t key[32], parsed[32], got[32];
	char text[STATE_UNLOCK_TEXT_LEN + 1];
	struct why why = { "" };
	struct rotation rot;

	(void)state;
	extra_sample(&x);
	rot_sample(&rot, ROT_PREPARE, 2, ph);
	randombytes_buf(key, 32);
	assert_int_equal(state_unlock_format(key, text, sizeof(text)), 0);
	assert_int_equal(state_unlock_parse(text, parsed, NULL), 0);
	assert_int_equal(state_save(dir, parsed, true, reg, &rot, revision, &x),
			 0);
	assert_int_equal(entries(), 1); /* no key on disk */
	assert_int_equal(load(parsed, got, &why, reg, &rot, &x), 0);
	assert_memory_equal(got, key, 32);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -ENOKEY);
	assert_non_null(strstr(why.msg, "autolocked"));
	parsed[0] ^= 1;
	assert_int_equal(load(parsed, got, &why, NULL, NULL, NULL),
			 -EKEYREJECTED);
	assert_non_null(strstr(why.msg, "unlock key"));
	assert_int_equal(entries(), 1);
	state_extra_wipe(&x);
	rot_cleanup(&rot);
	registry_free(reg);
}

static void test_first_start(void **state)
{
	enum gen_phase two[2] = { GEN_COMMITTED, GEN_COMMITTED };
	struct registry *reg = registry_new();
	struct state_extra x = { 0 };
	uint8_t key[32], back[32];
	struct rotation rot;
	struct why why = { "" };

	(void)state;
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -ENOENT);
	assert_non_null(strstr(why.msg, "no state file"));
	assert_int_equal(state_key_load(dir, back), -ENOENT);
	assert_int_equal(state_key_create(dir, key), 0);
	assert_int_equal(state_key_load(dir, back), 0);
	assert_memory_equal(key, back, 32);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -ENOENT);
	/* a state load would refuse is never saved */
	rot_sample(&rot, ROT_IDLE, 2, two);
	assert_int_equal(state_save(dir, key, false, reg, &rot, revision, &x),
			 -EINVAL);
	assert_int_equal(entries(), 1);
	rot_cleanup(&rot);
	registry_free(reg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_round_trip),   T(test_round_trip_machine),
		T(test_no_plaintext), T(test_bit_flips),
		T(test_truncation),   T(test_wrong_key),
		T(test_autolock),     T(test_first_start),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
