// SPDX-License-Identifier: MIT
/* Unit tests: the control socket, a server on a loop here and clients in forked children. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <poll.h>
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

#define BIG (5u << 20) /* a status of 10,000 nodes is about this */

struct fx {
	struct loop *l;
	struct ctl_server *s;
	char dir[64], path[128];
	int calls;
};

/* What a child reports; the body goes through a shared temporary file. */
struct result {
	int rc;
	struct why why;
};

struct child {
	pid_t pid;
	int pipe;
	FILE *out;
};

/* ---- the server side ---- */

static void reply_big(struct ctl_reply *r, size_t n)
{
	unsigned int i;

	for (i = 0; r->len < n; i++)
		ctl_reply_printf(r, "%09u\n", i);
}

static int handler(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct fx *f = arg;
	int i;

	f->calls++;
	assert_non_null(argv[0]);
	assert_null(argv[argc]);
	if (!strcmp(argv[0], "echo")) {
		for (i = 0; i < argc; i++)
			ctl_reply_printf(r, "[%s]", argv[i]);
		ctl_reply_printf(r, "\n");
		return 0;
	}
	if (!strcmp(argv[0], "big") && argc == 2) {
		reply_big(r, strtoul(argv[1], NULL, 10));
		return 0;
	}
	if (!strcmp(argv[0], "code") && argc == 2)
		return atoi(argv[1]);
	if (!strcmp(argv[0], "json") && argc == 2) {
		ctl_reply_printf(r, "{\"name\": ");
		ctl_json_string(r, argv[1]);
		ctl_reply_printf(r, "}\n");
		return 0;
	}
	if (!strcmp(argv[0], "huge")) {
		ctl_reply_printf(r, "partial");
		ctl_reply_append(r, "x", CTL_REPLY_MAX); /* refused unread */
		return 0;
	}
	ctl_reply_printf(r, "unknown command: %s\n", argv[0]);
	return CTL_USAGE;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_ctl.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/vxsec-test.sock", f->dir);
	f->l = loop_new();
	assert_non_null(f->l);
	umask(022);
	f->s = ctl_server_new(f->l, f->path, handler, f);
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	ctl_server_free(f->s);
	loop_free(f->l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---- children ---- */

typedef void (*child_fn)(struct fx *f, FILE *out, struct result *res,
			 const void *arg);

static struct child spawn(struct fx *f, child_fn fn, const void *arg)
{
	struct child c = { .out = tmpfile() };
	struct result res = { 0 };
	int p[2];

	assert_non_null(c.out);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		close(p[0]);
		fn(f, c.out, &res, arg);
		fflush(c.out);
		if (write(p[1], &res, sizeof(res)) != sizeof(res))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	c.pipe = p[0];
	return c;
}

static bool exited(const struct child *c, bool wait)
{
	int status;
	pid_t r = waitpid(c->pid, &status, wait ? 0 : WNOHANG);

	if (r == 0)
		return false;
	assert_int_equal(r, c->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return true;
}

/* The result and the body (NUL-terminated, to free) of a finished child. */
static char *collect(struct child *c, struct result *res, size_t *len)
{
	long n;
	char *body;

	assert_int_equal(read(c->pipe, res, sizeof(*res)), sizeof(*res));
	close(c->pipe);
	assert_int_equal(fseek(c->out, 0, SEEK_END), 0);
	n = ftell(c->out);
	rewind(c->out);
	body = malloc((size_t)n + 1);
	assert_non_null(body);
	assert_int_equal(fread(body, 1, (size_t)n, c->out), (size_t)n);
	body[n] = '\0';
	fclose(c->out);
	if (len)
		*len = (size_t)n;
	return body;
}

/* Runs the loop while the child works; its result and body. */
static char *run(struct fx *f, child_fn fn, const void *arg, struct result *res,
		 size_t *len)
{
	struct child c = spawn(f, fn, arg);

	while (!exited(&c, false))
		loop_run_once(f->l, 20);
	return collect(&c, res, len);
}

struct call {
	const char *path; /* NULL: the fixture's */
	int argc;
	char **argv;
};

static void child_call(struct fx *f, FILE *out, struct result *res,
		       const void *arg)
{
	const struct call *c = arg;

	res->rc = ctl_call(c->path ? c->path : f->path, c->argc, c->argv, out,
			   &res->why);
}

struct raw {
	const char *data;
	size_t len;
	bool shut;     /* half-close after sending */
	bool wait_hup; /* reads only once the server has closed */
};

static int raw_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sun.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		return -errno;
	return fd;
}

/* Sends bytes as they are; copies everything it gets back to out. */
static void child_raw(struct fx *f, FILE *out, struct result *res,
		      const void *arg)
{
	const struct raw *w = arg;
	char buf[65536];
	ssize_t n;
	int fd = raw_connect(f->path);

	res->rc = fd;
	if (fd < 0)
		return;
	if (w->len &&
	    send(fd, w->data, w->len, MSG_NOSIGNAL) != (ssize_t)w->len)
		res->rc = -errno;
	if (w->shut)
		shutdown(fd, SHUT_WR);
	if (w->wait_hup) {
		struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

		poll(&pfd, 1, 30000);
	}
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		fwrite(buf, 1, (size_t)n, out);
	if (n < 0)
		res->rc = -errno;
	else if (res->rc >= 0)
		res->rc = 0;
	close(fd);
}

static char *call(struct fx *f, struct result *res, int argc, char **argv)
{
	struct call c = { .argc = argc, .argv = argv };

	return run(f, child_call, &c, res, NULL);
}

static void expect_raw(struct fx *f, const char *data, size_t len, bool shut,
		       const char *want)
{
	struct raw w = { .data = data, .len = len, .shut = shut };
	struct result res;
	char *body = run(f, child_raw, &w, &res, NULL);

	assert_int_equal(res.rc, 0);
	assert_string_equal(body, want);
	free(body);
}

/* ---- tests ---- */

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "echo", "a", "b", "c" };
	struct result res;
	char *body = call(f, &res, 4, argv);

	assert_int_equal(res.rc, 0);
	assert_string_equal(body, "[echo][a][b][c]\n");
	assert_int_equal(f->calls, 1);
	free(body);
	/* CRLF and extra blanks from a hand-typed request are fine. */
	expect_raw(f, "  echo \t x  \r\n", 14, false, "0\n[echo][x]\n");
	assert_int_equal(f->calls, 2);
}

