// SPDX-License-Identifier: MIT
/* Unit tests: frames and validation of the wire protocol (proto/). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/frame.h"

/* One byte more than a key or an epoch: for the too-long cases. */
static uint8_t epoch[33], pub[33], boot[16], proof[32],
	v4[4] = { 192, 0, 2, 1 };

/*
 * A prepare delta (protocol 2): the epoch secret, the message most worth
 * wiping, its SPI slot and one member's key change.
 */
static uint8_t *encode_prepare(size_t *len, uint32_t slot, size_t epoch_len,
			       size_t key_len)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Delta delta = VXSEC__DELTA__INIT;
	Vxsec__GenerationPrepare prep = VXSEC__GENERATION_PREPARE__INIT;
	Vxsec__KeyChange kc = VXSEC__KEY_CHANGE__INIT, *kcs[1] = { &kc };
	uint8_t *buf;

	memset(epoch, 0xa5, sizeof(epoch));
	memset(pub, 0x5a, sizeof(pub));
	kc.index = 2;
	kc.key = (ProtobufCBinaryData){ key_len, pub };
	prep.generation = 4;
	prep.epoch = (ProtobufCBinaryData){ epoch_len, epoch };
	prep.spi_slot = slot;
	prep.n_key_changes = 1;
	prep.key_changes = kcs;
	delta.revision = 17;
	delta.change_case = VXSEC__DELTA__CHANGE_PREPARE;
	delta.prepare = &prep;
	env.msg_case = VXSEC__ENVELOPE__MSG_DELTA;
	env.delta = &delta;
	assert_int_equal(frame_encode(&env, &buf, len), 0);
	return buf;
}

static int decode(const uint8_t *frame, size_t len, Vxsec__Envelope **env,
		  struct why *why)
{
	size_t body;
	int err = frame_header(frame, len, FRAME_MAX_DEFAULT, &body);

	if (err)
		return err;
	assert_int_equal(body + FRAME_HEADER, len);
	return frame_decode(frame + FRAME_HEADER, body, env, why);
}

static void test_roundtrip(void **state)
{
	struct why why = { "" };
	Vxsec__Envelope *env;
	Vxsec__GenerationPrepare *p;
	size_t len;
	uint8_t *buf = encode_prepare(&len, 5, 32, 32);

	(void)state;
	assert_int_equal(decode(buf, len, &env, &why), 0);
	assert_int_equal(env->version, PROTOCOL_VERSION);
	assert_int_equal(env->version, 2);
	assert_int_equal(env->msg_case, VXSEC__ENVELOPE__MSG_DELTA);
	assert_int_equal(env->delta->revision, 17);
	p = env->delta->prepare;
	assert_int_equal(p->generation, 4);
	assert_int_equal(p->spi_slot, 5);
	assert_memory_equal(p->epoch.data, epoch, 32);
	assert_int_equal(p->n_key_changes, 1);
	assert_int_equal(p->key_changes[0]->index, 2);
	assert_memory_equal(p->key_changes[0]->key.data, pub, 32);
	frame_free(env);
	frame_buf_free(buf, len);
	frame_free(NULL);
}

static void test_header(void **state)
{
	const uint8_t big[4] = { 0x01, 0x00, 0x00, 0x01 }; /* 16 MiB + 1 */
	const uint8_t zero[4] = { 0, 0, 0, 0 };
	const uint8_t ok[4] = { 0, 0, 0x01, 0x00 };
	size_t body = 0;

	(void)state;
	assert_int_equal(frame_header(ok, 3, FRAME_MAX_DEFAULT, &body),
			 -EAGAIN);
	assert_int_equal(frame_header(ok, 4, FRAME_MAX_DEFAULT, &body), 0);
	assert_int_equal(body, 256);
	assert_int_equal(frame_header(ok, 4, 255, &body), -EMSGSIZE);
	assert_int_equal(frame_header(big, 4, FRAME_MAX_DEFAULT, &body),
			 -EMSGSIZE);
	assert_int_equal(frame_header(zero, 4, FRAME_MAX_DEFAULT, &body),
			 -EMSGSIZE);
}

