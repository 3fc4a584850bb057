// SPDX-License-Identifier: MIT
/* make bench (lab): agent cold start (desired_build + reconcile) against ip -batch programming the same SAs and policies. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agentd.h"
#include "agent/kernel.h"
#include "tests/netns/netns_util.h"
#include "xfrm/xfrm.h"

#define REQID 0x7661u
#define VXLAN_PORT 4789
#define REPLAY_WINDOW 1024
#define SELF_INDEX 1u
#define PEERS_MAX 100000u
#define RUNS_MAX 15u
#define SETTLE_US 500000 /* lets the kernel free flushed SAs (a work queue) */
#define LINE_MAX_LEN 640

struct opts {
	size_t peers;
	unsigned int gens, runs;
};

/* Everything to undo on any exit: the view's keys and the batch file. */
struct bench {
	struct opts o;
	struct xfrm_sock *sock;
	struct desired_view view;
	struct desired_peer *peers; /* sodium_allocarray: keys inside */
	struct desired_config cfg;
	char file[64];
	int fd;
};

static struct bench B = { .fd = -1 };

/* Overwrites the batch file (keys inside) with zeros, then unlinks it. */
static void file_wipe(struct bench *b)
{
	static const char zeros[4096];
	struct stat st;
	off_t off = 0;

	if (b->fd < 0)
		return;
	if (fstat(b->fd, &st) == 0)
		while (off < st.st_size) {
			size_t n = (size_t)(st.st_size - off) < sizeof(zeros)
					   ? (size_t)(st.st_size - off)
					   : sizeof(zeros);
			ssize_t w = pwrite(b->fd, zeros, n, off);

			if (w <= 0)
				break;
			off += w;
		}
	(void)fsync(b->fd);
	close(b->fd);
	unlink(b->file);
	b->fd = -1;
}

static void cleanup(void)
{
	file_wipe(&B);
	if (B.peers)
		sodium_free(B.peers); /* wipes the keys */
	B.peers = NULL;
	if (B.sock) {
		(void)xfrm_sa_flush(B.sock);
		(void)xfrm_policy_flush(B.sock);
		xfrm_sock_close(B.sock);
	}
	B.sock = NULL;
}

static void __attribute__((noreturn)) fail(const char *what, int err)
{
	fprintf(stderr, "bench_agent: %s: %s\n", what,
		strerror(err < 0 ? -err : err));
	cleanup();
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_agent [-n PEERS] [-g GENERATIONS] [-r RUNS]\n"
		   "  agent cold start (desired_build + reconcile) against "
		   "ip -batch, same objects,\n"
		   "  in a fresh network namespace; needs root and a kernel "
		   "with ESP (the VM lab:\n"
		   "  tests/lab/lab.sh bench agent-cold). Defaults: 1000 "
		   "peers, 3 generations, 3 runs.\n");
}

