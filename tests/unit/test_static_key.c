// SPDX-License-Identifier: MIT
/* Unit tests: the node's X25519 keys across restarts, reboots, damage, changes and retirements. */
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

#include "agent/static_key.h"
#include "common/pairkey.h"

static char dir[64];
static const uint8_t boot1[16] = { 1 }, boot2[16] = { 2 };
#define HOUR (3600ull * 1000)

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_static_key.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, STATIC_KEY_FILE);
	unlink(path);
	return rmdir(dir);
}

static const char *file(void)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, STATIC_KEY_FILE);
	return path;
}

static void open_ok(struct static_keys *sk, const uint8_t *boot, bool fresh,
		    const char *why_has)
{
	struct why why = { "" };
	bool got;

	assert_int_equal(static_keys_open(sk, dir, boot, 1000, &got, &why), 0);
	assert_int_equal(got, fresh);
	if (why_has)
		assert_non_null(strstr(why.msg, why_has));
}

static void test_restart_keeps_reboot_changes(void **state)
{
	struct static_keys sk;
	uint8_t pub[PAIRKEY_PUB_LEN];
	struct stat st;

	(void)state;
	unlink(file());
	open_ok(&sk, boot1, true, "no static.key yet");
	assert_int_equal(stat(file(), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sk.n, 1);
	assert_true(sk.key[0].bound);
	assert_int_equal(sk.key[0].from, 0);
	assert_ptr_equal(static_keys_for(&sk, 1), sk.key[0].k);
	memcpy(pub, pairkey_public(static_keys_newest(&sk)->k), sizeof(pub));
	static_keys_close(&sk);
	/* A restart, same boot: the same key. */
	open_ok(&sk, boot1, false, NULL);
	assert_memory_equal(pairkey_public(static_keys_newest(&sk)->k), pub,
			    sizeof(pub));
	static_keys_close(&sk);
	/* A reboot: a new key, and the caller is told (new incarnation). */
	open_ok(&sk, boot2, true, "another boot");
	assert_memory_not_equal(pairkey_public(static_keys_newest(&sk)->k), pub,
				sizeof(pub));
	assert_int_equal(sk.n, 1);
	static_keys_close(&sk);
}

/* Any damage: a new key rather than a misread one, and why. */
static void test_damaged_file_gives_a_new_key(void **state)
{
	struct static_keys sk;
	uint8_t buf[STATIC_KEY_FILE_MAX + 8];
	size_t len;
	FILE *f;

	(void)state;
	unlink(file());
	open_ok(&sk, boot1, true, NULL);
	len = static_keys_encode(&sk, buf);
	static_keys_close(&sk);
	for (size_t i = 0; i < len; i += 7) {
		buf[i] ^= 0x10;
		f = fopen(file(), "w");
		assert_non_null(f);
		assert_int_equal(fwrite(buf, 1, len, f), len);
		fclose(f);
		open_ok(&sk, boot1, true, NULL);
		static_keys_close(&sk);
		buf[i] ^= 0x10;
	}
	f = fopen(file(), "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len - 1, f), len - 1); /* truncated */
	fclose(f);
	open_ok(&sk, boot1, true, "bytes for");
	static_keys_close(&sk);
}

/* A periodic change: made, bound by the leader, survives a restart,
 * the old key retires with the last generation that uses it. */
static void test_change_bind_retire(void **state)
{
	struct static_keys sk;
	const struct pairkey_static *old, *new;
	uint8_t newpub[PAIRKEY_PUB_LEN];

	(void)state;
	unlink(file());
	open_ok(&sk, boot1, true, NULL);
	old = sk.key[0].k;
	assert_int_equal(static_keys_renew(&sk, dir, 1000 + HOUR, 24 * HOUR),
			 0);
	assert_int_equal(
		static_keys_renew(&sk, dir, 1000 + 24 * HOUR, 24 * HOUR), 1);
	assert_int_equal(sk.n, 2);
	new = static_keys_newest(&sk)->k;
	memcpy(newpub, pairkey_public(new), sizeof(newpub));
	/* Not used until the leader says from which generation. */
	assert_ptr_equal(static_keys_for(&sk, 99), old);
	/* One change at a time. */
	assert_int_equal(
		static_keys_renew(&sk, dir, 1000 + 99 * HOUR, 24 * HOUR), 0);
	assert_int_equal(static_keys_bind(&sk, dir, newpub, 5), 0);
	assert_int_equal(static_keys_bind(&sk, dir, newpub, 5), 0); /* again */
	assert_int_equal(static_keys_bind(&sk, dir, newpub, 6), -EINVAL);
	assert_int_equal(static_keys_bind(&sk, dir, (uint8_t[32]){ 9 }, 5),
			 -ENOENT);
	assert_ptr_equal(static_keys_for(&sk, 4), old);
	assert_ptr_equal(static_keys_for(&sk, 5), new);
	static_keys_close(&sk);
	/* What the file keeps. */
	open_ok(&sk, boot1, false, NULL);
	assert_int_equal(sk.n, 2);
	assert_memory_equal(pairkey_public(static_keys_for(&sk, 5)), newpub,
			    sizeof(newpub));
	assert_memory_not_equal(pairkey_public(static_keys_for(&sk, 4)), newpub,
				sizeof(newpub));
	/* Generation 4 still lives: the old key stays. */
	assert_int_equal(static_keys_retire(&sk, dir, 4), 0);
	assert_int_equal(sk.n, 2);
	assert_int_equal(static_keys_retire(&sk, dir, 5), 0);
	assert_int_equal(sk.n, 1);
	assert_null(static_keys_for(&sk, 4));
	static_keys_close(&sk);
	open_ok(&sk, boot1, false, NULL);
	assert_int_equal(sk.n, 1);
	assert_memory_equal(pairkey_public(sk.key[0].k), newpub,
			    sizeof(newpub));
	static_keys_close(&sk);
}

/*
 * A new incarnation with the key bound from 5: it serves every generation,
 * the older key goes, the change not yet bound stays; with the pending
 * key named, it alone stays.
 */
static void test_restart_incarnation(void **state)
{
	struct static_keys sk;
	uint8_t pub1[PAIRKEY_PUB_LEN], pub2[PAIRKEY_PUB_LEN];

	(void)state;
	unlink(file());
	open_ok(&sk, boot1, true, NULL);
	assert_int_equal(static_keys_renew(&sk, dir, 1000 + 24 * HOUR, HOUR),
			 1);
	memcpy(pub1, pairkey_public(static_keys_newest(&sk)->k), 32);
	assert_int_equal(static_keys_bind(&sk, dir, pub1, 5), 0);
	assert_int_equal(static_keys_renew(&sk, dir, 1000 + 48 * HOUR, HOUR),
			 1);
	memcpy(pub2, pairkey_public(static_keys_newest(&sk)->k), 32);
	assert_int_equal(static_keys_restart(&sk, dir, (uint8_t[32]){ 9 }),
			 -ENOENT);
	assert_int_equal(sk.n, 3);
	assert_int_equal(static_keys_restart(&sk, dir, pub1), 0);
	assert_int_equal(sk.n, 2);
	assert_memory_equal(pairkey_public(static_keys_for(&sk, 1)), pub1, 32);
	assert_false(sk.key[1].bound);
	assert_int_equal(static_keys_restart(&sk, dir, pub1), 0); /* again */
	static_keys_close(&sk);
	open_ok(&sk, boot1, false, NULL); /* what the file keeps */
	assert_int_equal(sk.n, 2);
	assert_true(sk.key[0].bound);
	assert_int_equal(sk.key[0].from, 0);
	assert_int_equal(static_keys_restart(&sk, dir, pub2), 0);
	assert_int_equal(sk.n, 1);
	assert_memory_equal(pairkey_public(static_keys_for(&sk, 0)), pub2, 32);
	static_keys_close(&sk);
}

/* The codec refuses what the agent would never write. */
static void test_decode_refusals(void **state)
{
	struct static_keys sk, got;
	uint8_t buf[STATIC_KEY_FILE_MAX];
	struct why why = { "" };
	size_t len;

	(void)state;
	unlink(file());
	open_ok(&sk, boot1, true, NULL);
	assert_int_equal(static_keys_renew(&sk, dir, 1000 + 24 * HOUR, HOUR),
			 1);
	len = static_keys_encode(&sk, buf);
	assert_int_equal(len, 5 + 16 + 1 + 2 * 45 + 16);
	assert_int_equal(static_keys_decode(&got, buf, len, &why), 0);
	assert_int_equal(got.n, 2);
	assert_false(got.key[1].bound);
	static_keys_close(&got);
	/* An unbound key that is not the newest. */
	sk.key[0].bound = false;
	len = static_keys_encode(&sk, buf);
	assert_int_equal(static_keys_decode(&got, buf, len, &why), -EINVAL);
	assert_non_null(strstr(why.msg, "not the newest"));
	assert_int_equal(got.n, 0);
	sk.key[0].bound = true;
	memcpy(buf, "VXSX", 4);
	assert_int_equal(static_keys_decode(&got, buf, len, &why), -EINVAL);
	assert_non_null(strstr(why.msg, "not a vxsec static key file"));
	static_keys_close(&sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_keeps_reboot_changes),
		cmocka_unit_test(test_damaged_file_gives_a_new_key),
		cmocka_unit_test(test_change_bind_retire),
		cmocka_unit_test(test_restart_incarnation),
		cmocka_unit_test(test_decode_refusals),
	};

	if (pairkey_init())
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
