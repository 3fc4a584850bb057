// SPDX-License-Identifier: MIT
/* vxsec-keymgr store_etcd: the state as sealed records in etcd — fenced transactions, large rounds through a journal (reads: store_etcd_load.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "etcd.h"
#include "etcd_kv.h"
#include "store_etcd_int.h"

static struct etcd_bytes bytes(const void *p, size_t len)
{
	return (struct etcd_bytes){ p, len };
}

int se_key(const struct store_etcd *se, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s", se->prefix, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* [P<from>, P<from> with its last byte + 1): every key starting so. */
static int range_of(const struct store_etcd *se, const char *from, char *key,
		    char *end, size_t len)
{
	int n = se_key(se, from, key, len);

	if (n < 0)
		return n;
	memcpy(end, key, (size_t)n + 1);
	end[n - 1]++;
	return n;
}

void se_ops_clear(struct store_etcd *se)
{
	for (size_t i = 0; i < se->n_ops; i++)
		free(se->ops[i].val);
	free(se->ops);
	se->ops = NULL;
	se->n_ops = 0;
	se->next = 0;
}

/* Ends the job: the caller's callback, once. */
void se_finish(struct store_etcd *se, int err, const struct why *why)
{
	store_etcd_cb cb = se->cb;

	se->cb = NULL;
	if (cb)
		cb(se->arg, err, why);
}

/* ---- one transaction ---- */

struct txn {
	struct etcd_op ops[STORE_ETCD_OPS + 2];
	char keys[STORE_ETCD_OPS + 2][ETCD_KEY_MAX];
	char ends[2][ETCD_KEY_MAX];
	size_t n, bytes;
};

static int txn_put(struct store_etcd *se, struct txn *t, const char *pre,
		   const struct se_op *op, bool as_journal)
{
	char name[RECORD_NAME_MAX + 16];
	int n;

	snprintf(name, sizeof(name), "%s%s", pre, op->name);
	n = se_key(se, name, t->keys[t->n], ETCD_KEY_MAX);
	if (n < 0)
		return n;
	if (op->del && !as_journal)
		t->ops[t->n] = (struct etcd_op){ .type = ETCD_DELETE };
	else
		t->ops[t->n] = (struct etcd_op){
			.type = ETCD_PUT,
			.value = bytes(op->del ? (const uint8_t *)"" : op->val,
				       op->del ? 0 : op->len)
		};
	t->ops[t->n].key = bytes(t->keys[t->n], (size_t)n);
	t->bytes += (size_t)n + (op->del ? 0 : op->len);
	t->n++;
	return 0;
}

/* Deletes the journal (its records and its mark) in t: 2 operations. */
static int txn_drop_journal(struct store_etcd *se, struct txn *t)
{
	int n = range_of(se, SE_JOURNAL "/", t->keys[t->n], t->ends[0],
			 ETCD_KEY_MAX);

	if (n < 0)
		return n;
	t->ops[t->n] =
		(struct etcd_op){ .type = ETCD_DELETE,
				  .key = bytes(t->keys[t->n], (size_t)n),
				  .range_end = bytes(t->ends[0], (size_t)n) };
	t->n++;
	n = se_key(se, SE_JOURNAL_MARK, t->keys[t->n], ETCD_KEY_MAX);
	if (n < 0)
		return n;
	t->ops[t->n] =
		(struct etcd_op){ .type = ETCD_DELETE,
				  .key = bytes(t->keys[t->n], (size_t)n) };
	t->n++;
	return 0;
}

static void on_txn(void *arg, int err, int status, const char *body, size_t len,
		   const struct why *w);

/* Sends t, fenced by the term. */
static int txn_send(struct store_etcd *se, struct txn *t)
{
	char leader[ETCD_KEY_MAX];
	struct etcd_cmp cmp = { .target = ETCD_CREATE, .result = ETCD_EQUAL };
	struct json_out o;
	size_t cap = 4 * t->bytes / 3 + 160 * (t->n + 2) + 512, len;
	char *buf;
	int n = se_key(se, SE_LEADER, leader, sizeof(leader)), err;

	if (n < 0)
		return n;
	cmp.key = bytes(leader, (size_t)n);
	cmp.rev = se->term;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	json_out_init(&o, buf, cap);
	err = etcd_txn_req(&o, &cmp, 1, t->ops, t->n, NULL, 0);
	if (!err)
		err = json_out_finish(&o, &len);
	if (!err)
		err = etcd_post(se->e, "/v3/kv/txn", buf, len, on_txn, se);
	free(buf);
	if (!err)
		se->stats.txns++;
	return err;
}

/* ---- a commit: the steps ---- */

