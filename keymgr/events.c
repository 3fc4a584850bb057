// SPDX-License-Identifier: MIT
/* vxsec-keymgr: the parts' events handed to whoever listens (the embedding host, through leader_api.c). */
#include <stddef.h>

#include "events.h"

void events_emit(const struct events *e, const struct event *ev)
{
	if (e && e->fn)
		e->fn(e->arg, ev);
}

void events_node(const struct events *e, enum event_type type,
		 const struct node *n, const char *why)
{
	struct event ev = { .type = type, .node = n, .why = why };

	if (n)
		events_emit(e, &ev);
}
