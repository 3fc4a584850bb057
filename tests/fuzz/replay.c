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

#include "tests/fuzz/fuzz_frame.h"

static const char *corpus = "tests/fuzz/corpus/frame";

static size_t replay_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return n;
}

static void test_replay_frame_corpus(void **state)
{
	DIR *d = opendir(corpus);
	struct dirent *e;
	char path[4096];
	size_t files = 0, bytes = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", corpus, e->d_name);
		bytes += replay_file(path);
		files++;
	}
	closedir(d);
	printf("replayed %zu files (%zu bytes) of %s\n", files, bytes, corpus);
	assert_true(files >= 10); /* an empty corpus proves nothing */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_frame_corpus),
	};

	if (argc > 1)
		corpus = argv[1];
	return cmocka_run_group_tests_name("fuzz_replay", tests, NULL, NULL);
}
