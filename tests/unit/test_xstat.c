// SPDX-License-Identifier: MIT
/* Unit tests: agent/xstat — the kernel's xfrm_stat format, unknown names, limits, malformed text, the file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/xstat.h"

/* The 32 counters of Linux 6.18, in its order (net/xfrm/xfrm_proc.c). */
static const char *const names[] = {
	"XfrmInError",
	"XfrmInBufferError",
	"XfrmInHdrError",
	"XfrmInNoStates",
	"XfrmInStateProtoError",
	"XfrmInStateModeError",
	"XfrmInStateSeqError",
	"XfrmInStateExpired",
	"XfrmInStateMismatch",
	"XfrmInStateInvalid",
	"XfrmInTmplMismatch",
	"XfrmInNoPols",
	"XfrmInPolBlock",
	"XfrmInPolError",
	"XfrmOutError",
	"XfrmOutBundleGenError",
	"XfrmOutBundleCheckError",
	"XfrmOutNoStates",
	"XfrmOutStateProtoError",
	"XfrmOutStateModeError",
	"XfrmOutStateSeqError",
	"XfrmOutStateExpired",
	"XfrmOutPolBlock",
	"XfrmOutPolDead",
	"XfrmOutPolError",
	"XfrmFwdHdrError",
	"XfrmOutStateInvalid",
	"XfrmAcquireError",
	"XfrmOutStateDirError",
	"XfrmInStateDirError",
	"XfrmInIptfsError",
	"XfrmOutNoQueueSpace",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

/* As the kernel prints it: seq_printf("%-24s\t%lu\n"); value = 7 * i. */
static size_t kernel_text(char *buf, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < N_NAMES; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%-24s\t%zu\n",
				      names[i], 7 * i);
	return n;
}

static void test_kernel_format(void **state)
{
	char text[4096];
	size_t len = kernel_text(text, sizeof(text));
	struct xstat x;
	uint64_t v;

	(void)state;
	assert_int_equal(xstat_parse(text, len, &x), 0);
	assert_int_equal(x.n, N_NAMES);
	assert_int_equal(x.skipped, 0);
	for (size_t i = 0; i < N_NAMES; i++) {
		assert_string_equal(x.c[i].name, names[i]);
		assert_int_equal(x.c[i].value, 7 * i);
	}
	assert_int_equal(xstat_get(&x, "XfrmInTmplMismatch", &v), 0);
	assert_int_equal(v, 70);
	assert_int_equal(xstat_get(&x, "XfrmNoSuchCounter", &v), -ENOENT);
}

/* Names this code never heard of are kept; blanks vary; no last newline. */
static void test_unknown_and_blanks(void **state)
{
	static const char t[] = "XfrmInError             \t0\n"
				"XfrmFutureCounter_2 \t 18446744073709551615 \n"
				"xfrm_lower\t\t42";
	struct xstat x;

	(void)state;
	assert_int_equal(xstat_parse(t, strlen(t), &x), 0);
	assert_int_equal(x.n, 3);
	assert_string_equal(x.c[1].name, "XfrmFutureCounter_2");
	assert_true(x.c[1].value == UINT64_MAX);
	assert_string_equal(x.c[2].name, "xfrm_lower");
	assert_int_equal(x.c[2].value, 42);
	assert_int_equal(xstat_parse("", 0, &x), 0);
	assert_int_equal(x.n, 0);
}

/* Beyond XSTAT_MAX counters: the first are kept, the others counted. */
static void test_limit(void **state)
{
	char text[8192];
	size_t n = 0;
	struct xstat x;

	(void)state;
	for (int i = 0; i < XSTAT_MAX + 12; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "Counter%d\t%d\n", i, i);
	assert_int_equal(xstat_parse(text, n, &x), 0);
	assert_int_equal(x.n, XSTAT_MAX);
	assert_int_equal(x.skipped, 12);
	assert_string_equal(x.c[XSTAT_MAX - 1].name, "Counter47");
	/* A malformed line past the limit still fails the whole text. */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "Bad line\n");
	assert_int_equal(xstat_parse(text, n, &x), -EINVAL);
	assert_int_equal(x.n, 0);
}

