// SPDX-License-Identifier: MIT
/* Unit tests of agent/wire.c: the leader's frames made plain structs, every refusal on receipt, the agent's frames. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent/wire.h"
#include "proto/frame.h"

#define N 8

/* A state message under construction: protobuf structs. */
struct msg {
	Vxsec__Peer peers[N], *pp[N];
	Vxsec__Address addr[N], *ap[N];
	uint8_t ip[N][16];
	Vxsec__NodeKey nk[N], *nkp[N];
	uint8_t pub[N][PROTO_STATIC_KEY_LEN];
	Vxsec__Generation gens[3], *gp[3];
	Vxsec__Epoch ep[3], *epp[3];
	uint8_t secret[3][PROTO_EPOCH_LEN];
	size_t n_peers, n_gens;
};

/* This node has an IPv4 address only; the join gave it index 1. */
static const struct desired_addr self_addr = { .family = AF_INET };
static const struct wire_self self_node = { "self", &self_addr, 1, 1 };

/* A peer with one address: IPv4 10.0.0.index, or IPv6 (v6). */
static Vxsec__Peer *peer(struct msg *m, const char *id, uint32_t index, bool v6)
{
	size_t i = m->n_peers++;

	vxsec__peer__init(&m->peers[i]);
	vxsec__address__init(&m->addr[i]);
	m->ip[i][0] = v6 ? 0xfd : 10, m->ip[i][3] = (uint8_t)index;
	m->addr[i].ip = (ProtobufCBinaryData){ v6 ? 16 : 4, m->ip[i] };
	m->ap[i] = &m->addr[i];
	m->peers[i].node_id = (char *)id;
	m->peers[i].index = index;
	m->peers[i].incarnation = index * 10;
	m->peers[i].n_underlay = 1;
	m->peers[i].underlay = &m->ap[i];
	/* one key, from every generation: its bytes are the index */
	vxsec__node_key__init(&m->nk[i]);
	memset(m->pub[i], (int)index, PROTO_STATIC_KEY_LEN);
	m->nk[i].key = (ProtobufCBinaryData){ PROTO_STATIC_KEY_LEN, m->pub[i] };
	m->nkp[i] = &m->nk[i];
	m->peers[i].n_keys = 1;
	m->peers[i].keys = &m->nkp[i];
	m->pp[i] = &m->peers[i];
	return &m->peers[i];
}

/* A live generation: SPI slot g + 10, epoch bytes all g. */
static void gen(struct msg *m, uint32_t g, Vxsec__Phase phase)
{
	size_t i = m->n_gens++;

	vxsec__generation__init(&m->gens[i]);
	m->gens[i].generation = g;
	m->gens[i].phase = phase;
	m->gens[i].spi_slot = g + 10;
	m->gp[i] = &m->gens[i];
	vxsec__epoch__init(&m->ep[i]);
	memset(m->secret[i], (int)g, PROTO_EPOCH_LEN);
	m->ep[i].generation = g;
	m->ep[i].secret =
		(ProtobufCBinaryData){ PROTO_EPOCH_LEN, m->secret[i] };
	m->epp[i] = &m->ep[i];
}

/* Encodes env and decodes it as the agent does. */
static int decode(Vxsec__Envelope *env, struct wire_msg *out, struct why *why)
{
	uint8_t *frame;
	size_t flen;
	int err;

	assert_int_equal(frame_encode(env, &frame, &flen), 0);
	err = wire_decode(frame + FRAME_HEADER, flen - FRAME_HEADER, &self_node,
			  out, why);
	frame_buf_free(frame, flen);
	return err;
}

/* A snapshot of m's peers and generations for self (id, index). */
static int snapshot_for(struct msg *m, const char *id, uint32_t index,
			struct wire_msg *out, struct why *why)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Snapshot s = VXSEC__SNAPSHOT__INIT;
	struct msg me = { 0 };

	s.revision = 7;
	s.term = 12;
	s.n_peers = m->n_peers, s.peers = m->pp;
	s.n_generations = m->n_gens, s.generations = m->gp;
	s.n_epochs = m->n_gens, s.epochs = m->epp;
	s.self = peer(&me, id, index, false);
	env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
	env.snapshot = &s;
	return decode(&env, out, why);
}

