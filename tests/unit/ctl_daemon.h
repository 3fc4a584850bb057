/* SPDX-License-Identifier: MIT */
/* Unit-test helper: what every daemon's command table must hold (a handler each, --help lines, refusals). */
#ifndef VXSEC_TEST_CTL_DAEMON_H
#define VXSEC_TEST_CTL_DAEMON_H

#include <stdio.h>
#include <stdlib.h>

#include "common/ctl.h"
#include "common/why.h"

/* ctl_table_check() passes: a handler each, plain unique names... */
static inline void table_well_formed(const struct ctl_table *t)
{
	struct why why = { "" };

	if (ctl_table_check(t, &why))
		fail_msg("%s", why.msg);
}

/* The lines --help prints for t, exactly. */
static inline void table_help_is(const struct ctl_table *t, const char *want)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	ctl_table_help(t, f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, want);
	free(text);
}

/* line refused with CTL_USAGE and want, no handler run (arg is NULL). */
static inline void table_refuses(const struct ctl_table *t, const char *line,
				 const char *want)
{
	char buf[256], *argv[CTL_ARGS_MAX + 1];
	struct why why = { "" };
	struct ctl_reply r;
	int argc;

	snprintf(buf, sizeof(buf), "%s", line);
	argc = ctl_request_split(buf, argv, CTL_ARGS_MAX, &why);
	assert_true(argc >= 1);
	ctl_reply_init(&r);
	assert_int_equal(ctl_dispatch(t, NULL, argc, argv, &r), CTL_USAGE);
	assert_string_equal(r.buf, want);
	ctl_reply_cleanup(&r);
}

#endif
