/* SPDX-License-Identifier: MIT */
/* A daemon's command line: flags, config file, --help, then its command, run here or sent to its control socket. */
#ifndef VXSEC_CLI_H
#define VXSEC_CLI_H

#include <getopt.h>

#include "config.h"
#include "ctl.h"

#define VXSEC_VERSION "0.3" /* the release, for --version */
#define CLI_FLAGS_MAX 48    /* settings given as flags; more: usage error */
#define CLI_KEY_MAX 32	    /* a setting's name, with its NUL */

/*
 * What differs between vxsec-agent's and vxsec-keymgr's command lines; the
 * program's name is commands->prog. Both take -c FILE, -h/--help and
 * --version (getopt value 'V'): shortopts and longopts name them too.
 * Every other flag is the config file's setting of its long name, with
 * '_' for '-' (--state-dir DIR: state_dir = DIR; without argument, "yes"),
 * unless c->flag takes it.
 */
struct cli {
	const char *usage_head; /* --help: this, the commands, usage_tail */
	const char *usage_tail;
	const struct ctl_table *commands; /* sent to the control socket */
	const char *config;		  /* the config file without -c */
	const char *shortopts;		  /* "+...": flags end at the command */
	const struct option *longopts;
	config_cb set; /* a setting, from the config file or a flag */
	/*
	 * A flag that is no setting: 0 once taken, -ENOENT for a setting,
	 * else a usage error. NULL: every flag is a setting.
	 */
	int (*flag)(void *arg, int c, const char *val);
	/* argv[0] (argc >= 1), once configured; returns the exit code. */
	int (*command)(const struct cli *c, void *arg, int argc, char **argv);
};

/*
 * The whole command line, on arg (the daemon's configuration, holding its
 * defaults): the flags, then the config file (-c's, or c->config if it
 * exists) and the settings given as flags over it, then sodium_init() and
 * c->command. Returns the exit code: 0 after --help (on stdout) or
 * --version; CTL_USAGE after the usage on stderr (a bad flag, no command)
 * or "<prog>: why" (a bad setting); CTL_FAIL if libsodium cannot start;
 * else c->command's.
 */
int cli_main(const struct cli *c, void *arg, int argc, char **argv);

/*
 * A command of c->commands (argv[0]): ctl_remote() to the daemon at
 * socket, and its code. Any other word: "<prog>: unknown command", the
 * usage on stderr and CTL_USAGE.
 */
int cli_remote(const struct cli *c, const char *socket, int argc, char **argv);

#endif