static int snapshot(struct msg *m, struct wire_msg *out, struct why *why)
{
	return snapshot_for(m, "self", 1, out, why);
}

static int delta(Vxsec__Delta *d, struct wire_msg *out, struct why *why)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;

	env.msg_case = VXSEC__ENVELOPE__MSG_DELTA;
	env.delta = d;
	return decode(&env, out, why);
}

/* Peers sorted, addresses and keys copied, phases translated. */
static void test_snapshot(void **state)
{
	struct msg m = { 0 };
	struct wire_msg w;
	const struct wire_snapshot *s = &w.snapshot;
	struct why why = { "" };

	(void)state;
	peer(&m, "node-c", 4, false);
	peer(&m, "node-a", 2, false);
	gen(&m, 1, VXSEC__PHASE__PHASE_RETIRING);
	gen(&m, 2, VXSEC__PHASE__PHASE_COMMITTED);
	gen(&m, 3, VXSEC__PHASE__PHASE_PREPARED);
	m.nk[0].from_generation = 2; /* node-c: a key from generation 2 */
	assert_int_equal(snapshot(&m, &w, &why), 0);
	assert_int_equal(w.type, WIRE_SNAPSHOT);
	assert_int_equal(s->revision, 7);
	assert_int_equal(s->term, 12);
	assert_int_equal(s->n_peers, 2);
	assert_string_equal(s->peers[0].id, "node-a");
	assert_int_equal(s->peers[1].index, 4);
	assert_int_equal(s->peers[1].incarnation, 40);
	assert_int_equal(s->peers[1].addrs[0].family, AF_INET);
	assert_int_equal(s->peers[1].addrs[0].ip.raw[3], 4);
	assert_int_equal(s->n_gens, 3);
	assert_int_equal(s->gens[0].phase, DPHASE_RETIRING);
	assert_int_equal(s->gens[1].phase, DPHASE_COMMITTED);
	assert_int_equal(s->gens[2].phase, DPHASE_PREPARED);
	assert_int_equal(s->peers[1].n_keys, 1);
	assert_int_equal(s->peers[1].keys[0].from, 2);
	assert_int_equal(s->peers[1].keys[0].pub[31], 4);
	assert_int_equal(s->epochs[2].g, 3);
	assert_int_equal(s->epochs[2].spi_slot, 13);
	assert_int_equal(s->epochs[2].secret[31], 3);
	assert_string_equal(s->self.id, "self");
	assert_int_equal(s->self.index, 1);
	assert_int_equal(s->self.keys[0].pub[0], 1);
	wire_msg_free(&w);
	assert_null(w.snapshot.epochs); /* wiped and freed */
}

/* Each refused snapshot, and what it is refused for. */
static void test_bad_snapshots(void **state)
{
	static const char *const reasons[] = {
		"node-a twice",
		"self (this node) as a peer",
		"no address family",
		"snapshot is for node other, this node is self",
		"this node index 9, the join gave 1",
		"generations 1 and 2: one spi slot",
		"index 2 to two nodes",
		"index 1 to two nodes",
	};
	struct why why = { "" };

	(void)state;
	for (size_t t = 0; t < 8; t++) {
		struct msg m = { 0 };
		struct wire_msg w;
		int err;

		peer(&m, "node-a", 2, false);
		gen(&m, 1, VXSEC__PHASE__PHASE_COMMITTED);
		gen(&m, 2, VXSEC__PHASE__PHASE_PREPARED);
		if (t == 0)
			peer(&m, "node-a", 2, false);
		if (t == 1)
			peer(&m, "self", 1, false);
		if (t == 2)
			peer(&m, "node-6", 6, true); /* IPv6 only */
		if (t == 5)
			m.gens[1].spi_slot = m.gens[0].spi_slot;
		if (t == 6)
			peer(&m, "node-z", 2, false);
		if (t == 7)
			peer(&m, "node-y", 1, false);
		why.msg[0] = '\0';
		err = t == 3   ? snapshot_for(&m, "other", 1, &w, &why)
		      : t == 4 ? snapshot_for(&m, "self", 9, &w, &why)
			       : snapshot(&m, &w, &why);
		assert_int_equal(err, -EBADMSG);
		assert_non_null(strstr(why.msg, reasons[t]));
		wire_msg_free(&w);
	}
}

