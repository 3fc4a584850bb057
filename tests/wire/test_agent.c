// SPDX-License-Identifier: MIT
/* vxsec-agent as a process against the real leader, each case in a fresh network namespace on loopback: join, restart, renewal, takeover (an id, the leader's name, a member's address) and stale-leader refusals, a list of leader instances, terms, fail-closed policies, removal. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/wire/agent_fixture.h"
#include "tests/wire/probe.h"

/* First start with the token: joined, connected, credentials on disk. */
static void test_join(void **state)
{
	char out[16384], fpr[45];
	struct stat st;

	(void)state;
	NEED_NETNS();
	join_agent();
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"node_id\":\"agent-1\""));
	assert_non_null(strstr(out, "\"session\":\"connected\""));
	assert_non_null(strstr(out, "\"last_error\":null"));
	/* No peer yet: the default catch-all alone, for its IPv4 address. */
	assert_non_null(strstr(out, "\"sas\":0,\"policies\":2,"));
	assert_non_null(strstr(out, "\"catchall\":\"0.0.0.0/0\""));
	assert_non_null(strstr(out, "\"peers\":[]"));
	assert_int_equal(stat(path("agent/node.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(path("agent"), &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	assert_int_equal(access(path("agent/node.pem"), R_OK), 0);
	/* Its X25519 static key: 0600, shown as a fingerprint, never logged
	 * as anything else. */
	assert_int_equal(stat(path("agent/static.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(own_fingerprint(fpr));
	assert_true(file_has(path("agent.log"), fpr));
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
	char out[8192], fpr[45], again[45];

	(void)state;
	NEED_NETNS();
	join_agent();
	assert_true(own_fingerprint(fpr));
	kill(agent, SIGTERM);
	assert_int_equal(wait_exit(&agent, 10), 0);
	assert_true(file_has(path("agent.log"), "stopping"));
	start_agent("", "agent2.log");
	assert_true(wait_status("\"in_sync\":true", 20));
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"session\":\"connected\""));
	assert_false(file_has(path("agent2.log"), "joined the cluster"));
	/* The same static key, from static.key (same boot). */
	assert_true(own_fingerprint(again));
	assert_string_equal(fpr, again);
	assert_false(file_has(path("agent2.log"), "new static key"));
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
	char out[8192], pem[4096] = "";
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
	/* The leader's own certificate has that life too, renewed at half
	 * of it: a handshake 12 s after the start still finds a valid one. */
	assert_true(wait_file(path("leader.log"),
			      "the leader's own certificate was renewed", 15));
	sleep(12);
	assert_int_equal(run_cmd(out, sizeof(out),
				 "openssl s_client -connect %s -CAfile "
				 "$D/km/ca.pem -verify_return_error -brief "
				 "</dev/null 2>&1",
				 listen_at),
			 0);
	assert_non_null(strstr(out, "Verification: OK"));
	stop(&leader, SIGKILL);
	assert_true(wait_status("\"session\":\"waiting to reconnect\"", 10));
	leader = spawn("exec " KM " -d $D/km -s $D/km.sock -l %s run "
		       "2>>$D/leader.log",
		       listen_at);
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
	char out[8192];
	pid_t twin, fake, same;

	(void)state;
	NEED_NETNS();
	join_agent();
	twin = spawn(
		"exec " AG " -c $D/empty.conf -L %s -a 127.0.0.9 -n agent-1 "
		"-t $D/token -d $D/twin -s $D/twin.sock run >>$D/twin.log 2>&1",
		listen_at);
	fake = spawn("exec " AG " -c $D/empty.conf -L %s -a 127.0.0.8 -n "
		     "vxsec-leader -t $D/token -d $D/fake -s $D/fake.sock run "
		     ">>$D/fake.log 2>&1",
		     listen_at);
	/* A new id on agent-1's underlay address. */
	same = spawn("exec " AG " -c $D/empty.conf -L %s -a " SELF
		     " -n agent-2 "
		     "-t $D/token -d $D/same -s $D/same.sock run >>$D/same.log "
		     "2>&1",
		     listen_at);
	assert_true(wait_file(path("twin.log"), "already a member", 20));
	assert_true(wait_file(path("fake.log"), "the leader's own", 20));
	assert_true(wait_file(path("same.log"),
			      "is member agent-1's: two members cannot "
			      "share one",
			      20));
	stop(&twin, SIGTERM);
	stop(&fake, SIGTERM);
	stop(&same, SIGTERM);
	assert_int_not_equal(access(path("twin/node.pem"), F_OK), 0);
	assert_int_not_equal(access(path("fake/node.pem"), F_OK), 0);
	assert_int_not_equal(access(path("same/node.pem"), F_OK), 0);
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
	/* The refusal is logged before the connection has closed. */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(status(out, sizeof(out), "--json"), 0);
		if (strstr(out, "\"session\":\"waiting to reconnect\""))
			break;
		usleep(100000);
	}
	assert_non_null(strstr(out, "\"session\":\"waiting to reconnect\""));
	assert_non_null(strstr(out, "an old backup?"));
}

/*
 * leader = a list whose first instance is down (port 1: nothing listens
 * in this namespace): the agent moves to the next address at once, joins
 * there and stays; no backoff before it does (the log never says
 * "retrying in"). Status names the address in use, every instance and
 * the term (0: a leader without election), and the revision file holds
 * the term next to the revision.
 */
static void test_leader_list_skips_a_dead_instance(void **state)
{
	char out[16384], want[160], extra[160];

	(void)state;
	NEED_NETNS();
	start_leader();
	snprintf(extra, sizeof(extra), "-L 127.0.0.1:1,%s -t $D/token",
		 listen_at);
	start_agent(extra, "agent.log");
	assert_true(wait_status("\"in_sync\":true", 20));
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	snprintf(want, sizeof(want), "\"leader\":\"%s\"", listen_at);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "\"leaders\":[\"127.0.0.1:1\",\"%s\"]",
		 listen_at);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "\"term\":0,"));
	assert_non_null(strstr(out, "\"session\":\"connected\""));
	assert_true(file_has(path("agent.log"), "leader 127.0.0.1:1: "));
	assert_false(file_has(path("agent.log"), "retrying in"));
	assert_true(file_has(path("agent/revision"), " 0\n"));
	assert_int_equal(status(out, sizeof(out), ""), 0);
	snprintf(want, sizeof(want), "leader %s (term 0): connected",
		 listen_at);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "leader instances: 127.0.0.1:1,"));
}

