// SPDX-License-Identifier: MIT
/* Writes the seed corpus of the state body fuzzer: bodies of each phase, and broken ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "seed.h"
#include "keymgr/state.h"

static const struct rot_config cfg = { 1000, 100, 10 };
static char pem[] = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n"
		    "-----END PRIVATE KEY-----\n";

/* The cluster's revision saved with the rotation. */
static uint64_t revision;

/* The body of reg and rot as name, then variants that must be refused. */
static void put(const char *name, struct registry *reg,
		const struct rotation *rot, const struct state_extra *x,
		int broken)
{
	char bad[128];
	uint8_t *body, *b;
	size_t len;

	if (state_body_encode(reg, rot, revision, x, &body, &len))
		exit(1);
	seed_write(name, body, len);
	if (broken) {
		b = malloc(len + 1);
		if (!b)
			exit(1);
		memcpy(b, body, len);
		b[len] = 0;
		snprintf(bad, sizeof(bad), "%s-trailing", name);
		seed_write(bad, b, len + 1);
		snprintf(bad, sizeof(bad), "%s-truncated", name);
		seed_write(bad, b, len / 2);
		b[8] = 9; /* the rotation phase */
		snprintf(bad, sizeof(bad), "%s-bad-phase", name);
		seed_write(bad, b, len);
		free(b);
	}
	sodium_free(body);
}

/*
 * Static keys: none for a removed node, one (from 0) for index 1, three
 * (from 0, 2, 3) and a pending one for the others.
 */
static void node_keys(struct node *n)
{
	size_t k = n->state == NODE_REMOVED ? 0 : n->index == 1 ? 1 : 3;

	for (size_t i = 0; i < k; i++) {
		n->keys[i].from = i ? (uint32_t)i + 1 : 0;
		memset(n->keys[i].pub, (int)(n->index * 16 + i),
		       sizeof(n->keys[i].pub));
	}
	n->n_keys = k;
	n->has_pending = k == 3;
	memset(n->pending, 0x77, n->has_pending ? sizeof(n->pending) : 0);
}

static void node(struct registry *reg, const char *id, uint32_t index,
		 enum node_state state, size_t n_addrs, const char *serial)
{
	struct node n = { .index = index,
			  .incarnation = index + 1,
			  .state = state,
			  .n_addrs = n_addrs };

	snprintf(n.id, sizeof(n.id), "%s", id);
	snprintf(n.cert_serial, sizeof(n.cert_serial), "%s", serial);
	memset(n.boot_id, (int)index, sizeof(n.boot_id));
	for (size_t i = 0; i < n_addrs; i++) {
		n.addrs[i].len = i % 2 ? 16 : 4;
		memset(n.addrs[i].ip, (int)(10 + i), n.addrs[i].len);
	}
	node_keys(&n);
	if (registry_restore(reg, &n))
		exit(1);
}

static void nat(struct node *n, uint8_t len)
{
	n->nat = true;
	n->public_addr.len = len;
	memset(n->public_addr.ip, 0xc6, len);
}

static void gen(struct rotation *rot, uint32_t g, enum gen_phase phase)
{
	struct rot_gen *p = &rot->gens[rot->n_gens++];

	p->g = g;
	p->phase = phase;
	memset(p->epoch, (int)g, sizeof(p->epoch));
}

int main(int argc, char **argv)
{
	struct registry *reg = registry_new();
	struct state_extra x = { .ca_key_pem = pem,
				 .ca_key_pem_len = sizeof(pem) - 1 };
	struct state_extra none = { 0 };
	struct rotation rot;

	seed_dir_from(argc, argv);
	if (sodium_init() < 0 || !reg)
		return 1;
	rot_init(&rot, &cfg, NULL, NULL);
	put("empty", reg, &rot, &none, 1);

	memset(x.token_secret, 0x5a, sizeof(x.token_secret));
	node(reg, "node-1", 1, NODE_DISCONNECTED, 2, "0a1b2c");
	node(reg, "node_2.lab", 4, NODE_REMOVED, 0, "");
	node(reg, "n3", 7, NODE_CONNECTED, REGISTRY_ADDRS_MAX, "ff");
	gen(&rot, 1, GEN_COMMITTED);
	revision = 12;
	rot.wait_revision = 11;
	rot.next_due = 123456789;
	put("idle", reg, &rot, &x, 1);

	gen(&rot, 2, GEN_PREPARED);
	rot.phase = ROT_PREPARE;
	rot.target = 2;
	rot.requested = true;
	put("prepare", reg, &rot, &x, 1);

	rot.gens[0].phase = GEN_RETIRING;
	rot.gens[1].phase = GEN_COMMITTED;
	rot.phase = ROT_COMMIT;
	put("commit", reg, &rot, &none, 0);
	rot.phase = ROT_GRACE;
	rot.requested = false;
	put("grace", reg, &rot, &x, 0);

	/* behind NAT: node-1 comes from an IPv4 address, n3 from IPv6 */
	nat(registry_find(reg, "node-1"), 4);
	nat(registry_find(reg, "n3"), 16);
	put("nat", reg, &rot, &x, 1);

	rot_cleanup(&rot);
	registry_free(reg);
	return 0;
}