/* A node with IPv4 and IPv6 takes a peer with either. */
static void test_families(void **state)
{
	const struct desired_addr both[2] = { { .family = AF_INET6 },
					      { .family = AF_INET } };
	const struct wire_self dual = { "self", both, 2, 0 };
	struct msg m = { 0 };
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Snapshot s = VXSEC__SNAPSHOT__INIT;
	struct wire_msg w;
	uint8_t *frame;
	size_t flen;
	struct why why = { "" };

	(void)state;
	peer(&m, "node-4", 4, false);
	peer(&m, "node-6", 6, true);
	s.n_peers = m.n_peers, s.peers = m.pp;
	s.self = peer(&m, "self", 1, false);
	env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
	env.snapshot = &s;
	assert_int_equal(frame_encode(&env, &frame, &flen), 0);
	assert_int_equal(wire_decode(frame + FRAME_HEADER, flen - FRAME_HEADER,
				     &dual, &w, &why),
			 0);
	assert_int_equal(w.snapshot.peers[1].addrs[0].family, AF_INET6);
	assert_int_equal(w.snapshot.peers[1].addrs[0].ip.raw[0], 0xfd);
	frame_buf_free(frame, flen);
	wire_msg_free(&w);
}

/* A new incarnation (the peer's keys with it), a removal. */
static void test_peer_deltas(void **state)
{
	struct msg m = { 0 };
	Vxsec__Delta d = VXSEC__DELTA__INIT;
	Vxsec__PeerUpdate u = VXSEC__PEER_UPDATE__INIT;
	Vxsec__PeerRemoved rm = VXSEC__PEER_REMOVED__INIT;
	struct wire_msg w;
	struct why why = { "" };

	(void)state;
	d.revision = 3;
	d.term = 5;
	u.peer = peer(&m, "node-b", 3, false);
	d.change_case = VXSEC__DELTA__CHANGE_INCARNATION_CHANGED;
	d.incarnation_changed = &u;
	assert_int_equal(delta(&d, &w, &why), 0);
	assert_int_equal(w.type, WIRE_DELTA);
	assert_int_equal(w.delta.change, WIRE_INCARNATION);
	assert_int_equal(w.delta.revision, 3);
	assert_int_equal(w.delta.term, 5);
	assert_string_equal(w.delta.peer.id, "node-b");
	assert_int_equal(w.delta.peer.n_keys, 1);
	assert_int_equal(w.delta.peer.keys[0].pub[0], 3);
	wire_msg_free(&w);

	rm.node_id = "node-b";
	d.change_case = VXSEC__DELTA__CHANGE_PEER_REMOVED, d.peer_removed = &rm;
	assert_int_equal(delta(&d, &w, &why), 0);
	assert_int_equal(w.delta.change, WIRE_PEER_REMOVED);
	assert_string_equal(w.delta.peer.id, "node-b");
	wire_msg_free(&w);
}

