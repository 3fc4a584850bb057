// SPDX-License-Identifier: MIT
/* Unit tests: the reconciler against a fake kernel — adoption, partial failure, restart, a used key never re-added. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent/reconcile.h"

/* The fake kernel: what it holds, and failures to inject. */
struct fake {
	struct xfrm_sa sas[64];
	size_t n_sas;
	struct xfrm_policy pols[64];
	size_t n_pols;
	int fail_adds; /* SA adds to refuse, -ENOBUFS each */
	size_t applies, updates;
};

static int fake_dump(void *ctx, struct desired_state *have)
{
	struct fake *f = ctx;

	have->sas = desired_sas_alloc(f->n_sas + 1);
	have->pols = calloc(f->n_pols + 1, sizeof(*have->pols));
	assert_non_null(have->sas);
	assert_non_null(have->pols);
	memcpy(have->sas, f->sas, f->n_sas * sizeof(*f->sas));
	memcpy(have->pols, f->pols, f->n_pols * sizeof(*f->pols));
	have->n_sas = f->n_sas;
	have->n_pols = f->n_pols;
	return 0;
}

static void sa_del(struct fake *f, const struct xfrm_sa *sa)
{
	for (size_t i = 0; i < f->n_sas; i++)
		if (f->sas[i].spi == sa->spi &&
		    !memcmp(&f->sas[i].dst, &sa->dst, sizeof(sa->dst))) {
			f->sas[i] = f->sas[--f->n_sas];
			return;
		}
}

static void pol_set(struct fake *f, const struct xfrm_policy *p, bool del)
{
	for (size_t i = 0; i < f->n_pols; i++) {
		if (f->pols[i].dir != p->dir ||
		    memcmp(&f->pols[i].sel, &p->sel, sizeof(p->sel)))
			continue;
		if (del)
			f->pols[i] = f->pols[--f->n_pols];
		else
			f->pols[i] = *p;
		return;
	}
	if (!del)
		f->pols[f->n_pols++] = *p;
}

static int fake_apply(void *ctx, const struct desired_state *have,
		      const struct desired_state *want,
		      const struct diff_plan *plan, int *result)
{
	struct fake *f = ctx;

	f->applies++;
	for (size_t i = 0; i < plan->n; i++) {
		const struct diff_step *s = &plan->steps[i];

		result[i] = 0;
		switch (s->op) {
		case DIFF_SA_ADD:
			if (f->fail_adds && f->fail_adds--) {
				result[i] = -ENOBUFS;
				break;
			}
			f->sas[f->n_sas++] = want->sas[s->i];
			break;
		case DIFF_SA_DEL:
			sa_del(f, &have->sas[s->i]);
			break;
		case DIFF_SA_UPDATE: /* the kernel keeps its key: ours */
			for (size_t j = 0; j < f->n_sas; j++)
				if (f->sas[j].spi == want->sas[s->i].spi &&
				    !memcmp(&f->sas[j].dst,
					    &want->sas[s->i].dst,
					    sizeof(f->sas[j].dst))) {
					f->sas[j].encap_sport =
						want->sas[s->i].encap_sport;
					f->sas[j].encap_dport =
						want->sas[s->i].encap_dport;
					f->sas[j].encap_oa =
						want->sas[s->i].encap_oa;
				}
			f->updates++;
			break;
		case DIFF_POL_DEL:
			pol_set(f, &have->pols[s->i], true);
			break;
		default:
			pol_set(f, &want->pols[s->i], false);
		}
	}
	return 0;
}

/* Peers 2..n+1, generation g committed, keys that depend on g and inc. */
static void want_state(struct desired_state *s, size_t n, uint32_t g,
		       uint8_t inc)
{
	static const struct desired_config cfg = { .reqid = 7,
						   .vxlan_port = 4789,
						   .replay_window = 64 };
	struct desired_peer peers[8];
	struct desired_view v;
	struct why why = { "" };

	memset(&v, 0, sizeof(v));
	v.self[0].family = AF_INET;
	v.self[0].ip.v4.s_addr = htonl(0xc0a84d0b);
	v.n_self = 1;
	v.gens[0] = (struct desired_gen){ g, DPHASE_COMMITTED };
	v.n_gens = 1;
	for (size_t i = 0; i < n; i++) {
		struct desired_peer *p = &peers[i];

		memset(p, 0, sizeof(*p));
		p->index = (uint32_t)i + 2;
		p->addrs[0].family = AF_INET;
		p->addrs[0].ip.v4.s_addr = htonl(0xc0a84d0c + (uint32_t)i);
		p->n_addrs = 1;
		p->keys[0] =
			(struct desired_keys){ .g = g,
					       .spi_out = (1 + g) << 24 | 1,
					       .spi_in = (1 + g) << 24 |
							 p->index };
		memset(p->keys[0].key_out, (int)(g * 16 + i + inc), 36);
		memset(p->keys[0].key_in, (int)(128 + g * 16 + i + inc), 36);
		p->n_keys = 1;
	}
	v.peers = peers;
	v.n_peers = n;
	assert_int_equal(desired_build(&v, &cfg, s, &why), 0);
}

static struct fake kern;
static const struct agent_kernel k = { fake_dump, fake_apply, &kern };

