// SPDX-License-Identifier: MIT
/* xfrmctl: drives xfrm/ from the command line, for the lab and by hand. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hex.h"
#include "xfrm/xfrm.h"

enum obj { OBJ_SA, OBJ_POLICY };
enum verb { V_ADD, V_UPDATE, V_DEL, V_GET, V_DUMP, V_FLUSH };

struct cmd {
	enum obj obj;
	enum verb verb;
	struct xfrm_sa sa;
	struct xfrm_policy pol;
	uint32_t reqid; /* dump filter, or the object's reqid */
	bool key_set;
};

#define MAX_ARGS 64

static const char usage_text[] =
	"usage: xfrmctl sa add|update SRC DST SPI --reqid N --key "
	"HEX|--key-file F\n"
	"                 [--icv 64|96|128] [--esn] [--replay N] [--mark "
	"V[/M]]\n"
	"                 [--soft-bytes N] [--hard-bytes N] [--soft-packets "
	"N]\n"
	"                 [--hard-packets N] [--soft-secs N] [--hard-secs N]\n"
	"       xfrmctl sa del|get SRC DST SPI [--mark V[/M]]\n"
	"       xfrmctl sa dump [--reqid N] | sa flush\n"
	"       xfrmctl policy add|update|del SRC[/PLEN] DST[/PLEN] --dir "
	"in|out|fwd\n"
	"                 [--proto udp|tcp|N] [--dport N] [--prio N] "
	"[--block]\n"
	"                 [--reqid N [--spi N]] [--mark V[/M]]\n"
	"       xfrmctl policy dump [--reqid N] | policy flush\n"
	"       xfrmctl monitor [--count N] [--timeout SECS]\n"
	"       xfrmctl batch FILE|-   (lines as above without 'xfrmctl'; one "
	"batch)\n"
	"\n"
	"ESP transport mode, AEAD rfc4106(gcm(aes)). HEX is the key and its "
	"4-byte\n"
	"salt: 40, 56 or 72 hex digits (AES-128/192/256). Keys are never "
	"printed.\n"
	"A test tool: prefer --key-file; a key on the command line is visible "
	"in ps until it is parsed (then wiped from argv).\n"
	"Exit: 0 ok, 1 the kernel refused, 2 bad usage.\n";

static int bad(char *err, size_t len, const char *what, const char *arg)
{
	snprintf(err, len, "%s: '%s'", what, arg ? arg : "(missing)");
	return -EINVAL;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end || *s == '-' ? -EINVAL : 0;
}

static int parse_u32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (parse_u64(s, &x) || x > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

static int parse_mark(const char *s, uint32_t *v, uint32_t *m)
{
	char buf[64], *slash;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	*m = UINT32_MAX;
	if (slash) {
		*slash = '\0';
		if (parse_u32(slash + 1, m) || !*m)
			return -EINVAL;
	}
	return parse_u32(buf, v);
}

/* Decodes the key without keeping any copy but sa->key. */
static int parse_key(const char *hex, struct xfrm_sa *sa)
{
	size_t len, i;
	int hi, lo;

	if (!hex)
		return -EINVAL;
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	len = strcspn(hex, " \t\r\n");
	if (len != 40 && len != 56 && len != 72)
		return -EINVAL;
	for (i = 0; i < len / 2; i++) {
		hi = hex_value(hex[2 * i]);
		lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			xfrm_sa_wipe(sa);
			return -EINVAL;
		}
		sa->key[i] = (uint8_t)(hi << 4 | lo);
	}
	sa->key_len = (uint8_t)(len / 2);
	return 0;
}

static int read_key_file(const char *path, struct xfrm_sa *sa)
{
	char buf[160];
	size_t n;
	FILE *f = path ? fopen(path, "r") : NULL;
	int err;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	err = parse_key(buf, sa);
	explicit_bzero(buf, sizeof(buf));
	return err;
}

