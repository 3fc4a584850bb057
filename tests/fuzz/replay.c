// SPDX-License-Identifier: MIT
/* make check: replays every fuzz corpus file through its target (gcc build). */
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

/* One corpus: tests/fuzz/corpus/<name>, every file through fn. */
struct corpus {
	const char *name;
	int (*fn)(const uint8_t *data, size_t size);
	size_t files_min; /* an empty corpus proves nothing */
};

static const char *root = "tests/fuzz/corpus";

static size_t replay_file(const struct corpus *c, const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	c->fn(buf, n);
	return n;
}

static void replay(const struct corpus *c)
{
	char dir[2048], path[4096];
	size_t files = 0, bytes = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", root, c->name);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		bytes += replay_file(c, path);
		files++;
	}
	closedir(d);
	printf("replayed %zu files (%zu bytes) of %s\n", files, bytes, dir);
	assert_true(files >= c->files_min);
}

static void test_replay_frame(void **state)
{
	static const struct corpus c = { "frame", fuzz_frame, 10 };

	(void)state;
	replay(&c);
}

static void test_replay_state_body(void **state)
{
	static const struct corpus c = { "state_body", fuzz_state_body, 10 };

	(void)state;
	replay(&c);
}

static void test_replay_config_line(void **state)
{
	static const struct corpus c = { "config_line", fuzz_config_line, 10 };

	(void)state;
	replay(&c);
}

static void test_replay_ctl_request(void **state)
{
	static const struct corpus c = { "ctl_request", fuzz_ctl_request, 10 };

	(void)state;
	replay(&c);
}

/* Usage: test_fuzz_replay [corpus root, default tests/fuzz/corpus] */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_frame),
		cmocka_unit_test(test_replay_state_body),
		cmocka_unit_test(test_replay_config_line),
		cmocka_unit_test(test_replay_ctl_request),
	};

	if (argc > 1)
		root = argv[1];
	return cmocka_run_group_tests_name("fuzz_replay", tests, NULL, NULL);
}
