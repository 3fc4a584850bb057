// SPDX-License-Identifier: MIT
/* Fuzz target: a control request line split into words, escaped and split back. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl.h"
#include "tests/fuzz/fuzz.h"

#define FEW 4 /* a small word limit, to hit "more than N words" */

/* Every word points into line and holds no control character. */
static void check_words(const char *line, size_t size, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (argv[i] < line || argv[i] > line + size)
			abort();
		for (const char *w = argv[i]; *w; w++)
			if ((unsigned char)*w < 0x20 || *w == 0x7f)
				abort();
	}
	if (argv[argc])
		abort();
}

static int split(char *line, size_t size, char **argv, int max)
{
	struct why why = { "" };
	int argc = ctl_request_split(line, argv, max, &why);

	if (argc < 0 && (argc != -EINVAL || !why.msg[0]))
		abort(); /* a refusal is -EINVAL and says why */
	if (argc > max)
		abort();
	if (argc >= 0)
		check_words(line, size, argc, argv);
	return argc;
}

/* The words as a client would send them: every other byte as %XX. */
static size_t escape(int argc, char **argv, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (int i = 0; i < argc; i++) {
		const unsigned char *p = (const unsigned char *)argv[i];

		if (i)
			out[n++] = ' ';
		out[n++] = '"'; /* quoted: an empty word stays a word */
		for (; *p; p++) {
			bool plain = (*p >= 'a' && *p <= 'z') ||
				     (*p >= '0' && *p <= '9');

			if (plain) {
				out[n++] = (char)*p;
				continue;
			}
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
		out[n++] = '"';
	}
	out[n] = '\0';
	return n;
}

/* Split, escaped, split again: the same words. */
static void roundtrip(int argc, char **argv, size_t size)
{
	char *again = malloc(3 * size + 3 * CTL_ARGS_MAX + 1);
	char *argv2[CTL_ARGS_MAX + 1];
	size_t n;

	if (!again)
		return;
	n = escape(argc, argv, again);
	if (split(again, n, argv2, CTL_ARGS_MAX) != argc)
		abort();
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], argv2[i]) != 0)
			abort();
	free(again);
}

int fuzz_ctl_request(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), *copy = malloc(size + 1);
	char *argv[CTL_ARGS_MAX + 1], *few[FEW + 1];
	int argc, n;

	if (!line || !copy)
		goto out;
	memcpy(line, data, size);
	line[size] = '\0'; /* the server refuses NUL bytes before splitting */
	memcpy(copy, line, size + 1);
	argc = split(line, size, argv, CTL_ARGS_MAX);
	n = split(copy, size, few, FEW);
	/* A lower limit refuses more, never splits otherwise. */
	if (n >= 0 && n != argc)
		abort();
	if (argc >= 0 && argc <= FEW && n != argc)
		abort();
	if (argc >= 0)
		roundtrip(argc, argv, size);
out:
	free(line);
	free(copy);
	return 0;
}