static void test_words_escaped(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "echo", "with space", "q\"uote",	  "100%",
			 "",	 "n\xc3\xbc",  "a=b,c:d/e.f-g_h", "%41" };
	struct result res;
	char *body = call(f, &res, 8, argv);

	assert_int_equal(res.rc, 0);
	assert_string_equal(body, "[echo][with space][q\"uote][100%][]"
				  "[n\xc3\xbc][a=b,c:d/e.f-g_h][%41]\n");
	free(body);
	/* A control character never reaches a handler. */
	argv[1] = "two\nlines";
	body = call(f, &res, 2, argv);
	assert_int_equal(res.rc, CTL_USAGE);
	assert_string_equal(body, "bad request: word 2: control character\n");
	assert_int_equal(f->calls, 1);
	free(body);
	expect_raw(f, "echo %zz\n", 9, false,
		   "2\nbad request: word 2: bad %-escape\n");
	expect_raw(f, "echo \"open\n", 11, false,
		   "2\nbad request: word 2: unterminated quote\n");
	expect_raw(f, "echo a\0b\n", 9, false, "2\nNUL byte in request\n");
	expect_raw(f, "\n", 1, false, "2\nempty request\n");
	assert_int_equal(f->calls, 1);
}

struct split_ok {
	const char *line;
	int argc;
	const char *argv[4];
};