/*
 * Fills t with the ops from se->next on, as pre<name> (journal: puts
 * only, an empty value for a delete), up to the limits; advances next.
 */
static int fill(struct store_etcd *se, struct txn *t, const char *pre,
		bool as_journal, size_t room)
{
	int err = 0;

	while (!err && se->next < se->n_ops && t->n < room &&
	       (t->n == 0 ||
		t->bytes + se->ops[se->next].len <= STORE_ETCD_TXN_BYTES))
		err = txn_put(se, t, pre, &se->ops[se->next++], as_journal);
	return err;
}

/* The next transaction of the commit, by its step; 1 when none is left. */
static int step(struct store_etcd *se)
{
	static struct txn t; /* one at a time, on the loop's thread */
	int err = 0;

	memset(&t, 0, sizeof(t));
	switch (se->step) {
	case SE_ONE: /* everything and the journal's end, at once */
		err = fill(se, &t, "", false, STORE_ETCD_OPS);
		if (!err && se->journal_left)
			err = txn_drop_journal(se, &t);
		break;
	case SE_CLEAR:
		err = txn_drop_journal(se, &t);
		break;
	case SE_WRITE:
	case SE_APPLY:
		if (se->next == se->n_ops)
			return 1;
		err = fill(se, &t, se->step == SE_WRITE ? SE_JOURNAL "/" : "",
			   se->step == SE_WRITE, STORE_ETCD_OPS);
		break;
	case SE_MARK: {
		struct se_op mark = { .name = "",
				      .val = (uint8_t *)"1",
				      .len = 1 };

		err = txn_put(se, &t, SE_JOURNAL_MARK, &mark, false);
		break;
	}
	case SE_DROP:
		err = txn_drop_journal(se, &t);
		break;
	default:
		return 1;
	}
	return err ? err : txn_send(se, &t);
}

/* The commit is whole: what etcd holds is what was sent. */
static void committed(struct store_etcd *se)
{
	record_sums_clear(&se->sums);
	se->sums = se->next_sums;
	memset(&se->next_sums, 0, sizeof(se->next_sums));
	se->journal_left = false;
	se->stats.commits++;
	se->stats.last_ms = loop_mono_ms() - se->started_ms;
	se_ops_clear(se);
	se->job = SE_IDLE;
}

/* Moves to the next step, or ends the commit. */
static void advance(struct store_etcd *se)
{
	struct why why = { "" };
	int err;

	for (;;) {
		err = step(se);
		if (err <= 0)
			break;
		se->next = 0;
		se->step++; /* WRITE -> MARK, APPLY -> DROP */
	}
	if (!err)
		return;
	why_set(&why, "cannot send to etcd: %s", strerror(-err));
	se->stats.failures++;
	se_ops_clear(se);
	se->job = SE_IDLE;
	se_finish(se, err, &why);
}

/* A failed step: the commit ends; what etcd holds is unknown. */
static void failed(struct store_etcd *se, int err, const struct why *why)
{
	se->stats.failures++;
	record_sums_clear(&se->next_sums);
	if (se->step != SE_ONE)
		se->journal_left = true;
	se_ops_clear(se);
	se->job = SE_IDLE;
	if (se->durable) {
		/* The round is in etcd (its journal); the next commit
		 * writes it again over the records. */
		log_warn("etcd: applying a committed journal: %s", why->msg);
		return;
	}
	se_finish(se, err, why);
}

static void on_txn(void *arg, int err, int status, const char *body, size_t len,
		   const struct why *w)
{
	struct store_etcd *se = arg;
	struct etcd_header h;
	struct json_doc doc;
	struct why why = { "" };
	bool ok = false;
	int resp;

	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	if (err)
		why_set(&why, "%s", w ? w->msg : strerror(-err));
	else
		err = etcd_reply_open(&doc, status, body, len, &h, &why);
	if (!err)
		err = etcd_txn_reply(&doc, &ok, &resp, &why);
	json_doc_cleanup(&doc);
	if (!err && !ok)
		err = why_fail(&why, -ESTALE,
			       "etcd refused a write: this instance no "
			       "longer holds the leader key of term %lld",
			       (long long)se->term);
	if (err) {
		failed(se, err, &why);
		return;
	}
	se->stats.etcd_revision = h.revision;
	switch (se->step) {
	case SE_ONE:
	case SE_DROP:
		committed(se);
		if (se->step == SE_ONE)
			se_finish(se, 0, NULL);
		return;
	case SE_CLEAR:
		se->step = SE_WRITE;
		se->next = 0;
		break;
	case SE_MARK:
		se->durable = true;
		se->step = SE_APPLY;
		se->next = 0;
		se_finish(se, 0, NULL); /* the round is in etcd */
		break;
	default: /* WRITE, APPLY: their next piece */
		break;
	}
	advance(se);
}

