// SPDX-License-Identifier: MIT
/* Unit tests: the ctl reply buffer wipes what it frees and never realloc()s a secret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/ctl.h"

#define SECRET "VXSEC-UNLOCK-AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKKK"

/* Linked with -Wl,--wrap=free,--wrap=realloc: ctl.o's calls come here. */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
void __real_free(void *p);
void __wrap_free(void *p);

static struct {
	const void *buf; /* the buffer watched, NULL for none */
	size_t len;
	bool freed, zero;
	unsigned int reallocs;
} watch;

void *__wrap_realloc(void *p, size_t n)
{
	watch.reallocs++;
	return __real_realloc(p, n);
}

/* Notes whether the watched buffer was all zero when it was freed. */
void __wrap_free(void *p)
{
	const unsigned char *b = p;

	if (p && p == watch.buf) {
		watch.freed = true;
		watch.zero = true;
		for (size_t i = 0; i < watch.len; i++)
			watch.zero &= b[i] == 0;
		watch.buf = NULL;
	}
	__real_free(p);
}

static void watch_buf(const struct ctl_reply *r)
{
	memset(&watch, 0, sizeof(watch));
	watch.buf = r->buf;
	watch.len = r->cap;
}

static void test_growth_wipes_old_buffer(void **state)
{
	static char big[3 * 4096 + 1]; /* a C string, for printf too */
	struct ctl_reply r;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	ctl_reply_init(&r);
	assert_int_equal(ctl_reply_printf(&r, "%s\n", SECRET), 0);
	watch_buf(&r);
	assert_int_equal(ctl_reply_append(&r, big, strlen(big)), 0);
	assert_true(watch.freed); /* it grew: the old buffer is gone ... */
	assert_true(watch.zero);  /* ... and left nothing behind */
	assert_int_equal(watch.reallocs, 0);
	assert_int_equal(r.len, sizeof(SECRET) + strlen(big));
	assert_memory_equal(r.buf, SECRET "\n", sizeof(SECRET));
	assert_int_equal(r.buf[r.len], '\0');
	/* The printf path grows the same way. */
	watch_buf(&r);
	assert_int_equal(ctl_reply_printf(&r, "%s", big), 0);
	assert_true(watch.freed && watch.zero);
	assert_int_equal(watch.reallocs, 0);
	assert_memory_equal(r.buf, SECRET "\n", sizeof(SECRET));
	ctl_reply_cleanup(&r);
}

static void test_cleanup_wipes(void **state)
{
	struct ctl_reply r;

	(void)state;
	ctl_reply_init(&r);
	assert_int_equal(ctl_reply_printf(&r, "token %s\n", SECRET), 0);
	watch_buf(&r);
	ctl_reply_cleanup(&r);
	assert_true(watch.freed);
	assert_true(watch.zero);
	assert_null(r.buf);
	assert_int_equal(r.cap, 0);
	ctl_reply_cleanup(&r); /* twice: nothing to free */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_wipes_old_buffer),
		cmocka_unit_test(test_cleanup_wipes),
	};

	return cmocka_run_group_tests_name("ctl_reply", tests, NULL, NULL);
}
