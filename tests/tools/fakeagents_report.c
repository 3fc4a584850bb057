// SPDX-License-Identifier: MIT
/* fakeagents: the driver's figures — the join, bytes from the leader, the bench lines. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "fakeagents.h"

/* The descriptors open in this process, -1 if /proc does not say. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", "..", and the directory itself */
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void fa_print_bench(struct fa_driver *d)
{
	struct fa_run *r = d->r;
	const char *b = r->o.bench;
	uint32_t n = r->o.n;

	printf("bench %s_join_N%u %.3f s\n", b, n, r->t_snap - r->t_first);
	printf("bench %s_join_bytes_per_agent_N%u %.1f KiB\n", b, n,
	       d->join_wire / 1024);
	if (d->join_cpu_leader >= 0)
		printf("bench %s_join_leader_cpu_N%u %.1f s\n", b, n,
		       d->join_cpu_leader);
	printf("bench %s_join_fakeagents_cpu_N%u %.1f s\n", b, n,
	       d->join_cpu_self);
	if (d->failover_secs >= 0)
		printf("bench %s_failover_N%u %.3f s\n", b, n,
		       d->failover_secs);
	if (d->done_rotations) {
		printf("bench %s_rotation_N%u %.3f s\n", b, n,
		       median(d->rot_secs, d->done_rotations));
		printf("bench %s_rotation_bytes_per_agent_N%u %.0f B\n", b, n,
		       median(d->rot_wire, d->done_rotations));
	}
	if (d->rss0_kib >= 0 && d->hwm_kib >= 0) {
		printf("bench %s_rss_per_agent_N%u %.1f KiB\n", b, n,
		       (double)(d->hwm_kib - d->rss0_kib) / n);
		printf("bench %s_rss_N%u %.1f MiB\n", b, n,
		       (double)d->hwm_kib / 1024);
	}
}

void fa_report_join(struct fa_driver *d)
{
	struct fa_run *r = d->r;
	double secs = r->t_snap - r->t_first;
	struct rlimit rl = { 0, 0 };
	struct fa_bytes all = { 0, 0 }, b;
	uint32_t i;

	/* Both connections: the join's handshake, certificates and answer,
	 * then the session's handshake, snapshot and the deltas naming the
	 * agents that joined after it. */
	for (i = 0; i < r->o.n; i++) {
		b = fa_agent_rx(&r->agents[i]);
		all.wire += b.wire, all.frames += b.frames;
	}
	d->join_wire = (double)all.wire / r->o.n;
	d->join_cpu_self = fa_proc_cpu(0) - d->cpu0_self;
	d->join_cpu_leader =
		r->o.leader_pid && d->cpu0_leader >= 0
			? fa_proc_cpu(r->o.leader_pid) - d->cpu0_leader
			: -1;
	getrlimit(RLIMIT_NOFILE, &rl);
	printf("joined: %u agents acked their snapshot %.3f s after the "
	       "first connect (%.0f agents/s); %d fds open, limit %llu; "
	       "%.1f KiB from the leader per agent (%.1f KiB of frames)\n",
	       r->o.n, secs, secs > 0 ? r->o.n / secs : 0.0, open_fds(),
	       (unsigned long long)rl.rlim_cur, d->join_wire / 1024,
	       (double)all.frames / r->o.n / 1024);
}

/*
 * Bytes from the leader per live agent since start_rotation(): prepare,
 * commit and retire, and anything else it sent meanwhile (a ping reply:
 * fakeagents send no pings, and the leader sends none of its own).
 */
void fa_rotation_bytes(struct fa_run *r, double *wire, double *frames)
{
	struct fa_bytes sum = { 0, 0 }, b;
	struct fa_agent *a;
	uint32_t i, k = 0;

	for (i = 0; i < r->o.n; i++) {
		a = &r->agents[i];
		if (a->phase != FA_LIVE || a->silent)
			continue;
		b = fa_agent_rx(a);
		sum.wire += b.wire - a->rx_mark.wire;
		sum.frames += b.frames - a->rx_mark.frames;
		k++;
	}
	*wire = k ? (double)sum.wire / k : 0;
	*frames = k ? (double)sum.frames / k : 0;
}
