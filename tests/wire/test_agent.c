// SPDX-License-Identifier: MIT
/* vxsec-agent as a process, each case in a fresh network namespace on loopback: join, restart, refusals, fail-closed policies, removal, capabilities, config errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/wire/proc_util.h"
#include "tests/wire/run_cmd.h"

/* Shell variables set by main() from where this test binary lives, so a
 * sanitizer build tests its own agent, leader and fake agents. */
#define AG "$AG"
#define KM "$KM"
#define FA "$FA"

/* The agent's own underlay address: loopback, inside the namespace. */
#define SELF "127.0.0.2"
#define REQID "reqid 30328" /* the agent's default */

static char dir[64], listen_at[64], token[256], secret[128];
static char why_not[160]; /* set when the namespace cases cannot run */
static pid_t leader = -1, agent = -1, fakes = -1;

static char *path(const char *name)
{
	static char p[4][192];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* The namespace cases run as root only: they say so, loudly, and skip. */
#define NEED_NETNS()                                                         \
	do {                                                                 \
		if (why_not[0]) {                                            \
			fprintf(stderr, "SKIP %s: %s\n", __func__, why_not); \
			skip();                                              \
		}                                                            \
	} while (0)

/* `vxsec-agent status`: its exit code, its output in out. */
static int status(char *out, size_t len, const char *args)
{
	return run_cmd(out, len, AG " -s %s status %s", path("agent.sock"),
		       args);
}

/* Polls `status --json` until it holds needle (false after secs). */
static bool wait_status(const char *needle, int secs)
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
static void start_leader_with(const char *extra)
{
	char out[1024], cmd[512], *t;
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
	snprintf(cmd, sizeof(cmd),
		 "exec " KM " -d $D/km -s $D/km.sock -l 127.0.0.1:0 %s run "
		 "2>>$D/leader.log",
		 extra);
	leader = spawn(cmd);
	assert_true(wait_file(path("km/listen"), ":", 10));
	f = fopen(path("km/listen"), "r");
	assert_non_null(f);
	assert_non_null(fgets(listen_at, sizeof(listen_at), f));
	listen_at[strcspn(listen_at, "\n")] = '\0';
	fclose(f);
}

static void start_leader(void)
{
	start_leader_with("");
}

/* The agent in the background as agent-1; extra options before "run". */
static void start_agent(const char *extra, const char *log)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "exec " AG " -c $D/empty.conf -L %s -a " SELF " -n agent-1 "
		 "-d $D/agent -s $D/agent.sock %s run >>$D/%s 2>&1",
		 listen_at, extra, log);
	agent = spawn(cmd);
}

/* Leader, and agent-1 joined with the token: connected and in sync. */
static void join_agent(void)
{
	start_leader();
	start_agent("-t $D/token", "agent.log");
	assert_true(wait_status("\"in_sync\":true", 20));
}

/* ... and two fake agents (127.16.0.2, 127.16.0.3) holding sessions. */
static void join_with_peers(void)
{
	char cmd[512];

	join_agent();
	snprintf(cmd, sizeof(cmd),
		 "exec " FA " --leader %s --token-file $D/token -n 2 --hold "
		 ">$D/fakes.log 2>&1",
		 listen_at);
	fakes = spawn(cmd);
	assert_true(wait_file(path("fakes.log"), "holding:", 30));
	assert_true(wait_status("\"policies\":4", 20));
}

/* Lines of an `ip xfrm` listing that name our reqid. */
static size_t ours(const char *what, char *out, size_t len)
{
	assert_int_equal(run_cmd(out, len, "ip xfrm %s", what), 0);
	return count(out, REQID);
}

/* Whether this kernel takes an ESP SA (the host: no; the VM lab: yes). */
static bool have_esp(void)
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

static int setup(void **state)
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

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	stop(&agent, SIGKILL);
	stop(&fakes, SIGTERM);
	stop(&leader, SIGTERM);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* First start with the token: joined, connected, credentials on disk. */
