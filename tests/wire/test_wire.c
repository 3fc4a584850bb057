// SPDX-License-Identifier: MIT
/* Two processes on loopback: join and hello against wiresrv, and every refusal. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/wire/run_cmd.h"

#include "common/pki.h"
#include "common/token.h"

static char dir[64] = "/tmp/vxsec-wire-XXXXXX", port[16], token[128];
static char bin[512] = "build/tests"; /* where wiresrv and wirecli are */
static pid_t server;

static void read_line(const char *name, char *out, size_t len)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, (int)len, f));
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static int setup(void **state)
{
	char p[256];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	server = fork();
	if (server == 0) {
		char exe[600];

		snprintf(exe, sizeof(exe), "%s/wiresrv", bin);
		execl(exe, "wiresrv", dir, "0", (char *)NULL);
		_exit(127);
	}
	snprintf(p, sizeof(p), "%s/port", dir);
	/* 30 s: the server makes a CA and a key first (slow under ASan). */
	for (int i = 0; i < 600 && access(p, R_OK); i++)
		usleep(50000);
	read_line("port", port, sizeof(port));
	read_line("token", token, sizeof(token));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* A fresh client folder for one node. */
static void client_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
	assert_int_equal(mkdir(out, 0700), 0);
}

static void test_join_then_hello(void **state)
{
	char out[4096], c[128];

	(void)state;
	client_dir(c, sizeof(c), "n1");
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli join %s "
				 "node-1 %s %s",
				 bin, token, port, c),
			 0);
	assert_non_null(strstr(out, "joined as node-1"));
	assert_int_equal(run_cmd(out, sizeof(out), "%s/wirecli hello %s %s",
				 bin, c, port),
			 0);
	assert_non_null(strstr(out, "hello accepted"));
	/* A hello must name the node its certificate names. */
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli hello %s %s "
				 "node-9",
				 bin, c, port),
			 1);
	assert_non_null(strstr(out, "hello names node-9 but the certificate "
				    "names node-1"));
}

/* The same token with one bit of one half flipped. */
static void altered_token(char *out, size_t len, bool digest)
{
	struct join_token t;
	struct why why = { "" };

	assert_int_equal(token_parse(token, &t, &why), 0);
	if (digest)
		t.ca_digest[0] ^= 1;
	else
		t.secret[0] ^= 1;
	assert_int_equal(token_format(&t, out, len), 0);
	token_wipe(&t);
}

static void test_wrong_secret_and_digest(void **state)
{
	char out[4096], c[128], bad[TOKEN_TEXT_LEN + 1];

	(void)state;
	client_dir(c, sizeof(c), "n2");
	altered_token(bad, sizeof(bad), false);
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli join %s "
				 "node-2 %s %s",
				 bin, bad, port, c),
			 1);
	assert_non_null(strstr(out, "refused by the leader: join token secret "
				    "does not match"));
	altered_token(bad, sizeof(bad), true);
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli join %s "
				 "node-2 %s %s",
				 bin, bad, port, c),
			 1);
	assert_non_null(strstr(out, "connection failed: certificate:"));
	assert_int_equal(access("node.pem", F_OK), -1);
}

/* A peer of protocol 1 is told, in its own words, and nothing else. */
static void test_protocol_1_refused(void **state)
{
	char out[4096], c[128];

	(void)state;
	client_dir(c, sizeof(c), "n-v1");
	assert_int_equal(run_cmd(out, sizeof(out),
				 "WIRECLI_PROTOCOL=1 %s/wirecli join %s "
				 "node-v1 %s %s",
				 bin, token, port, c),
			 1);
	assert_non_null(strstr(out, "refused by the leader: protocol version "
				    "1, this side speaks 2"));
	assert_int_equal(access("node.pem", F_OK), -1);
}

/* A client folder holding a certificate the test makes itself. */
static void forged(const char *name, bool expired_cert)
{
	char c[128], p[256];
	struct why why = { "" };
	EVP_PKEY *ca_key, *key = pki_key_new();
	X509 *ca, *cert;
	X509_REQ *csr = pki_csr_new(key, "node-3");

	client_dir(c, sizeof(c), name);
	snprintf(p, sizeof(p), "%s/ca.key", dir);
	ca_key = expired_cert ? pki_key_load(p) : pki_key_new();
	snprintf(p, sizeof(p), "%s/ca.pem", dir);
	ca = expired_cert ? pki_cert_load(p) : pki_ca_new(ca_key, "x", 10);
	assert_int_equal(pki_issue(ca_key, ca, csr, "node-3",
				   expired_cert ? -1 : 30, &cert, &why),
			 0);
	snprintf(p, sizeof(p), "%s/node.key", c);
	assert_int_equal(pki_key_save(p, key), 0);
	snprintf(p, sizeof(p), "%s/node.pem", c);
	assert_int_equal(pki_cert_save(p, cert), 0);
	/* It trusts the real CA: only its own certificate is wrong. */
	snprintf(p, sizeof(p), "%s/ca.pem", dir);
	X509_free(ca);
	ca = pki_cert_load(p);
	snprintf(p, sizeof(p), "%s/ca.pem", c);
	assert_int_equal(pki_cert_save(p, ca), 0);
	X509_free(ca), X509_free(cert), X509_REQ_free(csr);
	EVP_PKEY_free(ca_key), EVP_PKEY_free(key);
}

