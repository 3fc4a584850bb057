// SPDX-License-Identifier: MIT
/* Unit tests: atomic file replacement (content, mode, no leftovers, failures, crash leftovers). */
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
	assert_int_equal(entries(), 1); /* adir: nothing else */
}

static void put(const char *name, const char *text)
{
	char p[160];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * A process killed during a save left <path>.tmp.<its pid>; restarted
 * under the same PID (PID 1 in a container) it must still save. Before,
 * the temp name was the PID and O_EXCL failed with EEXIST every time.
 */
static void test_leftover_of_same_pid(void **state)
{
	char path[128], name[64], buf[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(name, sizeof(name), "state.tmp.%d", (int)getpid());
	put(name, "an old copy");
	assert_int_equal(atomic_write(path, "new", 3, 0600), 0);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "new");
}

/* Leftovers of crashes go (wiped), anything else stays. */
static void test_clean_leftovers(void **state)
{
	char p[160];
	struct stat st;

	(void)state;
	put("state", "current");
	put("state.tmp.4242", "old secrets");		  /* an older version */
	put("state.tmp.0123456789abcdef", "old secrets"); /* this one */
	put("ca.pem.tmp.ffff0000ffff0000", "old");
	put("notes.tmp.txt", "not ours");
	put(".tmp.12", "no name before the tag");
	snprintf(p, sizeof(p), "%s/listen.tmp.77", dir);
	assert_int_equal(mkfifo(p, 0600), 0); /* not a regular file */
	assert_int_equal(atomic_clean(dir), 3);
	assert_int_equal(entries(), 3); /* state, notes.tmp.txt, the FIFO */
	snprintf(p, sizeof(p), "%s/state.tmp.4242", dir);
	assert_int_equal(stat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/.tmp.12", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(atomic_clean(dir), 0);
	snprintf(p, sizeof(p), "%s/nosuch", dir);
	assert_int_equal(atomic_clean(p), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_write_and_replace),
		T(test_failures_leave_nothing),
		T(test_leftover_of_same_pid),
		T(test_clean_leftovers),
#undef T
	};

	return cmocka_run_group_tests_name("atomic", tests, NULL, NULL);
}