static int parse_prefix(const char *s, struct xfrm_selector_spec *sel, bool dst)
{
	char buf[80], *slash;
	uint32_t plen;
	int family;
	union xfrm_ip ip;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (xfrm_ip_parse(buf, &family, &ip))
		return -EINVAL;
	plen = family == AF_INET ? 32 : 128;
	if (slash && (parse_u32(slash + 1, &plen) ||
		      plen > (family == AF_INET ? 32u : 128u)))
		return -EINVAL;
	if (sel->family && sel->family != family)
		return -EINVAL;
	sel->family = family;
	if (dst) {
		sel->dst = ip;
		sel->dst_plen = (uint8_t)plen;
	} else {
		sel->src = ip;
		sel->src_plen = (uint8_t)plen;
	}
	return 0;
}

static int parse_dir(const char *s, enum xfrm_dir *dir)
{
	if (s && !strcmp(s, "in"))
		*dir = XFRM_IN;
	else if (s && !strcmp(s, "out"))
		*dir = XFRM_OUT;
	else if (s && !strcmp(s, "fwd"))
		*dir = XFRM_FWD;
	else
		return -EINVAL;
	return 0;
}

static int parse_proto(const char *s, uint8_t *proto)
{
	uint32_t v;

	if (s && !strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else if (s && !strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!parse_u32(s, &v) && v < 256)
		*proto = (uint8_t)v;
	else
		return -EINVAL;
	return 0;
}

static int sa_option(struct cmd *c, const char *opt, const char *val, int *used)
{
	struct xfrm_lifetime *l = &c->sa.lft;
	uint32_t v;

	*used = 1;
	if (!strcmp(opt, "--esn")) {
		c->sa.esn = true;
		*used = 0;
		return 0;
	}
	if (!strcmp(opt, "--key")) {
		int err = val ? parse_key(val, &c->sa) : -EINVAL;

		c->key_set = true;
		/* Out of argv: /proc/PID/cmdline no longer shows it. */
		if (val)
			explicit_bzero((char *)val, strlen(val));
		return err;
	}
	if (!strcmp(opt, "--key-file")) {
		c->key_set = true;
		return read_key_file(val, &c->sa);
	}
	if (!strcmp(opt, "--icv")) {
		if (parse_u32(val, &v) || v > 255)
			return -EINVAL;
		c->sa.icv_bits = (uint8_t)v;
		return 0;
	}
	if (!strcmp(opt, "--replay"))
		return parse_u32(val, &c->sa.replay_window);
	if (!strcmp(opt, "--mark"))
		return parse_mark(val, &c->sa.mark, &c->sa.mark_mask);
	if (!strcmp(opt, "--soft-bytes"))
		return parse_u64(val, &l->soft_bytes);
	if (!strcmp(opt, "--hard-bytes"))
		return parse_u64(val, &l->hard_bytes);
	if (!strcmp(opt, "--soft-packets"))
		return parse_u64(val, &l->soft_packets);
	if (!strcmp(opt, "--hard-packets"))
		return parse_u64(val, &l->hard_packets);
	if (!strcmp(opt, "--soft-secs"))
		return parse_u64(val, &l->soft_secs);
	if (!strcmp(opt, "--hard-secs"))
		return parse_u64(val, &l->hard_secs);
	return -ENOENT;
}

static int policy_option(struct cmd *c, const char *opt, const char *val,
			 int *used)
{
	struct xfrm_policy *p = &c->pol;
	uint32_t v;

	*used = 1;
	if (!strcmp(opt, "--block")) {
		p->action = XFRM_BLOCK;
		*used = 0;
		return 0;
	}
	if (!strcmp(opt, "--dir"))
		return parse_dir(val, &p->dir);
	if (!strcmp(opt, "--proto"))
		return parse_proto(val, &p->sel.proto);
	if (!strcmp(opt, "--dport")) {
		if (parse_u32(val, &v) || v > 65535)
			return -EINVAL;
		p->sel.dport = (uint16_t)v;
		return 0;
	}
	if (!strcmp(opt, "--prio"))
		return parse_u32(val, &p->priority);
	if (!strcmp(opt, "--spi"))
		return parse_u32(val, &p->tmpl_spi);
	if (!strcmp(opt, "--mark"))
		return parse_mark(val, &p->mark, &p->mark_mask);
	return -ENOENT;
}

static int parse_options(struct cmd *c, int argc, char **argv, char *err,
			 size_t len)
{
	int i, used, r;

	for (i = 0; i < argc; i += 1 + used) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		used = 1;
		if (!strcmp(argv[i], "--reqid")) {
			if (parse_u32(val, &c->reqid))
				return bad(err, len, "bad --reqid", val);
			continue;
		}
		r = c->obj == OBJ_SA ? sa_option(c, argv[i], val, &used)
				     : policy_option(c, argv[i], val, &used);
		if (r == -ENOENT)
			return bad(err, len, "unknown option", argv[i]);
		if (r)
			return bad(err, len, argv[i],
				   !strncmp(argv[i], "--key", 5) ? "(hidden)"
								 : val);
	}
	return 0;
}

