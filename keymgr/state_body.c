// SPDX-License-Identifier: MIT
/* keymgr state body: a versioned, length-checked binary encoding, checked both ways. */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/why.h"
#include "proto/node_id.h"
#include "state.h"
#include "state_int.h"

#define SERIAL_MAX 47
/* A node's flags byte (once "pending", 0 or 1: old data reads the same). */
#define NODE_F_PENDING 0x01 /* a pending key follows */
#define NODE_F_NAT 0x02	    /* behind NAT: its public address follows */

void state_extra_wipe(struct state_extra *x)
{
	if (!x)
		return;
	if (x->ca_key_pem) {
		sodium_memzero(x->ca_key_pem, x->ca_key_pem_len);
		free(x->ca_key_pem);
	}
	sodium_memzero(x, sizeof(*x));
}

/* ---- checks shared by save and load ---- */

static bool serial_valid(const char *s)
{
	size_t n = strnlen(s, SERIAL_MAX + 1);

	return n <= SERIAL_MAX && strspn(s, "0123456789abcdefABCDEF") == n;
}

static int keys_check(const struct node *n, struct why *why)
{
	size_t min = n->state == NODE_REMOVED ? 0 : 1;

	if (n->n_keys < min || n->n_keys > REGISTRY_KEYS_MAX)
		return why_fail(why, -EINVAL, "%zu static keys, want %zu..%d",
				n->n_keys, min, REGISTRY_KEYS_MAX);
	for (size_t i = 1; i < n->n_keys; i++)
		if (n->keys[i].from <= n->keys[i - 1].from)
			return why_fail(why, -EINVAL,
					"static key %zu from generation %u, "
					"not after %u",
					i + 1, n->keys[i].from,
					n->keys[i - 1].from);
	return 0;
}

int state_node_check(const struct node *n, struct why *why)
{
	if (!memchr(n->id, '\0', sizeof(n->id)) || !node_id_valid(n->id))
		return why_fail(why, -EINVAL,
				"bad id (want " NODE_ID_CHARSET "{1,%u})",
				NODE_ID_MAX);
	if (!n->index || n->index > REGISTRY_INDEX_MAX)
		return why_fail(why, -EINVAL, "bad index %u", n->index);
	if (!n->incarnation)
		return why_fail(why, -EINVAL, "bad incarnation 0");
	if ((unsigned int)n->state > NODE_REMOVED)
		return why_fail(why, -EINVAL, "bad state %d", (int)n->state);
	if (n->n_addrs > REGISTRY_ADDRS_MAX)
		return why_fail(why, -EINVAL, "%zu addresses, at most %d",
				n->n_addrs, REGISTRY_ADDRS_MAX);
	for (size_t i = 0; i < n->n_addrs; i++)
		if (n->addrs[i].len != 4 && n->addrs[i].len != 16)
			return why_fail(
				why, -EINVAL,
				"address %zu of length %u (want 4 or 16)",
				i + 1, n->addrs[i].len);
	if (n->nat && n->public_addr.len != 4 && n->public_addr.len != 16)
		return why_fail(why, -EINVAL,
				"public address of length %u (want 4 or 16)",
				n->public_addr.len);
	if (!n->nat && n->public_addr.len)
		return why_fail(why, -EINVAL,
				"a public address but not behind NAT");
	if (!memchr(n->cert_serial, '\0', sizeof(n->cert_serial)) ||
	    !serial_valid(n->cert_serial))
		return why_fail(
			why, -EINVAL,
			"bad certificate serial (want up to 47 hex digits)");
	return keys_check(n, why);
}

static int gens_check(const struct rotation *r, struct why *why)
{
	size_t committed = 0;

	if (r->n_gens > ROT_GENS_MAX)
		return why_fail(why, -EINVAL, "%zu generations, at most %d",
				r->n_gens, ROT_GENS_MAX);
	for (size_t i = 0; i < r->n_gens; i++) {
		const struct rot_gen *g = &r->gens[i];

		if (!g->g || (i && g->g <= r->gens[i - 1].g))
			return why_fail(
				why, -EINVAL,
				"generation numbers not increasing (%u at "
				"position %zu)",
				g->g, i + 1);
		if ((unsigned int)g->phase > GEN_RETIRING)
			return why_fail(why, -EINVAL,
					"generation %u: bad phase %d", g->g,
					(int)g->phase);
		committed += g->phase == GEN_COMMITTED;
	}
	if (committed > 1)
		return why_fail(why, -EINVAL, "%zu committed generations",
				committed);
	return 0;
}

