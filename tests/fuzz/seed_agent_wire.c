// SPDX-License-Identifier: MIT
/* Writes the seed corpus of the agent wire fuzzer: [self] [body] per message a leader sends, see fuzz_agent_wire.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"
#include "keymgr/wire.h"
#include "proto/frame.h"

/* fuzz_agent_wire.c's self byte: families, then the index << 2. */
#define S_V4 0x00
#define S_V6 0x01
#define S_BOTH 0x02
#define S_INDEX(i) ((i) << 2)
#define S_DEFAULT (S_BOTH | S_INDEX(1)) /* node-1, index 1 */

static uint8_t pub[32], epoch[32], der[40], ip4[4] = { 192, 0, 2, 2 };
static uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 };

/* A frame (header and body) as a seed: the self byte, then the body. */
static void put_frame(const char *name, uint8_t self, uint8_t *buf, size_t len)
{
	seed_write_parts(name, &self, 1, buf + FRAME_HEADER,
			 len - FRAME_HEADER);
	frame_buf_free(buf, len);
}

static void put(const char *name, uint8_t self, Vxsec__Envelope *env)
{
	uint8_t *buf;
	size_t len;

	if (frame_encode(env, &buf, &len))
		exit(1);
	put_frame(name, self, buf, len);
}

static Vxsec__Address a4 = VXSEC__ADDRESS__INIT, a6 = VXSEC__ADDRESS__INIT;
static Vxsec__Address *addrs4[1] = { &a4 }, *addrs6[1] = { &a6 };

/* Keys of every peer: one from 0, one from generation 2. */
static Vxsec__NodeKey nk[2] = { VXSEC__NODE_KEY__INIT, VXSEC__NODE_KEY__INIT };
static Vxsec__NodeKey *nkp[2] = { &nk[0], &nk[1] };

static void peer_of(Vxsec__Peer *p, const char *id, uint32_t index, int v6)
{
	p->node_id = (char *)id;
	p->index = index;
	p->incarnation = index * 10;
	p->n_underlay = 1;
	p->underlay = v6 ? addrs6 : addrs4;
	p->n_keys = 2;
	p->keys = nkp;
}

struct snap {
	Vxsec__Envelope env;
	Vxsec__Snapshot s;
	Vxsec__Peer peer[2], *peers[2], self;
	Vxsec__Generation g[2], *gens[2];
	Vxsec__Epoch e[2], *eps[2];
};

/* node-1 (index 1) with node-2 (IPv4, 2) and node-3 (IPv6, 3). */
static void snap_init(struct snap *n)
{
	vxsec__envelope__init(&n->env);
	vxsec__snapshot__init(&n->s);
	vxsec__peer__init(&n->self);
	peer_of(&n->self, "node-1", 1, 0);
	for (int i = 0; i < 2; i++) {
		vxsec__peer__init(&n->peer[i]);
		n->peers[i] = &n->peer[i];
		vxsec__generation__init(&n->g[i]);
		vxsec__epoch__init(&n->e[i]);
		n->g[i].generation = n->e[i].generation = (uint32_t)i + 1;
		n->g[i].spi_slot = (uint32_t)i + 2;
		n->e[i].secret = (ProtobufCBinaryData){ 32, epoch };
		n->gens[i] = &n->g[i];
		n->eps[i] = &n->e[i];
	}
	peer_of(&n->peer[0], "node-3", 3, 1); /* not in order: sorted */
	peer_of(&n->peer[1], "node-2", 2, 0);
	n->g[0].phase = VXSEC__PHASE__PHASE_COMMITTED;
	n->g[1].phase = VXSEC__PHASE__PHASE_PREPARED;
	n->s.revision = 5;
	n->s.n_peers = 2;
	n->s.peers = n->peers;
	n->s.n_generations = n->s.n_epochs = 2;
	n->s.generations = n->gens;
	n->s.epochs = n->eps;
	n->s.self = &n->self;
	n->env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
	n->env.snapshot = &n->s;
}

/* A snapshot, and one refused for each rule wire.h names. */
static void seed_snapshot(void)
{
	struct snap n;

	snap_init(&n);
	put("snapshot", S_DEFAULT, &n.env);
	n.s.term = 9;
	put("snapshot-term", S_DEFAULT, &n.env);
	n.s.term = 0;
	put("snapshot-index-unknown", S_BOTH, &n.env);
	put("snapshot-v4-only", S_V4 | S_INDEX(1), &n.env);
	put("snapshot-other-index", S_BOTH | S_INDEX(7), &n.env);
	n.s.n_generations = n.s.n_epochs = 0;
	put("snapshot-no-gens", S_DEFAULT, &n.env);
	n.s.n_generations = n.s.n_epochs = 2;
	n.g[1].spi_slot = 2;
	put("snapshot-slot-twice", S_DEFAULT, &n.env);
	n.g[1].spi_slot = 3;
	n.peer[1].node_id = "node-3";
	put("snapshot-peer-twice", S_DEFAULT, &n.env);
	n.peer[1].node_id = "node-1";
	put("snapshot-self-as-peer", S_DEFAULT, &n.env);
	n.peer[1].node_id = "node-2";
	n.peer[1].index = 3;
	put("snapshot-index-twice", S_DEFAULT, &n.env);
	n.peer[1].index = 2;
	n.self.node_id = "node-9";
	put("snapshot-other-self", S_DEFAULT, &n.env);
}

