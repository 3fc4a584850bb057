/* SPDX-License-Identifier: MIT */
/* The node id rule, one for the wire, the leader's state and the agent's settings. */
#ifndef VXSEC_NODE_ID_H
#define VXSEC_NODE_ID_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A node id is 1 to NODE_ID_MAX characters of NODE_ID_CHARSET: a short
 * host name fits, and it is the node certificate's CN as it is.
 * Buffers hold NODE_ID_MAX + 1 bytes.
 */
#define NODE_ID_MAX 64u
#define NODE_ID_CHARSET "[A-Za-z0-9._-]"

/*
 * Whether id is a node id. id may be NULL, or a buffer of at least
 * NODE_ID_MAX + 1 bytes that is not NUL-terminated (then it is too long).
 */
bool node_id_valid(const char *id);

/* How many leading characters of s (a string) are node id characters. */
size_t node_id_span(const char *s);

#endif
