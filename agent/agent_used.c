// SPDX-License-Identifier: MIT
/* vxsec-agent: what it keeps in its state directory: the digests of the keys it installed (per boot) and the revision the kernel holds. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd_int.h"
#include "common/atomic.h"

/*
 * used-keys: "VXUSED01", the boot id, the digest key, a little-endian
 * count, then the digests. A new boot id starts empty: after a reboot the
 * leader gives the node a new incarnation, so every key is new anyway.
 * Digests are SipHash-2-4 under a random key: nothing about a key can be
 * read from them.
 */
static const uint8_t MAGIC[8] = { 'V', 'X', 'U', 'S', 'E', 'D', '0', '1' };
#define HEAD (8 + WIRE_BOOT_ID_LEN + 16 + 4)
#define USED_MAX (1u << 22)

static void path(const struct agent *a, char *out, size_t len)
{
	snprintf(out, len, "%s/used-keys", a->cfg.state_dir);
}

static int parse(struct agent *a, const uint8_t *buf, size_t len)
{
	uint32_t n;

	if (len < HEAD || memcmp(buf, MAGIC, 8) != 0)
		return -EINVAL;
	if (memcmp(buf + 8, a->boot_id, WIRE_BOOT_ID_LEN) != 0)
		return 0; /* another boot: forget them */
	n = (uint32_t)buf[HEAD - 4] | (uint32_t)buf[HEAD - 3] << 8 |
	    (uint32_t)buf[HEAD - 2] << 16 | (uint32_t)buf[HEAD - 1] << 24;
	if (n > USED_MAX || len != HEAD + (size_t)n * RECONCILE_DIGEST)
		return -EINVAL;
	memcpy(a->rec.hash_key, buf + 8 + WIRE_BOOT_ID_LEN, 16);
	for (uint32_t i = 0; i < n; i++) {
		int err = reconciler_mark(
			&a->rec, buf + HEAD + (size_t)i * RECONCILE_DIGEST);
		if (err)
			return err;
	}
	return 0;
}

int agent_used_load(struct agent *a)
{
	char p[600];
	FILE *f;
	uint8_t *buf;
	long len;
	int err = -EINVAL;

	path(a, p, sizeof(p));
	f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) ||
	    (size_t)len > HEAD + (size_t)USED_MAX * RECONCILE_DIGEST) {
		fclose(f);
		return -EINVAL;
	}
	buf = malloc((size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len)
		err = parse(a, buf, (size_t)len);
	fclose(f);
	free(buf);
	return err;
}

int agent_used_save(struct agent *a)
{
	static const uint8_t empty[RECONCILE_DIGEST];
	size_t len = HEAD + a->rec.n_used * RECONCILE_DIGEST, n = 0;
	uint8_t *buf = malloc(len);
	char p[600];
	int err;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, MAGIC, 8);
	memcpy(buf + 8, a->boot_id, WIRE_BOOT_ID_LEN);
	memcpy(buf + 8 + WIRE_BOOT_ID_LEN, a->rec.hash_key, 16);
	for (size_t i = 0; i < a->rec.cap && n < a->rec.n_used; i++)
		if (memcmp(a->rec.used[i], empty, RECONCILE_DIGEST) != 0)
			memcpy(buf + HEAD + n++ * RECONCILE_DIGEST,
			       a->rec.used[i], RECONCILE_DIGEST);
	for (int i = 0; i < 4; i++)
		buf[HEAD - 4 + i] = (uint8_t)(n >> (8 * i));
	path(a, p, sizeof(p));
	err = atomic_write(p, buf, HEAD + n * RECONCILE_DIGEST, 0600);
	sodium_memzero(buf, len);
	free(buf);
	return err;
}

/*
 * revision: the last revision the kernel held and the leader was told,
 * and the leader term it came with, in decimal on one line ("812 7"; a
 * file of an older agent has the revision alone: term 0, and an older
 * agent reads the revision of ours). Every hello carries both, across
 * restarts and reboots: a leader whose state is older (a restored backup)
 * refuses the node instead of handing out keys it may have given before,
 * and the agent refuses a leader of an older term.
 */
void agent_rev_load(const struct agent *a, uint64_t *revision, uint64_t *term)
{
	char p[600], text[64] = "";
	unsigned long long v = 0, t = 0;
	FILE *f;

	*revision = *term = 0;
	snprintf(p, sizeof(p), "%s/revision", a->cfg.state_dir);
	f = fopen(p, "re");
	if (!f)
		return;
	if (fgets(text, sizeof(text), f) &&
	    sscanf(text, "%llu %llu", &v, &t) >= 1) {
		*revision = v;
		*term = t;
	}
	fclose(f);
}

int agent_rev_save(const struct agent *a, uint64_t revision, uint64_t term)
{
	char p[600], text[64];
	int n = snprintf(text, sizeof(text), "%llu %llu\n",
			 (unsigned long long)revision,
			 (unsigned long long)term);

	snprintf(p, sizeof(p), "%s/revision", a->cfg.state_dir);
	return atomic_write(p, text, (size_t)n, 0600);
}