/*
 * The node's kernel holds a revision of term 5 (an etcd-backed leader
 * served it); this leader is of term 0: it is not the leader. It refuses
 * the hello with ERROR_NOT_LEADER, and the agent changes nothing and
 * keeps trying (its list has no other instance).
 */
static void test_leader_of_older_term_refuses(void **state)
{
	char out[16384];
	FILE *f;

	(void)state;
	NEED_NETNS();
	join_agent();
	kill(agent, SIGTERM);
	assert_int_equal(wait_exit(&agent, 10), 0);
	f = fopen(path("agent/revision"), "w");
	assert_non_null(f);
	fprintf(f, "1 5\n");
	fclose(f);
	start_agent("", "agent2.log");
	assert_true(wait_file(path("agent2.log"),
			      "this instance's term 0 is older than the "
			      "agent's 5: it is not the leader",
			      20));
	assert_true(file_has(path("leader.log"),
			     "refused: this instance's term 0 is older"));
	assert_true(wait_file(path("agent2.log"), "retrying in", 20));
	assert_true(alive(&agent));
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"term\":5,"));
	assert_non_null(strstr(out, "it is not the leader"));
	assert_null(strstr(out, "\"session\":\"connected\""));
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
 * Two peers: the agent installs their four policies and the catch-all's
 * two. The host has no ESP,
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
	/* 4 for the pairs, and the catch-all's in (its block has no tmpl) */
	assert_int_equal(ours("policy", out, sizeof(out)), 5);
	assert_int_equal(count(out, "dir out"), 3);
	assert_int_equal(count(out, "dir in"), 3);
	assert_int_equal(count(out, "action block priority 2000"), 1);
	assert_non_null(strstr(out, "src 0.0.0.0/0 dst " SELF "/32 "
				    "proto udp dport 4789"));
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
	assert_non_null(strstr(out, "(NOT in sync), 4 SAs, 6 policies"));
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

