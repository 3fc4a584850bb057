/* SPDX-License-Identifier: MIT */
/* Tables indexed by a small number (an fd, a member's index) that grow. */
#ifndef VXSEC_ARRAY_H
#define VXSEC_ARRAY_H

#include <stddef.h>

/*
 * Room in base (*cap entries of elem bytes) for entry index: the capacity
 * doubles from 64 until it holds index, the new entries are zero. Returns
 * the table, moved or not, with *cap updated; NULL when out of memory,
 * base and *cap untouched. Not for secrets (it reallocs).
 */
void *array_grow(void *base, size_t *cap, size_t index, size_t elem);

#endif