static void test_truncated_and_garbage(void **state)
{
	struct why why = { "" };
	Vxsec__Envelope *env = (Vxsec__Envelope *)1;
	size_t len;
	uint8_t *buf = encode_prepare(&len, 5, 32, 32);
	const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f };

	(void)state;
	/* Every truncation of the body is refused, none crashes. */
	for (size_t n = 1; n < len - FRAME_HEADER; n++) {
		int err = frame_decode(buf + FRAME_HEADER, n, &env, &why);

		assert_int_equal(err, -EBADMSG);
		assert_null(env);
	}
	assert_int_equal(frame_decode(junk, sizeof(junk), &env, &why),
			 -EBADMSG);
	assert_non_null(strstr(why.msg, "undecodable"));
	frame_buf_free(buf, len);
}

static void test_bad_epoch_slot_key(void **state)
{
	struct why why = { "" };
	Vxsec__Envelope *env;
	size_t len;
	uint8_t *buf = encode_prepare(&len, 5, 31, 32);

	(void)state;
	assert_int_equal(decode(buf, len, &env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "epoch of 31 bytes"));
	frame_buf_free(buf, len);
	buf = encode_prepare(&len, 0, 32, 32);
	assert_int_equal(decode(buf, len, &env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "spi slot 0"));
	frame_buf_free(buf, len);
	buf = encode_prepare(&len, 256, 32, 32);
	assert_int_equal(decode(buf, len, &env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "spi slot 256"));
	frame_buf_free(buf, len);
	buf = encode_prepare(&len, 255, 32, 33);
	assert_int_equal(decode(buf, len, &env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "key change of index 2: 33 bytes"));
	frame_buf_free(buf, len);
}

static void test_wrong_version(void **state)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT, *out;
	Vxsec__Ping ping = VXSEC__PING__INIT;
	struct why why = { "" };
	uint8_t body[64];
	size_t n;

	(void)state;
	env.msg_case = VXSEC__ENVELOPE__MSG_PING;
	env.ping = &ping;
	env.version = 1;
	n = vxsec__envelope__pack(&env, body);
	assert_int_equal(frame_decode(body, n, &out, &why), -EPROTO);
	assert_string_equal(why.msg, "protocol version 1, this side speaks 2");
	env.version = 3;
	n = vxsec__envelope__pack(&env, body);
	assert_int_equal(frame_decode(body, n, &out, &why), -EPROTO);
	assert_string_equal(why.msg, "protocol version 3, this side speaks 2");
	env.version = 2;
	env.msg_case = VXSEC__ENVELOPE__MSG__NOT_SET;
	n = vxsec__envelope__pack(&env, body);
	assert_int_equal(frame_decode(body, n, &out, &why), -EBADMSG);
	assert_string_equal(why.msg, "envelope without a message");
}

static int check_hello(const char *node_id, size_t boot_len, size_t ip_len,
		       size_t key_len, struct why *why)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Hello hello = VXSEC__HELLO__INIT;
	Vxsec__Address addr = VXSEC__ADDRESS__INIT, *addrs[1] = { &addr };

	hello.node_id = (char *)node_id;
	hello.boot_id = (ProtobufCBinaryData){ boot_len, boot };
	addr.ip = (ProtobufCBinaryData){ ip_len, v4 };
	hello.n_underlay = 1;
	hello.underlay = addrs;
	hello.static_key = (ProtobufCBinaryData){ key_len, pub };
	env.version = PROTOCOL_VERSION;
	env.msg_case = VXSEC__ENVELOPE__MSG_HELLO;
	env.hello = &hello;
	return frame_validate(&env, why);
}

