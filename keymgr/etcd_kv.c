// SPDX-License-Identifier: MIT
/* vxsec-keymgr etcd_kv: etcd's v3 requests as JSON bodies, and its replies read and checked — no I/O (keymgr/etcd.c carries them). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "etcd_kv.h"

/* ---- requests ---- */

static int bytes_ok(struct etcd_bytes b, size_t max)
{
	return b.len <= max && (b.p || !b.len) ? 0 : -EINVAL;
}

static int put_bytes(struct json_out *o, const char *name, struct etcd_bytes b)
{
	json_out_key(o, name);
	return json_out_base64(o, b.p, b.len);
}

int etcd_range_req(struct json_out *o, struct etcd_bytes key,
		   struct etcd_bytes range_end, int64_t limit)
{
	return etcd_range_at_req(o, key, range_end, limit, 0);
}

int etcd_range_at_req(struct json_out *o, struct etcd_bytes key,
		      struct etcd_bytes range_end, int64_t limit,
		      int64_t revision)
{
	if (!key.len || bytes_ok(key, ETCD_KEY_MAX) ||
	    bytes_ok(range_end, ETCD_KEY_MAX) || limit < 0 || revision < 0)
		return -EINVAL;
	json_out_object(o);
	put_bytes(o, "key", key);
	if (range_end.len)
		put_bytes(o, "range_end", range_end);
	if (limit) {
		json_out_key(o, "limit");
		json_out_int64(o, limit);
	}
	if (revision) {
		json_out_key(o, "revision");
		json_out_int64(o, revision);
	}
	return json_out_object_end(o);
}

/* The body of a put (also inside a txn's request_put). */
static int put_body(struct json_out *o, struct etcd_bytes key,
		    struct etcd_bytes value, int64_t lease)
{
	if (!key.len || bytes_ok(key, ETCD_KEY_MAX) ||
	    bytes_ok(value, ETCD_VALUE_MAX) || lease < 0)
		return -EINVAL;
	json_out_object(o);
	put_bytes(o, "key", key);
	put_bytes(o, "value", value);
	if (lease) {
		json_out_key(o, "lease");
		json_out_int64(o, lease);
	}
	return json_out_object_end(o);
}

int etcd_put_req(struct json_out *o, struct etcd_bytes key,
		 struct etcd_bytes value, int64_t lease)
{
	return put_body(o, key, value, lease);
}

static const char *const target_name[] = { "CREATE", "MOD", "VERSION",
					   "VALUE" };
static const char *const result_name[] = { "EQUAL", "GREATER", "LESS",
					   "NOT_EQUAL" };
static const char *const rev_field[] = { "create_revision", "mod_revision",
					 "version" };

static int cmp_body(struct json_out *o, const struct etcd_cmp *c)
{
	if ((unsigned)c->target > ETCD_VALUE ||
	    (unsigned)c->result > ETCD_NOT_EQUAL || !c->key.len ||
	    bytes_ok(c->key, ETCD_KEY_MAX) ||
	    bytes_ok(c->value, ETCD_VALUE_MAX))
		return -EINVAL;
	json_out_object(o);
	json_out_key(o, "result");
	json_out_string(o, result_name[c->result],
			strlen(result_name[c->result]));
	json_out_key(o, "target");
	json_out_string(o, target_name[c->target],
			strlen(target_name[c->target]));
	put_bytes(o, "key", c->key);
	if (c->target == ETCD_VALUE) {
		put_bytes(o, "value", c->value);
	} else {
		json_out_key(o, rev_field[c->target]);
		json_out_int64(o, c->rev);
	}
	return json_out_object_end(o);
}

static int op_body(struct json_out *o, const struct etcd_op *op)
{
	int err;

	json_out_object(o);
	switch (op->type) {
	case ETCD_PUT:
		json_out_key(o, "request_put");
		err = put_body(o, op->key, op->value, op->lease);
		break;
	case ETCD_DELETE:
	case ETCD_RANGE:
		json_out_key(o, op->type == ETCD_RANGE
					? "request_range"
					: "request_delete_range");
		if (!op->key.len || bytes_ok(op->key, ETCD_KEY_MAX) ||
		    bytes_ok(op->range_end, ETCD_KEY_MAX))
			return -EINVAL;
		json_out_object(o);
		put_bytes(o, "key", op->key);
		if (op->range_end.len)
			put_bytes(o, "range_end", op->range_end);
		err = json_out_object_end(o);
		break;
	default:
		return -EINVAL;
	}
	return err ? err : json_out_object_end(o);
}

