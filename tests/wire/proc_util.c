// SPDX-License-Identifier: MIT
/* Process tests: background processes (spawn, stop, wait for the exit code), polling their logs, the programs beside the test binary. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/wire/proc_util.h"

bool file_has(const char *p, const char *needle)
{
	static char buf[1 << 20];
	FILE *f = fopen(p, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

bool wait_file(const char *p, const char *needle, int secs)
{
	for (int i = 0; i < secs * 20; i++) {
		if (file_has(p, needle))
			return true;
		usleep(50000);
	}
	print_message("%s never held \"%s\"\n", p, needle);
	return false;
}

void first_line(const char *p, char *out, size_t len)
{
	FILE *f = fopen(p, "r");

	assert_non_null(f);
	assert_non_null(fgets(out, (int)len, f));
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

pid_t spawn(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	pid_t p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = fork();
	if (p == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return p;
}

void stop(pid_t *p, int sig)
{
	if (*p > 0) {
		kill(*p, sig);
		waitpid(*p, NULL, 0);
	}
	*p = -1;
}

int wait_exit(pid_t *p, int secs)
{
	int st;

	for (int i = 0; i < secs * 20; i++) {
		if (waitpid(*p, &st, WNOHANG) == *p) {
			*p = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st)
					     : 128 + WTERMSIG(st);
		}
		usleep(50000);
	}
	print_message("pid %d still runs after %d s\n", (int)*p, secs);
	return -1;
}

bool alive(pid_t *p)
{
	if (*p > 0 && waitpid(*p, NULL, WNOHANG) == 0)
		return true;
	*p = -1;
	return false;
}

int env_bin(const char *name, const char *rel)
{
	char self[512], p[600];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -1;
	self[n] = '\0';
	*strrchr(self, '/') = '\0'; /* <build>/tests */
	snprintf(p, sizeof(p), "%s/%s", self, rel);
	return setenv(name, p, 1);
}
