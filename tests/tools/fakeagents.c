// SPDX-License-Identifier: MIT
/* fakeagents: N simulated agents in one process, and the leader's benchmark driver. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakeagents.h"

#define PROGRESS_MS 10000
#define SETTLE_MS 300

extern char **environ;

double fa_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *fa_id(const struct fa_run *r, const struct fa_agent *a)
{
	return fa_names_get(&r->names, a->gid);
}

void fa_fail(struct fa_run *r, const struct fa_agent *a, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "fakeagents: ");
	if (a)
		fprintf(stderr, "%s: ", fa_id(r, a));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	r->rc = 1;
	if (!r->holding)
		r->stop = true;
}

/* ---- the rotate command ---- */

static int spawn(struct fa_driver *d, const char *name, const char *cmd)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int err;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGCHLD);
	d->cmd_name = name;
	d->cmd = cmd;
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	fflush(stdout);
	err = posix_spawn(&d->child, "/bin/sh", NULL, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	return -err;
}

static void reap(struct fa_driver *d)
{
	int status;

	if (d->child <= 0 || waitpid(d->child, &status, WNOHANG) <= 0)
		return;
	d->child = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	fa_fail(d->r, NULL, "%s command %s %d: %s", d->cmd_name,
		WIFEXITED(status) ? "exited with status" : "killed by signal",
		WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		d->cmd);
}

static void start_rotation(struct fa_driver *d)
{
	struct fa_run *r = d->r;
	uint32_t i, c;
	int err;

	r->g0 = 0;
	for (i = 0; i < r->o.n; i++) {
		r->agents[i].rotated = false;
		r->agents[i].rx_mark = fa_agent_rx(&r->agents[i]);
		c = fa_state_committed(&r->agents[i].st);
		if (r->agents[i].phase == FA_LIVE && c > r->g0)
			r->g0 = c;
	}
	r->n_rotated = 0;
	r->t_rotated = 0;
	r->rotating = true;
	d->stage = FA_ST_ROTATE;
	d->t_cmd = fa_now();
	err = spawn(d, "rotate", r->o.rotate_cmd);
	if (err)
		fa_fail(r, NULL, "cannot run the rotate command: %s",
			strerror(-err));
}

/* ---- the failover command ---- */

static void start_failover(struct fa_driver *d)
{
	struct fa_run *r = d->r;
	uint32_t i;
	int err;

	r->fo_term = 0;
	for (i = 0; i < r->o.n; i++) {
		r->agents[i].failed_over = false;
		if (r->agents[i].term > r->fo_term)
			r->fo_term = r->agents[i].term;
	}
	r->fo_rev = r->max_rev;
	r->fo_want = r->n_live;
	r->n_failed_over = 0;
	r->t_failed_over = 0;
	r->failing_over = true;
	d->stage = FA_ST_FAILOVER;
	printf("failover: running the command at revision %llu, term %llu: "
	       "%s\n",
	       (unsigned long long)r->fo_rev, (unsigned long long)r->fo_term,
	       r->o.failover_cmd);
	d->t_cmd = fa_now();
	err = spawn(d, "failover", r->o.failover_cmd);
	if (err)
		fa_fail(r, NULL, "cannot run the failover command: %s",
			strerror(-err));
}

static void failover_done(struct fa_driver *d)
{
	struct fa_run *r = d->r;
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t i;

	for (i = 0; i < r->o.n; i++) {
		if (!r->agents[i].failed_over)
			continue;
		lo = r->agents[i].term < lo ? r->agents[i].term : lo;
		hi = r->agents[i].term > hi ? r->agents[i].term : hi;
	}
	d->failover_secs = r->t_failed_over - d->t_cmd;
	r->failing_over = false;
	printf("failover: %u agents in sync with term %llu after %.3f s",
	       r->n_failed_over, (unsigned long long)hi, d->failover_secs);
	if (lo != hi)
		printf(" (some with term %llu)", (unsigned long long)lo);
	printf("; revision %llu, %llu tries of another address, %llu "
	       "not-leader refusals\n",
	       (unsigned long long)r->max_rev, (unsigned long long)r->n_retries,
	       (unsigned long long)r->n_not_leader);
	d->stage = FA_ST_CONVERGE;
}