int state_rot_check(const struct rotation *r, uint64_t revision,
		    struct why *why)
{
	const struct rot_gen *t = NULL;
	int err = gens_check(r, why);

	if (err)
		return err;
	if ((unsigned int)r->phase > ROT_GRACE)
		return why_fail(why, -EINVAL, "bad rotation phase %d",
				(int)r->phase);
	if (r->wait_revision > revision)
		return why_fail(why, -EINVAL,
				"awaited revision %llu is past revision %llu",
				(unsigned long long)r->wait_revision,
				(unsigned long long)revision);
	if (r->phase == ROT_IDLE)
		return 0;
	for (size_t i = 0; i < r->n_gens; i++)
		if (r->gens[i].g == r->target)
			t = &r->gens[i];
	if (!t)
		return why_fail(why, -EINVAL,
				"rotation target %u is not a live generation",
				r->target);
	if ((r->phase == ROT_PREPARE) != (t->phase == GEN_PREPARED) ||
	    t->phase == GEN_RETIRING)
		return why_fail(why, -EINVAL,
				"target generation %u in phase %d while the "
				"rotation is in phase %d",
				t->g, (int)t->phase, (int)r->phase);
	return 0;
}

/* ---- encoding ---- */

void state_put(struct state_wbuf *w, const void *d, size_t n)
{
	if (n && w->p && w->off <= w->len && n <= w->len - w->off)
		memcpy(w->p + w->off, d, n);
	w->off += n;
}

void state_put_be(struct state_wbuf *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	state_put(w, b, n);
}

void state_put_node(struct state_wbuf *w, const struct node *n)
{
	state_put_be(w, strlen(n->id), 1);
	state_put(w, n->id, strlen(n->id));
	state_put_be(w, n->index, 4);
	state_put_be(w, n->incarnation, 8);
	state_put(w, n->boot_id, REGISTRY_BOOT_ID_LEN);
	state_put_be(w, (uint64_t)n->state, 1);
	state_put_be(w, n->n_addrs, 1);
	for (size_t i = 0; i < n->n_addrs; i++) {
		state_put_be(w, n->addrs[i].len, 1);
		state_put(w, n->addrs[i].ip, n->addrs[i].len);
	}
	state_put_be(w, strlen(n->cert_serial), 1);
	state_put(w, n->cert_serial, strlen(n->cert_serial));
	state_put_be(w, n->n_keys, 1);
	for (size_t i = 0; i < n->n_keys; i++) {
		state_put_be(w, n->keys[i].from, 4);
		state_put(w, n->keys[i].pub, REGISTRY_PUB_LEN);
	}
	/* flags: a node neither NAT'd nor with a pending key reads as before */
	state_put_be(w,
		     (n->has_pending ? NODE_F_PENDING : 0) |
			     (n->nat ? NODE_F_NAT : 0),
		     1);
	if (n->has_pending)
		state_put(w, n->pending, REGISTRY_PUB_LEN);
	if (n->nat) {
		state_put_be(w, n->public_addr.len, 1);
		state_put(w, n->public_addr.ip, n->public_addr.len);
	}
}

