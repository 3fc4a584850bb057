// SPDX-License-Identifier: MIT
/* Writes the seed corpus of the frame fuzzer: one file per message kind (protocol 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"
#include "proto/frame.h"

static uint8_t pub[32], epoch[32], boot[16], proof[32],
	ip4[4] = { 192, 0, 2, 1 };
static uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, der[40];

static void put(const char *name, Vxsec__Envelope *env, int version)
{
	uint8_t *buf;
	size_t len;

	if (frame_encode(env, &buf, &len))
		exit(1);
	if (version) { /* re-pack with another version: a refused frame */
		env->version = (uint32_t)version;
		vxsec__envelope__pack(env, buf + FRAME_HEADER);
	}
	seed_write(name, buf, len);
	frame_buf_free(buf, len);
}

static Vxsec__Address a4 = VXSEC__ADDRESS__INIT, a6 = VXSEC__ADDRESS__INIT;
static Vxsec__Address *addrs[2] = { &a4, &a6 };

/* What an agent sends: hello (and one of version 1), join, key update. */
static void seed_agent(void)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Hello hello = VXSEC__HELLO__INIT;
	Vxsec__JoinRequest jreq = VXSEC__JOIN_REQUEST__INIT;
	Vxsec__KeyUpdate ku = VXSEC__KEY_UPDATE__INIT;

	hello.node_id = "node-1";
	hello.boot_id = (ProtobufCBinaryData){ 16, boot };
	hello.last_revision = 9;
	hello.n_underlay = 2;
	hello.underlay = addrs;
	hello.static_key = (ProtobufCBinaryData){ 32, pub };
	env.msg_case = VXSEC__ENVELOPE__MSG_HELLO;
	env.hello = &hello;
	put("hello", &env, 0);
	put("hello-v1", &env, 1);
	hello.static_key.len = 0;
	put("hello-no-key", &env, 0);
	hello.static_key.len = 32;
	hello.last_term = 1234;
	put("hello-last-term", &env, 0);
	hello.local_address = &a4; /* NAT detection: its socket's address */
	put("hello-local-address", &env, 0);
	hello.local_address = &a6;
	put("hello-local-address-v6", &env, 0);
	hello.local_address = NULL;
	jreq.node_id = "node-2";
	jreq.secret_proof = (ProtobufCBinaryData){ 32, proof };
	jreq.csr_der = (ProtobufCBinaryData){ sizeof(der), der };
	jreq.boot_id = (ProtobufCBinaryData){ 16, boot };
	jreq.n_underlay = 1;
	jreq.underlay = addrs;
	jreq.static_key = (ProtobufCBinaryData){ 32, pub };
	env.msg_case = VXSEC__ENVELOPE__MSG_JOIN_REQUEST;
	env.join_request = &jreq;
	put("join-request", &env, 0);
	ku.static_key = (ProtobufCBinaryData){ 32, pub };
	env.msg_case = VXSEC__ENVELOPE__MSG_KEY_UPDATE;
	env.key_update = &ku;
	put("key-update", &env, 0);
	ku.static_key.len = 31;
	put("key-update-short", &env, 0);
}

/* A peer with two keys: from 0 and from generation 2. */
static Vxsec__NodeKey nk[2] = { VXSEC__NODE_KEY__INIT, VXSEC__NODE_KEY__INIT };
static Vxsec__NodeKey *nkp[2] = { &nk[0], &nk[1] };

static void peer_of(Vxsec__Peer *p, const char *id, uint32_t index)
{
	p->node_id = (char *)id;
	p->index = index;
	p->incarnation = 1;
	p->n_underlay = 1;
	p->underlay = addrs;
	nk[0].key = nk[1].key = (ProtobufCBinaryData){ 32, pub };
	nk[1].from_generation = 2;
	p->n_keys = 2;
	p->keys = nkp;
}

