// SPDX-License-Identifier: MIT
/* Process tests: a real etcd (Debian's etcd-server) of 1 or 3 members on loopback ports, in a temporary directory; plain or TLS with client certificates. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/loop.h"
#include "common/tls.h"
#include "keymgr/etcd.h"
#include "tests/wire/etcd_fixture.h"
#include "tests/wire/proc_util.h"

int etcd_fixture_free_port(void)
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

/* --initial-cluster: every member's name and peer URL. */
static void cluster_arg(const struct etcd_fixture *f, char *out, size_t len)
{
	size_t off = 0;

	for (size_t i = 0; i < f->n && off < len; i++)
		off += (size_t)snprintf(out + off, len - off,
					"%sm%zu=http://127.0.0.1:%d",
					i ? "," : "", i, f->peer[i]);
}

/* A CA, the server's and the client's certificates: the openssl command. */
static int make_certs(struct etcd_fixture *f)
{
	char cmd[1536];

	snprintf(f->ca, sizeof(f->ca), "%s/ca.pem", f->dir);
	snprintf(f->other_ca, sizeof(f->other_ca), "%s/other.pem", f->dir);
	snprintf(f->cert, sizeof(f->cert), "%s/client.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/client.key", f->dir);
	snprintf(cmd, sizeof(cmd),
		 "(cd %s && set -e; "
		 "key='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'; "
		 "ca() { openssl req -x509 -new $key -days 2 -subj /CN=$1 "
		 "-keyout $1.key -out $1.pem "
		 "-addext basicConstraints=critical,CA:TRUE "
		 "-addext keyUsage=critical,keyCertSign,cRLSign; }; "
		 "leaf() { openssl req -new $key -subj /CN=$1 -keyout $1.key "
		 "-out $1.csr; printf '%%s\n' \"$2\" >$1.ext; "
		 "openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key "
		 "-CAcreateserial -days 2 -extfile $1.ext -out $1.pem; }; "
		 "ca ca; ca other; "
		 "leaf server 'subjectAltName=IP:127.0.0.1\n"
		 "extendedKeyUsage=serverAuth,clientAuth'; "
		 "leaf client 'extendedKeyUsage=clientAuth'; "
		 "chmod 600 *.key) >%s/openssl.log 2>&1",
		 f->dir, f->dir);
	if (system(cmd)) {
		fprintf(stderr,
			"openssl could not make the certificates (make deps "
			"installs openssl): see %s/openssl.log\n",
			f->dir);
		return -1;
	}
	return 0;
}

/* The client URLs' scheme, and the flags of etcd's TLS. */
static void tls_args(const struct etcd_fixture *f, size_t i, char *out,
		     size_t len)
{
	if (!f->tls_on) {
		snprintf(out, len,
			 "--listen-client-urls http://%s "
			 "--advertise-client-urls http://%s",
			 f->client[i], f->client[i]);
		return;
	}
	snprintf(out, len,
		 "--listen-client-urls https://%s,https://%s "
		 "--advertise-client-urls https://%s "
		 "--cert-file %s/server.pem --key-file %s/server.key "
		 "--trusted-ca-file %s --client-cert-auth",
		 f->client[i], f->alt[i], f->client[i], f->dir, f->dir, f->ca);
}

int etcd_fixture_restart(struct etcd_fixture *f, size_t i)
{
	char cluster[256], client[512];

	cluster_arg(f, cluster, sizeof(cluster));
	tls_args(f, i, client, sizeof(client));
	f->pid[i] = spawn("exec /usr/bin/etcd --name m%zu --data-dir %s/m%zu "
			  "%s "
			  "--listen-peer-urls http://127.0.0.1:%d "
			  "--initial-advertise-peer-urls "
			  "http://127.0.0.1:%d "
			  "--initial-cluster %s "
			  "--initial-cluster-state new "
			  ">>%s/m%zu.log 2>&1",
			  i, f->dir, i, client, f->peer[i], f->peer[i], cluster,
			  f->dir, i);
	return f->pid[i] < 0 ? -1 : 0;
}

struct ready {
	int status;
	bool done;
};

static void on_ready(void *arg, int err, int status, const char *body,
		     size_t len, const struct why *why)
{
	struct ready *r = arg;

	(void)body, (void)len, (void)why;
	r->status = err ? -1 : status;
	r->done = true;
}

