// SPDX-License-Identifier: MIT
/* Unit tests: config lines, config files (errors with line numbers), typed values. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"

struct line_ok {
	const char *line, *key, *val;
};

static void test_line_entries(void **state)
{
	static const struct line_ok cases[] = {
		{ "a = b", "a", "b" },
		{ "k=v", "k", "v" },
		{ "  key.name_x-1   =   some value  ", "key.name_x-1",
		  "some value" },
		{ "k\t=\tv\t", "k", "v" },
		{ "k = v\n", "k", "v" },
		{ "k = v\r\n", "k", "v" },
		{ "k = v # a comment", "k", "v" },
		{ "k = v#not-a-comment", "k", "v#not-a-comment" },
		{ "k =", "k", "" },
		{ "k = # only a comment", "k", "" },
		{ "k = \"\"", "k", "" },
		{ "k = \" spaced # kept \"  # note", "k", " spaced # kept " },
		{ "k = \"q\\\"uote \\\\ back\"", "k", "q\"uote \\ back" },
		{ "k = a\"b", "k", "a\"b" },
		{ "path = /var/lib/vxsec", "path", "/var/lib/vxsec" },
		{ "name = n\xc3\xbc", "name", "n\xc3\xbc" },
	};
	char key[CONFIG_KEY_MAX], val[CONFIG_LINE_MAX + 1];
	struct why why = { "" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why.msg[0] = '\0';
		assert_int_equal(config_line(cases[i].line, key, sizeof(key),
					     val, sizeof(val), &why),
				 1);
		assert_string_equal(key, cases[i].key);
		assert_string_equal(val, cases[i].val);
	}
}

static void test_line_nothing(void **state)
{
	static const char *const lines[] = { "",	   "\n",
					     "\r\n",	   "   ",
					     "\t \t\n",	   "# comment",
					     "   # k = v", "#" };
	char key[CONFIG_KEY_MAX], val[64];
	struct why why = { "" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(config_line(lines[i], key, sizeof(key), val,
					     sizeof(val), &why),
				 0);
}

struct line_bad {
	const char *line, *why;
};

static void test_line_errors(void **state)
{
	static const struct line_bad cases[] = {
		{ "= v", "expected a key" },
		{ "key value", "expected '=' after the key" },
		{ "ke y = v", "expected '=' after the key" },
		{ "k! = v", "expected '=' after the key" },
		{ "k = \"abc", "unterminated quote" },
		{ "k = \"a\\nb\"", "unknown escape" },
		{ "k = \"a\" b", "text after the closing quote" },
		{ "k = a\001b", "control character" },
		{ "k\x7f = v", "control character" },
		{ "# a comment with a \x1b escape", "control character" },
		{ "k = a\rb", "control character" },
	};
	char key[CONFIG_KEY_MAX], val[64];
	struct why why = { "" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why.msg[0] = '\0';
		assert_int_equal(config_line(cases[i].line, key, sizeof(key),
					     val, sizeof(val), &why),
				 -EINVAL);
		if (!strstr(why.msg, cases[i].why))
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
				 cases[i].line, why, cases[i].why);
	}
	/* The reason never repeats the line: it may hold a secret. */
	assert_int_equal(config_line("s3cr3t-token", key, sizeof(key), val,
				     sizeof(val), &why),
			 -EINVAL);
	assert_null(strstr(why.msg, "s3cr3t"));
}

