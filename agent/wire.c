// SPDX-License-Identifier: MIT
/* agent wire: translates between protobuf and the agent's plain structs, checking on receipt all a message says alone; the only agent file that knows protobuf. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/why.h"
#include "proto/frame.h"
#include "wire.h"

_Static_assert(WIRE_NODE_ID_MAX == PROTO_NODE_ID_MAX, "node id length");
_Static_assert(WIRE_BOOT_ID_LEN == PROTO_BOOT_ID_LEN, "boot id length");
_Static_assert(WIRE_FRAME_MAX == FRAME_MAX_DEFAULT, "frame limit");
_Static_assert(WIRE_PUB_LEN == PROTO_STATIC_KEY_LEN, "static key length");
_Static_assert(WIRE_EPOCH_LEN == PROTO_EPOCH_LEN, "epoch length");
_Static_assert(WIRE_NODE_KEYS_MAX == PROTO_NODE_KEYS_MAX, "node keys");
_Static_assert(DESIRED_ADDRS_MAX == PROTO_ADDRS_MAX, "addresses");
_Static_assert(DESIRED_GENS_MAX == PROTO_GENERATIONS_MAX, "generations");
_Static_assert(WIRE_LEADER_MAX == PROTO_LEADER_MAX, "leader address");

/* ---- from the leader ---- */

/* The underlay addresses: frame_validate() allows 4 or 16 bytes only. */
static void peer_in(struct wire_peer *p, const Vxsec__Peer *in)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", in->node_id);
	p->index = in->index;
	p->incarnation = in->incarnation;
	for (size_t i = 0; i < in->n_underlay && i < DESIRED_ADDRS_MAX; i++) {
		const ProtobufCBinaryData *ip = &in->underlay[i]->ip;

		p->addrs[i].family = ip->len == 4 ? AF_INET : AF_INET6;
		memcpy(p->addrs[i].ip.raw, ip->data, ip->len);
		p->n_addrs++;
	}
	/* lengths, count and order: frame_validate() */
	for (size_t i = 0; i < in->n_keys && i < WIRE_NODE_KEYS_MAX; i++) {
		p->keys[i].from = in->keys[i]->from_generation;
		memcpy(p->keys[i].pub, in->keys[i]->key.data, WIRE_PUB_LEN);
		p->n_keys++;
	}
	if (in->public_address) { /* 4 or 16 bytes: frame_validate() */
		const ProtobufCBinaryData *ip = &in->public_address->ip;

		p->nat = true;
		p->public_addr.family = ip->len == 4 ? AF_INET : AF_INET6;
		memcpy(p->public_addr.ip.raw, ip->data, ip->len);
	}
}

/* A pair uses a family both nodes have: without one, no pair at all. */
static int family_check(const struct wire_self *self, const struct wire_peer *p,
			struct why *why)
{
	for (size_t i = 0; i < self->n_addrs; i++)
		for (size_t j = 0; j < p->n_addrs; j++)
			if (self->addrs[i].family == p->addrs[j].family)
				return 0;
	return why_fail(why, -EBADMSG, "peer %s: no address family in common",
			p->id);
}

static enum desired_phase phase_in(Vxsec__Phase p)
{
	switch (p) {
	case VXSEC__PHASE__PHASE_COMMITTED:
		return DPHASE_COMMITTED;
	case VXSEC__PHASE__PHASE_PREPARED:
		return DPHASE_PREPARED;
	default:
		return DPHASE_RETIRING;
	}
}

static int cmp_peer(const void *a, const void *b)
{
	return strcmp(((const struct wire_peer *)a)->id,
		      ((const struct wire_peer *)b)->id);
}

/* The peers, sorted by id: none twice, none this node. */
static int snapshot_peers(struct wire_snapshot *s, const Vxsec__Snapshot *m,
			  const struct wire_self *self, struct why *why)
{
	int err = 0;

	s->peers = calloc(m->n_peers + 1, sizeof(*s->peers));
	if (!s->peers)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_peers; i++)
		peer_in(&s->peers[i], m->peers[i]);
	s->n_peers = m->n_peers;
	qsort(s->peers, s->n_peers, sizeof(*s->peers), cmp_peer);
	for (size_t i = 0; i < s->n_peers && !err; i++) {
		const char *id = s->peers[i].id;

		if (i && strcmp(id, s->peers[i - 1].id) == 0)
			return why_fail(why, -EBADMSG,
					"snapshot lists %s twice", id);
		if (strcmp(id, self->id) == 0)
			return why_fail(
				why, -EBADMSG,
				"snapshot lists %s (this node) as a peer", id);
		err = family_check(self, &s->peers[i], why);
	}
	return err;
}

