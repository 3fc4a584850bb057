// SPDX-License-Identifier: MIT
/* The agent process tests' fixture: a fresh network namespace per case, the leader, the agent, fake peers, status polling. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/wire/agent_fixture.h"

char dir[64], listen_at[64], token[256], secret[128];
char why_not[160];
pid_t leader = -1, agent = -1, fakes = -1;

char *path(const char *name)
{
	static char p[4][192];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* `vxsec-agent status`: its exit code, its output in out. */
int status(char *out, size_t len, const char *args)
{
	return run_cmd(out, len, AG " -s %s status %s", path("agent.sock"),
		       args);
}

bool own_fingerprint(char fpr[45])
{
	static const char key[] = "\"static_key\":\"";
	char out[16384];
	const char *at;

	fpr[0] = '\0';
	if (status(out, sizeof(out), "--json") != 0)
		return false;
	at = strstr(out, key);
	if (!at || strlen(at) < sizeof(key) - 1 + 44)
		return false;
	memcpy(fpr, at + sizeof(key) - 1, 44);
	fpr[44] = '\0';
	return fpr[43] == '=';
}

/* Polls `status --json` until it holds needle (false after secs). */
bool wait_status(const char *needle, int secs)
{
	char out[16384];

	for (int i = 0; i < secs * 5; i++) {
		if (status(out, sizeof(out), "--json") == 0 &&
		    strstr(out, needle))
			return true;
		if (!alive(&agent)) {
			print_message("the agent exited\n");
			return false;
		}
		usleep(200000);
	}
	print_message("status never held \"%s\"\n", needle);
	return false;
}

/* A new cluster (`init`), its leader on 127.0.0.1 (a port it picks). */
void start_leader_with(const char *extra)
{
	char out[1024], *t;
	FILE *f;

	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -d %s init", path("km")), 0);
	t = strstr(out, "join token: ");
	assert_non_null(t);
	t += strlen("join token: ");
	t[strcspn(t, "\n")] = '\0';
	snprintf(token, sizeof(token), "%s", t);
	snprintf(secret, sizeof(secret), "%s", strrchr(token, '-') + 1);
	f = fopen(path("token"), "w");
	assert_non_null(f);
	fprintf(f, "%s\n", token);
	fclose(f);
	leader = spawn("exec " KM
		       " -d $D/km -s $D/km.sock -l 127.0.0.1:0 %s run "
		       "2>>$D/leader.log",
		       extra);
	assert_true(wait_file(path("km/listen"), ":", 10));
	first_line(path("km/listen"), listen_at, sizeof(listen_at));
}

void start_leader(void)
{
	start_leader_with("");
}

/* The agent in the background as agent-1; extra options before "run". */
void start_agent(const char *extra, const char *log)
{
	agent = spawn("exec " AG " -c $D/empty.conf -L %s -a " SELF
		      " -n agent-1 "
		      "-d $D/agent -s $D/agent.sock %s run >>$D/%s 2>&1",
		      listen_at, extra, log);
}

/* Leader, and agent-1 joined with the token: connected and in sync. */
void join_agent(void)
{
	start_leader();
	start_agent("-t $D/token", "agent.log");
	assert_true(wait_status("\"in_sync\":true", 20));
}

/* ... and two fake agents (127.16.0.2, 127.16.0.3) holding sessions. */
void join_with_peers(void)
{
	join_agent();
	fakes = spawn("exec " FA
		      " --leader %s --token-file $D/token -n 2 --hold "
		      ">$D/fakes.log 2>&1",
		      listen_at);
	assert_true(wait_file(path("fakes.log"), "holding:", 30));
	assert_true(wait_status("\"policies\":6", 20)); /* + catch-all */
}

/* Lines of an `ip xfrm` listing that name our reqid. */
size_t ours(const char *what, char *out, size_t len)
{
	assert_int_equal(run_cmd(out, len, "ip xfrm %s", what), 0);
	return count(out, REQID);
}

/* Whether this kernel takes an ESP SA (the host: no; the VM lab: yes). */
bool have_esp(void)
{
	char out[1024];
	int rc = run_cmd(out, sizeof(out),
			 "ip xfrm state add src 127.0.0.1 dst 127.0.0.1 "
			 "proto esp spi 0x100 reqid 1 mode transport aead "
			 "'rfc4106(gcm(aes))' 0x%072d 128 && "
			 "ip xfrm state flush",
			 0);

	return rc == 0;
}

int setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vxsec-agent-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	setenv("D", dir, 1);
	f = fopen(path("empty.conf"), "w"); /* never /etc/vxsec/agent.conf */
	if (!f)
		return -1;
	fclose(f);
	why_not[0] = '\0';
	if (geteuid() != 0) {
		snprintf(why_not, sizeof(why_not),
			 "needs root (a network namespace, CAP_NET_ADMIN "
			 "for XFRM)");
		return 0;
	}
	if (unshare(CLONE_NEWNET)) {
		snprintf(why_not, sizeof(why_not), "unshare(CLONE_NEWNET): %s",
			 strerror(errno));
		return 0;
	}
	return system("ip link set lo up") == 0 ? 0 : -1;
}

int teardown(void **state)
{
	char cmd[128];

	(void)state;
	stop(&agent, SIGKILL);
	stop(&fakes, SIGTERM);
	stop(&leader, SIGTERM);
	if (getenv("VXSEC_TEST_KEEP")) { /* to read the logs after */
		fprintf(stderr, "kept %s\n", dir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* $AG, $KM, $FA: the binaries next to this test binary's build. */
int fixture_env(void)
{
	if (env_bin("AG", "../vxsec-agent") ||
	    env_bin("KM", "../vxsec-keymgr") || env_bin("FA", "fakeagents"))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}
