// SPDX-License-Identifier: MIT
/* vxsec-keymgr on loopback against scripted fake agents: rotation, restarts, removal, tampering, autolock. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/wire/leader_fixture.h"

/* The state on disk holds the revision status shows (nothing unsaved). */
static bool wait_persisted(int secs)
{
	char out[8192];
	unsigned long long rev, saved;

	for (int i = 0; i < secs * 10; i++) {
		const char *p;

		if (run_cmd(out, sizeof(out), KM " -s %s status --json",
			    sock) == 0 &&
		    (p = strstr(out, "\"revision\":")) &&
		    sscanf(p, "\"revision\":%llu,\"persisted_revision\":%llu",
			   &rev, &saved) == 2 &&
		    rev == saved)
			return true;
		usleep(100000);
	}
	print_message("the state on disk never caught up\n");
	return false;
}

static void test_converge_rotate_verify(void **state)
{
	char out[65536];

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA
				 " --leader %s --token %s -n 4 --rotations 2 "
				 "--rotate-cmd '" KM " -s %s rotate' --verify",
				 listen_at, token, sock),
			 0);
	assert_non_null(strstr(out, "verify: 12 ordered pairs"));
	/* protocol 2: both ends of every pair derive the same key */
	assert_non_null(strstr(out, "verify: 12 sampled ordered pairs derive "
				    "the same 12 keys at both ends"));
	assert_true(wait_ctl("status --json", "\"transmit_generation\":3", 5));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s status --json", sock), 0);
	assert_non_null(strstr(out, "\"members\":4"));
	assert_non_null(strstr(out, "\"completed\":2"));
	assert_non_null(strstr(out, "\"generations\":[{\"generation\":3,"
				    "\"phase\":\"committed\"}]"));
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s metrics", sock),
			 0);
	assert_non_null(strstr(out, "\nvxsec_keymgr_members 4\n"));
	assert_non_null(strstr(out, "\nvxsec_keymgr_rotations_total 2\n"));
	assert_non_null(
		strstr(out, "vxsec_keymgr_rotation_phase{phase=\"idle\"} 1"));
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s nodes", sock), 0);
	assert_non_null(strstr(out, "node-00004"));
	assert_non_null(strstr(out, " KEY\n")); /* each member's fingerprint */
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s nodes --json", sock), 0);
	/* Indexes from 1 in join order, which parallel joins do not fix. */
	assert_non_null(strstr(out, "\"id\":\"node-00001\",\"index\":"));
	assert_non_null(strstr(out, "\"index\":1,"));
	assert_null(strstr(out, "\"cert_serial\":\"\"")); /* all known */
	/* each member's static key, base64 of 32 bytes, none pending */
	assert_non_null(strstr(out, "\"keys\":[{\"from_generation\":0,"));
	assert_non_null(strstr(out, "=\",\"keys\":"));
	assert_non_null(strstr(out, "\"pending_key\":null"));
	/* The log never holds the token (nor, below, an unlock key). */
	assert_false(file_has(path("leader.log"), token + 61));
	/* The log names generations and nodes, never a key. */
	assert_true(file_has(path("leader.log"), "generation 2 retired"));
}

static void test_silent_agent_dropped_at_deadline(void **state)
{
	char out[65536];

	(void)state;
	assert_int_equal(start_leader("--ack-deadline 1s", 10), 0);
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 3 --silent 3 "
				    "--rotations 1 --rotate-cmd '" KM
				    " -s %s rotate' --verify",
				 listen_at, token, sock),
			 0);
	assert_true(file_has(path("leader.log"),
			     "no acknowledgement of generation 2"));
	assert_true(wait_ctl("status --json", "\"transmit_generation\":2", 5));
}

/* Rotations come by themselves at the interval, down to a second. */
static void test_periodic_rotation(void **state)
{
	(void)state;
	assert_int_equal(start_leader("--rotate-interval 1s", 10), 0);
	start_agents("-n 2 --verify", "agents.log");
	assert_true(wait_file(path("agents.log"), "holding:", 60));
	assert_true(wait_ctl("status --json", "\"transmit_generation\":4", 20));
	assert_true(
		wait_file(path("agents.log"), "verify: 2 ordered pairs", 10));
	assert_true(file_has(path("leader.log"), "rotation to 3 took"));
}

/* Occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/*
 * A periodic key change (KeyUpdate) takes effect with a later
 * generation: every sampled pair still derives the same keys at both
 * ends, with the old key where a generation uses it and the new one
 * after; once the old key's generations retire, it is gone.
 */
