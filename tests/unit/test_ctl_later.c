// SPDX-License-Identifier: MIT
/* Unit tests: deferred control replies (CTL_LATER), finished, abandoned, timed out. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/ctl.h"

#define SLOTS CTL_CLIENTS_MAX

struct fx {
	struct loop *l;
	struct ctl_server *s;
	char dir[64], path[128];
	int calls, taken, twice;
	struct ctl_later *later[SLOTS]; /* the daemon's pointers */
	int gone[SLOTS];		/* gone() calls, per slot */
	struct loop_timer *finish;	/* finishes later[0] */
};

/* ---- the server side ---- */

static void on_gone(void *arg)
{
	int *n = arg;

	(*n)++;
}

/* "later": deferred into the next slot, "begun" in the body so far. */
static int take(struct fx *f, struct ctl_reply *r)
{
	int i = f->taken++;

	assert_true(i < SLOTS);
	ctl_reply_printf(r, "begun\n");
	assert_int_equal(ctl_reply_later(r, &f->later[i], on_gone, &f->gone[i]),
			 0);
	assert_non_null(f->later[i]);
	f->twice = ctl_reply_later(r, &f->later[i], on_gone, &f->gone[i]);
	return CTL_LATER;
}

static int handler(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct fx *f = arg;

	(void)argc;
	f->calls++;
	if (!strcmp(argv[0], "echo")) {
		ctl_reply_printf(r, "[%s]\n", argv[argc - 1]);
		return 0;
	}
	if (!strcmp(argv[0], "later"))
		return take(f, r);
	if (!strcmp(argv[0], "later-now")) { /* finished before returning */
		take(f, r);
		ctl_reply_printf(ctl_later_reply(f->later[f->taken - 1]),
				 "n\n");
		ctl_later_finish(&f->later[f->taken - 1], 3);
		return CTL_LATER;
	}
	if (!strcmp(argv[0], "later-code")) { /* taken, answered at once */
		take(f, r);
		return 4;
	}
	if (!strcmp(argv[0], "later-none")) /* a handler's bug */
		return CTL_LATER;
	return CTL_USAGE;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_ctl_later.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/vxsec-test.sock", f->dir);
	f->l = loop_new();
	assert_non_null(f->l);
	f->s = ctl_server_new(f->l, f->path, handler, f);
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	int i;

	ctl_server_free(f->s);
	for (i = 0; i < SLOTS; i++) {
		assert_null(f->later[i]); /* every later ended */
		assert_true(f->gone[i] <= 1);
	}
	loop_timer_free(f->finish);
	loop_free(f->l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---- clients ---- */

static int raw_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sun.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Runs the loop for about ms. */
static void spin(struct fx *f, uint64_t ms)
{
	uint64_t end = loop_mono_ms() + ms;

	while (loop_mono_ms() < end)
		loop_run_once(f->l, 10);
}

/* A connected client that sent line and was served. */
static int ask(struct fx *f, const char *line)
{
	int fd = raw_connect(f->path);

	assert_int_equal(send(fd, line, strlen(line), MSG_NOSIGNAL),
			 (ssize_t)strlen(line));
	spin(f, 50);
	return fd;
}

/* What the server sent on fd so far (non-blocking), NUL-terminated. */
static void peek_reply(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
}

static void expect_reply(int fd, const char *want)
{
	char buf[256];

	peek_reply(fd, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* ---- tests ---- */

static void test_finished_later(void **state)
{
	struct fx *f = *state;
	int fd = ask(f, "later\n");

	assert_int_equal(f->calls, 1);
	assert_int_equal(f->twice, -EINVAL); /* taken once only */
	expect_reply(fd, "");		     /* nothing yet */
	assert_non_null(f->later[0]);
	ctl_reply_printf(ctl_later_reply(f->later[0]), "done\n");
	ctl_later_finish(&f->later[0], 5);
	assert_null(f->later[0]);
	ctl_later_finish(&f->later[0], 6); /* again: nothing */
	spin(f, 50);
	expect_reply(fd, "5\nbegun\ndone\n");
	close(fd);
	assert_int_equal(f->gone[0], 0);
	/* Finished inside the handler, or taken and answered at once. */
	fd = ask(f, "later-now\n");
	expect_reply(fd, "3\nbegun\nn\n");
	close(fd);
	assert_int_equal(f->gone[1], 0);
	fd = ask(f, "later-code\n");
	expect_reply(fd, "4\nbegun\n");
	close(fd);
	assert_int_equal(f->gone[2], 1);
	assert_null(f->later[2]);
}

static void on_finish(struct loop *l, struct loop_timer *t, void *arg)
{
	struct fx *f = arg;

	(void)l, (void)t;
	ctl_reply_printf(ctl_later_reply(f->later[0]), "saved\n");
	ctl_later_finish(&f->later[0], 0);
}

/* ctl_call() in a child; the loop runs here until it is done. */
static void test_call_waits(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "later" }, body[64] = "";
	struct why why = { "" };
	FILE *out = tmpfile();
	int status, rc = -1;
	pid_t pid;

	assert_non_null(out);
	/* Past the read deadline: that one no longer applies. */
	ctl_server_set_timeouts(f->s, 100, 0);
	f->finish = loop_timer_new(f->l, on_finish, f);
	assert_int_equal(loop_timer_arm(f->finish, 400, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(ctl_call(f->path, 1, argv, out, &why));
	while (waitpid(pid, &status, WNOHANG) == 0)
		loop_run_once(f->l, 20);
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	assert_int_equal(rc, 0);
	rewind(out);
	assert_true(fread(body, 1, sizeof(body) - 1, out) > 0);
	fclose(out);
	assert_string_equal(body, "begun\nsaved\n");
	assert_int_equal(f->gone[0], 0);
}

static void test_hangup(void **state)
{
	struct fx *f = *state;
	int fd = ask(f, "later\n");

	close(fd);
	spin(f, 50);
	assert_int_equal(f->gone[0], 1);
	assert_null(f->later[0]);	   /* cleared before gone */
	ctl_later_finish(&f->later[0], 0); /* a late finish: nothing */
	spin(f, 50);
	assert_int_equal(f->gone[0], 1);
	/* A half-close is not a hang-up: the answer still comes. */
	fd = ask(f, "later\n");
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	spin(f, 50);
	assert_int_equal(f->gone[1], 0);
	ctl_later_finish(&f->later[1], 0);
	spin(f, 50);
	expect_reply(fd, "0\nbegun\n");
	close(fd);
	assert_int_equal(f->gone[1], 0);
}

static void test_later_deadline(void **state)
{
	struct fx *f = *state;
	int fd;

	ctl_server_set_later_timeout(f->s, 150);
	fd = ask(f, "later\n");
	expect_reply(fd, "");
	spin(f, 300);
	expect_reply(fd, "1\nno answer within 150 ms\n");
	assert_int_equal(f->gone[0], 1);
	assert_null(f->later[0]);
	close(fd);
	ctl_server_set_later_timeout(f->s, 2000);
	fd = ask(f, "later\n");
	ctl_later_finish(&f->later[1], 0);
	spin(f, 50);
	expect_reply(fd, "0\nbegun\n");
	close(fd);
	assert_int_equal(f->gone[1], 0);
}

static void test_server_free(void **state)
{
	struct fx *f = *state;
	int fd = ask(f, "later\n");
	char buf[64];

	ctl_server_free(f->s);
	f->s = NULL;
	assert_int_equal(f->gone[0], 1);
	assert_null(f->later[0]);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0); /* no reply */
	close(fd);
}

static void test_misuse(void **state)
{
	struct fx *f = *state;
	struct ctl_later *none = NULL;
	struct ctl_reply r;
	int fd = ask(f, "later-none\n");

	expect_reply(fd, "1\ninternal error: no deferred reply\n");
	close(fd);
	/* Outside a handler, or on another reply: refused. */
	ctl_reply_init(&r);
	assert_int_equal(ctl_reply_later(&r, &none, on_gone, f->gone), -EINVAL);
	assert_null(none);
	ctl_reply_cleanup(&r);
	ctl_later_finish(&none, 0);
	ctl_later_finish(NULL, 0);
	assert_null(ctl_later_reply(NULL));
	/* A plain command still answers at once. */
	fd = ask(f, "echo x\n");
	expect_reply(fd, "0\n[x]\n");
	close(fd);
}

/* Waiting laters are clients: the next one waits in the backlog. */
static void test_client_limit(void **state)
{
	struct fx *f = *state;
	int fds[SLOTS + 1], i;

	for (i = 0; i < SLOTS; i++)
		fds[i] = ask(f, "later\n");
	assert_int_equal(f->taken, SLOTS);
	fds[SLOTS] = ask(f, "echo late\n");
	expect_reply(fds[SLOTS], "");
	assert_int_equal(f->calls, SLOTS);
	ctl_later_finish(&f->later[0], 0);
	spin(f, 100);
	expect_reply(fds[0], "0\nbegun\n");
	expect_reply(fds[SLOTS], "0\n[late]\n");
	for (i = 0; i <= SLOTS; i++)
		close(fds[i]);
	spin(f, 50);
	for (i = 1; i < SLOTS; i++)
		assert_int_equal(f->gone[i], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_finished_later, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_call_waits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hangup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_later_deadline, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_server_free, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_limit, setup,
						teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
