/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr elector: the election's actions (election.c) carried out on etcd (etcd.c, etcd_kv.c) over the leader's loop (issue 16). */
#ifndef VXSEC_ELECTOR_H
#define VXSEC_ELECTOR_H

#include <stdint.h>

#include "common/loop.h"
#include "common/why.h"
#include "election.h"

struct elector;
struct tls_ctx;

struct elector_config {
	const char *const *endpoints; /* etcd's, "ip:port" */
	size_t n_endpoints;
	const char *key;   /* the leader key, "/vxsec/leader" */
	const char *value; /* this instance: its name and listen address */
	struct elect_config elect;
	struct tls_ctx *tls; /* etcd_config's: NULL for plain TCP */
};

/* What the daemon is told: lead with term, or stop serving now. */
struct elector_ops {
	void (*lead)(void *arg, int64_t term);
	void (*step_down)(void *arg, const char *why);
};

/* NULL with errno (EINVAL: why says) or ENOMEM. */
struct elector *elector_new(struct loop *l, const struct elector_config *cfg,
			    const struct elector_ops *ops, void *arg,
			    struct why *why);
/* Campaigns. */
void elector_start(struct elector *el);
/* Steps down (if leading) and revokes the lease: the key goes with it, a
 * standby takes over at once. The revoke is sent; run the loop a little
 * before elector_free if it should reach etcd. */
void elector_resign(struct elector *el);
/* A write fenced by our term failed (or a takeover could not go on):
 * step down, revoke, campaign again after a pause. */
void elector_fenced(struct elector *el);
void elector_free(struct elector *el);

enum elect_state elector_state(const struct elector *el);
int64_t elector_term(const struct elector *el);

/* The instance another holds the key as (what its campaign put there)
 * and its term, as this one's last lost campaign found them; "" and 0
 * when not known or vacant since. */
#define ELECTOR_HOLDER_MAX 160
const char *elector_holder(const struct elector *el, int64_t *term);

#endif