/* A prepare (epoch, slot, key changes sorted by index), a commit. */
static void test_generation_deltas(void **state)
{
	Vxsec__Delta d = VXSEC__DELTA__INIT;
	Vxsec__GenerationPrepare p = VXSEC__GENERATION_PREPARE__INIT;
	Vxsec__GenerationCommit c = VXSEC__GENERATION_COMMIT__INIT;
	Vxsec__KeyChange kc[2] = { VXSEC__KEY_CHANGE__INIT,
				   VXSEC__KEY_CHANGE__INIT },
			 *kcp[2] = { &kc[0], &kc[1] };
	uint8_t epoch[PROTO_EPOCH_LEN], pubs[2][PROTO_STATIC_KEY_LEN];
	struct wire_msg w;
	struct why why = { "" };

	(void)state;
	d.revision = 4;
	memset(epoch, 0xe1, sizeof(epoch));
	memset(pubs[0], 0x07, sizeof(pubs[0]));
	memset(pubs[1], 0x03, sizeof(pubs[1]));
	kc[0].index = 7, kc[1].index = 3;
	kc[0].key = (ProtobufCBinaryData){ PROTO_STATIC_KEY_LEN, pubs[0] };
	kc[1].key = (ProtobufCBinaryData){ PROTO_STATIC_KEY_LEN, pubs[1] };
	p.generation = 1, p.spi_slot = 2;
	p.epoch = (ProtobufCBinaryData){ PROTO_EPOCH_LEN, epoch };
	p.n_key_changes = 2, p.key_changes = kcp;
	d.change_case = VXSEC__DELTA__CHANGE_PREPARE, d.prepare = &p;
	assert_int_equal(delta(&d, &w, &why), 0);
	assert_int_equal(w.delta.change, WIRE_PREPARE);
	assert_int_equal(w.delta.generation, 1);
	assert_int_equal(w.delta.epoch->g, 1);
	assert_int_equal(w.delta.epoch->spi_slot, 2);
	assert_int_equal(w.delta.epoch->secret[0], 0xe1);
	assert_int_equal(w.delta.n_key_changes, 2);
	assert_int_equal(w.delta.key_changes[0].index, 3); /* sorted */
	assert_int_equal(w.delta.key_changes[0].pub[5], 0x03);
	assert_int_equal(w.delta.key_changes[1].index, 7);
	wire_msg_free(&w);
	assert_null(w.delta.epoch);

	c.generation = 2;
	d.change_case = VXSEC__DELTA__CHANGE_COMMIT, d.commit = &c;
	assert_int_equal(delta(&d, &w, &why), 0);
	assert_int_equal(w.delta.change, WIRE_COMMIT);
	assert_int_equal(w.delta.generation, 2);
	wire_msg_free(&w);
}

/* Each refused delta, and what it is refused for. */
static void test_bad_deltas(void **state)
{
	static const char *const reasons[] = {
		"about this node itself",
		"node-b has this node's index 1",
		"node-6: no address family",
		"changes the key of index 4 twice",
	};
	uint8_t epoch[PROTO_EPOCH_LEN] = { 0 },
		pub[PROTO_STATIC_KEY_LEN] = { 0 };
	Vxsec__KeyChange kc = VXSEC__KEY_CHANGE__INIT, *kcp[2] = { &kc, &kc };
	struct why why = { "" };

	(void)state;
	kc.index = 4, kc.key = (ProtobufCBinaryData){ sizeof(pub), pub };
	for (size_t t = 0; t < 4; t++) {
		struct msg m = { 0 };
		Vxsec__Delta d = VXSEC__DELTA__INIT;
		Vxsec__PeerUpdate u = VXSEC__PEER_UPDATE__INIT;
		Vxsec__GenerationPrepare p = VXSEC__GENERATION_PREPARE__INIT;
		struct wire_msg w;

		d.revision = 4;
		d.change_case = VXSEC__DELTA__CHANGE_PEER_ADDED;
		d.peer_added = &u;
		u.peer = t == 0	  ? peer(&m, "self", 1, false)
			 : t == 1 ? peer(&m, "node-b", 1, false)
			 : t == 2 ? peer(&m, "node-6", 6, true)
				  : peer(&m, "node-b", 3, false);
		if (t == 3) {
			p.generation = 2, p.spi_slot = 3;
			p.epoch = (ProtobufCBinaryData){ sizeof(epoch), epoch };
			p.n_key_changes = 2, p.key_changes = kcp;
			d.change_case = VXSEC__DELTA__CHANGE_PREPARE;
			d.prepare = &p;
		}
		why.msg[0] = '\0';
		assert_int_equal(delta(&d, &w, &why), -EBADMSG);
		assert_non_null(strstr(why.msg, reasons[t]));
		wire_msg_free(&w);
	}
}

