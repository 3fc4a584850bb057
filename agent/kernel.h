/* SPDX-License-Identifier: MIT */
/* agent kernel: the reconciler's kernel interface over xfrm/ (our objects by reqid, a plan as one batch). */
#ifndef VXSEC_AGENT_KERNEL_H
#define VXSEC_AGENT_KERNEL_H

#include <stdint.h>

#include "reconcile.h"

struct agent_xfrm {
	struct xfrm_sock *sock;
	uint32_t reqid;
	uint16_t vxlan_port; /* finds our catch-all block, which has no reqid */
};

/*
 * Fills k so that the reconciler programs the kernel through x: dumps our
 * SAs (reqid) and policies (template reqid, plus the catch-all block of
 * the VXLAN port), again when the kernel says a dump was interrupted; a
 * plan goes out as one batch with one result per step. Other IPsec
 * software's objects (other reqids) are never read or touched.
 */
void agent_kernel_xfrm(struct agent_kernel *k, struct agent_xfrm *x);

#endif
