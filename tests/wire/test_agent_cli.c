// SPDX-License-Identifier: MIT
/* vxsec-agent's command line as a process: no certificate nor token, no CAP_NET_ADMIN, configuration errors, no agent running, --help's commands and every one served (both daemons). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/wire/agent_fixture.h"

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

/*
 * --help, and the usage an unknown command gets, put each daemon's table
 * (its lines: test_ctl_keymgr, test_ctl_agent) between "Commands" and
 * "Options", as the usage text did before the tables.
 */
static void test_help_lists_commands(void **state)
{
	static const char km[] =
		"as root):\n"
		"  status [--json]        revision, members, generations, "
		"rotation\n"
		"  nodes [--json] ";
	static const char km_end[] = "  metrics                the same "
				     "figures in Prometheus text format\n"
				     "\nOptions (";
	static const char ag[] =
		"control socket):\n"
		"  status [--json]  leader session, revisions, generations, "
		"per-peer\n";
	static const char ag_end[] = "  sync             reconcile with the "
				     "kernel now\n\nOptions (";
	char out[8192];

	(void)state;
	assert_int_equal(run_cmd(out, sizeof(out), KM " --help"), 0);
	assert_non_null(strstr(out, km));
	assert_non_null(strstr(out, km_end));
	assert_int_equal(run_cmd(out, sizeof(out), KM " nodez"), 2);
	assert_non_null(strstr(out, "vxsec-keymgr: unknown command \"nodez\"\n"
				    "\nusage: vxsec-keymgr"));
	assert_non_null(strstr(out, km));
	assert_non_null(strstr(out, km_end));
	assert_int_equal(run_cmd(out, sizeof(out), AG " --help"), 0);
	assert_non_null(strstr(out, ag));
	assert_non_null(strstr(out, ag_end));
	assert_int_equal(run_cmd(out, sizeof(out), AG " nodes"), 2);
	assert_non_null(strstr(out, "vxsec-agent: unknown command \"nodes\"\n"
				    "\nusage: vxsec-agent"));
	assert_non_null(strstr(out, ag));
	assert_non_null(strstr(out, ag_end));
}

/* The first words of the lines under "Commands" in `prog --help`. */
static int listed(const char *prog, char names[][32], int max)
{
	char out[8192], *line, *save = NULL;
	bool in = false;
	int n = 0;

	assert_int_equal(run_cmd(out, sizeof(out), "%s --help", prog), 0);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "Commands (", 10) == 0) {
			in = true;
			continue;
		}
		if (in && strncmp(line, "  ", 2) != 0)
			break;
		if (in && line[2] != ' ' && n < max)
			snprintf(names[n++], sizeof(names[0]), "%.*s",
				 (int)strcspn(line + 2, " "), line + 2);
	}
	return n;
}

/*
 * Each command --help lists, sent as its bare name: the command line
 * sends it (no "unknown command" of its own, no 69) and the daemon's
 * dispatcher serves it (no "unknown command" reply). Both read one table,
 * and an entry without a handler would be refused as unknown.
 */
static void serves_each_listed(const char *prog, const char *sock,
			       const char *want)
{
	char out[16384], names[16][32], got[512] = "";
	int n = listed(prog, names, 16), rc;

	for (int i = 0; i < n; i++) {
		rc = run_cmd(out, sizeof(out), "%s -c $D/empty.conf -s %s %s",
			     prog, sock, names[i]);
		assert_int_not_equal(rc, 69);
		if (strstr(out, "unknown command"))
			fail_msg("%s %s: refused as unknown", prog, names[i]);
		strcat(got, " ");
		strcat(got, names[i]);
	}
	assert_string_equal(got, want);
}

static void test_every_listed_command_served(void **state)
{
	(void)state;
	NEED_NETNS();
	join_agent();
	serves_each_listed(KM, "$D/km.sock",
			   " status nodes token rotate remove unlock-key "
			   "metrics");
	serves_each_listed(AG, "$D/agent.sock", " status metrics sync");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_no_certificate_no_token),
		T(test_needs_net_admin),
		T(test_config_errors),
		T(test_status_not_running),
		T(test_help_lists_commands),
		T(test_every_listed_command_served),
#undef T
	};

	if (fixture_env())
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("agent_cli", tests, NULL, NULL);
}
