// SPDX-License-Identifier: MIT
/* agent static_key: the node's X25519 keys across restarts, changes and retirements. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/atomic.h"
#include "static_key.h"

#define VERSION 1
#define KEY_REC (8 + 4 + 1 + PAIRKEY_PRIV_LEN)
#define SUM_LEN 16

static const uint8_t magic[4] = { 'V', 'X', 'S', 'K' };

static uint8_t *put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
	return p + bytes;
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

static void drop(struct static_key *k)
{
	pairkey_free(k->k);
	memset(k, 0, sizeof(*k));
}

void static_keys_close(struct static_keys *sk)
{
	for (size_t i = 0; i < sk->n; i++)
		drop(&sk->key[i]);
	sk->n = 0;
}

size_t static_keys_encode(const struct static_keys *sk,
			  uint8_t out[STATIC_KEY_FILE_MAX])
{
	uint8_t *p = out;

	memcpy(p, magic, sizeof(magic));
	p[4] = VERSION;
	memcpy(p + 5, sk->boot_id, STATIC_KEY_BOOT_ID_LEN);
	p += 5 + STATIC_KEY_BOOT_ID_LEN;
	*p++ = (uint8_t)sk->n;
	for (size_t i = 0; i < sk->n; i++) {
		const struct static_key *k = &sk->key[i];

		p = put_be(p, k->created_ms, 8);
		p = put_be(p, k->from, 4);
		*p++ = k->bound;
		if (pairkey_private(k->k, p))
			return 0;
		p += PAIRKEY_PRIV_LEN;
	}
	crypto_generichash(p, SUM_LEN, out, (size_t)(p - out), NULL, 0);
	return (size_t)(p - out) + SUM_LEN;
}

/* Bound keys in order of generation; at most one unbound, the newest. */
static int order_check(const struct static_keys *sk, struct why *why)
{
	for (size_t i = 0; i < sk->n; i++) {
		const struct static_key *k = &sk->key[i];

		if (!k->bound && i + 1 != sk->n)
			return why_fail(why, -EINVAL,
					"key %zu waits for its generation but "
					"is not the newest",
					i + 1);
		if (i && k->bound && k->from < sk->key[i - 1].from)
			return why_fail(why, -EINVAL,
					"key %zu is used from generation %u, "
					"before key %zu (%u)",
					i + 1, k->from, i, sk->key[i - 1].from);
	}
	return 0;
}

static int decode_keys(struct static_keys *sk, const uint8_t *p, size_t n,
		       struct why *why)
{
	for (size_t i = 0; i < n; i++, p += KEY_REC) {
		struct static_key *k = &sk->key[i];

		k->created_ms = get_be(p, 8);
		k->from = (uint32_t)get_be(p + 8, 4);
		if (p[12] > 1)
			return why_fail(why, -EINVAL, "key %zu: bad flag %u",
					i + 1, p[12]);
		k->bound = p[12];
		k->k = pairkey_from_private(p + 13);
		sk->n = i + 1;
		if (!k->k)
			return why_fail(why, -EINVAL,
					"key %zu is not an X25519 key", i + 1);
	}
	return order_check(sk, why);
}

int static_keys_decode(struct static_keys *sk, const uint8_t *buf, size_t len,
		       struct why *why)
{
	uint8_t sum[SUM_LEN];
	size_t n;
	int err;

