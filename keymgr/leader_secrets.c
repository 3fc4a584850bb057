// SPDX-License-Identifier: MIT
/* vxsec-keymgr: the join token and the state key, shown and rotated (saved before they change). */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/pki.h"
#include "leader_int.h"

int leader_token_text(struct leader *l, char *out, size_t len)
{
	struct join_token t;
	int err;

	if (pki_cert_digest(l->ca, t.ca_digest))
		return -EIO;
	memcpy(t.secret, l->extra.token_secret, sizeof(t.secret));
	err = token_format(&t, out, len);
	token_wipe(&t);
	return err;
}

int leader_token_rotate(struct leader *l)
{
	uint8_t old[sizeof(l->extra.token_secret)];
	int err;

	memcpy(old, l->extra.token_secret, sizeof(old));
	randombytes_buf(l->extra.token_secret, sizeof(old));
	err = leader_persist(l);
	if (err) /* the old token stays valid: nothing changed on disk */
		memcpy(l->extra.token_secret, old, sizeof(old));
	sodium_memzero(old, sizeof(old));
	return err;
}

int leader_unlock_rotate(struct leader *l, char *text, size_t len, char *why,
			 size_t whylen)
{
	uint8_t *key = sodium_malloc(STATE_KEY_LEN);
	int err = key ? leader_persist(l) : -ENOMEM;

	if (!err) {
		randombytes_buf(key, STATE_KEY_LEN);
		err = state_rekey(l->cfg.state_dir, l->state_key, key,
				  l->autolock, why, whylen);
	} else {
		snprintf(why, whylen, "cannot save the state: %s",
			 strerror(-err));
	}
	if (!err) {
		memcpy(l->state_key, key, STATE_KEY_LEN);
		if (l->autolock)
			err = state_unlock_format(key, text, len);
		else
			snprintf(text, len, "the new state key is in %s/%s",
				 l->cfg.state_dir, STATE_KEY_FILE);
	}
	sodium_free(key);
	return err;
}
