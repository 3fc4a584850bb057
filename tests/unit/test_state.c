// SPDX-License-Identifier: MIT
/* Unit tests: the leader's state on disk (round trips, tampering, keys, unlock keys, rekey). */
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

#include "keymgr/state.h"

static char dir[64];
static const char pem[] =
	"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49"
	"AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
static const struct rot_config cfg = { 1000, 100, 10 };
/* The cluster's revision that goes with the rotation saved (the cluster
 * keeps it; the state file holds it). */
static uint64_t revision;

static void rnd(uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/vxsec-state-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const char *at(const char *name)
{
	static char p[2][128];
	static int i;

	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(1 << 16);

	assert_non_null(f);
	assert_non_null(b);
	*len = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

static void spill(const char *path, const void *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static size_t entries(void)
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

static void add_node(struct registry *r, int i, const char *addrs)
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

/* Six nodes: v4, v6, both; one reconnected after a reboot, one removed. */
static struct registry *registry_sample(void)
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
	return r;
}

static void extra_sample(struct state_extra *x)
{
	randombytes_buf(x->token_secret, sizeof(x->token_secret));
	x->ca_key_pem = strdup(pem);
	x->ca_key_pem_len = strlen(pem);
}

/* A rotation in phase with gens of the given phases, the last the target. */
static void rot_sample(struct rotation *r, enum rot_phase phase, size_t n,
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

static void assert_registry_same(struct registry *a, struct registry *b)
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
		assert_int_equal(x->state == NODE_CONNECTED ? NODE_DISCONNECTED
							    : x->state,
				 y->state);
	}
	assert_null(registry_at(b, i));
	assert_int_equal(registry_count(a), registry_count(b));
}

static void assert_rot_same(const struct rotation *a, const struct rotation *b)
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
static int load(const uint8_t *unlock, uint8_t key[32], struct why *why,
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

static void test_round_trip(void **state)
{
	static const struct {
		enum rot_phase phase;
		size_t n;
		enum gen_phase ph[3];
	} cases[] = {
		{ ROT_IDLE, 0, { 0 } },
		{ ROT_IDLE, 1, { GEN_COMMITTED } },
		{ ROT_PREPARE, 1, { GEN_PREPARED } },
		{ ROT_PREPARE, 2, { GEN_COMMITTED, GEN_PREPARED } },
		{ ROT_COMMIT, 2, { GEN_RETIRING, GEN_COMMITTED } },
		{ ROT_GRACE, 2, { GEN_RETIRING, GEN_COMMITTED } },
		{ ROT_PREPARE,
		  3,
		  { GEN_RETIRING, GEN_COMMITTED, GEN_PREPARED } },
		{ ROT_GRACE, 3, { GEN_RETIRING, GEN_RETIRING, GEN_COMMITTED } },
	};
	struct registry *reg = registry_sample();
	struct state_extra x = { 0 };
	uint8_t key[32], got[32];
	struct rotation rot;
	struct stat st;
	struct why why = { "" };

	(void)state;
	extra_sample(&x);
	assert_int_equal(state_key_create(dir, key), 0);
	assert_int_equal(stat(at(STATE_KEY_FILE), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rot_sample(&rot, cases[i].phase, cases[i].n, cases[i].ph);
		assert_int_equal(
			state_save(dir, key, false, reg, &rot, revision, &x),
			0);
		assert_int_equal(stat(at(STATE_FILE), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(load(NULL, got, &why, reg, &rot, &x), 0);
		assert_memory_equal(key, got, 32);
		rot_cleanup(&rot);
	}
	assert_int_equal(entries(), 2);
	state_extra_wipe(&x);
	registry_free(reg);
}

/* States the real machine goes through, saved and loaded at every step. */
static void test_round_trip_machine(void **state)
{
	struct registry *reg = registry_sample();
	struct state_extra x = { 0 };
	struct rot_action act[32];
	const uint32_t up[] = { 1, 2 };
	struct rotation rot;
	uint8_t key[32];
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, key), 0);
	rot_init(&rot, &cfg, rnd, NULL);
	revision = 0;
	for (uint64_t now = 0; now < 2500; now += 50) {
		int k = rot_step(&rot, now, revision, up, 2, act, 32);

		assert_true(k >= 0);
		for (int i = 0; i < k; i++)
			revision = act[i].revision;
		if (now % 150 == 0) {
			rot_ack(&rot, 1, revision);
			rot_ack(&rot, 2, revision);
		}
		assert_int_equal(
			state_save(dir, key, false, reg, &rot, revision, &x),
			0);
		assert_int_equal(load(NULL, NULL, &why, reg, &rot, &x), 0);
	}
	assert_true(rot.gens[0].g >= 2);
	rot_cleanup(&rot);
	registry_free(reg);
}

static void test_no_plaintext(void **state)
{
	enum gen_phase ph[3] = { GEN_RETIRING, GEN_COMMITTED, GEN_PREPARED };
	struct registry *reg = registry_sample();
	struct state_extra x = { 0 };
	struct rotation rot;
	uint8_t key[32], *f;
	size_t len;

	(void)state;
	extra_sample(&x);
	rot_sample(&rot, ROT_PREPARE, 3, ph);
	assert_int_equal(state_key_create(dir, key), 0);
	assert_int_equal(state_save(dir, key, false, reg, &rot, revision, &x),
			 0);
	f = slurp(at(STATE_FILE), &len);
	assert_true(len > 300);
	for (size_t i = 0; i < 3; i++)
		assert_null(memmem(f, len, rot.gens[i].epoch, 8));
	assert_null(memmem(f, len, x.token_secret, 8));
	assert_null(memmem(f, len, key, 8));
	assert_null(memmem(f, len, "PRIVATE", 7));
	assert_null(memmem(f, len, "node-1", 6));
	free(f);
	state_extra_wipe(&x);
	rot_cleanup(&rot);
	registry_free(reg);
}

/* A small state: one node, one generation. */
static void small_state(uint8_t key[32])
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

static void test_bit_flips(void **state)
{
	uint8_t key[32], *orig, *f, *after;
	size_t len, n;
	struct why why = { "" };
	int err;

	(void)state;
	assert_int_equal(state_key_create(dir, key), 0);
	small_state(key);
	orig = slurp(at(STATE_FILE), &len);
	f = malloc(len);
	assert_non_null(f);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(f, orig, len);
			f[i] ^= (uint8_t)(1 << bit);
			spill(at(STATE_FILE), f, len);
			err = load(NULL, NULL, &why, NULL, NULL, NULL);
			assert_int_equal(err,
					 i == 8 || i == 9    ? -EPROTONOSUPPORT
					 : i >= 12 && i < 20 ? -EKEYREJECTED
							     : -EBADMSG);
			/* nonce, ciphertext, tag, the autolock flag */
			if ((i >= 20 && (i < 44 || i >= 48)) ||
			    (i == 11 && bit == 0))
				assert_non_null(
					strstr(why.msg, "authentication"));
			assert_non_null(strstr(why.msg, at(STATE_FILE)));
			after = slurp(at(STATE_FILE), &n);
			assert_int_equal(n, len);
			assert_memory_equal(after, f, len);
			free(after);
			assert_int_equal(entries(), 2);
		}
	}
	spill(at(STATE_FILE), orig, len);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), 0);
	free(orig);
	free(f);
}

