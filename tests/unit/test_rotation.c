// SPDX-License-Identifier: MIT
/* Unit tests: the rotation state machine, phase by phase, with acks and deadlines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmlck.h"

#include "keymgr/rotation.h"

static const struct rot_config cfg = { .interval_ms = 100000,
				       .deadline_ms = 1000,
				       .grace_ms = 500 };
static const uint32_t nodes[] = { 1, 2, 3 };

static void counter_random(uint8_t *buf, size_t len, void *arg)
{
	uint8_t *c = arg;

	memset(buf, ++*c, len); /* a different epoch secret every time */
}

static struct rot_action acts[16];
/* The cluster's revision, which the cluster keeps: rot_step() is given it,
 * and its actions carry the revisions their transitions create. */
static uint64_t rev;

static void take_revisions(int k)
{
	for (int i = 0; i < k; i++) {
		assert_true(acts[i].revision == rev ||
			    acts[i].revision == rev + 1);
		rev = acts[i].revision;
	}
}

static int step(struct rotation *r, uint64_t now, size_t n)
{
	int k = rot_step(r, now, rev, nodes, n, acts, 16);

	assert_true(k >= 0);
	take_revisions(k);
	return k;
}

/* From nothing to a committed generation 1, then idle. */
static void first_generation(struct rotation *r, uint8_t *ctr)
{
	rot_init(r, &cfg, counter_random, ctr);
	rev = 0;
	assert_null(rot_transmit(r));
	assert_int_equal(step(r, 0, 3), 2);
	assert_int_equal(acts[0].type, ACT_PERSIST); /* before it is sent */
	assert_int_equal(acts[1].type, ACT_PREPARE);
	assert_int_equal(acts[1].generation, 1);
	assert_int_equal(acts[1].revision, 1);
	for (uint32_t i = 1; i <= 3; i++)
		rot_ack(r, i, 1);
	assert_int_equal(step(r, 10, 3), 2);
	assert_int_equal(acts[1].type, ACT_COMMIT);
	assert_int_equal(acts[1].revision, 2);
	for (uint32_t i = 1; i <= 3; i++)
		rot_ack(r, i, 2);
	/* Nothing to retire: no grace period, idle at once. */
	assert_int_equal(step(r, 20, 3), 0);
	assert_int_equal(r->phase, ROT_IDLE);
	assert_int_equal(r->next_due, 20 + cfg.interval_ms);
	assert_int_equal(rot_transmit(r)->g, 1);
}

/* The epoch secrets are in locked memory from rot_init to rot_cleanup. */
static void test_epochs_locked(void **state)
{
	static struct rotation r; /* not on the stack: its page is its own */
	uint8_t ctr = 0, zero[sizeof(r.gens)] = { 0 };
	long before = vmlck_kb();

	(void)state;
	assert_true(before >= 0);
	first_generation(&r, &ctr);
	assert_true(r.gens_locked);
	if (VMLCK_SEEN)
		assert_true(vmlck_kb() > before);
	else
		print_message(VMLCK_UNSEEN_NOTE);
	rot_cleanup(&r);
	assert_false(r.gens_locked);
	assert_int_equal(vmlck_kb(), before);
	assert_memory_equal(r.gens, zero, sizeof(zero)); /* wiped */
}

static void test_full_rotation(void **state)
{
	struct rotation r;
	uint8_t ctr = 0, m1[KEYS_EPOCH_LEN];

	(void)state;
	first_generation(&r, &ctr);
	memcpy(m1, rot_transmit(&r)->epoch, sizeof(m1));
	assert_int_equal(step(&r, 1000, 3), 0); /* not due yet */
	rot_request(&r);
	assert_int_equal(step(&r, 1000, 3), 2);
	assert_int_equal(acts[1].type, ACT_PREPARE);
	assert_int_equal(acts[1].generation, 2);
	assert_int_equal(r.n_gens, 2);
	assert_int_equal(rot_transmit(&r)->g, 1); /* still sending on 1 */
	assert_memory_not_equal(r.gens[1].epoch, m1, sizeof(m1));
	/* An ack of an older revision does not count. */
	rot_ack(&r, 1, 2);
	rot_ack(&r, 2, 3), rot_ack(&r, 3, 3);
	assert_int_equal(step(&r, 1100, 3), 0);
	rot_ack(&r, 1, 3);
	assert_int_equal(step(&r, 1200, 3), 2);
	assert_int_equal(acts[1].type, ACT_COMMIT);
	assert_int_equal(rot_transmit(&r)->g, 2);
	assert_int_equal(r.gens[0].phase, GEN_RETIRING); /* still received */
	for (uint32_t i = 1; i <= 3; i++)
		rot_ack(&r, i, 4);
	assert_int_equal(step(&r, 1300, 3), 0);
	assert_int_equal(step(&r, 1799, 3), 0); /* grace not over */
	assert_int_equal(step(&r, 1800, 3), 2);
	assert_int_equal(acts[1].type, ACT_RETIRE);
	assert_int_equal(acts[1].generation, 1);
	assert_int_equal(acts[1].revision, 5);
	assert_int_equal(r.n_gens, 1);
	assert_int_equal(r.gens[0].g, 2);
	rot_cleanup(&r);
}

