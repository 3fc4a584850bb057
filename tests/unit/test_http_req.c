// SPDX-License-Identifier: MIT
/* Unit tests: HTTP requests, exact bytes, no room, no header injection. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/http.h"

static void test_request(void **state)
{
	static const char want[] = "POST /v3/kv/range HTTP/1.1\r\n"
				   "Host: 127.0.0.1:2379\r\n"
				   "Content-Type: application/json\r\n"
				   "Content-Length: 13\r\n\r\n"
				   "{\"key\":\"YQ\"}\n";
	struct http_req q = { "POST",
			      "127.0.0.1:2379",
			      "/v3/kv/range",
			      "application/json",
			      NULL,
			      "{\"key\":\"YQ\"}\n",
			      13 };
	char buf[256];
	size_t len = 0, cap;
	struct why why = { "" };

	(void)state;
	assert_int_equal(http_request_write(buf, sizeof(buf), &q, &len, &why),
			 0);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(buf, want, len);
	for (cap = 0; cap < sizeof(want) - 1; cap++)
		assert_int_equal(http_request_write(buf, cap, &q, &len, &why),
				 -ENOSPC);
	assert_int_equal(
		http_request_write(buf, sizeof(want) - 1, &q, &len, &why), 0);
	q.content_type = NULL;
	q.authorization = "tok.en 1";
	q.body = NULL;
	q.body_len = 0;
	assert_int_equal(http_request_write(buf, sizeof(buf), &q, &len, &why),
			 0);
	assert_memory_equal(buf,
			    "POST /v3/kv/range HTTP/1.1\r\nHost: "
			    "127.0.0.1:2379\r\nAuthorization: tok.en 1\r\n"
			    "Content-Length: 0\r\n\r\n",
			    len);
}

static void test_request_injection(void **state)
{
	static const struct {
		const char *method, *host, *path, *ctype, *why;
	} bad[] = {
		{ "POST", "h\r\nX-Evil: 1", "/p", NULL, "host" },
		{ "POST", "h\n", "/p", NULL, "host" },
		{ "POST", "h h", "/p", NULL, "host" },
		{ "POST", "", "/p", NULL, "host" },
		{ "POST", "h", "/p HTTP/1.1\r\nX: y", NULL, "path" },
		{ "POST", "h", "/p\x01", NULL, "path" },
		{ "POST", "h", "v3/kv/put", NULL, "path" },
		{ "POST", "h", "/p\x80", NULL, "path" },
		{ "POST", "h", "/p", "a/json\r\nX: y", "Content-Type" },
		{ "PO ST", "h", "/p", NULL, "method" },
		{ "post", "h", "/p", NULL, "method" },
	};
	struct http_req q = { 0 };
	char buf[256];
	size_t len = 0, i;
	struct why why;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q.method = bad[i].method;
		q.host = bad[i].host;
		q.path = bad[i].path;
		q.content_type = bad[i].ctype;
		why.msg[0] = '\0';
		assert_int_equal(
			http_request_write(buf, sizeof(buf), &q, &len, &why),
			-EINVAL);
		assert_non_null(strstr(why.msg, bad[i].why));
	}
	q = (struct http_req){ "POST", "h", "/p", NULL, "a\nb", NULL, 0 };
	assert_int_equal(http_request_write(buf, sizeof(buf), &q, &len, &why),
			 -EINVAL);
	assert_non_null(strstr(why.msg, "Authorization"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_injection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
