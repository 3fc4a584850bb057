// SPDX-License-Identifier: MIT
/* Unit tests: the command tables (dispatch, --help, the checks), and ctl_remote's exit codes. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/ctl.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Which handler ran, with how many words. */
static const char *ran;
static int ran_argc;

static int run_show(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	(void)arg;
	ran = "show";
	ran_argc = argc;
	ctl_reply_printf(r, "shown %s\n", argc > 1 ? argv[1] : "-");
	return 0;
}

static int run_go(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	(void)argv, (void)r;
	ran = "go";
	ran_argc = argc;
	return *(int *)arg;
}

static const struct ctl_cmd cmds[] = {
	{ "show", "[--json]", "what there is,\nover two lines", run_show, 0 },
	{ "go", "", "go now", run_go, 1 },
	{ "set-key", "show|rotate", "the key", run_show, 3 },
};

static const struct ctl_table see_help = {
	.prog = "vxsec-test",
	.cmds = cmds,
	.n = N(cmds),
	.width = 20,
};

static const struct ctl_table listed = {
	.prog = "vxsec-test",
	.cmds = cmds,
	.n = N(cmds),
	.width = 20,
	.list_unknown = true,
};

/* Dispatches the words of line; returns the body (static), *code the code. */
static const char *dispatch(const struct ctl_table *t, const char *line,
			    int *code)
{
	static char body[1024];
	char buf[256], *argv[CTL_ARGS_MAX + 1];
	struct why why = { "" };
	struct ctl_reply r;
	int argc, go_code = 7;

	snprintf(buf, sizeof(buf), "%s", line);
	argc = ctl_request_split(buf, argv, CTL_ARGS_MAX, &why);
	assert_true(argc >= 1);
	ran = NULL;
	ran_argc = 0;
	ctl_reply_init(&r);
	*code = ctl_dispatch(t, &go_code, argc, argv, &r);
	assert_int_equal(r.err, 0);
	snprintf(body, sizeof(body), "%s", r.buf ? r.buf : "");
	ctl_reply_cleanup(&r);
	return body;
}

static void test_dispatch_runs_handler(void **state)
{
	int code;

	(void)state;
	assert_string_equal(dispatch(&see_help, "show x", &code), "shown x\n");
	assert_int_equal(code, 0);
	assert_string_equal(ran, "show");
	assert_int_equal(ran_argc, 2);
	assert_string_equal(dispatch(&see_help, "go", &code), "");
	assert_int_equal(code, 7); /* the handler's own code */
	assert_string_equal(ran, "go");
	assert_string_equal(dispatch(&see_help, "set-key a b", &code),
			    "shown a\n");
	assert_int_equal(ran_argc, 3);
}

/* A name not in the table, another case, too many words: refused, unrun. */
static void test_dispatch_refuses(void **state)
{
	static const char *const lines[] = { "frobnicate", "Show", "go now",
					     "set-key a b c", "sho" };
	char want[128];
	int code;

	(void)state;
	for (size_t i = 0; i < N(lines); i++) {
		snprintf(want, sizeof(want),
			 "unknown command \"%.*s\" (see vxsec-test --help)\n",
			 (int)strcspn(lines[i], " "), lines[i]);
		assert_string_equal(dispatch(&see_help, lines[i], &code), want);
		assert_int_equal(code, CTL_USAGE);
		assert_null(ran);
	}
	assert_string_equal(dispatch(&listed, "go now", &code),
			    "unknown command \"go\" (show [--json], go, "
			    "set-key show|rotate)\n");
	assert_int_equal(code, CTL_USAGE);
	assert_null(ran);
}

/* An entry without a handler is never called: refused as unknown. */
static void test_dispatch_no_handler(void **state)
{
	static const struct ctl_cmd holes[] = {
		{ "show", "", "what there is", NULL, 0 },
	};
	const struct ctl_table t = {
		.prog = "vxsec-test", .cmds = holes, .n = 1, .width = 20
	};
	int code;

	(void)state;
	assert_string_equal(
		dispatch(&t, "show", &code),
		"unknown command \"show\" (see vxsec-test --help)\n");
	assert_int_equal(code, CTL_USAGE);
}

