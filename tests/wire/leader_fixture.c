// SPDX-License-Identifier: MIT
/* The leader process tests' fixture: a folder per case, vxsec-keymgr on loopback, fake agents, polling its control socket. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/wire/leader_fixture.h"

char dir[64], sdir[128], sock[128], listen_at[64], port[8], token[256];
pid_t leader = -1, agents = -1;
static const char *tmp_name = "leader", *leader_opts = "";

static char *under(char p[4][192], int *k, const char *base, const char *name)
{
	*k = (*k + 1) % 4;
	snprintf(p[*k], sizeof(p[*k]), "%s/%s", base, name);
	return p[*k];
}

char *path(const char *name)
{
	static char p[4][192];
	static int k;

	return under(p, &k, dir, name);
}

char *spath(const char *name)
{
	static char p[4][192];
	static int k;

	return under(p, &k, sdir, name);
}

int leader_fixture_init(const char *name, const char *opts)
{
	tmp_name = name;
	leader_opts = opts;
	if (env_bin("KM", "../vxsec-keymgr") || env_bin("FA", "fakeagents") ||
	    env_bin("FLOOD", "wireflood") || env_bin("WIRECLI", "wirecli"))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int leader_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vxsec-%s-XXXXXX", tmp_name);
	if (!mkdtemp(dir))
		return -1;
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	return 0;
}

void leader_stop(void)
{
	stop(&agents, SIGTERM);
	stop(&leader, SIGTERM);
}

int leader_teardown(void **state)
{
	char cmd[128];

	(void)state;
	leader_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

int start_leader(const char *extra, int secs)
{
	char out[512];
	const char *p = spath("listen");
	int st;

	unlink(p);
	leader = spawn("exec " KM " -d %s -s %s -l 127.0.0.1:0 %s %s run "
		       "2>>%s/leader.log",
		       sdir, sock, leader_opts, extra, dir);
	for (int i = 0; i < secs * 20 && access(p, R_OK) != 0; i++) {
		if (waitpid(leader, &st, WNOHANG) == leader) {
			leader = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		}
		usleep(50000);
	}
	if (access(p, R_OK) != 0) {
		print_message("the leader neither listens nor exits\n");
		return -1;
	}
	first_line(p, listen_at, sizeof(listen_at));
	snprintf(port, sizeof(port), "%s", strrchr(listen_at, ':') + 1);
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s token show", sock), 0);
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(out, "\n"), out);
	return 0;
}

void start_agents(const char *args, const char *log)
{
	agents = spawn("exec " FA
		       " --leader %s --token %s --hold %s >%s/%s 2>&1",
		       listen_at, token, args, dir, log);
}

bool wait_ctl(const char *cmd, const char *needle, int secs)
{
	char out[8192];

	for (int i = 0; i < secs * 10; i++) {
		if (run_cmd(out, sizeof(out), KM " -s %s %s", sock, cmd) == 0 &&
		    strstr(out, needle))
			return true;
		usleep(100000);
	}
	print_message("%s never held \"%s\"\n", cmd, needle);
	return false;
}
