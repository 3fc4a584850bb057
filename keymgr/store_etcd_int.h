/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr store_etcd: the parts its two files share (not for others). */
#ifndef VXSEC_STORE_ETCD_INT_H
#define VXSEC_STORE_ETCD_INT_H

#include "etcd.h"
#include "store_etcd.h"

#define SE_LEADER "leader"
#define SE_JOURNAL "journal"
#define SE_JOURNAL_MARK "journal.commit"

enum se_job { SE_IDLE, SE_LOAD, SE_COMMIT };
/* A commit's steps, in order (a small one is SE_ONE alone). */
enum se_step { SE_ONE, SE_CLEAR, SE_WRITE, SE_MARK, SE_APPLY, SE_DROP };

/* One record to write: its sealed value (malloc'd), or a deletion. */
struct se_op {
	char name[RECORD_NAME_MAX];
	uint8_t *val;
	size_t len;
	bool del;
};

/* A journal entry read at load: name and sealed value (empty: delete). */
struct se_jentry {
	char name[RECORD_NAME_MAX];
	uint8_t *val;
	size_t len;
};

struct store_etcd {
	struct loop *loop;
	struct etcd *e;
	struct loop_timer *soon;
	char prefix[STORE_ETCD_PREFIX_MAX + 1];
	int64_t term;
	struct record_sums sums;      /* what etcd holds, as written last */
	struct record_sums next_sums; /* what it holds once this commit is in */
	bool journal_left;	      /* a journal may be under the prefix */
	enum se_job job;
	enum se_step step;
	bool durable; /* this commit's journal is marked: the round is in */
	const uint8_t *key;
	store_etcd_cb cb;
	void *arg;
	uint64_t started_ms;
	struct se_op *ops;
	size_t n_ops, next;
	/* a load */
	struct record_set *out;
	int64_t at; /* the etcd revision every page is read at */
	char from[ETCD_KEY_MAX + 1];
	size_t from_len, n_keys;
	bool marked;
	struct se_jentry *journal;
	size_t n_journal;
	struct store_etcd_stats stats;
};

/* P<name> into out; its length or -ENAMETOOLONG. */
int se_key(const struct store_etcd *se, const char *name, char *out,
	   size_t len);
void se_ops_clear(struct store_etcd *se);
void se_load_clear(struct store_etcd *se);
void se_finish(struct store_etcd *se, int err, const struct why *why);

#endif