static void test_find(void **state)
{
	(void)state;
	assert_ptr_equal(ctl_table_find(&see_help, "go"), &cmds[1]);
	assert_ptr_equal(ctl_table_find(&see_help, "set-key"), &cmds[2]);
	assert_null(ctl_table_find(&see_help, "set"));
	assert_null(ctl_table_find(&see_help, ""));
	assert_null(ctl_table_find(&see_help, "GO"));
}

static void test_help(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	ctl_table_help(&see_help, f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "  show [--json]        what there is,\n"
				  "                       over two lines\n"
				  "  go                   go now\n"
				  "  set-key show|rotate  the key\n");
	free(text);
}

static void test_check_good(void **state)
{
	struct why why = { "" };

	(void)state;
	assert_int_equal(ctl_table_check(&see_help, &why), 0);
	assert_int_equal(ctl_table_check(&listed, &why), 0);
}

/* Each fault alone makes the check fail, and why names the entry. */
static void test_check_faults(void **state)
{
	static const struct {
		struct ctl_cmd c;
		const char *why;
	} bad[] = {
		{ { "go", "", "go now", NULL, 0 },
		  "entry 1 (go) has no handler" },
		{ { "show", "", "again", run_go, 0 },
		  "(show) has its name twice" },
		{ { "Go", "", "go now", run_go, 0 }, "not a plain word" },
		{ { "", "", "go now", run_go, 0 }, "not a plain word" },
		{ { "g o", "", "go now", run_go, 0 }, "not a plain word" },
		{ { NULL, "", "go now", run_go, 0 }, "(NULL) has a name" },
		{ { "go", NULL, "go now", run_go, 0 },
		  "no synopsis or no help" },
		{ { "go", "", "", run_go, 0 }, "no synopsis or no help" },
		{ { "go", "", NULL, run_go, 0 }, "no synopsis or no help" },
		{ { "go", "", "go now", run_go, -1 }, "negative argc_max" },
		{ { "go", "A-SYNOPSIS-TOO-WIDE", "go now", run_go, 0 },
		  "wider than the help column" },
	};
	struct ctl_cmd two[2] = { cmds[0] };
	struct ctl_table t = {
		.prog = "vxsec-test", .cmds = two, .n = 2, .width = 20
	};
	struct why why = { "" };

	(void)state;
	for (size_t i = 0; i < N(bad); i++) {
		two[1] = bad[i].c;
		why.msg[0] = '\0';
		assert_int_equal(ctl_table_check(&t, &why), -EINVAL);
		if (!strstr(why.msg, bad[i].why))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, why.msg,
				 bad[i].why);
	}
	t.n = 0;
	assert_int_equal(ctl_table_check(&t, &why), -EINVAL);
}

/* ctl_remote: nobody at the socket is 69 and one line on stderr. */
static void test_remote_not_running(void **state)
{
	char dir[] = "/tmp/test_ctl_table.XXXXXX", path[64], err[512];
	char *argv[] = { "status", NULL };
	FILE *tmp = tmpfile();
	int saved = dup(2), code;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(tmp);
	snprintf(path, sizeof(path), "%s/vxsec-test.sock", dir);
	assert_int_equal(dup2(fileno(tmp), 2), 2);
	code = ctl_remote("vxsec-test", path, 1, argv);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fileno(tmp), err, sizeof(err) - 1, 0);
	assert_true(n > 0);
	err[n] = '\0';
	fclose(tmp);
	rmdir(dir);
	assert_int_equal(code, CTL_NOT_RUNNING);
	assert_int_equal(strncmp(err, "vxsec-test: cannot connect to ", 30), 0);
	assert_non_null(strstr(err, "is vxsec-test running?\n"));
	assert_ptr_equal(strchr(err, '\n') + 1, err + n); /* one line */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch_runs_handler),
		cmocka_unit_test(test_dispatch_refuses),
		cmocka_unit_test(test_dispatch_no_handler),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_check_faults),
		cmocka_unit_test(test_remote_not_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