static void test_expired_and_foreign_certs(void **state)
{
	char out[4096], c[128];

	(void)state;
	forged("expired", true);
	snprintf(c, sizeof(c), "%s/expired", dir);
	assert_int_equal(run_cmd(out, sizeof(out), "%s/wirecli hello %s %s",
				 bin, c, port),
			 1);
	assert_non_null(strstr(out, "connection failed"));
	assert_non_null(strstr(out, "expired"));
	forged("foreign", false);
	snprintf(c, sizeof(c), "%s/foreign", dir);
	assert_int_equal(run_cmd(out, sizeof(out), "%s/wirecli hello %s %s",
				 bin, c, port),
			 1);
	assert_non_null(strstr(out, "connection failed"));
	assert_non_null(strstr(out, "unknown ca"));
}

static void test_removed_node(void **state)
{
	char out[4096], c[128], c2[128];

	(void)state;
	client_dir(c, sizeof(c), "n4");
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli join %s "
				 "node-4 %s %s",
				 bin, token, port, c),
			 0);
	assert_int_equal(
		run_cmd(out, sizeof(out), "echo node-4 > %s/removed", dir), 0);
	assert_int_equal(run_cmd(out, sizeof(out), "%s/wirecli hello %s %s",
				 bin, c, port),
			 1);
	assert_non_null(strstr(out, "refused by the leader: this node id was "
				    "removed"));
	client_dir(c2, sizeof(c2), "n4b");
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli join %s "
				 "node-4 %s %s",
				 bin, token, port, c2),
			 1);
	assert_non_null(strstr(out, "removed"));
}

static void test_garbage_and_s_client(void **state)
{
	char out[8192], c[128];

	(void)state;
	/* Plain TCP, no TLS: the server ends it and goes on serving. */
	assert_int_equal(
		run_cmd(out, sizeof(out),
			"printf 'GET / HTTP/1.0\\r\\n\\r\\n"
			"' | timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/"
			"%s; cat >&3; cat <&3 | wc -c'",
			port),
		0);
	/* Silence after connecting: the handshake deadline (5 s) closes it,
	 * well before this 10 s limit. */
	assert_int_equal(
		run_cmd(out, sizeof(out),
			"timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/"
			"%s; cat <&3 | wc -c'",
			port),
		0);
	/* openssl s_client without a certificate: a line of text is no
	 * frame; the server answers why and closes. */
	assert_int_equal(
		run_cmd(out, sizeof(out),
			"echo hello | timeout 10 openssl "
			"s_client -connect 127.0.0.1:%s -quiet -ign_eof",
			port),
		0);
	assert_non_null(strstr(out, "frame of 1751477356 bytes (limit"));
	client_dir(c, sizeof(c), "n5");
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli join %s "
				 "node-5 %s %s",
				 bin, token, port, c),
			 0);
}

static void cert_times(const char *c, time_t *nb, time_t *na,
		       uint8_t digest[PKI_DIGEST_LEN])
{
	char p[256];
	X509 *x;

	snprintf(p, sizeof(p), "%s/node.pem", c);
	x = pki_cert_load(p);
	assert_non_null(x);
	assert_int_equal(pki_cert_times(x, nb, na), 0);
	assert_int_equal(pki_cert_digest(x, digest), 0);
	X509_free(x);
}

/* Renewal over mutual TLS: a new key and certificate, same node. */
static void test_renewal(void **state)
{
	char out[4096], c[128];
	uint8_t d1[PKI_DIGEST_LEN], d2[PKI_DIGEST_LEN];
	time_t nb1, na1, nb2, na2;

	(void)state;
	client_dir(c, sizeof(c), "n7");
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli join %s node-7 %s %s", bin, token,
				 port, c),
			 0);
	cert_times(c, &nb1, &na1, d1);
	assert_true(na1 - nb1 > 29 * 86400 && na1 - nb1 <= 30 * 86400 + 300);
	sleep(1);
	assert_int_equal(run_cmd(out, sizeof(out), "%s/wirecli renew %s %s",
				 bin, c, port),
			 0);
	assert_non_null(strstr(out, "renewed as node-7"));
	cert_times(c, &nb2, &na2, d2);
	assert_true(memcmp(d1, d2, sizeof(d1)) != 0);
	assert_true(na2 > na1);
	/* The renewed key and certificate open a session. */
	assert_int_equal(run_cmd(out, sizeof(out), "%s/wirecli hello %s %s",
				 bin, c, port),
			 0);
}

