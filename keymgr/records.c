// SPDX-License-Identifier: MIT
/* keymgr records: the sorted record set, sealing one record, and what changed since the last write. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/why.h"
#include "records.h"
#include "state_int.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define NONCE_OFF STATE_KEY_ID_LEN
#define HDR_LEN (STATE_KEY_ID_LEN + NONCE_LEN)
#define AD_MAX (STATE_KEY_ID_LEN + RECORD_NAME_MAX)

_Static_assert(HDR_LEN + TAG_LEN == RECORD_SEAL_OVERHEAD,
	       "RECORD_SEAL_OVERHEAD is the key id, nonce and tag");

/* ---- the set ---- */

static bool name_ok(const char *name)
{
	size_t n = strnlen(name, RECORD_NAME_MAX);

	return n && n < RECORD_NAME_MAX;
}

bool record_name_secret(const char *name)
{
	return strcmp(name, "meta") != 0 &&
	       strncmp(name, "node/", strlen("node/")) != 0;
}

/* len + 1 bytes: locked and guarded for a secret, else from the heap. */
static uint8_t *plain_alloc(size_t len, bool secret)
{
	return secret ? sodium_malloc(len + 1) : malloc(len + 1);
}

/* Wiped either way (sodium_free wipes). NULL-safe. */
static void plain_free(uint8_t *p, size_t len, bool secret)
{
	if (!p)
		return;
	if (secret) {
		sodium_free(p);
		return;
	}
	sodium_memzero(p, len + 1);
	free(p);
}

