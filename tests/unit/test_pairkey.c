// SPDX-License-Identifier: MIT
/* Unit tests: X25519 node keys and pair keys against vectors made outside the project. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/pairkey.h"

#include "pairkey_vectors.h"

#define N_VECTORS (sizeof(pairkey_vectors) / sizeof(pairkey_vectors[0]))

static void ends(const struct pairkey_vector *v, struct pairkey_end *a,
		 struct pairkey_end *b)
{
	*a = (struct pairkey_end){ v->index_a, v->inc_a, v->pub_a };
	*b = (struct pairkey_end){ v->index_b, v->inc_b, v->pub_b };
}

/* Both nodes, each with only its own private key, get the vector's keys. */
static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VECTORS; i++) {
		const struct pairkey_vector *v = &pairkey_vectors[i];
		struct pairkey_static *a = pairkey_from_private(v->priv_a);
		struct pairkey_static *b = pairkey_from_private(v->priv_b);
		uint8_t sa[PAIRKEY_SHARED_LEN], sb[PAIRKEY_SHARED_LEN];
		uint8_t k[PAIRKEY_LEN];
		struct pairkey_end ea, eb;

		assert_non_null(a);
		assert_non_null(b);
		assert_memory_equal(pairkey_public(a), v->pub_a, 32);
		assert_memory_equal(pairkey_public(b), v->pub_b, 32);
		assert_int_equal(pairkey_shared(a, v->pub_b, sa), 0);
		assert_int_equal(pairkey_shared(b, v->pub_a, sb), 0);
		assert_memory_equal(sa, v->shared, 32);
		assert_memory_equal(sb, v->shared, 32);
		ends(v, &ea, &eb);
		/* a sends with K(a->b); b receives with the same. */
		assert_int_equal(
			pairkey_derive(sa, v->epoch, v->g, &ea, &eb, k), 0);
		assert_memory_equal(k, v->k_ab, PAIRKEY_LEN);
		assert_int_equal(
			pairkey_derive(sb, v->epoch, v->g, &ea, &eb, k), 0);
		assert_memory_equal(k, v->k_ab, PAIRKEY_LEN);
		/* The other direction is another key. */
		assert_int_equal(
			pairkey_derive(sb, v->epoch, v->g, &eb, &ea, k), 0);
		assert_memory_equal(k, v->k_ba, PAIRKEY_LEN);
		assert_memory_not_equal(v->k_ab, v->k_ba, PAIRKEY_LEN);
		pairkey_free(a);
		pairkey_free(b);
	}
}

/* Any one input changed, one bit: another key. */
static void test_every_input_matters(void **state)
{
	const struct pairkey_vector *v = &pairkey_vectors[1];
	uint8_t shared[32], epoch[32], pa[32], pb[32], k[PAIRKEY_LEN];
	struct pairkey_end a, b;

	(void)state;
	for (int which = 0; which < 10; which++) {
		uint32_t g = v->g;

		memcpy(shared, v->shared, 32);
		memcpy(epoch, v->epoch, 32);
		memcpy(pa, v->pub_a, 32);
		memcpy(pb, v->pub_b, 32);
		a = (struct pairkey_end){ v->index_a, v->inc_a, pa };
		b = (struct pairkey_end){ v->index_b, v->inc_b, pb };
		switch (which) {
		case 0:
			shared[31] ^= 1;
			break;
		case 1:
			epoch[0] ^= 0x80;
			break;
		case 2:
			g ^= 1;
			break;
		case 3:
			a.index ^= 1;
			break;
		case 4:
			a.incarnation ^= 1ull << 63;
			break;
		case 5:
			pa[16] ^= 4;
			break;
		case 6:
			b.index ^= 2;
			break;
		case 7:
			b.incarnation ^= 1;
			break;
		case 8:
			pb[0] ^= 1;
			break;
		default:
			g = v->g;
			break; /* unchanged: the same key */
		}
		assert_int_equal(pairkey_derive(shared, epoch, g, &a, &b, k),
				 0);
		if (which == 9)
			assert_memory_equal(k, v->k_ab, PAIRKEY_LEN);
		else
			assert_memory_not_equal(k, v->k_ab, PAIRKEY_LEN);
	}
}

/* Points of small order give an all-zero secret: refused, nothing left. */
static void test_low_order_refused(void **state)
{
	/* u = 0, u = 1, and a point of order 8 (RFC 7748's list). */
	static const uint8_t bad[][32] = {
		{ 0 },
		{ 1 },
		{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae,
		  0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
		  0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd,
		  0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	};
	struct pairkey_static *k = pairkey_generate();
	uint8_t out[PAIRKEY_SHARED_LEN];

	(void)state;
	assert_non_null(k);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 0xaa, sizeof(out));
		assert_int_equal(pairkey_shared(k, bad[i], out), -EINVAL);
		assert_true(sodium_is_zero(out, sizeof(out)));
	}
	pairkey_free(k);
}

static void test_refusals(void **state)
{
	const struct pairkey_vector *v = &pairkey_vectors[0];
	uint8_t k[PAIRKEY_LEN];
	struct pairkey_end a, b;

	(void)state;
	ends(v, &a, &b);
	memset(k, 0xaa, sizeof(k));
	assert_int_equal(pairkey_derive(v->shared, v->epoch, 0, &a, &b, k),
			 -EINVAL);
	assert_true(sodium_is_zero(k, sizeof(k)));
	assert_int_equal(pairkey_derive(v->shared, v->epoch, 1, &a, &a, k),
			 -EINVAL);
	a.index = 0;
	assert_int_equal(pairkey_derive(v->shared, v->epoch, 1, &a, &b, k),
			 -EINVAL);
	ends(v, &a, &b);
	b.pub = NULL;
	assert_int_equal(pairkey_derive(v->shared, v->epoch, 1, &a, &b, k),
			 -EINVAL);
}

/* A key survives its private bytes (the agent's state file), and new
 * keys differ. */
static void test_generate_and_restore(void **state)
{
	struct pairkey_static *a = pairkey_generate(), *b = pairkey_generate();
	struct pairkey_static *again;
	uint8_t priv[PAIRKEY_PRIV_LEN];
	char fa[PAIRKEY_FPR_LEN], fb[PAIRKEY_FPR_LEN];

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_memory_not_equal(pairkey_public(a), pairkey_public(b), 32);
	assert_int_equal(pairkey_private(a, priv), 0);
	again = pairkey_from_private(priv);
	sodium_memzero(priv, sizeof(priv));
	assert_non_null(again);
	assert_memory_equal(pairkey_public(a), pairkey_public(again), 32);
	pairkey_fingerprint(pairkey_public(a), fa);
	pairkey_fingerprint(pairkey_public(again), fb);
	assert_string_equal(fa, fb);
	assert_int_equal(strlen(fa), PAIRKEY_FPR_LEN - 1);
	pairkey_fingerprint(pairkey_public(b), fb);
	assert_string_not_equal(fa, fb);
	pairkey_free(a);
	pairkey_free(b);
	pairkey_free(again);
	pairkey_free(NULL);
}

/* The vector's public key in base64, as python's base64 gives it. */
static void test_fingerprint(void **state)
{
	static const uint8_t zero[32];
	char f[PAIRKEY_FPR_LEN];

	(void)state;
	pairkey_fingerprint(zero, f);
	assert_string_equal(f, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_every_input_matters),
		cmocka_unit_test(test_low_order_refused),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_generate_and_restore),
		cmocka_unit_test(test_fingerprint),
	};

	if (pairkey_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