bool etcd_fixture_ready(const struct etcd_fixture *f, int secs)
{
	struct etcd_config cfg = { f->endpoints, f->n, 1000, f->tls };
	struct loop *l = loop_new();
	struct why why = { "" };
	struct etcd *e = l ? etcd_new(l, &cfg, &why) : NULL;
	struct ready r = { 0 };

	for (int i = 0; e && i < secs * 2 && r.status != 200; i++) {
		r.done = false;
		if (etcd_post(e, "/v3/kv/range", "{\"key\":\"eA==\"}", 14,
			      on_ready, &r))
			break;
		for (int j = 0; j < 50 && !r.done; j++)
			loop_run_once(l, 100);
		if (r.status != 200)
			usleep(500000);
	}
	etcd_free(e);
	loop_free(l);
	return r.status == 200;
}

static int start(struct etcd_fixture *f, size_t n, bool tls)
{
	struct why why = { "" };

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/vxsec-etcd-XXXXXX");
	if (n < 1 || n > ETCD_FIXTURE_MEMBERS_MAX || !mkdtemp(f->dir))
		return -1;
	if (access("/usr/bin/etcd", X_OK)) {
		fprintf(stderr, "no /usr/bin/etcd: make deps installs "
				"etcd-server\n");
		return -1;
	}
	f->n = n;
	f->tls_on = tls;
	for (size_t i = 0; i < n; i++) {
		int c = etcd_fixture_free_port(), p = etcd_fixture_free_port();

		if (c < 0 || p < 0 || c == p)
			return -1;
		snprintf(f->client[i], sizeof(f->client[i]), "127.0.0.1:%d", c);
		snprintf(f->alt[i], sizeof(f->alt[i]), "127.0.0.2:%d", c);
		f->endpoints[i] = f->client[i];
		f->peer[i] = p;
	}
	if (tls &&
	    (make_certs(f) ||
	     !(f->tls = tls_ctx_client_files(f->ca, f->cert, f->key, &why)))) {
		if (why.msg[0])
			fprintf(stderr, "%s\n", why.msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (etcd_fixture_restart(f, i))
			return -1;
	snprintf(f->top, sizeof(f->top), "%s/top", f->dir);
	if (mkdir(f->top, 0700) || !(f->loop = loop_new()))
		return -1;
	if (etcd_fixture_ready(f, 30))
		return 0;
	fprintf(stderr, "etcd did not answer within 30 s: see %s/m*.log\n",
		f->dir);
	return -1;
}

int etcd_fixture_start(struct etcd_fixture *f, size_t n)
{
	return start(f, n, false);
}

int etcd_fixture_start_tls(struct etcd_fixture *f, size_t n)
{
	return start(f, n, true);
}

void etcd_fixture_kill(struct etcd_fixture *f, size_t i)
{
	if (i < f->n)
		stop(&f->pid[i], SIGKILL);
}

int etcd_fixture_stop(struct etcd_fixture *f)
{
	char cmd[128];

	for (size_t i = 0; i < f->n; i++)
		stop(&f->pid[i], SIGKILL);
	tls_ctx_free(f->tls);
	f->tls = NULL;
	loop_free(f->loop);
	f->loop = NULL;
	if (!f->dir[0] || strncmp(f->dir, "/tmp/vxsec-etcd-", 16) != 0)
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	return system(cmd) ? -1 : 0;
}

struct etcd *etcd_fixture_client(const struct etcd_fixture *f,
				 const char *const *eps, size_t n, uint64_t ms,
				 struct tls_ctx *tls)
{
	struct etcd_config cfg = { eps, n, ms, tls };
	struct why why = { "" };
	struct etcd *e = etcd_new(f->loop, &cfg, &why);

	if (!e)
		fprintf(stderr, "etcd_new: %s\n", why.msg);
	return e;
}

void etcd_fixture_reply_set(struct etcd_fixture_reply *r, int err, int status,
			    const char *body, size_t len, const struct why *why)
{
	r->err = err;
	r->status = status;
	snprintf(r->body, sizeof(r->body), "%.*s", (int)len, body ? body : "");
	snprintf(r->why, sizeof(r->why), "%s", why ? why->msg : "");
}