/* One UDP datagram of len bytes (fill) to 127.0.0.1:port. */
static void send_udp(uint16_t port, uint8_t fill, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	uint8_t buf[64] = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0 && len <= sizeof(buf));
	memset(buf + 4, fill, len > 4 ? len - 4 : 0); /* after the marker */
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(
		sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)),
		(ssize_t)len);
	close(fd);
}

/*
 * Who is behind NAT (docs/nat.md). The leader listens on [::] (dual
 * stack: an IPv4 client's source is ::ffff:127.0.0.1, which must equal
 * the 127.0.0.1 the agent's socket has). A fake agent whose hello names
 * another local address than its socket's (as one behind NAT would) is
 * found behind NAT, its public address the source it comes from; the
 * real agent, connecting as it is, is not; and it sees its peer's.
 */
static void test_nat_detected(void **state)
{
	char out[65536], port[16];

	(void)state;
	NEED_NETNS();
	start_leader_with("-l [::]:0");
	assert_non_null(strstr(listen_at, "[::]:"));
	snprintf(port, sizeof(port), "%s", strrchr(listen_at, ':'));
	snprintf(listen_at, sizeof(listen_at), "127.0.0.1%s", port);
	start_agent("-t $D/token", "agent.log");
	assert_true(wait_status("\"in_sync\":true", 20));
	fakes = spawn("exec " FA
		      " --leader %s --token-file $D/token -n 1 --hold "
		      "--claim-local 192.168.77.7 >$D/fakes.log 2>&1",
		      listen_at);
	assert_true(wait_file(path("fakes.log"), "holding:", 30));
	assert_true(wait_status("\"public_address\":\"127.16.0.2\"", 20));

	/* the leader: node-00001 came from 127.16.0.2, said 192.168.77.7;
	 * found behind NAT at its hello after the join, a new incarnation */
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s nodes --json",
				 path("km.sock")),
			 0);
	assert_non_null(strstr(out, "{\"id\":\"node-00001\",\"index\":2,"
				    "\"incarnation\":2,"));
	assert_non_null(strstr(out,
			       "\"underlay\":[\"127.16.0.2\"],\"nat\":true,"
			       "\"public_address\":\"127.16.0.2\""));
	assert_non_null(strstr(out, "{\"id\":\"agent-1\",\"index\":1,"
				    "\"incarnation\":1,"));
	assert_non_null(strstr(out, "\"underlay\":[\"" SELF "\"],\"nat\":false,"
				    "\"public_address\":null"));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s nodes", path("km.sock")),
		0);
	assert_int_equal(count(out, "behind NAT, public address 127.16.0.2\n"),
			 1);
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s status --json",
				 path("km.sock")),
			 0);
	assert_non_null(strstr(
		out, "\"members\":2,\"connected\":2,\"members_nat\":1,"));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s metrics", path("km.sock")),
		0);
	assert_non_null(strstr(out, "\nvxsec_keymgr_members_nat 1\n"));

	/* the agent: its peer behind NAT, itself not */
	assert_int_equal(status(out, sizeof(out), "--json"), 0);
	assert_non_null(strstr(out, "\"nat\":false,\"public_address\":null,"
				    "\"generations\""));
	assert_non_null(strstr(out, "\"node_id\":\"node-00001\",\"index\":2,"
				    "\"incarnation\":2,"));
	assert_non_null(strstr(out, "\"nat\":true,\"public_address\":"
				    "\"127.16.0.2\",\"path\":\"esp-in-udp\","
				    "\"port\":4500,\"refused\":null,\"sas\""));
	assert_int_equal(status(out, sizeof(out), ""), 0);
	assert_non_null(strstr(out, "  node-00001           127.16.0.2"));
	assert_non_null(
		strstr(out, "   behind NAT, public address 127.16.0.2\n"));
	assert_non_null(strstr(out, "   ESP in UDP: 4500 -> port 4500\n"));
	assert_null(strstr(out, "\nbehind NAT")); /* itself: not */
	assert_int_equal(run_cmd(out, sizeof(out), AG " -s %s metrics",
				 path("agent.sock")),
			 0);
	assert_non_null(strstr(out, "\nvxsec_agent_nat 0\n"));
	assert_non_null(strstr(out, "\nvxsec_agent_peers_nat 1\n"));
	/* its ESP-in-UDP socket is open: what is no authentic probe is
	 * counted and dropped (a probe-sized forgery, a short datagram) */
	send_udp(4500, 0x5a, 48);
	send_udp(4500, 0x5a, 20);
	for (int i = 0; i < 50 && !strstr(out, "refused_total 2\n"); i++) {
		usleep(100000);
		assert_int_equal(run_cmd(out, sizeof(out), AG " -s %s metrics",
					 path("agent.sock")),
				 0);
	}
	assert_non_null(
		strstr(out, "\nvxsec_agent_nat_probes_refused_total 2\n"));
	assert_non_null(
		strstr(out, "\nvxsec_agent_nat_probes_accepted_total 0\n"));
	assert_true(file_has(path("leader.log"),
			     "node-00001 connected (index 2, incarnation 2, "
			     "behind NAT at 127.16.0.2"));
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
	assert_int_equal(ours("policy", out, sizeof(out)), 5); /* +catch-all */
	assert_int_equal(count(out, "action block priority 2000"), 1);
	assert_int_equal(ours("state", out, sizeof(out)), 0);
	/* Started again, its certificate is refused: 3 again. */
	start_agent("", "agent2.log");
	assert_int_equal(wait_exit(&agent, 15), 3);
	assert_true(file_has(path("agent2.log"), "removed from the cluster"));
	assert_int_equal(ours("policy", out, sizeof(out)), 5);
}

