// SPDX-License-Identifier: MIT
/* Unit tests: the NAT probe — its key (checked against OpenSSL's HKDF), layout, refusals, tampering, freshness. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/natprobe.h"

static const struct natprobe sample = {
	.from = 7, .to = 0x123456, .generation = 42, .time_ms = 1796000000123ull
};

static void key_of(int fill, uint8_t key[NATPROBE_KEY_LEN])
{
	uint8_t pair[PAIRKEY_LEN];

	memset(pair, fill, sizeof(pair));
	natprobe_key(pair, key);
}

/* The same derivation by another implementation: OpenSSL's HKDF. */
static void test_key_is_hkdf(void **state)
{
	uint8_t pair[PAIRKEY_LEN], ours[NATPROBE_KEY_LEN], theirs[32];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
	char digest[] = "SHA256", label[] = "vxsec nat probe v1";
	OSSL_PARAM p[4];

	(void)state;
	for (size_t i = 0; i < sizeof(pair); i++)
		pair[i] = (uint8_t)(i * 7 + 1);
	natprobe_key(pair, ours);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest,
						0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, pair,
						 sizeof(pair));
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, label,
						 strlen(label));
	p[3] = OSSL_PARAM_construct_end();
	assert_non_null(ctx);
	assert_int_equal(EVP_KDF_derive(ctx, theirs, sizeof(theirs), p), 1);
	assert_memory_equal(ours, theirs, sizeof(ours));
	/* Not the ESP key's own bytes, and another pair key, another key. */
	assert_memory_not_equal(ours, pair, sizeof(ours));
	pair[35] ^= 1;
	natprobe_key(pair, theirs);
	assert_memory_not_equal(ours, theirs, sizeof(ours));
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

static void test_layout_and_roundtrip(void **state)
{
	uint8_t key[NATPROBE_KEY_LEN], buf[NATPROBE_LEN];
	static const uint8_t head[24] = { 0,	0,    0, 0, 'v', 'x',
					  'n',	'p',  1, 1, 0,	 0,
					  0,	0,    0, 7, 0,	 0x12,
					  0x34, 0x56, 0, 0, 0,	 42 };
	struct natprobe p = sample, got;

	(void)state;
	key_of(0x5a, key);
	p.reply = true;
	natprobe_build(&p, key, buf);
	assert_memory_equal(buf, head, sizeof(head));
	assert_int_equal(natprobe_parse(buf, sizeof(buf), &got), 0);
	assert_int_equal(got.from, 7);
	assert_int_equal(got.to, 0x123456);
	assert_int_equal(got.generation, 42);
	assert_true(got.time_ms == sample.time_ms);
	assert_true(got.reply);
	assert_true(natprobe_verify(buf, key));
	p.reply = false;
	natprobe_build(&p, key, buf);
	assert_int_equal(buf[9], 0);
	assert_int_equal(natprobe_parse(buf, sizeof(buf), &got), 0);
	assert_false(got.reply);
}

/* Every bit flipped is caught: by the parser or by the HMAC. */
static void test_tampering(void **state)
{
	uint8_t key[NATPROBE_KEY_LEN], other[NATPROBE_KEY_LEN];
	uint8_t buf[NATPROBE_LEN], bad[NATPROBE_LEN];
	struct natprobe got;

	(void)state;
	key_of(0x5a, key);
	key_of(0x5b, other);
	natprobe_build(&sample, key, buf);
	assert_false(natprobe_verify(buf, other));
	for (size_t i = 0; i < NATPROBE_LEN * 8; i++) {
		memcpy(bad, buf, sizeof(bad));
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (natprobe_parse(bad, sizeof(bad), &got) == 0 &&
		    natprobe_verify(bad, key))
			fail_msg("bit %zu flipped went through", i);
	}
}

static void test_refusals(void **state)
{
	uint8_t key[NATPROBE_KEY_LEN], buf[NATPROBE_LEN + 1], bad[sizeof(buf)];
	struct natprobe p = sample, got;
	static const struct {
		size_t at;
		uint8_t v;
	} pokes[] = { { 3, 1 }, { 4, 'V' },  { 8, 2 },	{ 8, 0 },
		      { 9, 2 }, { 9, 0x80 }, { 10, 1 }, { 11, 1 } };

	(void)state;
	key_of(1, key);
	natprobe_build(&p, key, buf);
	assert_int_equal(natprobe_parse(buf, NATPROBE_LEN - 1, &got), -EINVAL);
	assert_int_equal(natprobe_parse(buf, NATPROBE_LEN + 1, &got), -EINVAL);
	assert_int_equal(natprobe_parse(buf, 0, &got), -EINVAL);
	for (size_t i = 0; i < sizeof(pokes) / sizeof(pokes[0]); i++) {
		memcpy(bad, buf, sizeof(bad));
		bad[pokes[i].at] = pokes[i].v;
		assert_int_equal(natprobe_parse(bad, NATPROBE_LEN, &got),
				 -EINVAL);
	}
	p.from = 0;
	natprobe_build(&p, key, buf);
	assert_int_equal(natprobe_parse(buf, NATPROBE_LEN, &got), -EINVAL);
	p = sample, p.to = 0;
	natprobe_build(&p, key, buf);
	assert_int_equal(natprobe_parse(buf, NATPROBE_LEN, &got), -EINVAL);
	p = sample, p.to = p.from;
	natprobe_build(&p, key, buf);
	assert_int_equal(natprobe_parse(buf, NATPROBE_LEN, &got), -EINVAL);
	p = sample, p.generation = 0;
	natprobe_build(&p, key, buf);
	assert_int_equal(natprobe_parse(buf, NATPROBE_LEN, &got), -EINVAL);
	assert_int_equal(got.from, 0); /* nothing half-filled */
}

static void test_fresh(void **state)
{
	const uint64_t now = 1796000000000ull, win = 120000;

	(void)state;
	assert_true(natprobe_fresh(now, 0, now, win));
	assert_true(natprobe_fresh(now - win, 0, now, win));
	assert_true(natprobe_fresh(now + win, 0, now, win));
	assert_false(natprobe_fresh(now - win - 1, 0, now, win));
	assert_false(natprobe_fresh(now + win + 1, 0, now, win));
	assert_true(natprobe_fresh(now, now - 1, now, win));
	assert_false(natprobe_fresh(now, now, now, win)); /* a replay */
	assert_false(natprobe_fresh(now - 5, now, now, win));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_is_hkdf),
		cmocka_unit_test(test_layout_and_roundtrip),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_fresh),
	};

	return cmocka_run_group_tests_name("natprobe", tests, NULL, NULL);
}