static void test_bad_fields(void **state)
{
	char id[66];
	struct why why = { "" };

	(void)state;
	assert_int_equal(check_hello("node-1", 16, 4, 32, &why), 0);
	assert_int_equal(check_hello("node 1", 16, 4, 32, &why), -EBADMSG);
	assert_string_equal(why.msg,
			    "node_id: character 4 not in [A-Za-z0-9._-]");
	assert_int_equal(check_hello("", 16, 4, 32, &why), -EBADMSG);
	assert_string_equal(why.msg, "node_id: length 0, want 1..64");
	memset(id, 'x', 64);
	id[64] = '\0';
	assert_int_equal(check_hello(id, 16, 4, 32, &why), 0);
	id[64] = 'x';
	id[65] = '\0';
	assert_int_equal(check_hello(id, 16, 4, 32, &why), -EBADMSG);
	assert_string_equal(why.msg, "node_id: length 65, want 1..64");
	assert_int_equal(check_hello("node-1", 15, 4, 32, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "boot_id"));
	assert_int_equal(check_hello("node-1", 16, 3, 32, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "want 4 or 16"));
	/* protocol 2: no hello without the node's X25519 public key */
	assert_int_equal(check_hello("node-1", 16, 4, 0, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "static_key"));
	assert_int_equal(check_hello("node-1", 16, 4, 33, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "static_key"));
}

/* Hello.local_address, when sent, is one address of 4 or 16 bytes. */
static void test_hello_local_address(void **state)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Hello hello = VXSEC__HELLO__INIT;
	Vxsec__Address addr = VXSEC__ADDRESS__INIT, *addrs[1] = { &addr };
	Vxsec__Address local = VXSEC__ADDRESS__INIT;
	uint8_t ip[17] = { 192, 168, 1, 7 };
	struct why why = { "" };

	(void)state;
	hello.node_id = "node-1";
	hello.boot_id = (ProtobufCBinaryData){ 16, boot };
	addr.ip = (ProtobufCBinaryData){ 4, v4 };
	hello.n_underlay = 1;
	hello.underlay = addrs;
	hello.static_key = (ProtobufCBinaryData){ 32, pub };
	env.version = PROTOCOL_VERSION;
	env.msg_case = VXSEC__ENVELOPE__MSG_HELLO;
	env.hello = &hello;
	assert_int_equal(frame_validate(&env, &why), 0); /* absent: fine */
	hello.local_address = &local;
	for (size_t len = 0; len <= sizeof(ip); len++) {
		local.ip = (ProtobufCBinaryData){ len, ip };
		if (len == 4 || len == 16) {
			assert_int_equal(frame_validate(&env, &why), 0);
			continue;
		}
		assert_int_equal(frame_validate(&env, &why), -EBADMSG);
		assert_non_null(strstr(why.msg, "local_address"));
	}
	/* the nat setting: a known mode; a public address only with force */
	local.ip = (ProtobufCBinaryData){ 4, ip };
	hello.nat = VXSEC__NAT_MODE__NAT_NEVER;
	assert_int_equal(frame_validate(&env, &why), 0);
	hello.nat = (Vxsec__NatMode)3;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "nat: unknown mode 3"));
	hello.nat = VXSEC__NAT_MODE__NAT_AUTO;
	hello.public_address = &local;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "public_address without"));
	hello.nat = VXSEC__NAT_MODE__NAT_FORCE;
	assert_int_equal(frame_validate(&env, &why), 0);
	local.ip = (ProtobufCBinaryData){ 5, ip };
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
}

/* This node in a snapshot: index 3, one address, one key from 0. */
static void self_peer(Vxsec__Peer *p, Vxsec__Address *addr, Vxsec__Address **ap,
		      Vxsec__NodeKey *k, Vxsec__NodeKey **kp)
{
	vxsec__peer__init(p);
	vxsec__address__init(addr);
	vxsec__node_key__init(k);
	addr->ip = (ProtobufCBinaryData){ 4, v4 };
	ap[0] = addr;
	k->key = (ProtobufCBinaryData){ 32, pub };
	kp[0] = k;
	p->node_id = "node-3";
	p->index = 3;
	p->incarnation = 1;
	p->n_underlay = 1;
	p->underlay = ap;
	p->n_keys = 1;
	p->keys = kp;
}