static void test_line_limits(void **state)
{
	char line[CONFIG_LINE_MAX + 8], key[CONFIG_KEY_MAX];
	struct why why = { "" };
	char val[CONFIG_LINE_MAX + 1], small[4];

	(void)state;
	/* Exactly CONFIG_LINE_MAX bytes (plus "\r\n"): accepted. */
	memset(line, 'x', CONFIG_LINE_MAX);
	memcpy(line, "k = ", 4);
	strcpy(line + CONFIG_LINE_MAX, "\r\n");
	assert_int_equal(
		config_line(line, key, sizeof(key), val, sizeof(val), &why), 1);
	assert_int_equal(strlen(val), CONFIG_LINE_MAX - 4);
	/* One more: refused, whatever the buffers. */
	memset(line + 4, 'x', CONFIG_LINE_MAX - 3);
	line[CONFIG_LINE_MAX + 1] = '\0';
	assert_int_equal(
		config_line(line, key, sizeof(key), val, sizeof(val), &why),
		-EINVAL);
	assert_string_equal(why.msg, "line longer than 1024 bytes");
	/* Buffers too small for the key or the value. */
	assert_int_equal(config_line("abcd = v", small, sizeof(small), val,
				     sizeof(val), &why),
			 -EINVAL);
	assert_string_equal(why.msg, "key too long");
	assert_int_equal(config_line("k = abcd", key, sizeof(key), small,
				     sizeof(small), &why),
			 -EINVAL);
	assert_string_equal(why.msg, "value too long");
	assert_int_equal(config_line("k = \"abcd\"", key, sizeof(key), small,
				     sizeof(small), &why),
			 -EINVAL);
	assert_string_equal(why.msg, "value too long");
	assert_int_equal(config_line("k = abc", key, sizeof(key), small,
				     sizeof(small), &why),
			 1);
	assert_string_equal(small, "abc");
}

/* ---- files ---- */

struct seen {
	int n;
	char keys[8][CONFIG_KEY_MAX];
	char vals[8][64];
	const char *refuse; /* a key the callback refuses */
	bool quiet;	    /* refuse without a reason */
};

static int collect(void *arg, const char *key, const char *val, struct why *why)
{
	struct seen *s = arg;

	if (s->refuse && !strcmp(key, s->refuse)) {
		if (!s->quiet)
			why_set(why, "unknown key \"%s\"", key);
		return -EINVAL;
	}
	assert_true(s->n < 8);
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
	snprintf(s->vals[s->n], sizeof(s->vals[0]), "%s", val);
	s->n++;
	return 0;
}

static char tmp_path[64];

