// SPDX-License-Identifier: MIT
/* Unit tests: what the state file tests share (a temp dir, samples, load and compare). */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "state_util.h"

char dir[64];
const char pem[] = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49"
		   "AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
const struct rot_config cfg = { 1000, 100, 10 };
/* The cluster's revision that goes with the rotation saved (the cluster
 * keeps it; the state file holds it). */
uint64_t revision;

void rnd(uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	randombytes_buf(buf, len);
}

int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/vxsec-state-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

const char *at(const char *name)
{
	static char p[2][128];
	static int i;

	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(1 << 16);

	assert_non_null(f);
	assert_non_null(b);
	*len = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

void spill(const char *path, const void *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

size_t entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Node i's static keys: one, a pending one (3), three attached (5). */
static void add_keys(struct node *n, int i)
{
	uint8_t pub[REGISTRY_PUB_LEN];

	memset(pub, 0x40 + i, sizeof(pub));
	registry_keys_reset(n, pub);
	pub[0] ^= 1;
	if (i == 3 || i == 5)
		assert_int_equal(registry_key_pend(n, pub), 1);
	if (i == 5) {
		assert_int_equal(registry_key_attach(n, 8), 1);
		pub[1] ^= 1;
		assert_int_equal(registry_key_pend(n, pub), 1);
		assert_int_equal(registry_key_attach(n, 9), 1);
	}
}

void add_node(struct registry *r, int i, const char *addrs)
{
	uint8_t boot[16] = { (uint8_t)i };
	struct node *n;
	char id[32];

	snprintf(id, sizeof(id), "node-%d.rack_A", i);
	assert_int_equal(registry_join(r, id, boot, &n), 0);
	for (; *addrs; addrs++) {
		struct node_addr *a = &n->addrs[n->n_addrs++];

		a->len = *addrs == '4' ? 4 : 16;
		for (int k = 0; k < a->len; k++)
			a->ip[k] = (uint8_t)(i * 16 + k);
	}
	snprintf(n->cert_serial, sizeof(n->cert_serial), "%02X9f3c0A", i);
	add_keys(n, i);
}

/* The leader found n behind NAT, its public address of len bytes. */
static void set_nat(struct node *n, uint8_t len)
{
	n->nat = true;
	n->public_addr.len = len;
	for (int k = 0; k < len; k++)
		n->public_addr.ip[k] = (uint8_t)(0xc0 + k);
}

/* Six nodes: v4, v6, both; one reconnected after a reboot, one removed. */
struct registry *registry_sample(void)
{
	struct registry *r = registry_new();
	uint8_t boot2[16] = { 0xb2 };

	assert_non_null(r);
	add_node(r, 1, "4");
	add_node(r, 2, "6");
	add_node(r, 3, "46");
	add_node(r, 4, "4");
	add_node(r, 5, "66446644");
	add_node(r, 6, "");
	assert_int_equal(registry_hello(r, "node-2.rack_A", boot2), 1);
	assert_int_equal(registry_remove(r, "node-4.rack_A"), 0);
	assert_int_equal(registry_lost_state(r, "node-5.rack_A"), 0);
	/* behind NAT: node-1 (IPv4), node-3 (IPv6, a pending key too) */
	set_nat(registry_find(r, "node-1.rack_A"), 4);
	set_nat(registry_find(r, "node-3.rack_A"), 16);
	return r;
}

void extra_sample(struct state_extra *x)
{
	randombytes_buf(x->token_secret, sizeof(x->token_secret));
	x->ca_key_pem = strdup(pem);
	x->ca_key_pem_len = strlen(pem);
}

/* A rotation in phase with gens of the given phases, the last the target. */
void rot_sample(struct rotation *r, enum rot_phase phase, size_t n,
		const enum gen_phase *ph)
{
	rot_init(r, &cfg, rnd, NULL);
	r->n_gens = n;
	for (size_t i = 0; i < n; i++) {
		r->gens[i].g = 7 + (uint32_t)i * 2;
		r->gens[i].phase = ph[i];
		randombytes_buf(r->gens[i].epoch, KEYS_EPOCH_LEN);
	}
	r->phase = phase;
	r->target = n ? r->gens[n - 1].g : 0;
	revision = 1000 + n;
	r->wait_revision = 999;
	r->next_due = 1712345678901ull;
	r->requested = n & 1;
	r->deadline = 55; /* not persisted */
}

void assert_registry_same(struct registry *a, struct registry *b)
{
	struct node *x, *y;
	size_t i;

	for (i = 0; (x = registry_at(a, i)); i++) {
		y = registry_at(b, i);
		assert_non_null(y);
		assert_string_equal(x->id, y->id);
		assert_int_equal(x->index, y->index);
		assert_int_equal(x->incarnation, y->incarnation);
		assert_memory_equal(x->boot_id, y->boot_id, 16);
		assert_int_equal(x->n_addrs, y->n_addrs);
		for (size_t k = 0; k < x->n_addrs; k++) {
			assert_int_equal(x->addrs[k].len, y->addrs[k].len);
			assert_memory_equal(x->addrs[k].ip, y->addrs[k].ip,
					    x->addrs[k].len);
		}
		assert_string_equal(x->cert_serial, y->cert_serial);
		assert_int_equal(x->n_keys, y->n_keys);
		assert_memory_equal(x->keys, y->keys,
				    x->n_keys * sizeof(x->keys[0]));
		assert_int_equal(x->has_pending, y->has_pending);
		assert_memory_equal(x->pending, y->pending, REGISTRY_PUB_LEN);
		assert_int_equal(x->nat, y->nat);
		assert_int_equal(x->public_addr.len, y->public_addr.len);
		assert_memory_equal(x->public_addr.ip, y->public_addr.ip,
				    x->public_addr.len);
		assert_int_equal(x->state == NODE_CONNECTED ? NODE_DISCONNECTED
							    : x->state,
				 y->state);
	}
	assert_null(registry_at(b, i));
	assert_int_equal(registry_count(a), registry_count(b));
}

void assert_rot_same(const struct rotation *a, const struct rotation *b)
{
	assert_int_equal(a->n_gens, b->n_gens);
	for (size_t i = 0; i < a->n_gens; i++) {
		assert_int_equal(a->gens[i].g, b->gens[i].g);
		assert_int_equal(a->gens[i].phase, b->gens[i].phase);
		assert_memory_equal(a->gens[i].epoch, b->gens[i].epoch,
				    KEYS_EPOCH_LEN);
	}
	assert_int_equal(a->phase, b->phase);
	assert_int_equal(a->target, b->target);
	assert_int_equal(a->wait_revision, b->wait_revision);
	assert_int_equal(a->next_due, b->next_due);
	assert_int_equal(a->requested, b->requested);
	assert_int_equal(b->deadline, 0);
	assert_int_equal(b->n_pending, 0);
}

/* Loads dir with unlock (or the key files), compares if want is given. */
int load(const uint8_t *unlock, uint8_t key[32], struct why *why,
	 struct registry *want_reg, const struct rotation *want_rot,
	 const struct state_extra *want_x)
{
	struct registry *reg = registry_new();
	struct rotation rot;
	struct state_extra x = { 0 };
	bool autolock = false;
	uint64_t rev;
	uint8_t k[32];
	int err;

	rot_init(&rot, &cfg, rnd, NULL);
	err = state_load(dir, unlock, key ? key : k, reg, &rot, &rev, &x,
			 &autolock, why);
	if (!err && want_reg) {
		assert_int_equal(rev, revision);
		assert_registry_same(want_reg, reg);
		assert_rot_same(want_rot, &rot);
		assert_memory_equal(want_x->token_secret, x.token_secret, 32);
		assert_int_equal(want_x->ca_key_pem_len, x.ca_key_pem_len);
		if (want_x->ca_key_pem_len)
			assert_string_equal(want_x->ca_key_pem, x.ca_key_pem);
		else
			assert_null(x.ca_key_pem);
		assert_int_equal(autolock, unlock != NULL);
	}
	if (err) {
		assert_int_equal(rot.n_gens, 0);
		assert_null(x.ca_key_pem);
	}
	state_extra_wipe(&x);
	rot_cleanup(&rot);
	registry_free(reg);
	return err;
}

/* A small state: one node, one generation. */
void small_state(uint8_t key[32])
{
	enum gen_phase ph[1] = { GEN_COMMITTED };
	struct registry *reg = registry_new();
	struct state_extra x = { 0 };
	struct rotation rot;

	add_node(reg, 1, "4");
	extra_sample(&x);
	rot_sample(&rot, ROT_IDLE, 1, ph);
	assert_int_equal(state_save(dir, key, false, reg, &rot, revision, &x),
			 0);
	state_extra_wipe(&x);
	rot_cleanup(&rot);
	registry_free(reg);
}
