// SPDX-License-Identifier: MIT
/* Writes the seed corpus of the static key fuzzer: files of one to four keys, and damaged ones. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"
#include "agent/static_key.h"

#define SUM_LEN 16 /* static_key.h: BLAKE2b-128 at the end */
#define KEYS_AT (4 + 1 + STATIC_KEY_BOOT_ID_LEN + 1)
#define KEY_REC 45 /* created, from, bound, private key */

/* A damaged file whose checksum still matches: the checks behind it. */
static void write_summed(const char *name, uint8_t *buf, size_t len)
{
	crypto_generichash(buf + len - SUM_LEN, SUM_LEN, buf, len - SUM_LEN,
			   NULL, 0);
	seed_write(name, buf, len);
}

/* Key i: private bytes all 0x11 * (i + 1) (the same file every run). */
static void add(struct static_keys *sk, uint64_t created, uint32_t from,
		bool bound)
{
	uint8_t priv[PAIRKEY_PRIV_LEN];
	struct static_key *k = &sk->key[sk->n];

	memset(priv, 0x11 * (int)(sk->n + 1), sizeof(priv));
	k->k = pairkey_from_private(priv);
	if (!k->k)
		exit(1);
	k->created_ms = created;
	k->from = from;
	k->bound = bound;
	sk->n++;
}

static size_t put(const char *name, const struct static_keys *sk, uint8_t *buf)
{
	size_t len = static_keys_encode(sk, buf);

	if (!len)
		exit(1);
	seed_write(name, buf, len);
	return len;
}

/* Damaged copies of buf (len bytes, n keys). */
static void damaged(const uint8_t *buf, size_t len, size_t n)
{
	uint8_t b[STATIC_KEY_FILE_MAX + 1];

	memcpy(b, buf, len);
	b[len - 1] ^= 1;
	seed_write("bad-sum", b, len);
	seed_write("truncated", buf, len - 1);
	b[len - 1] ^= 1;
	b[len] = 0;
	seed_write("trailing", b, len + 1);
	b[KEYS_AT + 12] = 2; /* the first key's bound flag */
	write_summed("bad-flag", b, len);
	memcpy(b, buf, len);
	b[4] = 2;
	write_summed("version-2", b, len);
	b[4] = 1;
	b[KEYS_AT - 1] = (uint8_t)(n + 1);
	write_summed("count-too-high", b, len);
	b[KEYS_AT - 1] = 0;
	write_summed("no-keys", b, len);
	memcpy(b, buf, len);
	b[0] = 'X';
	seed_write("bad-magic", b, len);
}

int main(int argc, char **argv)
{
	struct static_keys sk = { .n = 0 };
	uint8_t buf[STATIC_KEY_FILE_MAX];
	size_t len;

	seed_dir_from(argc, argv);
	if (sodium_init() < 0)
		return 1;
	memset(sk.boot_id, 0xb0, sizeof(sk.boot_id));
	add(&sk, 1700000000000, 0, true);
	put("one", &sk, buf);
	add(&sk, 1700086400000, 0, false);
	len = put("two-pending", &sk, buf);
	damaged(buf, len, sk.n);
	sk.key[1].from = 2;
	sk.key[1].bound = true;
	put("two", &sk, buf);
	add(&sk, 1700172800000, 3, true);
	put("three", &sk, buf);
	add(&sk, 1700259200000, 0, false);
	put("four-pending", &sk, buf);
	sk.key[1].bound = false;
	put("unbound-not-newest", &sk, buf);
	sk.key[1].bound = true;
	sk.key[2].from = 1;
	put("from-backwards", &sk, buf);
	static_keys_close(&sk);
	return 0;
}