static void test_join(void **state)
{
	char out[16384];
	struct stat st;

	(void)state;
	NEED_NETNS();
	join_agent();
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"node_id\":\"agent-1\""));
	assert_non_null(strstr(out, "\"session\":\"connected\""));
	assert_non_null(strstr(out, "\"last_error\":null"));
	assert_non_null(strstr(out, "\"sas\":0,\"policies\":0,"));
	assert_non_null(strstr(out, "\"peers\":[]"));
	assert_int_equal(stat(path("agent/node.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(path("agent"), &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	assert_int_equal(access(path("agent/node.pem"), R_OK), 0);
	/* The CA it pinned with the token is the leader's. */
	assert_int_equal(run_cmd(out, sizeof(out), "cmp %s %s",
				 path("agent/ca.pem"), path("km/ca.pem")),
			 0);
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s nodes --json",
				 path("km.sock")),
			 0);
	assert_non_null(strstr(out,
			       "{\"id\":\"agent-1\",\"index\":1,"
			       "\"incarnation\":1,\"state\":\"connected\""));
	assert_non_null(strstr(out, SELF));
	assert_int_equal(run_cmd(out, sizeof(out), AG " -s %s metrics",
				 path("agent.sock")),
			 0);
	assert_non_null(strstr(out, "\nvxsec_agent_connected 1\n"));
	assert_non_null(strstr(out, "\nvxsec_agent_in_sync 1\n"));
	assert_int_equal(
		run_cmd(out, sizeof(out), AG " -s %s sync", path("agent.sock")),
		0);
	assert_non_null(strstr(out, "(in sync)"));
	/* Nothing logs the token's secret, nor ever writes it to disk. */
	assert_false(file_has(path("agent.log"), secret));
	assert_int_equal(
		run_cmd(out, sizeof(out), "grep -rl %s %s/agent", secret, dir),
		1);
}

/* SIGTERM ends it with 0; it comes back with its certificate alone. */
static void test_restart_without_token(void **state)
{
	char out[8192];

	(void)state;
	NEED_NETNS();
	join_agent();
	kill(agent, SIGTERM);
	assert_int_equal(wait_exit(&agent, 10), 0);
	assert_true(file_has(path("agent.log"), "stopping"));
	start_agent("", "agent2.log");
	assert_true(wait_status("\"in_sync\":true", 20));
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"session\":\"connected\""));
	assert_false(file_has(path("agent2.log"), "joined the cluster"));
	/* Same member, same incarnation (same boot id and address). */
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s nodes --json",
				 path("km.sock")),
			 0);
	assert_int_equal(count(out, "\"id\":"), 1);
	assert_non_null(strstr(out,
			       "{\"id\":\"agent-1\",\"index\":1,"
			       "\"incarnation\":1,\"state\":\"connected\""));
}

/*
 * 10-second certificates: renewed over the session (new key, new
 * certificate); the leader killed and restarted on the same address: the
 * agent backs off, reconnects with the renewed certificate, in sync.
 */
static void test_renewal_and_reconnect(void **state)
{
	char out[8192], cmd[512], pem[4096] = "";
	FILE *f = NULL;

	(void)state;
	NEED_NETNS();
	start_leader_with("--cert-lifetime 10s");
	start_agent("-t $D/token", "agent.log");
	assert_true(wait_status("\"in_sync\":true", 20));
	f = fopen(path("agent/node.pem"), "r");
	assert_non_null(f);
	assert_true(fread(pem, 1, sizeof(pem) - 1, f) > 0);
	fclose(f);
	assert_true(
		wait_file(path("agent.log"), "node certificate renewed", 15));
	assert_false(file_has(path("agent/node.pem"), pem));
	stop(&leader, SIGKILL);
	assert_true(wait_status("\"session\":\"waiting to reconnect\"", 10));
	snprintf(cmd, sizeof(cmd),
		 "exec " KM " -d $D/km -s $D/km.sock -l %s run "
		 "2>>$D/leader.log",
		 listen_at);
	leader = spawn(cmd);
	assert_true(wait_status("\"session\":\"connected\"", 20));
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"reconnects\":1,"));
	assert_true(wait_status("\"in_sync\":true", 10));
}

/*
 * The token adds nodes; it never takes over a member's identity, nor the
 * leader's: both joins are refused and the member keeps its session.
 */