/* Each differing record, sealed, as an op. */
static int add_op(void *arg, const char *name, const struct record *rec)
{
	struct store_etcd *se = arg;
	struct se_op *op;
	size_t cap = se->n_ops + 1;
	int err = 0;

	op = realloc(se->ops, cap * sizeof(*op));
	if (!op)
		return -ENOMEM;
	se->ops = op;
	op = &se->ops[se->n_ops];
	memset(op, 0, sizeof(*op));
	snprintf(op->name, sizeof(op->name), "%s", name);
	op->del = !rec;
	if (rec)
		err = records_seal(se->key, name, rec->plain, rec->len,
				   &op->val, &op->len);
	if (!err)
		se->n_ops++;
	return err;
}

/* Whether the ops fit one transaction with the journal's end. */
static bool fits_one(const struct store_etcd *se)
{
	size_t bytes = 0;

	if (se->n_ops + 2 > STORE_ETCD_OPS)
		return false;
	for (size_t i = 0; i < se->n_ops; i++)
		bytes += se->ops[i].len;
	return bytes <= STORE_ETCD_TXN_BYTES;
}

static void on_nothing(struct loop *l, struct loop_timer *t, void *arg)
{
	struct store_etcd *se = arg;

	(void)l, (void)t;
	if (se->job == SE_COMMIT && !se->n_ops) {
		committed(se);
		se_finish(se, 0, NULL);
	}
}

int store_etcd_commit(struct store_etcd *se, const uint8_t *key,
		      const struct record_set *now, store_etcd_cb cb, void *arg)
{
	int err;

	if (se->job != SE_IDLE)
		return -EBUSY;
	se->key = key;
	err = records_diff(&se->sums, now, add_op, se);
	if (!err)
		err = record_sums_take(&se->next_sums, now);
	if (err) {
		se_ops_clear(se);
		record_sums_clear(&se->next_sums);
		return err;
	}
	se->job = SE_COMMIT;
	se->cb = cb;
	se->arg = arg;
	se->durable = false;
	se->started_ms = loop_mono_ms();
	se->next = 0;
	if (!se->n_ops && !se->journal_left)
		return loop_timer_arm(se->soon, 1, 0);
	se->step = fits_one(se) ? SE_ONE : SE_CLEAR;
	if (se->step == SE_CLEAR)
		se->stats.journaled++;
	err = step(se);
	if (err) {
		se_ops_clear(se);
		record_sums_clear(&se->next_sums);
		se->job = SE_IDLE;
		se->cb = NULL;
	}
	return err < 0 ? err : 0;
}

struct store_etcd *store_etcd_new(struct loop *l,
				  const struct store_etcd_config *cfg,
				  struct why *why)
{
	struct etcd_config ec = { .endpoints = cfg->endpoints,
				  .n_endpoints = cfg->n_endpoints,
				  .timeout_ms = cfg->timeout_ms,
				  .tls = cfg->tls };
	struct store_etcd *se;

	if (!cfg->prefix || !*cfg->prefix ||
	    strlen(cfg->prefix) > STORE_ETCD_PREFIX_MAX) {
		why_set(why, "etcd_prefix must be 1 to %d bytes",
			STORE_ETCD_PREFIX_MAX);
		errno = EINVAL;
		return NULL;
	}
	se = calloc(1, sizeof(*se));
	if (!se)
		return NULL;
	se->loop = l;
	snprintf(se->prefix, sizeof(se->prefix), "%s", cfg->prefix);
	se->e = etcd_new(l, &ec, why);
	se->soon = loop_timer_new(l, on_nothing, se);
	if (!se->e || !se->soon) {
		store_etcd_free(se);
		return NULL;
	}
	return se;
}

void store_etcd_free(struct store_etcd *se)
{
	if (!se)
		return;
	se->cb = NULL;
	etcd_free(se->e); /* its callbacks: -ECANCELED, no one to tell */
	loop_timer_free(se->soon);
	se_ops_clear(se);
	se_load_clear(se);
	record_sums_clear(&se->sums);
	record_sums_clear(&se->next_sums);
	free(se);
}

void store_etcd_fence(struct store_etcd *se, int64_t term)
{
	se->term = term;
	record_sums_clear(&se->sums);
	se->journal_left = true; /* unknown until a load says */
}

bool store_etcd_busy(const struct store_etcd *se)
{
	return se->job != SE_IDLE;
}

const char *store_etcd_endpoint(const struct store_etcd *se)
{
	return etcd_endpoint(se->e);
}

void store_etcd_stats(const struct store_etcd *se, struct store_etcd_stats *s)
{
	*s = se->stats;
}
