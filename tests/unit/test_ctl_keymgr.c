// SPDX-License-Identifier: MIT
/* Unit tests: vxsec-keymgr's command table, leader_commands, as its dispatcher and command line read it. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctl_daemon.h"
#include "keymgr/leader.h"

static void test_well_formed(void **state)
{
	(void)state;
	table_well_formed(&leader_commands);
}

/* As the usage text wrote them out before the table. */
static void test_help(void **state)
{
	(void)state;
	table_help_is(
		&leader_commands,
		"  status [--json]        revision, members, generations, "
		"rotation\n"
		"  nodes [--json]         every member: index, incarnation, "
		"state, key\n"
		"  token show|rotate      the join token; rotate refuses the "
		"old one\n"
		"  rotate                 start a key rotation now\n"
		"  remove NODE            remove a node for good (a rotation "
		"follows)\n"
		"  unlock-key show|rotate the key that encrypts the state\n"
		"  metrics                the same figures in Prometheus text "
		"format\n");
}

/* The command line's own commands and others are not the leader's. */
static void test_refused(void **state)
{
	(void)state;
	table_refuses(&leader_commands, "run",
		      "unknown command \"run\" (see vxsec-keymgr --help)\n");
	table_refuses(&leader_commands, "init --autolock",
		      "unknown command \"init\" (see vxsec-keymgr --help)\n");
	table_refuses(&leader_commands, "sync",
		      "unknown command \"sync\" (see vxsec-keymgr --help)\n");
	table_refuses(&leader_commands, "Status",
		      "unknown command \"Status\" (see vxsec-keymgr --help)\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