static void put_body(struct state_wbuf *w, struct registry *reg,
		     const struct rotation *r, uint64_t revision,
		     const struct state_extra *x)
{
	size_t i;

	state_put_be(w, revision, 8);
	state_put_be(w, (uint64_t)r->phase, 1);
	state_put_be(w, r->target, 4);
	state_put_be(w, r->wait_revision, 8);
	state_put_be(w, r->next_due, 8);
	state_put_be(w, r->requested, 1);
	state_put_be(w, r->n_gens, 1);
	for (i = 0; i < r->n_gens; i++) {
		state_put_be(w, r->gens[i].g, 4);
		state_put_be(w, (uint64_t)r->gens[i].phase, 1);
		state_put(w, r->gens[i].epoch, KEYS_EPOCH_LEN);
	}
	state_put(w, x->token_secret, sizeof(x->token_secret));
	state_put_be(w, x->ca_key_pem_len, 4);
	state_put(w, x->ca_key_pem, x->ca_key_pem_len);
	for (i = 0; registry_at(reg, i); i++)
		;
	state_put_be(w, i, 4);
	for (i = 0; registry_at(reg, i); i++)
		state_put_node(w, registry_at(reg, i));
}

static int body_check(struct registry *reg, const struct rotation *rot,
		      uint64_t revision, const struct state_extra *x)
{
	struct why why = { "" };
	size_t i;

	if (state_rot_check(rot, revision, &why))
		return -EINVAL;
	if (x->ca_key_pem_len > STATE_PEM_MAX ||
	    (x->ca_key_pem_len &&
	     (!x->ca_key_pem ||
	      memchr(x->ca_key_pem, '\0', x->ca_key_pem_len))))
		return -EINVAL;
	for (i = 0; registry_at(reg, i); i++)
		if (state_node_check(registry_at(reg, i), &why))
			return -EINVAL;
	return i > REGISTRY_INDEX_MAX ? -EINVAL : 0;
}

int state_body_encode(struct registry *reg, const struct rotation *rot,
		      uint64_t revision, const struct state_extra *x,
		      uint8_t **out, size_t *len)
{
	struct state_wbuf w = { 0 };
	int err = body_check(reg, rot, revision, x);

	if (err)
		return err;
	put_body(&w, reg, rot, revision,
		 x); /* the size first: a secret never grows */
	if (w.off > STATE_FILE_MAX)
		return -EFBIG;
	w.p = sodium_malloc(w.off);
	if (!w.p)
		return -ENOMEM;
	w.len = w.off;
	w.off = 0;
	put_body(&w, reg, rot, revision, x);
	if (w.off != w.len) {
		sodium_free(w.p);
		return -EIO; /* a broken invariant */
	}
	*out = w.p;
	*len = w.len;
	return 0;
}

/* ---- decoding: every read is bounds-checked ---- */