static int ops(struct json_out *o, const char *name, const struct etcd_op *op,
	       size_t n)
{
	int err = 0;

	json_out_key(o, name);
	json_out_array(o);
	for (size_t i = 0; i < n && !err; i++)
		err = op_body(o, &op[i]);
	return err ? err : json_out_array_end(o);
}

int etcd_txn_req(struct json_out *o, const struct etcd_cmp *cmp, size_t n_cmp,
		 const struct etcd_op *ok, size_t n_ok,
		 const struct etcd_op *fail, size_t n_fail)
{
	int err = 0;

	if (n_cmp > ETCD_TXN_OPS_MAX || n_ok > ETCD_TXN_OPS_MAX ||
	    n_fail > ETCD_TXN_OPS_MAX)
		return -EINVAL;
	json_out_object(o);
	json_out_key(o, "compare");
	json_out_array(o);
	for (size_t i = 0; i < n_cmp && !err; i++)
		err = cmp_body(o, &cmp[i]);
	if (!err)
		err = json_out_array_end(o);
	if (!err)
		err = ops(o, "success", ok, n_ok);
	if (!err)
		err = ops(o, "failure", fail, n_fail);
	return err ? err : json_out_object_end(o);
}

int etcd_lease_grant_req(struct json_out *o, int64_t ttl_s)
{
	if (ttl_s <= 0)
		return -EINVAL;
	json_out_object(o);
	json_out_key(o, "TTL");
	json_out_int64(o, ttl_s);
	return json_out_object_end(o);
}

int etcd_lease_id_req(struct json_out *o, int64_t id)
{
	if (id <= 0)
		return -EINVAL;
	json_out_object(o);
	json_out_key(o, "ID");
	json_out_int64(o, id);
	return json_out_object_end(o);
}

/* ---- replies ---- */

/* An int64 member, 0 when etcd left it out (its default). */
static int member_i64(const struct json_doc *d, int obj, const char *name,
		      int64_t *v)
{
	int t = json_get(d, obj, name);

	*v = 0;
	if (t == -ENOENT)
		return 0;
	return t < 0 ? t : json_int64(d, t, v);
}

static int read_header(const struct json_doc *d, int obj, struct etcd_header *h,
		       struct why *why)
{
	int t = json_get(d, obj, "header"), err = 0;

	if (t < 0 || d->toks[t].type != JSON_OBJECT)
		return why_fail(why, -EBADMSG, "etcd reply without a header");
	err = member_i64(d, t, "revision", &h->revision);
	if (!err)
		err = member_i64(d, t, "raft_term", &h->raft_term);
	if (!err) {
		int c = json_get(d, t, "cluster_id"), m;

		m = json_get(d, t, "member_id");
		if (c >= 0)
			err = json_uint64(d, c, &h->cluster_id);
		if (!err && m >= 0)
			err = json_uint64(d, m, &h->member_id);
	}
	if (err || h->revision <= 0)
		return why_fail(why, -EBADMSG,
				"etcd reply: a header without a revision");
	return 0;
}

int etcd_reply_open(struct json_doc *d, int status, const char *body,
		    size_t len, struct etcd_header *h, struct why *why)
{
	char msg[256] = "";
	int err, t;

	memset(h, 0, sizeof(*h));
	err = json_parse(d, body, len, why);
	if (!err && d->toks[0].type != JSON_OBJECT)
		err = why_fail(why, -EBADMSG, "etcd reply: not an object");
	if (status != 200) {
		t = err ? -ENOENT : json_get(d, 0, "error");
		if (t < 0 && !err)
			t = json_get(d, 0, "message");
		if (t < 0 || json_string(d, t, msg, sizeof(msg)) < 0)
			snprintf(msg, sizeof(msg), "no message");
		return why_fail(why, -EREMOTEIO, "etcd: HTTP %d: %s", status,
				msg);
	}
	if (err)
		return -EBADMSG;
	t = json_get(d, 0, "result"); /* a keepalive wraps its reply */
	return read_header(d, t >= 0 ? t : 0, h, why);
}