static void test_join_cannot_take_over(void **state)
{
	char out[8192], cmd[1024];
	pid_t twin, fake;

	(void)state;
	NEED_NETNS();
	join_agent();
	snprintf(
		cmd, sizeof(cmd),
		"exec " AG " -c $D/empty.conf -L %s -a 127.0.0.9 -n agent-1 "
		"-t $D/token -d $D/twin -s $D/twin.sock run >>$D/twin.log 2>&1",
		listen_at);
	twin = spawn(cmd);
	snprintf(cmd, sizeof(cmd),
		 "exec " AG " -c $D/empty.conf -L %s -a 127.0.0.8 -n "
		 "vxsec-leader -t $D/token -d $D/fake -s $D/fake.sock run "
		 ">>$D/fake.log 2>&1",
		 listen_at);
	fake = spawn(cmd);
	assert_true(wait_file(path("twin.log"), "already a member", 20));
	assert_true(wait_file(path("fake.log"), "the leader's own", 20));
	stop(&twin, SIGTERM);
	stop(&fake, SIGTERM);
	assert_int_not_equal(access(path("twin/node.pem"), F_OK), 0);
	assert_int_not_equal(access(path("fake/node.pem"), F_OK), 0);
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s nodes --json",
				 path("km.sock")),
			 0);
	assert_int_equal(count(out, "\"id\":"), 1);
	assert_non_null(
		strstr(out, "\"incarnation\":1,\"state\":\"connected\""));
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"reconnects\":0,"));
}

/*
 * A leader whose state is older than what the node's kernel holds (an old
 * backup restored) refuses the node rather than give keys twice.
 */
static void test_leader_older_than_node(void **state)
{
	char out[8192];
	FILE *f;

	(void)state;
	NEED_NETNS();
	join_agent();
	kill(agent, SIGTERM);
	assert_int_equal(wait_exit(&agent, 10), 0);
	f = fopen(path("agent/revision"), "w");
	assert_non_null(f);
	fprintf(f, "999\n");
	fclose(f);
	start_agent("", "agent2.log");
	assert_true(
		wait_file(path("agent2.log"), "older than the cluster", 20));
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"session\":\"waiting to reconnect\""));
	assert_non_null(strstr(out, "an old backup?"));
}

/* No certificate and no token: nothing to join with, it stops at once. */
static void test_no_certificate_no_token(void **state)
{
	char out[4096];
	int rc;

	(void)state;
	NEED_NETNS();
	rc = run_cmd(out, sizeof(out),
		     AG " -c %s -L 127.0.0.1:7120 -a " SELF " -n agent-1 "
			"-d %s -s %s run",
		     path("empty.conf"), path("agent"), path("agent.sock"));
	assert_int_equal(rc, 2); /* a configuration error */
	assert_non_null(strstr(out, "no node certificate"));
	assert_non_null(strstr(out, "--token-file"));
	assert_int_not_equal(access(path("agent.sock"), F_OK), 0);
}

/* The token's secret altered (the CA digest is right): refused, retried. */
static void start_with_wrong_token(void)
{
	char bad[256], *sec;
	FILE *f;

	start_leader();
	snprintf(bad, sizeof(bad), "%s", token);
	sec = strrchr(bad, '-') + 1;
	sec[0] = sec[0] == 'A' ? 'B' : 'A'; /* still base32, 32 bytes */
	f = fopen(path("bad-token"), "w");
	assert_non_null(f);
	fprintf(f, "%s\n", bad);
	fclose(f);
	start_agent("-t $D/bad-token", "agent.log");
	assert_true(wait_file(path("agent.log"),
			      "refused by the leader: join token secret does "
			      "not match (wrong or rotated token)",
			      10));
}

static void test_wrong_token_refused(void **state)
{
	char out[16384];

	(void)state;
	NEED_NETNS();
	start_with_wrong_token();
	/* It retries (backoff), it does not exit. */
	assert_true(wait_file(path("agent.log"), "retrying in", 10));
	assert_true(alive(&agent));
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_null(strstr(out, "\"session\":\"connected\""));
	assert_non_null(strstr(out, "\"in_sync\":false"));
	assert_int_not_equal(access(path("agent/node.pem"), F_OK), 0);
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s nodes --json",
				 path("km.sock")),
			 0);
	assert_null(strstr(out, "agent-1"));
	assert_true(file_has(path("leader.log"), "join token secret"));
}

/* The operator sees why in `status` (docs/protocol.md's text). */
static void test_wrong_token_status_says_why(void **state)
{
	char out[16384];

	(void)state;
	NEED_NETNS();
	start_with_wrong_token();
	assert_true(alive(&agent));
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"last_error\":\"refused by the leader: "
				    "join token secret does not match"));
	assert_int_equal(status(out, sizeof(out), ""), 0);
	assert_non_null(strstr(out, "last error: refused by the leader"));
}