static unsigned long num_arg(const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "bench_agent: %s: not a number in %lu..%lu\n",
			s, lo, hi);
		exit(2);
	}
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ 1000, 3, 3 };
	while ((c = getopt(argc, argv, "n:g:r:h")) != -1) {
		switch (c) {
		case 'n':
			o->peers = num_arg(optarg, 1, PEERS_MAX);
			break;
		case 'g':
			o->gens = (unsigned int)num_arg(optarg, 1,
							DESIRED_GENS_MAX);
			break;
		case 'r':
			o->runs = (unsigned int)num_arg(optarg, 1, RUNS_MAX);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

/* The leader's SPI rule (DESIGN.md): slot(g) << 24 | index(sender). */
static uint32_t spi(uint32_t g, uint32_t sender)
{
	return ((1u + g % 255u) << 24) | sender;
}

static struct desired_addr v4(uint32_t host_order)
{
	struct desired_addr a = { .family = AF_INET };

	a.ip.v4.s_addr = htonl(host_order);
	return a;
}

/* Generations 7 (retiring), 8 (committed), 9 (prepared): the last n. */
static void make_gens(struct desired_view *v, unsigned int n)
{
	static const struct desired_gen all[DESIRED_GENS_MAX] = {
		{ 8, DPHASE_COMMITTED },
		{ 9, DPHASE_PREPARED },
		{ 7, DPHASE_RETIRING },
	};

	for (unsigned int i = 0; i < n; i++)
		v->gens[i] = all[i];
	v->n_gens = n;
}

/* Peer i is 10.1.0.0 + i + 1, index i + 2, random keys for every gen. */
static void make_peer(const struct desired_view *v, struct desired_peer *p,
		      size_t i)
{
	memset(p, 0, sizeof(*p));
	p->index = (uint32_t)i + 2;
	p->addrs[0] = v4(0x0a010000u + (uint32_t)i + 1);
	p->n_addrs = 1;
	for (size_t k = 0; k < v->n_gens; k++) {
		struct desired_keys *kk = &p->keys[k];

		kk->g = v->gens[k].g;
		kk->spi_out = spi(kk->g, SELF_INDEX);
		kk->spi_in = spi(kk->g, p->index);
		randombytes_buf(kk->key_out, sizeof(kk->key_out));
		randombytes_buf(kk->key_in, sizeof(kk->key_in));
	}
	p->n_keys = v->n_gens;
}

/* Self is 10.0.0.1, index 1 (the SPI of every out SA names it). */
static void make_view(struct bench *b)
{
	struct desired_view *v = &b->view;
	struct desired_peer *peers;

	peers = sodium_allocarray(b->o.peers, sizeof(*peers));
	if (!peers)
		fail("sodium_allocarray (the peers' keys)", ENOMEM);
	b->peers = peers;
	memset(v, 0, sizeof(*v));
	v->self[0] = v4(0x0a000001u);
	v->n_self = 1;
	make_gens(v, b->o.gens);
	for (size_t i = 0; i < b->o.peers; i++)
		make_peer(v, &peers[i], i);
	v->peers = peers;
	v->n_peers = b->o.peers;
}

static void make_cfg(struct desired_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->reqid = REQID;
	cfg->vxlan_port = VXLAN_PORT;
	cfg->replay_window = REPLAY_WINDOW;
	cfg->lft.soft_bytes = AGENT_SA_SOFT_BYTES; /* the agent's default */
}

static void build(const struct bench *b, struct desired_state *want)
{
	struct why why = { "" };
	int err = desired_build(&b->view, &b->cfg, want, &why);

	if (err) {
		fprintf(stderr, "bench_agent: desired_build: %s\n", why.msg);
		fail("desired_build", err);
	}
}

/* One SA add tells whether this kernel has ESP and rfc4106(gcm(aes)). */
static void probe_esp(struct bench *b)
{
	struct desired_state want;
	int err;

	build(b, &want);
	err = xfrm_sa_apply(b->sock, XFRM_OP_ADD, &want.sas[0]);
	if (err) {
		fprintf(stderr,
			"bench_agent: THIS KERNEL CANNOT ADD ESP SAs: %s (%s)\n"
			"bench_agent: nothing measured; run it in the VM lab: "
			"tests/lab/lab.sh bench agent-cold\n",
			strerror(-err), xfrm_sock_extack(b->sock));
		desired_state_free(&want);
		cleanup();
		exit(1);
	}
	desired_state_free(&want);
	(void)xfrm_sa_flush(b->sock);
}

static int count_sa(const struct xfrm_sa *sa, void *arg)
{
	(void)sa;
	++*(size_t *)arg;
	return 0;
}

static int count_pol(const struct xfrm_policy *p, void *arg)
{
	(void)p;
	++*(size_t *)arg;
	return 0;
}

/* The kernel holds exactly the SAs and policies of our reqid we expect. */
static void check_counts(const struct bench *b, const char *who)
{
	size_t sas = 0, pols = 0, want_sas, want_pols;
	int err = xfrm_sa_dump(b->sock, REQID, count_sa, &sas);

	if (!err)
		err = xfrm_policy_dump(b->sock, REQID, count_pol, &pols);
	if (err)
		fail("dump", err);
	want_sas = 2 * b->o.peers * b->o.gens;
	want_pols = 2 * b->o.peers;
	if (sas == want_sas && pols == want_pols)
		return;
	fprintf(stderr,
		"bench_agent: after %s the kernel holds %zu SAs and %zu "
		"policies of reqid %u, not %zu and %zu\n",
		who, sas, pols, REQID, want_sas, want_pols);
	fail(who, EIO);
}

static void flush(const struct bench *b)
{
	int err = xfrm_sa_flush(b->sock);

	if (!err)
		err = xfrm_policy_flush(b->sock);
	if (err)
		fail("flush", err);
	usleep(SETTLE_US);
}

/* The measured part: the agent from the leader's view to a kernel equal to it. */
static double agent_once(const struct bench *b)
{
	struct agent_xfrm x = { b->sock, REQID, VXLAN_PORT };
	struct reconcile_result res;
	struct desired_state want;
	struct agent_kernel k;
	struct reconciler r;
	double t0 = netns_now(), t;
	int err;

	agent_kernel_xfrm(&k, &x);
	err = reconciler_init(&r);
	if (err)
		fail("reconciler_init", err);
	build(b, &want);
	err = reconcile(&r, &k, &want, &res);
	t = netns_now() - t0;
	if (err) {
		fprintf(stderr, "bench_agent: reconcile: %s\n", res.why.msg);
		fail("reconcile", err);
	}
	if (res.applied != want.n_sas + want.n_pols || res.attempts != 1) {
		fprintf(stderr, "bench_agent: %zu steps in %zu rounds\n",
			res.applied, res.attempts);
		fail("the cold start was not one round", EIO);
	}
	desired_state_free(&want);
	reconciler_cleanup(&r);
	return t * 1000;
}

/* A fresh agent finds nothing to do: ip -batch made exactly our objects. */
static void check_same(const struct bench *b)
{
	struct agent_xfrm x = { b->sock, REQID, VXLAN_PORT };
	struct reconcile_result res;
	struct desired_state want;
	struct agent_kernel k;
	struct reconciler r;
	int err;

	agent_kernel_xfrm(&k, &x);
	err = reconciler_init(&r);
	if (err)
		fail("reconciler_init", err);
	build(b, &want);
	err = reconcile(&r, &k, &want, &res);
	desired_state_free(&want);
	reconciler_cleanup(&r);
	if (err)
		fail("reconcile after ip -batch", err);
	if (res.applied) {
		fprintf(stderr,
			"bench_agent: the objects of ip -batch differ from "
			"the agent's: %zu steps to fix them\n",
			res.applied);
		fail("ip -batch file", EINVAL);
	}
}

static void lft_words(const struct xfrm_lifetime *l, char *out, size_t len)
{
	const struct {
		const char *name;
		uint64_t v;
	} w[] = {
		{ "byte-soft", l->soft_bytes },
		{ "byte-hard", l->hard_bytes },
		{ "packet-soft", l->soft_packets },
		{ "packet-hard", l->hard_packets },
		{ "time-soft", l->soft_secs },
		{ "time-hard", l->hard_secs },
	};
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]) && n < len; i++)
		if (w[i].v)
			n += (size_t)snprintf(out + n, len - n,
					      " limit %s %llu", w[i].name,
					      (unsigned long long)w[i].v);
}