static void test_split(void **state)
{
	static const struct split_ok ok[] = {
		{ "", 0, { NULL } },
		{ " \t ", 0, { NULL } },
		{ "  a\tb   c  ", 3, { "a", "b", "c" } },
		{ "\"a b\" c", 2, { "a b", "c" } },
		{ "x\"y z\"w", 1, { "xy zw" } },
		{ "%41%42c %7e", 2, { "ABc", "~" } },
		{ "%22 \"%20\"", 2, { "\"", " " } },
		{ "\"\" \"\"", 2, { "", "" } },
		{ "node-1.a_b", 1, { "node-1.a_b" } },
	};
	static const char *const bad[] = { "%4",    "%zz",    "a%",
					   "%00",   "%0a",    "%7F",
					   "\"abc", "a\001b", "\"a\tb\"" };
	char line[256], *argv[CTL_ARGS_MAX + 1];
	struct why why = { "" };
	size_t i;
	int j, n;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		strcpy(line, ok[i].line);
		n = ctl_request_split(line, argv, 4, &why);
		assert_int_equal(n, ok[i].argc);
		for (j = 0; j < n; j++)
			assert_string_equal(argv[j], ok[i].argv[j]);
		assert_null(argv[n]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(line, bad[i]);
		why.msg[0] = '\0';
		if (ctl_request_split(line, argv, 4, &why) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_true(strstr(why.msg, "word 1: ") == why.msg);
	}
	strcpy(line, "a b c d e");
	assert_int_equal(ctl_request_split(line, argv, 4, &why), -EINVAL);
	assert_string_equal(why.msg, "more than 4 words");
}

static void test_big_reply(void **state)
{
	struct fx *f = *state;
	char arg[16], *argv[] = { "big", arg };
	struct call c = { .argc = 2, .argv = argv };
	struct ctl_reply want;
	struct result res;
	size_t len;
	char *body;

	snprintf(arg, sizeof(arg), "%u", BIG);
	body = run(f, child_call, &c, &res, &len);
	assert_int_equal(res.rc, 0);
	ctl_reply_init(&want);
	reply_big(&want, BIG);
	assert_int_equal(len, want.len);
	assert_int_equal(len, BIG);
	assert_memory_equal(body, want.buf, len);
	ctl_reply_cleanup(&want);
	free(body);
}

static void test_slow_reader_dropped(void **state)
{
	struct fx *f = *state;
	char req[32];
	struct raw w = { .data = req, .wait_hup = true };
	struct result res;
	size_t len;
	char *body;

	/* Its reply does not fit in the socket and it does not read. */
	ctl_server_set_timeouts(f->s, 0, 150);
	w.len = (size_t)snprintf(req, sizeof(req), "big %u\n", BIG);
	body = run(f, child_raw, &w, &res, &len);
	assert_true(len < BIG);
	assert_true(len > 2);
	assert_memory_equal(body, "0\n", 2);
	free(body);
}

static void test_too_long(void **state)
{
	struct fx *f = *state;
	char *req = malloc(CTL_REQUEST_MAX + 1000);
	struct why why = { "" };
	char *argv[] = { "echo", req };
	struct result res;
	char *body;
	struct raw w = { .data = req };

	assert_non_null(req);
	memset(req, 'a', CTL_REQUEST_MAX + 1000);
	w.len = CTL_REQUEST_MAX + 1000;
	body = run(f, child_raw, &w, &res, NULL);
	assert_int_equal(res.rc, 0);
	assert_string_equal(body, "2\nrequest longer than 4096 bytes\n");
	free(body);
	/* Exactly CTL_REQUEST_MAX bytes with the newline: served. */
	memcpy(req, "echo ", 5);
	req[CTL_REQUEST_MAX - 1] = '\n';
	w.len = CTL_REQUEST_MAX;
	body = run(f, child_raw, &w, &res, NULL);
	assert_int_equal(strlen(body), 2 + 6 + (CTL_REQUEST_MAX - 6) + 3);
	assert_memory_equal(body, "0\n[echo][aaa", 12);
	free(body);
	assert_int_equal(f->calls, 1);
	/* The client refuses before connecting. */
	memset(req, 'b', CTL_REQUEST_MAX);
	req[CTL_REQUEST_MAX] = '\0';
	assert_int_equal(ctl_call(f->path, 2, argv, stdout, &why), -E2BIG);
	assert_non_null(strstr(why.msg, "request too long"));
	assert_int_equal(ctl_call(f->path, 0, argv, stdout, &why), -EINVAL);
	free(req);
}

static void test_deadline(void **state)
{
	struct fx *f = *state;

	ctl_server_set_timeouts(f->s, 100, 0);
	expect_raw(f, NULL, 0, false, "2\nno complete request within 100 ms\n");
	expect_raw(f, "echo a", 6, false,
		   "2\nno complete request within 100 ms\n");
	expect_raw(f, "echo a", 6, true,
		   "2\nrequest ended without a newline\n");
	assert_int_equal(f->calls, 0);
}

static void test_codes(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "frobnicate", NULL };
	struct result res;
	char *body = call(f, &res, 1, argv);

	assert_int_equal(res.rc, CTL_USAGE);
	assert_string_equal(body, "unknown command: frobnicate\n");
	free(body);
	argv[0] = "code";
	argv[1] = "42";
	body = call(f, &res, 2, argv);
	assert_int_equal(res.rc, 42);
	assert_string_equal(body, "");
	free(body);
	argv[1] = "300"; /* not an exit code: a failure */
	body = call(f, &res, 2, argv);
	assert_int_equal(res.rc, CTL_FAIL);
	free(body);
	argv[1] = "-12";
	body = call(f, &res, 2, argv);
	assert_int_equal(res.rc, CTL_FAIL);
	free(body);
	argv[0] = "huge"; /* an append refused: the reply says so */
	body = call(f, &res, 1, argv);
	assert_int_equal(res.rc, CTL_FAIL);
	assert_string_equal(body, "reply lost: Message too long\n");
	free(body);
}

