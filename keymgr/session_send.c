// SPDX-License-Identifier: MIT
/* vxsec-keymgr: what goes to agents — snapshots and deltas fanned out under flow control, errors, join answers. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "session_int.h"

/* ---- sending ---- */

/* Counts what is queued on cl's connection against the in-flight cap. */
static void account(struct client *cl)
{
	cl->ss->inflight -= cl->inflight;
	cl->inflight = conn_queued(cl->conn);
	cl->ss->inflight += cl->inflight;
}

/* Queues a frame and frees it (wiped). */
void session_send_frame(struct client *cl, uint8_t *f, size_t len)
{
	conn_send(cl->conn, f, len);
	account(cl);
	frame_buf_free(f, len);
}

/* Tells the peer why in an error frame, logs it once, closes after. */
void session_refuse(struct client *cl, int code, const char *why)
{
	uint64_t quiet;

	if (cl->closing)
		return;
	if (!cl->counted)
		log_warn("%s (%s): refused: %s", cl->addr,
			 cl->peer[0] ? cl->peer : "joining", why);
	else if (log_limit_pass(&cl->ss->hs_log, loop_now_ms(), &quiet))
		log_warn("%s (%s): refused: %s (%llu more events before "
			 "authentication not logged)",
			 cl->addr, cl->peer[0] ? cl->peer : "joining", why,
			 (unsigned long long)quiet);
	session_refuse_quiet(cl, code, why);
}

void session_refuse_quiet(struct client *cl, int code, const char *why)
{
	uint8_t *f;
	size_t len;

	if (cl->closing)
		return;
	if (wire_error(code, why, &f, &len) == 0)
		session_send_frame(cl, f, len);
	cl->closing = true;
	conn_close(cl->conn, why, true);
}

/* The Error frame, then close: no log line (the caller logs). */
static void not_leader_quiet(struct client *cl, const char *why)
{
	uint8_t *f;
	size_t len;

	if (cl->closing)
		return;
	if (wire_not_leader(why, cl->ss->leader_addr, &f, &len) == 0)
		session_send_frame(cl, f, len);
	cl->closing = true;
	conn_close(cl->conn, why, true);
}

void session_refuse_not_leader(struct client *cl, const char *why)
{
	if (cl->closing)
		return;
	log_info("%s (%s): refused: %s%s%s", cl->addr,
		 cl->peer[0] ? cl->peer : "joining", why,
		 cl->ss->leader_addr[0] ? "; the leader is at " : "",
		 cl->ss->leader_addr);
	not_leader_quiet(cl, why);
}

void session_set_term(struct sessions *ss, uint64_t term)
{
	if (term != ss->term)
		session_prep_free(ss); /* encoded with the old term */
	ss->term = term;
}