static void test_key_update(void **state)
{
	char out[65536];

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 3 --key-update "
				    "2 --rotations 2 --rotate-cmd '" KM
				    " -s %s rotate' --verify",
				 listen_at, token, sock),
			 0);
	assert_non_null(strstr(out, "node-00002: announced a new static key"));
	assert_non_null(strstr(out, "verify: 6 sampled ordered pairs derive "
				    "the same 6 keys at both ends"));
	assert_true(file_has(path("leader.log"),
			     "node-00002 announced a new static key"));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s nodes --json", sock), 0);
	/* node-00002's first key served only generations now retired */
	assert_int_equal(count_of(out, "\"from_generation\":0,"), 2);
	assert_int_equal(count_of(out, "\"pending_key\":null"), 3);
}

/* An agent's soft-expiry report starts a rotation. */
static void test_soft_expiry_rotates(void **state)
{
	char out[8192];

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 3 --expire 2 "
				    "--timeout 30",
				 listen_at, token),
			 0);
	assert_non_null(strstr(out, "node-00002: reported a soft expiry"));
	assert_true(wait_ctl("status --json", "\"transmit_generation\":2", 10));
	/* Its SPI is 0x020000NN, NN its index: join order decides that. */
	assert_true(file_has(path("leader.log"),
			     "node-00002: soft expiry of SPI 0x020000"));
	assert_true(
		file_has(path("leader.log"), "(generation 1): rotating early"));
}

/* Killed (-9) in a phase, restarted: the rotation resumes and ends. */
static void restart_in(const char *phase, const char *first,
		       const char *agent_args)
{
	char want[64], out[4096], args[256];

	assert_int_equal(mkdir(path("certs"), 0700), 0);
	snprintf(args, sizeof(args), "%s --certs %s", agent_args,
		 path("certs"));
	assert_int_equal(start_leader(first, 10), 0);
	start_agents(args, "agents1.log");
	assert_true(wait_file(path("agents1.log"), "holding:", 60));
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s rotate", sock),
			 0);
	snprintf(want, sizeof(want), "\"phase\":\"%s\",\"target\":2", phase);
	assert_true(wait_ctl("status --json", want, 20));
	/* Killed once the phase is on disk: it must resume from there. */
	assert_true(wait_persisted(10));
	stop(&leader, SIGKILL);
	stop(&agents, SIGTERM);
	/* The same nodes come back, with their certificates. */
	assert_int_equal(start_leader("--grace 1s", 10), 0);
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s status --json", sock), 0);
	/* Grace restarts at 1 s: it may be over already. */
	assert_true(strstr(out, want) != NULL || strcmp(phase, "grace") == 0);
	snprintf(args, sizeof(args), "-n 3 --certs %s", path("certs"));
	start_agents(args, "agents2.log");
	assert_true(wait_ctl("status --json",
			     "\"generations\":[{\"generation\":2,"
			     "\"phase\":\"committed\"}]",
			     30));
	assert_true(wait_ctl("status --json", "\"connected\":3", 10));
}

static void test_restart_in_prepare(void **state)
{
	(void)state;
	/* A silent agent holds the prepare open. */
	restart_in("prepare", "", "-n 3 --silent 3");
}

static void test_restart_in_grace(void **state)
{
	(void)state;
	restart_in("grace", "--grace 60s", "-n 3");
}

static void test_remove_node(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	start_agents("-n 3 --verify", "agents.log");
	assert_true(wait_file(path("agents.log"), "holding:", 60));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s remove node-00002", sock),
		0);
	assert_non_null(strstr(out, "node-00002 removed"));
	/* A rotation follows; the two left verify against each other. */
	assert_true(wait_ctl("status --json",
			     "\"generations\":[{\"generation\":2,"
			     "\"phase\":\"committed\"}]",
			     20));
	assert_true(
		wait_ctl("status --json", "\"members\":2,\"connected\":2", 10));
	assert_true(
		wait_file(path("agents.log"), "verify: 2 ordered pairs", 10));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s remove node-00002", sock),
		1);
	assert_non_null(strstr(out, "already removed"));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s remove nosuch", sock), 1);
	assert_non_null(strstr(out, "not a member"));
	/* Its id can never join again, even with the current token. */
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 1 --first 2 "
				    "--timeout 20",
				 listen_at, token),
			 1);
	assert_non_null(strstr(out, "removed"));
}