static void test_snapshot_generations(void **state)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Snapshot snap = VXSEC__SNAPSHOT__INIT;
	Vxsec__Generation g[4], *gp[4] = { &g[0], &g[1], &g[2], &g[3] };
	Vxsec__Epoch e[4], *ep[4] = { &e[0], &e[1], &e[2], &e[3] };
	Vxsec__Peer self;
	Vxsec__Address addr, *ap[1];
	Vxsec__NodeKey k, *kp[1];
	struct why why = { "" };

	(void)state;
	for (int i = 0; i < 4; i++) {
		vxsec__generation__init(&g[i]);
		vxsec__epoch__init(&e[i]);
		g[i].generation = e[i].generation = (uint32_t)i + 1;
		g[i].phase = VXSEC__PHASE__PHASE_PREPARED;
		g[i].spi_slot = (uint32_t)i + 2;
		e[i].secret = (ProtobufCBinaryData){ 32, epoch };
	}
	self_peer(&self, &addr, ap, &k, kp);
	env.version = PROTOCOL_VERSION;
	env.msg_case = VXSEC__ENVELOPE__MSG_SNAPSHOT;
	env.snapshot = &snap;
	snap.generations = gp;
	snap.epochs = ep;
	snap.n_generations = snap.n_epochs = 3;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "without this node"));
	snap.self = &self;
	assert_int_equal(frame_validate(&env, &why), 0);
	snap.n_epochs = 2;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "2 epoch secrets for 3"));
	snap.n_epochs = 3;
	e[1].secret.len = 16;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "epoch of generation 2: 16 bytes"));
	e[1].secret.len = 32;
	g[2].spi_slot = 0;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "spi slot 0"));
	g[2].spi_slot = 4;
	self.n_keys = 0;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "0 static keys"));
	self.n_keys = 1;
	snap.n_generations = snap.n_epochs = 4;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	snap.n_generations = snap.n_epochs = 2;
	g[0].phase = g[1].phase = VXSEC__PHASE__PHASE_COMMITTED;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "committed"));
	g[1].phase = 9;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
}

/* A KeyUpdate: one X25519 public key of 32 bytes. */
static void test_key_update(void **state)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__KeyUpdate ku = VXSEC__KEY_UPDATE__INIT;
	struct why why = { "" };

	(void)state;
	env.version = PROTOCOL_VERSION;
	env.msg_case = VXSEC__ENVELOPE__MSG_KEY_UPDATE;
	env.key_update = &ku;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	ku.static_key = (ProtobufCBinaryData){ 32, pub };
	assert_int_equal(frame_validate(&env, &why), 0);
	ku.static_key.len = 31;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "static_key"));
}

static void test_join_request(void **state)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__JoinRequest req = VXSEC__JOIN_REQUEST__INIT;
	Vxsec__Address addr = VXSEC__ADDRESS__INIT, *addrs[1] = { &addr };
	uint8_t csr[10] = { 0x30 };
	struct why why = { "" };

	(void)state;
	req.node_id = "vm2";
	req.secret_proof = (ProtobufCBinaryData){ 32, proof };
	req.csr_der = (ProtobufCBinaryData){ sizeof(csr), csr };
	req.boot_id = (ProtobufCBinaryData){ 16, boot };
	addr.ip = (ProtobufCBinaryData){ 4, v4 };
	req.n_underlay = 1;
	req.underlay = addrs;
	env.version = PROTOCOL_VERSION;
	env.msg_case = VXSEC__ENVELOPE__MSG_JOIN_REQUEST;
	env.join_request = &req;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "static_key"));
	req.static_key = (ProtobufCBinaryData){ 32, pub };
	assert_int_equal(frame_validate(&env, &why), 0);
	req.secret_proof.len = 31;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
	req.secret_proof.len = 32;
	req.n_underlay = 0;
	assert_int_equal(frame_validate(&env, &why), -EBADMSG);
}