static void seed_snapshot(void)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Peer peer = VXSEC__PEER__INIT, *peers[1] = { &peer };
	Vxsec__Peer self = VXSEC__PEER__INIT;
	Vxsec__Generation g[2] = { VXSEC__GENERATION__INIT,
				   VXSEC__GENERATION__INIT };
	Vxsec__Generation *gens[2] = { &g[0], &g[1] };
	Vxsec__Epoch e[2] = { VXSEC__EPOCH__INIT, VXSEC__EPOCH__INIT };
	Vxsec__Epoch *eps[2] = { &e[0], &e[1] };
	Vxsec__Snapshot snap = VXSEC__SNAPSHOT__INIT;

	peer_of(&peer, "node-2", 2);
	peer_of(&self, "node-1", 1);
	for (int i = 0; i < 2; i++) {
		g[i].generation = e[i].generation = (uint32_t)i + 1;
		g[i].spi_slot = (uint32_t)i + 2;
		e[i].secret = (ProtobufCBinaryData){ 32, epoch };
	}
	g[0].phase = VXSEC__PHASE__PHASE_COMMITTED;
	g[1].phase = VXSEC__PHASE__PHASE_PREPARED;
	snap.revision = 5;
	snap.n_peers = 1;
	snap.peers = peers;
	snap.n_generations = snap.n_epochs = 2;
	snap.generations = gens;
	snap.epochs = eps;
	snap.self = &self;
	env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
	env.snapshot = &snap;
	put("snapshot", &env, 0);
	snap.term = 77;
	put("snapshot-term", &env, 0);
	peer.public_address = &a4; /* behind NAT */
	self.public_address = &a6;
	put("snapshot-nat", &env, 0);
	peer.public_address = self.public_address = NULL;
	snap.term = 0;
	snap.n_epochs = 1;
	put("snapshot-epoch-missing", &env, 0);
	snap.n_epochs = 2;
	snap.self = NULL;
	put("snapshot-no-self", &env, 0);
}

static void seed_peer_deltas(Vxsec__Envelope *env, Vxsec__Delta *delta)
{
	Vxsec__Peer peer = VXSEC__PEER__INIT;
	Vxsec__PeerUpdate upd = VXSEC__PEER_UPDATE__INIT;
	Vxsec__PeerRemoved removed = VXSEC__PEER_REMOVED__INIT;

	peer_of(&peer, "node-2", 2);
	upd.peer = &peer;
	delta->change_case = VXSEC__DELTA__CHANGE_PEER_ADDED;
	delta->peer_added = &upd;
	put("delta-peer-added", env, 0);
	delta->change_case = VXSEC__DELTA__CHANGE_INCARNATION_CHANGED;
	delta->incarnation_changed = &upd;
	put("delta-incarnation", env, 0);
	nk[1].from_generation = 0;
	put("delta-keys-not-increasing", env, 0);
	removed.node_id = "node-3";
	delta->change_case = VXSEC__DELTA__CHANGE_PEER_REMOVED;
	delta->peer_removed = &removed;
	put("delta-removed", env, 0);
}

static void seed_gen_deltas(Vxsec__Envelope *env, Vxsec__Delta *delta)
{
	Vxsec__GenerationPrepare prep = VXSEC__GENERATION_PREPARE__INIT;
	Vxsec__KeyChange kc = VXSEC__KEY_CHANGE__INIT, *kcs[1] = { &kc };
	Vxsec__GenerationCommit commit = VXSEC__GENERATION_COMMIT__INIT;
	Vxsec__GenerationRetire retire = VXSEC__GENERATION_RETIRE__INIT;

	kc.index = 2;
	kc.key = (ProtobufCBinaryData){ 32, pub };
	prep.generation = 2;
	prep.epoch = (ProtobufCBinaryData){ 32, epoch };
	prep.spi_slot = 3;
	prep.n_key_changes = 1;
	prep.key_changes = kcs;
	delta->change_case = VXSEC__DELTA__CHANGE_PREPARE;
	delta->prepare = &prep;
	put("delta-prepare", env, 0);
	prep.epoch.len = 31;
	put("delta-prepare-short-epoch", env, 0);
	prep.epoch.len = 32;
	prep.spi_slot = 0;
	put("delta-prepare-slot-0", env, 0);
	commit.generation = 2;
	delta->change_case = VXSEC__DELTA__CHANGE_COMMIT;
	delta->commit = &commit;
	put("delta-commit", env, 0);
	retire.generation = 1;
	delta->change_case = VXSEC__DELTA__CHANGE_RETIRE;
	delta->retire = &retire;
	put("delta-retire", env, 0);
}