static int parse_sa_ids(struct cmd *c, char **pos, char *err, size_t len)
{
	int family;

	if (xfrm_ip_parse(pos[0], &c->sa.family, &c->sa.src))
		return bad(err, len, "bad source address", pos[0]);
	if (xfrm_ip_parse(pos[1], &family, &c->sa.dst) ||
	    family != c->sa.family)
		return bad(err, len, "bad destination address", pos[1]);
	if (parse_u32(pos[2], &c->sa.spi))
		return bad(err, len, "bad SPI", pos[2]);
	return 0;
}

static int parse_verb(const char *s, enum verb *v)
{
	static const char *const names[] = { "add", "update", "del",
					     "get", "dump",   "flush" };

	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*v = (enum verb)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Number of positional arguments each object/verb takes. */
static int positionals(const struct cmd *c)
{
	if (c->verb == V_DUMP || c->verb == V_FLUSH)
		return 0;
	if (c->obj == OBJ_SA)
		return 3;
	return c->verb == V_GET ? -1 : 2;
}

static int finish_cmd(struct cmd *c, char *err, size_t len)
{
	if (c->obj == OBJ_SA) {
		c->sa.reqid = c->reqid;
		if ((c->verb == V_ADD || c->verb == V_UPDATE) && !c->key_set)
			return bad(err, len, "an SA needs",
				   "--key or --key-file");
		if (c->verb == V_ADD || c->verb == V_UPDATE) {
			if (xfrm_sa_check(&c->sa))
				return bad(err, len,
					   "invalid SA (SPI >= 256, key "
					   "20/28/36 bytes, ICV 64/96/128, ESN "
					   "needs --replay 1..4096)",
					   "");
		}
		return 0;
	}
	c->pol.has_tmpl = c->reqid != 0;
	c->pol.tmpl_reqid = c->reqid;
	if (c->pol.tmpl_spi && !c->pol.has_tmpl)
		return bad(err, len, "--spi needs", "--reqid");
	if (c->verb != V_DUMP && c->verb != V_FLUSH &&
	    xfrm_policy_check(&c->pol))
		return bad(err, len,
			   "invalid policy (need --dir; --dport needs "
			   "--proto)",
			   "");
	return 0;
}

/* argv: "sa"|"policy" VERB POSITIONALS... OPTIONS... */
static int parse_cmd(int argc, char **argv, struct cmd *c, char *err,
		     size_t len)
{
	int npos, r;

	memset(c, 0, sizeof(*c));
	c->sa.icv_bits = 128;
	c->pol.dir = (enum xfrm_dir) - 1;
	if (argc < 2)
		return bad(err, len, "expected sa|policy VERB", argv[0]);
	if (!strcmp(argv[0], "sa"))
		c->obj = OBJ_SA;
	else if (!strcmp(argv[0], "policy"))
		c->obj = OBJ_POLICY;
	else
		return bad(err, len, "unknown object", argv[0]);
	if (parse_verb(argv[1], &c->verb))
		return bad(err, len, "unknown verb", argv[1]);
	npos = positionals(c);
	if (npos < 0)
		return bad(err, len, "policies have no 'get'", argv[1]);
	if (argc < 2 + npos)
		return bad(err, len, "missing arguments after", argv[1]);
	if (c->obj == OBJ_SA && npos)
		r = parse_sa_ids(c, argv + 2, err, len);
	else if (npos && (parse_prefix(argv[2], &c->pol.sel, false) ||
			  parse_prefix(argv[3], &c->pol.sel, true)))
		r = bad(err, len, "bad selector", argv[2]);
	else
		r = 0;
	if (!r)
		r = parse_options(c, argc - 2 - npos, argv + 2 + npos, err,
				  len);
	if (!r)
		r = finish_cmd(c, err, len);
	return r;
}

static void print_sa(const struct xfrm_sa *sa, const char *sep)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	printf("family=%s%ssrc=%s%sdst=%s%sspi=0x%08x%sreqid=%u%sesn=%d%s"
	       "replay_window=%u%sicv_bits=%u%skey_len=%u%smark=0x%x/0x%x%s"
	       "soft_bytes=%" PRIu64 "%shard_bytes=%" PRIu64 "%s"
	       "soft_packets=%" PRIu64 "%shard_packets=%" PRIu64 "%s"
	       "soft_secs=%" PRIu64 "%shard_secs=%" PRIu64 "%s"
	       "bytes=%" PRIu64 "%spackets=%" PRIu64 "%soseq=%" PRIu64 "%s"
	       "seq=%" PRIu64 "\n",
	       sa->family == AF_INET ? "inet" : "inet6", sep,
	       xfrm_ip_fmt(sa->family, &sa->src, s, sizeof(s)), sep,
	       xfrm_ip_fmt(sa->family, &sa->dst, d, sizeof(d)), sep, sa->spi,
	       sep, sa->reqid, sep, sa->esn, sep, sa->replay_window, sep,
	       sa->icv_bits, sep, sa->key_len, sep, sa->mark, sa->mark_mask,
	       sep, sa->lft.soft_bytes, sep, sa->lft.hard_bytes, sep,
	       sa->lft.soft_packets, sep, sa->lft.hard_packets, sep,
	       sa->lft.soft_secs, sep, sa->lft.hard_secs, sep, sa->stats.bytes,
	       sep, sa->stats.packets, sep, sa->stats.oseq, sep, sa->stats.seq);
}