/* Every shorter file, a longer one, another version, another magic. */
static void test_truncation(void **state)
{
	uint8_t key[32], *f;
	size_t len;
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, key), 0);
	small_state(key);
	f = slurp(at(STATE_FILE), &len);
	for (size_t n = 0; n <= len + 1; n++) {
		spill(at(STATE_FILE), f, n);
		assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL),
				 n == len ? 0 : -EBADMSG);
		if (n != len)
			assert_non_null(
				strstr(why.msg, n < len ? "truncated at byte"
							: "trailing"));
	}
	f[9] = 7;
	spill(at(STATE_FILE), f, len);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL),
			 -EPROTONOSUPPORT);
	assert_non_null(
		strstr(why.msg, "format version 7, this build reads 2"));
	/* format 1 (protocol 1's masters): refused, and what to do said */
	f[9] = 1;
	spill(at(STATE_FILE), f, len);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(why.msg, "format 1 (before protocol 2)"));
	assert_non_null(strstr(why.msg, "new state directory"));
	assert_non_null(strstr(why.msg, "join again"));
	f[0] = 'x';
	spill(at(STATE_FILE), f, len);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -EBADMSG);
	assert_non_null(strstr(why.msg, "not a vxsec state file"));
	free(f);
}

static void test_wrong_key(void **state)
{
	uint8_t key[32], other[32];
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, key), 0);
	small_state(key);
	randombytes_buf(other, 32);
	spill(at(STATE_KEY_FILE), other, 32);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL),
			 -EKEYREJECTED);
	assert_non_null(strstr(why.msg, at(STATE_KEY_FILE)));
	spill(at(STATE_KEY_FILE), other, 31);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -EINVAL);
	assert_non_null(strstr(why.msg, "not a 32-byte key file"));
	assert_int_equal(unlink(at(STATE_KEY_FILE)), 0);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -ENOKEY);
	assert_non_null(strstr(why.msg, "is missing"));
	assert_int_equal(load(other, NULL, &why, NULL, NULL, NULL),
			 -EKEYREJECTED);
	assert_non_null(strstr(why.msg, "not autolocked"));
	assert_int_equal(entries(), 1);
}