static int reset(void **state)
{
	(void)state;
	memset(&kern, 0, sizeof(kern));
	return 0;
}

static void test_cold_start_then_nothing(void **state)
{
	struct reconciler r;
	struct reconcile_result res;
	struct desired_state want;

	(void)state;
	assert_int_equal(reconciler_init(&r), 0);
	want_state(&want, 3, 1, 0);
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(res.applied, 6 + 6);
	assert_int_equal(kern.n_sas, 6);
	assert_int_equal(kern.n_pols, 6);
	/* Again: the kernel equals want, nothing is sent. */
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(kern.applies, 1);
	desired_state_free(&want);
	reconciler_cleanup(&r);
}

static void test_partial_failure_resyncs(void **state)
{
	struct reconciler r;
	struct reconcile_result res;
	struct desired_state want;

	(void)state;
	assert_int_equal(reconciler_init(&r), 0);
	want_state(&want, 3, 1, 0);
	kern.fail_adds = 2; /* the first round loses two SAs */
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(res.attempts, 2);
	assert_int_equal(kern.n_sas, 6);
	assert_int_equal(kern.applies, 2);
	/* Failing for good: -EIO, and the reason names the SA. */
	desired_state_free(&want);
	want_state(&want, 4, 1, 0);
	kern.fail_adds = 1000;
	assert_int_equal(reconcile(&r, &k, &want, &res), -EIO);
	assert_int_equal(res.attempts, RECONCILE_ATTEMPTS);
	assert_int_equal(res.failed, 2);
	assert_non_null(strstr(res.why.msg, "add SA spi 0x02000001 to "
					    "192.168.77.15: No buffer space"));
	desired_state_free(&want);
	reconciler_cleanup(&r);
}

static void test_used_key_never_added_again(void **state)
{
	struct reconciler r;
	struct reconcile_result res;
	struct desired_state want, fresh;

	(void)state;
	assert_int_equal(reconciler_init(&r), 0);
	want_state(&want, 2, 1, 0);
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	/* The kernel lost an SA (flushed by someone): same key? Never. */
	sa_del(&kern, &want.sas[0]);
	assert_int_equal(reconcile(&r, &k, &want, &res), -EKEYREJECTED);
	assert_int_equal(res.refused, 1);
	assert_int_equal(kern.n_sas, 3); /* stays absent: fails closed */
	assert_non_null(strstr(res.why.msg, "not adding again"));
	/* New keys from the leader (a new incarnation): installed. */
	want_state(&fresh, 2, 1, 9);
	assert_int_equal(reconcile(&r, &k, &fresh, &res), 0);
	assert_int_equal(kern.n_sas, 4);
	desired_state_free(&want);
	desired_state_free(&fresh);
	reconciler_cleanup(&r);
}

/* A restarted agent adopts the kernel's SAs: no change, keys used. */
static void test_restart_adopts(void **state)
{
	struct reconciler r1, r2;
	struct reconcile_result res;
	struct desired_state want;

	(void)state;
	assert_int_equal(reconciler_init(&r1), 0);
	want_state(&want, 3, 2, 0);
	assert_int_equal(reconcile(&r1, &k, &want, &res), 0);
	reconciler_cleanup(&r1); /* the agent dies; the kernel keeps all */
	assert_int_equal(reconciler_init(&r2), 0);
	kern.applies = 0;
	assert_int_equal(reconcile(&r2, &k, &want, &res), 0);
	assert_int_equal(kern.applies, 0); /* nothing disturbed */
	sa_del(&kern, &want.sas[3]);
	assert_int_equal(reconcile(&r2, &k, &want, &res), -EKEYREJECTED);
	desired_state_free(&want);
	reconciler_cleanup(&r2);
}

/*
 * A NAT mapping moved: the SAs' encap ports follow by update in place. A
 * delete and add would install the same key again, which the reconciler
 * refuses: the SA would be lost.
 */
static void test_encap_port_follows_in_place(void **state)
{
	struct reconciler r;
	struct reconcile_result res;
	struct desired_state want;

	(void)state;
	assert_int_equal(reconciler_init(&r), 0);
	want_state(&want, 2, 1, 0);
	for (size_t i = 0; i < want.n_sas; i++) {
		want.sas[i].encap_type = XFRM_ENCAP_ESPINUDP;
		want.sas[i].encap_sport = want.sas[i].encap_dport = 4500;
	}
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(kern.n_sas, 4);
	want.sas[0].encap_dport = 40123;
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(res.refused, 0);
	assert_int_equal(res.applied, 1);
	assert_int_equal(kern.updates, 1);
	assert_int_equal(kern.n_sas, 4);
	/* Nothing left to do: the kernel holds the new port. */
	assert_int_equal(reconcile(&r, &k, &want, &res), 0);
	assert_int_equal(res.applied, 0);
	assert_int_equal(kern.updates, 1);
	desired_state_free(&want);
	reconciler_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cold_start_then_nothing, reset),
		cmocka_unit_test_setup(test_partial_failure_resyncs, reset),
		cmocka_unit_test_setup(test_used_key_never_added_again, reset),
		cmocka_unit_test_setup(test_restart_adopts, reset),
		cmocka_unit_test_setup(test_encap_port_follows_in_place, reset),
	};

	return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