	memset(sk, 0, sizeof(*sk));
	if (len < 5 + STATIC_KEY_BOOT_ID_LEN + 1 + SUM_LEN ||
	    memcmp(buf, magic, sizeof(magic)) != 0)
		return why_fail(why, -EINVAL, "not a vxsec static key file");
	if (buf[4] != VERSION)
		return why_fail(why, -EINVAL, "format %u, this agent reads %u",
				buf[4], VERSION);
	n = buf[5 + STATIC_KEY_BOOT_ID_LEN];
	if (n < 1 || n > STATIC_KEYS_MAX)
		return why_fail(why, -EINVAL, "%zu keys (1 to %d)", n,
				STATIC_KEYS_MAX);
	if (len != 5 + STATIC_KEY_BOOT_ID_LEN + 1 + n * KEY_REC + SUM_LEN)
		return why_fail(why, -EINVAL, "%zu bytes for %zu keys", len, n);
	crypto_generichash(sum, SUM_LEN, buf, len - SUM_LEN, NULL, 0);
	if (sodium_memcmp(sum, buf + len - SUM_LEN, SUM_LEN) != 0)
		return why_fail(why, -EINVAL, "checksum does not match");
	memcpy(sk->boot_id, buf + 5, STATIC_KEY_BOOT_ID_LEN);
	err = decode_keys(sk, buf + 5 + STATIC_KEY_BOOT_ID_LEN + 1, n, why);
	if (err)
		static_keys_close(sk);
	return err;
}

static int path_of(char *path, const char *dir)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dir, STATIC_KEY_FILE);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int save(const struct static_keys *sk, const char *dir)
{
	char path[PATH_MAX];
	uint8_t *buf = sodium_malloc(STATIC_KEY_FILE_MAX);
	size_t len;
	int err = path_of(path, dir);

	if (!buf)
		return -ENOMEM;
	len = static_keys_encode(sk, buf);
	if (!err)
		err = len ? atomic_write(path, buf, len, 0600) : -EINVAL;
	sodium_free(buf); /* wipes */
	return err;
}

/* The file's bytes into buf (locked): its length, or -errno. */
static ssize_t load(const char *dir, uint8_t *buf)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, err = path_of(path, dir);

	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, STATIC_KEY_FILE_MAX);
	err = n < 0 ? -errno : 0;
	if (!err && n == STATIC_KEY_FILE_MAX && read(fd, buf, 1) > 0)
		n = STATIC_KEY_FILE_MAX + 1; /* too long: refused on decode */
	close(fd);
	return err ? err : n;
}

static int add_key(struct static_keys *sk, uint64_t now_ms, bool bound)
{
	struct static_key *k = &sk->key[sk->n];

	if (sk->n == STATIC_KEYS_MAX)
		return -ENOSPC;
	k->k = pairkey_generate();
	if (!k->k)
		return -ENOMEM;
	k->created_ms = now_ms;
	k->from = 0;
	k->bound = bound;
	sk->n++;
	return 0;
}

static int fresh_key(struct static_keys *sk, const char *dir,
		     const uint8_t boot_id[STATIC_KEY_BOOT_ID_LEN],
		     uint64_t now_ms, struct why *why)
{
	int err;

	static_keys_close(sk);
	memcpy(sk->boot_id, boot_id, STATIC_KEY_BOOT_ID_LEN);
	err = add_key(sk, now_ms, true);
	if (err)
		return why_fail(why, err, "cannot make an X25519 key");
	err = save(sk, dir);
	if (err) {
		static_keys_close(sk);
		return why_fail(why, err, "cannot write %s/%s: %s", dir,
				STATIC_KEY_FILE, strerror(-err));
	}
	return 0;
}

int static_keys_open(struct static_keys *sk, const char *dir,
		     const uint8_t boot_id[STATIC_KEY_BOOT_ID_LEN],
		     uint64_t now_ms, bool *fresh, struct why *why)
{
	uint8_t *buf = sodium_malloc(STATIC_KEY_FILE_MAX + 1);
	ssize_t len;
	int err = 0;

	memset(sk, 0, sizeof(*sk));
	if (!buf)
		return why_fail(why, -ENOMEM, "out of memory");
	len = load(dir, buf);
	why_set(why, "no %s yet", STATIC_KEY_FILE);
	if (len >= 0)
		err = static_keys_decode(sk, buf, (size_t)len, why);
	else if (len != -ENOENT)
		why_set(why, "cannot read %s/%s: %s", dir, STATIC_KEY_FILE,
			strerror((int)-len));
	sodium_free(buf);
	if (len >= 0 && !err &&
	    memcmp(sk->boot_id, boot_id, STATIC_KEY_BOOT_ID_LEN) == 0) {
		*fresh = false;
		return 0;
	}
	if (len >= 0 && !err)
		why_set(why, "the keys in %s are of another boot",
			STATIC_KEY_FILE);
	*fresh = true;
	return fresh_key(sk, dir, boot_id, now_ms, why);
}

