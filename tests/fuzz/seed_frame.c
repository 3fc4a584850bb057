// SPDX-License-Identifier: MIT
/* Writes the seed corpus of the frame fuzzer: one file per message kind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"

static uint8_t key[36], boot[16], proof[32], ip4[4] = { 192, 0, 2, 1 };
static uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, der[40];
static const char *dir;

static void put(const char *name, Vxsec__Envelope *env, int version)
{
	uint8_t *buf;
	size_t len;
	char path[512];
	FILE *f;

	if (frame_encode(env, &buf, &len))
		exit(1);
	if (version) { /* re-pack with another version: a refused frame */
		env->version = (uint32_t)version;
		vxsec__envelope__pack(env, buf + FRAME_HEADER);
	}
	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		exit(1);
	frame_buf_free(buf, len);
}

int main(int argc, char **argv)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Address a4 = VXSEC__ADDRESS__INIT, a6 = VXSEC__ADDRESS__INIT;
	Vxsec__Address *addrs[2] = { &a4, &a6 };
	Vxsec__Hello hello = VXSEC__HELLO__INIT;
	Vxsec__JoinRequest jreq = VXSEC__JOIN_REQUEST__INIT;
	Vxsec__JoinResponse jresp = VXSEC__JOIN_RESPONSE__INIT;
	Vxsec__Peer peer = VXSEC__PEER__INIT, *peers[1] = { &peer };
	Vxsec__PairKey k = VXSEC__PAIR_KEY__INIT, *keys[1] = { &k };
	Vxsec__Generation g1 = VXSEC__GENERATION__INIT, *gens[1] = { &g1 };
	Vxsec__Snapshot snap = VXSEC__SNAPSHOT__INIT;
	Vxsec__Delta delta = VXSEC__DELTA__INIT;
	Vxsec__PeerUpdate upd = VXSEC__PEER_UPDATE__INIT;
	Vxsec__GenerationPrepare prep = VXSEC__GENERATION_PREPARE__INIT;
	Vxsec__GenerationCommit commit = VXSEC__GENERATION_COMMIT__INIT;
	Vxsec__PeerRemoved removed = VXSEC__PEER_REMOVED__INIT;
	Vxsec__Ack ack = VXSEC__ACK__INIT;
	Vxsec__Error error = VXSEC__ERROR__INIT;
	Vxsec__Ping ping = VXSEC__PING__INIT;
	Vxsec__ExpireReport exp = VXSEC__EXPIRE_REPORT__INIT;
	Vxsec__RenewRequest renew = VXSEC__RENEW_REQUEST__INIT;

	dir = argc > 1 ? argv[1] : ".";
	memset(key, 0x42, sizeof(key));
	a4.ip = (ProtobufCBinaryData){ 4, ip4 };
	a6.ip = (ProtobufCBinaryData){ 16, ip6 };
	hello.node_id = "node-1";
	hello.boot_id = (ProtobufCBinaryData){ 16, boot };
	hello.last_revision = 9;
	hello.n_underlay = 2;
	hello.underlay = addrs;
	env.msg_case = VXSEC__ENVELOPE__MSG_HELLO;
	env.hello = &hello;
	put("hello", &env, 0);
	put("hello-v2", &env, 2);

	jreq.node_id = "node-2";
	jreq.secret_proof = (ProtobufCBinaryData){ 32, proof };
	jreq.csr_der = (ProtobufCBinaryData){ sizeof(der), der };
	jreq.boot_id = (ProtobufCBinaryData){ 16, boot };
	jreq.n_underlay = 1;
	jreq.underlay = addrs;
	env.msg_case = VXSEC__ENVELOPE__MSG_JOIN_REQUEST;
	env.join_request = &jreq;
	put("join-request", &env, 0);

	jresp.cert_der = (ProtobufCBinaryData){ sizeof(der), der };
	jresp.ca_cert_der = (ProtobufCBinaryData){ sizeof(der), der };
	jresp.node_index = 2;
	env.msg_case = VXSEC__ENVELOPE__MSG_JOIN_RESPONSE;
	env.join_response = &jresp;
	put("join-response", &env, 0);

	peer.node_id = "node-2";
	peer.index = 2;
	peer.incarnation = 1;
	peer.n_underlay = 1;
	peer.underlay = addrs;
	k.peer_id = "node-2";
	k.generation = 1;
	k.spi_out = 0x02000001;
	k.spi_in = 0x02000002;
	k.key_out = (ProtobufCBinaryData){ 36, key };
	k.key_in = (ProtobufCBinaryData){ 36, key };
	g1.generation = 1;
	g1.phase = VXSEC__PHASE__PHASE_COMMITTED;
	snap.revision = 5;
	snap.n_peers = 1;
	snap.peers = peers;
	snap.n_generations = 1;
	snap.generations = gens;
	snap.n_keys = 1;
	snap.keys = keys;
	env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
	env.snapshot = &snap;
	put("snapshot", &env, 0);

	env.msg_case = VXSEC__ENVELOPE__MSG_DELTA;
	env.delta = &delta;
	delta.revision = 6;
	upd.peer = &peer;
	upd.n_keys = 1;
	upd.keys = keys;
	delta.change_case = VXSEC__DELTA__CHANGE_PEER_ADDED;
	delta.peer_added = &upd;
	put("delta-peer-added", &env, 0);
	prep.generation = 1;
	prep.n_keys = 1;
	prep.keys = keys;
	delta.change_case = VXSEC__DELTA__CHANGE_PREPARE;
	delta.prepare = &prep;
	put("delta-prepare", &env, 0);
	k.key_out.len = 35;
	put("delta-prepare-short-key", &env, 0);
	k.key_out.len = 36;
	commit.generation = 1;
	delta.change_case = VXSEC__DELTA__CHANGE_COMMIT;
	delta.commit = &commit;
	put("delta-commit", &env, 0);
	removed.node_id = "node-3";
	delta.change_case = VXSEC__DELTA__CHANGE_PEER_REMOVED;
	delta.peer_removed = &removed;
	put("delta-removed", &env, 0);

	ack.revision = 6;
	env.msg_case = VXSEC__ENVELOPE__MSG_ACK;
	env.ack = &ack;
	put("ack", &env, 0);
	error.code = VXSEC__ERROR_CODE__ERROR_REMOVED;
	error.reason = "node removed";
	env.msg_case = VXSEC__ENVELOPE__MSG_ERROR;
	env.error = &error;
	put("error", &env, 0);
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
	return 0;
}