/* This node as the leader holds it: its id, and its index if known. */
static int self_in(struct wire_peer *p, const Vxsec__Peer *in,
		   const struct wire_self *self, struct why *why)
{
	peer_in(p, in);
	if (strcmp(p->id, self->id) != 0)
		return why_fail(why, -EBADMSG,
				"snapshot is for node %s, this node is %s",
				p->id, self->id);
	if (self->index && p->index != self->index)
		return why_fail(why, -EBADMSG,
				"snapshot gives this node index %u, the join "
				"gave %u",
				p->index, self->index);
	return 0;
}

/* One epoch and SPI slot per live generation (counts: frame_validate()). */
static int epochs_in(struct wire_snapshot *s, const Vxsec__Snapshot *m,
		     struct why *why)
{
	if (!s->n_gens)
		return 0;
	s->epochs = sodium_allocarray(s->n_gens, sizeof(*s->epochs));
	if (!s->epochs)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_gens; i++) {
		s->epochs[i].g = s->gens[i].g;
		s->epochs[i].spi_slot = m->generations[i]->spi_slot;
		memcpy(s->epochs[i].secret, m->epochs[i]->secret.data,
		       WIRE_EPOCH_LEN);
		for (size_t j = 0; j < i; j++)
			if (s->epochs[j].spi_slot == s->epochs[i].spi_slot ||
			    s->epochs[j].g == s->epochs[i].g)
				return why_fail(
					why, -EBADMSG,
					"generations %u and %u: one spi slot "
					"or generation twice",
					s->epochs[j].g, s->epochs[i].g);
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* An index is one node's: its SPIs. None twice, none this node's. */
static int snapshot_indexes(const struct wire_snapshot *s, struct why *why)
{
	uint32_t *ix = calloc(s->n_peers + 1, sizeof(*ix));
	int err = 0;

	if (!ix)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_peers; i++)
		ix[i] = s->peers[i].index;
	ix[s->n_peers] = s->self.index;
	qsort(ix, s->n_peers + 1, sizeof(*ix), cmp_u32);
	for (size_t i = 1; i <= s->n_peers && !err; i++)
		if (ix[i] == ix[i - 1])
			err = why_fail(why, -EBADMSG,
				       "snapshot gives index %u to two nodes",
				       ix[i]);
	free(ix);
	return err;
}

static int snapshot_in(struct wire_snapshot *s, const Vxsec__Snapshot *m,
		       const struct wire_self *self, struct why *why)
{
	int err;

	s->revision = m->revision;
	s->term = m->term;
	for (size_t i = 0; i < m->n_generations; i++) {
		s->gens[i].g = m->generations[i]->generation;
		s->gens[i].phase = phase_in(m->generations[i]->phase);
	}
	s->n_gens = m->n_generations;
	err = self_in(&s->self, m->self, self, why);
	if (!err)
		err = epochs_in(s, m, why);
	if (!err)
		err = snapshot_peers(s, m, self, why);
	if (!err)
		err = snapshot_indexes(s, why);
	return err;
}

/* A peer joined or has a new incarnation: keys for it alone. */
static int update_in(struct wire_delta *d, const Vxsec__PeerUpdate *u,
		     const struct wire_self *self, struct why *why)
{
	int err;

	peer_in(&d->peer, u->peer);
	if (strcmp(d->peer.id, self->id) == 0)
		return why_fail(why, -EBADMSG,
				"a peer update about this node itself");
	if (self->index && d->peer.index == self->index)
		return why_fail(why, -EBADMSG,
				"peer %s has this node's index %u", d->peer.id,
				self->index);
	err = family_check(self, &d->peer, why);
	return err;
}

