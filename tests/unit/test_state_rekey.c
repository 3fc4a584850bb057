// SPDX-License-Identifier: MIT
/* Unit tests: changing the key of the leader's state (default mode, a crash half-way, autolock). */
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

static void assert_key_file(const char *name, const uint8_t want[32])
{
	uint8_t *f;
	size_t len;

	f = slurp(at(name), &len);
	assert_int_equal(len, 32);
	assert_memory_equal(f, want, 32);
	free(f);
}

static void test_rekey_default(void **state)
{
	uint8_t k1[32], k2[32], got[32], *before, *after;
	size_t n1, n2;
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, k1), 0);
	small_state(k1);
	randombytes_buf(k2, 32);
	/* the wrong old key changes nothing */
	before = slurp(at(STATE_FILE), &n1);
	assert_int_equal(state_rekey(dir, k2, k1, false, &why), -EKEYREJECTED);
	after = slurp(at(STATE_FILE), &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	assert_int_equal(entries(), 2);
	free(after);
	assert_int_equal(state_rekey(dir, k1, k2, false, &why), 0);
	assert_int_equal(entries(), 2);
	assert_key_file(STATE_KEY_FILE, k2);
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_memory_equal(got, k2, 32);
	assert_int_equal(load(k1, NULL, &why, NULL, NULL, NULL), -EKEYREJECTED);
	free(before);
}

/* A crash after state.key.new was written, before or after the state. */
static void test_rekey_crash(void **state)
{
	uint8_t k1[32], k2[32], got[32];
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, k1), 0);
	small_state(k1);
	randombytes_buf(k2, 32);
	spill(at(STATE_KEY_NEW_FILE), k2, 32); /* the state not yet rewritten */
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_memory_equal(got, k1, 32);
	assert_int_equal(access(at(STATE_KEY_NEW_FILE), F_OK), -1);
	assert_key_file(STATE_KEY_FILE, k1);

	spill(at(STATE_KEY_NEW_FILE), k2, 32); /* the state rewritten */
	small_state(k2);
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_memory_equal(got, k2, 32);
	assert_int_equal(access(at(STATE_KEY_NEW_FILE), F_OK), -1);
	assert_key_file(STATE_KEY_FILE, k2);
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_memory_equal(got, k2, 32);

	/* and with state.key gone as well (coming from autolock) */
	assert_int_equal(rename(at(STATE_KEY_FILE), at(STATE_KEY_NEW_FILE)), 0);
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_key_file(STATE_KEY_FILE, k2);
	assert_int_equal(entries(), 2);
}

static void test_rekey_autolock(void **state)
{
	uint8_t k1[32], k2[32], k3[32], got[32];
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, k1), 0);
	small_state(k1);
	randombytes_buf(k2, 32);
	randombytes_buf(k3, 32);
	/* default -> autolock: the key file goes */
	assert_int_equal(state_rekey(dir, k1, k2, true, &why), 0);
	assert_int_equal(entries(), 1);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -ENOKEY);
	assert_int_equal(load(k2, got, &why, NULL, NULL, NULL), 0);
	/* autolock -> autolock */
	assert_int_equal(state_rekey(dir, k2, k3, true, &why), 0);
	assert_int_equal(load(k2, NULL, &why, NULL, NULL, NULL), -EKEYREJECTED);
	assert_non_null(strstr(why.msg, "unlock key"));
	assert_int_equal(load(k3, got, &why, NULL, NULL, NULL), 0);
	assert_int_equal(entries(), 1);
	/* autolock -> default */
	assert_int_equal(state_rekey(dir, k3, k1, false, &why), 0);
	assert_key_file(STATE_KEY_FILE, k1);
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_memory_equal(got, k1, 32);
	/* a stale key file beside an autolocked state is removed on load */
	assert_int_equal(state_rekey(dir, k1, k2, true, &why), 0);
	spill(at(STATE_KEY_FILE), k1, 32);
	assert_int_equal(load(k2, got, &why, NULL, NULL, NULL), 0);
	assert_int_equal(entries(), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rekey_default),
		T(test_rekey_crash),
		T(test_rekey_autolock),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
