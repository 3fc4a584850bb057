/* SPDX-License-Identifier: MIT */
/* agent diff: the smallest ordered change from what the kernel holds to the desired state; no I/O. */
#ifndef VXSEC_DIFF_H
#define VXSEC_DIFF_H

#include <stddef.h>

#include "desired.h"

enum diff_op {
	DIFF_SA_ADD,
	DIFF_SA_UPDATE,
	DIFF_POL_ADD,
	DIFF_POL_UPDATE,
	DIFF_POL_DEL,
	DIFF_SA_DEL,
};

/* One step: which op, on which object (an index into have or want). */
struct diff_step {
	enum diff_op op;
	size_t i;
	bool from_want; /* i indexes want (adds, updates) or have (deletes) */
};

struct diff_plan {
	struct diff_step *steps;
	size_t n;
};

/*
 * have: our objects as the kernel holds them (dumped by reqid); want: the
 * desired state. An SA is the same if family, source, destination and SPI
 * match; if its key or settings differ (a peer's new incarnation keeps
 * the SPI), the kernel's is deleted, then the wanted one added: a key is
 * never changed in place. When only its ESP-in-UDP ports or original
 * address differ (a NAT mapping moved) and both have encap of the same
 * type, the SA is updated in place (DIFF_SA_UPDATE, XFRM_MSG_UPDSA): the
 * kernel keeps its sequence numbers and replay window, where a delete and
 * add would restart the sender's sequence at 1 (the peer's replay window
 * drops it) and install the key twice (refused by the reconciler). Going
 * from plain ESP to ESP in UDP or back is a delete and an add: the kernel
 * cannot add or remove the encap of a live SA, so it takes a new key.
 * A policy is the same if its selector and direction match; any other
 * difference is one update (the SPI switch). Order, so that no packet is
 * dropped: replaced SAs' deletes, SA adds and updates, policy adds and
 * updates, policy deletes, SA deletes. 0 or -ENOMEM.
 */
int diff_plan(const struct desired_state *have,
	      const struct desired_state *want, struct diff_plan *out);
void diff_plan_free(struct diff_plan *p);

#endif
