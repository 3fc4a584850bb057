// SPDX-License-Identifier: MIT
/* Unit tests: keymgr/election.c, the leader election's state machine (issue 16). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keymgr/election.h"

static struct election e;
static struct elect_action act[ELECT_ACTIONS_MAX];

static int setup(void **state)
{
	struct elect_config cfg = { 5, 1000, 1000, 0 };

	(void)state;
	elect_init(&e, &cfg);
	return 0;
}

/* Leads from t0 with lease 7 and term 100: LEAD and a first KEEPALIVE. */
static void lead(uint64_t t0)
{
	assert_int_equal(elect_start(&e, t0, act), 1);
	assert_int_equal(act[0].type, ELECT_GRANT);
	assert_int_equal(elect_granted(&e, 7, t0 + 10, act), 1);
	assert_int_equal(act[0].type, ELECT_CREATE);
	assert_int_equal(act[0].lease, 7);
	assert_int_equal(elect_created(&e, true, false, 100, 100, t0 + 20, act),
			 2);
	assert_int_equal(act[0].type, ELECT_LEAD);
	assert_int_equal(act[0].term, 100);
	assert_int_equal(act[1].type, ELECT_KEEPALIVE);
	assert_int_equal(e.state, ELECT_LEADER);
}

static void test_win_and_keep(void **state)
{
	(void)state;
	lead(0);
	/* the first keepalive (sent at 20) extends the deadline from 20 */
	assert_int_equal(elect_kept(&e, 20, 5, 30, act), 0);
	assert_int_equal(e.deadline_ms, 20 + 5000 - 1000);
	/* nothing until a third of the TTL after it was sent */
	assert_int_equal(elect_tick(&e, 1000, act), 0);
	assert_int_equal(elect_next(&e), 20 + 5000 / 3);
	assert_int_equal(elect_tick(&e, 20 + 5000 / 3, act), 1);
	assert_int_equal(act[0].type, ELECT_KEEPALIVE);
	/* one at a time */
	assert_int_equal(elect_tick(&e, 3000, act), 0);
}

/* The lease's life counts from the grant's request, not its answer. */
static void test_deadline_from_request(void **state)
{
	(void)state;
	assert_int_equal(elect_start(&e, 0, act), 1);
	assert_int_equal(elect_granted(&e, 7, 3000, act), 1);
	/* 500 ms left of the lease, under the 1 s margin: no LEAD yet */
	assert_int_equal(elect_created(&e, true, false, 100, 100, 3500, act),
			 1);
	assert_int_equal(act[0].type, ELECT_KEEPALIVE);
	assert_int_equal(e.deadline_ms, 0 + 5000 - 1000);
	/* the keepalive sent at 3500 answers: the lease lives, lead */
	assert_int_equal(elect_kept(&e, 3500, 5, 3600, act), 1);
	assert_int_equal(act[0].type, ELECT_LEAD);
	assert_int_equal(act[0].term, 100);
	assert_int_equal(e.deadline_ms, 3500 + 5000 - 1000);
	/* a later keepalive: nothing more */
	assert_int_equal(elect_tick(&e, 3500 + 5000 / 3, act), 1);
	assert_int_equal(elect_kept(&e, 3500 + 5000 / 3, 5, 5200, act), 0);
}

/* Won too late and the keepalive never answers: it steps down without
 * ever having led (the daemon was never told to). */
static void test_unconfirmed_win_lapses(void **state)
{
	(void)state;
	assert_int_equal(elect_start(&e, 0, act), 1);
	assert_int_equal(elect_granted(&e, 7, 3000, act), 1);
	assert_int_equal(elect_created(&e, true, false, 100, 100, 3500, act),
			 1);
	assert_int_equal(elect_tick(&e, 4000, act), 2);
	assert_int_equal(act[0].type, ELECT_STEP_DOWN);
	assert_int_equal(act[1].type, ELECT_REVOKE);
	assert_int_equal(e.state, ELECT_WAITING);
}

/* Paused or cut off: no keepalive answer; it steps down on its own clock,
 * before etcd can have let the lease go, and campaigns again later. */
static void test_paused_steps_down(void **state)
{
	(void)state;
	lead(0);
	assert_int_equal(elect_tick(&e, 3999, act), 0);
	assert_int_equal(elect_tick(&e, 4000, act), 2);
	assert_int_equal(act[0].type, ELECT_STEP_DOWN);
	assert_non_null(strstr(act[0].why, "not renewed in time"));
	assert_int_equal(act[1].type, ELECT_REVOKE);
	assert_int_equal(act[1].lease, 7);
	assert_int_equal(e.state, ELECT_WAITING);
	/* its late keepalive answer changes nothing */
	assert_int_equal(elect_kept(&e, 20, 5, 4100, act), 0);
	assert_int_equal(e.state, ELECT_WAITING);
	assert_int_equal(elect_next(&e), 5000);
	assert_int_equal(elect_tick(&e, 5000, act), 1);
	assert_int_equal(act[0].type, ELECT_GRANT);
}

/* A keepalive that failed is tried again soon; the deadline still rules. */
static void test_keepalive_failed(void **state)
{
	(void)state;
	lead(0);
	assert_int_equal(elect_kept(&e, 20, -1, 500, act), 0);
	assert_int_equal(e.state, ELECT_LEADER);
	assert_int_equal(elect_tick(&e, 600, act), 0);
	assert_int_equal(elect_tick(&e, 700, act), 1);
	assert_int_equal(act[0].type, ELECT_KEEPALIVE);
	assert_int_equal(elect_kept(&e, 700, -1, 800, act), 0);
	assert_int_equal(elect_tick(&e, 4000, act), 2);
	assert_int_equal(act[0].type, ELECT_STEP_DOWN);
}