static void test_token_rotation(void **state)
{
	char out[4096], old[256];

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	snprintf(old, sizeof(old), "%s", token);
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s token rotate", sock), 0);
	assert_null(strstr(out, old));
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 1 --timeout 20",
				 listen_at, old),
			 1);
	assert_non_null(strstr(out, "token"));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s token show", sock), 0);
	out[strcspn(out, "\n")] = '\0';
	snprintf(token, sizeof(token), "%.200s", out);
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 1 --timeout 20",
				 listen_at, token),
			 0);
}

static void read_all(const char *p, uint8_t *buf, size_t *len, size_t max)
{
	FILE *f = fopen(p, "rb");

	assert_non_null(f);
	*len = fread(buf, 1, max, f);
	fclose(f);
}

static void test_tampered_state_refused(void **state)
{
	static uint8_t before[1 << 16], after[1 << 16];
	size_t n, m;
	char *st = path("state/state");

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	stop(&leader, SIGTERM);
	read_all(st, before, &n, sizeof(before));
	assert_true(n > 100);
	before[n / 2] ^= 0x20;
	FILE *f = fopen(st, "r+b");
	assert_non_null(f);
	assert_int_equal(fwrite(before, 1, n, f), n);
	fclose(f);
	assert_int_equal(start_leader("", 10), 3);
	assert_true(file_has(path("leader.log"), "authentication failed"));
	read_all(st, after, &m, sizeof(after));
	assert_int_equal(m, n);
	assert_memory_equal(after, before, n); /* nothing overwritten */
}

/* A state of format 1 (protocol 1's masters) is refused, never misread. */
static void test_format_1_refused(void **state)
{
	static uint8_t before[1 << 16], after[1 << 16];
	size_t n, m;
	char *st = path("state/state");

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	stop(&leader, SIGTERM);
	read_all(st, before, &n, sizeof(before));
	assert_true(n > 100);
	assert_int_equal(before[8] << 8 | before[9], 2); /* format 2 now */
	before[9] = 1;
	FILE *f = fopen(st, "r+b");
	assert_non_null(f);
	assert_int_equal(fwrite(before, 1, n, f), n);
	fclose(f);
	assert_int_equal(start_leader("", 10), 3);
	assert_true(file_has(path("leader.log"),
			     "format 1 (before protocol 2): its generation "
			     "masters cannot serve protocol 2 agents"));
	assert_true(file_has(path("leader.log"), "new state directory"));
	read_all(st, after, &m, sizeof(after));
	assert_int_equal(m, n);
	assert_memory_equal(after, before, n); /* kept for a rollback */
}

static void test_autolock(void **state)
{
	char out[4096], key[128], *k, arg[256], part[24];
	FILE *f;

	(void)state;
	assert_int_equal(run_cmd(out, sizeof(out),
				 KM " -d %s/state init --autolock", dir),
			 0);
	assert_non_null(strstr(out, "join token: VXSEC-1-"));
	k = strstr(out, "unlock key: ");
	assert_non_null(k);
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(k + 12, "\n"), k + 12);
	assert_int_equal(strncmp(key, "VXSEC-UNLOCK-", 13), 0);
	assert_false(file_has(path("state/state"), key));
	/* Without the key: refused, exit code 3. */
	assert_int_equal(start_leader("", 10), 3);
	assert_true(file_has(path("leader.log"), "unlock key"));
	/* A key cut short: refused with the reason, never quoted. */
	f = fopen(path("unlock"), "w");
	assert_non_null(f);
	fprintf(f, "%.*s\n", (int)strlen(key) - 1, key);
	fclose(f);
	snprintf(arg, sizeof(arg), "--unlock-key-file %s", path("unlock"));
	assert_int_equal(start_leader(arg, 10), 3);
	assert_true(file_has(path("leader.log"),
			     "does not hold an unlock key (VXSEC-UNLOCK-...): "
			     "not an unlock key: VXSEC-UNLOCK- must be "
			     "followed by 52 base32 characters, not 51"));
	snprintf(part, sizeof(part), "%.20s", key + 13);
	assert_false(file_has(path("leader.log"), part));
	f = fopen(path("unlock"), "w");
	assert_non_null(f);
	fprintf(f, "%s\n", key);
	fclose(f);
	assert_int_equal(start_leader(arg, 10), 0);
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s unlock-key show", sock),
		0);
	assert_non_null(strstr(out, key));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s unlock-key rotate", sock),
		0);
	assert_null(strstr(out, key));
	assert_non_null(strstr(out, "VXSEC-UNLOCK-"));
	assert_false(file_has(path("leader.log"), key + 13));
	assert_false(file_has(path("leader.log"), out + 13));
	stop(&leader, SIGTERM);
	/* The old key no longer opens it; the new one does. */
	assert_int_equal(start_leader(arg, 10), 3);
	f = fopen(path("unlock"), "w");
	assert_non_null(f);
	fputs(out, f);
	fclose(f);
	assert_int_equal(start_leader(arg, 10), 0);
}

