// SPDX-License-Identifier: MIT
/* keymgr wire: translates between the cluster and protobuf; the only keymgr file that knows protobuf. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "wire.h"

/* A peer with room for its addresses and static keys. */
struct peer_msg {
	Vxsec__Peer p;
	Vxsec__Address a[REGISTRY_ADDRS_MAX];
	Vxsec__Address *ap[REGISTRY_ADDRS_MAX];
	Vxsec__NodeKey k[REGISTRY_KEYS_MAX];
	Vxsec__NodeKey *kp[REGISTRY_KEYS_MAX];
	Vxsec__Address pub; /* public_address, for a member behind NAT */
};

static void peer_fill(struct peer_msg *pm, const struct node *n)
{
	vxsec__peer__init(&pm->p);
	pm->p.node_id = (char *)n->id;
	pm->p.index = n->index;
	pm->p.incarnation = n->incarnation;
	for (size_t i = 0; i < n->n_addrs; i++) {
		vxsec__address__init(&pm->a[i]);
		pm->a[i].ip =
			(ProtobufCBinaryData){ n->addrs[i].len,
					       (uint8_t *)n->addrs[i].ip };
		pm->ap[i] = &pm->a[i];
	}
	pm->p.n_underlay = n->n_addrs;
	pm->p.underlay = pm->ap;
	for (size_t i = 0; i < n->n_keys; i++) {
		vxsec__node_key__init(&pm->k[i]);
		pm->k[i].from_generation = n->keys[i].from;
		pm->k[i].key =
			(ProtobufCBinaryData){ REGISTRY_PUB_LEN,
					       (uint8_t *)n->keys[i].pub };
		pm->kp[i] = &pm->k[i];
	}
	pm->p.n_keys = n->n_keys;
	pm->p.keys = pm->kp;
	if (n->nat) {
		vxsec__address__init(&pm->pub);
		pm->pub.ip =
			(ProtobufCBinaryData){ n->public_addr.len,
					       (uint8_t *)n->public_addr.ip };
		pm->p.public_address = &pm->pub;
	}
}

static bool is_peer(const struct node *n, const struct node *to)
{
	return n != to && n->state != NODE_REMOVED;
}

static Vxsec__Phase phase_of(enum gen_phase p)
{
	switch (p) {
	case GEN_PREPARED:
		return VXSEC__PHASE__PHASE_PREPARED;
	case GEN_COMMITTED:
		return VXSEC__PHASE__PHASE_COMMITTED;
	default:
		return VXSEC__PHASE__PHASE_RETIRING;
	}
}

/* Snapshot parts; the epochs point into the rotation's locked memory. */
struct snap_parts {
	struct peer_msg *peers;
	Vxsec__Peer **pp;
	struct peer_msg self;
	Vxsec__Generation gen[ROT_GENS_MAX];
	Vxsec__Generation *gp[ROT_GENS_MAX];
	Vxsec__Epoch ep[ROT_GENS_MAX];
	Vxsec__Epoch *epp[ROT_GENS_MAX];
};

static int snap_peers(struct snap_parts *sp, Vxsec__Snapshot *s,
		      const struct cluster *c, const struct node *to)
{
	size_t cap = cluster_members(c), k = 0;
	struct node *n;

	sp->peers = calloc(cap ? cap : 1, sizeof(*sp->peers));
	sp->pp = calloc(cap ? cap : 1, sizeof(Vxsec__Peer *));
	if (!sp->peers || !sp->pp)
		return -ENOMEM;
	for (size_t i = 0; (n = cluster_node(c, (uint32_t)i + 1)); i++) {
		if (!is_peer(n, to) || k == cap)
			continue;
		peer_fill(&sp->peers[k], n);
		sp->pp[k] = &sp->peers[k].p;
		k++;
	}
	s->n_peers = k;
	s->peers = sp->pp;
	peer_fill(&sp->self, to);
	s->self = &sp->self.p;
	return 0;
}

/* Every live generation with its SPI slot and its epoch secret. */
static void snap_gens(struct snap_parts *sp, Vxsec__Snapshot *s,
		      const struct cluster *c)
{
	size_t n_gens;
	const struct rot_gen *gens = cluster_gens(c, &n_gens);

	for (size_t i = 0; i < n_gens; i++) {
		vxsec__generation__init(&sp->gen[i]);
		sp->gen[i].generation = gens[i].g;
		sp->gen[i].phase = phase_of(gens[i].phase);
		sp->gen[i].spi_slot = keys_spi_slot(gens[i].g);
		sp->gp[i] = &sp->gen[i];
		vxsec__epoch__init(&sp->ep[i]);
		sp->ep[i].generation = gens[i].g;
		sp->ep[i].secret =
			(ProtobufCBinaryData){ KEYS_EPOCH_LEN,
					       (uint8_t *)gens[i].epoch };
		sp->epp[i] = &sp->ep[i];
	}
	s->n_generations = n_gens;
	s->generations = sp->gp;
	s->n_epochs = n_gens;
	s->epochs = sp->epp;
}

