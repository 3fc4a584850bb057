// SPDX-License-Identifier: MIT
/* Unit tests: vxsec-agent's command table, agent_commands, as its dispatcher and command line read it. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agentd.h"
#include "ctl_daemon.h"

static void test_well_formed(void **state)
{
	(void)state;
	table_well_formed(&agent_commands);
}

/* As the usage text wrote them out before the table. */
static void test_help(void **state)
{
	(void)state;
	table_help_is(
		&agent_commands,
		"  status [--json]  leader session, revisions, generations, "
		"per-peer\n"
		"                   SA state, the kernel's XFRM counters\n"
		"  metrics          the same figures in Prometheus text "
		"format\n"
		"  sync             reconcile with the kernel now\n");
}

/* metrics and sync take no words: with one they are unknown, as before. */
static void test_refused(void **state)
{
	static const char *const lines[] = { "run", "nodes", "metrics extra",
					     "sync now", "Status" };
	char want[128];

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(want, sizeof(want),
			 "unknown command \"%.*s\" (status [--json], metrics, "
			 "sync)\n",
			 (int)strcspn(lines[i], " "), lines[i]);
		table_refuses(&agent_commands, lines[i], want);
	}
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