static void test_cli_errors(void **state)
{
	char out[8192];
	FILE *f;

	(void)state;
	assert_int_equal(run_cmd(out, sizeof(out), KM " --help"), 0);
	assert_non_null(strstr(out, "Exit codes"));
	assert_int_equal(run_cmd(out, sizeof(out), KM " --bogus status"), 2);
	assert_int_equal(run_cmd(out, sizeof(out), KM " frobnicate"), 2);
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s/none.sock status", dir),
		69);
	assert_non_null(strstr(out, "running?"));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -c %s/none.conf status", dir),
		2);
	f = fopen(path("bad.conf"), "w");
	assert_non_null(f);
	fputs("# a comment\nrotate_interval = 12h\ncolour = blue\n", f);
	fclose(f);
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -c %s status", path("bad.conf")),
		2);
	assert_non_null(strstr(out, "bad.conf:3: unknown setting \"colour\""));
	assert_int_equal(run_cmd(out, sizeof(out), KM " --grace soon status"),
			 2);
	assert_non_null(strstr(out, "is not a duration"));
	assert_int_equal(start_leader("", 10), 0);
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s token frob", sock), 2);
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s remove", sock),
			 2);
}

/* Certificates renew over the session, and by themselves when short. */
static void test_certificate_renewal(void **state)
{
	char out[8192];
	const char *c = path("n1");

	(void)state;
	assert_int_equal(start_leader("--cert-lifetime 10s", 10), 0);
	assert_int_equal(mkdir(c, 0700), 0);
	assert_int_equal(run_cmd(out, sizeof(out),
				 "$WIRECLI join %s node-1 %s %s", token, port,
				 c),
			 0);
	assert_int_equal(
		run_cmd(out, sizeof(out), "$WIRECLI renew %s %s", c, port), 0);
	assert_non_null(strstr(out, "renewed as node-1"));
	/* 9 s of session: a renewal is due between 5 and 8 s. */
	assert_int_equal(
		run_cmd(out, sizeof(out), "$WIRECLI session %s %s 9", c, port),
		0);
	assert_non_null(strstr(out, "session open"));
	assert_non_null(strstr(out, "renewed as node-1 (renewal 1)"));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s nodes --json", sock), 0);
	assert_non_null(strstr(out, "\"state\":\"disconnected\""));
}

/* Garbage on the agent port ends that connection only. */
static void test_garbage_connection(void **state)
{
	char out[8192];
	struct sockaddr_in a = { .sin_family = AF_INET };
	char *colon;
	int fd;

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	colon = strrchr(listen_at, ':');
	a.sin_port = htons((uint16_t)atoi(colon + 1));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	/* The leader closes it: read returns 0 (or a reset). */
	assert_true(read(fd, out, sizeof(out)) <= 0);
	close(fd);
	/* The leader says why, in one line. */
	snprintf(out, sizeof(out), "%s/leader.log", dir);
	assert_true(wait_file(out, "TLS handshake failed: ", 10));
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 2 --verify",
				 listen_at, token),
			 0);
	assert_non_null(strstr(out, "verify: 2 ordered pairs"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, leader_setup, leader_teardown)
		T(test_converge_rotate_verify),
		T(test_silent_agent_dropped_at_deadline),
		T(test_periodic_rotation),
		T(test_soft_expiry_rotates),
		T(test_key_update),
		T(test_restart_in_prepare),
		T(test_restart_in_grace),
		T(test_remove_node),
		T(test_token_rotation),
		T(test_tampered_state_refused),
		T(test_format_1_refused),
		T(test_autolock),
		T(test_cli_errors),
		T(test_certificate_renewal),
		T(test_garbage_connection),
#undef T
	};

	if (leader_fixture_init("keymgr", "--ack-deadline 30s --grace 0s"))
		return 1;
	return cmocka_run_group_tests_name("keymgr", tests, NULL, NULL);
}