int wire_snapshot(const struct cluster *c, const struct node *to, uint64_t term,
		  uint8_t **frame, size_t *len)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Snapshot s = VXSEC__SNAPSHOT__INIT;
	struct snap_parts sp;
	int err;

	memset(&sp, 0, sizeof(sp));
	err = snap_peers(&sp, &s, c, to);
	if (!err) {
		snap_gens(&sp, &s, c);
		s.revision = cluster_revision(c);
		s.term = term;
		env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
		env.snapshot = &s;
		err = frame_encode(&env, frame, len);
	}
	free(sp.peers);
	free(sp.pp);
	return err;
}

/* The delta d as one frame. */
static int delta_frame(Vxsec__Delta *d, uint8_t **frame, size_t *len)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;

	env.msg_case = VXSEC__ENVELOPE__MSG_DELTA;
	env.delta = d;
	return frame_encode(&env, frame, len);
}

/* peer_added / incarnation_changed: the peer with its static keys. */
static int delta_peer(const struct node *peer, Vxsec__Delta *d, uint8_t **frame,
		      size_t *len)
{
	Vxsec__PeerUpdate pu = VXSEC__PEER_UPDATE__INIT;
	struct peer_msg pm;

	peer_fill(&pm, peer);
	pu.peer = &pm.p;
	if (d->change_case == VXSEC__DELTA__CHANGE_PEER_ADDED)
		d->peer_added = &pu;
	else
		d->incarnation_changed = &pu;
	return delta_frame(d, frame, len);
}

/* Node n's key from generation g, or NULL. */
static const uint8_t *key_from(const struct node *n, uint32_t g)
{
	for (size_t i = 0; i < n->n_keys; i++)
		if (n->keys[i].from == g)
			return n->keys[i].pub;
	return NULL;
}

/* The members whose key changes with g: those with a key from g. */
static int key_changes(const struct cluster *c, uint32_t g,
		       Vxsec__KeyChange **kc, Vxsec__KeyChange ***kp, size_t *n)
{
	size_t cap = cluster_members(c), k = 0;
	const uint8_t *pub;
	struct node *nd;

	*kc = calloc(cap ? cap : 1, sizeof(**kc));
	*kp = calloc(cap ? cap : 1, sizeof(Vxsec__KeyChange *));
	if (!*kc || !*kp)
		return -ENOMEM;
	for (size_t i = 0; (nd = cluster_node(c, (uint32_t)i + 1)); i++) {
		pub = key_from(nd, g);
		if (nd->state == NODE_REMOVED || k == cap || !pub)
			continue;
		vxsec__key_change__init(&(*kc)[k]);
		(*kc)[k].index = nd->index;
		(*kc)[k].key = (ProtobufCBinaryData){ REGISTRY_PUB_LEN,
						      (uint8_t *)pub };
		(*kp)[k] = &(*kc)[k];
		k++;
	}
	*n = k;
	return 0;
}

int wire_prepare(const struct cluster *c, const struct change *ch,
		 uint64_t term, uint8_t **frame, size_t *len)
{
	Vxsec__Delta d = VXSEC__DELTA__INIT;
	Vxsec__GenerationPrepare p = VXSEC__GENERATION_PREPARE__INIT;
	const struct rot_gen *gen = cluster_gen(c, ch->generation);
	Vxsec__KeyChange *kc = NULL, **kp = NULL;
	int err;

	if (ch->type != CHG_PREPARE)
		return -EINVAL;
	if (!gen)
		return -ESTALE;
	err = key_changes(c, gen->g, &kc, &kp, &p.n_key_changes);
	if (!err) {
		p.generation = gen->g;
		p.epoch = (ProtobufCBinaryData){ KEYS_EPOCH_LEN,
						 (uint8_t *)gen->epoch };
		p.spi_slot = keys_spi_slot(gen->g);
		p.key_changes = kp;
		d.revision = ch->revision;
		d.term = term;
		d.change_case = VXSEC__DELTA__CHANGE_PREPARE;
		d.prepare = &p;
		err = delta_frame(&d, frame, len);
	}
	free(kc);
	free(kp);
	return err;
}