const struct static_key *static_keys_newest(const struct static_keys *sk)
{
	return sk->n ? &sk->key[sk->n - 1] : NULL;
}

int static_keys_renew(struct static_keys *sk, const char *dir, uint64_t now_ms,
		      uint64_t lifetime_ms)
{
	const struct static_key *k = static_keys_newest(sk);
	int err;

	if (!k || !k->bound || sk->n == STATIC_KEYS_MAX ||
	    now_ms < k->created_ms + lifetime_ms)
		return 0;
	err = add_key(sk, now_ms, false);
	if (!err && (err = save(sk, dir)))
		drop(&sk->key[--sk->n]);
	return err ? err : 1;
}

int static_keys_bind(struct static_keys *sk, const char *dir,
		     const uint8_t pub[PAIRKEY_PUB_LEN], uint32_t from)
{
	struct static_key *k = NULL;
	size_t i;
	int err;

	for (i = 0; i < sk->n && !k; i++)
		if (sodium_memcmp(pairkey_public(sk->key[i].k), pub,
				  PAIRKEY_PUB_LEN) == 0)
			k = &sk->key[i];
	if (!k)
		return -ENOENT;
	if (k->bound)
		return k->from == from ? 0 : -EINVAL;
	/* Unbound: the newest; the one before must be used before it. */
	if (i >= 2 && sk->key[i - 2].from > from)
		return -EINVAL;
	k->bound = true;
	k->from = from;
	err = save(sk, dir);
	if (err)
		k->bound = false;
	return err;
}

int static_keys_restart(struct static_keys *sk, const char *dir,
			const uint8_t pub[PAIRKEY_PUB_LEN])
{
	struct static_key keep[STATIC_KEYS_MAX];
	size_t n = 0, i;
	bool found = false, changed = false;

	for (i = 0; i < sk->n && !found; i++)
		found = sodium_memcmp(pairkey_public(sk->key[i].k), pub,
				      PAIRKEY_PUB_LEN) == 0;
	if (!found)
		return -ENOENT;
	for (i = 0; i < sk->n; i++) {
		struct static_key *k = &sk->key[i];
		bool named = sodium_memcmp(pairkey_public(k->k), pub,
					   PAIRKEY_PUB_LEN) == 0;

		if (named) {
			changed |= !k->bound || k->from != 0;
			k->bound = true, k->from = 0;
		}
		if (named || (n && !k->bound)) { /* after the named one */
			keep[n++] = *k;
			continue;
		}
		changed = true;
		drop(k);
	}
	memcpy(sk->key, keep, n * sizeof(keep[0]));
	memset(&sk->key[n], 0, (STATIC_KEYS_MAX - n) * sizeof(keep[0]));
	sk->n = n;
	sodium_memzero(keep, sizeof(keep));
	return changed ? save(sk, dir) : 0;
}

const struct pairkey_static *static_keys_for(const struct static_keys *sk,
					     uint32_t g)
{
	const struct pairkey_static *best = NULL;

	for (size_t i = 0; i < sk->n; i++)
		if (sk->key[i].bound && sk->key[i].from <= g)
			best = sk->key[i].k;
	return best;
}

int static_keys_retire(struct static_keys *sk, const char *dir,
		       uint32_t oldest_live)
{
	size_t gone = 0;

	/* Key i is unused once key i + 1 serves every live generation. */
	while (gone + 1 < sk->n && sk->key[gone + 1].bound &&
	       sk->key[gone + 1].from <= oldest_live)
		gone++;
	if (!gone)
		return 0;
	for (size_t i = 0; i < gone; i++)
		drop(&sk->key[i]);
	memmove(&sk->key[0], &sk->key[gone],
		(sk->n - gone) * sizeof(sk->key[0]));
	memset(&sk->key[sk->n - gone], 0, gone * sizeof(sk->key[0]));
	sk->n -= gone;
	return save(sk, dir);
}