/*
 * Under systemd, scraped: READY=1 once the kernel holds the first
 * revision, GET /metrics as the metrics command; restarted with no leader
 * answering, READY=1 once a pass through its list failed (the kernel
 * keeps its policies); STOPPING=1 at SIGTERM.
 */
static void test_notify_and_metrics(void **state)
{
	char log[4096] = "", at[64], out[16384];
	int fd;

	(void)state;
	NEED_NETNS();
	start_leader();
	fd = probe_notify_bind(path("notify"));
	setenv("NOTIFY_SOCKET", path("notify"), 1);
	start_agent("-t $D/token --metrics-listen 127.0.0.1:0", "agent.log");
	unsetenv("NOTIFY_SOCKET");
	assert_true(probe_notify_wait(fd, "READY=1\nSTATUS=connected", 20, log,
				      sizeof(log)));
	assert_non_null(strstr(log, "(in sync)"));
	assert_true(probe_metrics_addr(path("agent.log"), at, sizeof(at), 5));
	assert_int_equal(run_cmd(out, sizeof(out),
				 "curl -sS -i --max-time 5 http://%s/metrics",
				 at),
			 0);
	assert_non_null(
		strstr(out, "Content-Type: text/plain; version=0.0.4\r\n"));
	assert_non_null(strstr(out, "\nvxsec_agent_connected 1\n"));
	assert_non_null(strstr(out, "\nvxsec_agent_in_sync 1\n"));
	assert_non_null(strstr(out, "# TYPE vxsec_xfrm_stat counter\n"));
	kill(agent, SIGTERM);
	assert_true(probe_notify_wait(fd, "STOPPING=1", 5, log, sizeof(log)));
	assert_int_equal(wait_exit(&agent, 10), 0);
	stop(&leader, SIGTERM);
	/* A kernel without our policies: the catch-all goes in at start. */
	assert_int_equal(run_cmd(out, sizeof(out), "ip xfrm policy flush"), 0);
	log[0] = '\0';
	setenv("NOTIFY_SOCKET", path("notify"), 1);
	start_agent("", "agent2.log");
	unsetenv("NOTIFY_SOCKET");
	assert_true(probe_notify_wait(fd,
				      "READY=1\nSTATUS=waiting to reconnect",
				      10, log, sizeof(log)));
	assert_true(file_has(path("agent2.log"), "ready without a leader"));
	assert_int_equal(count(log, "READY=1"), 1);
	assert_true(file_has(path("agent2.log"), "catch-all in the kernel (2 "
						 "policies) before"));
	assert_int_equal(ours("policy", out, sizeof(out)), 1);
	assert_int_equal(count(out, "action block priority 2000"), 1);
	close(fd);
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
		T(test_leader_list_skips_a_dead_instance),
		T(test_leader_of_older_term_refuses),
		T(test_wrong_token_refused),
		T(test_wrong_token_status_says_why),
		T(test_peers_policies_fail_closed),
		T(test_nat_detected),
		T(test_removed),
		T(test_notify_and_metrics),
#undef T
	};

	if (fixture_env())
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}
