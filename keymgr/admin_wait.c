// SPDX-License-Identifier: MIT
/* vxsec-keymgr: with store = etcd, the operator's changes (rotate, remove, token rotate) are answered once etcd has them — a deferred control reply per command waiting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "admin.h"
#include "wire.h"

static struct admin_wait *slot_free(struct admin *a)
{
	for (size_t i = 0; i < ADMIN_WAITS_MAX; i++)
		if (!a->waits[i].a)
			return &a->waits[i];
	return NULL;
}

/* The client went away (or the server's deadline): forget the wait. */
static void gone(void *arg)
{
	struct admin_wait *w = arg;

	store_sync_cancel(w->a->st, w);
	w->a = NULL;
}

/* What the change does once saved, and its answer. */
static int confirmed(struct admin_wait *w, struct ctl_reply *r)
{
	struct admin *a = w->a;

	switch (w->what) {
	case ADMIN_WAIT_ROTATE:
		log_info("rotation requested by the operator");
		ctl_reply_printf(r, "%s\n", w->node);
		return 0;
	case ADMIN_WAIT_REMOVE:
		session_drop(a->ss, w->index, WERR_REMOVED,
			     "this node was removed from the cluster");
		log_info("%s (index %u) removed by the operator; a rotation "
			 "follows",
			 w->node, w->index);
		ctl_reply_printf(r,
				 "%s removed; its peers delete its SAs and a "
				 "rotation follows\n",
				 w->node);
		return 0;
	case ADMIN_WAIT_TOKEN:
		log_info("join token rotated: the old one is refused");
		return admin_token_reply(a, r);
	}
	return ADMIN_EXIT_FAIL;
}

static void saved(void *arg, int err)
{
	struct admin_wait *w = arg;
	struct ctl_reply *r = ctl_later_reply(w->later);
	int code = ADMIN_EXIT_FAIL;

	if (!err)
		code = confirmed(w, r);
	else
		ctl_reply_printf(r,
				 "not confirmed: etcd did not take it (%s); "
				 "it stays in the leader's memory and goes "
				 "with the next commit if this instance still "
				 "leads: see vxsec-keymgr status\n",
				 strerror(-err));
	w->a->kick(w->a->kick_arg);
	w->a = NULL;
	ctl_later_finish(&w->later, code);
}

int admin_wait(struct admin *a, struct ctl_reply *r, enum admin_wait_what what,
	       const char *node, uint32_t index)
{
	struct admin_wait *w = slot_free(a);
	int err;

	if (!w) {
		ctl_reply_printf(r, "too many commands waiting for etcd: "
				    "retry\n");
		return ADMIN_EXIT_FAIL;
	}
	*w = (struct admin_wait){ .a = a, .what = what, .index = index };
	snprintf(w->node, sizeof(w->node), "%s", node ? node : "");
	err = ctl_reply_later(r, &w->later, gone, w);
	if (!err)
		err = store_sync(a->st, saved, w);
	if (err) {
		ctl_later_finish(&w->later, ADMIN_EXIT_FAIL);
		w->a = NULL;
		ctl_reply_printf(r, "cannot wait for etcd: %s\n",
				 strerror(-err));
		return ADMIN_EXIT_FAIL;
	}
	a->kick(a->kick_arg);
	return CTL_LATER;
}
