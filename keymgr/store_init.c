// SPDX-License-Identifier: MIT
/* vxsec-keymgr: a new cluster in a state directory that holds none of the leader's files (init, first run); a crash's temporary files wiped. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic.h"
#include "common/log.h"
#include "common/pki.h"
#include "common/token.h"
#include "store.h"

#define CA_FILE "ca.pem"
#define LISTEN_FILE "listen"

/* Every file a leader keeps in its state directory. */
static const char *const leader_files[] = { STATE_FILE, STATE_KEY_FILE,
					    STATE_KEY_NEW_FILE, CA_FILE,
					    LISTEN_FILE };
#define N_FILES (sizeof(leader_files) / sizeof(leader_files[0]))

static void epoch_random(uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static void path_of(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

int store_clean_temp(const char *dir, struct why *why)
{
	int n = atomic_clean(dir);

	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		why_set(why, "cannot remove the temporary files in %s: %s", dir,
			strerror(-n));
		return n;
	}
	if (n)
		log_info("removed %d temporary files a crash left in %s "
			 "(wiped: they held old copies of the state)",
			 n, dir);
	return 0;
}

/*
 * 0 if the directory holds none of the leader's files; else -EEXIST and
 * which are there and which are missing: a new cluster would replace the
 * CA every node certificate is checked against, and the state key.
 */
static int dir_check(const char *dir, struct why *why)
{
	char p[PATH_MAX + 16], have[160] = "";
	struct stat st;
	size_t off = 0;

	for (size_t i = 0; i < N_FILES; i++) {
		path_of(p, sizeof(p), dir, leader_files[i]);
		if (lstat(p, &st) == 0 && off < sizeof(have))
			off += (size_t)snprintf(have + off, sizeof(have) - off,
						"%s%s", off ? ", " : "",
						leader_files[i]);
	}
	if (!off)
		return 0;
	path_of(p, sizeof(p), dir, STATE_FILE);
	if (lstat(p, &st) == 0)
		why_set(why,
			"%s already holds a cluster state: refusing to "
			"create a new cluster over it",
			dir);
	else
		why_set(why,
			"%s has no state file but holds %s of a cluster: "
			"refusing to create a new cluster over them (its "
			"CA would replace the one every node certificate "
			"is checked against). Put the state file back "
			"(from a backup), or move the directory away to "
			"start a new cluster",
			dir, have);
	return -EEXIST;
}

/* After a failed init: what it created goes, the directory is as before. */
static void undo_init(const char *dir)
{
	char p[PATH_MAX + 16];

	for (size_t i = 0; i < N_FILES; i++) {
		path_of(p, sizeof(p), dir, leader_files[i]);
		unlink(p);
	}
}

/* The CA of a new cluster: its key into x, its certificate to ca.pem. */
static int new_ca(const char *dir, struct state_extra *x,
		  uint8_t digest[PKI_DIGEST_LEN], struct why *why)
{
	EVP_PKEY *key = pki_key_new();
	X509 *ca = key ? pki_ca_new(key, "vxsec", PKI_CA_DAYS) : NULL;
	char p[PATH_MAX + 16];
	int err = -EIO;

	path_of(p, sizeof(p), dir, CA_FILE);
	if (ca && (x->ca_key_pem = pki_key_to_pem(key, &x->ca_key_pem_len)) &&
	    !pki_cert_digest(ca, digest))
		err = pki_cert_save(p, ca);
	if (err)
		why_set(why, "cannot create the cluster CA in %s: %s", dir,
			strerror(-err));
	X509_free(ca);
	EVP_PKEY_free(key);
	return err;
}

/* The join token of a new cluster, as text. */
static int token_of(const uint8_t digest[PKI_DIGEST_LEN],
		    const struct state_extra *x, char *out, size_t len)
{
	struct join_token t;
	int err;

	memcpy(t.ca_digest, digest, sizeof(t.ca_digest));
	memcpy(t.secret, x->token_secret, sizeof(t.secret));
	err = token_format(&t, out, len);
	token_wipe(&t);
	return err;
}

/* The directory exists, holds no temporary file and none of ours. */
static int dir_ready(const char *dir, struct why *why)
{
	if (mkdir(dir, 0700) && errno != EEXIST) {
		int err = -errno;

		why_set(why, "cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	return store_clean_temp(dir, why) ?: dir_check(dir, why);
}

/* The CA, token, key and state of a new cluster, into a ready directory. */
static int create(const char *dir, bool autolock, struct cluster *c,
		  uint8_t *key, char *token_text, size_t token_len,
		  char *unlock_text, size_t unlock_len, struct why *why)
{
	uint8_t digest[PKI_DIGEST_LEN];
	struct state_extra x = { 0 };
	int err;

	randombytes_buf(x.token_secret, sizeof(x.token_secret));
	err = new_ca(dir, &x, digest, why);
	if (!err && token_text)
		err = token_of(digest, &x, token_text, token_len);
	if (!err && autolock) {
		randombytes_buf(key, STATE_KEY_LEN);
		err = state_unlock_format(key, unlock_text, unlock_len);
	} else if (!err && (err = state_key_create(dir, key))) {
		why_set(why, "cannot write %s/%s: %s", dir, STATE_KEY_FILE,
			strerror(-err));
	}
	if (!err &&
	    (err = state_save(dir, key, autolock, cluster_registry(c),
			      cluster_rotation(c), cluster_revision(c), &x)))
		why_set(why, "cannot write the state in %s: %s", dir,
			strerror(-err));
	state_extra_wipe(&x);
	return err;
}

/*
 * Made by root in a directory another user owns (the packages make it
 * for the service's user): the new files go to that user, who runs the
 * leader; they would stay root's and unreadable to it otherwise.
 */
static int give_to_owner(const char *dir, struct why *why)
{
	static const char *const files[] = { "ca.pem", STATE_FILE,
					     STATE_KEY_FILE };
	char p[PATH_MAX];
	struct stat st;

	if (geteuid() != 0 || stat(dir, &st) || st.st_uid == 0)
		return 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		if (lchown(p, st.st_uid, st.st_gid) && errno != ENOENT) {
			int err = -errno;

			why_set(why,
				"cannot give %s to uid %u, the owner of %s: %s",
				p, (unsigned)st.st_uid, dir, strerror(-err));
			return err;
		}
	}
	return 0;
}

int store_create(const char *dir, bool autolock, char *token_text,
		 size_t token_len, char *unlock_text, size_t unlock_len,
		 struct why *why)
{
	uint8_t *key = sodium_malloc(STATE_KEY_LEN);
	struct cluster c;
	int err;

	if (!key ||
	    cluster_init(&c, &(struct rot_config){ 0 }, epoch_random, NULL)) {
		sodium_free(key);
		why_set(why, "out of memory");
		return -ENOMEM;
	}
	why->msg[0] = '\0';
	err = dir_ready(dir, why);
	if (!err) {
		err = create(dir, autolock, &c, key, token_text, token_len,
			     unlock_text, unlock_len, why);
		if (!err)
			err = give_to_owner(dir, why);
		if (err) /* the directory held none of these before */
			undo_init(dir);
	}
	if (err && !why->msg[0])
		why_set(why, "cannot create a new cluster in %s: %s", dir,
			strerror(-err));
	cluster_cleanup(&c);
	sodium_free(key);
	return err;
}