static int cmp_change(const void *a, const void *b)
{
	uint32_t x = ((const struct wire_key_change *)a)->index;
	uint32_t y = ((const struct wire_key_change *)b)->index;

	return x < y ? -1 : x > y;
}

/* The epoch (locked) and the key changes, sorted by index, none twice. */
static int prepare_in(struct wire_delta *d, const Vxsec__GenerationPrepare *p,
		      struct why *why)
{
	size_t n = p->n_key_changes;

	d->generation = p->generation;
	d->epoch = sodium_malloc(sizeof(*d->epoch));
	if (!d->epoch)
		return -ENOMEM;
	d->epoch->g = p->generation;
	d->epoch->spi_slot = p->spi_slot;
	memcpy(d->epoch->secret, p->epoch.data, WIRE_EPOCH_LEN);
	if (!n)
		return 0;
	d->key_changes = calloc(n, sizeof(*d->key_changes));
	if (!d->key_changes)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		d->key_changes[i].index = p->key_changes[i]->index;
		memcpy(d->key_changes[i].pub, p->key_changes[i]->key.data,
		       WIRE_PUB_LEN);
	}
	d->n_key_changes = n;
	qsort(d->key_changes, n, sizeof(*d->key_changes), cmp_change);
	for (size_t i = 1; i < n; i++)
		if (d->key_changes[i].index == d->key_changes[i - 1].index)
			return why_fail(why, -EBADMSG,
					"prepare of generation %u changes the "
					"key of index %u twice",
					p->generation, d->key_changes[i].index);
	return 0;
}

static int delta_in(struct wire_delta *d, const Vxsec__Delta *m,
		    const struct wire_self *self, struct why *why)
{
	d->revision = m->revision;
	d->term = m->term;
	switch (m->change_case) {
	case VXSEC__DELTA__CHANGE_PEER_ADDED:
		d->change = WIRE_PEER_ADDED;
		return update_in(d, m->peer_added, self, why);
	case VXSEC__DELTA__CHANGE_INCARNATION_CHANGED:
		d->change = WIRE_INCARNATION;
		return update_in(d, m->incarnation_changed, self, why);
	case VXSEC__DELTA__CHANGE_PEER_REMOVED:
		d->change = WIRE_PEER_REMOVED;
		snprintf(d->peer.id, sizeof(d->peer.id), "%s",
			 m->peer_removed->node_id);
		return 0;
	case VXSEC__DELTA__CHANGE_PREPARE:
		d->change = WIRE_PREPARE;
		return prepare_in(d, m->prepare, why);
	case VXSEC__DELTA__CHANGE_COMMIT:
		d->change = WIRE_COMMIT;
		d->generation = m->commit->generation;
		return 0;
	case VXSEC__DELTA__CHANGE_RETIRE:
		d->change = WIRE_RETIRE;
		d->generation = m->retire->generation;
		return 0;
	default: /* frame_validate() refused it already */
		return why_fail(why, -EBADMSG, "a delta without a change");
	}
}

static int join_response_in(struct wire_msg *m, const Vxsec__JoinResponse *r)
{
	m->cert = malloc(r->cert_der.len);
	m->ca = malloc(r->ca_cert_der.len);
	if (!m->cert || !m->ca)
		return -ENOMEM;
	memcpy(m->cert, r->cert_der.data, r->cert_der.len);
	memcpy(m->ca, r->ca_cert_der.data, r->ca_cert_der.len);
	m->cert_len = r->cert_der.len;
	m->ca_len = r->ca_cert_der.len;
	m->node_index = r->node_index;
	return 0;
}

