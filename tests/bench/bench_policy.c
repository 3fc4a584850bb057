// SPDX-License-Identifier: MIT
/* make bench: xfrm/ against ip -batch programming N policies in a fresh netns. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/netns/netns_util.h"
#include "xfrm/xfrm.h"

#define REQID 0x5678u
#define SPI_GEN1 0x01000000u
#define SPI_GEN2 0x02000000u

static void nth_policy(struct xfrm_policy *p, uint32_t i, uint32_t spi_base)
{
	memset(p, 0, sizeof(*p));
	p->sel.family = AF_INET;
	p->sel.src.raw[0] = 192, p->sel.src.raw[1] = 0;
	p->sel.src.raw[2] = 2, p->sel.src.raw[3] = 1;
	p->sel.dst.raw[0] = 10;
	p->sel.dst.raw[1] = (uint8_t)(i >> 16);
	p->sel.dst.raw[2] = (uint8_t)(i >> 8);
	p->sel.dst.raw[3] = (uint8_t)i;
	p->sel.src_plen = p->sel.dst_plen = 32;
	p->sel.proto = IPPROTO_UDP;
	p->sel.dport = 4789;
	p->dir = XFRM_OUT;
	p->priority = 100;
	p->has_tmpl = true;
	p->tmpl_reqid = REQID;
	p->tmpl_spi = spi_base | (i + 1);
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "bench: %s: %s\n", what,
		strerror(err < 0 ? -err : err));
	exit(1);
}

struct tally {
	size_t count, spi_gen2;
};

static int tally_cb(const struct xfrm_policy *p, void *arg)
{
	struct tally *t = arg;

	t->count++;
	if ((p->tmpl_spi & 0xff000000u) == SPI_GEN2)
		t->spi_gen2++;
	return 0;
}

static struct tally tally(struct xfrm_sock *s)
{
	struct tally t = { 0, 0 };
	int err = xfrm_policy_dump(s, REQID, tally_cb, &t);

	if (err)
		fail("policy dump", err);
	return t;
}

/* Queues and sends N policies (add or SPI update); returns seconds. */
static double program(struct xfrm_sock *s, uint32_t n, bool update)
{
	struct xfrm_batch *b = xfrm_batch_new();
	struct xfrm_policy p;
	double t0 = netns_now();
	uint32_t i;
	int err;

	if (!b)
		fail("batch", ENOMEM);
	for (i = 0; i < n; i++) {
		nth_policy(&p, i, update ? SPI_GEN2 : SPI_GEN1);
		err = xfrm_batch_policy(
			b, update ? XFRM_OP_UPDATE : XFRM_OP_ADD, &p);
		if (err < 0)
			fail("queue", err);
	}
	err = xfrm_batch_send(s, b);
	t0 = netns_now() - t0;
	if (err)
		fail(update ? "SPI switch batch" : "add batch", err);
	xfrm_batch_free(b);
	return t0;
}

static void write_ip_batch(const char *path, uint32_t n)
{
	FILE *f = fopen(path, "w");
	uint32_t i;

	if (!f)
		fail(path, errno);
	for (i = 0; i < n; i++)
		fprintf(f,
			"xfrm policy add src 192.0.2.1/32 dst 10.%u.%u.%u/32 "
			"proto udp dport 4789 dir out priority 100 tmpl "
			"proto esp spi 0x%08x mode transport reqid %u\n",
			(i >> 16) & 255, (i >> 8) & 255, i & 255,
			SPI_GEN1 | (i + 1), REQID);
	if (fclose(f))
		fail(path, errno);
}

static void report(const char *name, uint32_t n, double secs)
{
	printf("bench %s_n%u %.4f s\n", name, n, secs);
	printf("bench %s_rate_n%u %.0f policies/s\n", name, n, n / secs);
}

static struct xfrm_sock *fresh(void)
{
	struct xfrm_sock *s;
	int err = netns_fresh();

	if (err)
		fail("unshare(CLONE_NEWNET)", err);
	s = xfrm_sock_open(0);
	if (!s)
		fail("xfrm_sock_open", errno);
	return s;
}

static double run_n(uint32_t n, const char *file)
{
	struct xfrm_sock *s = fresh();
	double add, upd, dump, ipb;
	char cmd[256];
	struct tally t;

	add = program(s, n, false);
	dump = netns_now();
	t = tally(s);
	dump = netns_now() - dump;
	if (t.count != n)
		fail("xfrm/ add: policy count differs", EIO);
	upd = program(s, n, true);
	t = tally(s);
	if (t.count != n || t.spi_gen2 != n)
		fail("SPI switch: not every template moved", EIO);
	xfrm_sock_close(s);

	write_ip_batch(file, n);
	s = fresh();
	snprintf(cmd, sizeof(cmd), "ip -batch %s", file);
	ipb = netns_now();
	if (netns_run(cmd, NULL, NULL) != 0)
		fail("ip -batch", EIO);
	ipb = netns_now() - ipb;
	if (tally(s).count != n)
		fail("ip -batch: policy count differs", EIO);
	xfrm_sock_close(s);

	report("policy_add_xfrm", n, add);
	report("policy_add_ip_batch", n, ipb);
	report("spi_switch", n, upd);
	printf("bench policy_dump_n%u %.4f s\n", n, dump);
	printf("bench policy_add_speedup_vs_ip_batch_n%u %.1f x\n", n,
	       ipb / add);
	fflush(stdout);
	return ipb / add;
}

int main(void)
{
	static const uint32_t sizes[] = { 1000, 10000, 50000 };
	char file[] = "/tmp/vxsec-bench-XXXXXX";
	double speedup = 0;
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr,
			"bench: needs root (network namespaces, XFRM)\n");
		return 1;
	}
	fd = mkstemp(file);
	if (fd < 0)
		fail("mkstemp", errno);
	close(fd);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		speedup = run_n(sizes[i], file);
	unlink(file);
	printf("bench policy_add_speedup_vs_ip_batch %.1f x\n", speedup);
	return 0;
}