static void test_deadline_marks_silent_nodes_down(void **state)
{
	struct rotation r;
	uint8_t ctr = 0;

	(void)state;
	first_generation(&r, &ctr);
	rot_request(&r);
	assert_int_equal(step(&r, 5000, 3), 2);
	rot_ack(&r, 1, 3), rot_ack(&r, 2, 3); /* node 3 stays silent */
	assert_int_equal(step(&r, 5999, 3), 0);
	assert_int_equal(step(&r, 6000, 2), 3);
	assert_int_equal(acts[0].type, ACT_NODE_DOWN);
	assert_int_equal(acts[0].node, 3);
	assert_int_equal(acts[2].type, ACT_COMMIT); /* without node 3 */
	assert_int_equal(r.n_pending, 2);
	rot_cleanup(&r);
}

static void test_nodes_leaving_and_joining_mid_rotation(void **state)
{
	struct rotation r;
	uint8_t ctr = 0;

	(void)state;
	first_generation(&r, &ctr);
	rot_request(&r);
	assert_int_equal(step(&r, 5000, 3), 2);
	rot_ack(&r, 1, 3);
	rot_node_gone(&r, 2); /* disconnected: a snapshot later */
	rot_node_gone(&r, 3);
	assert_int_equal(step(&r, 5001, 3), 2); /* commit at once */
	assert_int_equal(acts[1].type, ACT_COMMIT);
	/* A node that reconnects gets a snapshot at the current revision
	 * and its ack of that revision counts like any other. */
	for (uint32_t i = 1; i <= 3; i++)
		rot_ack(&r, i, rev);
	assert_int_equal(step(&r, 5002, 3), 0);
	assert_int_equal(r.phase, ROT_GRACE);
	rot_cleanup(&r);
}

/* A node that (re)connects mid-phase is waited for like the others. */
static void test_node_connecting_mid_phase_is_waited_for(void **state)
{
	struct rotation r;
	uint8_t ctr = 0;

	(void)state;
	first_generation(&r, &ctr);
	assert_int_equal(rot_expect(&r, 9), 0); /* idle: nothing to wait for */
	assert_int_equal(r.n_pending, 0);
	rot_request(&r);
	assert_int_equal(step(&r, 5000, 2), 2); /* prepare, nodes 1 and 2 */
	assert_int_equal(rot_expect(&r, 3), 0);
	assert_int_equal(rot_expect(&r, 3), 0); /* once only */
	assert_int_equal(r.n_pending, 3);
	rot_ack(&r, 1, rev), rot_ack(&r, 2, rev);
	assert_int_equal(step(&r, 5001, 3), 0); /* still waits for 3 */
	assert_int_equal(r.phase, ROT_PREPARE);
	rot_ack(&r, 3, rev); /* it acked the snapshot it got */
	assert_int_equal(step(&r, 5002, 3), 2);
	assert_int_equal(acts[1].type, ACT_COMMIT);
	/* Many latecomers: the list grows. */
	for (uint32_t i = 100; i < 200; i++)
		assert_int_equal(rot_expect(&r, i), 0);
	assert_int_equal(r.n_pending, 3 + 100);
	rot_cleanup(&r);
}

static void test_periodic_and_queued_requests(void **state)
{
	struct rotation r;
	uint8_t ctr = 0;
	int k;

	(void)state;
	first_generation(&r, &ctr);
	/* The interval is counted from the end of the last rotation. */
	assert_int_equal(step(&r, 20 + cfg.interval_ms - 1, 0), 0);
	k = step(&r, 20 + cfg.interval_ms, 0);
	/* Nobody connected: prepare, commit, grace in one step. */
	assert_int_equal(k, 4);
	assert_int_equal(r.phase, ROT_GRACE);
	rot_request(&r); /* while rotating: queued, not lost */
	k = step(&r, 20 + cfg.interval_ms + 500, 0);
	assert_int_equal(acts[1].type, ACT_RETIRE);
	assert_int_equal(acts[3].type, ACT_PREPARE); /* the queued one */
	assert_int_equal(acts[3].generation, 3);
	assert_true(r.n_gens <= ROT_GENS_MAX);
	rot_cleanup(&r);
}

static void test_revision_only_grows(void **state)
{
	struct rotation r;
	uint8_t ctr = 0;
	uint64_t last = 0, now = 0;
	enum rot_phase before;

	(void)state;
	first_generation(&r, &ctr);
	for (int i = 0; i < 50; i++) {
		rot_request(&r);
		now += 10000;
		int k = step(&r, now, 0);

		for (int j = 0; j < k; j++) {
			assert_true(acts[j].revision >= last);
			last = acts[j].revision;
		}
		assert_true(r.n_gens <= 2);
	}
	assert_true(r.gens[r.n_gens - 1].g > 40);
	/* Too little room: refused before anything changes. */
	rot_request(&r);
	last = rev;
	before = r.phase;
	assert_int_equal(rot_step(&r, now + 20000, rev, nodes, 3, acts, 10),
			 -ENOSPC);
	assert_int_equal(r.phase, before);
	int k = rot_step(&r, now + 20000, rev, nodes, 3, acts, 11);

	assert_true(k > 0);
	take_revisions(k);
	assert_true(rev > last);
	rot_cleanup(&r);
}

