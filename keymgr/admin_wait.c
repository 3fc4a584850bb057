// SPDX-License-Identifier: MIT
/* vxsec-keymgr: with store = etcd, the operator's changes (rotate, remove, token rotate) end once etcd has them — a deferred control reply, or the library's callback, per change waiting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"

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

/* The slot freed, then the library's callback (which may start more). */
static void end(struct admin_wait *w, int err)
{
	struct admin_done done = w->done;

	w->a = NULL;
	w->ready = false;
	w->done = (struct admin_done){ 0 };
	if (done.fn)
		done.fn(done.arg, err);
}

static void saved(void *arg, int err)
{
	struct admin_wait *w = arg;
	struct admin *a = w->a;
	struct ctl_reply *r = w->later ? ctl_later_reply(w->later) : NULL;
	int code = ADMIN_EXIT_FAIL;

	if (!err)
		admin_confirmed(a, w->what, w->node, w->index);
	else
		a->kick(a->kick_arg);
	if (r && !err)
		code = admin_done_reply(a, w->what, w->node, r);
	else if (r)
		ctl_reply_printf(r,
				 "not confirmed: etcd did not take it (%s); "
				 "it stays in the leader's memory and goes "
				 "with the next commit if this instance still "
				 "leads: see vxsec-keymgr status\n",
				 strerror(-err));
	if (w->later)
		ctl_later_finish(&w->later, code);
	end(w, err);
}

int admin_wait_start(struct admin *a, enum admin_wait_what what,
		     const char *node, uint32_t index, struct admin_wait **out,
		     struct why *why)
{
	struct admin_wait *w = slot_free(a);
	int err;

	if (!w)
		return why_fail(why, -ENOBUFS,
				"too many commands waiting for etcd: retry");
	*w = (struct admin_wait){ .a = a, .what = what, .index = index };
	snprintf(w->node, sizeof(w->node), "%s", node ? node : "");
	err = store_sync(a->st, saved, w);
	if (err) {
		w->a = NULL;
		return why_fail(why, err, "cannot wait for etcd: %s",
				strerror(-err));
	}
	a->kick(a->kick_arg);
	*out = w;
	return ADMIN_WAITING;
}

int admin_wait_reply(struct admin_wait *w, struct ctl_reply *r)
{
	int err = ctl_reply_later(r, &w->later, gone, w);

	if (!err)
		return CTL_LATER;
	store_sync_cancel(w->a->st, w);
	w->a = NULL;
	ctl_reply_printf(r, "cannot wait for etcd: %s\n", strerror(-err));
	return ADMIN_EXIT_FAIL;
}

bool admin_wait_room(struct admin *a)
{
	return slot_free(a) != NULL;
}

int admin_done_later(struct admin *a, const struct admin_done *d, int err,
		     struct why *why)
{
	struct admin_wait *w = slot_free(a);

	if (!w)
		return why_fail(why, -ENOBUFS,
				"too many changes waiting to be told: retry");
	*w = (struct admin_wait){
		.a = a, .done = *d, .ready = true, .err = err
	};
	a->kick(a->kick_arg);
	return 0;
}

void admin_waits_fire(struct admin *a)
{
	for (size_t i = 0; i < ADMIN_WAITS_MAX; i++)
		if (a->waits[i].a && a->waits[i].ready)
			end(&a->waits[i], a->waits[i].err);
}

void admin_waits_cancel(struct admin *a)
{
	for (size_t i = 0; i < ADMIN_WAITS_MAX; i++) {
		struct admin_wait *w = &a->waits[i];

		if (!w->a || w->later)
			continue;
		if (!w->ready)
			store_sync_cancel(a->st, w);
		end(w, w->ready ? w->err : -ECANCELED);
	}
}