/* Ping, an error, a join response; what a leader never sends; garbage. */
static void test_other_messages(void **state)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Ping ping = VXSEC__PING__INIT;
	Vxsec__Error e = VXSEC__ERROR__INIT;
	Vxsec__JoinResponse jr = VXSEC__JOIN_RESPONSE__INIT;
	Vxsec__Ack ack = VXSEC__ACK__INIT;
	uint8_t cert[3] = { 1, 2, 3 }, ca[2] = { 4, 5 };
	const uint8_t junk[] = { 0xff, 0xff, 0xff };
	struct wire_msg w;
	struct why why = { "" };

	(void)state;
	ping.nonce = 99;
	env.msg_case = VXSEC__ENVELOPE__MSG_PING, env.ping = &ping;
	assert_int_equal(decode(&env, &w, &why), 0);
	assert_int_equal(w.type, WIRE_PING);
	assert_int_equal(w.nonce, 99);
	assert_false(w.reply);
	wire_msg_free(&w);

	e.code = VXSEC__ERROR_CODE__ERROR_REMOVED, e.reason = "gone";
	env.msg_case = VXSEC__ENVELOPE__MSG_ERROR, env.error = &e;
	assert_int_equal(decode(&env, &w, &why), 0);
	assert_int_equal(w.type, WIRE_ERROR);
	assert_true(w.removed);
	assert_false(w.not_leader);
	assert_string_equal(w.reason, "gone");
	assert_string_equal(w.leader, "");
	wire_msg_free(&w);

	/* A standby names the instance that leads. */
	e.code = VXSEC__ERROR_CODE__ERROR_NOT_LEADER, e.reason = "a standby";
	e.leader = "[fd00::3]:7120";
	assert_int_equal(decode(&env, &w, &why), 0);
	assert_true(w.not_leader);
	assert_false(w.removed);
	assert_string_equal(w.leader, "[fd00::3]:7120");
	wire_msg_free(&w);

	jr.cert_der = (ProtobufCBinaryData){ sizeof(cert), cert };
	jr.ca_cert_der = (ProtobufCBinaryData){ sizeof(ca), ca };
	jr.node_index = 5;
	env.msg_case = VXSEC__ENVELOPE__MSG_JOIN_RESPONSE;
	env.join_response = &jr;
	assert_int_equal(decode(&env, &w, &why), 0);
	assert_int_equal(w.type, WIRE_JOIN_RESPONSE);
	assert_int_equal(w.node_index, 5);
	assert_int_equal(w.cert_len, 3);
	assert_memory_equal(w.ca, ca, 2);
	wire_msg_free(&w);

	env.msg_case = VXSEC__ENVELOPE__MSG_ACK, env.ack = &ack;
	assert_int_equal(decode(&env, &w, &why), -ENOTSUP);
	wire_msg_free(&w);

	assert_int_equal(wire_decode(junk, sizeof(junk), &self_node, &w, &why),
			 -EBADMSG);
	wire_msg_free(&w);
}

/* Decodes a frame the agent built (header stripped). */
static Vxsec__Envelope *sent(int err, uint8_t *frame, size_t len)
{
	Vxsec__Envelope *env = NULL;
	struct why why = { "" };

	assert_int_equal(err, 0);
	err = frame_decode(frame + FRAME_HEADER, len - FRAME_HEADER, &env,
			   &why);
	if (err)
		fail_msg("%s", why);
	wire_frame_free(frame, len);
	return env;
}

static const struct desired_addr out_addrs[2] = {
	{ .family = AF_INET, .ip.raw = { 10, 0, 0, 2 } },
	{ .family = AF_INET6, .ip.raw = { 0xfd } },
};
static const uint8_t out_boot[WIRE_BOOT_ID_LEN] = { 7 };
static const uint8_t out_pub[WIRE_PUB_LEN] = { 0x5a };
static const struct wire_node out_node = { .id = "node-a",
					   .boot_id = out_boot,
					   .static_key = out_pub,
					   .addrs = out_addrs,
					   .n_addrs = 2 };

