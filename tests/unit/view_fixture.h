/* SPDX-License-Identifier: MIT */
/* test_view's fixture: nodes with real X25519 keys, the leader's messages built and applied through agent/wire.c, the keys a peer derives on its own. */
#ifndef VXSEC_TEST_VIEW_FIXTURE_H
#define VXSEC_TEST_VIEW_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent/view.h"
#include "common/pairkey.h"
#include "proto/frame.h"

#define VIEW_NODES 5 /* self (index 1), node-a, node-b, node-c, node-0 */

/* The nodes: real X25519 keys, the second one each a periodic change. */
struct node {
	const char *id;
	uint32_t index;
	struct pairkey_static *k[2];
};

/* A message under construction: protobuf structs on the stack. */
struct msg {
	Vxsec__Peer peers[8], *pp[8];
	Vxsec__Address addr[8], *ap[8];
	uint8_t ip[8][4];
	Vxsec__NodeKey nk[8][2], *nkp[8][2];
	Vxsec__Generation gens[3], *gp[3];
	Vxsec__Epoch ep[3], *epp[3];
	uint8_t secret[3][PROTO_EPOCH_LEN];
	Vxsec__KeyChange kc[8], *kcp[8];
	size_t n_peers, n_gens, n_kc;
};

/* One end of a pair, as the node at that end sees itself. */
struct end {
	const struct pairkey_static *k;
	uint32_t index;
	uint64_t inc;
};

extern struct node nodes[VIEW_NODES];
/* This node's private keys as the daemon holds them: k[0] from 0. */
extern struct static_keys self_sk;

struct node *node(const char *id);
int setup(void **state);
int teardown(void **state);
Vxsec__Peer *peer(struct msg *m, const char *id, uint64_t inc, uint32_t from);
void gen(struct msg *m, uint32_t g, Vxsec__Phase phase);
void snapshot_of(struct msg *m, uint64_t rev, struct msg *self_m,
		 Vxsec__Snapshot *s);
int apply(struct view *v, Vxsec__Envelope *env, struct why *why);
int snapshot(struct view *v, Vxsec__Snapshot *s, struct why *why);
int delta(struct view *v, Vxsec__Delta *d, struct why *why);
const struct desired_peer *find(const struct view *v, const char *id);
const struct desired_keys *keys_of(const struct desired_peer *p, uint32_t g);
void peer_derives(const struct end *from, const struct end *to, uint32_t g,
		  uint8_t out[PAIRKEY_LEN]);
void assert_pair(const struct view *v, const char *id, uint64_t inc, uint32_t g,
		 int peer_key, int self_key);
void base(struct view *v);
void delta_init(Vxsec__Delta *d, uint64_t rev);
void prepare_of(Vxsec__GenerationPrepare *p, struct msg *m, uint32_t g,
		uint8_t epoch[PROTO_EPOCH_LEN]);
void key_change(struct msg *m, const char *id);

#endif