static void test_json_string(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "json", "a \"b\" \\c\n\t\x01\x1f\x7f/\xc3\xa9" };
	struct ctl_reply r;
	struct result res;
	char *body;

	ctl_reply_init(&r);
	assert_int_equal(ctl_json_string(&r, argv[1]), 0);
	assert_string_equal(r.buf, "\"a \\\"b\\\" \\\\c\\n\\t\\u0001\\u001f"
				   "\\u007f/\xc3\xa9\"");
	ctl_reply_cleanup(&r);
	assert_int_equal(ctl_json_string(&r, "\b\f\r"), 0);
	assert_int_equal(ctl_json_string(&r, ""), 0);
	assert_int_equal(ctl_json_string(&r, NULL), 0);
	assert_string_equal(r.buf, "\"\\b\\f\\r\"\"\"null");
	/* An error sticks: nothing more is appended. */
	assert_int_equal(ctl_reply_append(&r, "x", CTL_REPLY_MAX), -EMSGSIZE);
	assert_int_equal(ctl_reply_printf(&r, "more"), -EMSGSIZE);
	assert_int_equal(ctl_json_string(&r, "more"), -EMSGSIZE);
	assert_string_equal(r.buf, "\"\\b\\f\\r\"\"\"null");
	ctl_reply_cleanup(&r);
	/* Through the socket: the quote travels escaped. */
	argv[1] = "x\"y";
	body = call(f, &res, 2, argv);
	assert_int_equal(res.rc, 0);
	assert_string_equal(body, "{\"name\": \"x\\\"y\"}\n");
	free(body);
}

