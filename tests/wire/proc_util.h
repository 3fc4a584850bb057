/* SPDX-License-Identifier: MIT */
/* Process tests: background processes (spawn, stop, wait for the exit code) and polling their logs. */
#ifndef VXSEC_PROC_UTIL_H
#define VXSEC_PROC_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Include after cmocka.h (failures are reported with print_message). */

static inline bool file_has(const char *p, const char *needle)
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

static inline bool wait_file(const char *p, const char *needle, int secs)
{
	for (int i = 0; i < secs * 20; i++) {
		if (file_has(p, needle))
			return true;
		usleep(50000);
	}
	print_message("%s never held \"%s\"\n", p, needle);
	return false;
}

static inline size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static inline pid_t spawn(const char *cmd)
{
	pid_t p = fork();

	if (p == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return p;
}

static inline void stop(pid_t *p, int sig)
{
	if (*p > 0) {
		kill(*p, sig);
		waitpid(*p, NULL, 0);
	}
	*p = -1;
}

/* Waits for *p to exit: its exit code, or -1 (still running after secs;
 * it is then left running for the teardown). */
static inline int wait_exit(pid_t *p, int secs)
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

/* Whether *p still runs; once it has exited, *p is -1. */
static inline bool alive(pid_t *p)
{
	if (*p > 0 && waitpid(*p, NULL, WNOHANG) == 0)
		return true;
	*p = -1;
	return false;
}

#endif