static void seed_small(void)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__JoinResponse jresp = VXSEC__JOIN_RESPONSE__INIT;
	Vxsec__Ack ack = VXSEC__ACK__INIT;
	Vxsec__Error error = VXSEC__ERROR__INIT;
	Vxsec__Ping ping = VXSEC__PING__INIT;
	Vxsec__ExpireReport exp = VXSEC__EXPIRE_REPORT__INIT;
	Vxsec__RenewRequest renew = VXSEC__RENEW_REQUEST__INIT;

	jresp.cert_der = (ProtobufCBinaryData){ sizeof(der), der };
	jresp.ca_cert_der = (ProtobufCBinaryData){ sizeof(der), der };
	jresp.node_index = 2;
	env.msg_case = VXSEC__ENVELOPE__MSG_JOIN_RESPONSE;
	env.join_response = &jresp;
	put("join-response", &env, 0);
	ack.revision = 6;
	env.msg_case = VXSEC__ENVELOPE__MSG_ACK;
	env.ack = &ack;
	put("ack", &env, 0);
	error.code = VXSEC__ERROR_CODE__ERROR_VERSION;
	error.reason = "protocol version 1, this side speaks 2";
	env.msg_case = VXSEC__ENVELOPE__MSG_ERROR;
	env.error = &error;
	put("error", &env, 0);
	error.code = VXSEC__ERROR_CODE__ERROR_NOT_LEADER;
	error.reason = "a standby: the leader is elsewhere";
	error.leader = "[2001:db8::7]:7120";
	put("error-not-leader", &env, 0);
	error.leader = "10.0.0.1:7120\nforged log line";
	put("error-leader-control-char", &env, 0);
	error.leader = "";
	error.code = (Vxsec__ErrorCode)8;
	put("error-code-8", &env, 0);
	ping.nonce = 77;
	env.msg_case = VXSEC__ENVELOPE__MSG_PING;
	env.ping = &ping;
	put("ping", &env, 0);
	exp.generation = 1;
	exp.spi = 0x02000001;
	env.msg_case = VXSEC__ENVELOPE__MSG_EXPIRE_REPORT;
	env.expire_report = &exp;
	put("expire", &env, 0);
	renew.csr_der = (ProtobufCBinaryData){ sizeof(der), der };
	env.msg_case = VXSEC__ENVELOPE__MSG_RENEW_REQUEST;
	env.renew_request = &renew;
	put("renew", &env, 0);
}

int main(int argc, char **argv)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Delta delta = VXSEC__DELTA__INIT;

	seed_dir_from(argc, argv);
	memset(pub, 0x42, sizeof(pub));
	memset(epoch, 0xe9, sizeof(epoch));
	a4.ip = (ProtobufCBinaryData){ 4, ip4 };
	a6.ip = (ProtobufCBinaryData){ 16, ip6 };
	seed_agent();
	seed_snapshot();
	env.msg_case = VXSEC__ENVELOPE__MSG_DELTA;
	env.delta = &delta;
	delta.revision = 6;
	delta.term = 77;
	seed_peer_deltas(&env, &delta);
	seed_gen_deltas(&env, &delta);
	seed_small();
	return 0;
}