/*
 * Two peers: the agent installs its four policies. The host has no ESP,
 * so every SA add fails: the policies stay, without SAs, and VXLAN to
 * the peers is dropped, never sent in clear (fail closed). With ESP (the
 * VM lab) the four SAs are held and the agent is in sync.
 */
static void test_peers_policies_fail_closed(void **state)
{
	char out[65536];
	bool esp;

	(void)state;
	NEED_NETNS();
	esp = have_esp();
	join_with_peers();
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_int_equal(count(out, "{\"node_id\":\"node-0000"), 2);
	assert_non_null(strstr(out, "\"address\":\"127.16.0.2\""));
	assert_non_null(strstr(out, "\"address\":\"127.16.0.3\""));
	assert_int_equal(ours("policy", out, sizeof(out)), 4);
	assert_int_equal(count(out, "dir out"), 2);
	assert_int_equal(count(out, "dir in"), 2);
	assert_non_null(strstr(out, "src " SELF "/32 dst 127.16.0.2/32 "
				    "proto udp dport 4789"));
	assert_non_null(strstr(out, "src 127.16.0.3/32 dst " SELF "/32 "
				    "proto udp dport 4789"));
	if (esp) {
		print_message("this kernel has ESP: checking the SAs\n");
		assert_true(wait_status("\"in_sync\":true", 20));
		assert_int_equal(ours("state", out, sizeof(out)), 4);
		return;
	}
	assert_int_equal(ours("state", out, sizeof(out)), 0);
	assert_true(wait_file(path("agent.log"),
			      "the kernel does not hold revision", 10));
	assert_int_equal(status(out, sizeof(out), ""), 0);
	assert_non_null(strstr(out, "(NOT in sync), 4 SAs, 4 policies"));
	assert_non_null(strstr(out, "last kernel error: add SA spi 0x"));
	assert_non_null(strstr(out, "out 0x02000001 MISSING"));
	/* The operator's `sync` tries again, and says it failed. */
	assert_int_equal(
		run_cmd(out, sizeof(out), AG " -s %s sync", path("agent.sock")),
		1);
	assert_non_null(strstr(out, "(NOT in sync)"));
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"session\":\"connected\""));
	assert_non_null(strstr(out, "\"in_sync\":false"));
	assert_true(alive(&agent));
}

/* Removed by the operator: exit code 3, our SAs gone, policies kept. */
static void test_removed(void **state)
{
	char out[65536];

	(void)state;
	NEED_NETNS();
	join_with_peers();
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s remove agent-1",
				 path("km.sock")),
			 0);
	assert_int_equal(wait_exit(&agent, 15), 3);
	assert_true(file_has(path("agent.log"), "removed from the cluster"));
	assert_true(file_has(path("agent.log"), "keeping the policies"));
	assert_int_equal(ours("policy", out, sizeof(out)), 4);
	assert_int_equal(ours("state", out, sizeof(out)), 0);
	/* Started again, its certificate is refused: 3 again. */
	start_agent("", "agent2.log");
	assert_int_equal(wait_exit(&agent, 15), 3);
	assert_true(file_has(path("agent2.log"), "removed from the cluster"));
	assert_int_equal(ours("policy", out, sizeof(out)), 4);
}

/* Without CAP_NET_ADMIN: 77 and a message naming it, nothing created. */
static void test_needs_net_admin(void **state)
{
	char out[4096], agent_cmd[512];
	int rc;

	(void)state;
	NEED_NETNS();
	snprintf(agent_cmd, sizeof(agent_cmd),
		 AG " -c $D/empty.conf -L 127.0.0.1:7120 -a " SELF
		    " -n agent-1 -t $D/token -d $D/agent -s $D/agent.sock run");
	if (access("/usr/bin/setpriv", X_OK) == 0)
		rc = run_cmd(out, sizeof(out),
			     "setpriv --inh-caps=-all --ambient-caps=-all "
			     "--bounding-set=-net_admin -- %s",
			     agent_cmd);
	else if (access("/usr/sbin/capsh", X_OK) == 0 ||
		 access("/sbin/capsh", X_OK) == 0)
		rc = run_cmd(out, sizeof(out),
			     "capsh --drop=cap_net_admin -- -c '%s'",
			     agent_cmd);
	else {
		fprintf(stderr,
			"SKIP %s: neither setpriv (util-linux) nor "
			"capsh (libcap) to drop CAP_NET_ADMIN\n",
			__func__);
		skip();
	}
	assert_int_equal(rc, 77);
	assert_non_null(strstr(out, "needs CAP_NET_ADMIN"));
	assert_int_not_equal(access(path("agent"), F_OK), 0);
	assert_int_not_equal(access(path("agent.sock"), F_OK), 0);
}

