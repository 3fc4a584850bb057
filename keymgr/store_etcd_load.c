// SPDX-License-Identifier: MIT
/* vxsec-keymgr store_etcd: reading every record at takeover — pages of one etcd revision, each record opened, a committed journal applied. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_kv.h"
#include "store_etcd_int.h"

#define LOAD_KEYS_MAX 4000000 /* ~ the registry's 16M indexes / 4: sane */
#define RANGE_BODY_MAX 1024

void se_load_clear(struct store_etcd *se)
{
	for (size_t i = 0; i < se->n_journal; i++)
		free(se->journal[i].val);
	free(se->journal);
	se->journal = NULL;
	se->n_journal = 0;
	se->marked = false;
	se->n_keys = 0;
	se->from_len = 0;
	se->at = 0;
}

static void load_end(struct store_etcd *se, int err, const struct why *why)
{
	se_load_clear(se);
	se->out = NULL;
	se->job = SE_IDLE;
	se_finish(se, err, why);
}

static void on_page(void *arg, int err, int status, const char *body,
		    size_t len, const struct why *w);

static int ask_page(struct store_etcd *se)
{
	char body[RANGE_BODY_MAX], end[ETCD_KEY_MAX];
	size_t plen = strlen(se->prefix), n;
	struct json_out o;
	int err;

	memcpy(end, se->prefix, plen);
	end[plen - 1]++;
	json_out_init(&o, body, sizeof(body));
	err = etcd_range_at_req(
		&o, (struct etcd_bytes){ (uint8_t *)se->from, se->from_len },
		(struct etcd_bytes){ (uint8_t *)end, plen }, STORE_ETCD_PAGE,
		se->at);
	if (!err)
		err = json_out_finish(&o, &n);
	return err ? err
		   : etcd_post(se->e, "/v3/kv/range", body, n, on_page, se);
}

static int opened(struct store_etcd *se, const char *name, const uint8_t *val,
		  size_t len, struct why *why)
{
	int err = records_open_add(se->key, name, val, len, se->out, why);
	struct why inner = *why; /* not formatted into itself */

	if (err && err != -ENOMEM)
		why_set(why, "etcd record %s%s: %s%s", se->prefix, name,
			inner.msg,
			err == -EKEYREJECTED
				? " (this instance's state key is not the "
				  "cluster's: copy it from an instance that "
				  "holds it)"
				: "");
	return err;
}

static int journal_add(struct store_etcd *se, const char *name,
		       const uint8_t *val, size_t len)
{
	size_t n = strlen(name);
	struct se_jentry *j;

	if (n >= sizeof(j->name))
		return -EBADMSG; /* the caller said so already */
	j = realloc(se->journal, (se->n_journal + 1) * sizeof(*j));
	if (!j)
		return -ENOMEM;
	se->journal = j;
	j = &se->journal[se->n_journal];
	memset(j, 0, sizeof(*j));
	memcpy(j->name, name, n + 1);
	j->len = len;
	if (len && !(j->val = malloc(len)))
		return -ENOMEM;
	if (len)
		memcpy(j->val, val, len);
	se->n_journal++;
	return 0;
}

struct page_ctx {
	struct store_etcd *se;
	struct why *why;
};

/* One key of a page: where it goes by its name under the prefix. */
static int one_key(void *arg, const struct etcd_kv *kv)
{
	struct page_ctx *c = arg;
	struct store_etcd *se = c->se;
	size_t plen = strlen(se->prefix), jl = strlen(SE_JOURNAL "/");
	char name[ETCD_KEY_MAX + 1];

	if (++se->n_keys > LOAD_KEYS_MAX)
		return why_fail(c->why, -EFBIG,
				"etcd holds more than %d keys under %s",
				LOAD_KEYS_MAX, se->prefix);
	if (kv->key.len <= plen || kv->key.len > ETCD_KEY_MAX ||
	    memcmp(kv->key.p, se->prefix, plen) != 0 ||
	    memchr(kv->key.p, '\0', kv->key.len))
		return why_fail(c->why, -EBADMSG,
				"etcd returned a key outside %s", se->prefix);
	memcpy(name, kv->key.p + plen, kv->key.len - plen);
	name[kv->key.len - plen] = '\0';
	memcpy(se->from, kv->key.p, kv->key.len); /* the next page: after it */
	se->from[kv->key.len] = '\0';
	se->from_len = kv->key.len + 1;
	if (strcmp(name, SE_LEADER) == 0)
		return 0;
	if (strcmp(name, SE_JOURNAL_MARK) == 0) {
		se->marked = true;
		return 0;
	}
	if (strncmp(name, SE_JOURNAL "/", jl) == 0) {
		if (strlen(name + jl) >= RECORD_NAME_MAX)
			return why_fail(c->why, -EBADMSG,
					"etcd: journal entry %s: name too "
					"long",
					name);
		return journal_add(se, name + jl, kv->value.p, kv->value.len);
	}
	if (strlen(name) >= RECORD_NAME_MAX)
		return why_fail(c->why, -EBADMSG,
				"etcd: %s%s is not a vxsec record", se->prefix,
				name);
	return opened(se, name, kv->value.p, kv->value.len, c->why);
}

/* The journal over the records: it is the state until applied. */
static int apply_journal(struct store_etcd *se, struct why *why)
{
	int err = 0;

	for (size_t i = 0; i < se->n_journal && !err; i++) {
		struct se_jentry *j = &se->journal[i];

		if (!j->len)
			record_set_remove(se->out, j->name);
		else
			err = opened(se, j->name, j->val, j->len, why);
	}
	return err;
}

/* Every page is in: what etcd holds, then the journal over it. */
static void loaded(struct store_etcd *se)
{
	struct why why = { "" };
	int err = record_sums_take(&se->sums, se->out);

	se->journal_left = se->marked || se->n_journal;
	if (!err && se->marked)
		err = apply_journal(se, &why);
	if (!err && !se->out->n)
		err = why_fail(&why, -ENOENT, "etcd holds no cluster under %s",
			       se->prefix);
	if (err == -ENOMEM)
		why_set(&why, "out of memory");
	load_end(se, err, &why);
}

static void on_page(void *arg, int err, int status, const char *body,
		    size_t len, const struct why *w)
{
	struct store_etcd *se = arg;
	struct why why = { "" };
	struct page_ctx c = { se, &why };
	struct etcd_header h;
	struct json_doc doc;
	bool more = false;

	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	if (err)
		why_set(&why, "%s", w ? w->msg : strerror(-err));
	else
		err = etcd_reply_open(&doc, status, body, len, &h, &why);
	if (!err)
		err = etcd_kvs(&doc, 0, one_key, &c, &more, &why);
	json_doc_cleanup(&doc);
	if (!err && !se->at)
		se->at = h.revision; /* every later page at this one */
	if (!err && more)
		err = ask_page(se);
	if (err == -ENOMEM)
		why_set(&why, "out of memory");
	if (err)
		load_end(se, err, &why);
	else if (!more)
		loaded(se);
}

int store_etcd_load(struct store_etcd *se, const uint8_t *key,
		    struct record_set *out, store_etcd_cb cb, void *arg)
{
	int err;

	if (se->job != SE_IDLE)
		return -EBUSY;
	record_set_clear(out);
	se_load_clear(se);
	record_sums_clear(&se->sums);
	se->key = key;
	se->out = out;
	se->from_len = strlen(se->prefix);
	memcpy(se->from, se->prefix, se->from_len);
	err = ask_page(se);
	if (err) {
		se->out = NULL;
		return err;
	}
	se->job = SE_LOAD;
	se->cb = cb;
	se->arg = arg;
	return 0;
}
