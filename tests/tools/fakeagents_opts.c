// SPDX-License-Identifier: MIT
/* fakeagents: the command line, and what a run needs before its clock starts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fakeagents.h"

static const char usage_text[] =
	"usage: fakeagents --leader HOST:PORT[,HOST:PORT...]\n"
	"                  (--token TOKEN | --token-file F) -n N\n"
	"                  [--prefix node-] [--first 1] [--parallel 64]\n"
	"                  [--backoff-max MS] [--failover-after-sync CMD]\n"
	"                  [--hold-commit MS]\n"
	"                  [--rotations K --rotate-cmd CMD] [--leader-pid "
	"PID]\n"
	"                  [--bench NAME] [--verify] [--silent I...] [--expire "
	"I]\n"
	"                  [--key-update I] [--claim-local IP]\n"
	"                  [--state-out FILE] [--timeout SECONDS] [--hold]\n"
	"\n"
	"Runs N simulated vxsec agents in one process, one epoll loop. Each "
	"joins\n"
	"(fresh P-256 key and CSR, CA pinned by the token, proof of the token\n"
	"secret), opens its mutual-TLS session, sends hello, applies the "
	"snapshot\n"
	"and every delta and acks each; it keeps peers, generations, SPIs and "
	"a\n"
	"16-byte SipHash digest of each key (a key drawn per run), never a "
	"key.\n"
	"\n"
	"  --leader LIST       the leader (IPv4 HOST:PORT), or up to 8 "
	"instances\n"
	"                      of a highly available one, comma-separated. "
	"Every\n"
	"                      agent announces its own underlay address, "
	"127.16.x.y\n"
	"                      up; to a leader on 127.0.0.0/8 it also "
	"connects\n"
	"                      from it. With more than one (or with\n"
	"                      --failover-after-sync), an agent whose connect, "
	"TLS\n"
	"                      handshake or session fails (closed, or refused\n"
	"                      with not-leader) tries the next address, or "
	"the\n"
	"                      one a not-leader refusal names if listed, "
	"until\n"
	"                      --timeout; its hello then carries the revision "
	"and\n"
	"                      the term it holds. With one, a lost session is "
	"a\n"
	"                      failure\n"
	"  --backoff-max MS    the wait before another address is 100-500 ms "
	"at\n"
	"                      random; each whole pass of the list that "
	"failed\n"
	"                      doubles the 500, up to MS (default 2000)\n"
	"  --failover-after-sync CMD\n"
	"                      once every agent acked the same revision, run "
	"CMD\n"
	"                      (sh -c, e.g. \"kill -9 $(cat a.pid)\"), then "
	"wait\n"
	"                      until every agent acked a revision as new from "
	"a\n"
	"                      leader of a higher term; say how long that "
	"took\n"
	"                      (\"failover: ...\") and go on (--rotations, "
	"--verify)\n"
	"  --hold-commit MS    an agent acks a commit MS later (the burst's "
	"ack\n"
	"                      waits), so the leader stays in its commit phase "
	"that\n"
	"                      long (a test kills it there)\n"
	"  --token TOKEN       the join token; --token-file F: the first line "
	"of F\n"
	"  -n, --agents N      how many agents\n"
	"  --prefix P          node ids are P<number>, zero-padded "
	"(node-00001)\n"
	"  --first K           the first agent's number (default 1)\n"
	"  --parallel P        joins in flight at once (default 64)\n"
	"  --rotations K       once every agent acked its snapshot and all are "
	"at\n"
	"                      the same revision, run --rotate-cmd (sh -c) K "
	"times,\n"
	"                      each time waiting until every agent applied "
	"the\n"
	"                      retire: one generation left, committed, newer\n"
	"  --rotate-cmd CMD    e.g. \"build/vxsec-keymgr --socket S rotate\"\n"
	"  --leader-pid PID    read the leader's VmRSS before the first join "
	"and\n"
	"                      its VmHWM at the end from /proc/PID/status\n"
	"  --bench NAME        print 'bench NAME_join_N<N> <s> s', "
	"NAME_rotation_N<N>\n"
	"                      (median), NAME_rss_per_agent_N<N> (KiB: VmHWM "
	"minus\n"
	"                      VmRSS, over N), NAME_rss_N<N> (MiB: VmHWM),\n"
	"                      NAME_join_bytes_per_agent_N<N> (KiB from the "
	"leader,\n"
	"                      TLS records, from the first connect until all "
	"joined,\n"
	"                      over N), NAME_rotation_bytes_per_agent_N<N>\n"
	"                      (B from the leader in a rotation, over the live "
	"agents;\n"
	"                      median) and NAME_failover_N<N> (s from running "
	"the\n"
	"                      failover command to the last agent in sync)\n"
	"  --verify            at the end: every agent lists every other as a "
	"peer\n"
	"                      and holds the same generations, SPI slots and "
	"epoch\n"
	"                      secrets; for a random sample of 100 agents (all "
	"if\n"
	"                      fewer), both ends of every sampled ordered pair "
	"derive\n"
	"                      the same K(g, a->b) (X25519 + HKDF, "
	"common/pairkey.c)\n"
	"                      in every live generation, no key twice; and no "
	"agent\n"
	"                      was sent a snapshot or delta of a term lower "
	"than\n"
	"                      one it had (each such frame is also said at "
	"once)\n"
	"  --expire I          agent number I reports a soft expiry of its\n"
	"                      committed SA once it has its snapshot (the\n"
	"                      leader should rotate early)\n"
	"  --key-update I      agent number I makes a new static key once it "
	"has\n"
	"                      its snapshot and sends a KeyUpdate (it takes\n"
	"                      effect with the next generation; --verify "
	"checks\n"
	"                      both keys where each generation uses them)\n"
	"  --claim-local IP    every hello names IP (IPv4) as its socket's "
	"local\n"
	"                      address instead of the one it has: as an "
	"agent\n"
	"                      behind NAT says it, the leader should find it "
	"behind\n"
	"                      NAT, its public address the one it connects "
	"from\n"
	"                      (without it, hellos name the socket's own)\n"
	"  --silent I...       agents (by number: 3, 3,7 or 3-5) that never "
	"ack\n"
	"  --certs DIR         keep each agent's key and certificate in DIR\n"
	"                      (and the CA): a later run connects with them\n"
	"                      instead of joining (a member cannot join "
	"again)\n"
	"  --state-out FILE    one line per agent, peer and generation: "
	"phase,\n"
	"                      SPIs, key digests\n"
	"  --timeout SECONDS   bound on everything before --hold (default "
	"600)\n"
	"  --hold              then stay connected and acking until SIGTERM; "
	"each\n"
	"                      time the agents settle, say so, rewrite "
	"--state-out\n"
	"                      and verify again (with --verify)\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit status: 0 success, 1 a failure (one line naming the agent: an "
	"error\n"
	"from the leader, a protocol violation, verify, timeout), 2 usage.\n";

enum {
	O_LEADER = 256,
	O_TOKEN,
	O_TOKEN_FILE,
	O_PREFIX,
	O_FIRST,
	O_PARALLEL,
	O_ROTATIONS,
	O_ROTATE_CMD,
	O_LEADER_PID,
	O_BENCH,
	O_VERIFY,
	O_SILENT,
	O_STATE_OUT,
	O_TIMEOUT,
	O_HOLD,
	O_CERTS,
	O_EXPIRE,
	O_KEY_UPDATE,
	O_BACKOFF_MAX,
	O_FAILOVER,
	O_HOLD_COMMIT,
	O_CLAIM_LOCAL
};

static const struct option longopts[] = {
	{ "leader", required_argument, NULL, O_LEADER },
	{ "token", required_argument, NULL, O_TOKEN },
	{ "token-file", required_argument, NULL, O_TOKEN_FILE },
	{ "agents", required_argument, NULL, 'n' },
	{ "prefix", required_argument, NULL, O_PREFIX },
	{ "first", required_argument, NULL, O_FIRST },
	{ "parallel", required_argument, NULL, O_PARALLEL },
	{ "rotations", required_argument, NULL, O_ROTATIONS },
	{ "rotate-cmd", required_argument, NULL, O_ROTATE_CMD },
	{ "leader-pid", required_argument, NULL, O_LEADER_PID },
	{ "bench", required_argument, NULL, O_BENCH },
	{ "verify", no_argument, NULL, O_VERIFY },
	{ "silent", required_argument, NULL, O_SILENT },
	{ "state-out", required_argument, NULL, O_STATE_OUT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "hold", no_argument, NULL, O_HOLD },
	{ "certs", required_argument, NULL, O_CERTS },
	{ "expire", required_argument, NULL, O_EXPIRE },
	{ "key-update", required_argument, NULL, O_KEY_UPDATE },
	{ "backoff-max", required_argument, NULL, O_BACKOFF_MAX },
	{ "failover-after-sync", required_argument, NULL, O_FAILOVER },
	{ "hold-commit", required_argument, NULL, O_HOLD_COMMIT },
	{ "claim-local", required_argument, NULL, O_CLAIM_LOCAL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fakeagents: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(fakeagents --help for the usage)\n");
	va_end(ap);
	return -EINVAL;
}

static int number(const char *s, unsigned long min, unsigned long max,
		  uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || *s == '-')
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int add_silent(struct fa_opts *o, uint32_t from, uint32_t to)
{
	uint32_t *more;

	if (to < from || to - from > 1000000)
		return -EINVAL;
	more = realloc(o->silent,
		       (o->n_silent + (to - from) + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	o->silent = more;
	while (from <= to)
		o->silent[o->n_silent++] = from++;
	return 0;
}

/* "3", "3,7", "3-5,9". */
static int parse_silent(struct fa_opts *o, const char *arg)
{
	char buf[256], *save = NULL, *tok, *dash;
	uint32_t a, b;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		dash = strchr(tok, '-');
		if (dash)
			*dash = '\0';
		if (number(tok, 0, UINT32_MAX, &a) ||
		    number(dash ? dash + 1 : tok, 0, UINT32_MAX, &b) ||
		    add_silent(o, a, b))
			return -EINVAL;
	}
	return 0;
}

