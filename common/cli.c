// SPDX-License-Identifier: MIT
/* A daemon's command line: the flags, the config file, then the daemon's command. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "why.h"

/* What the flags said: the config file, then the settings in their order. */
struct cli_flags {
	const char *config;
	bool config_given;
	char keys[CLI_FLAGS_MAX][CLI_KEY_MAX];
	const char *vals[CLI_FLAGS_MAX];
	int n;
};

static void usage(const struct cli *c, FILE *f)
{
	fputs(c->usage_head, f);
	ctl_table_help(c->commands, f);
	fputs(c->usage_tail, f);
}

/* Flag ch as the setting of its long name; -EINVAL if it has none. */
static int add_setting(const struct option *lo, int ch, const char *val,
		       struct cli_flags *o)
{
	char *key;

	while (lo->name && lo->val != ch)
		lo++;
	if (!lo->name || strlen(lo->name) >= CLI_KEY_MAX ||
	    o->n >= CLI_FLAGS_MAX)
		return -EINVAL;
	key = o->keys[o->n];
	snprintf(key, CLI_KEY_MAX, "%s", lo->name);
	for (char *p = key; (p = strchr(p, '-'));)
		*p = '_';
	o->vals[o->n++] = lo->has_arg == no_argument ? "yes" : val;
	return 0;
}

/* 0; 1 once --help or --version has said all; -EINVAL: a usage error. */
static int parse_flags(const struct cli *c, void *arg, int argc, char **argv,
		       struct cli_flags *o)
{
	int ch, err;

	o->config = c->config;
	while ((ch = getopt_long(argc, argv, c->shortopts, c->longopts,
				 NULL)) != -1) {
		if (ch == 'h') {
			usage(c, stdout);
			return 1;
		} else if (ch == 'V') {
			printf("%s %s\n", c->commands->prog, VXSEC_VERSION);
			return 1;
		} else if (ch == 'c') {
			o->config = optarg;
			o->config_given = true;
			continue;
		}
		err = c->flag ? c->flag(arg, ch, optarg) : -ENOENT;
		if (err == -ENOENT)
			err = add_setting(c->longopts, ch, optarg, o);
		if (err)
			return -EINVAL;
	}
	return 0;
}

/* Over the defaults in arg: the config file, then the flags. */
static int configure(const struct cli *c, void *arg, const struct cli_flags *o)
{
	const char *prog = c->commands->prog;
	struct why why = { "" };

	if ((o->config_given || access(o->config, F_OK) == 0) &&
	    config_load(o->config, c->set, arg, &why)) {
		fprintf(stderr, "%s: %s\n", prog, why.msg);
		return -EINVAL;
	}
	for (int i = 0; i < o->n; i++) {
		if (c->set(arg, o->keys[i], o->vals[i], &why)) {
			fprintf(stderr, "%s: %s\n", prog, why.msg);
			return -EINVAL;
		}
	}
	return 0;
}

int cli_main(const struct cli *c, void *arg, int argc, char **argv)
{
	struct cli_flags o = { 0 };
	int err = parse_flags(c, arg, argc, argv, &o);

	if (err > 0)
		return CTL_OK;
	if (err || optind >= argc) {
		usage(c, stderr);
		return CTL_USAGE;
	}
	if (configure(c, arg, &o))
		return CTL_USAGE;
	if (sodium_init() < 0)
		return CTL_FAIL;
	return c->command(c, arg, argc - optind, argv + optind);
}

int cli_remote(const struct cli *c, const char *socket, int argc, char **argv)
{
	const char *prog = c->commands->prog;

	if (ctl_table_find(c->commands, argv[0]))
		return ctl_remote(prog, socket, argc, argv);
	fprintf(stderr, "%s: unknown command \"%s\"\n\n", prog, argv[0]);
	usage(c, stderr);
	return CTL_USAGE;
}
