// SPDX-License-Identifier: MIT
/* Fuzz target: one config line, parsed with roomy and tight buffers, and parsed back. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "tests/fuzz/fuzz.h"

#define TIGHT 8 /* key and value buffers that most lines overflow */

struct parsed {
	int r;
	char key[CONFIG_KEY_MAX], val[CONFIG_LINE_MAX + 1];
	struct why why;
};

static bool key_ok(const char *k)
{
	return k[0] && strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789_.-") ==
			       strlen(k);
}

static bool val_ok(const char *v)
{
	for (; *v; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return false;
	return true;
}

/* One parse and the promises of config.h about its result. */
static void parse(struct parsed *p, const char *line, size_t klen, size_t vlen)
{
	p->why.msg[0] = '\0';
	p->r = config_line(line, p->key, klen, p->val, vlen, &p->why);
	if (p->r == -EINVAL && !p->why.msg[0])
		abort(); /* a refusal says why */
	if (p->r != -EINVAL && p->r != 0 && p->r != 1)
		abort();
	if (p->r == 1 && (!key_ok(p->key) || strlen(p->key) >= klen ||
			  strlen(p->val) >= vlen || !val_ok(p->val)))
		abort();
}

/* The entry written back as key = "value" reads as the same entry. */
static void reparse(const struct parsed *p)
{
	char line[2 * CONFIG_LINE_MAX + CONFIG_KEY_MAX + 8];
	struct parsed again;
	size_t n = 0;

	n += (size_t)snprintf(line, sizeof(line), "%s = \"", p->key);
	for (const char *v = p->val; *v; v++) {
		if (*v == '"' || *v == '\\')
			line[n++] = '\\';
		line[n++] = *v;
	}
	line[n++] = '"';
	line[n] = '\0';
	if (n > CONFIG_LINE_MAX)
		return; /* the escapes made it too long for one line */
	parse(&again, line, sizeof(again.key), sizeof(again.val));
	if (again.r != 1 || strcmp(again.key, p->key) != 0 ||
	    strcmp(again.val, p->val) != 0)
		abort();
}

int fuzz_config_line(const uint8_t *data, size_t size)
{
	static struct parsed roomy, tight;
	char *line = malloc(size + 1);

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0'; /* a NUL inside ends the line, as in a C string */
	parse(&roomy, line, sizeof(roomy.key), sizeof(roomy.val));
	if (roomy.r == 1)
		reparse(&roomy);
	parse(&tight, line, TIGHT, TIGHT);
	/* Tight buffers may refuse more, never accept something else. */
	if (tight.r == 1 &&
	    (roomy.r != 1 || strcmp(tight.key, roomy.key) != 0 ||
	     strcmp(tight.val, roomy.val) != 0))
		abort();
	if (roomy.r == 1 && strlen(roomy.key) < TIGHT &&
	    strlen(roomy.val) < TIGHT && tight.r != 1)
		abort();
	if (roomy.r != 1 && tight.r != roomy.r)
		abort(); /* the same 0 or -EINVAL */
	free(line);
	return 0;
}