static void bad(const char *t, size_t len)
{
	struct xstat x;

	x.n = 99;
	if (xstat_parse(t, len, &x) != -EINVAL || x.n != 0)
		fail_msg("accepted: \"%.*s\"", (int)len, t);
}

static void test_malformed(void **state)
{
	static const char *const t[] = {
		"XfrmInError\n",		      /* no value */
		"XfrmInError 12a\n",		      /* not a number */
		"XfrmInError -1\n",		      /* no sign */
		"XfrmInError +1\n",		      /* no sign */
		"XfrmInError 0x10\n",		      /* decimal only */
		"XfrmInError 18446744073709551616\n", /* 2^64 */
		"XfrmInError 1 2\n",		      /* two values */
		"Xfrm-In 1\n",			      /* bad name */
		"Xfrm\"x\" 1\n",		      /* would break JSON */
		"Xfrm{a} 1\n",			      /* would break a label */
		" XfrmInError 0\n",		      /* leading blank */
		"XfrmInError0\n",		      /* no separator */
		"XfrmInError 0\n\nXfrmOutError 0\n",  /* empty line */
		"\n",				      /* empty line */
		"XfrmInError 0\r\n",		      /* CR */
		"XfrmInError 0\nXfrmInError 1\n",     /* twice */
		"A123456789B123456789C123456789D123456789 1\n", /* 40 */
	};
	static const char nul[] = "XfrmInError 0\nXfrm\0Out 1\n";

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		bad(t[i], strlen(t[i]));
	bad(nul, sizeof(nul) - 1);
	/* The longest name that fits is fine. */
	{
		struct xstat x;
		const char *ok = "A123456789B123456789C123456789D12345678 1\n";

		assert_int_equal(xstat_parse(ok, strlen(ok), &x), 0);
		assert_int_equal(strlen(x.c[0].name), XSTAT_NAME_MAX - 1);
	}
}

static void test_read_file(void **state)
{
	char path[] = "/tmp/vxsec-test-xstat-XXXXXX", text[4096];
	size_t len = kernel_text(text, sizeof(text));
	struct xstat x;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	assert_int_equal(xstat_read_file(path, &x), 0);
	assert_int_equal(x.n, N_NAMES);
	assert_int_equal(x.c[N_NAMES - 1].value, 7 * (N_NAMES - 1));
	unlink(path);
	assert_int_equal(xstat_read_file(path, &x), -ENOENT);
	assert_int_equal(x.n, 0);
}

/* A file larger than XSTAT_FILE_MAX is refused, not cut. */
static void test_read_too_big(void **state)
{
	char path[] = "/tmp/vxsec-test-xstat-XXXXXX", line[64];
	struct xstat x;
	int fd, n;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (int i = 0; i < 1000; i++) {
		n = snprintf(line, sizeof(line), "Counter%d\t%d\n", i, i);
		assert_int_equal(write(fd, line, (size_t)n), n);
	}
	close(fd);
	assert_int_equal(xstat_read_file(path, &x), -EFBIG);
	unlink(path);
}

/* This machine's kernel: its real file parses, with the counters we use. */
static void test_read_this_kernel(void **state)
{
	struct xstat x;
	uint64_t v;
	int err;

	(void)state;
	if (access(XSTAT_PATH, R_OK) != 0) {
		fprintf(stderr,
			"SKIP %s: no %s on this kernel "
			"(CONFIG_XFRM_STATISTICS off)\n",
			__func__, XSTAT_PATH);
		skip();
	}
	err = xstat_read(&x);
	assert_int_equal(err, 0);
	assert_true(x.n >= 20);
	assert_int_equal(xstat_get(&x, "XfrmInNoStates", &v), 0);
	assert_int_equal(xstat_get(&x, "XfrmInTmplMismatch", &v), 0);
	assert_int_equal(xstat_get(&x, "XfrmOutNoStates", &v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_format),
		cmocka_unit_test(test_unknown_and_blanks),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_read_too_big),
		cmocka_unit_test(test_read_this_kernel),
	};

	return cmocka_run_group_tests_name("xstat", tests, NULL, NULL);
}
