// SPDX-License-Identifier: MIT
/* netns test helpers that fail the cmocka test: commands that must succeed (the benchmarks link netns_util.c without cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/netns/netns_util.h"

void netns_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (netns_run(cmd, NULL, NULL) != 0)
		fail_msg("command failed: %s", cmd);
}

char *netns_out(const char *fmt, ...)
{
	char cmd[1024], *out = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = netns_run(cmd, &out, NULL);
	if (rc != 0 || !out) {
		free(out);
		fail_msg("command failed (%d): %s", rc, cmd);
	}
	return out;
}