/* What the state file keeps; pending and deadlines are not in it. */
static void restart(const struct rotation *old, struct rotation *r,
		    uint8_t *ctr)
{
	rot_init(r, &cfg, counter_random, ctr);
	memcpy(r->gens, old->gens, sizeof(r->gens));
	r->n_gens = old->n_gens;
	r->phase = old->phase;
	r->target = old->target;
	r->wait_revision = old->wait_revision;
	r->next_due = old->next_due;
	r->requested = old->requested;
}

/* Killed in each phase of a rotation to 2: it still ends on 2, and
 * after a restart nothing moves on before every member acked again. */
static void test_resume_from_every_phase(void **state)
{
	enum rot_phase phases[] = { ROT_PREPARE, ROT_COMMIT, ROT_GRACE };
	uint8_t ctr = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		struct rotation old, r;
		uint64_t now = 10000;

		first_generation(&old, &ctr);
		rot_request(&old);
		step(&old, now, 3);
		for (uint32_t n = 1; old.phase != phases[i]; n = n % 3 + 1) {
			rot_ack(&old, n, rev);
			step(&old, ++now, 3);
		}
		restart(&old, &r, &ctr);
		rot_cleanup(&old);
		assert_int_equal(rot_resume(&r, now, nodes, 3), 0);
		if (phases[i] != ROT_GRACE) {
			/* Two of three acked the snapshot: still waiting. */
			rot_ack(&r, 1, rev), rot_ack(&r, 2, rev);
			assert_int_equal(step(&r, now + 1, 3), 0);
			assert_int_equal(r.phase, phases[i]);
		}
		for (int k = 0; k < 10 && r.phase != ROT_IDLE; k++) {
			for (uint32_t n = 1; n <= 3; n++)
				rot_ack(&r, n, rev);
			now += cfg.grace_ms;
			step(&r, now, 3);
		}
		assert_int_equal(r.phase, ROT_IDLE);
		assert_int_equal(r.n_gens, 1);
		assert_int_equal(rot_transmit(&r)->g, 2);
		assert_int_equal(rev, 5); /* 1 2 first, 3 4 5 now */
		rot_cleanup(&r);
	}
}

/* The deadline holds after a restart too: silent members go down. */
static void test_resume_deadline(void **state)
{
	struct rotation old, r;
	uint8_t ctr = 0;

	(void)state;
	first_generation(&old, &ctr);
	rot_request(&old);
	step(&old, 5000, 3);
	restart(&old, &r, &ctr);
	rot_cleanup(&old);
	assert_int_equal(rot_resume(&r, 9000, nodes, 3), 0);
	assert_int_equal(step(&r, 9999, 0), 0);
	assert_int_equal(step(&r, 10000, 0), 5); /* 3 down, persist, commit */
	assert_int_equal(acts[0].type, ACT_NODE_DOWN);
	assert_int_equal(acts[4].type, ACT_COMMIT);
	rot_cleanup(&r);
}

/*
 * The leader could not save for 10 s, so the prepare was not sent: its
 * deadline counts from when it could. Nobody is marked down meanwhile.
 */
static void test_hold_moves_the_deadline(void **state)
{
	struct rotation r;
	uint8_t ctr = 0;

	(void)state;
	first_generation(&r, &ctr);
	rot_hold(&r, 10000); /* idle: nothing to move */
	assert_int_equal(r.next_due, 20 + cfg.interval_ms);
	rot_request(&r);
	assert_int_equal(step(&r, 5000, 3), 2);
	rot_hold(&r, 10000);
	assert_int_equal(step(&r, 6000, 3), 0);
	assert_int_equal(step(&r, 15999, 3), 0);
	assert_int_equal(step(&r, 16000, 3), 5); /* 3 down, persist, commit */
	assert_int_equal(acts[0].type, ACT_NODE_DOWN);
	assert_int_equal(acts[4].type, ACT_COMMIT);
	rot_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epochs_locked),
		cmocka_unit_test(test_full_rotation),
		cmocka_unit_test(test_deadline_marks_silent_nodes_down),
		cmocka_unit_test(test_nodes_leaving_and_joining_mid_rotation),
		cmocka_unit_test(test_node_connecting_mid_phase_is_waited_for),
		cmocka_unit_test(test_periodic_and_queued_requests),
		cmocka_unit_test(test_revision_only_grows),
		cmocka_unit_test(test_resume_from_every_phase),
		cmocka_unit_test(test_resume_deadline),
		cmocka_unit_test(test_hold_moves_the_deadline),
	};

	return cmocka_run_group_tests_name("rotation", tests, NULL, NULL);
}
