// SPDX-License-Identifier: MIT
/* Unit tests: a daemon's command line (common/cli.c): settings from the config file then the flags, its own flags, --help, exit codes. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cli.h"
#include "common/ctl.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define WORDS_MAX 64

/* What the fake daemon saw: "key=val " per setting, its own flag, its command. */
struct seen {
	char settings[2048];
	const char *own;
	char command[256];
};

static int set(void *arg, const char *key, const char *val, struct why *why)
{
	struct seen *s = arg;
	size_t len = strlen(s->settings);

	if (strcmp(val, "bad") == 0)
		return why_fail(why, -EINVAL, "%s: bad value", key);
	snprintf(s->settings + len, sizeof(s->settings) - len, "%s=%s ", key,
		 val);
	return 0;
}

static int own_flag(void *arg, int c, const char *val)
{
	struct seen *s = arg;

	if (c != 'U')
		return -ENOENT;
	s->own = val;
	return 0;
}

static int command(const struct cli *c, void *arg, int argc, char **argv)
{
	struct seen *s = arg;

	for (int i = 0; i < argc; i++)
		snprintf(s->command + strlen(s->command),
			 sizeof(s->command) - strlen(s->command), "%s%s",
			 i ? " " : "", argv[i]);
	if (strcmp(argv[0], "local") == 0)
		return 42;
	return cli_remote(c, "/nonexistent/vxsec-test.sock", argc, argv);
}

static int run_nothing(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	(void)arg, (void)argc, (void)argv, (void)r;
	return 0;
}

static const struct ctl_cmd cmds[] = {
	{ "status", "", "how it is", run_nothing, 0 },
};

static const struct ctl_table commands = {
	.prog = "vxsec-test",
	.cmds = cmds,
	.n = N(cmds),
	.width = 10,
};

static const struct option longs[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state-dir", required_argument, NULL, 'd' },
	{ "unauth-per-source", required_argument, NULL, 'P' },
	{ "autolock", no_argument, NULL, 'A' },
	{ "unlock-key-file", required_argument, NULL, 'U' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 }
};

static const struct cli test_cli = {
	.usage_head = "usage: vxsec-test COMMAND\nCommands:\n",
	.usage_tail = "Options: none to speak of\n",
	.commands = &commands,
	.config = "/nonexistent/vxsec-test.conf", /* absent: no error */
	.shortopts = "+c:d:vh",
	.longopts = longs,
	.set = set,
	.flag = own_flag,
	.command = command,
};

/*
 * cli_main on the words of line (split at spaces), with stdout and stderr
 * both caught in out. Returns the exit code.
 */
