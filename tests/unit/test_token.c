// SPDX-License-Identifier: MIT
/* Unit tests: join token parsing and formatting, base32. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/token.h"

static void sample(struct join_token *t)
{
	for (int i = 0; i < 32; i++) {
		t->ca_digest[i] = (uint8_t)(i * 7);
		t->secret[i] = (uint8_t)(255 - i);
	}
}

static void test_base32_vectors(void **state)
{
	/* RFC 4648 test vectors, without the padding. */
	static const char *const in[] = { "f",	  "fo",	   "foo",
					  "foob", "fooba", "foobar" };
	static const char *const out[] = {
		"MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"
	};
	char buf[32];
	uint8_t raw[16];

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(base32_encode((const uint8_t *)in[i],
					       strlen(in[i]), buf, sizeof(buf)),
				 (int)strlen(out[i]));
		assert_string_equal(buf, out[i]);
		assert_int_equal(
			base32_decode(out[i], strlen(out[i]), raw, sizeof(raw)),
			(int)strlen(in[i]));
		assert_memory_equal(raw, in[i], strlen(in[i]));
	}
	assert_int_equal(base32_decode("MZ1", 3, raw, sizeof(raw)), -EINVAL);
	assert_int_equal(base32_decode("MZ", 2, raw, sizeof(raw)), -EINVAL);
	assert_int_equal(base32_encode(raw, 5, buf, 8), -ENOSPC);
}

static void test_roundtrip(void **state)
{
	struct join_token t, u;
	char text[TOKEN_TEXT_LEN + 1];
	struct why why = { "" };

	(void)state;
	sample(&t);
	assert_int_equal(token_format(&t, text, sizeof(text)), 0);
	assert_int_equal(strlen(text), TOKEN_TEXT_LEN);
	assert_memory_equal(text, "VXSEC-1-", 8);
	assert_int_equal(token_parse(text, &u, &why), 0);
	assert_memory_equal(&t, &u, sizeof(t));
	/* Lower case and surrounding white space are accepted. */
	for (char *p = text; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	assert_int_equal(token_parse(text, &u, &why), 0);
	assert_memory_equal(&t, &u, sizeof(t));
	assert_int_equal(token_format(&t, text, TOKEN_TEXT_LEN), -ENOSPC);
	token_wipe(&u);
	for (size_t i = 0; i < sizeof(u.secret); i++)
		assert_int_equal(u.secret[i], 0);
}

static void expect_refusal(const char *text, const char *reason)
{
	struct join_token t;
	struct why why = { "" };

	memset(&t, 0x77, sizeof(t));
	assert_int_equal(token_parse(text, &t, &why), -EINVAL);
	assert_non_null(strstr(why.msg, reason));
	for (size_t i = 0; i < sizeof(t.secret); i++)
		assert_int_equal(t.secret[i], 0); /* nothing half-parsed kept */
}

static void test_refusals(void **state)
{
	struct join_token t;
	char text[TOKEN_TEXT_LEN + 1], bad[TOKEN_TEXT_LEN + 2];

	(void)state;
	sample(&t);
	assert_int_equal(token_format(&t, text, sizeof(text)), 0);
	expect_refusal("", "not a vxsec join token");
	expect_refusal("VXSEC-2-AAAA-BBBB", "not a vxsec join token");
	expect_refusal("VXSEC-1-ABCDEF", "without a secret part");
	memcpy(bad, text, sizeof(text));
	bad[10] = '1'; /* not in the base32 alphabet */
	expect_refusal(bad, "CA digest");
	memcpy(bad, text, sizeof(text));
	bad[TOKEN_TEXT_LEN - 1] = '\0'; /* secret one character short */
	expect_refusal(bad, "secret");
	memcpy(bad, text, sizeof(text));
	strcat(bad, "A");
	expect_refusal(bad, "secret");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base32_vectors),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