static int dump_sa_cb(const struct xfrm_sa *sa, void *arg)
{
	(void)arg;
	print_sa(sa, " ");
	return 0;
}

static int dump_policy_cb(const struct xfrm_policy *p, void *arg)
{
	char desc[XFRM_DESC_MAX];

	(void)arg;
	printf("%s priority %u", xfrm_policy_describe(p, desc, sizeof(desc)),
	       p->priority);
	if (p->has_tmpl)
		printf(" tmpl reqid %u spi 0x%08x", p->tmpl_reqid, p->tmpl_spi);
	if (p->mark_mask)
		printf(" mark 0x%x/0x%x", p->mark, p->mark_mask);
	printf(" index %u\n", p->index);
	return 0;
}

/* The xfrm request of a verb that makes one: add, update, del. */
static bool verb_op(enum verb v, enum xfrm_op *op)
{
	switch (v) {
	case V_ADD:
		*op = XFRM_OP_ADD;
		return true;
	case V_UPDATE:
		*op = XFRM_OP_UPDATE;
		return true;
	case V_DEL:
		*op = XFRM_OP_DEL;
		return true;
	default:
		return false;
	}
}

static int run_sa(struct xfrm_sock *s, struct cmd *c)
{
	enum xfrm_op op;
	struct xfrm_sa got;
	int err;

	if (verb_op(c->verb, &op))
		return xfrm_sa_apply(s, op, &c->sa);
	switch (c->verb) {
	case V_GET:
		err = xfrm_sa_get(s, &c->sa, &got);
		if (!err)
			print_sa(&got, "\n");
		xfrm_sa_wipe(&got);
		return err;
	case V_DUMP:
		return xfrm_sa_dump(s, c->reqid, dump_sa_cb, NULL);
	case V_FLUSH:
		return xfrm_sa_flush(s);
	default:
		return -EINVAL;
	}
}

