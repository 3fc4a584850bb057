// SPDX-License-Identifier: MIT
/* Writes the seed corpus of the conn fuzzer: [flags] [n] [tape] [stream], see fuzz_conn.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"
#include "proto/frame.h"

/* fuzz_conn.c's flags */
#define A_NEVER 0x00
#define A_READY 0x01
#define A_JOIN 0x02
#define A_FIRST 0x03
#define F_EOF 0x04
#define F_PARTIAL 0x08
#define F_FLUSH 0x10
#define F_SERVER 0x20
#define LIMITS(n) ((n) << 6)

#define SEED_MAX 65536

struct seed {
	uint8_t buf[SEED_MAX];
	size_t len;
};

static uint8_t boot[16], proof[32], ip4[4] = { 192, 0, 2, 1 }, der[300];

static void add(struct seed *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->buf))
		exit(1);
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

/* A seed with its flags and tape; the stream is added after. */
static void start(struct seed *s, uint8_t flags, const uint8_t *tape, size_t n)
{
	s->len = 0;
	add(s, &flags, 1);
	add(s, &(uint8_t){ (uint8_t)n }, 1);
	add(s, tape, n);
}

static void put(const struct seed *s, const char *name)
{
	seed_write(name, s->buf, s->len);
}

/* One frame of env (version: 0 for ours, else re-packed with it). */
static void frame(struct seed *s, Vxsec__Envelope *env, int version, size_t cut)
{
	uint8_t *buf;
	size_t len;

	if (frame_encode(env, &buf, &len))
		exit(1);
	if (version) {
		env->version = (uint32_t)version;
		vxsec__envelope__pack(env, buf + FRAME_HEADER);
	}
	add(s, buf, cut && cut < len ? cut : len);
	frame_buf_free(buf, len);
}

static Vxsec__Envelope join, hello, ping, ack, error, pong, key_update;
static uint8_t pub[32] = { 0x42, 0x17 }; /* an X25519 public key */

static void messages(void)
{
	static Vxsec__JoinRequest j = VXSEC__JOIN_REQUEST__INIT;
	static Vxsec__Hello he = VXSEC__HELLO__INIT;
	static Vxsec__Ping p = VXSEC__PING__INIT, r = VXSEC__PING__INIT;
	static Vxsec__Ack a = VXSEC__ACK__INIT;
	static Vxsec__Error e = VXSEC__ERROR__INIT;
	static Vxsec__KeyUpdate ku = VXSEC__KEY_UPDATE__INIT;
	static Vxsec__Address a4 = VXSEC__ADDRESS__INIT, *addrs[1] = { &a4 };
	static const Vxsec__Envelope init = VXSEC__ENVELOPE__INIT;

	a4.ip = (ProtobufCBinaryData){ 4, ip4 };
	memset(der, 0x30, sizeof(der));
	j.node_id = "node-2";
	j.secret_proof = (ProtobufCBinaryData){ 32, proof };
	j.csr_der = (ProtobufCBinaryData){ sizeof(der), der };
	j.boot_id = (ProtobufCBinaryData){ 16, boot };
	j.n_underlay = 1;
	j.underlay = addrs;
	j.static_key = (ProtobufCBinaryData){ 32, pub };
	join = init;
	join.msg_case = VXSEC__ENVELOPE__MSG_JOIN_REQUEST;
	join.join_request = &j;
	he.node_id = "node-2";
	he.boot_id = (ProtobufCBinaryData){ 16, boot };
	he.last_revision = 3;
	he.n_underlay = 1;
	he.underlay = addrs;
	he.static_key = (ProtobufCBinaryData){ 32, pub };
	hello = init;
	hello.msg_case = VXSEC__ENVELOPE__MSG_HELLO;
	hello.hello = &he;
	p.nonce = 7;
	ping = init;
	ping.msg_case = VXSEC__ENVELOPE__MSG_PING;
	ping.ping = &p;
	r.nonce = 7;
	r.reply = true;
	pong = init;
	pong.msg_case = VXSEC__ENVELOPE__MSG_PING;
	pong.ping = &r;
	a.revision = 3;
	ack = init;
	ack.msg_case = VXSEC__ENVELOPE__MSG_ACK;
	ack.ack = &a;
	ku.static_key = (ProtobufCBinaryData){ 32, pub };
	key_update = init;
	key_update.msg_case = VXSEC__ENVELOPE__MSG_KEY_UPDATE;
	key_update.key_update = &ku;
	e.code = VXSEC__ERROR_CODE__ERROR_INTERNAL;
	e.reason = "going away";
	error = init;
	error.msg_case = VXSEC__ENVELOPE__MSG_ERROR;
	error.error = &e;
}