/* etcd says the lease is gone: down at once. */
static void test_lease_gone(void **state)
{
	(void)state;
	lead(0);
	assert_int_equal(elect_kept(&e, 20, 0, 30, act), 2);
	assert_int_equal(act[0].type, ELECT_STEP_DOWN);
	assert_non_null(strstr(act[0].why, "lease is gone"));
}

/* A stale answer (to an earlier keepalive) is ignored. */
static void test_stale_answer(void **state)
{
	(void)state;
	lead(0);
	assert_int_equal(elect_kept(&e, 19, 5, 30, act), 0);
	assert_true(e.keepalive_out);
	assert_int_equal(e.deadline_ms, 4000);
}

/* Lost: the lease revoked, the key watched from after the txn. */
static void test_lose_then_take_over(void **state)
{
	(void)state;
	assert_int_equal(elect_start(&e, 0, act), 1);
	assert_int_equal(elect_granted(&e, 8, 10, act), 1);
	assert_int_equal(elect_created(&e, false, true, 0, 41, 20, act), 2);
	assert_int_equal(act[0].type, ELECT_REVOKE);
	assert_int_equal(act[0].lease, 8);
	assert_int_equal(act[1].type, ELECT_WATCH);
	assert_int_equal(act[1].revision, 42);
	assert_int_equal(e.state, ELECT_STANDBY);
	assert_int_equal(elect_tick(&e, 100000, act), 0); /* standby waits */
	assert_int_equal(elect_vacant(&e, 100000, act), 1);
	assert_int_equal(act[0].type, ELECT_GRANT);
	assert_int_equal(elect_granted(&e, 9, 100010, act), 1);
	assert_int_equal(elect_created(&e, true, false, 57, 57, 100020, act),
			 2);
	assert_int_equal(act[0].type, ELECT_LEAD);
	assert_int_equal(act[0].term, 57);
}

/* A fenced write: another instance leads; down, then campaign again. */
static void test_fenced(void **state)
{
	(void)state;
	lead(0);
	assert_int_equal(elect_fenced(&e, 100, act), 2);
	assert_int_equal(act[0].type, ELECT_STEP_DOWN);
	assert_non_null(strstr(act[0].why, "fenced"));
	assert_int_equal(e.term, 0);
	assert_int_equal(elect_fenced(&e, 200, act), 0);
}

/* The leader key deleted under a leader: it steps down too. */
static void test_own_key_deleted(void **state)
{
	(void)state;
	lead(0);
	assert_int_equal(elect_vacant(&e, 100, act), 2);
	assert_int_equal(act[0].type, ELECT_STEP_DOWN);
}

/* Failures before leading: retried after retry_ms, nothing served. */
static void test_failures_retry(void **state)
{
	(void)state;
	assert_int_equal(elect_start(&e, 0, act), 1);
	assert_int_equal(elect_granted(&e, 0, 10, act), 0); /* grant failed */
	assert_int_equal(e.state, ELECT_WAITING);
	assert_int_equal(elect_tick(&e, 1009, act), 0);
	assert_int_equal(elect_tick(&e, 1010, act), 1);
	assert_int_equal(elect_granted(&e, 5, 1020, act), 1);
	/* the txn failed (neither won nor lost): the lease is revoked */
	assert_int_equal(elect_created(&e, false, false, 0, 0, 1030, act), 1);
	assert_int_equal(act[0].type, ELECT_REVOKE);
	assert_int_equal(e.state, ELECT_WAITING);
	/* answers out of turn are ignored */
	assert_int_equal(elect_granted(&e, 6, 1040, act), 0);
	assert_int_equal(elect_created(&e, true, false, 9, 9, 1050, act), 0);
	assert_int_equal(e.state, ELECT_WAITING);
}

/* A clean shutdown: down and revoked, so a standby takes over at once. */
static void test_resign(void **state)
{
	(void)state;
	lead(0);
	assert_int_equal(elect_resign(&e, act), 2);
	assert_int_equal(act[0].type, ELECT_STEP_DOWN);
	assert_int_equal(act[1].type, ELECT_REVOKE);
	assert_int_equal(e.state, ELECT_IDLE);
	assert_string_equal(elect_state_name(e.state), "idle");
}

/* Config: a margin as long as the TTL is cut to half of it. */
static void test_config_sane(void **state)
{
	struct elect_config cfg = { 2, 5000, 0, 0 };

	(void)state;
	elect_init(&e, &cfg);
	assert_int_equal(e.cfg.margin_ms, 1000);
	assert_int_equal(e.cfg.keepalive_ms, 666);
	assert_int_equal(e.cfg.retry_ms, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_win_and_keep, setup),
		cmocka_unit_test_setup(test_unconfirmed_win_lapses, setup),
		cmocka_unit_test_setup(test_deadline_from_request, setup),
		cmocka_unit_test_setup(test_paused_steps_down, setup),
		cmocka_unit_test_setup(test_keepalive_failed, setup),
		cmocka_unit_test_setup(test_lease_gone, setup),
		cmocka_unit_test_setup(test_stale_answer, setup),
		cmocka_unit_test_setup(test_lose_then_take_over, setup),
		cmocka_unit_test_setup(test_fenced, setup),
		cmocka_unit_test_setup(test_own_key_deleted, setup),
		cmocka_unit_test_setup(test_failures_retry, setup),
		cmocka_unit_test_setup(test_resign, setup),
		cmocka_unit_test_setup(test_config_sane, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