/* ---- where the run is ---- */

/* Up to five agents for which waiting(a) holds, as ", a b c". */
static void name_some(struct fa_run *r,
		      bool (*waiting)(struct fa_run *, struct fa_agent *),
		      char *out, size_t len)
{
	uint32_t i, k = 0;
	size_t off = 0;

	out[0] = '\0';
	for (i = 0; i < r->o.n && k < 5 && off < len; i++)
		if (waiting(r, &r->agents[i]))
			off += (size_t)snprintf(out + off, len - off, "%s%s",
						k++ ? " " : ": ",
						fa_id(r, &r->agents[i]));
}

static bool no_snapshot(struct fa_run *r, struct fa_agent *a)
{
	(void)r;
	return !a->st.have_snapshot;
}

static bool behind(struct fa_run *r, struct fa_agent *a)
{
	return a->phase == FA_LIVE && !a->silent && a->counted != r->max_rev;
}

static bool not_failed_over(struct fa_run *r, struct fa_agent *a)
{
	(void)r;
	return !a->silent && !a->failed_over && a->phase != FA_GONE;
}

static bool not_rotated(struct fa_run *r, struct fa_agent *a)
{
	(void)r;
	return a->phase == FA_LIVE && !a->silent && !a->rotated;
}

static void describe(struct fa_driver *d, char *out, size_t len)
{
	struct fa_run *r = d->r;
	char who[256];

	if (d->stage == FA_ST_JOIN) {
		name_some(r, no_snapshot, who, sizeof(who));
		snprintf(out, len,
			 "%u of %u agents have their snapshot, %u "
			 "joining%s",
			 r->n_snap, r->o.n, r->in_flight, who);
	} else if (d->stage == FA_ST_CONVERGE) {
		name_some(r, behind, who, sizeof(who));
		snprintf(out, len,
			 "%u of %u agents at revision %llu, %u reconnecting%s",
			 r->n_at_max, r->n_live, (unsigned long long)r->max_rev,
			 r->n_away, who);
	} else if (d->stage == FA_ST_FAILOVER) {
		name_some(r, not_failed_over, who, sizeof(who));
		snprintf(out, len,
			 "failover: %u of %u agents in sync with a term above "
			 "%llu, %u waiting to try again, %llu tries%s%s",
			 r->n_failed_over, r->fo_want,
			 (unsigned long long)r->fo_term, r->n_waiting,
			 (unsigned long long)r->n_retries,
			 d->child > 0 ? ", the command still runs" : "", who);
	} else {
		name_some(r, not_rotated, who, sizeof(who));
		snprintf(out, len,
			 "rotation %u: %u of %u agents applied the "
			 "retire%s%s",
			 d->done_rotations + 1, r->n_rotated, r->n_live,
			 d->child > 0 ? ", the command still runs" : "", who);
	}
}

static void on_timeout(struct loop *l, struct loop_timer *t, void *arg)
{
	struct fa_driver *d = arg;
	char what[512];

	(void)l, (void)t;
	if (d->r->holding)
		return;
	describe(d, what, sizeof(what));
	fa_fail(d->r, NULL, "timeout after %ld s: %s", d->r->o.timeout, what);
}

static void on_progress(struct loop *l, struct loop_timer *t, void *arg)
{
	struct fa_driver *d = arg;
	char what[512];

	(void)l, (void)t;
	if (d->r->holding)
		return;
	describe(d, what, sizeof(what));
	printf("... %.0f s: %s\n", fa_now() - d->r->t_first, what);
	fflush(stdout);
}

static void on_signal(struct loop *l, int sig, void *arg)
{
	struct fa_driver *d = arg;

	(void)l;
	if (sig == SIGCHLD) {
		reap(d);
	} else if (d->r->holding) {
		printf("hold: %s, ending\n", strsignal(sig));
		d->r->stop = true;
	} else {
		fa_fail(d->r, NULL, "interrupted by %s", strsignal(sig));
	}
}

/* ---- the stages ---- */

