// SPDX-License-Identifier: MIT
/* Process tests: keymgr/etcd.c and vxsec-keymgr on a real etcd over TLS with client certificates (etcd_ca, etcd_cert, etcd_key). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/loop.h"
#include "common/tls.h"
#include "keymgr/etcd.h"
#include "tests/wire/etcd_fixture.h"
#include "tests/wire/proc_util.h"
#include "tests/wire/run_cmd.h"

#define OUT_MAX 8192

static struct fixture {
	struct etcd_fixture ef; /* ef.loop: the clients'; ef.top: keymgr's */
	struct etcd_fixture_reply got;
	size_t n_got;
	char lines[4][512];
	size_t n_lines;
	char out[OUT_MAX];
} fx;

static void on_reply(void *arg, int err, int status, const char *body,
		     size_t len, const struct why *why)
{
	(void)arg;
	fx.n_got++;
	etcd_fixture_reply_set(&fx.got, err, status, body, len, why);
}

static void on_line(void *arg, const char *line, size_t len)
{
	(void)arg;
	if (fx.n_lines < 4)
		snprintf(fx.lines[fx.n_lines++], sizeof(fx.lines[0]), "%.*s",
			 (int)len, line);
}

static struct etcd *client(const char *endpoint, struct tls_ctx *tls)
{
	struct etcd *e = etcd_fixture_client(&fx.ef, &endpoint, 1, 2000, tls);

	assert_non_null(e);
	return e;
}

/* One request's reply (fx.got), the loop run until it is in. */
static void ask(struct etcd *e, const char *path, const char *json)
{
	size_t n = fx.n_got;

	assert_int_equal(etcd_post(e, path, json, strlen(json), on_reply, NULL),
			 0);
	for (int i = 0; i < 100 && fx.n_got == n; i++)
		loop_run_once(fx.ef.loop, 100);
	assert_int_equal(fx.n_got, n + 1);
	if (fx.got.err)
		print_message("%s: %s\n", path, fx.got.why);
}

static struct tls_ctx *ctx(const char *ca, const char *cert, const char *key)
{
	struct why why = { "" };
	struct tls_ctx *t = tls_ctx_client_files(ca, cert, key, &why);

	if (!t)
		print_message("%s\n", why.msg);
	assert_non_null(t);
	return t;
}

/* With etcd_ca and the client certificate: a put, a range and a watch
 * (a stream) over TLS. */
static void test_requests(void **state)
{
	struct etcd *e = client(fx.ef.client[0], fx.ef.tls);
	struct etcd *w = client(fx.ef.client[0], fx.ef.tls);
	const char *watch = "{\"create_request\":{\"key\":\"dy9r\"}}";

	(void)state;
	/* key "vxsec/a", value "hello" (base64) */
	ask(e, "/v3/kv/put",
	    "{\"key\":\"dnhzZWMvYQ==\",\"value\":\"aGVsbG8=\"}");
	assert_int_equal(fx.got.err, 0);
	assert_int_equal(fx.got.status, 200);
	ask(e, "/v3/kv/range", "{\"key\":\"dnhzZWMvYQ==\"}");
	assert_int_equal(fx.got.status, 200);
	assert_non_null(strstr(fx.got.body, "\"value\":\"aGVsbG8=\""));

	assert_int_equal(etcd_stream(w, "/v3/watch", watch, strlen(watch),
				     on_line, on_reply, NULL),
			 0);
	for (int i = 0; i < 50 && !fx.n_lines; i++)
		loop_run_once(fx.ef.loop, 100);
	ask(e, "/v3/kv/put", "{\"key\":\"dy9r\",\"value\":\"dg==\"}");
	for (int i = 0; i < 50 && fx.n_lines < 2; i++)
		loop_run_once(fx.ef.loop, 100);
	assert_int_equal(fx.n_lines, 2);
	assert_non_null(strstr(fx.lines[0], "\"created\":true"));
	assert_non_null(strstr(fx.lines[1], "\"value\":\"dg==\""));
	etcd_free(w);
	etcd_free(e);
}

/* The right CA but no client certificate: etcd refuses, and the why
 * says it was over the certificate. */
static void test_no_client_cert(void **state)
{
	struct tls_ctx *t = ctx(fx.ef.ca, NULL, NULL);
	struct etcd *e = client(fx.ef.client[0], t);

	(void)state;
	ask(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	assert_int_not_equal(fx.got.err, 0);
	assert_non_null(strstr(fx.got.why, fx.ef.client[0]));
	assert_non_null(strstr(fx.got.why, "certificate"));
	etcd_free(e);
	tls_ctx_free(t);
}

/* A CA that did not sign etcd's certificate: the handshake fails. */
static void test_wrong_ca(void **state)
{
	struct tls_ctx *t = ctx(fx.ef.other_ca, fx.ef.cert, fx.ef.key);
	struct etcd *e = client(fx.ef.client[0], t);

	(void)state;
	ask(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	assert_int_equal(fx.got.err, -EPROTO);
	assert_non_null(strstr(fx.got.why, fx.ef.client[0]));
	assert_non_null(strstr(fx.got.why, "TLS handshake failed: "
					   "certificate: unable to get local "
					   "issuer certificate"));
	etcd_free(e);
	tls_ctx_free(t);
}

/* etcd on 127.0.0.2, its certificate for 127.0.0.1 only: refused. */
static void test_ip_mismatch(void **state)
{
	struct etcd *e = client(fx.ef.alt[0], fx.ef.tls);

	(void)state;
	ask(e, "/v3/kv/range", "{\"key\":\"eA==\"}");
	assert_int_equal(fx.got.err, -EPROTO);
	assert_non_null(strstr(fx.got.why, fx.ef.alt[0]));
	assert_non_null(strstr(fx.got.why, "IP address mismatch"));
	etcd_free(e);
}

/* Files that are missing, not PEM, or a key of another certificate. */
static void test_bad_files(void **state)
{
	char path[128];
	struct why why = { "" };

	(void)state;
	assert_null(
		tls_ctx_client_files("/nonexistent/ca.pem", NULL, NULL, &why));
	assert_int_equal(errno, ENOENT);
	assert_string_equal(why.msg, "CA file /nonexistent/ca.pem: No such "
				     "file or directory");
	snprintf(path, sizeof(path), "%s/client.ext", fx.ef.dir);
	assert_null(tls_ctx_client_files(path, NULL, NULL, &why));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(why.msg, path));
	assert_null(tls_ctx_client_files(fx.ef.ca, fx.ef.cert, path, &why));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(why.msg, "key file"));
	snprintf(path, sizeof(path), "%s/other.key", fx.ef.dir);
	assert_null(tls_ctx_client_files(fx.ef.ca, fx.ef.cert, path, &why));
	assert_non_null(strstr(why.msg, "key values mismatch"));
}

