// SPDX-License-Identifier: MIT
/* vxsec-keymgr under hostile clients on loopback: floods that never authenticate, wrong tokens; memory, descriptors, deadlines. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/wire/leader_fixture.h"

/* What 1,000 hostile connections of a kind may cost the leader. */
#define PEAK_OVER_BASE_KB (64 * 1024)

/*
 * ASan keeps up to 256 MiB of freed memory in quarantine and adds red
 * zones to every block: in the sanitize build the leader's VmHWM measures
 * ASan, so the tests say so and check the rest (deadlines, descriptors).
 */
#if defined(__SANITIZE_ADDRESS__)
#define PEAK_CHECKED 0
#else
#define PEAK_CHECKED 1
#endif

/* A field of /proc/<leader>/status in kB. */
static long status_kb(const char *field)
{
	char p[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)leader);
	f = fopen(p, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return v;
}

static int open_fds(void)
{
	char p[64];
	int n = 0;
	DIR *d;

	snprintf(p, sizeof(p), "/proc/%d/fd", (int)leader);
	d = opendir(p);
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;
}

/* The leader's descriptors and what each is: printed when a count is
 * off, so a failure says which ones stayed. */
static void print_fds(const char *when)
{
	char p[64], fp[320], target[256];
	struct dirent *e;
	DIR *d;

	snprintf(p, sizeof(p), "/proc/%d/fd", (int)leader);
	d = opendir(p);
	if (!d)
		return;
	print_message("leader descriptors %s:\n", when);
	while ((e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(fp, sizeof(fp), "%s/%s", p, e->d_name);
		n = readlink(fp, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		print_message("  %s -> %s\n", e->d_name, target);
	}
	closedir(d);
}

static pid_t flood(const char *kind, int n, int sources, int hold)
{
	return spawn("exec " FLOOD " %s %s %s %d %d %d >>%s/flood-%s.log 2>&1",
		     kind, port, path("state/ca.pem"), n, sources, hold, dir,
		     kind);
}

/*
 * 1,000 connections of each kind, all admitted (caps raised), one kind
 * at a time: the leader's peak memory stays within 64 MiB of its
 * baseline, those that stay silent or slow are cut at the 10 s join
 * deadline, and every descriptor comes back. Before the fixes, a header
 * announcing 16 MiB cost 16 MiB each.
 */
static void test_flood_each_kind(void **state)
{
	static const char *const kinds[] = { "hdrclose", "big",	 "tcp",
					     "header",	 "idle", "slow" };
	long base;
	int fds;
	pid_t p;

	(void)state;
	assert_int_equal(
		start_leader("--unauth-max 4000 --unauth-per-source 4000", 10),
		0);
	base = status_kb("VmRSS:");
	fds = open_fds();
	print_fds("before the floods");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		bool held = k >= 3; /* these wait for the deadline */
		char log[64];

		p = flood(kinds[k], 1000, 50, held ? 12 : 0);
		assert_int_equal(wait_exit(&p, 90), 0);
		snprintf(log, sizeof(log), "flood-%s.log", kinds[k]);
		if (held)
			assert_true(file_has(path(log),
					     "still open after 12 s: 0\n"));
		print_message("%s: VmHWM %ld kB over a %ld kB baseline%s\n",
			      kinds[k], status_kb("VmHWM:") - base, base,
			      PEAK_CHECKED ? "" : " (ASan: not checked)");
		assert_true(!PEAK_CHECKED ||
			    status_kb("VmHWM:") - base < PEAK_OVER_BASE_KB);
	}
	/* Up to 30 s: on a loaded machine the leader can take more than 5 s
	 * to see the last of 1,000 connections closed. */
	for (int i = 0; i < 300 && open_fds() > fds; i++)
		usleep(100000);
	if (open_fds() != fds) {
		char cmd[96];

		print_fds("30 s after the floods");
		snprintf(cmd, sizeof(cmd), "ss -tanpe | grep 'pid=%d,' >&2",
			 (int)leader);
		if (system(cmd) != 0)
			print_message("(no TCP socket of the leader)\n");
	}
	assert_int_equal(open_fds(), fds);
	assert_true(file_has(path("leader.log"), "not authenticated within"));
	assert_true(file_has(path("leader.log"), "before authentication"));
}

/*
 * With the default caps, thousands of silent connections from 64
 * addresses hold at most 256 slots (16 per address): the rest are reset
 * at once and summed up in the log, descriptors stay bounded, status
 * answers, and members from other addresses still join.
 */
static void test_flood_capped(void **state)
{
	char out[8192];
	pid_t a, b;
	int fds, peak = 0;

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	fds = open_fds();
	a = flood("tcp", 3000, 8, 8);
	b = flood("idle", 3000, 8, 8);
	for (int i = 0; i < 40; i++) {
		int n = open_fds();

		peak = n > peak ? n : peak;
		usleep(100000);
	}
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s status", sock),
			 0);
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 3 --verify",
				 listen_at, token),
			 0);
	assert_non_null(strstr(out, "verify: 6 ordered pairs"));
	assert_int_equal(wait_exit(&a, 60), 0);
	assert_int_equal(wait_exit(&b, 60), 0);
	print_message("descriptors: %d at start, %d at the peak\n", fds, peak);
	assert_true(peak <= fds + 2 * 256 + 16);
	/* a refused TLS client sees the reset in its handshake */
	assert_true(file_has(path("flood-idle.log"), "refused"));
	assert_false(file_has(path("flood-idle.log"), "refused 0,"));
	assert_true(file_has(path("leader.log"), "limit unauth_per_source"));
}

/*
 * Wrong join tokens from one address: each answered later than the one
 * before (0, 250 ms, 500 ms, ...), and logged as a summary, not a line
 * each.
 */
static void test_wrong_tokens_slowed(void **state)
{
	char out[4096], bad[300], *p;
	struct timespec t0, t1;
	long ms[8];
	FILE *f;
	int lines = 0;

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	snprintf(bad, sizeof(bad), "%s", token);
	p = strrchr(bad, '-') + 1;
	*p = *p == 'A' ? 'B' : 'A'; /* another secret, same CA */
	for (int i = 0; i < 8; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_not_equal(run_cmd(out, sizeof(out),
					     WIRECLI " join %s node-x %s %s",
					     bad, port, dir),
				     0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms[i] = (t1.tv_sec - t0.tv_sec) * 1000 +
			(t1.tv_nsec - t0.tv_nsec) / 1000000;
		assert_non_null(strstr(out, "token secret does not match"));
	}
	print_message("answers after %ld %ld %ld %ld %ld %ld %ld %ld ms\n",
		      ms[0], ms[1], ms[2], ms[3], ms[4], ms[5], ms[6], ms[7]);
	/* wirecli's own time varies by a second: compare far apart */
	assert_true(ms[5] >= 4000 && ms[6] >= 5000 && ms[7] >= 5000);
	assert_true(ms[7] - ms[0] >= 3000);
	f = fopen(path("leader.log"), "r");
	assert_non_null(f);
	while (fgets(out, sizeof(out), f))
		lines += strstr(out, "join refused") != NULL;
	fclose(f);
	assert_true(lines >= 1 && lines < 8);
	assert_true(file_has(path("leader.log"), "8 wrong tokens in all"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, leader_setup, leader_teardown)
		T(test_flood_each_kind),
		T(test_flood_capped),
		T(test_wrong_tokens_slowed),
#undef T
	};

	if (leader_fixture_init("hostile", ""))
		return 1;
	return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