static void test_socket_file(void **state)
{
	struct fx *f = *state;
	struct ctl_server *s2;
	struct stat st;
	char path[256];
	int fd;

	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(umask(022), 022); /* restored after the bind */
	/* In use: refused, and the running server keeps its socket. */
	errno = 0;
	assert_null(ctl_server_new(f->l, f->path, handler, f));
	assert_int_equal(errno, EADDRINUSE);
	assert_int_equal(lstat(f->path, &st), 0);
	ctl_server_free(f->s);
	f->s = NULL;
	assert_int_equal(lstat(f->path, &st), -1); /* unlinked */
	/* A stale socket (its daemon died) is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		strcpy(sun.sun_path, f->path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)),
				 0);
	}
	close(fd);
	f->s = ctl_server_new(f->l, f->path, handler, f);
	assert_non_null(f->s);
	/* Not a socket: left alone. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	s2 = ctl_server_new(f->l, path, handler, f);
	assert_null(s2);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_null(ctl_server_new(f->l, path, handler, f));
	assert_int_equal(errno, ENAMETOOLONG);
}

static void test_not_running(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "status" }, path[160], want[400];
	struct why why = { "" };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(path, sizeof(path), "%s/vxsec-keymgr.sock", f->dir);
	assert_int_equal(ctl_call(path, 1, argv, stdout, &why), -ENOENT);
	snprintf(want, sizeof(want),
		 "cannot connect to %s: No such file or directory"
		 " — is vxsec-keymgr running?",
		 path);
	assert_string_equal(why.msg, want);
	/* Its socket file is left, nobody listens. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sun.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(ctl_call(path, 1, argv, stdout, &why), -ECONNREFUSED);
	assert_non_null(strstr(why.msg, "is vxsec-keymgr running?"));
}

/* A fake daemon: accepts one client, reads its line, answers reply. */
static void fake_daemon(int lfd, const char *reply)
{
	char buf[CTL_REQUEST_MAX];
	int fd = accept(lfd, NULL, NULL);

	assert_true(fd >= 0);
	assert_true(recv(fd, buf, sizeof(buf), 0) > 0);
	if (reply)
		assert_int_equal(send(fd, reply, strlen(reply), MSG_NOSIGNAL),
				 (ssize_t)strlen(reply));
	close(fd);
}

struct bad_reply {
	const char *reply, *why;
};

static void test_malformed_reply(void **state)
{
	static const struct bad_reply bad[] = {
		{ "hello\n", "malformed reply from vxsec-fake" },
		{ "256\n", "malformed reply from vxsec-fake" },
		{ "1234\n", "malformed reply from vxsec-fake" },
		{ "-1\nx", "malformed reply from vxsec-fake" },
		{ "\nbody", "malformed reply from vxsec-fake" },
		{ "0", "vxsec-fake closed the connection without a reply" },
		{ NULL, "vxsec-fake closed the connection without a reply" },
	};
	struct fx *f = *state;
	char *argv[] = { "status" }, *body;
	struct call c = { .argc = 1, .argv = argv };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct result res;
	struct child ch;
	size_t i;
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/vxsec-fake.sock",
		 f->dir);
	c.path = sun.sun_path;
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ch = spawn(f, child_call, &c);
		fake_daemon(lfd, bad[i].reply);
		assert_true(exited(&ch, true));
		body = collect(&ch, &res, NULL);
		assert_int_equal(res.rc, -EPROTO);
		assert_string_equal(body, ""); /* nothing half-written */
		free(body);
		assert_string_equal(res.why.msg, bad[i].why);
	}
	/* Well formed, even without a final newline. */
	ch = spawn(f, child_call, &c);
	fake_daemon(lfd, "7\nno newline");
	assert_true(exited(&ch, true));
	body = collect(&ch, &res, NULL);
	assert_int_equal(res.rc, 7);
	assert_string_equal(body, "no newline");
	free(body);
	close(lfd);
}

static void child_as_nobody(struct fx *f, FILE *out, struct result *res,
			    const void *arg)
{
	if (setgid(65534) || setuid(65534)) {
		res->rc = -1000;
		return;
	}
	child_call(f, out, res, arg);
}