static void write_file(const char *data, size_t len)
{
	int fd;

	strcpy(tmp_path, "/tmp/test_config.XXXXXX");
	fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int load(const char *data, size_t len, struct seen *s, struct why *why)
{
	int r;

	write_file(data, len);
	r = config_load(tmp_path, collect, s, why);
	unlink(tmp_path);
	return r;
}

static void test_load(void **state)
{
	static const char text[] = "# vxsec-keymgr\n"
				   "\n"
				   "listen = [::1]:7120\r\n"
				   "   rotate_every = 12h   # twice a day\n"
				   "name = \"a # b\"\n"
				   "last = no-newline";
	struct seen s = { 0 };
	struct why why = { "" };

	(void)state;
	assert_int_equal(load(text, sizeof(text) - 1, &s, &why), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.keys[0], "listen");
	assert_string_equal(s.vals[0], "[::1]:7120");
	assert_string_equal(s.keys[1], "rotate_every");
	assert_string_equal(s.vals[1], "12h");
	assert_string_equal(s.vals[2], "a # b");
	assert_string_equal(s.keys[3], "last");
	assert_string_equal(s.vals[3], "no-newline");
	/* An empty file is fine. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(load("", 0, &s, &why), 0);
	assert_int_equal(s.n, 0);
}

static void expect_load_error(const char *data, size_t len, struct seen *s,
			      int err, const char *want)
{
	char full[300];
	struct why why = { "" };

	assert_int_equal(load(data, len, s, &why), err);
	snprintf(full, sizeof(full), "%s:%s", tmp_path, want);
	assert_string_equal(why.msg, full);
}

static void test_load_errors(void **state)
{
	static const char nul[] = "a = 1\nb = x\0y\n";
	char big[CONFIG_LINE_MAX + 32];
	struct why why = { "" };
	struct seen s = { 0 };

	(void)state;
	expect_load_error("a = 1\n# c\nb 2\nc = 3\n", 20, &s, -EINVAL,
			  "3: expected '=' after the key");
	assert_int_equal(s.n, 1); /* what came before was delivered */
	memset(&s, 0, sizeof(s));
	s.refuse = "color";
	expect_load_error("a = 1\ncolor = red\n", 18, &s, -EINVAL,
			  "2: unknown key \"color\"");
	memset(&s, 0, sizeof(s));
	s.refuse = "color";
	s.quiet = true;
	expect_load_error("color = red\n", 12, &s, -EINVAL,
			  "1: color: Invalid argument");
	memset(&s, 0, sizeof(s));
	expect_load_error(nul, sizeof(nul) - 1, &s, -EILSEQ, "2: NUL byte");
	memset(&s, 0, sizeof(s));
	memset(big, 'x', sizeof(big));
	memcpy(big, "a = 1\nk = ", 10);
	expect_load_error(big, sizeof(big), &s, -E2BIG,
			  "2: line longer than 1024 bytes");
	assert_int_equal(
		config_load("/nonexistent/vxsec.conf", collect, &s, &why),
		-ENOENT);
	assert_string_equal(why.msg, "cannot open /nonexistent/vxsec.conf: "
				     "No such file or directory");
}

/* ---- typed values ---- */

static void test_bool(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "True",
					   "on",  "On",	 "1" };
	static const char *const no[] = { "no",	 "No",	"false", "FALSE",
					  "off", "oFF", "0" };
	static const char *const bad[] = { "",	  "y",	 "n",  "2", "yes ",
					   "tru", "onn", "01", "-1" };
	bool b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_int_equal(config_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		assert_int_equal(config_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(config_bool(bad[i], &b), -EINVAL);
}

struct dur {
	const char *v;
	int r;
	uint64_t ms;
};

static void test_duration(void **state)
{
	static const struct dur cases[] = {
		{ "500ms", 0, 500 },
		{ "30s", 0, 30000 },
		{ "5m", 0, 300000 },
		{ "12h", 0, 43200000 },
		{ "1d", 0, 86400000 },
		{ "7", 0, 7000 },
		{ "0", 0, 0 },
		{ "0ms", 0, 0 },
		{ "007s", 0, 7000 },
		{ "18446744073709551615ms", 0, UINT64_MAX },
		{ "213503982334d", 0, 213503982334ull * 86400000 },
		{ "18446744073709551616ms", -ERANGE, 0 },
		{ "18446744073709552s", -ERANGE, 0 },
		{ "213503982335d", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "ms", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1s", -EINVAL, 0 },
		{ "1.5h", -EINVAL, 0 },
		{ "5 m", -EINVAL, 0 },
		{ " 5m", -EINVAL, 0 },
		{ "5M", -EINVAL, 0 },
		{ "10w", -EINVAL, 0 },
		{ "1sec", -EINVAL, 0 },
	};
	uint64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms = 12345;
		if (config_duration_ms(cases[i].v, &ms) != cases[i].r)
			fail_msg("\"%s\": want %d", cases[i].v, cases[i].r);
		assert_int_equal(ms, cases[i].r ? 12345 : cases[i].ms);
	}
}

static void test_u32(void **state)
{
	uint32_t v = 99;

	(void)state;
	assert_int_equal(config_u32("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(config_u32("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(config_u32("0010", 0, 10, &v), 0);
	assert_int_equal(config_u32("4294967295", 0, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	v = 99;
	assert_int_equal(config_u32("11", 0, 10, &v), -ERANGE);
	assert_int_equal(config_u32("4", 5, 10, &v), -ERANGE);
	assert_int_equal(config_u32("4294967296", 0, UINT32_MAX, &v), -ERANGE);
	assert_int_equal(
		config_u32("99999999999999999999999", 0, UINT32_MAX, &v),
		-ERANGE);
	assert_int_equal(config_u32("", 0, 10, &v), -EINVAL);
	assert_int_equal(config_u32("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(config_u32("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(config_u32(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(config_u32("1 ", 0, 10, &v), -EINVAL);
	assert_int_equal(config_u32("0x10", 0, 100, &v), -EINVAL);
	assert_int_equal(config_u32("1e3", 0, 10000, &v), -EINVAL);
	assert_int_equal(v, 99); /* untouched by every refusal */
}

static void test_addr_port(void **state)
{
	static const char *const bad[] = {
		"1.2.3.4",     "1.2.3.4:",	  ":7120",
		"1.2.3:80",    "::1:7120",	  "[::1]7120",
		"[::1]",       "[::1]:",	  "[1.2.3.4]:1",
		"[]:1",	       "host.example:80", "[fe80::1%eth0]:1",
		"1.2.3.4:-1",  "[::1]:7120x",	  "1.2.3.4:0x10",
		"256.1.1.1:1", " 1.2.3.4:1",
	};
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = 0;
	size_t i;

	(void)state;
	assert_int_equal(config_addr_port("1.2.3.4:7120", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x01020304);
	assert_int_equal(ntohs(s4->sin_port), 7120);
	assert_int_equal(config_addr_port("[::1]:7120", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_true(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
	assert_int_equal(ntohs(s6->sin6_port), 7120);
	assert_int_equal(config_addr_port("0.0.0.0:0", &ss, &len), 0);
	assert_int_equal(ntohs(s4->sin_port), 0);
	assert_int_equal(config_addr_port("[::]:65535", &ss, &len), 0);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr));
	assert_int_equal(ntohs(s6->sin6_port), 65535);
	assert_int_equal(config_addr_port("[::ffff:10.0.0.1]:1", &ss, &len), 0);
	assert_int_equal(config_addr_port("1.2.3.4:65536", &ss, &len), -ERANGE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (config_addr_port(bad[i], &ss, &len) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	}
}

/* Collects the items it is given; fails on "bad". */
static int list_item(void *arg, const char *item, struct why *why)
{
	char *out = arg;

	if (strcmp(item, "bad") == 0)
		return why_fail(why, -EINVAL, "x: bad item");
	strcat(out, "[");
	strcat(out, item);
	strcat(out, "]");
	return 0;
}

static void test_list(void **state)
{
	char out[512], big[80];
	struct why why = { "" };

	(void)state;
	out[0] = '\0';
	assert_int_equal(config_list("x", "thing", " a ,b\t,  c d ", list_item,
				     out, &why),
			 0);
	assert_string_equal(out, "[a][b][c d]");
	out[0] = '\0';
	assert_int_equal(config_list("x", "thing", "one", list_item, out, &why),
			 0);
	assert_string_equal(out, "[one]");
	static const char *const empty[] = { "", "a,", ",a", "a,,b", " , " };
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		out[0] = '\0';
		assert_int_equal(config_list("x", "thing", empty[i], list_item,
					     out, &why),
				 -EINVAL);
		assert_string_equal(
			why.msg, "x: an empty or overlong thing in the list");
	}
	memset(big, 'z', sizeof(big) - 1);
	big[CONFIG_ITEM_MAX] = '\0'; /* 64 bytes: no room for its NUL */
	out[0] = '\0';
	assert_int_equal(config_list("x", "thing", big, list_item, out, &why),
			 -EINVAL);
	big[CONFIG_ITEM_MAX - 1] = '\0'; /* 63: the longest */
	assert_int_equal(config_list("x", "thing", big, list_item, out, &why),
			 0);
	/* The first failure stops it. */
	out[0] = '\0';
	assert_int_equal(
		config_list("x", "thing", "a,bad,c", list_item, out, &why),
		-EINVAL);
	assert_string_equal(out, "[a]");
	assert_string_equal(why.msg, "x: bad item");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_entries),
		cmocka_unit_test(test_line_nothing),
		cmocka_unit_test(test_line_errors),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_addr_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