static int run_policy(struct xfrm_sock *s, struct cmd *c)
{
	enum xfrm_op op;

	if (verb_op(c->verb, &op))
		return xfrm_policy_apply(s, op, &c->pol);
	switch (c->verb) {
	case V_DUMP:
		return xfrm_policy_dump(s, c->reqid, dump_policy_cb, NULL);
	case V_FLUSH:
		return xfrm_policy_flush(s);
	default:
		return -EINVAL;
	}
}

static int run_one(int argc, char **argv)
{
	char err[256], desc[XFRM_DESC_MAX];
	struct xfrm_sock *s;
	struct cmd c;
	int r;

	if (parse_cmd(argc, argv, &c, err, sizeof(err))) {
		fprintf(stderr, "xfrmctl: %s (see --help)\n", err);
		return 2;
	}
	s = xfrm_sock_open(0);
	if (!s) {
		fprintf(stderr, "xfrmctl: netlink: %s\n", strerror(errno));
		xfrm_sa_wipe(&c.sa);
		return 1;
	}
	r = c.obj == OBJ_SA ? run_sa(s, &c) : run_policy(s, &c);
	if (r < 0)
		fprintf(stderr, "xfrmctl: %s %s: %s%s%s%s\n", argv[1],
			c.obj == OBJ_SA
				? xfrm_sa_describe(&c.sa, desc, sizeof(desc))
				: xfrm_policy_describe(&c.pol, desc,
						       sizeof(desc)),
			strerror(-r), *xfrm_sock_extack(s) ? " (" : "",
			xfrm_sock_extack(s), *xfrm_sock_extack(s) ? ")" : "");
	xfrm_sa_wipe(&c.sa);
	xfrm_sock_close(s);
	return r < 0 ? 1 : 0;
}

static int split(char *line, char **argv)
{
	int argc = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(line, " \t\r\n", &save); tok && argc < MAX_ARGS;
	     tok = strtok_r(NULL, " \t\r\n", &save))
		argv[argc++] = tok;
	return argc;
}

static int queue_cmd(struct xfrm_batch *b, struct cmd *c)
{
	enum xfrm_op op;

	if (!verb_op(c->verb, &op))
		return -EOPNOTSUPP;
	if (c->obj == OBJ_SA)
		return xfrm_batch_sa(b, op, &c->sa);
	return xfrm_batch_policy(b, op, &c->pol);
}

/* Reads every line into one batch; lines[i] is request i's line number. */
static int read_batch(FILE *f, struct xfrm_batch *b, unsigned int *lines,
		      size_t max)
{
	char line[1024], err[256], *argv[MAX_ARGS];
	unsigned int no = 0;
	struct cmd c;
	int argc, r, bad_lines = 0;

	while (fgets(line, sizeof(line), f)) {
		no++;
		argc = split(line, argv);
		if (!argc || argv[0][0] == '#')
			continue;
		r = parse_cmd(argc, argv, &c, err, sizeof(err));
		if (!r) {
			r = queue_cmd(b, &c);
			if (r == -EOPNOTSUPP)
				snprintf(err, sizeof(err),
					 "only add, update "
					 "and del can be batched");
			else if (r < 0)
				snprintf(err, sizeof(err), "%s", strerror(-r));
		}
		xfrm_sa_wipe(&c.sa);
		if (r < 0) {
			fprintf(stderr, "xfrmctl: line %u: %s\n", no, err);
			bad_lines++;
		} else if ((size_t)r < max) {
			lines[r] = no;
		}
	}
	explicit_bzero(line, sizeof(line));
	return bad_lines;
}