static void test_permission_denied(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "echo", "x" };
	struct call c = { .argc = 2, .argv = argv };
	struct result res;
	char *body;

	if (geteuid() != 0) {
		print_message("SKIP: test_permission_denied needs root to "
			      "connect as another uid (nobody)\n");
		skip();
	}
	/* Past the file mode, the peer check still refuses. */
	assert_int_equal(chmod(f->dir, 0711), 0);
	assert_int_equal(chmod(f->path, 0666), 0);
	body = run(f, child_as_nobody, &c, &res, NULL);
	assert_int_equal(res.rc, CTL_NOPERM);
	assert_string_equal(body, "permission denied\n");
	assert_int_equal(f->calls, 0);
	free(body);
}

struct idle {
	int ready; /* written once connected */
};

static void child_idle(struct fx *f, FILE *out, struct result *res,
		       const void *arg)
{
	const struct idle *w = arg;
	char buf[256];
	ssize_t n;
	int fd = raw_connect(f->path);

	res->rc = fd < 0 ? fd : 0;
	if (fd < 0 || send(fd, "ec", 2, MSG_NOSIGNAL) != 2 ||
	    write(w->ready, "r", 1) != 1)
		return;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		fwrite(buf, 1, (size_t)n, out);
	close(fd);
}

static void test_idle_client_blocks_nothing(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "echo", "busy" }, *body, c;
	struct result res;
	struct child idle;
	struct idle w;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	w.ready = p[1];
	idle = spawn(f, child_idle, &w);
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	loop_run_once(f->l, 100); /* accepted, "ec" read */
	body = call(f, &res, 2, argv);
	assert_int_equal(res.rc, 0);
	assert_string_equal(body, "[echo][busy]\n");
	free(body);
	assert_false(exited(&idle, false));
	/* Freeing the server closes it: no reply, no leak. */
	ctl_server_free(f->s);
	f->s = NULL;
	assert_true(exited(&idle, true));
	body = collect(&idle, &res, NULL);
	assert_int_equal(res.rc, 0);
	assert_string_equal(body, "");
	free(body);
}

static void spin(struct fx *f, int rounds)
{
	while (rounds--)
		loop_run_once(f->l, 10);
}

/* What the server sent on fd so far (non-blocking), NUL-terminated. */
static void peek_reply(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
}

static void test_client_limit(void **state)
{
	struct fx *f = *state;
	int fds[CTL_CLIENTS_MAX + 2], i;
	char buf[64];

	for (i = 0; i < CTL_CLIENTS_MAX + 2; i++) {
		fds[i] = raw_connect(f->path);
		assert_true(fds[i] >= 0);
		spin(f, 2);
	}
	/* Over the limit: it waits in the backlog, unanswered. */
	assert_int_equal(send(fds[CTL_CLIENTS_MAX], "echo late\n", 10, 0), 10);
	spin(f, 5);
	peek_reply(fds[CTL_CLIENTS_MAX], buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* Not accepting is not a busy loop on the listening socket. */
	assert_int_equal(loop_run_once(f->l, 10), 0);
	/* One served: a place frees, the waiting one is served in turn. */
	assert_int_equal(send(fds[0], "echo first\n", 11, 0), 11);
	spin(f, 5);
	peek_reply(fds[0], buf, sizeof(buf));
	assert_string_equal(buf, "0\n[echo][first]\n");
	peek_reply(fds[CTL_CLIENTS_MAX], buf, sizeof(buf));
	assert_string_equal(buf, "0\n[echo][late]\n");
	for (i = 0; i < CTL_CLIENTS_MAX + 2; i++)
		close(fds[i]);
	spin(f, 5);
	assert_int_equal(f->calls, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_words_escaped, setup,
						teardown),
		cmocka_unit_test(test_split),
		cmocka_unit_test_setup_teardown(test_big_reply, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_string, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_running, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed_reply, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_permission_denied, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_client_blocks_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_limit, setup,
						teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
