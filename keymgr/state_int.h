/* SPDX-License-Identifier: MIT */
/* keymgr state: the body codec's pieces that records.c shares (buffers, a node, the checks, the key id). */
#ifndef VXSEC_STATE_INT_H
#define VXSEC_STATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "registry.h"
#include "rotation.h"
#include "state.h"

#define STATE_KEY_ID_LEN 8

/* A writer: p NULL only counts (off is then the size it would take). */
struct state_wbuf {
	uint8_t *p;
	size_t len, off;
};

/* A reader: a read past len sets truncated and yields nothing. */
struct state_rbuf {
	const uint8_t *p;
	size_t len, off;
	bool truncated;
};

/* n bytes of d, or v as n big-endian bytes (n <= 8). */
void state_put(struct state_wbuf *w, const void *d, size_t n);
void state_put_be(struct state_wbuf *w, uint64_t v, size_t n);
/* One node as state.h lays out a node of the body. */
void state_put_node(struct state_wbuf *w, const struct node *n);

/* The next n bytes, NULL (and truncated) if fewer are left. */
const uint8_t *state_take(struct state_rbuf *r, size_t n);
/* n big-endian bytes (0 once truncated), or n bytes into out. */
uint64_t state_get_be(struct state_rbuf *r, size_t n);
void state_get(struct state_rbuf *r, void *out, size_t n);
/*
 * One node as state_put_node() writes it into n; -EBADMSG with why
 * ("node record <rec>: ...") for a bad field or a truncated node. Not
 * checked as a whole: state_node_check() does that.
 */
int state_get_node(struct state_rbuf *r, struct node *n, size_t rec,
		   struct why *why);

/* What the body refuses in a node, and in the rotation: -EINVAL + why. */
int state_node_check(const struct node *n, struct why *why);
int state_rot_check(const struct rotation *r, uint64_t revision,
		    struct why *why);
/* The rotation's persisted fields wiped (epoch secrets zeroed). */
void state_rot_wipe(struct rotation *rot);

/* BLAKE2b-256 of the key, its first 8 bytes: says which key sealed it. */
void state_key_id(const uint8_t key[STATE_KEY_LEN],
		  uint8_t id[STATE_KEY_ID_LEN]);

#endif
