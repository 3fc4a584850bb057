// SPDX-License-Identifier: MIT
/* Process tests: keymgr/etcd.c against a real etcd (Debian's etcd-server) on loopback, in a temporary directory. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <sodium.h>

#include "keymgr/etcd.h"
#include "tests/wire/proc_util.h"

#define REPLIES_MAX 64

struct reply {
	int err, status;
	char body[1024];
	char why[512];
};

static struct fixture {
	char dir[64];
	pid_t etcd;
	char client[32]; /* 127.0.0.1:port */
	char dead[32];	 /* a port nobody listens on */
	struct loop *loop;
	struct reply got[REPLIES_MAX];
	size_t n_got;
} fx;

/* A loopback TCP port free now (bound, read, closed). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void on_reply(void *arg, int err, int status, const char *body,
		     size_t len, const struct why *why)
{
	struct reply *r = &fx.got[fx.n_got < REPLIES_MAX ? fx.n_got : 0];

	(void)arg;
	fx.n_got++;
	r->err = err;
	r->status = status;
	snprintf(r->body, sizeof(r->body), "%.*s", (int)len, body ? body : "");
	snprintf(r->why, sizeof(r->why), "%s", why ? why->msg : "");
}

/* Runs the loop until n replies are in (or secs pass). */
static void wait_replies(size_t n, int secs)
{
	for (int i = 0; i < secs * 10 && fx.n_got < n; i++)
		loop_run_once(fx.loop, 100);
	assert_int_equal(fx.n_got, n);
}

static struct etcd *client(const char *const *eps, size_t n, uint64_t ms)
{
	struct etcd_config cfg = { eps, n, ms };
	struct why why = { "" };
	struct etcd *e = etcd_new(fx.loop, &cfg, &why);

	if (!e)
		print_message("etcd_new: %s\n", why.msg);
	assert_non_null(e);
	return e;
}

static int post(struct etcd *e, const char *path, const char *json)
{
	return etcd_post(e, path, json, strlen(json), on_reply, NULL);
}

static int setup(void **state)
{
	const char *eps[1];
	int cport = free_port(), pport = free_port(), dport = free_port();
	struct etcd *e;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/vxsec-etcd-XXXXXX");
	if (!mkdtemp(fx.dir) || cport < 0 || pport < 0 || dport < 0)
		return -1;
	if (access("/usr/bin/etcd", X_OK)) {
		print_message("no /usr/bin/etcd: make deps installs "
			      "etcd-server\n");
		return -1;
	}
	snprintf(fx.client, sizeof(fx.client), "127.0.0.1:%d", cport);
	snprintf(fx.dead, sizeof(fx.dead), "127.0.0.1:%d", dport);
	fx.etcd = spawn("exec /usr/bin/etcd --name t --data-dir %s/data "
			"--listen-client-urls http://%s "
			"--advertise-client-urls http://%s "
			"--listen-peer-urls http://127.0.0.1:%d "
			"--initial-advertise-peer-urls http://127.0.0.1:%d "
			"--initial-cluster t=http://127.0.0.1:%d "
			">%s/etcd.log 2>&1",
			fx.dir, fx.client, fx.client, pport, pport, pport,
			fx.dir);
	fx.loop = loop_new();
	if (fx.etcd < 0 || !fx.loop)
		return -1;
	/* Ready once a range is answered (etcd starts in 1-4 s). */
	eps[0] = fx.client;
	e = client(eps, 1, 1000);
	for (int i = 0; i < 30; i++) {
		fx.n_got = 0;
		post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
		wait_replies(1, 5);
		if (fx.got[0].status == 200)
			break;
		usleep(500000);
	}
	etcd_free(e);
	fx.n_got = 0;
	if (fx.got[0].status != 200)
		print_message("etcd did not answer: %s\n", fx.got[0].why);
	return fx.got[0].status == 200 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	stop(&fx.etcd, SIGKILL);
	loop_free(fx.loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
	return system(cmd) ? -1 : 0;
}

/* A put then a range: the value comes back, in order, one connection. */
static void test_put_range(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *e = client(eps, 1, 0);

	(void)state;
	/* key "vxsec/a", value "hello" (base64) */
	assert_int_equal(
		post(e, "/v3/kv/put",
		     "{\"key\":\"dnhzZWMvYQ==\",\"value\":\"aGVsbG8=\"}"),
		0);
	assert_int_equal(post(e, "/v3/kv/range", "{\"key\":\"dnhzZWMvYQ==\"}"),
			 0);
	assert_int_equal(fx.n_got, 0); /* never from inside etcd_post */
	assert_int_equal(etcd_pending(e), 2);
	wait_replies(2, 10);
	assert_int_equal(fx.got[0].err, 0);
	assert_int_equal(fx.got[0].status, 200);
	assert_int_equal(fx.got[1].status, 200);
	assert_non_null(strstr(fx.got[1].body, "\"value\":\"aGVsbG8=\""));
	assert_int_equal(etcd_pending(e), 0);
	etcd_free(e);
}

/* Many requests queued at once: answered in order, each revision newer. */
static void test_in_order(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *e = client(eps, 1, 0);
	char body[128], key[16], b64[32];
	long last = 0;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "key%02d", i);
		sodium_bin2base64(b64, sizeof(b64), (const uint8_t *)key,
				  strlen(key), sodium_base64_VARIANT_ORIGINAL);
		snprintf(body, sizeof(body),
			 "{\"key\":\"%s\",\"value\":\"dg==\"}", b64);
		assert_int_equal(post(e, "/v3/kv/put", body), 0);
	}
	wait_replies(40, 20);
	for (int i = 0; i < 40; i++) {
		const char *r = strstr(fx.got[i].body, "\"revision\":\"");
		long rev;

		assert_int_equal(fx.got[i].status, 200);
		assert_non_null(r);
		rev = strtol(r + 12, NULL, 10);
		assert_true(rev > last);
		last = rev;
	}
	etcd_free(e);
}