static void test_autolock(void **state)
{
	enum gen_phase ph[2] = { GEN_COMMITTED, GEN_PREPARED };
	struct registry *reg = registry_sample();
	struct state_extra x = { 0 };
	uint8_t key[32], parsed[32], got[32];
	char text[STATE_UNLOCK_TEXT_LEN + 1];
	struct why why = { "" };
	struct rotation rot;

	(void)state;
	extra_sample(&x);
	rot_sample(&rot, ROT_PREPARE, 2, ph);
	randombytes_buf(key, 32);
	assert_int_equal(state_unlock_format(key, text, sizeof(text)), 0);
	assert_int_equal(state_unlock_parse(text, parsed), 0);
	assert_int_equal(state_save(dir, parsed, true, reg, &rot, revision, &x),
			 0);
	assert_int_equal(entries(), 1); /* no key on disk */
	assert_int_equal(load(parsed, got, &why, reg, &rot, &x), 0);
	assert_memory_equal(got, key, 32);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -ENOKEY);
	assert_non_null(strstr(why.msg, "autolocked"));
	parsed[0] ^= 1;
	assert_int_equal(load(parsed, got, &why, NULL, NULL, NULL),
			 -EKEYREJECTED);
	assert_non_null(strstr(why.msg, "unlock key"));
	assert_int_equal(entries(), 1);
	state_extra_wipe(&x);
	rot_cleanup(&rot);
	registry_free(reg);
}

static void assert_key_file(const char *name, const uint8_t want[32])
{
	uint8_t *f;
	size_t len;

	f = slurp(at(name), &len);
	assert_int_equal(len, 32);
	assert_memory_equal(f, want, 32);
	free(f);
}

static void test_rekey_default(void **state)
{
	uint8_t k1[32], k2[32], got[32], *before, *after;
	size_t n1, n2;
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, k1), 0);
	small_state(k1);
	randombytes_buf(k2, 32);
	/* the wrong old key changes nothing */
	before = slurp(at(STATE_FILE), &n1);
	assert_int_equal(state_rekey(dir, k2, k1, false, &why), -EKEYREJECTED);
	after = slurp(at(STATE_FILE), &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	assert_int_equal(entries(), 2);
	free(after);
	assert_int_equal(state_rekey(dir, k1, k2, false, &why), 0);
	assert_int_equal(entries(), 2);
	assert_key_file(STATE_KEY_FILE, k2);
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_memory_equal(got, k2, 32);
	assert_int_equal(load(k1, NULL, &why, NULL, NULL, NULL), -EKEYREJECTED);
	free(before);
}

