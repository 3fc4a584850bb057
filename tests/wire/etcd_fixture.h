/* SPDX-License-Identifier: MIT */
/* Process tests: a real etcd (Debian's etcd-server) of 1 or 3 members on loopback ports, in a temporary directory; plain or TLS with client certificates. */
#ifndef VXSEC_TESTS_ETCD_FIXTURE_H
#define VXSEC_TESTS_ETCD_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#define ETCD_FIXTURE_MEMBERS_MAX 3

struct tls_ctx;

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
};

/* A loopback TCP port free now (bound, read, closed); -1 if none. */
int etcd_fixture_free_port(void);
/* Starts n members (1 or 3) and waits until the cluster answers a read
 * (at most 30 s). 0, or -1 with the reason printed. */
int etcd_fixture_start(struct etcd_fixture *f, size_t n);
/* The same over TLS, clients authenticated by certificate (above). */
int etcd_fixture_start_tls(struct etcd_fixture *f, size_t n);
/* (Re)starts member i of a started fixture (after etcd_fixture_kill). */
int etcd_fixture_restart(struct etcd_fixture *f, size_t i);
/* Whether the cluster answers a read within secs. */
bool etcd_fixture_ready(const struct etcd_fixture *f, int secs);
/* kill -9 of member i, reaped. */
void etcd_fixture_kill(struct etcd_fixture *f, size_t i);
/* Kills every member, removes the directory. */
int etcd_fixture_stop(struct etcd_fixture *f);

#endif
