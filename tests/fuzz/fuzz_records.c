// SPDX-License-Identifier: MIT
/* Fuzz target: etcd records opened and decoded; what decodes encodes back to the same records. */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "keymgr/records.h"
#include "tests/fuzz/fuzz.h"

/*
 * Input: a flags byte (bit 0: the values are sealed under the key below,
 * else they are plaintexts), then records until the input ends: u8 name
 * length, the name, u16 value length (big-endian), the value.
 */
#define FLAG_SEALED 0x01

static const uint8_t fuzz_key[STATE_KEY_LEN] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};
static const struct rot_config cfg = { 1000, 100, 10 };

struct loaded {
	struct registry *reg;
	struct rotation rot;
	uint64_t revision;
	struct state_extra x;
	char *cert;
	size_t cert_len;
	bool autolock;
};

/* A refusal says why, naming the record, and keeps nothing (records.h). */
static void check_refusal(const struct loaded *l, int err, const char *why)
{
	static const struct state_extra zero;

	if (err != -EBADMSG && err != -EPROTONOSUPPORT && err != -ENOMEM)
		abort();
	if (strncmp(why, "record", 6) != 0)
		abort();
	if (!sodium_is_zero((const unsigned char *)l->rot.gens,
			    sizeof(l->rot.gens)) ||
	    l->rot.n_gens || l->revision || l->cert || l->cert_len ||
	    l->autolock || memcmp(&l->x, &zero, sizeof(zero)) != 0)
		abort();
}

static int load(struct loaded *l, const struct record_set *in)
{
	struct why why = { "" };
	int err;

	memset(l, 0, sizeof(*l));
	l->reg = registry_new();
	if (!l->reg)
		abort();
	rot_init(&l->rot, &cfg, NULL, NULL);
	err = records_decode(in, l->reg, &l->rot, &l->revision, &l->x, &l->cert,
			     &l->cert_len, &l->autolock, &why);
	if (err)
		check_refusal(l, err, why.msg);
	else if (!l->cert || strlen(l->cert) != l->cert_len)
		abort();
	return err;
}

static void unload(struct loaded *l)
{
	registry_free(l->reg);
	rot_cleanup(&l->rot);
	state_extra_wipe(&l->x);
	free(l->cert);
}

static void encode(struct loaded *l, struct record_set *out)
{
	if (records_encode(l->reg, &l->rot, l->revision, &l->x, l->cert,
			   l->cert_len, l->autolock, out))
		abort(); /* we would refuse to write what we read */
}

/* The same records, but a node written connected comes back disconnected. */
static void same_records(const struct record_set *a, const struct record_set *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		const struct record *x = &a->v[i], *y = &b->v[i];
		bool node = !strncmp(x->name, "node/", 5);

		if (strcmp(x->name, y->name) || x->len != y->len)
			abort();
		for (size_t k = 0; k < x->len; k++)
			if (x->plain[k] != y->plain[k] &&
			    (!node || x->plain[k] != NODE_CONNECTED ||
			     y->plain[k] != NODE_DISCONNECTED))
				abort();
	}
}

static int no_change(void *arg, const char *name, const struct record *rec)
{
	(void)arg;
	(void)name;
	(void)rec;
	abort();
}

/* Decoded, encoded: the records given; decoded and encoded again: same. */
static void roundtrip(const struct record_set *in)
{
	struct record_set out = { 0 }, again = { 0 };
	struct record_sums sums = { 0 };
	struct loaded l, l2;

	if (load(&l, in))
		goto out;
	encode(&l, &out);
	same_records(in, &out);
	if (load(&l2, &out))
		abort();
	encode(&l2, &again);
	if (record_sums_take(&sums, &out))
		abort();
	if (records_diff(&sums, &again, no_change, NULL))
		abort();
	unload(&l2);
out:
	unload(&l);
	record_sums_clear(&sums);
	record_set_clear(&out);
	record_set_clear(&again);
}

/*
 * One sealed value opened as name, by records_open() and by
 * records_open_add() into s: the same verdict, the same plaintext; a
 * refusal says why and hands out nothing.
 */
static void open_one(struct record_set *s, const char *name, const uint8_t *val,
		     size_t len)
{
	struct why why = { "" }, why_add = { "" };
	const struct record *r;
	uint8_t *plain;
	size_t n, before = s->n;
	int err = records_open(fuzz_key, name, val, len, &plain, &n, &why);

	if (records_open_add(fuzz_key, name, val, len, s, &why_add) != err)
		abort();
	if (err) {
		if ((err != -EBADMSG && err != -EKEYREJECTED &&
		     err != -EINVAL && err != -ENOMEM) ||
		    !why.msg[0] || strcmp(why.msg, why_add.msg) || plain || n ||
		    s->n != before)
			abort();
		return;
	}
	r = record_set_find(s, name);
	if (n != len - RECORD_SEAL_OVERHEAD || plain[n] != 0 || !r ||
	    r->len != n || r->plain[n] != 0 || memcmp(r->plain, plain, n) ||
	    r->secret != record_name_secret(name))
		abort();
	sodium_free(plain);
}

/* A plaintext sealed opens as itself, and not as another record. */
static void add_plain(struct record_set *s, const char *name,
		      const uint8_t *val, size_t len)
{
	const char *other = strcmp(name, "moved") ? "moved" : "moved-too";
	uint8_t *sealed, *plain;
	size_t slen, n;

	if (record_set_add(s, name, val, len))
		return; /* a name it refuses: decode never sees it */
	if (records_seal(fuzz_key, name, val, len, &sealed, &slen) ||
	    records_open(fuzz_key, name, sealed, slen, &plain, &n, NULL) ||
	    n != len || (len && memcmp(plain, val, len)))
		abort();
	sodium_free(plain);
	if (records_open(fuzz_key, other, sealed, slen, &plain, &n, NULL) !=
	    -EBADMSG)
		abort();
	free(sealed);
}

int fuzz_records(const uint8_t *data, size_t size)
{
	struct record_set in = { 0 };
	char name[RECORD_NAME_MAX];
	size_t off = 1, n, len;

	if (sodium_init() < 0)
		abort();
	while (size && off < size) {
		n = data[off++];
		if (n > size - off || 2 > size - off - n)
			break;
		memcpy(name, data + off, n < sizeof(name) ? n : 0);
		name[n < sizeof(name) ? n : 0] = '\0';
		off += n;
		len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			break;
		if (data[0] & FLAG_SEALED)
			open_one(&in, name, data + off, len);
		else
			add_plain(&in, name, data + off, len);
		off += len;
	}
	roundtrip(&in);
	record_set_clear(&in);
	return 0;
}
