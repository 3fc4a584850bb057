/* SPDX-License-Identifier: MIT */
/* clidump: what a daemon's command line knows (flags, config keys, commands), read from its own tables. */
#ifndef VXSEC_CLIDUMP_H
#define VXSEC_CLIDUMP_H

#include "common/cli.h"

/*
 * The daemon's main.c and its settings' file are compiled into the
 * dumper with strcmp() renamed to this: it compares as strcmp() does,
 * and records every word a probe key or command is compared with.
 */
int clidump_strcmp(const char *a, const char *b);

/*
 * Prints, one per line, "flag -x" and "flag --name" (c->shortopts,
 * c->longopts), "key NAME" (each key c->set compares a probe with),
 * "daemon NAME" (each command c->command runs itself), "daemon-flag
 * --NAME" (what such a command compares its next word with), "command
 * NAME" and "command-flag --NAME" (c->commands and their synopses).
 * arg: the daemon's configuration with its defaults. Returns 0, or 1 if
 * a list came out empty (the probe no longer sees the code).
 */
int clidump(const struct cli *c, void *arg);

#endif