/* Verify and write the state; true if the agents are consistent. */
static bool check(struct fa_run *r)
{
	bool ok = !r->o.verify || fa_verify(r) == 0;

	if (r->n_stale) {
		printf("%u snapshots or deltas of a term lower than their "
		       "agent's\n",
		       r->n_stale);
		if (r->o.verify) {
			fa_fail(r, NULL, "verify: %u frames of an older term",
				r->n_stale);
			ok = false;
		}
	}
	if (r->o.state_out && fa_state_out(r, r->o.state_out)) {
		fa_fail(r, NULL, "cannot write %s: %s", r->o.state_out,
			strerror(errno));
		ok = false;
	}
	if (!ok)
		r->rc = 1;
	return ok;
}

static void finish(struct fa_driver *d)
{
	struct fa_run *r = d->r;

	r->rotating = false;
	if (r->o.leader_pid) /* -1 once it is gone (a failover): not said */
		d->hwm_kib = fa_proc_kib(r->o.leader_pid, "VmHWM");
	if (d->hwm_kib >= 0) {
		printf("leader: VmRSS %.1f MiB before the first join, VmHWM "
		       "%.1f MiB at the end\n",
		       (double)d->rss0_kib / 1024, (double)d->hwm_kib / 1024);
	}
	if (!check(r)) {
		r->stop = true;
		return;
	}
	if (r->o.bench)
		fa_print_bench(d);
	if (!r->o.hold) {
		r->stop = true;
		return;
	}
	printf("holding: %u agents connected, acking, until SIGTERM\n",
	       r->n_live);
	fflush(stdout);
	r->holding = true;
	d->settled_rev = r->max_rev;
	d->stage = FA_ST_HOLD;
}

static void rotation_done(struct fa_driver *d)
{
	struct fa_run *r = d->r;
	double end = r->t_rotated ? r->t_rotated : fa_now();
	uint32_t g = 0, i;
	double frames;

	for (i = 0; i < r->o.n && !g; i++)
		if (r->agents[i].rotated)
			g = fa_state_committed(&r->agents[i].st);
	fa_rotation_bytes(r, &d->rot_wire[d->done_rotations], &frames);
	d->rot_secs[d->done_rotations++] = end - d->t_cmd;
	printf("rotation %u: %u agents on generation %u alone, %.3f s after "
	       "the command started; %.0f B from the leader per agent (%.0f "
	       "B of frames)\n",
	       d->done_rotations, r->n_live, g, end - d->t_cmd,
	       d->rot_wire[d->done_rotations - 1], frames);
	r->rotating = false;
	d->stage = FA_ST_CONVERGE;
}

static void converge(struct fa_driver *d)
{
	struct fa_run *r = d->r;

	if (r->n_at_max != r->n_live || r->n_away)
		return;
	if (!d->t_join_converged) {
		d->t_join_converged = fa_now();
		printf("converged: %u agents at revision %llu, %.3f s after "
		       "the first connect\n",
		       r->n_live, (unsigned long long)r->max_rev,
		       d->t_join_converged - r->t_first);
	}
	if (r->o.failover_cmd && d->failover_secs < 0)
		start_failover(d);
	else if (d->done_rotations < r->o.rotations)
		start_rotation(d);
	else
		finish(d);
}

static void on_settle(struct loop *l, struct loop_timer *t, void *arg)
{
	struct fa_driver *d = arg;
	struct fa_run *r = d->r;

	(void)l, (void)t;
	if (r->stop)
		return;
	if (r->n_at_max != r->n_live || r->n_away ||
	    r->max_rev != d->settled_rev) {
		d->settled_rev = 0; /* not settled after all: wait again */
		return;
	}
	printf("hold: settled at revision %llu, %u agents connected\n",
	       (unsigned long long)r->max_rev, r->n_live);
	check(r);
	fflush(stdout);
}

static void hold(struct fa_driver *d)
{
	struct fa_run *r = d->r;

	if (r->n_at_max != r->n_live || r->n_away ||
	    r->max_rev == d->settled_rev)
		return;
	d->settled_rev = r->max_rev; /* reported by on_settle if it holds */
	loop_timer_arm(d->settle, SETTLE_MS, 0);
}

