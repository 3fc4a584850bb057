// SPDX-License-Identifier: MIT
/* Fuzz target: the agent's decoder of the leader's frames; what it accepts keeps the promises of agent/wire.h. */
/*
 * Input: [self] [body]. self is one byte that picks this node: bits 0-1
 * its underlay (0: IPv4, 1: IPv6, 2: IPv4 and IPv6, 3: IPv6 and IPv4),
 * bits 2-7 its index as the join gave it (0: not known). Its id is always
 * "node-1". body is one frame body (an Envelope, without the 4-byte frame
 * header), decoded whole: wire_decode() keeps no state between frames.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/wire.h"
#include "tests/fuzz/fuzz.h"

#define SELF_ID "node-1"

static struct desired_addr self_addrs[2];
static struct wire_self self;

static void self_pick(uint8_t b)
{
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct desired_addr a4 = { .family = AF_INET };
	struct desired_addr a6 = { .family = AF_INET6 };

	memcpy(a4.ip.raw, v4, sizeof(v4));
	memcpy(a6.ip.raw, v6, sizeof(v6));
	self_addrs[0] = b & 1 ? a6 : a4;
	self_addrs[1] = b & 1 ? a4 : a6;
	self.id = SELF_ID;
	self.addrs = self_addrs;
	self.n_addrs = b & 2 ? 2 : 1;
	self.index = b >> 2;
}

/* An address family this node has too (wire.h: else no pair at all). */
static void family_check(const struct wire_peer *p)
{
	for (size_t i = 0; i < self.n_addrs; i++)
		for (size_t j = 0; j < p->n_addrs; j++)
			if (self.addrs[i].family == p->addrs[j].family)
				return;
	abort();
}

/* A peer: not this node (id, and index if known), a family in common. */
static void peer_check(const struct wire_peer *p)
{
	if (!memchr(p->id, '\0', sizeof(p->id)) || !p->id[0] ||
	    strcmp(p->id, SELF_ID) == 0 || !p->index ||
	    (self.index && p->index == self.index) ||
	    p->n_addrs > DESIRED_ADDRS_MAX || !p->n_keys ||
	    p->n_keys > WIRE_NODE_KEYS_MAX)
		abort();
	for (size_t i = 1; i < p->n_keys; i++)
		if (p->keys[i].from <= p->keys[i - 1].from)
			abort();
	family_check(p);
}

static void indexes_check(const struct wire_snapshot *s)
{
	for (size_t i = 0; i < s->n_peers; i++) {
		if (s->peers[i].index == s->self.index)
			abort();
		for (size_t j = 0; j < i; j++)
			if (s->peers[j].index == s->peers[i].index)
				abort();
	}
}

/* Peers sorted by id (none twice), self, one epoch per gen, slots apart. */
static void snapshot_check(const struct wire_snapshot *s)
{
	if (strcmp(s->self.id, SELF_ID) != 0 ||
	    (self.index && s->self.index != self.index))
		abort();
	if (s->n_peers && !s->peers)
		abort();
	for (size_t i = 0; i < s->n_peers; i++) {
		peer_check(&s->peers[i]);
		if (i && strcmp(s->peers[i - 1].id, s->peers[i].id) >= 0)
			abort();
	}
	indexes_check(s);
	if (s->n_gens > DESIRED_GENS_MAX || (s->n_gens && !s->epochs))
		abort();
	for (size_t i = 0; i < s->n_gens; i++) {
		if (s->epochs[i].g != s->gens[i].g || !s->gens[i].g)
			abort();
		for (size_t j = 0; j < i; j++)
			if (s->epochs[j].spi_slot == s->epochs[i].spi_slot ||
			    s->gens[j].g == s->gens[i].g)
				abort();
	}
}

/* A prepare: its epoch, and key changes sorted by index, none twice. */
static void prepare_check(const struct wire_delta *d)
{
	if (!d->epoch || d->epoch->g != d->generation || !d->generation ||
	    !d->epoch->spi_slot || (d->n_key_changes && !d->key_changes))
		abort();
	for (size_t i = 0; i < d->n_key_changes; i++)
		if (!d->key_changes[i].index ||
		    (i &&
		     d->key_changes[i].index <= d->key_changes[i - 1].index))
			abort();
}

static void delta_check(const struct wire_delta *d)
{
	switch (d->change) {
	case WIRE_PEER_ADDED:
	case WIRE_INCARNATION:
		peer_check(&d->peer);
		break;
	case WIRE_PEER_REMOVED:
		if (!d->peer.id[0])
			abort();
		break;
	case WIRE_PREPARE:
		prepare_check(d);
		break;
	case WIRE_COMMIT:
	case WIRE_RETIRE:
		if (!d->generation)
			abort();
		break;
	default:
		abort();
	}
}

/* What wire.h promises about an accepted message. */
static void accepted_check(const struct wire_msg *m)
{
	switch (m->type) {
	case WIRE_SNAPSHOT:
		snapshot_check(&m->snapshot);
		break;
	case WIRE_DELTA:
		delta_check(&m->delta);
		break;
	case WIRE_PING:
		break;
	case WIRE_JOIN_RESPONSE:
		if (!m->cert || !m->ca || !m->cert_len || !m->ca_len ||
		    !m->node_index)
			abort();
		break;
	case WIRE_ERROR:
		if (!m->reason)
			abort();
		break;
	default:
		abort();
	}
}

int fuzz_agent_wire(const uint8_t *data, size_t size)
{
	struct why why = { "" };
	struct wire_msg m;
	int err;

	if (size < 1)
		return 0;
	self_pick(data[0]);
	err = wire_decode(data + 1, size - 1, &self, &m, &why);
	if (!err) {
		accepted_check(&m);
	} else if (err == -EBADMSG || err == -EPROTO) {
		if (why.msg[0] == '\0')
			abort(); /* every refusal says why */
	} else if (err != -ENOTSUP && err != -ENOMEM) {
		abort(); /* a code wire.h does not name */
	}
	wire_msg_free(&m);
	return 0;
}