static int run_batch(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char desc[XFRM_DESC_MAX * 2];
	struct xfrm_batch *b = xfrm_batch_new();
	unsigned int *lines = calloc(1u << 20, sizeof(*lines));
	struct xfrm_sock *s = NULL;
	int r = 2;
	size_t i;

	if (!f || !b || !lines) {
		fprintf(stderr, "xfrmctl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (read_batch(f, b, lines, 1u << 20))
		goto out; /* nothing is sent when a line is wrong */
	r = 1;
	s = xfrm_sock_open(0);
	if (!s) {
		fprintf(stderr, "xfrmctl: netlink: %s\n", strerror(errno));
		goto out;
	}
	r = xfrm_batch_send(s, b);
	for (i = 0; i < xfrm_batch_count(b); i++) {
		if (!xfrm_batch_error(b, i))
			continue;
		fprintf(stderr, "xfrmctl: line %u: %s: %s%s%s%s\n", lines[i],
			xfrm_batch_describe(b, i, desc, sizeof(desc)),
			strerror(-xfrm_batch_error(b, i)),
			*xfrm_batch_extack(b, i) ? " (" : "",
			xfrm_batch_extack(b, i),
			*xfrm_batch_extack(b, i) ? ")" : "");
	}
	printf("batch: %zu requests, %zu failed\n", xfrm_batch_count(b),
	       xfrm_batch_failed(b));
	r = r ? 1 : 0;
out:
	if (f && f != stdin)
		fclose(f);
	free(lines);
	xfrm_batch_free(b);
	xfrm_sock_close(s);
	return r;
}

static const char *event_name(enum xfrm_event_type t)
{
	switch (t) {
	case XFRM_EVENT_SOFT_EXPIRE:
		return "soft-expire";
	case XFRM_EVENT_HARD_EXPIRE:
		return "hard-expire";
	case XFRM_EVENT_ACQUIRE:
		return "acquire";
	case XFRM_EVENT_LOST:
		return "lost";
	default:
		return "?";
	}
}

static void print_event(const struct xfrm_event *ev, void *arg)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	(*(unsigned long *)arg)++;
	if (ev->type == XFRM_EVENT_LOST) {
		printf("lost\n");
	} else {
		printf("%s spi=0x%08x src=%s dst=%s reqid=%u\n",
		       event_name(ev->type), ev->spi,
		       xfrm_ip_fmt(ev->family, &ev->src, s, sizeof(s)),
		       xfrm_ip_fmt(ev->family, &ev->dst, d, sizeof(d)),
		       ev->reqid);
	}
	fflush(stdout);
}

static int run_monitor(int argc, char **argv)
{
	uint32_t count = 0, secs = 0;
	unsigned long seen = 0;
	struct xfrm_sock *s;
	struct pollfd pfd;
	time_t end;
	int i, r;

	for (i = 0; i < argc; i += 2) {
		if (!strcmp(argv[i], "--count") &&
		    !parse_u32(argv[i + 1], &count))
			continue;
		if (!strcmp(argv[i], "--timeout") &&
		    !parse_u32(argv[i + 1], &secs))
			continue;
		fprintf(stderr, "xfrmctl: monitor: bad option '%s'\n", argv[i]);
		return 2;
	}
	s = xfrm_sock_open(XFRM_EV_EXPIRE | XFRM_EV_ACQUIRE);
	if (!s) {
		fprintf(stderr, "xfrmctl: netlink: %s\n", strerror(errno));
		return 1;
	}
	pfd = (struct pollfd){ .fd = xfrm_sock_fd(s), .events = POLLIN };
	end = secs ? time(NULL) + secs : 0;
	while (!count || seen < count) {
		if (end && time(NULL) >= end)
			break;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		r = xfrm_events_read(s, print_event, &seen);
		if (r < 0) {
			fprintf(stderr, "xfrmctl: events: %s\n", strerror(-r));
			break;
		}
	}
	xfrm_sock_close(s);
	return count && seen >= count ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "batch")) {
		if (argc != 3) {
			fprintf(stderr, "xfrmctl: batch takes one FILE or -\n");
			return 2;
		}
		return run_batch(argv[2]);
	}
	if (!strcmp(argv[1], "monitor"))
		return run_monitor(argc - 2, argv + 2);
	return run_one(argc - 1, argv + 1);
}