static int msg_in(struct wire_msg *m, const Vxsec__Envelope *env,
		  const struct wire_self *self, struct why *why)
{
	switch (env->msg_case) {
	case VXSEC__ENVELOPE__MSG_SNAPSHOT:
		m->type = WIRE_SNAPSHOT;
		return snapshot_in(&m->snapshot, env->snapshot, self, why);
	case VXSEC__ENVELOPE__MSG_DELTA:
		m->type = WIRE_DELTA;
		return delta_in(&m->delta, env->delta, self, why);
	case VXSEC__ENVELOPE__MSG_PING:
		m->type = WIRE_PING;
		m->nonce = env->ping->nonce;
		m->reply = env->ping->reply;
		return 0;
	case VXSEC__ENVELOPE__MSG_JOIN_RESPONSE:
		m->type = WIRE_JOIN_RESPONSE;
		return join_response_in(m, env->join_response);
	case VXSEC__ENVELOPE__MSG_ERROR:
		m->type = WIRE_ERROR;
		m->removed =
			env->error->code == VXSEC__ERROR_CODE__ERROR_REMOVED;
		m->not_leader =
			env->error->code == VXSEC__ERROR_CODE__ERROR_NOT_LEADER;
		snprintf(m->leader, sizeof(m->leader), "%s",
			 env->error->leader ? env->error->leader : "");
		m->reason =
			strdup(env->error->reason ? env->error->reason : "");
		return m->reason ? 0 : -ENOMEM;
	default:
		return why_fail(why, -ENOTSUP,
				"a message the leader does not send");
	}
}

int wire_decode(const uint8_t *body, size_t len, const struct wire_self *self,
		struct wire_msg *m, struct why *why)
{
	Vxsec__Envelope *env = NULL;
	int err;

	memset(m, 0, sizeof(*m));
	if (sodium_init() < 0) /* the keys go to sodium_malloc() memory */
		return why_fail(why, -ENOMEM, "libsodium failed");
	err = frame_decode(body, len, &env, why);
	if (!err)
		err = msg_in(m, env, self, why);
	if (err == -ENOMEM)
		why_set(why, "out of memory");
	frame_free(env);
	return err;
}

void wire_msg_free(struct wire_msg *m)
{
	sodium_free(m->snapshot.epochs); /* wipes them */
	free(m->snapshot.peers);
	sodium_free(m->delta.epoch);
	free(m->delta.key_changes);
	free(m->cert);
	free(m->ca);
	free(m->reason);
	memset(m, 0, sizeof(*m));
}

/* ---- to the leader ---- */

/*
 * One message in an envelope, as a frame. The oneof's members are one
 * union of pointers: protobuf-c reads the one msg_case names through its
 * descriptor, whatever the member's declared type.
 */
static int encode(Vxsec__Envelope__MsgCase c, void *msg, uint8_t **frame,
		  size_t *len)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;

	env.msg_case = c;
	env.ack = msg;
	return frame_encode(&env, frame, len);
}

/* Room for a node's addresses in a message. */
struct addrs_out {
	Vxsec__Address a[DESIRED_ADDRS_MAX];
	Vxsec__Address *p[DESIRED_ADDRS_MAX];
	size_t n;
};

static void addrs_out(struct addrs_out *o, const struct wire_node *n)
{
	o->n = n->n_addrs < DESIRED_ADDRS_MAX ? n->n_addrs : DESIRED_ADDRS_MAX;
	for (size_t i = 0; i < o->n; i++) {
		vxsec__address__init(&o->a[i]);
		o->a[i].ip.len = n->addrs[i].family == AF_INET ? 4 : 16;
		o->a[i].ip.data = (uint8_t *)n->addrs[i].ip.raw;
		o->p[i] = &o->a[i];
	}
}

int wire_join(const struct wire_node *n, const uint8_t proof[32],
	      const uint8_t *csr, size_t csr_len, uint8_t **frame, size_t *len)
{
	Vxsec__JoinRequest req = VXSEC__JOIN_REQUEST__INIT;
	struct addrs_out a;

	addrs_out(&a, n);
	req.node_id = (char *)n->id;
	req.secret_proof =
		(ProtobufCBinaryData){ PROTO_PROOF_LEN, (uint8_t *)proof };
	req.csr_der = (ProtobufCBinaryData){ csr_len, (uint8_t *)csr };
	req.boot_id = (ProtobufCBinaryData){ WIRE_BOOT_ID_LEN,
					     (uint8_t *)n->boot_id };
	req.n_underlay = a.n;
	req.underlay = a.p;
	req.static_key =
		(ProtobufCBinaryData){ WIRE_PUB_LEN, (uint8_t *)n->static_key };
	return encode(VXSEC__ENVELOPE__MSG_JOIN_REQUEST, &req, frame, len);
}

