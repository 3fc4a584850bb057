// SPDX-License-Identifier: MIT
/* Unit-test helper: how much of this process's memory is locked (VmLck, kB). */
#include <stdio.h>

#include "vmlck.h"

long vmlck_kb(void)
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