/* Frames whole, in one piece each, and refusals. */
static void plain_seeds(struct seed *s)
{
	static const uint8_t h16m[] = { 1, 0, 0, 0, 0x0a, 0x01 };
	static const uint8_t hmax[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t hzero[] = { 0, 0, 0, 0, 0, 0, 0, 5 };
	static const uint8_t junk[] = { 0,    0,    0,	  6,	0xde,
					0xad, 0xbe, 0xef, 0x08, 0x01 };
	const uint8_t base = F_SERVER | F_FLUSH;

	start(s, base | F_EOF, NULL, 0);
	frame(s, &join, 0, 0);
	put(s, "join");
	start(s, base | A_JOIN, NULL, 0);
	frame(s, &join, 0, 0);
	frame(s, &hello, 0, 0);
	frame(s, &ping, 0, 0);
	frame(s, &ack, 0, 0);
	put(s, "join-then-session");
	start(s, base | A_READY | F_EOF, NULL, 0);
	frame(s, &hello, 0, 0);
	frame(s, &ping, 0, 0);
	frame(s, &key_update, 0, 0);
	frame(s, &ack, 0, 0);
	frame(s, &error, 0, 0);
	put(s, "session");
	start(s, base | A_FIRST, NULL, 0);
	frame(s, &hello, 0, 0);
	frame(s, &ping, 0, 0);
	put(s, "auth-on-first-frame");
	start(s, base, NULL, 0);
	frame(s, &hello, 0, 0);
	put(s, "hello-unauthenticated");
	start(s, base, NULL, 0);
	frame(s, &ping, 0, 0);
	put(s, "ping-unauthenticated");
	start(s, base | A_READY, NULL, 0);
	frame(s, &pong, 0, 0);
	put(s, "pong-unasked");
	start(s, base, NULL, 0);
	frame(s, &join, 1, 0);
	put(s, "join-version-1");
	start(s, base | LIMITS(1), NULL, 0);
	frame(s, &join, 0, 0);
	put(s, "join-over-unauth-limit");
	start(s, base, NULL, 0);
	frame(s, &join, 0, 40);
	put(s, "join-truncated");
	start(s, base | A_READY, NULL, 0);
	frame(s, &hello, 0, 9);
	put(s, "hello-truncated-authenticated");
	start(s, base, NULL, 0);
	add(s, h16m, sizeof(h16m));
	put(s, "header-16mib-unauthenticated");
	start(s, base | A_READY, NULL, 0);
	add(s, h16m, sizeof(h16m));
	put(s, "header-16mib-authenticated");
	start(s, base | A_READY, NULL, 0);
	add(s, hmax, sizeof(hmax));
	put(s, "header-4gib");
	start(s, base, NULL, 0);
	add(s, hzero, sizeof(hzero));
	put(s, "header-zero");
	start(s, base | F_EOF, NULL, 0);
	add(s, junk, sizeof(junk));
	put(s, "junk-frame");
	start(s, F_SERVER | F_EOF, NULL, 0);
	frame(s, &hello, 0, 0);
	put(s, "hello-refused-at-once");
}

/* The tape at work: slow handshakes, byte-wise reads, blocked writes. */
static void tape_seeds(struct seed *s)
{
	uint8_t tape[255];
	const uint8_t base = F_SERVER | F_FLUSH;

	memset(tape, 1, sizeof(tape));
	tape[0] = 0x21; /* the handshake succeeds */
	start(s, base | A_JOIN, tape, sizeof(tape));
	frame(s, &join, 0, 0);
	frame(s, &ping, 0, 0);
	put(s, "join-bytewise");
	start(s, base, (const uint8_t[]){ 0x00, 0x05, 0x01, 0x10, 0x00, 0x30 },
	      6);
	frame(s, &join, 0, 0);
	put(s, "handshake-slow");
	start(s, base, (const uint8_t[]){ 0x00, 0x7f, 0x00, 0x7f }, 4);
	frame(s, &join, 0, 0);
	put(s, "handshake-timeout");
	start(s, base, (const uint8_t[]){ 0x20 }, 1);
	put(s, "handshake-fails");
	start(s, base | A_READY, (const uint8_t[]){ 0x21, 0x0a, 0xff }, 3);
	frame(s, &hello, 0, 0);
	put(s, "read-reset");
	start(s, base | A_READY | F_PARTIAL,
	      (const uint8_t[]){ 0x21, 0xc1, 0x00, 0x01, 0x00, 0x00, 0x85, 0x01,
				 0x00, 0x02, 0xff },
	      11);
	frame(s, &ping, 0, 0);
	frame(s, &ping, 0, 0);
	put(s, "partial-writes");
	start(s, base | A_READY | LIMITS(1),
	      (const uint8_t[]){ 0x21, 0x05, 0x00, 0x05, 0x00, 0x20, 0x00,
				 0x7f },
	      8);
	frame(s, &hello, 0, 0);
	put(s, "slow-frame-authenticated");
	start(s, base | A_READY,
	      (const uint8_t[]){ 0x21, 0x00, 0x81, 0x00, 0x90, 0x00 }, 6);
	frame(s, &ack, 0, 0);
	put(s, "owner-sends-between-reads");
}

int main(int argc, char **argv)
{
	static struct seed s;

	seed_dir_from(argc, argv);
	messages();
	plain_seeds(&s);
	tape_seeds(&s);
	return 0;
}
