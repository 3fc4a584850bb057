/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr etcd_kv: etcd's v3 requests as JSON bodies, and its replies read and checked — no I/O (keymgr/etcd.c carries them). */
#ifndef VXSEC_ETCD_KV_H
#define VXSEC_ETCD_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/why.h"

#define ETCD_KEY_MAX 256		 /* our keys: the prefix and a name */
#define ETCD_VALUE_MAX ((size_t)1 << 20) /* our records are far smaller */
#define ETCD_TXN_OPS_MAX 128		 /* etcd's default --max-txn-ops */

/* A key, or a value: bytes, not text (base64 on the wire). */
struct etcd_bytes {
	const uint8_t *p;
	size_t len;
};

enum etcd_target { ETCD_CREATE, ETCD_MOD, ETCD_VERSION, ETCD_VALUE };
enum etcd_result { ETCD_EQUAL, ETCD_GREATER, ETCD_LESS, ETCD_NOT_EQUAL };

/* One comparison of a transaction: key's target <result> rev (or value). */
struct etcd_cmp {
	struct etcd_bytes key;
	enum etcd_target target;
	enum etcd_result result;
	int64_t rev;		 /* CREATE, MOD, VERSION */
	struct etcd_bytes value; /* VALUE */
};

enum etcd_op_type { ETCD_PUT, ETCD_DELETE, ETCD_RANGE };

/* One operation: put (with a lease, 0: none), delete, or range. For a
 * delete or range, range_end.len > 0 covers [key, range_end). */
struct etcd_op {
	enum etcd_op_type type;
	struct etcd_bytes key, value, range_end;
	int64_t lease;
};

/*
 * The request bodies, into out (common/json.h): 0, or the writer's
 * -ENOSPC / -EINVAL (a key over ETCD_KEY_MAX, a value over
 * ETCD_VALUE_MAX, more than ETCD_TXN_OPS_MAX operations). limit 0: all.
 */
int etcd_range_req(struct json_out *out, struct etcd_bytes key,
		   struct etcd_bytes range_end, int64_t limit);
/* A range read at etcd's revision (0: the newest), for pages of one
 * snapshot. */
int etcd_range_at_req(struct json_out *out, struct etcd_bytes key,
		      struct etcd_bytes range_end, int64_t limit,
		      int64_t revision);
int etcd_put_req(struct json_out *out, struct etcd_bytes key,
		 struct etcd_bytes value, int64_t lease);
int etcd_txn_req(struct json_out *out, const struct etcd_cmp *cmp, size_t n_cmp,
		 const struct etcd_op *ok, size_t n_ok,
		 const struct etcd_op *fail, size_t n_fail);
int etcd_lease_grant_req(struct json_out *out, int64_t ttl_s);
int etcd_lease_id_req(struct json_out *out, int64_t id); /* keepalive, revoke */

/* The header every reply carries. */
struct etcd_header {
	uint64_t cluster_id, member_id;
	int64_t revision, raft_term;
};

/* A key-value as etcd returns it: key and value point into buf. */
struct etcd_kv {
	struct etcd_bytes key, value;
	int64_t create_rev, mod_rev, version, lease;
};

/*
 * Reads a reply into doc (json_doc_init(doc, NULL, JSON_TOKENS_MAX) by
 * the caller, who cleans it
 * up after): status is the HTTP status. Not 200: -EREMOTEIO with
 * etcd's message in why (its "error", else the status). 200 but not the
 * expected shape: -EBADMSG with why. The header is checked (a revision
 * > 0) and returned.
 */
int etcd_reply_open(struct json_doc *doc, int status, const char *body,
		    size_t len, struct etcd_header *hdr, struct why *why);

/*
 * The kvs of a range reply (or of a txn's response_range: tok is the
 * object holding "kvs"), one by one: cb gets each, its bytes decoded into
 * a buffer valid during the call. 0, the first non-zero cb result, or
 * -EBADMSG with why. *more: etcd has more than it returned (limit).
 */
int etcd_kvs(const struct json_doc *doc, int tok,
	     int (*cb)(void *arg, const struct etcd_kv *kv), void *arg,
	     bool *more, struct why *why);

/* A txn reply: whether its compares held, and its responses array (the
 * token, or -ENOENT if it has none). */
int etcd_txn_reply(const struct json_doc *doc, bool *succeeded, int *responses,
		   struct why *why);

/* A lease grant or keepalive reply: the lease and its TTL in s (a
 * keepalive of an expired lease gives TTL 0 or none: -ENOENT). The
 * keepalive's gateway reply wraps it in "result". */
int etcd_lease_reply(const struct json_doc *doc, int64_t *id, int64_t *ttl_s,
		     struct why *why);

#endif