void record_set_clear(struct record_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		plain_free(s->v[i].plain, s->v[i].len, s->v[i].secret);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Where name is in s (*found) or would go. */
static size_t set_pos(const struct record_set *s, const char *name, bool *found)
{
	size_t lo = 0, hi = s->n, mid;
	int c;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(s->v[mid].name, name);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct record *record_set_find(const struct record_set *s,
				     const char *name)
{
	bool found;
	size_t at = set_pos(s, name, &found);

	return found ? &s->v[at] : NULL;
}

bool record_set_remove(struct record_set *s, const char *name)
{
	bool found;
	size_t at = set_pos(s, name, &found);

	if (!found)
		return false;
	plain_free(s->v[at].plain, s->v[at].len, s->v[at].secret);
	memmove(&s->v[at], &s->v[at + 1], (s->n - at - 1) * sizeof(s->v[0]));
	s->n--;
	return true;
}

/* BLAKE2b-128 of the name, its NUL, and the plaintext. */
static void record_sum(const char *name, const uint8_t *plain, size_t len,
		       uint8_t sum[RECORD_SUM_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, RECORD_SUM_LEN);
	crypto_generichash_update(&st, (const uint8_t *)name, strlen(name) + 1);
	crypto_generichash_update(&st, plain, len);
	crypto_generichash_final(&st, sum, RECORD_SUM_LEN);
	sodium_memzero(&st, sizeof(st));
}

/* Room for one more: the array holds names, pointers and sums, no secret. */
static int set_grow(struct record_set *s)
{
	struct record *v;
	size_t cap;

	if (s->n < s->cap)
		return 0;
	cap = s->cap ? s->cap * 2 : 16;
	v = realloc(s->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	s->cap = cap;
	return 0;
}

/* plain (len + 1 bytes, its own) into s as name, sorted; freed on error. */
static int set_insert(struct record_set *s, const char *name, uint8_t *plain,
		      size_t len, bool secret)
{
	struct record r = { .plain = plain, .len = len, .secret = secret };
	bool found;
	size_t at;

	if (set_grow(s)) {
		plain_free(plain, len, secret);
		return -ENOMEM;
	}
	plain[len] = 0;
	memcpy(r.name, name, strlen(name) + 1);
	record_sum(name, plain, len, r.sum);
	at = set_pos(s, name, &found);
	if (found) {
		plain_free(s->v[at].plain, s->v[at].len, s->v[at].secret);
	} else {
		memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
		s->n++;
	}
	s->v[at] = r;
	return 0;
}

int record_set_add(struct record_set *s, const char *name, const uint8_t *plain,
		   size_t len)
{
	bool secret;
	uint8_t *p;

	if (!name_ok(name))
		return -EINVAL;
	if (len > RECORD_PLAIN_MAX)
		return -EMSGSIZE;
	secret = record_name_secret(name);
	p = plain_alloc(len, secret);
	if (!p)
		return -ENOMEM;
	if (len)
		memcpy(p, plain, len);
	return set_insert(s, name, p, len, secret);
}

/* ---- sealing ---- */

/* The associated data: the key id, then the name without its NUL. */
static size_t seal_ad(const uint8_t *id, const char *name, uint8_t ad[AD_MAX])
{
	size_t n = strlen(name);

	memcpy(ad, id, STATE_KEY_ID_LEN);
	memcpy(ad + STATE_KEY_ID_LEN, name, n + 1); /* the NUL is not AD */
	return STATE_KEY_ID_LEN + n;
}

int records_seal(const uint8_t key[STATE_KEY_LEN], const char *name,
		 const uint8_t *plain, size_t len, uint8_t **out,
		 size_t *out_len)
{
	static const uint8_t none;
	uint8_t ad[AD_MAX], *v;
	size_t ad_len;

	if (!name_ok(name))
		return -EINVAL;
	if (len > RECORD_PLAIN_MAX)
		return -EMSGSIZE;
	v = malloc(len + RECORD_SEAL_OVERHEAD);
	if (!v)
		return -ENOMEM;
	state_key_id(key, v);
	randombytes_buf(v + NONCE_OFF, NONCE_LEN);
	ad_len = seal_ad(v, name, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		v + HDR_LEN, NULL, len ? plain : &none, len, ad, ad_len, NULL,
		v + NONCE_OFF, key);
	*out = v;
	*out_len = len + RECORD_SEAL_OVERHEAD;
	return 0;
}

/* A sealed value's size and key id: the plaintext's length, or -errno. */
static ssize_t open_check(const uint8_t key[STATE_KEY_LEN], const char *name,
			  const uint8_t *val, size_t len, struct why *why)
{
	uint8_t id[STATE_KEY_ID_LEN];

	if (!name_ok(name))
		return why_fail(why, -EINVAL, "not a record name");
	if (len < RECORD_SEAL_OVERHEAD ||
	    len - RECORD_SEAL_OVERHEAD > RECORD_PLAIN_MAX)
		return why_fail(why, -EBADMSG,
				"sealed value of %zu bytes (want %d to %d)",
				len, RECORD_SEAL_OVERHEAD,
				RECORD_SEAL_OVERHEAD + RECORD_PLAIN_MAX);
	state_key_id(key, id);
	if (memcmp(id, val, STATE_KEY_ID_LEN) != 0)
		return why_fail(why, -EKEYREJECTED,
				"sealed under another state key");
	return (ssize_t)(len - RECORD_SEAL_OVERHEAD);
}

/* Decrypts a value open_check() passed into out (its length + 1 bytes). */
static int open_into(const uint8_t key[STATE_KEY_LEN], const char *name,
		     const uint8_t *val, size_t len, uint8_t *out,
		     struct why *why)
{
	uint8_t ad[AD_MAX];
	size_t ad_len = seal_ad(val, name, ad);

	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    out, NULL, NULL, val + HDR_LEN, len - HDR_LEN, ad, ad_len,
		    val + NONCE_OFF, key))
		return why_fail(why, -EBADMSG,
				"authentication failed (modified, or sealed "
				"as another record)");
	out[len - RECORD_SEAL_OVERHEAD] = 0;
	return 0;
}

int records_open(const uint8_t key[STATE_KEY_LEN], const char *name,
		 const uint8_t *val, size_t len, uint8_t **plain,
		 size_t *plain_len, struct why *why)
{
	ssize_t n = open_check(key, name, val, len, why);
	uint8_t *p;
	int err;

	*plain = NULL;
	*plain_len = 0;
	if (n < 0)
		return (int)n;
	p = sodium_malloc((size_t)n + 1);
	if (!p)
		return why_fail(why, -ENOMEM, "out of memory");
	err = open_into(key, name, val, len, p, why);
	if (err) {
		sodium_free(p);
		return err;
	}
	*plain = p;
	*plain_len = (size_t)n;
	return 0;
}

int records_open_add(const uint8_t key[STATE_KEY_LEN], const char *name,
		     const uint8_t *val, size_t len, struct record_set *s,
		     struct why *why)
{
	ssize_t n = open_check(key, name, val, len, why);
	bool secret;
	uint8_t *p;
	int err;

	if (n < 0)
		return (int)n;
	secret = record_name_secret(name);
	p = plain_alloc((size_t)n, secret);
	if (!p)
		return why_fail(why, -ENOMEM, "out of memory");
	err = open_into(key, name, val, len, p, why);
	if (!err)
		err = set_insert(s, name, p, (size_t)n, secret);
	else
		plain_free(p, (size_t)n, secret);
	if (err == -ENOMEM)
		why_set(why, "out of memory");
	return err;
}

/* ---- what changed ---- */

int records_diff(const struct record_sums *old, const struct record_set *now,
		 int (*cb)(void *arg, const char *name,
			   const struct record *rec),
		 void *arg)
{
	size_t i = 0, j = 0;
	int c, err = 0;

	while (!err && (i < old->n || j < now->n)) {
		if (i == old->n)
			c = 1;
		else if (j == now->n)
			c = -1;
		else
			c = strcmp(old->v[i].name, now->v[j].name);
		if (c < 0) {
			err = cb(arg, old->v[i].name, NULL);
			i++;
			continue;
		}
		if (c > 0 ||
		    memcmp(old->v[i].sum, now->v[j].sum, RECORD_SUM_LEN) != 0)
			err = cb(arg, now->v[j].name, &now->v[j]);
		i += c == 0;
		j++;
	}
	return err;
}

int record_sums_take(struct record_sums *s, const struct record_set *now)
{
	struct record_sum *v;

	if (now->n > s->cap) {
		v = malloc(now->n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		free(s->v);
		s->v = v;
		s->cap = now->n;
	}
	for (size_t i = 0; i < now->n; i++) {
		memcpy(s->v[i].name, now->v[i].name, RECORD_NAME_MAX);
		memcpy(s->v[i].sum, now->v[i].sum, RECORD_SUM_LEN);
	}
	s->n = now->n;
	return 0;
}

void record_sums_clear(struct record_sums *s)
{
	if (!s)
		return;
	free(s->v);
	memset(s, 0, sizeof(*s));
}