/* Settings refused before anything starts: exit code 2 and why. */
static void test_config_errors(void **state)
{
	char out[8192];
	FILE *f;

	(void)state;
	f = fopen(path("bad.conf"), "w");
	assert_non_null(f);
	fputs("# a comment\nleader = 127.0.0.1:7120\ncolour = blue\n", f);
	fclose(f);
	assert_int_equal(
		run_cmd(out, sizeof(out), AG " -c %s run", path("bad.conf")),
		2);
	assert_non_null(strstr(out, "bad.conf:3: unknown setting \"colour\""));
	assert_int_equal(
		run_cmd(out, sizeof(out), AG " -c %s run", path("none.conf")),
		2);
	assert_non_null(strstr(out, "none.conf"));
	assert_int_equal(run_cmd(out, sizeof(out),
				 AG " -c %s -L nowhere -a " SELF " run",
				 path("empty.conf")),
			 2);
	assert_non_null(strstr(out, "leader: \"nowhere\" is not ADDRESS:PORT"));
	assert_int_equal(run_cmd(out, sizeof(out),
				 AG " -c %s -L 127.0.0.1:7120 -n agent-1 run",
				 path("empty.conf")),
			 2);
	assert_non_null(strstr(out, "no underlay address"));
	assert_int_equal(run_cmd(out, sizeof(out),
				 AG " -c %s -L 127.0.0.1:7120 -a " SELF
				    " -n 'a b' run",
				 path("empty.conf")),
			 2);
	assert_non_null(strstr(out, "node_id: \"a b\""));
	assert_int_equal(run_cmd(out, sizeof(out),
				 AG " -c %s -a 127.0.0.300 run",
				 path("empty.conf")),
			 2);
	assert_non_null(strstr(out, "\"127.0.0.300\" is not an IPv4"));
	assert_int_equal(run_cmd(out, sizeof(out), AG " --bogus status"), 2);
	assert_int_equal(run_cmd(out, sizeof(out), AG " frobnicate"), 2);
	assert_non_null(strstr(out, "unknown command \"frobnicate\""));
	assert_int_equal(run_cmd(out, sizeof(out), AG " --help"), 0);
	assert_non_null(strstr(out, "Exit codes"));
}

/* No agent behind the socket (none, or a stale one): 69. */
static void test_status_not_running(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char out[4096];
	int fd;

	(void)state;
	assert_int_equal(run_cmd(out, sizeof(out), AG " -s %s status",
				 path("none.sock")),
			 69);
	assert_non_null(strstr(out, "running?"));
	assert_int_equal(run_cmd(out, sizeof(out), AG " -s %s metrics",
				 path("none.sock")),
			 69);
	/* A socket file left by a killed agent: nobody listens. */
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path("old.sock"));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(run_cmd(out, sizeof(out), AG " -s %s status --json",
				 path("old.sock")),
			 69);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_join),
		T(test_restart_without_token),
		T(test_renewal_and_reconnect),
		T(test_join_cannot_take_over),
		T(test_leader_older_than_node),
		T(test_no_certificate_no_token),
		T(test_wrong_token_refused),
		T(test_wrong_token_status_says_why),
		T(test_peers_policies_fail_closed),
		T(test_removed),
		T(test_needs_net_admin),
		T(test_config_errors),
		T(test_status_not_running),
#undef T
	};
	char self[512], p[600];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return 1;
	self[n] = '\0';
	*strrchr(self, '/') = '\0'; /* <build>/tests */
	snprintf(p, sizeof(p), "%s/../vxsec-agent", self);
	setenv("AG", p, 1);
	snprintf(p, sizeof(p), "%s/../vxsec-keymgr", self);
	setenv("KM", p, 1);
	snprintf(p, sizeof(p), "%s/fakeagents", self);
	setenv("FA", p, 1);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}
