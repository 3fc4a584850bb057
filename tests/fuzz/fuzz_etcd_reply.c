// SPDX-License-Identifier: MIT
/* Fuzz target: an etcd gateway reply through keymgr/etcd_kv.c's readers (header, kvs, txn, lease), as the leader will read its store. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keymgr/etcd_kv.h"
#include "tests/fuzz/fuzz.h"

/* Checks what a reader hands out: bytes inside bounds, a key never empty. */
static int on_kv(void *arg, const struct etcd_kv *kv)
{
	size_t *n = arg;

	if (!kv->key.len || kv->key.len > ETCD_KEY_MAX ||
	    kv->value.len > ETCD_VALUE_MAX || (kv->value.len && !kv->value.p))
		abort();
	if (kv->key.len)
		(void)((volatile const uint8_t *)kv->key.p)[kv->key.len - 1];
	if (kv->value.len)
		(void)((volatile const uint8_t *)
			       kv->value.p)[kv->value.len - 1];
	return ++*n == 3 ? 7 : 0; /* the third stops the walk with its 7 */
}

static void said(int r, const struct why *why)
{
	if (r < 0 && !why->msg[0])
		abort(); /* every refusal says why */
}

/* Each element of a txn's responses: its response_range's kvs. */
static void txn(const struct json_doc *d)
{
	struct why why = { "" };
	struct json_iter it;
	bool ok, more;
	int resp, e, r;
	size_t n = 0;

	r = etcd_txn_reply(d, &ok, &resp, &why);
	said(r, &why);
	if (r || resp < 0)
		return;
	for (e = json_iter_init(d, resp, &it); e >= 0;
	     e = json_iter_next(d, &it)) {
		int rr = d->toks[e].type == JSON_OBJECT
				 ? json_get(d, e, "response_range")
				 : -1;

		if (rr >= 0 && d->toks[rr].type == JSON_OBJECT) {
			why.msg[0] = '\0';
			r = etcd_kvs(d, rr, on_kv, &n, &more, &why);
			said(r, &why);
			if (r > 0 && r != 7)
				abort();
		}
	}
}

int fuzz_etcd_reply(const uint8_t *data, size_t size)
{
	static const int status[] = { 200, 200, 200, 400, 404, 500, 503, 200 };
	struct etcd_header h;
	struct json_doc doc;
	struct why why = { "" };
	int64_t id, ttl;
	size_t n = 0;
	bool more;
	int r;

	if (!size)
		return 0;
	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	r = etcd_reply_open(&doc, status[data[0] & 7], (const char *)data + 1,
			    size - 1, &h, &why);
	said(r, &why);
	if (r == 0) {
		if (status[data[0] & 7] != 200 || h.revision <= 0)
			abort(); /* only a 200 with a header opens */
		why.msg[0] = '\0';
		r = etcd_kvs(&doc, 0, on_kv, &n, &more, &why);
		said(r, &why);
		if (r > 0 && r != 7)
			abort(); /* positive: only the callback's */
		txn(&doc);
		why.msg[0] = '\0';
		r = etcd_lease_reply(&doc, &id, &ttl, &why);
		said(r, &why);
		if (!r && (id <= 0 || ttl <= 0))
			abort();
	} else if (r != -EBADMSG && r != -EREMOTEIO && r != -E2BIG &&
		   r != -ENOMEM) {
		abort();
	}
	json_doc_cleanup(&doc);
	return 0;
}
