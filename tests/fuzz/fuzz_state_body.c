// SPDX-License-Identifier: MIT
/* Fuzz target: the state body decoder; what it accepts encodes back to the same bytes. */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "keymgr/state.h"
#include "tests/fuzz/fuzz.h"

struct loaded {
	struct registry *reg;
	struct rotation rot;
	uint64_t revision;
	struct state_extra x;
};

static const struct rot_config cfg = { 1000, 100, 10 };

/* A refusal says why and leaves no secret behind (state.h). */
static void check_refusal(const struct loaded *l, int err, const char *why)
{
	static const struct state_extra zero;

	if (err != -EBADMSG && err != -ENOMEM)
		abort();
	if (!why[0])
		abort();
	if (!sodium_is_zero((const unsigned char *)l->rot.gens,
			    sizeof(l->rot.gens)) ||
	    l->rot.n_gens || l->revision ||
	    memcmp(&l->x, &zero, sizeof(zero)) != 0)
		abort();
}

/* A fresh registry and rotation per input, as state_load() gets them. */
static int load(struct loaded *l, const uint8_t *data, size_t size)
{
	struct why why = { "" };
	int err;

	memset(l, 0, sizeof(*l));
	l->reg = registry_new();
	if (!l->reg)
		abort();
	rot_init(&l->rot, &cfg, NULL, NULL);
	err = state_body_decode(data, size, l->reg, &l->rot, &l->revision,
				&l->x, &why);
	if (err)
		check_refusal(l, err, why.msg);
	return err;
}

static void unload(struct loaded *l)
{
	registry_free(l->reg);
	rot_cleanup(&l->rot);
	state_extra_wipe(&l->x);
}

/* Same bytes, but a node saved connected comes back disconnected. */
static bool same_body(const uint8_t *in, const uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (in[i] != out[i] &&
		    (in[i] != NODE_CONNECTED || out[i] != NODE_DISCONNECTED))
			return false;
	return true;
}

/* What loads also saves, to the bytes it came from, and loads again. */
static void roundtrip(struct loaded *l, const uint8_t *data, size_t size)
{
	struct loaded again;
	uint8_t *out, *out2;
	size_t len, len2;

	if (state_body_encode(l->reg, &l->rot, l->revision, &l->x, &out, &len))
		abort(); /* we would refuse to save what we loaded */
	if (len != size || !same_body(data, out, len))
		abort();
	if (load(&again, out, len))
		abort();
	if (state_body_encode(again.reg, &again.rot, again.revision, &again.x,
			      &out2, &len2) ||
	    len2 != len || memcmp(out, out2, len) != 0)
		abort();
	sodium_free(out2);
	sodium_free(out); /* sodium_free wipes */
	unload(&again);
}

int fuzz_state_body(const uint8_t *data, size_t size)
{
	struct loaded l;

	if (sodium_init() < 0)
		abort();
	if (load(&l, data, size) == 0)
		roundtrip(&l, data, size);
	unload(&l);
	return 0;
}