/* ---- vxsec-keymgr with --etcd-ca, --etcd-cert, --etcd-key ---- */

/* store = etcd on the TLS etcd, with extra flags: its exit code. */
static int keymgr_run(const char *flags)
{
	return run_cmd(fx.out, sizeof(fx.out),
		       "mkdir -p -m 700 %s/bad && $KM -c /dev/null -d %s/bad "
		       "-s %s/bad/sock -l 127.0.0.1:0 --store etcd "
		       "--etcd-endpoints %s %s run",
		       fx.ef.top, fx.ef.top, fx.ef.top, fx.ef.client[0], flags);
}

/* Settings that do not go together, or files that do not load: exit 2,
 * naming them; an unknown setting in the config file too. */
static void test_keymgr_config(void **state)
{
	char flags[512];

	(void)state;
	snprintf(flags, sizeof(flags), "--etcd-cert %s --etcd-key %s",
		 fx.ef.cert, fx.ef.key);
	assert_int_equal(keymgr_run(flags), 2);
	assert_non_null(strstr(fx.out, "etcd_cert and etcd_key need etcd_ca"));
	snprintf(flags, sizeof(flags), "--etcd-ca %s --etcd-cert %s", fx.ef.ca,
		 fx.ef.cert);
	assert_int_equal(keymgr_run(flags), 2);
	assert_non_null(strstr(fx.out, "etcd_cert without etcd_key"));
	assert_int_equal(keymgr_run("--etcd-ca /nonexistent.pem"), 2);
	assert_non_null(strstr(fx.out, "etcd TLS: CA file /nonexistent.pem: "
				       "No such file or directory"));
	assert_int_equal(run_cmd(fx.out, sizeof(fx.out),
				 "echo 'etcd_cafile = x' >%s/bad.conf && "
				 "$KM -c %s/bad.conf status",
				 fx.ef.top, fx.ef.top),
			 2);
	assert_non_null(strstr(fx.out, "unknown setting \"etcd_cafile\""));
}

/* An instance with the flags leads on the TLS etcd (and warns of a key
 * file others may read). */
static void test_keymgr_leads(void **state)
{
	char dir[96], log[128];
	pid_t pid;
	bool leads = false;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/a", fx.ef.top);
	snprintf(log, sizeof(log), "%s/log", dir);
	assert_int_equal(run_cmd(fx.out, sizeof(fx.out),
				 "mkdir -p -m 700 %s && cp %s %s/etcd.key && "
				 "chmod 644 %s/etcd.key",
				 dir, fx.ef.key, dir, dir),
			 0);
	pid = spawn("exec $KM -c /dev/null -d %s -s %s/sock -l 127.0.0.1:%d "
		    "--store etcd --etcd-endpoints %s --etcd-ca %s "
		    "--etcd-cert %s --etcd-key %s/etcd.key --lease-ttl 2s "
		    "--instance a run >>%s 2>&1",
		    dir, dir, etcd_fixture_free_port(), fx.ef.client[0],
		    fx.ef.ca, fx.ef.cert, dir, log);
	assert_true(pid > 0);
	for (int i = 0; i < 100 && !leads; i++) {
		leads = run_cmd(fx.out, sizeof(fx.out),
				"$KM -s %s/sock status --json", dir) == 0 &&
			strstr(fx.out, "\"role\":\"leader\"");
		if (!leads)
			usleep(200000);
	}
	assert_true(leads);
	assert_true(file_has(log, "mode 0644"));
	assert_true(file_has(log, ", TLS) as"));
	/* its commits go through: a rotation reaches etcd */
	assert_int_equal(
		run_cmd(fx.out, sizeof(fx.out), "$KM -s %s/sock rotate", dir),
		0);
	stop(&pid, SIGTERM);
}

static int reset(void **state)
{
	(void)state;
	fx.n_got = fx.n_lines = 0;
	memset(&fx.got, 0, sizeof(fx.got));
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	if (env_bin("KM", "../vxsec-keymgr") ||
	    etcd_fixture_start_tls(&fx.ef, 1))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return etcd_fixture_stop(&fx.ef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_requests, reset),
		cmocka_unit_test_setup(test_no_client_cert, reset),
		cmocka_unit_test_setup(test_wrong_ca, reset),
		cmocka_unit_test_setup(test_ip_mismatch, reset),
		cmocka_unit_test_setup(test_bad_files, reset),
		cmocka_unit_test_setup(test_keymgr_config, reset),
		cmocka_unit_test_setup(test_keymgr_leads, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