static int run(struct seen *s, char *out, size_t len, const char *line)
{
	char words[1024], *argv[WORDS_MAX + 1], *save = NULL;
	int argc = 0, saved[2], code;
	FILE *tmp = tmpfile();
	ssize_t n;

	assert_non_null(tmp);
	memset(s, 0, sizeof(*s));
	snprintf(words, sizeof(words), "vxsec-test %s", line);
	for (char *w = strtok_r(words, " ", &save); w && argc < WORDS_MAX;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	optind = 0; /* getopt starts over */
	fflush(stdout);
	for (int fd = 1; fd <= 2; fd++) {
		saved[fd - 1] = dup(fd);
		assert_int_equal(dup2(fileno(tmp), fd), fd);
	}
	code = cli_main(&test_cli, s, argc, argv);
	fflush(stdout);
	fflush(stderr);
	for (int fd = 1; fd <= 2; fd++) {
		assert_int_equal(dup2(saved[fd - 1], fd), fd);
		close(saved[fd - 1]);
	}
	n = pread(fileno(tmp), out, len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	fclose(tmp);
	return code;
}

/* The config file's settings first, then the flags', in their order. */
static void test_file_then_flags(void **state)
{
	char conf[] = "/tmp/test_cli.XXXXXX", line[256], out[4096];
	struct seen s;
	FILE *f;
	int fd = mkstemp(conf);

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("state_dir = /from/file\nverbose = no\n", f);
	fclose(f);
	snprintf(line, sizeof(line),
		 "-c %s --state-dir /a -v --unauth-per-source 3 "
		 "--autolock -d /b local --json x",
		 conf);
	assert_int_equal(run(&s, out, sizeof(out), line), 42);
	unlink(conf);
	assert_string_equal(s.settings,
			    "state_dir=/from/file verbose=no state_dir=/a "
			    "verbose=yes unauth_per_source=3 autolock=yes "
			    "state_dir=/b ");
	/* "+": the flags end at the command; its own follow it. */
	assert_string_equal(s.command, "local --json x");
	assert_string_equal(out, "");
}

/* A flag the daemon takes itself is no setting. */
static void test_own_flag(void **state)
{
	char out[4096];
	struct seen s;

	(void)state;
	assert_int_equal(
		run(&s, out, sizeof(out), "--unlock-key-file /k -v local"), 42);
	assert_non_null(s.own);
	assert_string_equal(s.own, "/k");
	assert_string_equal(s.settings, "verbose=yes ");
}

/* Usage errors: 2 and the usage on stderr; the command never runs. */
static void test_usage_errors(void **state)
{
	static const char *const lines[] = {
		"",		 /* no command */
		"-x local",	 /* an unknown flag */
		"--bogus local", /* an unknown long flag */
		"-d",		 /* a flag without its argument */
	};
	char out[4096];
	struct seen s;

	(void)state;
	for (size_t i = 0; i < N(lines); i++) {
		assert_int_equal(run(&s, out, sizeof(out), lines[i]),
				 CTL_USAGE);
		assert_string_equal(s.command, "");
		assert_non_null(strstr(out, "usage: vxsec-test COMMAND\n"
					    "Commands:\n"
					    "  status     how it is\n"
					    "Options: none to speak of\n"));
	}
}

/* A bad setting: 2 and "<prog>: why", from a flag or the file. */
static void test_bad_setting(void **state)
{
	char out[4096];
	struct seen s;

	(void)state;
	assert_int_equal(run(&s, out, sizeof(out), "-d bad local"), CTL_USAGE);
	assert_string_equal(out, "vxsec-test: state_dir: bad value\n");
	assert_string_equal(s.command, "");
	assert_int_equal(
		run(&s, out, sizeof(out), "-c /nonexistent/given.conf local"),
		CTL_USAGE);
	assert_non_null(strstr(out, "vxsec-test: "));
	assert_non_null(strstr(out, "/nonexistent/given.conf"));
	assert_string_equal(s.command, "");
}

/* More settings than CLI_FLAGS_MAX as flags: a usage error. */
static void test_too_many_flags(void **state)
{
	char line[4 * (CLI_FLAGS_MAX + 1) + 16] = "", out[4096];
	struct seen s;

	(void)state;
	for (int i = 0; i < CLI_FLAGS_MAX; i++)
		strcat(line, "-v ");
	strcat(line, "local");
	assert_int_equal(run(&s, out, sizeof(out), line), 42);
	memmove(line + 3, line, strlen(line) + 1);
	memcpy(line, "-v ", 3);
	assert_int_equal(run(&s, out, sizeof(out), line), CTL_USAGE);
	assert_string_equal(s.command, "");
}

/* --help and --version on stdout, exit 0, nothing run. */
static void test_help_version(void **state)
{
	char out[4096];
	struct seen s;

	(void)state;
	assert_int_equal(run(&s, out, sizeof(out), "--help local"), 0);
	assert_string_equal(out, "usage: vxsec-test COMMAND\nCommands:\n"
				 "  status     how it is\n"
				 "Options: none to speak of\n");
	assert_int_equal(run(&s, out, sizeof(out), "-h"), 0);
	assert_string_equal(s.command, "");
	assert_int_equal(run(&s, out, sizeof(out), "--version"), 0);
	assert_string_equal(out, "vxsec-test " VXSEC_VERSION "\n");
}

/* cli_remote: a command of the table goes to the socket, others are unknown. */
static void test_remote(void **state)
{
	char out[4096];
	struct seen s;

	(void)state;
	assert_int_equal(run(&s, out, sizeof(out), "status"), CTL_NOT_RUNNING);
	assert_non_null(strstr(out, "vxsec-test: cannot connect to "));
	assert_int_equal(run(&s, out, sizeof(out), "frobnicate"), CTL_USAGE);
	assert_non_null(strstr(out, "vxsec-test: unknown command "
				    "\"frobnicate\"\n\nusage: vxsec-test"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_then_flags),
		cmocka_unit_test(test_own_flag),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_bad_setting),
		cmocka_unit_test(test_too_many_flags),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_remote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