/* The ip(8) command that adds sa: the same attributes as xfrm/msg.c. */
static int sa_line(const struct xfrm_sa *sa, char *line, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], lft[200];
	char hex[2 * XFRM_KEY_MAX + 1];
	unsigned int plen = sa->family == AF_INET ? 32 : 128;
	int n;

	xfrm_ip_fmt(sa->family, &sa->src, src, sizeof(src));
	xfrm_ip_fmt(sa->family, &sa->dst, dst, sizeof(dst));
	lft_words(&sa->lft, lft, sizeof(lft));
	sodium_bin2hex(hex, sizeof(hex), sa->key, sa->key_len);
	n = snprintf(
		line, len,
		"xfrm state add src %s dst %s proto esp spi 0x%08x "
		"reqid %u mode transport replay-window %u%s "
		"aead rfc4106(gcm(aes)) 0x%s %u sel src %s/%u dst %s/%u%s\n",
		src, dst, sa->spi, sa->reqid, sa->replay_window,
		sa->esn ? " flag esn" : "", hex, sa->icv_bits, src, plen, dst,
		plen, lft);
	sodium_memzero(hex, sizeof(hex));
	return n;
}

static int pol_line(const struct xfrm_policy *p, char *line, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], tmpl[128] = "";
	char spi_w[32] = "";

	xfrm_ip_fmt(p->sel.family, &p->sel.src, src, sizeof(src));
	xfrm_ip_fmt(p->sel.family, &p->sel.dst, dst, sizeof(dst));
	if (p->tmpl_spi)
		snprintf(spi_w, sizeof(spi_w), " spi 0x%08x", p->tmpl_spi);
	if (p->has_tmpl)
		snprintf(tmpl, sizeof(tmpl),
			 " tmpl proto esp%s mode transport reqid %u", spi_w,
			 p->tmpl_reqid);
	return snprintf(line, len,
			"xfrm policy add src %s/%u dst %s/%u proto %u dport %u "
			"dir %s priority %u action %s%s\n",
			src, p->sel.src_plen, dst, p->sel.dst_plen,
			p->sel.proto, p->sel.dport,
			p->dir == XFRM_OUT ? "out" : "in", p->priority,
			p->action == XFRM_BLOCK ? "block" : "allow", tmpl);
}