/* Changes that carry no key: removal, commit, retire. */
static int delta_small(const struct cluster *c, const struct change *ch,
		       const struct node *peer, Vxsec__Delta *d,
		       uint8_t **frame, size_t *len)
{
	Vxsec__PeerRemoved pr = VXSEC__PEER_REMOVED__INIT;
	Vxsec__GenerationCommit gc = VXSEC__GENERATION_COMMIT__INIT;
	Vxsec__GenerationRetire gr = VXSEC__GENERATION_RETIRE__INIT;

	switch (ch->type) {
	case CHG_PEER_REMOVED:
		pr.node_id = (char *)peer->id;
		d->change_case = VXSEC__DELTA__CHANGE_PEER_REMOVED;
		d->peer_removed = &pr;
		break;
	case CHG_COMMIT:
		if (!cluster_gen(c, ch->generation))
			return -ESTALE;
		gc.generation = ch->generation;
		d->change_case = VXSEC__DELTA__CHANGE_COMMIT;
		d->commit = &gc;
		break;
	case CHG_RETIRE:
		gr.generation = ch->generation;
		d->change_case = VXSEC__DELTA__CHANGE_RETIRE;
		d->retire = &gr;
		break;
	default:
		return -EINVAL;
	}
	return delta_frame(d, frame, len);
}

int wire_delta(const struct cluster *c, const struct node *to,
	       const struct change *ch, uint64_t term, uint8_t **frame,
	       size_t *len)
{
	Vxsec__Delta d = VXSEC__DELTA__INIT;
	const struct node *peer = NULL;

	d.revision = ch->revision;
	d.term = term;
	if (ch->type <= CHG_PEER_REMOVED) {
		peer = cluster_node(c, ch->node);
		if (!peer)
			return -ESTALE;
		if (peer == to)
			return -ENODATA; /* it gets a snapshot on connect */
	}
	switch (ch->type) {
	case CHG_PEER_ADDED:
	case CHG_PEER_UPDATED:
		if (peer->state == NODE_REMOVED)
			return -ENODATA; /* its removal follows */
		d.change_case =
			ch->type == CHG_PEER_ADDED
				? VXSEC__DELTA__CHANGE_PEER_ADDED
				: VXSEC__DELTA__CHANGE_INCARNATION_CHANGED;
		return delta_peer(peer, &d, frame, len);
	case CHG_PREPARE:
		return wire_prepare(c, ch, term, frame, len);
	default:
		return delta_small(c, ch, peer, &d, frame, len);
	}
}

int wire_error(enum wire_error code, const char *reason, uint8_t **frame,
	       size_t *len)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Error e = VXSEC__ERROR__INIT;
	char r[PROTO_REASON_MAX];

	snprintf(r, sizeof(r), "%s", reason);
	e.code = (Vxsec__ErrorCode)code;
	e.reason = r;
	env.msg_case = VXSEC__ENVELOPE__MSG_ERROR;
	env.error = &e;
	return frame_encode(&env, frame, len);
}

int wire_not_leader(const char *reason, const char *leader, uint8_t **frame,
		    size_t *len)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Error e = VXSEC__ERROR__INIT;
	char r[PROTO_REASON_MAX], l[PROTO_LEADER_MAX + 1];

	snprintf(r, sizeof(r), "%s", reason);
	snprintf(l, sizeof(l), "%s", leader ? leader : "");
	e.code = VXSEC__ERROR_CODE__ERROR_NOT_LEADER;
	e.reason = r;
	e.leader = l;
	env.msg_case = VXSEC__ENVELOPE__MSG_ERROR;
	env.error = &e;
	return frame_encode(&env, frame, len);
}

int wire_join_response(const uint8_t *cert, size_t cert_len, const uint8_t *ca,
		       size_t ca_len, uint32_t index, uint8_t **frame,
		       size_t *len)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__JoinResponse r = VXSEC__JOIN_RESPONSE__INIT;

	r.cert_der = (ProtobufCBinaryData){ cert_len, (uint8_t *)cert };
	r.ca_cert_der = (ProtobufCBinaryData){ ca_len, (uint8_t *)ca };
	r.node_index = index;
	env.msg_case = VXSEC__ENVELOPE__MSG_JOIN_RESPONSE;
	env.join_response = &r;
	return frame_encode(&env, frame, len);
}

int wire_ping_reply(uint64_t nonce, uint8_t **frame, size_t *len)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Ping p = VXSEC__PING__INIT;

	p.nonce = nonce;
	p.reply = true;
	env.msg_case = VXSEC__ENVELOPE__MSG_PING;
	env.ping = &p;
	return frame_encode(&env, frame, len);
}

/* ---- decoding ---- */

