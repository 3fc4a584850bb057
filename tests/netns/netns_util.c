// SPDX-License-Identifier: MIT
/* netns test helpers: a fresh network namespace and command capture. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/netns/netns_util.h"
#include "xfrm/xfrm.h"

int netns_fresh(void)
{
	return unshare(CLONE_NEWNET) ? -errno : 0;
}

int netns_test_setup(struct xfrm_sock **sock)
{
	if (geteuid() != 0) {
		fprintf(stderr, "netns tests need root (CAP_SYS_ADMIN for a "
				"network namespace, CAP_NET_ADMIN for XFRM)\n");
		return -1;
	}
	if (netns_fresh()) {
		perror("unshare(CLONE_NEWNET)");
		return -1;
	}
	*sock = xfrm_sock_open(0);
	if (!*sock) {
		perror("xfrm_sock_open");
		return -1;
	}
	return 0;
}

static int read_all(FILE *f, char **out, size_t *out_len)
{
	size_t cap = 4096, len = 0, n;
	char *buf = malloc(cap), *p;

	if (!buf)
		return -ENOMEM;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 > 0)
			continue;
		p = realloc(buf, cap * 2); /* command output, no secrets */
		if (!p) {
			free(buf);
			return -ENOMEM;
		}
		buf = p;
		cap *= 2;
	}
	buf[len] = '\0';
	*out = buf;
	if (out_len)
		*out_len = len;
	return 0;
}

int netns_run(const char *cmd, char **out, size_t *out_len)
{
	FILE *f = popen(cmd, "r");
	char sink[4096];
	int err = 0, st;

	if (!f)
		return -errno;
	if (out)
		err = read_all(f, out, out_len);
	else
		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	st = pclose(f);
	if (err)
		return err;
	if (st < 0)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

size_t netns_count_lines(const char *text, const char *needle)
{
	const char *line = text, *nl;
	size_t count = 0;
	char buf[1024];
	size_t len;

	while (line && *line) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (strstr(buf, needle))
			count++;
		line = nl ? nl + 1 : NULL;
	}
	return count;
}

double netns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
