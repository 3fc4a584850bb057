/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr: admission before authentication — caps in all and per source, growing delays for wrong join tokens. */
#ifndef VXSEC_GUARD_H
#define VXSEC_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define GUARD_MAX_DEFAULT 256	    /* unauthenticated connections in all */
#define GUARD_PER_SOURCE_DEFAULT 16 /* ... from one source address */
#define GUARD_FAILS_MAX 1024	    /* sources whose wrong tokens we remember */
#define GUARD_DELAY_MIN_MS 250	    /* the answer to a second wrong token */
#define GUARD_DELAY_MAX_MS 5000	    /* within the join's 10 s deadline */
#define GUARD_FORGET_MS (10ull * 60 * 1000) /* a source's quiet time */

/* A source address (IPv4 as v4-mapped IPv6). */
struct guard_src {
	uint8_t a[16];
};

struct guard_open {
	struct guard_src src;
	uint32_t n;
};

struct guard_fail {
	struct guard_src src;
	uint32_t fails;
	uint64_t last_ms;
};

struct guard {
	size_t max, per_source;
	struct guard_open *open; /* one per source with connections open */
	size_t n_sources, n_open;
	struct guard_fail *fails;
	size_t n_fails;
	uint64_t refused_total, refused_source, token_failures;
};

/* 0 or -ENOMEM; max and per_source at least 1. */
int guard_init(struct guard *g, size_t max, size_t per_source);
void guard_cleanup(struct guard *g);

void guard_src_from(struct guard_src *s, const struct sockaddr_storage *ss);

/*
 * A new connection from src: 0 (counted until guard_release), -EBUSY
 * (max are open) or -EUSERS (per_source are open from src); a refusal is
 * counted in refused_total or refused_source.
 */
int guard_admit(struct guard *g, const struct guard_src *src);
void guard_release(struct guard *g, const struct guard_src *src);

/*
 * A wrong join token from src at now_ms: how long to wait before the
 * answer. The first from a source is answered at once, each further one
 * twice as late (GUARD_DELAY_MIN_MS up to GUARD_DELAY_MAX_MS); a source
 * quiet for GUARD_FORGET_MS starts again.
 */
uint64_t guard_token_failed(struct guard *g, const struct guard_src *src,
			    uint64_t now_ms);
/* A right token from src: its wrong ones are forgotten. */
void guard_token_ok(struct guard *g, const struct guard_src *src);

#endif
