// SPDX-License-Identifier: MIT
/* make check: replays one fuzz corpus through its target (gcc build, -DFUZZ_TARGET, -DFUZZ_NAME). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/fuzz/fuzz.h"

#if !defined(FUZZ_TARGET) || !defined(FUZZ_NAME)
#error "build with -DFUZZ_TARGET=fuzz_<name> -DFUZZ_NAME='\"<name>\"'"
#endif

#define FILES_MIN 10 /* an empty corpus proves nothing */

static const char *root = "tests/fuzz/corpus";

static size_t replay_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	FUZZ_TARGET(buf, n);
	return n;
}

/* tests/fuzz/corpus/<name>: every file through the target. */
static void test_replay(void **state)
{
	char dir[2048], path[4096];
	size_t files = 0, bytes = 0;
	struct dirent *e;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/%s", root, FUZZ_NAME);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		bytes += replay_file(path);
		files++;
	}
	closedir(d);
	printf("replayed %zu files (%zu bytes) of %s\n", files, bytes, dir);
	assert_true(files >= FILES_MIN);
}

/* Usage: test_fuzz_<name> [corpus root, default tests/fuzz/corpus] */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay),
	};

	if (argc > 1)
		root = argv[1];
	return cmocka_run_group_tests_name("fuzz_replay_" FUZZ_NAME, tests,
					   NULL, NULL);
}
