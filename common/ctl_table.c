// SPDX-License-Identifier: MIT
/* The control socket's command tables: the daemon's dispatch, the command line's look-up and --help. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "why.h"

#define SYNOPSIS_MAX 128

const struct ctl_cmd *ctl_table_find(const struct ctl_table *t,
				     const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->cmds[i].name && strcmp(t->cmds[i].name, name) == 0)
			return &t->cmds[i];
	return NULL;
}

/* "status [--json]"; its length, even if it did not fit. */
static size_t synopsis(const struct ctl_cmd *c, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s%s", c->name, c->args[0] ? " " : "",
			 c->args);

	return n < 0 ? len : (size_t)n;
}

int ctl_dispatch(const struct ctl_table *t, void *arg, int argc, char **argv,
		 struct ctl_reply *reply)
{
	const struct ctl_cmd *c = ctl_table_find(t, argv[0]);
	char syn[SYNOPSIS_MAX];

	if (c && c->run && (!c->argc_max || argc <= c->argc_max))
		return c->run(arg, argc, argv, reply);
	ctl_reply_printf(reply, "unknown command \"%s\" (", argv[0]);
	if (!t->list_unknown)
		ctl_reply_printf(reply, "see %s --help", t->prog);
	for (size_t i = 0; t->list_unknown && i < t->n; i++) {
		synopsis(&t->cmds[i], syn, sizeof(syn));
		ctl_reply_printf(reply, "%s%s", i ? ", " : "", syn);
	}
	ctl_reply_printf(reply, ")\n");
	return CTL_USAGE;
}

void ctl_table_help(const struct ctl_table *t, FILE *f)
{
	char syn[SYNOPSIS_MAX];
	const char *p, *nl;

	for (size_t i = 0; i < t->n; i++) {
		synopsis(&t->cmds[i], syn, sizeof(syn));
		fprintf(f, "  %-*s ", t->width, syn);
		for (p = t->cmds[i].help; (nl = strchr(p, '\n')); p = nl + 1)
			fprintf(f, "%.*s\n  %-*s ", (int)(nl - p), p, t->width,
				"");
		fprintf(f, "%s\n", p);
	}
}

static bool plain_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-'))
			return false;
	return true;
}

/* What is wrong with entry c, or NULL. */
static const char *entry_fault(const struct ctl_table *t,
			       const struct ctl_cmd *c)
{
	char syn[SYNOPSIS_MAX];

	if (!c->name || !plain_name(c->name))
		return "a name that is not a plain word";
	if (ctl_table_find(t, c->name) != c)
		return "its name twice";
	if (!c->args || !c->help || !c->help[0])
		return "no synopsis or no help text";
	if (!c->run)
		return "no handler";
	if (c->argc_max < 0)
		return "a negative argc_max";
	if (synopsis(c, syn, sizeof(syn)) > (size_t)t->width)
		return "a synopsis wider than the help column";
	return NULL;
}

int ctl_table_check(const struct ctl_table *t, struct why *why)
{
	const char *fault;

	if (!t->prog || !t->cmds || !t->n) {
		why_set(why, "a table without a name or commands");
		return -EINVAL;
	}
	for (size_t i = 0; i < t->n; i++) {
		fault = entry_fault(t, &t->cmds[i]);
		if (fault) {
			why_set(why, "%s: entry %zu (%s) has %s", t->prog, i,
				t->cmds[i].name ? t->cmds[i].name : "NULL",
				fault);
			return -EINVAL;
		}
	}
	return 0;
}
