// SPDX-License-Identifier: MIT
/* The leader embedded in a host's own poll loop, through keymgr/leader.h only. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
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

#include "keymgr/leader.h"

static char bin[512]; /* where this test and fakeagents live */

static void set(struct leader_config *c, const char *k, const char *v)
{
	struct why why = { "" };

	assert_int_equal(leader_config_set(c, k, v, &why), 0);
}

/* A host loop: poll the leader's fd, dispatch, until the child ends. */
static int serve_until(struct leader *l, pid_t child)
{
	struct pollfd p = { .fd = leader_poll_fd(l), .events = POLLIN };
	int st;

	for (int i = 0; i < 600; i++) { /* 60 s at most */
		poll(&p, 1, 100);
		assert_int_equal(leader_dispatch(l), 0);
		if (waitpid(child, &st, WNOHANG) == child)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return -1;
}

static void test_embedded_leader_rotates(void **state)
{
	char dir[] = "/tmp/vxsec-embed-XXXXXX", p[256], addr[64], cmd[2048];
	struct why why = { "" };
	struct leader_config c;
	struct leader *l;
	FILE *f;
	int code;
	pid_t child;

	(void)state;
	assert_non_null(mkdtemp(dir));
	leader_config_defaults(&c);
	snprintf(p, sizeof(p), "%s/state", dir);
	set(&c, "state_dir", p);
	snprintf(p, sizeof(p), "%s/ctl.sock", dir);
	set(&c, "socket", p);
	set(&c, "listen", "127.0.0.1:0");
	set(&c, "grace", "0s");
	l = leader_new(&c, NULL, &code, &why);
	if (!l)
		print_message("leader_new: %s\n", why.msg);
	assert_non_null(l);
	assert_int_equal(code, 0);
	snprintf(p, sizeof(p), "%s/state/listen", dir);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(addr, sizeof(addr), f));
	addr[strcspn(addr, "\n")] = '\0';
	fclose(f);
	/* The operator's commands and three agents, in another process. */
	snprintf(cmd, sizeof(cmd),
		 "KM=%s/../vxsec-keymgr; S=%s/ctl.sock; "
		 "T=$($KM -s $S token show) && %s/fakeagents --leader %s "
		 "--token $T -n 3 --rotations 1 --rotate-cmd \"$KM -s $S "
		 "rotate\" --verify --timeout 50",
		 bin, dir, bin, addr);
	child = fork();
	if (child == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(serve_until(l, child), 0);
	leader_free(l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_leader_rotates),
	};
	ssize_t n = readlink("/proc/self/exe", bin, sizeof(bin) - 1);

	if (n <= 0)
		return 1;
	bin[n] = '\0';
	*strrchr(bin, '/') = '\0';
	return cmocka_run_group_tests_name("leader_embed", tests, NULL, NULL);
}
