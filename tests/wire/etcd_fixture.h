/* SPDX-License-Identifier: MIT */
/* Process tests: a real etcd (Debian's etcd-server) of 1 or 3 members on loopback ports, in a temporary directory; plain or TLS with client certificates. */
#ifndef VXSEC_TESTS_ETCD_FIXTURE_H
#define VXSEC_TESTS_ETCD_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ETCD_FIXTURE_MEMBERS_MAX 3

struct etcd;
struct loop;
struct tls_ctx;
struct why;

struct etcd_fixture {
	char dir[64];
	size_t n;
	pid_t pid[ETCD_FIXTURE_MEMBERS_MAX];
	char client[ETCD_FIXTURE_MEMBERS_MAX][32]; /* 127.0.0.1:port */
	const char *endpoints[ETCD_FIXTURE_MEMBERS_MAX];
	int peer[ETCD_FIXTURE_MEMBERS_MAX];
	/*
	 * TLS (etcd_fixture_start_tls): PEM files in dir, made with the
	 * openssl command: ca.pem signs server.pem (IP 127.0.0.1 only,
	 * serverAuth and clientAuth: etcd's gateway presents it to etcd)
	 * and client.pem/client.key; other.pem is a CA that signed none.
	 * etcd also listens on 127.0.0.2 (alt), which the certificate does
	 * not name. tls: a client context with ca.pem and the client
	 * certificate; NULL for a plain etcd.
	 */
	bool tls_on;
	char ca[96], cert[96], key[96], other_ca[96];
	char alt[ETCD_FIXTURE_MEMBERS_MAX][32]; /* 127.0.0.2:port */
	struct tls_ctx *tls;
	struct loop *loop; /* the tests' own, for their clients */
	char top[72];	   /* the tests' scratch folder, dir/top */
};

/* One reply to a request, as etcd_post's callback is given it. */
struct etcd_fixture_reply {
	int err, status;
	char body[1024];
	char why[512];
};

/* A loopback TCP port free now (bound, read, closed); -1 if none. */
int etcd_fixture_free_port(void);
/* Starts n members (1 or 3) and waits until the cluster answers a read
 * (at most 30 s); f->loop is a new loop, f->top an empty folder. 0, or -1 with the reason
 * printed. */
int etcd_fixture_start(struct etcd_fixture *f, size_t n);
/* The same over TLS, clients authenticated by certificate (above). */
int etcd_fixture_start_tls(struct etcd_fixture *f, size_t n);
/* (Re)starts member i of a started fixture (after etcd_fixture_kill). */
int etcd_fixture_restart(struct etcd_fixture *f, size_t i);
/* Whether the cluster answers a read within secs. */
bool etcd_fixture_ready(const struct etcd_fixture *f, int secs);
/* kill -9 of member i, reaped. */
void etcd_fixture_kill(struct etcd_fixture *f, size_t i);
/* Kills every member, removes the directory (top too), frees the loop. */
int etcd_fixture_stop(struct etcd_fixture *f);

/* A client on f's loop for eps[0..n), ms its timeout (0: etcd.c's),
 * tls NULL for plain HTTP; NULL with etcd_new's why printed. */
struct etcd *etcd_fixture_client(const struct etcd_fixture *f,
				 const char *const *eps, size_t n, uint64_t ms,
				 struct tls_ctx *tls);
/* Copies a reply (etcd_post's callback arguments) into r. */
void etcd_fixture_reply_set(struct etcd_fixture_reply *r, int err, int status,
			    const char *body, size_t len,
			    const struct why *why);

#endif
