// SPDX-License-Identifier: MIT
/* Unit tests: atomic file replacement (content, mode, no leftovers, failures). */
#include <dirent.h>
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

#include "common/atomic.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/vxsec-atomic-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static size_t entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void read_back(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_write_and_replace(void **state)
{
	char path[128], buf[64];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(atomic_write(path, "first", 5, 0600), 0);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "first");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(atomic_write(path, "second!", 7, 0600), 0);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "second!");
	assert_int_equal(entries(), 1); /* no temp file left behind */
	assert_int_equal(atomic_write(path, "", 0, 0600), 0);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_failures_leave_nothing(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/missing/state", dir);
	assert_int_equal(atomic_write(path, "x", 1, 0600), -ENOENT);
	/* The target is a directory: the rename fails, the temp goes. */
	snprintf(path, sizeof(path), "%s/adir", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(atomic_write(path, "x", 1, 0600), -EISDIR);
	assert_int_equal(entries(), 2); /* state and adir: nothing else */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_and_replace),
		cmocka_unit_test(test_failures_leave_nothing),
	};

	return cmocka_run_group_tests_name("atomic", tests, setup, teardown);
}