static bool leader_addr_ok(const char *a)
{
	size_t n = strlen(a);

	if (n > PROTO_LEADER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (a[i] <= ' ' || a[i] > '~')
			return false;
	return true;
}

int session_set_leader(struct sessions *ss, const char *leader_addr)
{
	ss->leader_addr[0] = '\0';
	if (!leader_addr)
		return 0;
	if (!leader_addr_ok(leader_addr))
		return -EINVAL;
	snprintf(ss->leader_addr, sizeof(ss->leader_addr), "%s", leader_addr);
	return 0;
}

void session_refuse_all(struct sessions *ss, const char *leader_addr)
{
	static const char why[] = "this instance is no longer the leader";
	struct client *cl, *next;
	size_t told = 0, closed = 0;

	if (session_set_leader(ss, leader_addr))
		log_warn("stepping down: leader address \"%.64s\" cannot go on "
			 "the wire: the agents are not told where to go",
			 leader_addr);
	for (cl = ss->clients; cl; cl = next) {
		next = cl->next; /* a close at once frees cl */
		if (cl->closing)
			continue;
		if (cl->index) {
			not_leader_quiet(cl, why);
			told++;
		} else {
			cl->closing = true;
			conn_close(cl->conn, why, false);
			closed++;
		}
	}
	log_info("stepping down: %zu sessions refused with not-leader%s%s, "
		 "%zu other connections closed",
		 told, ss->leader_addr[0] ? " naming " : "", ss->leader_addr,
		 closed);
}

static void enqueue(struct client *cl)
{
	struct sessions *ss = cl->ss;

	if (cl->queued || cl->closing)
		return;
	cl->queued = true;
	cl->qnext = NULL;
	if (ss->qtail)
		ss->qtail->qnext = cl;
	else
		ss->qhead = cl;
	ss->qtail = cl;
}

static struct client *dequeue(struct sessions *ss)
{
	struct client *cl = ss->qhead;

	if (!cl)
		return NULL;
	ss->qhead = cl->qnext;
	if (!ss->qhead)
		ss->qtail = NULL;
	cl->queued = false;
	return cl;
}

/* Owes this client something that is already on disk. */
static bool owed(const struct client *cl)
{
	uint64_t on_disk = store_persisted(cl->ss->st);

	return cl->index && !cl->closing &&
	       (cl->snapshot ? on_disk > 0 : cl->sent < on_disk);
}

/*
 * Whether cl's changes may go now (PACE_MS): a snapshot, a step of a
 * rotation, the rest of a batch that hit its cap, or its turn (within a fifth
 * of the pace, so one timer serves many). Else *due is lowered to its turn.
 */
static bool turn(const struct client *cl, uint64_t now, uint64_t *due)
{
	uint64_t at = cl->paced_ms + PACE_MS;

	if (cl->snapshot || cl->backlog ||
	    cl->sent < cluster_rot_revision(cl->ss->cl) ||
	    now + PACE_MS / 5 >= at)
		return true;
	if (at < *due)
		*due = at;
	return false;
}

static void on_pace(struct loop *l, struct loop_timer *t, void *arg)
{
	struct sessions *ss = arg;

	(void)l, (void)t;
	ss->pace_at = 0;
	session_pump_all(ss);
}

/* The pump runs again at due (CLOCK_MONOTONIC ms), if not sooner. */
static void pace_arm(struct sessions *ss, uint64_t due, uint64_t now)
{
	if (due == UINT64_MAX || (ss->pace_at && ss->pace_at <= due))
		return;
	if (!ss->pace)
		ss->pace = loop_timer_new(ss->loop, on_pace, ss);
	if (!ss->pace) {
		session_kick(ss); /* no timer: the next round, at once */
		return;
	}
	ss->pace_at = due;
	loop_timer_arm(ss->pace, due > now ? due - now : 1, 0);
}

void session_prep_free(struct sessions *ss)
{
	if (ss->prep)
		sodium_free(ss->prep); /* wipes it */
	ss->prep = NULL;
	ss->prep_len = 0;
	ss->prep_rev = 0;
	ss->prep_gen = 0;
}

/*
 * The prepare change ch as a frame of its own (freed by the caller), a
 * copy of the one encoded for every member at its revision.
 */
static int prepare_frame(struct sessions *ss, const struct change *ch,
			 uint8_t **f, size_t *len)
{
	uint8_t *enc;
	size_t n;
	int err;

	if (!ss->prep || ss->prep_rev != ch->revision) {
		err = wire_prepare(ss->cl, ch, ss->term, &enc, &n);
		if (err)
			return err;
		session_prep_free(ss);
		ss->prep = sodium_malloc(n);
		if (ss->prep)
			memcpy(ss->prep, enc, n);
		frame_buf_free(enc, n);
		if (!ss->prep)
			return -ENOMEM;
		ss->prep_len = n;
		ss->prep_rev = ch->revision;
		ss->prep_gen = ch->generation;
	}
	*f = malloc(ss->prep_len);
	if (!*f)
		return -ENOMEM;
	memcpy(*f, ss->prep, ss->prep_len);
	*len = ss->prep_len;
	return 0;
}

/*
 * Renders the next frame owed to cl: a snapshot, or the change after what
 * it was sent, from the current state. 1 and the frame, 0 if nothing on
 * disk is owed, or -errno.
 */
static int render_next(struct client *cl, uint8_t **f, size_t *len)
{
	struct cluster *c = cl->ss->cl;
	const struct node *me = cluster_node(c, cl->index);
	struct change ch;
	int err;

	*f = NULL;
	*len = 0;
	while (owed(cl)) {
		if (cl->snapshot) {
			if (cluster_revision(c) > store_persisted(cl->ss->st))
				return 0; /* the snapshot waits for the disk */
			cl->snapshot = false;
			cl->sent = cluster_revision(c);
			err = wire_snapshot(c, me, cl->ss->term, f, len);
			return err ? err : 1;
		}
		err = cluster_change_after(c, cl->sent, &ch);
		if (err == -ESTALE) {
			cl->snapshot = true;
			continue;
		}
		if (err)
			return 0;
		if (ch.type == CHG_PREPARE)
			err = prepare_frame(cl->ss, &ch, f, len);
		else
			err = wire_delta(c, me, &ch, cl->ss->term, f, len);
		if (err == -ESTALE) {
			cl->snapshot = true;
			continue;
		}
		cl->sent = ch.revision;
		if (err != -ENODATA)
			return err ? err : 1;
	}
	return 0;
}

/*
 * Queues what cl is owed as one write: up to BATCH_FRAMES frames or
 * BATCH_BYTES (one snapshot ends a batch). 1 if anything was queued.
 */
#define BATCH_FRAMES 256
#define BATCH_BYTES ((size_t)1 << 20)

static int pump_one(struct client *cl)
{
	uint8_t *f[BATCH_FRAMES], *all;
	size_t len[BATCH_FRAMES], total = 0, n = 0, off = 0;
	int err = 0;

	while (n < BATCH_FRAMES && total < BATCH_BYTES &&
	       (err = render_next(cl, &f[n], &len[n])) == 1)
		total += len[n++];
	if (err < 0) {
		while (n--)
			frame_buf_free(f[n], len[n]);
		session_refuse(cl, WERR_INTERNAL, "cannot encode its state");
		return 0;
	}
	cl->backlog = n == BATCH_FRAMES || total >= BATCH_BYTES;
	if (n)
		cl->paced_ms = loop_mono_ms();
	if (n == 1)
		session_send_frame(cl, f[0], len[0]);
	if (n <= 1)
		return (int)n;
	all = malloc(total);
	for (size_t i = 0; i < n; i++) {
		if (all)
			memcpy(all + off, f[i], len[i]);
		off += len[i];
		frame_buf_free(f[i], len[i]);
	}
	if (!all) {
		session_refuse(cl, WERR_INTERNAL, "out of memory");
		return 0;
	}
	session_send_frame(cl, all, total);
	return 1;
}

/* Serves the queue: one batch at a time per client, the total capped. */
static void pump_queue(struct sessions *ss)
{
	struct client *cl;

	while (ss->inflight < INFLIGHT_MAX && (cl = dequeue(ss)))
		if (!cl->inflight && pump_one(cl) && owed(cl) && !cl->inflight)
			enqueue(cl); /* written at once, more is owed */
}

void session_pump_all(struct sessions *ss)
{
	uint64_t now = loop_mono_ms(), due = UINT64_MAX;

	if (ss->prep && !cluster_gen(ss->cl, ss->prep_gen))
		session_prep_free(ss); /* its E_g retired: wipe it now */
	for (struct client *cl = ss->clients; cl; cl = cl->next)
		if (owed(cl) && !cl->inflight && turn(cl, now, &due))
			enqueue(cl);
	pump_queue(ss);
	pace_arm(ss, due, now);
}

void session_on_drained(struct conn *c, void *arg)
{
	struct client *cl = arg;
	struct sessions *ss = cl->ss;
	uint64_t now = loop_mono_ms(), due = UINT64_MAX;

	(void)c;
	account(cl);
	if (owed(cl) && !cl->inflight) {
		if (!turn(cl, now, &due))
			pace_arm(ss, due, now); /* not its turn yet */
		else if (ss->inflight < INFLIGHT_MAX)
			pump_one(cl);
	}
	if (owed(cl) && !cl->inflight && turn(cl, now, &due))
		enqueue(cl);
	/* Room again: give the waiting ones a turn. */
	if (ss->qhead && ss->inflight < INFLIGHT_MAX / 2)
		pump_queue(ss);
}

void session_release_replies(struct sessions *ss)
{
	uint64_t on_disk = store_persisted(ss->st);

	for (struct client *cl = ss->clients; cl && ss->n_replies;
	     cl = cl->next) {
		if (!cl->reply || cl->reply_after > on_disk)
			continue;
		session_send_frame(cl, cl->reply, cl->reply_len);
		cl->reply = NULL;
		ss->n_replies--;
		cl->closing = true;
		events_node(ss->ev, EV_MEMBER_JOINED,
			    cluster_find(ss->cl, cl->peer), NULL);
		conn_close(cl->conn, "joined", true);
	}
}
