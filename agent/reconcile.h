/* SPDX-License-Identifier: MIT */
/* agent reconciler: make the kernel equal to the desired state through a kernel interface; no I/O itself. */
#ifndef VXSEC_RECONCILE_H
#define VXSEC_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "diff.h"

/*
 * What the reconciler needs from the kernel (agent/kernel.c over xfrm/;
 * a fake in the tests). dump: our SAs and policies (by reqid) into a
 * state the reconciler frees. apply: the steps of a plan in one batch,
 * result[i] = 0 or -errno for step i; returns 0 or the -errno that broke
 * the exchange itself (then every result says so).
 */
struct agent_kernel {
	int (*dump)(void *ctx, struct desired_state *have);
	int (*apply)(void *ctx, const struct desired_state *have,
		     const struct desired_state *want,
		     const struct diff_plan *plan, int *result);
	void *ctx;
};

#define RECONCILE_ATTEMPTS 3

struct reconcile_result {
	size_t applied;	 /* steps that succeeded */
	size_t failed;	 /* steps still failing at the end */
	size_t refused;	 /* SA adds refused: that key was installed before */
	size_t attempts; /* dump + diff + apply rounds */
	struct why why;	 /* the first failure, naming the SA or policy */
};

#define RECONCILE_DIGEST 16

/*
 * The keys this agent installed (SipHash digests under hash_key, an open
 * addressing table of cap slots; an all-zero slot is free).
 */
struct reconciler {
	uint8_t (*used)[RECONCILE_DIGEST];
	size_t n_used, cap;
	uint8_t hash_key[16];
	bool adopted; /* the kernel's SAs at the first run are ours */
};

int reconciler_init(struct reconciler *r);
void reconciler_cleanup(struct reconciler *r);

/* Marks a digest as installed (a set saved by an earlier run). */
int reconciler_mark(struct reconciler *r, const uint8_t d[RECONCILE_DIGEST]);
/*
 * Forgets every installed key that want does not hold: the leader never
 * sends a key of a retired generation or an old incarnation again, so
 * the set stays as large as the desired state.
 */
int reconciler_prune(struct reconciler *r, const struct desired_state *want);

/*
 * Dump, diff, apply; after a partial failure, dump again and apply what
 * is still missing, up to RECONCILE_ATTEMPTS rounds. The first run adopts
 * what the kernel holds (identical objects are left alone; their keys
 * count as installed). An SA whose key was installed before and is gone
 * from the kernel is never added again: it is refused (-EKEYREJECTED:
 * ask the leader for new keys) and stays absent, so traffic fails closed.
 * 0 when the kernel equals want; -EIO if steps still fail; -EKEYREJECTED;
 * or the kernel interface's -errno.
 */
int reconcile(struct reconciler *r, const struct agent_kernel *k,
	      const struct desired_state *want, struct reconcile_result *res);

#endif