/*
 * A field numbered 0 (its tag 0x85 0x00, two bytes) inside a ping:
 * protobuf-c accepts it and would pack it as 0x05, which it refuses.
 * An unknown field with a real number (127) is still accepted.
 */
static void test_field_zero(void **state)
{
	static const uint8_t zero[] = { 0x08, 0x02, 0x8a, 0x01, 0x08,
					0x08, 0x07, 0x85, 0x00, 0x01,
					0x02, 0x03, 0x04 };
	static const uint8_t unknown[] = { 0x08, 0x02, 0x8a, 0x01, 0x05,
					   0x08, 0x07, 0xf8, 0x07, 0x01 };
	Vxsec__Envelope *env;
	struct why why = { "" };

	(void)state;
	assert_int_equal(frame_decode(zero, sizeof(zero), &env, &why),
			 -EBADMSG);
	assert_non_null(strstr(why.msg, "numbered 0"));
	assert_null(env);
	assert_int_equal(frame_decode(unknown, sizeof(unknown), &env, &why), 0);
	assert_int_equal(env->ping->nonce, 7);
	frame_free(env);
}

/*
 * Terms (snapshot, delta, hello) travel as they are; an error's leader
 * address is refused if longer than PROTO_LEADER_MAX or not printable
 * (it reaches the agent's log), and ERROR_NOT_LEADER is a known code.
 */
static void test_terms_and_leader(void **state)
{
	static const char *const bad[] = { "10.0.0.1:7120\nforged",
					   "10.0.0.1 :7120" };
	char long_leader[PROTO_LEADER_MAX + 2];
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT, *out;
	Vxsec__Error e = VXSEC__ERROR__INIT;
	struct why why = { "" };
	uint8_t *f;
	size_t len;

	(void)state;
	e.code = VXSEC__ERROR_CODE__ERROR_NOT_LEADER;
	e.reason = "a standby";
	e.leader = "[fd00::1]:7120";
	env.msg_case = VXSEC__ENVELOPE__MSG_ERROR;
	env.error = &e;
	assert_int_equal(frame_encode(&env, &f, &len), 0);
	assert_int_equal(decode(f, len, &out, &why), 0);
	assert_int_equal(out->error->code, VXSEC__ERROR_CODE__ERROR_NOT_LEADER);
	assert_string_equal(out->error->leader, "[fd00::1]:7120");
	frame_free(out);
	frame_buf_free(f, len);
	memset(long_leader, 'a', sizeof(long_leader) - 1);
	long_leader[sizeof(long_leader) - 1] = '\0';
	for (size_t i = 0; i < 3; i++) {
		e.leader = i < 2 ? (char *)bad[i] : long_leader;
		assert_int_equal(frame_encode(&env, &f, &len), 0);
		assert_int_equal(decode(f, len, &out, &why), -EBADMSG);
		assert_non_null(strstr(why.msg, "error leader"));
		frame_buf_free(f, len);
	}
	long_leader[PROTO_LEADER_MAX] = '\0'; /* at the limit: fine */
	assert_int_equal(frame_encode(&env, &f, &len), 0);
	assert_int_equal(decode(f, len, &out, &why), 0);
	frame_free(out);
	frame_buf_free(f, len);
	e.leader = "";
	e.code = (Vxsec__ErrorCode)(VXSEC__ERROR_CODE__ERROR_NOT_LEADER + 1);
	assert_int_equal(frame_encode(&env, &f, &len), 0);
	assert_int_equal(decode(f, len, &out, &why), -EBADMSG);
	assert_non_null(strstr(why.msg, "error code 8"));
	frame_buf_free(f, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_truncated_and_garbage),
		cmocka_unit_test(test_bad_epoch_slot_key),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_hello_local_address),
		cmocka_unit_test(test_snapshot_generations),
		cmocka_unit_test(test_join_request),
		cmocka_unit_test(test_key_update),
		cmocka_unit_test(test_field_zero),
		cmocka_unit_test(test_terms_and_leader),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
