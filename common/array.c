/* SPDX-License-Identifier: MIT */
/* Tables indexed by a small number (an fd, a member's index) that grow. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

void *array_grow(void *base, size_t *cap, size_t index, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	unsigned char *p;

	while (n <= index) {
		if (n > SIZE_MAX / 2 / elem)
			return NULL;
		n *= 2;
	}
	if (n == *cap)
		return base;
	p = realloc(base, n * elem);
	if (!p)
		return NULL;
	memset(p + *cap * elem, 0, (n - *cap) * elem);
	*cap = n;
	return p;
}