static void addrs_in(struct wire_in *in, size_t n, Vxsec__Address **a)
{
	in->n_addrs = n < REGISTRY_ADDRS_MAX ? n : REGISTRY_ADDRS_MAX;
	for (size_t i = 0; i < in->n_addrs; i++) {
		in->addrs[i].len = (uint8_t)a[i]->ip.len;
		memcpy(in->addrs[i].ip, a[i]->ip.data, a[i]->ip.len);
	}
}

static void join_in(struct wire_in *in, const Vxsec__JoinRequest *m)
{
	in->type = IN_JOIN;
	snprintf(in->node_id, sizeof(in->node_id), "%s", m->node_id);
	memcpy(in->boot_id, m->boot_id.data, sizeof(in->boot_id));
	memcpy(in->proof, m->secret_proof.data, sizeof(in->proof));
	memcpy(in->csr, m->csr_der.data, m->csr_der.len);
	in->csr_len = m->csr_der.len;
	addrs_in(in, m->n_underlay, m->underlay);
	memcpy(in->static_key, m->static_key.data, sizeof(in->static_key));
}

static void hello_in(struct wire_in *in, const Vxsec__Hello *m)
{
	in->type = IN_HELLO;
	snprintf(in->node_id, sizeof(in->node_id), "%s", m->node_id);
	memcpy(in->boot_id, m->boot_id.data, sizeof(in->boot_id));
	in->revision = m->last_revision;
	in->term = m->last_term;
	in->lost_state = m->lost_state;
	addrs_in(in, m->n_underlay, m->underlay);
	memcpy(in->static_key, m->static_key.data, sizeof(in->static_key));
	in->has_local = m->local_address != NULL;
	if (in->has_local) {
		in->local.len = (uint8_t)m->local_address->ip.len;
		memcpy(in->local.ip, m->local_address->ip.data,
		       m->local_address->ip.len);
	}
	in->nat = m->nat == VXSEC__NAT_MODE__NAT_FORCE	 ? WIRE_IN_NAT_FORCE
		  : m->nat == VXSEC__NAT_MODE__NAT_NEVER ? WIRE_IN_NAT_NEVER
							 : WIRE_IN_NAT_AUTO;
	in->has_public = m->public_address != NULL;
	if (in->has_public) {
		in->public_addr.len = (uint8_t)m->public_address->ip.len;
		memcpy(in->public_addr.ip, m->public_address->ip.data,
		       m->public_address->ip.len);
	}
}

static int translate(const Vxsec__Envelope *env, struct wire_in *in,
		     struct why *why)
{
	switch (env->msg_case) {
	case VXSEC__ENVELOPE__MSG_JOIN_REQUEST:
		join_in(in, env->join_request);
		return 0;
	case VXSEC__ENVELOPE__MSG_HELLO:
		hello_in(in, env->hello);
		return 0;
	case VXSEC__ENVELOPE__MSG_KEY_UPDATE:
		in->type = IN_KEY_UPDATE;
		memcpy(in->static_key, env->key_update->static_key.data,
		       sizeof(in->static_key));
		return 0;
	case VXSEC__ENVELOPE__MSG_ACK:
		in->type = IN_ACK;
		in->revision = env->ack->revision;
		return 0;
	case VXSEC__ENVELOPE__MSG_RENEW_REQUEST:
		in->type = IN_RENEW;
		in->csr_len = env->renew_request->csr_der.len;
		memcpy(in->csr, env->renew_request->csr_der.data, in->csr_len);
		return 0;
	case VXSEC__ENVELOPE__MSG_PING:
		in->type = IN_PING;
		in->nonce = env->ping->nonce;
		return env->ping->reply ? -ENOTSUP : 0;
	case VXSEC__ENVELOPE__MSG_EXPIRE_REPORT:
		in->type = IN_EXPIRE;
		in->generation = env->expire_report->generation;
		in->spi = env->expire_report->spi;
		return 0;
	case VXSEC__ENVELOPE__MSG_ERROR:
		in->type = IN_ERROR;
		in->error_code = env->error->code;
		snprintf(in->reason, sizeof(in->reason), "%s",
			 env->error->reason ? env->error->reason : "");
		return 0;
	default:
		why_set(why, "a leader does not take message %d",
			(int)env->msg_case);
		return -ENOTSUP;
	}
}

void wire_in_wipe(struct wire_in *in)
{
	sodium_memzero(in, sizeof(*in));
}

int wire_decode(const uint8_t *body, size_t len, struct wire_in *in,
		struct why *why)
{
	Vxsec__Envelope *env;
	int err;

	memset(in, 0, sizeof(*in));
	err = frame_decode(body, len, &env, why);
	if (err)
		return err;
	err = translate(env, in, why);
	if (err == -ENOTSUP && in->type == IN_PING)
		why_set(why, "a ping reply the leader never asked for");
	frame_free(env);
	return err;
}
