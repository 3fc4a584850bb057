// SPDX-License-Identifier: MIT
/* clidump: prints a daemon's flags, config keys and commands from its own tables, for tests/man/test_man.sh. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clidump.h"

#define PROBE "clidump-probe-word"
#define SEEN_MAX 128

/* The words compared with the probe since the last clear. */
static const char *seen[SEEN_MAX];
static int n_seen;

int clidump_strcmp(const char *a, const char *b)
{
	if (strcmp(a, PROBE) == 0 && n_seen < SEEN_MAX)
		seen[n_seen++] = b;
	return strcmp(a, b);
}

/* Prints "what WORD" for each word seen; the number printed. */
static int print_seen(const char *what, int dashed)
{
	int n = 0;

	for (int i = 0; i < n_seen; i++) {
		if (dashed != (seen[i][0] == '-'))
			continue;
		printf("%s %s\n", what, seen[i]);
		n++;
	}
	n_seen = 0;
	return n;
}

static int dump_flags(const struct cli *c)
{
	int n = 0;

	for (const char *p = c->shortopts; *p; p++) {
		if (*p == '+' || *p == ':')
			continue;
		printf("flag -%c\n", *p);
		n++;
	}
	for (const struct option *o = c->longopts; o->name; o++) {
		printf("flag --%s\n", o->name);
		n++;
	}
	return n;
}

/* The settings: every key the setter compares an unknown one with. */
static int dump_keys(const struct cli *c, void *arg)
{
	struct why why = { "" };

	n_seen = 0;
	c->set(arg, PROBE, "", &why);
	return print_seen("key", 0);
}

/*
 * The daemon's own commands: what c->command compares an unknown command
 * with (it then sends it to the control socket's table, which refuses it
 * before connecting), then what each compares its first argument with.
 */
static int dump_daemon(const struct cli *c, void *arg)
{
	char probe[] = PROBE, word[64];
	char *argv[3] = { probe, NULL, NULL };
	const char *names[16];
	int n = 0;

	n_seen = 0;
	c->command(c, arg, 1, argv);
	for (int i = 0; i < n_seen && n < 16; i++)
		if (seen[i][0] != '-')
			names[n++] = seen[i];
	n_seen = 0;
	for (int i = 0; i < n; i++) {
		printf("daemon %s\n", names[i]);
		snprintf(word, sizeof(word), "%s", names[i]);
		argv[0] = word;
		argv[1] = probe;
		c->command(c, arg, 2, argv);
		print_seen("daemon-flag", 1);
	}
	return n;
}

/* The control socket's commands, and the --flags of their synopses. */
static int dump_commands(const struct cli *c)
{
	const struct ctl_table *t = c->commands;
	char args[128], *save = NULL, *w;

	for (size_t i = 0; i < t->n; i++) {
		printf("command %s\n", t->cmds[i].name);
		snprintf(args, sizeof(args), "%s", t->cmds[i].args);
		for (w = strtok_r(args, " []|", &save); w;
		     w = strtok_r(NULL, " []|", &save))
			if (w[0] == '-')
				printf("command-flag %s\n", w);
	}
	return (int)t->n;
}

int clidump(const struct cli *c, void *arg)
{
	int quiet = open("/dev/null", O_WRONLY | O_CLOEXEC), err = 0;

	/* The daemon's refusals of the probe go nowhere. */
	fflush(stdout);
	if (quiet >= 0) {
		dup2(quiet, STDERR_FILENO);
		close(quiet);
	}
	if (!dump_flags(c) || !dump_keys(c, arg) || !dump_daemon(c, arg) ||
	    !dump_commands(c)) {
		fprintf(stdout, "error: an empty list\n");
		err = 1;
	}
	fflush(stdout);
	return err;
}