static void step(struct fa_driver *d)
{
	struct fa_run *r = d->r;

	switch (d->stage) {
	case FA_ST_JOIN:
		if (r->n_snap < r->o.n)
			return;
		fa_report_join(d);
		d->stage = FA_ST_CONVERGE;
		break;
	case FA_ST_CONVERGE:
		converge(d);
		break;
	case FA_ST_FAILOVER:
		if (d->child <= 0 && r->n_failed_over >= r->fo_want)
			failover_done(d);
		break;
	case FA_ST_ROTATE:
		if (d->child <= 0 && r->n_rotated >= r->n_live && !r->n_away)
			rotation_done(d);
		break;
	case FA_ST_HOLD:
		hold(d);
		break;
	default:
		abort();
	}
}

/* Steps until the stage stays: one event may end several. */
static void advance(struct fa_driver *d)
{
	enum fa_stage was;

	do {
		was = d->stage;
		step(d);
	} while (d->stage != was && !d->r->stop);
}

static void pump(struct fa_run *r)
{
	while (!r->stop && r->next < r->o.n && r->in_flight < r->o.parallel)
		fa_agent_start(&r->agents[r->next++]);
}

static int run_loop(struct fa_driver *d)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGCHLD };
	struct fa_run *r = d->r;
	struct loop_timer *timeout, *progress;
	int err;

	timeout = loop_timer_new(r->loop, on_timeout, d);
	progress = loop_timer_new(r->loop, on_progress, d);
	d->settle = loop_timer_new(r->loop, on_settle, d);
	if (!timeout || !progress || !d->settle ||
	    loop_signals(r->loop, sigs, 3, on_signal, d) ||
	    loop_timer_arm(timeout, (uint64_t)r->o.timeout * 1000, 0) ||
	    loop_timer_arm(progress, PROGRESS_MS, PROGRESS_MS))
		return -ENOMEM;
	d->cpu0_self = fa_proc_cpu(0);
	d->cpu0_leader = r->o.leader_pid ? fa_proc_cpu(r->o.leader_pid) : -1;
	if (r->o.leader_pid) {
		d->rss0_kib = fa_proc_kib(r->o.leader_pid, "VmRSS");
		if (d->rss0_kib < 0)
			fa_fail(r, NULL,
				"--leader-pid %ld: cannot read its "
				"VmRSS from /proc",
				r->o.leader_pid);
	}
	while (!r->stop) {
		pump(r);
		err = loop_run_once(r->loop, -1);
		if (err < 0) {
			fa_fail(r, NULL, "epoll: %s", strerror(-err));
			break;
		}
		if (!r->stop)
			advance(d);
	}
	return 0;
}

static void cleanup(struct fa_run *r)
{
	uint32_t i;

	r->ending = true;
	for (i = 0; r->agents && i < r->o.n; i++)
		fa_agent_cleanup(&r->agents[i]);
	loop_free(r->loop);
	tls_ctx_free(r->join_tls);
	X509_free(r->ca);
	free(r->ca_der);
	free(r->agents);
	free(r->sampled);
	free(r->o.silent);
	free(r->waiting);
	free(r->due);
	token_wipe(&r->token);
	fa_names_cleanup(&r->names);
}

int main(int argc, char **argv)
{
	static struct fa_run run;
	struct fa_driver d = {
		.r = &run, .rss0_kib = -1, .hwm_kib = -1, .failover_secs = -1
	};
	bool help = false;

	if (fa_opts_parse(&run.o, argc, argv, &help))
		return 2;
	if (help)
		return 0;
	signal(SIGPIPE, SIG_IGN);
	d.rot_secs = calloc(run.o.rotations + 1, sizeof(*d.rot_secs));
	d.rot_wire = calloc(run.o.rotations + 1, sizeof(*d.rot_wire));
	run.loop = loop_new();
	if (!d.rot_secs || !d.rot_wire || !run.loop || fa_setup(&run)) {
		cleanup(&run);
		free(d.rot_secs);
		free(d.rot_wire);
		return 1;
	}
	if (run_loop(&d))
		fa_fail(&run, NULL, "cannot set up the event loop");
	if (d.child > 0)
		kill(d.child, SIGTERM);
	cleanup(&run);
	free(d.rot_secs);
	free(d.rot_wire);
	fflush(stdout);
	return run.rc;
}
