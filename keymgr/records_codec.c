// SPDX-License-Identifier: MIT
/* keymgr records: the state into records (meta, ca, token, gen/<g>, node/<index>) and back, checked both ways. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/why.h"
#include "records.h"
#include "state_int.h"

#define FLAG_AUTOLOCK 0x0001u
#define GEN_PREFIX "gen/"
#define GEN_DIGITS 10
#define NODE_PREFIX "node/"
#define NODE_DIGITS 8
#define TOKEN_LEN 32
#define GEN_PLAIN_LEN (4 + 1 + KEYS_EPOCH_LEN)
#define SMALL_MAX 512 /* every record but ca fits */

/* ---- names ---- */

/* s is exactly n decimal digits of a value in min..max, into *v. */
static bool digits_in(const char *s, size_t n, uint64_t min, uint64_t max,
		      uint64_t *v)
{
	uint64_t x = 0;

	if (strnlen(s, n + 1) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return x >= min && x <= max;
}

static bool gen_name(const char *name, uint32_t *g)
{
	uint64_t v;

	if (strncmp(name, GEN_PREFIX, strlen(GEN_PREFIX)) != 0 ||
	    !digits_in(name + strlen(GEN_PREFIX), GEN_DIGITS, 1, UINT32_MAX,
		       &v))
		return false;
	*g = (uint32_t)v;
	return true;
}

static bool node_name(const char *name, uint32_t *index)
{
	uint64_t v;

	if (strncmp(name, NODE_PREFIX, strlen(NODE_PREFIX)) != 0 ||
	    !digits_in(name + strlen(NODE_PREFIX), NODE_DIGITS, 1,
		       REGISTRY_INDEX_MAX, &v))
		return false;
	*index = (uint32_t)v;
	return true;
}

bool record_name_known(const char *name)
{
	uint32_t n;

	return strcmp(name, "meta") == 0 || strcmp(name, "ca") == 0 ||
	       strcmp(name, "token") == 0 || gen_name(name, &n) ||
	       node_name(name, &n);
}

/* ---- encoding ---- */

struct meta_in {
	const struct rotation *rot;
	uint64_t revision;
	bool autolock;
	size_t n_nodes;
};

struct ca_in {
	const char *cert;
	size_t cert_len;
	const struct state_extra *x;
};

typedef void put_fn(struct state_wbuf *w, const void *arg);

static void put_meta(struct state_wbuf *w, const void *arg)
{
	const struct meta_in *m = arg;
	const struct rotation *r = m->rot;

	state_put_be(w, RECORDS_FORMAT, 2);
	state_put_be(w, m->autolock ? FLAG_AUTOLOCK : 0, 2);
	state_put_be(w, m->revision, 8);
	state_put_be(w, (uint64_t)r->phase, 1);
	state_put_be(w, r->target, 4);
	state_put_be(w, r->wait_revision, 8);
	state_put_be(w, r->next_due, 8);
	state_put_be(w, r->requested, 1);
	state_put_be(w, r->n_gens, 1);
	for (size_t i = 0; i < r->n_gens; i++)
		state_put_be(w, r->gens[i].g, 4);
	state_put_be(w, m->n_nodes, 4);
}

static void put_ca(struct state_wbuf *w, const void *arg)
{
	const struct ca_in *c = arg;

	state_put_be(w, c->cert_len, 4);
	state_put(w, c->cert, c->cert_len);
	state_put_be(w, c->x->ca_key_pem_len, 4);
	state_put(w, c->x->ca_key_pem, c->x->ca_key_pem_len);
}

static void put_token(struct state_wbuf *w, const void *arg)
{
	const struct state_extra *x = arg;

	state_put(w, x->token_secret, TOKEN_LEN);
}

static void put_gen(struct state_wbuf *w, const void *arg)
{
	const struct rot_gen *g = arg;

	state_put_be(w, g->g, 4);
	state_put_be(w, (uint64_t)g->phase, 1);
	state_put(w, g->epoch, KEYS_EPOCH_LEN);
}

/* A node as a load makes it: never connected. */
static void put_node(struct state_wbuf *w, const void *arg)
{
	struct node n = *(const struct node *)arg;

	if (n.state == NODE_CONNECTED)
		n.state = NODE_DISCONNECTED;
	state_put_node(w, &n);
}

/* What put writes for arg, as record name (no secret left behind). */
static int add_put(struct record_set *s, const char *name, put_fn *put,
		   const void *arg)
{
	uint8_t small[SMALL_MAX];
	struct state_wbuf w = { small, sizeof(small), 0 };
	int err = 0;

	put(&w, arg); /* the size first: only ca may not fit in small */
	if (w.off > RECORD_PLAIN_MAX) {
		err = -EINVAL;
	} else if (w.off > sizeof(small)) {
		w.p = sodium_malloc(w.off);
		err = w.p ? 0 : -ENOMEM;
		w.len = w.off;
		w.off = 0;
		if (w.p)
			put(&w, arg);
	}
	if (!err && w.off > w.len)
		err = -EIO; /* a broken invariant: put wrote more the 2nd time */
	if (!err)
		err = record_set_add(s, name, w.p, w.off);
	if (w.p != small)
		sodium_free(w.p);
	sodium_memzero(small, sizeof(small));
	return err;
}

static bool pem_ok(const char *pem, size_t len)
{
	return len <= STATE_PEM_MAX &&
	       (!len || (pem && !memchr(pem, '\0', len)));
}

/* What records_decode() would refuse: -EINVAL. */
static int encode_check(struct registry *reg, const struct rotation *rot,
			uint64_t revision, const struct state_extra *x,
			const char *cert, size_t cert_len, size_t *n_nodes)
{
	struct why why = { "" };
	size_t i;

	if (state_rot_check(rot, revision, &why))
		return -EINVAL;
	if (!pem_ok(cert, cert_len) ||
	    !pem_ok(x->ca_key_pem, x->ca_key_pem_len))
		return -EINVAL;
	for (i = 0; registry_at(reg, i); i++)
		if (state_node_check(registry_at(reg, i), &why))
			return -EINVAL;
	*n_nodes = i;
	return i > REGISTRY_INDEX_MAX ? -EINVAL : 0;
}

static int add_gens_nodes(struct record_set *s, struct registry *reg,
			  const struct rotation *rot)
{
	char name[RECORD_NAME_MAX];
	const struct node *n;
	int err = 0;

	for (size_t i = 0; !err && i < rot->n_gens; i++) {
		snprintf(name, sizeof(name), GEN_PREFIX "%0*u", GEN_DIGITS,
			 rot->gens[i].g);
		err = add_put(s, name, put_gen, &rot->gens[i]);
	}
	for (size_t i = 0; !err && (n = registry_at(reg, i)); i++) {
		snprintf(name, sizeof(name), NODE_PREFIX "%0*u", NODE_DIGITS,
			 n->index);
		err = add_put(s, name, put_node, n);
	}
	return err;
}

int records_encode(struct registry *reg, const struct rotation *rot,
		   uint64_t revision, const struct state_extra *x,
		   const char *ca_cert_pem, size_t ca_cert_len, bool autolock,
		   struct record_set *out)
{
	struct meta_in m = { rot, revision, autolock, 0 };
	struct ca_in c = { ca_cert_pem, ca_cert_len, x };
	int err;

	record_set_clear(out);
	err = encode_check(reg, rot, revision, x, ca_cert_pem, ca_cert_len,
			   &m.n_nodes);
	if (!err)
		err = add_put(out, "meta", put_meta, &m);
	if (!err)
		err = add_put(out, "ca", put_ca, &c);
	if (!err)
		err = add_gens_nodes(out, reg, rot);
	if (!err)
		err = add_put(out, "token", put_token, x);
	if (err)
		record_set_clear(out);
	return err;
}

/* ---- decoding ---- */

static int ended(const struct state_rbuf *r, const char *name, struct why *why)
{
	if (r->truncated)
		return why_fail(why, -EBADMSG,
				"record %s: truncated at byte %zu", name,
				r->len);
	if (r->off != r->len)
		return why_fail(why, -EBADMSG,
				"record %s: %zu bytes of trailing data after "
				"byte %zu",
				name, r->len - r->off, r->off);
	return 0;
}

static const struct record *need(const struct record_set *in, const char *name,
				 struct why *why)
{
	const struct record *rec = record_set_find(in, name);

	if (!rec)
		why_set(why, "record %s missing", name);
	return rec;
}

/* meta's format first: a newer one may lay out the rest otherwise. */
static int meta_format(struct state_rbuf *r, struct why *why)
{
	uint64_t format = state_get_be(r, 2);

	if (r->truncated)
		return ended(r, "meta", why);
	if (format != RECORDS_FORMAT)
		return why_fail(why, -EPROTONOSUPPORT,
				"record meta: format %u, this build reads %d",
				(unsigned int)format, RECORDS_FORMAT);
	return 0;
}

static int decode_meta(const struct record *m, struct rotation *rot,
		       uint64_t *revision, bool *autolock, size_t *n_nodes,
		       struct why *why)
{
	struct state_rbuf r = { m->plain, m->len, 0, false };
	uint64_t flags, requested;
	int err = meta_format(&r, why);

	if (err)
		return err;
	flags = state_get_be(&r, 2);
	*revision = state_get_be(&r, 8);
	rot->phase = (enum rot_phase)state_get_be(&r, 1);
	rot->target = (uint32_t)state_get_be(&r, 4);
	rot->wait_revision = state_get_be(&r, 8);
	rot->next_due = state_get_be(&r, 8);
	requested = state_get_be(&r, 1);
	rot->n_gens = state_get_be(&r, 1);
	if (!r.truncated && rot->n_gens > ROT_GENS_MAX)
		return why_fail(why, -EBADMSG,
				"record meta: %zu generations, at most %d",
				rot->n_gens, ROT_GENS_MAX);
	for (size_t i = 0; i < rot->n_gens && !r.truncated; i++)
		rot->gens[i].g = (uint32_t)state_get_be(&r, 4);
	*n_nodes = state_get_be(&r, 4);
	err = ended(&r, "meta", why);
	if (!err && flags & ~(uint64_t)FLAG_AUTOLOCK)
		err = why_fail(why, -EBADMSG, "record meta: unknown flags 0x%x",
			       (unsigned int)flags);
	if (!err && requested > 1)
		err = why_fail(why, -EBADMSG,
			       "record meta: bad rotation request flag %u",
			       (unsigned int)requested);
	if (!err && *n_nodes > REGISTRY_INDEX_MAX)
		err = why_fail(why, -EBADMSG,
			       "record meta: %zu nodes, at most %u", *n_nodes,
			       REGISTRY_INDEX_MAX);
	rot->requested = requested;
	*autolock = flags & FLAG_AUTOLOCK;
	return err;
}

/* The gens meta lists, each from its record; then the rotation as a whole. */
static int decode_gens(const struct record_set *in, struct rotation *rot,
		       uint64_t revision, struct why *why)
{
	struct why what = { "" };
	char name[RECORD_NAME_MAX];
	const struct record *rec;
	struct state_rbuf r;
	int err = 0;

	for (size_t i = 0; !err && i < rot->n_gens; i++) {
		struct rot_gen *g = &rot->gens[i];

		snprintf(name, sizeof(name), GEN_PREFIX "%0*u", GEN_DIGITS,
			 g->g);
		rec = need(in, name, why);
		if (!rec)
			return -EBADMSG;
		r = (struct state_rbuf){ rec->plain, rec->len, 0, false };
		if (state_get_be(&r, 4) != g->g && !r.truncated)
			return why_fail(why, -EBADMSG,
					"record %s: holds another generation",
					name);
		g->phase = (enum gen_phase)state_get_be(&r, 1);
		state_get(&r, g->epoch, KEYS_EPOCH_LEN);
		err = ended(&r, name, why);
	}
	if (!err && state_rot_check(rot, revision, &what))
		err = why_fail(why, -EBADMSG, "records meta and gen/: %s",
			       what.msg);
	return err;
}

static int get_pem(struct state_rbuf *r, char **out, size_t *len, bool always,
		   const char *what, struct why *why)
{
	size_t n = state_get_be(r, 4);
	const uint8_t *p;

	if (!r->truncated && n > STATE_PEM_MAX)
		return why_fail(why, -EBADMSG,
				"record ca: %s of %zu bytes, "
				"at most %d",
				what, n, STATE_PEM_MAX);
	p = state_take(r, n);
	if (r->truncated)
		return ended(r, "ca", why);
	if (n && memchr(p, '\0', n))
		return why_fail(why, -EBADMSG, "record ca: %s holds a NUL byte",
				what);
	if (!n && !always)
		return 0;
	*out = malloc(n + 1);
	if (!*out)
		return why_fail(why, -ENOMEM, "record ca: out of memory");
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	*len = n;
	return 0;
}

static int decode_secrets(const struct record_set *in, struct state_extra *x,
			  char **cert, size_t *cert_len, struct why *why)
{
	const struct record *ca = need(in, "ca", why);
	const struct record *token = ca ? need(in, "token", why) : NULL;
	struct state_rbuf r;
	int err;

	if (!token)
		return -EBADMSG;
	r = (struct state_rbuf){ ca->plain, ca->len, 0, false };
	err = get_pem(&r, cert, cert_len, true, "certificate", why);
	if (!err)
		err = get_pem(&r, &x->ca_key_pem, &x->ca_key_pem_len, false,
			      "key", why);
	if (!err)
		err = ended(&r, "ca", why);
	if (!err && token->len != TOKEN_LEN)
		err = why_fail(why, -EBADMSG,
			       "record token: %zu bytes, want %d", token->len,
			       TOKEN_LEN);
	if (!err)
		memcpy(x->token_secret, token->plain, TOKEN_LEN);
	return err;
}

static int decode_node(const struct record *rec, uint32_t index,
		       struct registry *reg, struct why *why)
{
	struct state_rbuf r = { rec->plain, rec->len, 0, false };
	struct why what = { "" };
	struct node n;
	int err = state_get_node(&r, &n, index, &what);

	if (!err && r.off != r.len)
		return ended(&r, rec->name, why);
	if (!err && n.index != index)
		err = why_fail(&what, -EBADMSG, "holds index %u", n.index);
	if (!err && state_node_check(&n, &what))
		err = -EBADMSG;
	if (!err) {
		if (n.state == NODE_CONNECTED)
			n.state = NODE_DISCONNECTED; /* nobody is, yet */
		err = registry_restore(reg, &n);
		if (err == -EEXIST)
			err = why_fail(&what, -EBADMSG,
				       "id %s already taken by another node",
				       n.id);
		else if (err)
			why_set(&what, "%s", strerror(-err));
	}
	if (err)
		why_set(why, "record %s: %s", rec->name, what.msg);
	return err;
}

static bool gen_listed(const struct rotation *rot, uint32_t g)
{
	for (size_t i = 0; i < rot->n_gens; i++)
		if (rot->gens[i].g == g)
			return true;
	return false;
}

/* Every node record, and nothing but the records meta wants. */
static int decode_nodes(const struct record_set *in, const struct rotation *rot,
			size_t n_nodes, struct registry *reg, struct why *why)
{
	size_t count = 0;
	uint32_t v;
	int err = 0;

	for (size_t i = 0; !err && i < in->n; i++) {
		const struct record *rec = &in->v[i];

		if (strcmp(rec->name, "meta") == 0 ||
		    strcmp(rec->name, "ca") == 0 ||
		    strcmp(rec->name, "token") == 0)
			continue;
		if (gen_name(rec->name, &v)) {
			if (!gen_listed(rot, v))
				err = why_fail(why, -EBADMSG,
					       "record %s: a generation meta "
					       "does not list",
					       rec->name);
		} else if (node_name(rec->name, &v)) {
			count++;
			err = decode_node(rec, v, reg, why);
		} else {
			err = why_fail(why, -EBADMSG, "record %s: unknown name",
				       rec->name);
		}
	}
	if (!err && count != n_nodes)
		err = why_fail(why, -EBADMSG,
			       "record meta counts %zu nodes, %zu node records "
			       "found",
			       n_nodes, count);
	return err;
}

int records_decode(const struct record_set *in, struct registry *reg,
		   struct rotation *rot, uint64_t *revision,
		   struct state_extra *x, char **ca_cert_pem,
		   size_t *ca_cert_len, bool *autolock, struct why *why)
{
	const struct record *meta = need(in, "meta", why);
	size_t n_nodes = 0;
	int err = meta ? 0 : -EBADMSG;

	memset(x, 0, sizeof(*x));
	*ca_cert_pem = NULL;
	*ca_cert_len = 0;
	*autolock = false;
	*revision = 0;
	if (!err)
		err = decode_meta(meta, rot, revision, autolock, &n_nodes, why);
	if (!err)
		err = decode_gens(in, rot, *revision, why);
	if (!err)
		err = decode_secrets(in, x, ca_cert_pem, ca_cert_len, why);
	if (!err)
		err = decode_nodes(in, rot, n_nodes, reg, why);
	if (err) {
		state_rot_wipe(rot);
		*revision = 0;
		*autolock = false;
		state_extra_wipe(x);
		free(*ca_cert_pem);
		*ca_cert_pem = NULL;
		*ca_cert_len = 0;
	}
	return err;
}