/* Hello, join request, key update: this node and its static key. */
static void test_frames_out_node(void **state)
{
	const uint8_t proof[32] = { 9 }, csr[4] = { 1, 2, 3, 4 };
	Vxsec__Envelope *env;
	uint8_t *f;
	size_t len;
	int err;

	(void)state;
	err = wire_hello(&out_node, true, 42, 7, &f, &len);
	env = sent(err, f, len);
	assert_string_equal(env->hello->node_id, "node-a");
	assert_true(env->hello->lost_state);
	assert_int_equal(env->hello->last_revision, 42);
	assert_int_equal(env->hello->last_term, 7);
	assert_int_equal(env->hello->n_underlay, 2);
	assert_int_equal(env->hello->underlay[1]->ip.len, 16);
	assert_int_equal(env->hello->boot_id.data[0], 7);
	assert_int_equal(env->hello->static_key.len, WIRE_PUB_LEN);
	assert_int_equal(env->hello->static_key.data[0], 0x5a);
	assert_int_equal(env->hello->nat, VXSEC__NAT_MODE__NAT_AUTO);
	assert_null(env->hello->public_address);
	frame_free(env);

	/* nat = yes with a public address; no */
	{
		struct wire_node n = out_node;

		n.nat = WIRE_NAT_FORCE;
		n.nat_public = &out_addrs[0];
		err = wire_hello(&n, false, 0, 0, &f, &len);
		env = sent(err, f, len);
		assert_int_equal(env->hello->nat, VXSEC__NAT_MODE__NAT_FORCE);
		assert_non_null(env->hello->public_address);
		assert_int_equal(env->hello->public_address->ip.len, 4);
		assert_int_equal(env->hello->public_address->ip.data[0], 10);
		frame_free(env);
		n.nat = WIRE_NAT_NEVER;
		err = wire_hello(&n, false, 0, 0, &f, &len);
		env = sent(err, f, len);
		assert_int_equal(env->hello->nat, VXSEC__NAT_MODE__NAT_NEVER);
		assert_null(env->hello->public_address); /* only with yes */
		frame_free(env);
	}

	err = wire_join(&out_node, proof, csr, sizeof(csr), &f, &len);
	env = sent(err, f, len);
	assert_int_equal(env->join_request->secret_proof.data[0], 9);
	assert_int_equal(env->join_request->csr_der.len, 4);
	assert_int_equal(env->join_request->underlay[0]->ip.data[3], 2);
	assert_int_equal(env->join_request->static_key.data[0], 0x5a);
	frame_free(env);

	err = wire_key_update(out_pub, &f, &len);
	env = sent(err, f, len);
	assert_int_equal(env->key_update->static_key.len, WIRE_PUB_LEN);
	assert_int_equal(env->key_update->static_key.data[0], 0x5a);
	frame_free(env);
}

/* A hello names its socket's local address when it has one (NAT). */
static void test_hello_local(void **state)
{
	const struct desired_addr local = { .family = AF_INET,
					    .ip.raw = { 192, 168, 1, 7 } };
	const struct desired_addr local6 = { .family = AF_INET6,
					     .ip.raw = { 0xfd, 0, 9 } };
	struct wire_node n = out_node;
	Vxsec__Envelope *env;
	uint8_t *f;
	size_t len;
	int err;

	(void)state;
	err = wire_hello(&n, false, 0, 0, &f, &len);
	env = sent(err, f, len);
	assert_null(env->hello->local_address); /* none: none sent */
	frame_free(env);
	n.local = &local;
	err = wire_hello(&n, false, 0, 0, &f, &len);
	env = sent(err, f, len);
	assert_non_null(env->hello->local_address);
	assert_int_equal(env->hello->local_address->ip.len, 4);
	assert_memory_equal(env->hello->local_address->ip.data, local.ip.raw,
			    4);
	frame_free(env);
	n.local = &local6;
	err = wire_hello(&n, false, 0, 0, &f, &len);
	env = sent(err, f, len);
	assert_int_equal(env->hello->local_address->ip.len, 16);
	assert_int_equal(env->hello->local_address->ip.data[2], 9);
	frame_free(env);
}

