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

int netns_enter(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "netns tests need root (CAP_SYS_ADMIN for a "
				"network namespace, CAP_NET_ADMIN for links "
				"and XFRM)\n");
		return -1;
	}
	if (netns_fresh()) {
		perror("unshare(CLONE_NEWNET)");
		return -1;
	}
	return 0;
}

int netns_test_setup(struct xfrm_sock **sock)
{
	if (netns_enter())
		return -1;
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

/* One address command for dev, in namespace ns (NULL: this one), if addr. */
static int addr_add(const char *ns, const char *dev, const char *addr,
		    const char *plen)
{
	char cmd[256];

	if (!addr)
		return 0;
	snprintf(cmd, sizeof(cmd), "ip %s%s addr add %s/%s dev %s",
		 ns ? "-n " : "", ns ? ns : "", addr, plen, dev);
	return netns_run(cmd, NULL, NULL);
}

int netns_peer_add(char *name, size_t len, const char *tag, const char *here,
		   const char *here4, const char *here6, const char *there,
		   const char *there4, const char *there6)
{
	char cmd[512];

	snprintf(name, len, "vxsec-%s-%d", tag, (int)getpid());
	snprintf(
		cmd, sizeof(cmd),
		"ip netns add %1$s && ip link set lo up && "
		"ip -n %1$s link set lo up && "
		"ip link add %2$s mtu 1500 type veth peer name %3$s netns %1$s",
		name, here, there);
	if (netns_run(cmd, NULL, NULL) || addr_add(NULL, here, here4, "24") ||
	    addr_add(NULL, here, here6, "64 nodad") ||
	    addr_add(name, there, there4, "24") ||
	    addr_add(name, there, there6, "64 nodad")) {
		fprintf(stderr, "cannot make the namespace %s and its veth\n",
			name);
		return -1;
	}
	snprintf(cmd, sizeof(cmd),
		 "ip link set %2$s up && ip -n %1$s link set %3$s up", name,
		 here, there);
	if (netns_run(cmd, NULL, NULL)) {
		fprintf(stderr, "cannot bring up the veth to %s\n", name);
		return -1;
	}
	return 0;
}

void netns_peer_del(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", name);
	(void)netns_run(cmd, NULL, NULL);
}

size_t netns_count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
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