const uint8_t *state_take(struct state_rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->truncated || n > r->len - r->off) {
		r->truncated = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint64_t state_get_be(struct state_rbuf *r, size_t n)
{
	const uint8_t *p = state_take(r, n);
	uint64_t v = 0;

	for (size_t i = 0; p && i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void state_get(struct state_rbuf *r, void *out, size_t n)
{
	const uint8_t *p = state_take(r, n);

	if (p)
		memcpy(out, p, n);
}

static int truncated(const struct state_rbuf *r, const char *where, size_t rec,
		     struct why *why)
{
	if (rec)
		return why_fail(why, -EBADMSG,
				"body truncated at byte %zu (%s %zu)", r->len,
				where, rec);
	return why_fail(why, -EBADMSG, "body truncated at byte %zu (%s)",
			r->len, where);
}

static int get_rot(struct state_rbuf *r, struct rotation *rot,
		   uint64_t *revision, struct why *why)
{
	uint8_t requested;

	*revision = state_get_be(r, 8);
	rot->phase = (enum rot_phase)state_get_be(r, 1);
	rot->target = (uint32_t)state_get_be(r, 4);
	rot->wait_revision = state_get_be(r, 8);
	rot->next_due = state_get_be(r, 8);
	requested = (uint8_t)state_get_be(r, 1);
	rot->n_gens = state_get_be(r, 1);
	if (rot->n_gens > ROT_GENS_MAX && !r->truncated)
		return why_fail(why, -EBADMSG, "%zu generations, at most %d",
				rot->n_gens, ROT_GENS_MAX);
	for (size_t i = 0; i < rot->n_gens && !r->truncated; i++) {
		rot->gens[i].g = (uint32_t)state_get_be(r, 4);
		rot->gens[i].phase = (enum gen_phase)state_get_be(r, 1);
		state_get(r, rot->gens[i].epoch, KEYS_EPOCH_LEN);
	}
	if (r->truncated)
		return truncated(r, "rotation", 0, why);
	if (requested > 1)
		return why_fail(why, -EBADMSG, "bad rotation request flag %u",
				requested);
	rot->requested = requested;
	return state_rot_check(rot, *revision, why) ? -EBADMSG : 0;
}

static int get_extra(struct state_rbuf *r, struct state_extra *x,
		     struct why *why)
{
	const uint8_t *pem;
	size_t n;

	state_get(r, x->token_secret, sizeof(x->token_secret));
	n = state_get_be(r, 4);
	if (!r->truncated && n > STATE_PEM_MAX)
		return why_fail(why, -EBADMSG,
				"CA key of %zu bytes, at most %d", n,
				STATE_PEM_MAX);
	pem = state_take(r, n);
	if (r->truncated)
		return truncated(r, "secrets", 0, why);
	if (n && memchr(pem, '\0', n))
		return why_fail(why, -EBADMSG, "CA key holds a NUL byte");
	if (!n)
		return 0;
	x->ca_key_pem = malloc(n + 1);
	if (!x->ca_key_pem)
		return why_fail(why, -ENOMEM, "out of memory");
	memcpy(x->ca_key_pem, pem, n);
	x->ca_key_pem[n] = '\0';
	x->ca_key_pem_len = n;
	return 0;
}

/*
 * A length-prefixed string (what) of node record rec, at most max bytes
 * and no NUL among them, into out[max + 1]. Truncation is not reported
 * here but once the record is read.
 */
static int get_str(struct state_rbuf *r, char *out, size_t max,
		   const char *what, size_t rec, struct why *why)
{
	size_t n = state_get_be(r, 1);

	if (r->truncated)
		return 0;
	if (n > max)
		return why_fail(why, -EBADMSG,
				"node record %zu: %s of %zu bytes", rec, what,
				n);
	state_get(r, out, n);
	out[n] = '\0';
	if (!r->truncated && memchr(out, '\0', n))
		return why_fail(why, -EBADMSG,
				"node record %zu: %s holds a NUL byte", rec,
				what);
	return 0;
}

/* Behind NAT: its public address (the flag said so). */
static int get_nat(struct state_rbuf *r, struct node *n, size_t rec,
		   struct why *why)
{
	n->nat = true;
	n->public_addr.len = (uint8_t)state_get_be(r, 1);
	if (!r->truncated && n->public_addr.len != 4 &&
	    n->public_addr.len != 16)
		return why_fail(why, -EBADMSG,
				"node record %zu: public address of length "
				"%u (want 4 or 16)",
				rec, n->public_addr.len);
	state_get(r, n->public_addr.ip, n->public_addr.len);
	return 0;
}

/* The node's static public keys, its pending one, its public address. */
static int get_keys(struct state_rbuf *r, struct node *n, size_t rec,
		    struct why *why)
{
	uint8_t flags;

	n->n_keys = state_get_be(r, 1);
	if (!r->truncated && n->n_keys > REGISTRY_KEYS_MAX)
		return why_fail(why, -EBADMSG,
				"node record %zu: %zu static keys, at most %d",
				rec, n->n_keys, REGISTRY_KEYS_MAX);
	for (size_t i = 0; i < n->n_keys && !r->truncated; i++) {
		n->keys[i].from = (uint32_t)state_get_be(r, 4);
		state_get(r, n->keys[i].pub, REGISTRY_PUB_LEN);
	}
	flags = (uint8_t)state_get_be(r, 1);
	if (!r->truncated && (flags & ~(NODE_F_PENDING | NODE_F_NAT)))
		return why_fail(why, -EBADMSG,
				"node record %zu: bad flags 0x%x", rec, flags);
	n->has_pending = flags & NODE_F_PENDING;
	if (n->has_pending)
		state_get(r, n->pending, REGISTRY_PUB_LEN);
	if ((flags & NODE_F_NAT) && !r->truncated)
		return get_nat(r, n, rec, why);
	return 0;
}

int state_get_node(struct state_rbuf *r, struct node *n, size_t rec,
		   struct why *why)
{
	size_t i;
	int err;

	memset(n, 0, sizeof(*n));
	err = get_str(r, n->id, REGISTRY_ID_MAX, "id", rec, why);
	if (err)
		return err;
	n->index = (uint32_t)state_get_be(r, 4);
	n->incarnation = state_get_be(r, 8);
	state_get(r, n->boot_id, REGISTRY_BOOT_ID_LEN);
	n->state = (enum node_state)state_get_be(r, 1);
	n->n_addrs = state_get_be(r, 1);
	if (!r->truncated && n->n_addrs > REGISTRY_ADDRS_MAX)
		return why_fail(why, -EBADMSG,
				"node record %zu: %zu addresses, at most %d",
				rec, n->n_addrs, REGISTRY_ADDRS_MAX);
	for (i = 0; i < n->n_addrs && !r->truncated; i++) {
		n->addrs[i].len = (uint8_t)state_get_be(r, 1);
		if (!r->truncated && n->addrs[i].len != 4 &&
		    n->addrs[i].len != 16)
			return why_fail(
				why, -EBADMSG,
				"node record %zu: address %zu of length "
				"%u (want 4 or 16)",
				rec, i + 1, n->addrs[i].len);
		state_get(r, n->addrs[i].ip, n->addrs[i].len);
	}
	err = get_str(r, n->cert_serial, SERIAL_MAX, "certificate serial", rec,
		      why);
	if (!err)
		err = get_keys(r, n, rec, why);
	if (err)
		return err;
	return r->truncated ? truncated(r, "node record", rec, why) : 0;
}

static int get_nodes(struct state_rbuf *r, struct registry *reg,
		     struct why *why)
{
	struct why what = { "" };
	struct node n;
	size_t count = state_get_be(r, 4);
	int err;

	if (r->truncated)
		return truncated(r, "node count", 0, why);
	if (count > REGISTRY_INDEX_MAX)
		return why_fail(why, -EBADMSG, "%zu nodes, at most %u", count,
				REGISTRY_INDEX_MAX);
	for (size_t rec = 1; rec <= count; rec++) {
		err = state_get_node(r, &n, rec, why);
		if (err)
			return err;
		if (state_node_check(&n, &what))
			return why_fail(why, -EBADMSG, "node record %zu: %s",
					rec, what.msg);
		if (n.state == NODE_CONNECTED)
			n.state = NODE_DISCONNECTED; /* we just started */
		err = registry_restore(reg, &n);
		if (err == -EEXIST)
			return why_fail(why, -EBADMSG,
					"node record %zu: id %s or index %u "
					"already taken",
					rec, n.id, n.index);
		if (err)
			return why_fail(why, err, "node record %zu: %s", rec,
					strerror(-err));
	}
	return 0;
}

void state_rot_wipe(struct rotation *rot)
{
	sodium_memzero(rot->gens, sizeof(rot->gens));
	rot->n_gens = 0;
	rot->wait_revision = rot->next_due = 0;
	rot->phase = ROT_IDLE;
	rot->target = 0;
	rot->requested = false;
}

int state_body_decode(const uint8_t *buf, size_t len, struct registry *reg,
		      struct rotation *rot, uint64_t *revision,
		      struct state_extra *x, struct why *why)
{
	struct state_rbuf r = { buf, len, 0, false };
	int err;

	memset(x, 0, sizeof(*x));
	err = get_rot(&r, rot, revision, why);
	if (!err)
		err = get_extra(&r, x, why);
	if (!err)
		err = get_nodes(&r, reg, why);
	if (!err && r.off != len)
		err = why_fail(why, -EBADMSG,
			       "%zu bytes of trailing data after byte %zu",
			       len - r.off, r.off);
	if (err) {
		state_rot_wipe(rot);
		*revision = 0;
		state_extra_wipe(x);
	}
	return err;
}
