/* SPDX-License-Identifier: MIT */
/* Process tests: run a shell command, capture its output as text, get its exit status. */
#ifndef VXSEC_RUN_CMD_H
#define VXSEC_RUN_CMD_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/*
 * Runs a command through sh with stderr joined to stdout; its output in
 * out (NULs shown as '.': frames carry them) and echoed for the log.
 * Include after cmocka.h. The exit status, or -1 if it did not exit.
 */
static int run_cmd(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int run_cmd(char *out, size_t len, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	FILE *f;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 8, fmt, ap);
	va_end(ap);
	strcat(cmd, " 2>&1");
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = '.';
	st = pclose(f);
	print_message("$ %s\n%s", cmd, out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