static void seed_peer_deltas(Vxsec__Envelope *env, Vxsec__Delta *delta)
{
	Vxsec__Peer peer = VXSEC__PEER__INIT;
	Vxsec__PeerUpdate upd = VXSEC__PEER_UPDATE__INIT;
	Vxsec__PeerRemoved removed = VXSEC__PEER_REMOVED__INIT;

	peer_of(&peer, "node-2", 2, 0);
	upd.peer = &peer;
	delta->change_case = VXSEC__DELTA__CHANGE_PEER_ADDED;
	delta->peer_added = &upd;
	put("delta-peer-added", S_DEFAULT, env);
	put("delta-peer-added-v6-only", S_V6, env);
	peer.index = 1;
	put("delta-peer-added-own-index", S_DEFAULT, env);
	peer.index = 2;
	peer.node_id = "node-1";
	put("delta-peer-added-self", S_DEFAULT, env);
	peer.node_id = "node-2";
	delta->change_case = VXSEC__DELTA__CHANGE_INCARNATION_CHANGED;
	delta->incarnation_changed = &upd;
	put("delta-incarnation", S_DEFAULT, env);
	removed.node_id = "node-3";
	delta->change_case = VXSEC__DELTA__CHANGE_PEER_REMOVED;
	delta->peer_removed = &removed;
	put("delta-removed", S_DEFAULT, env);
}

static void seed_gen_deltas(Vxsec__Envelope *env, Vxsec__Delta *delta)
{
	Vxsec__GenerationPrepare prep = VXSEC__GENERATION_PREPARE__INIT;
	Vxsec__KeyChange kc[2] = { VXSEC__KEY_CHANGE__INIT,
				   VXSEC__KEY_CHANGE__INIT };
	Vxsec__KeyChange *kcs[2] = { &kc[0], &kc[1] };
	Vxsec__GenerationCommit commit = VXSEC__GENERATION_COMMIT__INIT;
	Vxsec__GenerationRetire retire = VXSEC__GENERATION_RETIRE__INIT;

	kc[0].index = 3; /* not in order: sorted */
	kc[1].index = 2;
	kc[0].key = kc[1].key = (ProtobufCBinaryData){ 32, pub };
	prep.generation = 3;
	prep.epoch = (ProtobufCBinaryData){ 32, epoch };
	prep.spi_slot = 4;
	delta->change_case = VXSEC__DELTA__CHANGE_PREPARE;
	delta->prepare = &prep;
	put("delta-prepare-no-changes", S_DEFAULT, env);
	prep.n_key_changes = 2;
	prep.key_changes = kcs;
	put("delta-prepare", S_DEFAULT, env);
	kc[1].index = 3;
	put("delta-prepare-change-twice", S_DEFAULT, env);
	commit.generation = 3;
	delta->change_case = VXSEC__DELTA__CHANGE_COMMIT;
	delta->commit = &commit;
	put("delta-commit", S_DEFAULT, env);
	retire.generation = 1;
	delta->change_case = VXSEC__DELTA__CHANGE_RETIRE;
	delta->retire = &retire;
	put("delta-retire", S_DEFAULT, env);
}

/* The small ones, with the leader's own encoders (keymgr/wire.c). */
static void seed_small(void)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Ping ping = VXSEC__PING__INIT;
	Vxsec__Ack ack = VXSEC__ACK__INIT;
	uint8_t *buf;
	size_t len;

	if (wire_ping_reply(77, &buf, &len))
		exit(1);
	put_frame("ping-reply", S_DEFAULT, buf, len);
	ping.nonce = 78;
	env.msg_case = VXSEC__ENVELOPE__MSG_PING;
	env.ping = &ping;
	put("ping", S_DEFAULT, &env);
	if (wire_join_response(der, sizeof(der), der, sizeof(der), 1, &buf,
			       &len))
		exit(1);
	put_frame("join-response", S_V4, buf, len);
	if (wire_error(WERR_VERSION, "protocol version 1, this side speaks 2",
		       &buf, &len))
		exit(1);
	put_frame("error", S_DEFAULT, buf, len);
	if (wire_error(WERR_REMOVED, "node-1 was removed", &buf, &len))
		exit(1);
	put_frame("error-removed", S_DEFAULT, buf, len);
	if (wire_not_leader("a standby", "[2001:db8::5]:7120", &buf, &len))
		exit(1);
	put_frame("error-not-leader", S_DEFAULT, buf, len);
	ack.revision = 6; /* an agent's message: not from a leader */
	env.msg_case = VXSEC__ENVELOPE__MSG_ACK;
	env.ack = &ack;
	put("ack", S_DEFAULT, &env);
	if (frame_encode(&env, &buf, &len))
		exit(1);
	env.version = 1; /* re-packed with another version: refused */
	vxsec__envelope__pack(&env, buf + FRAME_HEADER);
	put_frame("ack-v1", S_DEFAULT, buf, len);
}

int main(int argc, char **argv)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Delta delta = VXSEC__DELTA__INIT;

	seed_dir_from(argc, argv);
	memset(pub, 0x42, sizeof(pub));
	memset(epoch, 0xe9, sizeof(epoch));
	memset(der, 0x30, sizeof(der));
	a4.ip = (ProtobufCBinaryData){ 4, ip4 };
	a6.ip = (ProtobufCBinaryData){ 16, ip6 };
	nk[0].key = nk[1].key = (ProtobufCBinaryData){ 32, pub };
	nk[1].from_generation = 2;
	seed_snapshot();
	env.msg_case = VXSEC__ENVELOPE__MSG_DELTA;
	env.delta = &delta;
	delta.revision = 6;
	seed_peer_deltas(&env, &delta);
	seed_gen_deltas(&env, &delta);
	seed_small();
	return 0;
}