int wire_hello(const struct wire_node *n, bool lost_state,
	       uint64_t last_revision, uint64_t last_term, uint8_t **frame,
	       size_t *len)
{
	Vxsec__Hello h = VXSEC__HELLO__INIT;
	Vxsec__Address local, pub;
	struct addrs_out a;

	addrs_out(&a, n);
	h.node_id = (char *)n->id;
	h.boot_id = (ProtobufCBinaryData){ WIRE_BOOT_ID_LEN,
					   (uint8_t *)n->boot_id };
	h.n_underlay = a.n;
	h.underlay = a.p;
	h.lost_state = lost_state;
	h.last_revision = last_revision; /* a leader behind it refuses */
	h.last_term = last_term;	 /* so does an older leader */
	h.static_key =
		(ProtobufCBinaryData){ WIRE_PUB_LEN, (uint8_t *)n->static_key };
	if (n->local) {
		vxsec__address__init(&local);
		local.ip.len = n->local->family == AF_INET ? 4 : 16;
		local.ip.data = (uint8_t *)n->local->ip.raw;
		h.local_address = &local;
	}
	h.nat = n->nat == WIRE_NAT_FORCE   ? VXSEC__NAT_MODE__NAT_FORCE
		: n->nat == WIRE_NAT_NEVER ? VXSEC__NAT_MODE__NAT_NEVER
					   : VXSEC__NAT_MODE__NAT_AUTO;
	if (n->nat == WIRE_NAT_FORCE && n->nat_public) {
		vxsec__address__init(&pub);
		pub.ip.len = n->nat_public->family == AF_INET ? 4 : 16;
		pub.ip.data = (uint8_t *)n->nat_public->ip.raw;
		h.public_address = &pub;
	}
	return encode(VXSEC__ENVELOPE__MSG_HELLO, &h, frame, len);
}

int wire_key_update(const uint8_t pub[WIRE_PUB_LEN], uint8_t **frame,
		    size_t *len)
{
	Vxsec__KeyUpdate m = VXSEC__KEY_UPDATE__INIT;

	m.static_key = (ProtobufCBinaryData){ WIRE_PUB_LEN, (uint8_t *)pub };
	return encode(VXSEC__ENVELOPE__MSG_KEY_UPDATE, &m, frame, len);
}

int wire_ack(uint64_t revision, uint8_t **frame, size_t *len)
{
	Vxsec__Ack m = VXSEC__ACK__INIT;

	m.revision = revision;
	return encode(VXSEC__ENVELOPE__MSG_ACK, &m, frame, len);
}

int wire_expire(uint32_t generation, uint32_t spi, uint8_t **frame, size_t *len)
{
	Vxsec__ExpireReport m = VXSEC__EXPIRE_REPORT__INIT;

	m.generation = generation, m.spi = spi;
	return encode(VXSEC__ENVELOPE__MSG_EXPIRE_REPORT, &m, frame, len);
}

int wire_pong(uint64_t nonce, uint8_t **frame, size_t *len)
{
	Vxsec__Ping m = VXSEC__PING__INIT;

	m.nonce = nonce, m.reply = true;
	return encode(VXSEC__ENVELOPE__MSG_PING, &m, frame, len);
}

int wire_renew(const uint8_t *csr, size_t csr_len, uint8_t **frame, size_t *len)
{
	Vxsec__RenewRequest m = VXSEC__RENEW_REQUEST__INIT;

	m.csr_der = (ProtobufCBinaryData){ csr_len, (uint8_t *)csr };
	return encode(VXSEC__ENVELOPE__MSG_RENEW_REQUEST, &m, frame, len);
}

int wire_refusal(const char *why, uint8_t **frame, size_t *len)
{
	Vxsec__Error m = VXSEC__ERROR__INIT;

	m.code = VXSEC__ERROR_CODE__ERROR_BAD_MESSAGE;
	m.reason = (char *)why;
	return encode(VXSEC__ENVELOPE__MSG_ERROR, &m, frame, len);
}

void wire_frame_free(uint8_t *frame, size_t len)
{
	frame_buf_free(frame, len);
}
