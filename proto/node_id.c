// SPDX-License-Identifier: MIT
/* The node id rule: its length and its characters. */
#include <string.h>

#include "node_id.h"

/* NODE_ID_CHARSET, spelled out for strspn. */
static const char id_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "abcdefghijklmnopqrstuvwxyz"
			       "0123456789._-";

size_t node_id_span(const char *s)
{
	return strspn(s, id_chars);
}

bool node_id_valid(const char *id)
{
	size_t n = id ? strnlen(id, NODE_ID_MAX + 1) : 0;

	return n >= 1 && n <= NODE_ID_MAX && node_id_span(id) == n;
}