static int option(struct fa_opts *o, int c, const char *arg, bool *help)
{
	switch (c) {
	case O_LEADER:
		o->leader = arg;
		return 0;
	case O_TOKEN:
		o->token = arg;
		return 0;
	case O_TOKEN_FILE:
		o->token_file = arg;
		return 0;
	case 'n':
		return number(arg, 1, 1000000, &o->n);
	case O_PREFIX:
		o->prefix = arg;
		return 0;
	case O_FIRST:
		return number(arg, 0, 100000000, &o->first);
	case O_PARALLEL:
		return number(arg, 1, 100000, &o->parallel);
	case O_ROTATIONS:
		return number(arg, 0, 100000, &o->rotations);
	case O_ROTATE_CMD:
		o->rotate_cmd = arg;
		return 0;
	case O_LEADER_PID:
		o->leader_pid = strtol(arg, NULL, 10);
		return o->leader_pid > 0 ? 0 : -EINVAL;
	case O_BENCH:
		o->bench = arg;
		return 0;
	case O_VERIFY:
		o->verify = true;
		return 0;
	case O_SILENT:
		return parse_silent(o, arg);
	case O_STATE_OUT:
		o->state_out = arg;
		return 0;
	case O_CERTS:
		o->certs = arg;
		return 0;
	case O_TIMEOUT:
		o->timeout = strtol(arg, NULL, 10);
		return o->timeout > 0 ? 0 : -EINVAL;
	case O_HOLD:
		o->hold = true;
		return 0;
	case O_EXPIRE:
		o->expire = (uint32_t)strtoul(arg, NULL, 10);
		return o->expire > 0 ? 0 : -EINVAL;
	case O_KEY_UPDATE:
		o->key_update = (uint32_t)strtoul(arg, NULL, 10);
		return o->key_update > 0 ? 0 : -EINVAL;
	case O_BACKOFF_MAX:
		return number(arg, 0, 600000, &o->backoff_max);
	case O_FAILOVER:
		o->failover_cmd = arg;
		return 0;
	case O_HOLD_COMMIT:
		return number(arg, 1, 600000, &o->hold_commit);
	case O_CLAIM_LOCAL: {
		struct in_addr in;

		if (inet_pton(AF_INET, arg, &in) != 1)
			return -EINVAL;
		o->claim = true;
		o->claim_local = ntohl(in.s_addr);
		return 0;
	}
	case 'h':
		*help = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static int check_opts(struct fa_opts *o)
{
	uint32_t last = o->first + o->n - 1, w = 1;
	size_t i;

	if (!o->leader || !o->n || !!o->token == !!o->token_file)
		return usage("%s", "--leader, -n and one of --token and "
				   "--token-file are needed");
	if (o->rotations && !o->rotate_cmd)
		return usage("%s", "--rotations needs --rotate-cmd");
	for (i = 0; i < o->n_silent; i++)
		if (o->silent[i] < o->first || o->silent[i] > last)
			return usage("--silent %u: not the number of one of "
				     "our agents",
				     o->silent[i]);
	while (last >= 10) {
		last /= 10;
		w++;
	}
	o->width = w < 5 ? 5 : w;
	return 0;
}

static const char *opt_name(int c)
{
	static char name[32];
	const struct option *p;

	for (p = longopts; p->name; p++)
		if (p->val == c)
			snprintf(name, sizeof(name), "--%s", p->name);
	return name;
}

int fa_opts_parse(struct fa_opts *o, int argc, char **argv, bool *help)
{
	int c;

	*o = (struct fa_opts){ .prefix = "node-",
			       .first = 1,
			       .parallel = 64,
			       .timeout = 600,
			       .backoff_max = 2000 };
	/* "+": stop at the first non-option, so --silent can take "3 7". */
	while ((c = getopt_long(argc, argv, "+n:h", longopts, NULL)) != -1) {
		if (c == '?')
			return usage("%s", "unknown option");
		if (option(o, c, optarg, help))
			return usage("bad value \"%s\" for %s", optarg,
				     opt_name(c));
		while (c == O_SILENT && optind < argc &&
		       isdigit((unsigned char)argv[optind][0]))
			if (parse_silent(o, argv[optind++]))
				return usage("bad value for %s", "--silent");
	}
	if (*help) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (optind < argc)
		return usage("unexpected argument %s", argv[optind]);
	return check_opts(o);
}

/* ---- set-up ---- */

static int read_token(struct fa_run *r)
{
	char text[TOKEN_TEXT_LEN + 64] = "";
	struct why why = { "" };
	FILE *f;
	int err;

	if (r->o.token_file) {
		f = fopen(r->o.token_file, "re");
		if (!f) {
			fprintf(stderr, "fakeagents: %s: %s\n", r->o.token_file,
				strerror(errno));
			return -errno;
		}
		if (!fgets(text, sizeof(text), f))
			text[0] = '\0';
		fclose(f);
	} else {
		snprintf(text, sizeof(text), "%s", r->o.token);
	}
	err = token_parse(text, &r->token, &why);
	sodium_memzero(text, sizeof(text));
	if (err)
		fprintf(stderr, "fakeagents: join token: %s\n", why.msg);
	return err;
}

/*
 * One fd per connected agent, two while it handshakes (conn's deadline
 * timer), a few more for the loop: as many as the hard limit allows.
 */
static int raise_nofile(struct fa_run *r)
{
	rlim_t need = (rlim_t)r->o.n + r->o.parallel * 2 + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_max < need) {
		struct rlimit more = { need, need }; /* root may */

		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			return 0;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur < need)
		printf("warning: %u agents may need up to %llu file "
		       "descriptors, the limit is %llu\n",
		       r->o.n, (unsigned long long)need,
		       (unsigned long long)rl.rlim_cur);
	return 0;
}

/* Agent number k connects from 127.16.0.1 up, never .0 or .255. */
static uint32_t source_of(uint32_t k)
{
	return (127u << 24) + ((16u + k / (254u * 256u)) << 16) +
	       (((k / 254u) % 256u) << 8) + 1u + k % 254u;
}

static bool is_silent(const struct fa_opts *o, uint32_t k)
{
	size_t i;

	for (i = 0; i < o->n_silent; i++)
		if (o->silent[i] == k)
			return true;
	return false;
}

/* FA_SAMPLE agents at random (all if fewer) derive their pairs' keys. */
static int pick_sample(struct fa_run *r)
{
	uint32_t n = r->o.n, want = n < FA_SAMPLE ? n : FA_SAMPLE, *order;

	r->sampled = calloc(n ? n : 1, 1);
	order = malloc((n ? n : 1) * sizeof(*order));
	if (!r->sampled || !order) {
		free(order);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	for (uint32_t i = 0; i < want; i++) { /* a partial Fisher-Yates */
		uint32_t j = i + randombytes_uniform(n - i), t = order[i];

		order[i] = order[j];
		order[j] = t;
		r->sampled[order[i]] = 1;
	}
	free(order);
	return 0;
}

static int make_agents(struct fa_run *r)
{
	char id[PROTO_NODE_ID_MAX + 32];
	double t0 = fa_now();
	uint32_t i, k, gid;

	r->agents = calloc(r->o.n, sizeof(*r->agents));
	if (!r->agents || fa_names_init(&r->names) || pick_sample(r))
		return -ENOMEM;
	for (i = 0; i < r->o.n; i++) {
		struct fa_agent *a = &r->agents[i];

		k = r->o.first + i;
		snprintf(id, sizeof(id), "%s%0*u", r->o.prefix, (int)r->o.width,
			 k);
		if (fa_names_intern(&r->names, id, &gid) || gid != i ||
		    fa_agent_prepare(a, id,
				     r->sampled[i] |= r->o.key_update == k)) {
			fprintf(stderr,
				"fakeagents: %s: cannot make its key "
				"(or the id is used twice)\n",
				id);
			return -ENOMEM;
		}
		a->run = r;
		a->gid = gid;
		/* Announced as its underlay, distinct per agent as the
		 * leader requires; on loopback, also where it connects from. */
		a->addr = source_of(k);
		a->silent = is_silent(&r->o, k);
		a->expire = r->o.expire == k;
		a->key_update = r->o.key_update == k;
		a->st.full = r->sampled[i];
		a->st.sampled = r->sampled;
		a->st.n_ours = r->o.n;
	}
	printf("prepared %u keys and CSRs in %.3f s\n", r->o.n, fa_now() - t0);
	return 0;
}

int fa_setup(struct fa_run *r)
{
	int err;

	if (sodium_init() < 0)
		return -EIO;
	err = read_token(r);
	err = err ? err : fa_leaders_parse(r, r->o.leader);
	err = err ? err : raise_nofile(r);
	err = err ? err : make_agents(r);
	err = err ? err : fa_retry_init(r);
	if (err)
		return err;
	r->join_tls = tls_ctx_client(NULL, NULL, NULL, r->token.ca_digest);
	if (!r->join_tls) {
		fprintf(stderr, "fakeagents: cannot make a TLS context\n");
		return -ENOMEM;
	}
	return 0;
}
