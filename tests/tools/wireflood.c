// SPDX-License-Identifier: MIT
/* wireflood: hostile clients for the leader's admission tests — many connections that never authenticate. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/pki.h"
#include "common/tls.h"

/*
 * Kinds: tcp (connect, send nothing), idle (TLS without a certificate,
 * then nothing), header (a header announcing 16 MiB, then nothing), hdrclose
 * (the same, then close at once), big (16 MiB of frame, as fast as the
 * leader takes it), slow (a 8 KiB frame, one byte every 2 s).
 */
enum kind { TCP, IDLE, HEADER, HDRCLOSE, BIG, SLOW };
static const char *const kinds[] = { "tcp",	 "idle", "header",
				     "hdrclose", "big",	 "slow" };

struct flood {
	enum kind kind;
	int port, n, sources, hold;
	struct tls_ctx *tls;
	int *fd;
	struct tls_conn **tc;
	int opened, refused, cut;
};

static int dial(const struct flood *f, int i)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)f->port),
				  .sin_addr.s_addr = htonl(0x7f000001) };
	/* 127.66.x.y: one of f->sources source addresses */
	struct sockaddr_in me = {
		.sin_family = AF_INET,
		.sin_addr.s_addr =
			htonl(0x7f420000u | (uint32_t)(1 + i % f->sources)),
	};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Blocking writes of what the leader takes; false once it is gone. */
static bool put(struct tls_conn *c, const uint8_t *p, size_t len)
{
	uint32_t want;

	while (len) {
		ssize_t n = tls_conn_write(c, p, len, &want);

		if (n <= 0)
			return false;
		p += n, len -= (size_t)n;
	}
	return true;
}

static bool open_one(struct flood *f, int i)
{
	static uint8_t zeros[65536];
	uint8_t hdr[4] = { 0x01, 0x00, 0x00, 0x00 }; /* 16 MiB */
	uint32_t want;
	int fd = dial(f, i);

	f->fd[i] = fd;
	if (fd < 0 || f->kind == TCP)
		return fd >= 0;
	f->tc[i] = tls_conn_new(f->tls, fd, false);
	if (!f->tc[i] || tls_conn_handshake(f->tc[i], &want))
		return false;
	if (f->kind == SLOW) {
		hdr[0] = 0, hdr[1] = 0, hdr[2] = 0x20; /* 8 KiB */
		return put(f->tc[i], hdr, 4);
	}
	if (f->kind == IDLE)
		return true;
	if (!put(f->tc[i], hdr, 4))
		return false;
	for (int k = 0; f->kind == BIG && k < 256; k++)
		if (!put(f->tc[i], zeros, sizeof(zeros))) {
			f->cut++;
			return true; /* the leader cut it: as it should */
		}
	return true;
}

/* A connection the leader closed reads, after what it sent, as EOF or a reset. */
static bool gone(int fd)
{
	char b[4096];
	ssize_t n;

	while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
		;
	return n == 0 || errno != EAGAIN;
}

/* Holds the connections (slow: a byte every 2 s); counts those cut. */
static void hold(struct flood *f)
{
	static const uint8_t one = 0;
	time_t end = time(NULL) + f->hold;
	int open = 0;

	while (time(NULL) < end) {
		sleep(2);
		for (int i = 0; i < f->n && f->kind == SLOW; i++)
			if (f->tc[i] && f->fd[i] >= 0 && !gone(f->fd[i]))
				put(f->tc[i], &one, 1);
	}
	for (int i = 0; i < f->n; i++)
		if (f->fd[i] >= 0 && !gone(f->fd[i]))
			open++;
	printf("wireflood: %s still open after %d s: %d\n", kinds[f->kind],
	       f->hold, open);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: wireflood KIND PORT CA_PEM COUNT SOURCES HOLD_SECS\n"
		"  KIND: tcp idle header hdrclose big slow\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct flood f = { 0 };
	struct rlimit rl = { 65536, 65536 };
	uint8_t pin[PKI_DIGEST_LEN];
	X509 *ca;

	if (argc != 7)
		return usage();
	f.kind = (enum kind) - 1;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcmp(argv[1], kinds[k]))
			f.kind = (enum kind)k;
	f.port = atoi(argv[2]), f.n = atoi(argv[4]), f.sources = atoi(argv[5]);
	f.hold = atoi(argv[6]);
	ca = pki_cert_load(argv[3]);
	if ((int)f.kind < 0 || f.n < 1 || f.sources < 1 || !ca ||
	    pki_cert_digest(ca, pin))
		return usage();
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	f.tls = tls_ctx_client(NULL, NULL, NULL, pin);
	f.fd = calloc((size_t)f.n, sizeof(*f.fd));
	f.tc = calloc((size_t)f.n, sizeof(*f.tc));
	if (!f.tls || !f.fd || !f.tc)
		return 1;
	for (int i = 0; i < f.n; i++) {
		if (open_one(&f, i))
			f.opened++;
		else
			f.refused++;
		if (f.kind == HDRCLOSE && f.fd[i] >= 0) {
			close(f.fd[i]);
			f.fd[i] = -1;
		}
	}
	printf("wireflood: %s opened %d, refused %d, cut while sending %d\n",
	       kinds[f.kind], f.opened, f.refused, f.cut);
	fflush(stdout);
	hold(&f);
	for (int i = 0; i < f.n; i++) {
		tls_conn_free(f.tc[i]);
		if (f.fd[i] >= 0)
			close(f.fd[i]);
	}
	free(f.tc), free(f.fd);
	tls_ctx_free(f.tls);
	X509_free(ca);
	return 0;
}
