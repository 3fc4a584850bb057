/* SPDX-License-Identifier: MIT */
/* Unit-test helper: how much of this process's memory is locked (VmLck, kB). */
#ifndef VXSEC_TEST_VMLCK_H
#define VXSEC_TEST_VMLCK_H

#include <stdio.h>

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