/* A leader issuing 10-second certificates: the session renews by itself. */
static void test_automatic_renewal(void **state)
{
	char d2[64] = "/tmp/vxsec-wire2-XXXXXX", out[4096], c[128], p2[16];
	char t2[128], exe[600], f[128];
	uint8_t d_before[PKI_DIGEST_LEN], d_after[PKI_DIGEST_LEN];
	time_t nb, na;
	pid_t srv;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(d2));
	snprintf(exe, sizeof(exe), "%s/wiresrv", bin);
	srv = fork();
	if (srv == 0) {
		execl(exe, "wiresrv", d2, "0", "10", (char *)NULL);
		_exit(127);
	}
	/* The server writes its port file last (after the token): wait for
	 * it. Up to 30 s, as setup waits: an ASan build on a busy machine
	 * can take more than 5 s to make its CA. */
	snprintf(f, sizeof(f), "%s/port", d2);
	for (int i = 0; i < 600 && access(f, R_OK); i++)
		usleep(50000);
	fp = fopen(f, "r");
	assert_non_null(fp);
	assert_non_null(fgets(p2, sizeof(p2), fp));
	fclose(fp);
	p2[strcspn(p2, "\n")] = '\0';
	snprintf(f, sizeof(f), "%s/token", d2);
	fp = fopen(f, "r");
	assert_non_null(fgets(t2, sizeof(t2), fp));
	fclose(fp);
	t2[strcspn(t2, "\n")] = '\0';
	snprintf(c, sizeof(c), "%s/n8", d2);
	assert_int_equal(mkdir(c, 0700), 0);
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli join %s node-8 %s %s", bin, t2, p2,
				 c),
			 0);
	cert_times(c, &nb, &na, d_before);
	assert_true(na - nb <= 12);
	/* 9 s of session: renewal is due between 5.5 and 8.8 s. */
	assert_int_equal(run_cmd(out, sizeof(out), "%s/wirecli session %s %s 9",
				 bin, c, p2),
			 0);
	assert_non_null(strstr(out, "renewed as node-8 (renewal 1)"));
	cert_times(c, &nb, &na, d_after);
	assert_true(memcmp(d_before, d_after, sizeof(d_after)) != 0);
	assert_int_equal(
		run_cmd(out, sizeof(out), "%s/wirecli hello %s %s", bin, c, p2),
		0);
	kill(srv, SIGTERM);
	waitpid(srv, NULL, 0);
	assert_int_equal(run_cmd(out, sizeof(out), "rm -rf %s", d2), 0);
}

static void test_token_rotation(void **state)
{
	char out[4096], c[128], old[sizeof(token)], fresh[TOKEN_TEXT_LEN + 1];

	(void)state;
	strcpy(old, token);
	altered_token(fresh, sizeof(fresh), false); /* a new secret */
	assert_int_equal(
		run_cmd(out, sizeof(out), "echo %s > %s/token", fresh, dir), 0);
	client_dir(c, sizeof(c), "n6");
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli join %s "
				 "node-6 %s %s",
				 bin, old, port, c),
			 1);
	assert_non_null(strstr(out, "does not match"));
	assert_int_equal(run_cmd(out, sizeof(out),
				 "%s/wirecli join %s "
				 "node-6 %s %s",
				 bin, fresh, port, c),
			 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_then_hello),
		cmocka_unit_test(test_wrong_secret_and_digest),
		cmocka_unit_test(test_expired_and_foreign_certs),
		cmocka_unit_test(test_removed_node),
		cmocka_unit_test(test_garbage_and_s_client),
		cmocka_unit_test(test_renewal),
		cmocka_unit_test(test_automatic_renewal),
		cmocka_unit_test(test_protocol_1_refused),
		cmocka_unit_test(test_token_rotation),
	};

	/* The programs beside this one: a sanitizer build tests its own. */
	(void)argc;
	snprintf(bin, sizeof(bin), "%s", argv[0]);
	if (strrchr(bin, '/'))
		*strrchr(bin, '/') = '\0';
	else
		strcpy(bin, ".");
	return cmocka_run_group_tests_name("wire", tests, setup, teardown);
}