/* Bytes a base64 string token decodes to, at most. */
static size_t b64_room(const struct json_doc *d, int t)
{
	return t < 0 ? 0 : (d->toks[t].end - d->toks[t].start) / 4 * 3 + 3;
}

/*
 * One kv object, its bytes decoded into a buffer of their size (wiped
 * and freed after cb: values are sealed, but wiped all the same).
 */
static int one_kv(const struct json_doc *d, int t,
		  int (*cb)(void *arg, const struct etcd_kv *kv), void *arg,
		  int *cbr)
{
	int k = json_get(d, t, "key"), v = json_get(d, t, "value"), r;
	size_t kl = 0, vl = 0, cap = b64_room(d, k) + b64_room(d, v) + 1;
	struct etcd_kv kv = { 0 };
	uint8_t *buf;

	if (k < 0 || b64_room(d, k) > ETCD_KEY_MAX + 3 ||
	    b64_room(d, v) > ETCD_VALUE_MAX + 3)
		return -EBADMSG;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	r = json_base64(d, k, buf, cap, &kl) || !kl ? -EBADMSG : 0;
	if (!r && v >= 0 && json_base64(d, v, buf + kl, cap - kl, &vl))
		r = -EBADMSG;
	kv.key = (struct etcd_bytes){ buf, kl };
	kv.value = (struct etcd_bytes){ buf + kl, vl };
	if (!r && (member_i64(d, t, "create_revision", &kv.create_rev) ||
		   member_i64(d, t, "mod_revision", &kv.mod_rev) ||
		   member_i64(d, t, "version", &kv.version) ||
		   member_i64(d, t, "lease", &kv.lease)))
		r = -EBADMSG;
	if (!r)
		*cbr = cb(arg, &kv);
	sodium_memzero(buf, cap);
	free(buf);
	return r;
}

int etcd_kvs(const struct json_doc *d, int tok,
	     int (*cb)(void *arg, const struct etcd_kv *kv), void *arg,
	     bool *more, struct why *why)
{
	int t = json_get(d, tok, "kvs"), m = json_get(d, tok, "more"), e, r = 0;
	int cbr = 0;
	struct json_iter it;

	*more = false;
	if (m >= 0 && json_bool(d, m, more))
		return why_fail(why, -EBADMSG, "etcd range reply: bad 'more'");
	if (t == -ENOENT)
		return 0; /* nothing in that range */
	if (t < 0 || d->toks[t].type != JSON_ARRAY)
		return why_fail(why, -EBADMSG, "etcd range reply: bad 'kvs'");
	for (e = json_iter_init(d, t, &it); e >= 0;
	     e = json_iter_next(d, &it)) {
		r = d->toks[e].type == JSON_OBJECT ? one_kv(d, e, cb, arg, &cbr)
						   : -EBADMSG;
		if (r == -EBADMSG)
			return why_fail(why, r,
					"etcd range reply: a bad key-value at "
					"byte %u",
					d->toks[e].start);
		if (r)
			return why_fail(why, r, "out of memory");
		if (cbr)
			return cbr; /* the callback's */
	}
	return 0;
}

int etcd_txn_reply(const struct json_doc *d, bool *succeeded, int *responses,
		   struct why *why)
{
	int s = json_get(d, 0, "succeeded");

	*succeeded = false;
	if (s >= 0 && json_bool(d, s, succeeded))
		return why_fail(why, -EBADMSG,
				"etcd txn reply: bad 'succeeded'");
	*responses = json_get(d, 0, "responses");
	if (*responses >= 0 && d->toks[*responses].type != JSON_ARRAY)
		return why_fail(why, -EBADMSG,
				"etcd txn reply: bad 'responses'");
	return 0;
}

int etcd_lease_reply(const struct json_doc *d, int64_t *id, int64_t *ttl_s,
		     struct why *why)
{
	int r = json_get(d, 0, "result"), o = r >= 0 ? r : 0;

	if (member_i64(d, o, "ID", id) || member_i64(d, o, "TTL", ttl_s))
		return why_fail(why, -EBADMSG,
				"etcd lease reply: bad ID or TTL");
	if (*id <= 0 || *ttl_s <= 0)
		return why_fail(why, -ENOENT,
				"etcd: the lease is gone (expired or revoked)");
	return 0;
}
