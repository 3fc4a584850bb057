// SPDX-License-Identifier: MIT
/* Writes the seed corpus of the records fuzzer: states as plaintext and sealed records, and broken ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "seed.h"
#include "keymgr/records.h"

#define FLAG_SEALED 0x01

static const struct rot_config cfg = { 1000, 100, 10 };
static char pem[] = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n"
		    "-----END PRIVATE KEY-----\n";
static const char cert[] = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU"
			   "\n-----END CERTIFICATE-----\n";
static uint8_t key[STATE_KEY_LEN], other_key[STATE_KEY_LEN];

/* The fuzzer's input being built. */
static uint8_t buf[65536];
static size_t off;

static void append(const void *p, size_t n)
{
	if (n > sizeof(buf) - off)
		exit(1);
	memcpy(buf + off, p, n);
	off += n;
}

static void append_record(const char *name, const uint8_t *v, size_t len)
{
	uint8_t b[3] = { (uint8_t)strlen(name), (uint8_t)(len >> 8),
			 (uint8_t)len };

	append(b, 1);
	append(name, strlen(name));
	append(b + 1, 2);
	append(v, len);
}

static void write_file(const char *name, size_t len)
{
	seed_write(name, buf, len);
}

/*
 * s as one input: plaintexts, or values sealed under k; the record skip
 * left out; the record moved_from under the name moved_to.
 */
static void put(const char *name, const struct record_set *s, bool sealed,
		const uint8_t *k, const char *skip, const char *moved_to)
{
	uint8_t *v;
	size_t len;

	off = 0;
	buf[off++] = sealed ? FLAG_SEALED : 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct record *r = &s->v[i];
		bool moved = moved_to && !strcmp(r->name, "node/00000001");

		if (skip && !strcmp(r->name, skip))
			continue;
		if (!sealed) {
			append_record(r->name, r->plain, r->len);
			continue;
		}
		if (records_seal(k, r->name, r->plain, r->len, &v, &len))
			exit(1);
		append_record(moved ? moved_to : r->name, v, len);
		free(v);
	}
	write_file(name, off);
}

static void put_both(const char *name, const struct record_set *s)
{
	char n[128];

	snprintf(n, sizeof(n), "%s-plain", name);
	put(n, s, false, key, NULL, NULL);
	snprintf(n, sizeof(n), "%s-sealed", name);
	put(n, s, true, key, NULL, NULL);
}

static void node(struct registry *reg, const char *id, uint32_t index,
		 enum node_state state, size_t n_addrs)
{
	struct node n = { .index = index,
			  .incarnation = index + 1,
			  .state = state,
			  .n_addrs = n_addrs };

	snprintf(n.id, sizeof(n.id), "%s", id);
	snprintf(n.cert_serial, sizeof(n.cert_serial), "%x", index * 977);
	memset(n.boot_id, (int)index, sizeof(n.boot_id));
	for (size_t i = 0; i < n_addrs; i++) {
		n.addrs[i].len = i % 2 ? 16 : 4;
		memset(n.addrs[i].ip, (int)(10 + i), n.addrs[i].len);
	}
	n.n_keys = state == NODE_REMOVED ? 0 : 1 + index % 3;
	for (size_t i = 0; i < n.n_keys; i++) {
		n.keys[i].from = (uint32_t)i * 2;
		memset(n.keys[i].pub, (int)(index * 16 + i), REGISTRY_PUB_LEN);
	}
	n.has_pending = n.n_keys == 2;
	memset(n.pending, 0x77, sizeof(n.pending));
	if (registry_restore(reg, &n))
		exit(1);
}

static void gen(struct rotation *rot, uint32_t g, enum gen_phase phase)
{
	struct rot_gen *p = &rot->gens[rot->n_gens++];

	p->g = g;
	p->phase = phase;
	memset(p->epoch, (int)g, sizeof(p->epoch));
}

static void encode(struct registry *reg, const struct rotation *rot,
		   uint64_t revision, const struct state_extra *x,
		   bool autolock, struct record_set *s)
{
	if (records_encode(reg, rot, revision, x, cert, sizeof(cert) - 1,
			   autolock, s))
		exit(1);
}

/* Refused: no meta, another format, a node moved, another key, a stranger. */
static void broken(struct record_set *s)
{
	const struct record *m;
	uint8_t meta[256];

	put("no-meta", s, false, key, "meta", NULL);
	put("no-gen", s, false, key, "gen/0000000002", NULL);
	put("moved", s, true, key, NULL, "node/00000007");
	put("other-key", s, true, other_key, NULL, NULL);
	if (record_set_add(s, "leader", (const uint8_t *)"a:7120", 6))
		exit(1);
	put("stranger", s, false, key, NULL, NULL);
	m = record_set_find(s, "meta"); /* after the add: the array moved */
	if (!m || m->len > sizeof(meta))
		exit(1);
	memcpy(meta, m->plain, m->len);
	meta[1] = RECORDS_FORMAT + 1;
	if (record_set_add(s, "meta", meta, m->len))
		exit(1);
	put("format", s, false, key, "leader", NULL);
}

int main(int argc, char **argv)
{
	struct registry *reg = registry_new();
	struct state_extra x = { .ca_key_pem = pem,
				 .ca_key_pem_len = sizeof(pem) - 1 };
	struct record_set s = { 0 };
	struct rotation rot;

	seed_dir_from(argc, argv);
	if (sodium_init() < 0 || !reg)
		return 1;
	memset(key, 0x42, sizeof(key)); /* the fuzzer's key */
	memset(other_key, 0x24, sizeof(other_key));
	rot_init(&rot, &cfg, NULL, NULL);
	encode(reg, &rot, 0, &x, false, &s);
	put_both("empty", &s);

	memset(x.token_secret, 0x5a, sizeof(x.token_secret));
	node(reg, "node-1", 1, NODE_DISCONNECTED, 2);
	node(reg, "node_2.lab", 4, NODE_REMOVED, 0);
	node(reg, "n3", 7, NODE_CONNECTED, REGISTRY_ADDRS_MAX);
	gen(&rot, 1, GEN_COMMITTED);
	rot.wait_revision = 11;
	rot.next_due = 123456789;
	encode(reg, &rot, 12, &x, true, &s);
	put_both("idle", &s);

	gen(&rot, 2, GEN_PREPARED);
	rot.phase = ROT_PREPARE;
	rot.target = 2;
	rot.requested = true;
	encode(reg, &rot, 13, &x, false, &s);
	put_both("prepare", &s);

	rot.gens[0].phase = GEN_RETIRING;
	rot.gens[1].phase = GEN_COMMITTED;
	rot.phase = ROT_GRACE;
	encode(reg, &rot, 14, &x, true, &s);
	put("grace-plain", &s, false, key, NULL, NULL);
	broken(&s);

	record_set_clear(&s);
	rot_cleanup(&rot);
	registry_free(reg);
	return 0;
}
