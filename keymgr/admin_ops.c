// SPDX-License-Identifier: MIT
/* vxsec-keymgr: the operator's changes (rotate, remove, token rotate, unlock key) with their checks and refusals, for the control socket and the library alike. */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "common/log.h"
#include "common/token.h"
#include "wire.h"

/* Nothing can be changed: the disk (or etcd) is why. */
static int cannot_save(struct admin *a, const char *what, struct why *why)
{
	int err = store_error(a->st) ? store_error(a->st) : -EIO;

	why_set(why,
		"%s: the leader cannot save its state in %s (%s); fix that "
		"(vxsec-keymgr status shows when it can save again) and retry",
		what, store_dir(a->st), strerror(-err));
	return err;
}

void admin_confirmed(struct admin *a, enum admin_wait_what what,
		     const char *node, uint32_t index)
{
	struct node *n;

	switch (what) {
	case ADMIN_WAIT_ROTATE:
		log_info("rotation requested by the operator");
		break;
	case ADMIN_WAIT_REMOVE:
		session_drop(a->ss, index, WERR_REMOVED,
			     "this node was removed from the cluster");
		log_info("%s (index %u) removed by the operator; a rotation "
			 "follows",
			 node, index);
		n = cluster_node(a->cl, index);
		events_node(a->ev, EV_MEMBER_REMOVED, n, "removed");
		break;
	case ADMIN_WAIT_TOKEN:
		log_info("join token rotated: the old one is refused");
		break;
	}
	a->kick(a->kick_arg);
}

int admin_done_reply(struct admin *a, enum admin_wait_what what,
		     const char *node, struct ctl_reply *r)
{
	switch (what) {
	case ADMIN_WAIT_ROTATE:
		ctl_reply_printf(r, "%s\n", node);
		return 0;
	case ADMIN_WAIT_REMOVE:
		ctl_reply_printf(r,
				 "%s removed; its peers delete its SAs and a "
				 "rotation follows\n",
				 node);
		return 0;
	case ADMIN_WAIT_TOKEN:
		return admin_token_reply(a, r);
	}
	return ADMIN_EXIT_FAIL;
}

/* What the operator is told a rotation request does. */
static void rotate_what(struct admin *a, char *what, size_t len)
{
	struct cluster_status s;

	cluster_status(a->cl, &s);
	if (s.phase == ROT_IDLE)
		snprintf(what, len,
			 "rotation requested: generation %u will replace %u",
			 s.n_gens ? s.gens[s.n_gens - 1].g + 1 : 1, s.transmit);
	else
		snprintf(what, len,
			 "rotation requested: it follows the one under way (%s "
			 "of generation %u)",
			 admin_rot_phase_name(s.phase), s.target);
}

/* A request is saved before it is confirmed: it survives a crash. */
int admin_rotate(struct admin *a, char *what, size_t len, struct admin_wait **w,
		 struct why *why)
{
	bool requested, dirty;

	if (store_failed(a->st))
		return cannot_save(a, "no rotation requested", why);
	rotate_what(a, what, len);
	if (a->ha) {
		cluster_rot_request(a->cl);
		return admin_wait_start(a, ADMIN_WAIT_ROTATE, what, 0, w, why);
	}
	requested = cluster_rot_request(a->cl);
	dirty = store_touch(a->st);
	if (store_save(a->st)) {
		cluster_rot_unrequest(a->cl, requested);
		store_untouch(a->st, dirty);
		return cannot_save(a, "no rotation requested", why);
	}
	admin_confirmed(a, ADMIN_WAIT_ROTATE, what, 0);
	return 0;
}

/*
 * Saved, then announced: an agent told it was removed deletes its keys
 * and exits, so a removal that a crash could take back must never reach
 * it. One that cannot be saved is taken back at once.
 */
int admin_remove(struct admin *a, const char *node, struct admin_wait **w,
		 struct why *why)
{
	struct cluster_undo u;
	char what[REGISTRY_ID_MAX + 32];
	struct node *n;
	int err;

	snprintf(what, sizeof(what), "%.64s not removed", node);
	if (store_failed(a->st))
		return cannot_save(a, what, why);
	n = cluster_find(a->cl, node);
	cluster_undo_mark(a->cl, node, &u);
	err = cluster_remove(a->cl, node);
	if (err)
		return why_fail(why, err == -EPERM ? -EPERM : -ENOENT,
				"%.64s: %s", node,
				err == -EPERM ? "already removed"
					      : "not a member");
	if (a->ha)
		return admin_wait_start(a, ADMIN_WAIT_REMOVE, node, n->index, w,
					why);
	if (store_save(a->st)) {
		cluster_undo(a->cl, &u);
		return cannot_save(a, what, why);
	}
	admin_confirmed(a, ADMIN_WAIT_REMOVE, node, n->index);
	return 0;
}

int admin_token_rotate(struct admin *a, struct admin_wait **w, struct why *why)
{
	int err;

	if (a->ha) {
		if (store_failed(a->st))
			return cannot_save(a, "token not rotated", why);
		store_token_new(a->st);
		return admin_wait_start(a, ADMIN_WAIT_TOKEN, NULL, 0, w, why);
	}
	err = store_token_rotate(a->st);
	if (err)
		return why_fail(why, err, "cannot save the new token: %s",
				strerror(-err));
	admin_confirmed(a, ADMIN_WAIT_TOKEN, NULL, 0);
	return 0;
}

int admin_token_text(struct admin *a, char *text, size_t len, struct why *why)
{
	int err = store_token_text(a->st, a->ca, text, len);

	return err ? why_fail(why, err, "cannot format the join token: %s",
			      strerror(-err))
		   : 0;
}

int admin_unlock_show(struct admin *a, char *text, size_t len, struct why *why)
{
	if (!store_autolock(a->st))
		return why_fail(why, -ENOKEY,
				"autolock is off: the state key is %s/%s",
				store_dir(a->st), STATE_KEY_FILE);
	return store_unlock_text(a->st, text, len);
}

int admin_unlock_rotate(struct admin *a, char *text, size_t len,
			struct why *why)
{
	struct why w = { "" };

	if (a->ha)
		return why_fail(why, -EOPNOTSUPP,
				"unlock-key rotate: not with store = etcd "
				"(every instance holds the state key; "
				"docs/operations.md says how to change it)");
	if (store_unlock_rotate(a->st, text, len, &w)) {
		sodium_memzero(text, len);
		return why_fail(why, -EIO, "cannot rotate the key: %s", w.msg);
	}
	log_info("state key rotated");
	return 0;
}