/* A crash after state.key.new was written, before or after the state. */
static void test_rekey_crash(void **state)
{
	uint8_t k1[32], k2[32], got[32];
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, k1), 0);
	small_state(k1);
	randombytes_buf(k2, 32);
	spill(at(STATE_KEY_NEW_FILE), k2, 32); /* the state not yet rewritten */
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_memory_equal(got, k1, 32);
	assert_int_equal(access(at(STATE_KEY_NEW_FILE), F_OK), -1);
	assert_key_file(STATE_KEY_FILE, k1);

	spill(at(STATE_KEY_NEW_FILE), k2, 32); /* the state rewritten */
	small_state(k2);
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_memory_equal(got, k2, 32);
	assert_int_equal(access(at(STATE_KEY_NEW_FILE), F_OK), -1);
	assert_key_file(STATE_KEY_FILE, k2);
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_memory_equal(got, k2, 32);

	/* and with state.key gone as well (coming from autolock) */
	assert_int_equal(rename(at(STATE_KEY_FILE), at(STATE_KEY_NEW_FILE)), 0);
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_key_file(STATE_KEY_FILE, k2);
	assert_int_equal(entries(), 2);
}

static void test_rekey_autolock(void **state)
{
	uint8_t k1[32], k2[32], k3[32], got[32];
	struct why why = { "" };

	(void)state;
	assert_int_equal(state_key_create(dir, k1), 0);
	small_state(k1);
	randombytes_buf(k2, 32);
	randombytes_buf(k3, 32);
	/* default -> autolock: the key file goes */
	assert_int_equal(state_rekey(dir, k1, k2, true, &why), 0);
	assert_int_equal(entries(), 1);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -ENOKEY);
	assert_int_equal(load(k2, got, &why, NULL, NULL, NULL), 0);
	/* autolock -> autolock */
	assert_int_equal(state_rekey(dir, k2, k3, true, &why), 0);
	assert_int_equal(load(k2, NULL, &why, NULL, NULL, NULL), -EKEYREJECTED);
	assert_non_null(strstr(why.msg, "unlock key"));
	assert_int_equal(load(k3, got, &why, NULL, NULL, NULL), 0);
	assert_int_equal(entries(), 1);
	/* autolock -> default */
	assert_int_equal(state_rekey(dir, k3, k1, false, &why), 0);
	assert_key_file(STATE_KEY_FILE, k1);
	assert_int_equal(load(NULL, got, &why, NULL, NULL, NULL), 0);
	assert_memory_equal(got, k1, 32);
	/* a stale key file beside an autolocked state is removed on load */
	assert_int_equal(state_rekey(dir, k1, k2, true, &why), 0);
	spill(at(STATE_KEY_FILE), k1, 32);
	assert_int_equal(load(k2, got, &why, NULL, NULL, NULL), 0);
	assert_int_equal(entries(), 1);
}

static void test_first_start(void **state)
{
	enum gen_phase two[2] = { GEN_COMMITTED, GEN_COMMITTED };
	struct registry *reg = registry_new();
	struct state_extra x = { 0 };
	uint8_t key[32], back[32];
	struct rotation rot;
	struct why why = { "" };

	(void)state;
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -ENOENT);
	assert_non_null(strstr(why.msg, "no state file"));
	assert_int_equal(state_key_load(dir, back), -ENOENT);
	assert_int_equal(state_key_create(dir, key), 0);
	assert_int_equal(state_key_load(dir, back), 0);
	assert_memory_equal(key, back, 32);
	assert_int_equal(load(NULL, NULL, &why, NULL, NULL, NULL), -ENOENT);
	/* a state load would refuse is never saved */
	rot_sample(&rot, ROT_IDLE, 2, two);
	assert_int_equal(state_save(dir, key, false, reg, &rot, revision, &x),
			 -EINVAL);
	assert_int_equal(entries(), 1);
	rot_cleanup(&rot);
	registry_free(reg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_round_trip),   T(test_round_trip_machine),
		T(test_no_plaintext), T(test_bit_flips),
		T(test_truncation),   T(test_wrong_key),
		T(test_autolock),     T(test_rekey_default),
		T(test_rekey_crash),  T(test_rekey_autolock),
		T(test_first_start),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
