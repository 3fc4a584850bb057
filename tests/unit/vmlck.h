/* SPDX-License-Identifier: MIT */
/* Unit-test helper: how much of this process's memory is locked (VmLck, kB). */
#ifndef VXSEC_TEST_VMLCK_H
#define VXSEC_TEST_VMLCK_H

#include <stdio.h>

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
static inline long vmlck_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#endif