static void write_line(int fd, const char *line, int n)
{
	ssize_t w;

	if (n < 0 || n >= LINE_MAX_LEN)
		fail("ip -batch line too long", EOVERFLOW);
	for (int off = 0; off < n; off += (int)w) {
		w = write(fd, line + off, (size_t)(n - off));
		if (w < 0)
			fail("write ip -batch file", errno);
	}
}

/* The desired state as an ip -batch file: SAs first, as the agent orders. */
static void write_batch(struct bench *b)
{
	char line[LINE_MAX_LEN];
	struct desired_state want;

	snprintf(b->file, sizeof(b->file), "/tmp/vxsec-bench-agent-XXXXXX");
	b->fd = mkostemp(b->file, O_CLOEXEC); /* 0600: keys inside */
	if (b->fd < 0)
		fail("mkostemp", errno);
	build(b, &want);
	for (size_t i = 0; i < want.n_sas; i++)
		write_line(b->fd, line,
			   sa_line(&want.sas[i], line, sizeof(line)));
	for (size_t i = 0; i < want.n_pols; i++)
		write_line(b->fd, line,
			   pol_line(&want.pols[i], line, sizeof(line)));
	sodium_memzero(line, sizeof(line));
	desired_state_free(&want);
}

/* ip -batch FILE, fork and exec, no shell: milliseconds. */
static double ip_once(const struct bench *b)
{
	double t0 = netns_now();
	pid_t pid = fork();
	int st;

	if (pid < 0)
		fail("fork", errno);
	if (pid == 0) {
		execlp("ip", "ip", "-batch", b->file, (char *)NULL);
		fprintf(stderr, "bench_agent: exec ip: %s\n", strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		fail("waitpid", errno);
	t0 = netns_now() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("ip -batch failed", EIO);
	return t0 * 1000;
}

static int by_value(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long peak_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
}

static void setup(struct bench *b)
{
	int err;

	if (geteuid() != 0) {
		fprintf(stderr, "bench_agent: needs root (a network "
				"namespace, XFRM)\n");
		exit(1);
	}
	if (sodium_init() < 0)
		fail("sodium_init", EIO);
	err = netns_fresh();
	if (err)
		fail("unshare(CLONE_NEWNET)", err);
	b->sock = xfrm_sock_open(0);
	if (!b->sock)
		fail("xfrm_sock_open", errno);
	make_cfg(&b->cfg);
	make_view(b);
	probe_esp(b);
}

int main(int argc, char **argv)
{
	double agent[RUNS_MAX], ipb[RUNS_MAX], a, i;
	long rss = -1;

	parse_opts(argc, argv, &B.o);
	setup(&B);
	printf("== agent cold start: %zu peers x %u generations (%zu SAs + "
	       "%zu policies), %u runs, against ip -batch\n",
	       B.o.peers, B.o.gens, 2 * B.o.peers * B.o.gens, 2 * B.o.peers,
	       B.o.runs);
	for (unsigned int r = 0; r < B.o.runs; r++) {
		agent[r] = agent_once(&B);
		if (r == 0)
			rss = peak_rss_kib(); /* before any ip -batch work */
		check_counts(&B, "the agent");
		flush(&B);
		if (r == 0)
			write_batch(&B);
		ipb[r] = ip_once(&B);
		check_counts(&B, "ip -batch");
		check_same(&B);
		flush(&B);
		printf("run %u: agent %.1f ms, ip -batch %.1f ms\n", r + 1,
		       agent[r], ipb[r]);
		fflush(stdout);
	}
	a = median(agent, B.o.runs);
	i = median(ipb, B.o.runs);
	printf("bench agent_cold_start_ms %.1f ms\n", a);
	printf("bench ip_batch_cold_start_ms %.1f ms\n", i);
	printf("bench agent_cold_start_speedup_vs_ip_batch %.1f x\n", i / a);
	printf("bench agent_cold_start_rss %ld KiB\n", rss);
	cleanup();
	return 0;
}