/* A dead endpoint first: the request goes to the next one. */
static void test_next_endpoint(void **state)
{
	const char *eps[] = { fx.dead, fx.client };
	struct etcd *e = client(eps, 2, 0);

	(void)state;
	post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	wait_replies(1, 10);
	assert_int_equal(fx.got[0].err, 0);
	assert_int_equal(fx.got[0].status, 200);
	assert_string_equal(etcd_endpoint(e), fx.client);
	etcd_free(e);
}

/* Nothing listens anywhere: the request fails, naming the endpoint. */
static void test_all_dead(void **state)
{
	const char *eps[] = { fx.dead };
	struct etcd *e = client(eps, 1, 0);

	(void)state;
	post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	wait_replies(1, 10);
	assert_int_equal(fx.got[0].err, -ECONNREFUSED);
	assert_non_null(strstr(fx.got[0].why, fx.dead));
	etcd_free(e);
}

/* etcd stopped: -ETIMEDOUT after the timeout; continued: served again. */
static void test_timeout(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *e = client(eps, 1, 500);

	(void)state;
	kill(fx.etcd, SIGSTOP);
	post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	wait_replies(1, 5);
	kill(fx.etcd, SIGCONT);
	assert_int_equal(fx.got[0].err, -ETIMEDOUT);
	assert_non_null(strstr(fx.got[0].why, "timed out"));
	for (int i = 0; i < 10; i++) {
		post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
		wait_replies(2 + (size_t)i, 5);
		if (fx.got[1 + i].status == 200)
			break;
	}
	assert_int_equal(fx.got[fx.n_got - 1].status, 200);
	etcd_free(e);
}

/* A request etcd refuses: its HTTP status and error body reach the caller. */
static void test_http_error(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *e = client(eps, 1, 0);

	(void)state;
	post(e, "/v3/kv/range", "{\"key\":");
	wait_replies(1, 10);
	assert_int_equal(fx.got[0].err, 0);
	assert_int_equal(fx.got[0].status, 400);
	assert_non_null(strstr(fx.got[0].body, "\"error\""));
	etcd_free(e);
}

/* Freed with requests queued: each one's callback says canceled. */
static void test_free_cancels(void **state)
{
	const char *eps[] = { fx.client };
	struct etcd *e = client(eps, 1, 0);

	(void)state;
	post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	post(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	etcd_free(e);
	assert_int_equal(fx.n_got, 2);
	assert_int_equal(fx.got[0].err, -ECANCELED);
	assert_int_equal(fx.got[1].err, -ECANCELED);
}

/* Endpoints that are not an address and port are refused, saying so. */
static void test_bad_endpoint(void **state)
{
	const char *eps[] = { "localhost:2379" };
	struct etcd_config cfg = { eps, 1, 0 };
	struct why why = { "" };

	(void)state;
	assert_null(etcd_new(fx.loop, &cfg, &why));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(why.msg, "localhost:2379"));
}

static int reset(void **state)
{
	(void)state;
	fx.n_got = 0;
	memset(fx.got, 0, sizeof(fx.got));
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_put_range, reset),
		cmocka_unit_test_setup(test_in_order, reset),
		cmocka_unit_test_setup(test_next_endpoint, reset),
		cmocka_unit_test_setup(test_all_dead, reset),
		cmocka_unit_test_setup(test_http_error, reset),
		cmocka_unit_test_setup(test_free_cancels, reset),
		cmocka_unit_test_setup(test_bad_endpoint, reset),
		cmocka_unit_test_setup(test_timeout, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
