/* SPDX-License-Identifier: MIT */
/* Unit-test helper: how much of this process's memory is locked (VmLck, kB). */
#ifndef VXSEC_TEST_VMLCK_H
#define VXSEC_TEST_VMLCK_H

/*
 * ASan intercepts mlock() as a no-op that succeeds: in the sanitize build
 * VmLck never moves, so the tests say so and check the rest.
 */
#if defined(__SANITIZE_ADDRESS__)
#define VMLCK_SEEN 0
#else
#define VMLCK_SEEN 1
#endif

#define VMLCK_UNSEEN_NOTE "ASan makes mlock() a no-op: VmLck not checked\n"

/* VmLck from /proc/self/status in kB; -1 if it cannot be read. */
long vmlck_kb(void);

#endif