/* Peer.public_address: a NAT'd peer's, self's, in snapshots and deltas. */
static void test_public_address(void **state)
{
	uint8_t pub4[4] = { 203, 0, 113, 9 }, pub6[16] = { 0x20, 0x01, 0xd8 },
		bad[5] = { 0 };
	Vxsec__Address a4 = VXSEC__ADDRESS__INIT, a6 = VXSEC__ADDRESS__INIT;
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Snapshot s = VXSEC__SNAPSHOT__INIT;
	Vxsec__Delta d = VXSEC__DELTA__INIT;
	Vxsec__PeerUpdate u = VXSEC__PEER_UPDATE__INIT;
	struct msg m = { 0 }, me = { 0 };
	struct wire_msg w;
	struct why why = { "" };

	(void)state;
	a4.ip = (ProtobufCBinaryData){ 4, pub4 };
	a6.ip = (ProtobufCBinaryData){ 16, pub6 };
	peer(&m, "node-b", 3, false)->public_address = &a6;
	peer(&m, "node-c", 4, false);
	gen(&m, 1, VXSEC__PHASE__PHASE_COMMITTED);
	s.revision = 7;
	s.n_peers = m.n_peers, s.peers = m.pp;
	s.n_generations = m.n_gens, s.generations = m.gp;
	s.n_epochs = m.n_gens, s.epochs = m.epp;
	s.self = peer(&me, "self", 1, false);
	s.self->public_address = &a4;
	env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
	env.snapshot = &s;
	assert_int_equal(decode(&env, &w, &why), 0);
	assert_true(w.snapshot.self.nat);
	assert_int_equal(w.snapshot.self.public_addr.family, AF_INET);
	assert_memory_equal(w.snapshot.self.public_addr.ip.raw, pub4, 4);
	assert_true(w.snapshot.peers[0].nat);
	assert_int_equal(w.snapshot.peers[0].public_addr.family, AF_INET6);
	assert_memory_equal(w.snapshot.peers[0].public_addr.ip.raw, pub6, 16);
	assert_false(w.snapshot.peers[1].nat); /* absent: not NAT'd */
	wire_msg_free(&w);

	/* the same in a delta; a public address of 5 bytes is refused */
	d.revision = 8;
	u.peer = m.pp[1];
	u.peer->public_address = &a4;
	d.change_case = VXSEC__DELTA__CHANGE_PEER_ADDED;
	d.peer_added = &u;
	assert_int_equal(delta(&d, &w, &why), 0);
	assert_true(w.delta.peer.nat);
	assert_memory_equal(w.delta.peer.public_addr.ip.raw, pub4, 4);
	wire_msg_free(&w);
	a4.ip = (ProtobufCBinaryData){ sizeof(bad), bad };
	assert_int_equal(delta(&d, &w, &why), -EBADMSG);
	assert_string_equal(why.msg,
			    "peer public_address: 5 bytes, want 4 or 16");
	wire_msg_free(&w);
}

/* The other frames carry what they were given, and pass the checks. */
static void test_frames_out(void **state)
{
	const uint8_t csr[4] = { 1, 2, 3, 4 };
	Vxsec__Envelope *env;
	uint8_t *f;
	size_t len;
	int err;

	(void)state;
	err = wire_ack(11, &f, &len);
	env = sent(err, f, len);
	assert_int_equal(env->ack->revision, 11);
	frame_free(env);
	err = wire_expire(2, 0x2000001, &f, &len);
	env = sent(err, f, len);
	assert_int_equal(env->expire_report->spi, 0x2000001);
	frame_free(env);
	err = wire_pong(5, &f, &len);
	env = sent(err, f, len);
	assert_true(env->ping->reply);
	assert_int_equal(env->ping->nonce, 5);
	frame_free(env);
	err = wire_renew(csr, sizeof(csr), &f, &len);
	env = sent(err, f, len);
	assert_int_equal(env->renew_request->csr_der.data[3], 4);
	frame_free(env);
	err = wire_refusal("no", &f, &len);
	env = sent(err, f, len);
	assert_int_equal(env->error->code,
			 VXSEC__ERROR_CODE__ERROR_BAD_MESSAGE);
	assert_string_equal(env->error->reason, "no");
	frame_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_bad_snapshots),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_peer_deltas),
		cmocka_unit_test(test_generation_deltas),
		cmocka_unit_test(test_bad_deltas),
		cmocka_unit_test(test_other_messages),
		cmocka_unit_test(test_frames_out_node),
		cmocka_unit_test(test_frames_out),
		cmocka_unit_test(test_hello_local),
		cmocka_unit_test(test_public_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
