// SPDX-License-Identifier: MIT
/* Process tests: vxsec-keymgr instances with store = etcd on a real 3-member etcd — election, takeover after kill -9, a paused leader that writes nothing, one etcd member lost, quorum lost and back. */
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

#include "common/json.h"
#include "common/loop.h"
#include "keymgr/etcd.h"
#include "keymgr/etcd_kv.h"
#include "tests/wire/etcd_fixture.h"
#include "tests/wire/probe.h"
#include "tests/wire/proc_util.h"
#include "tests/wire/run_cmd.h"

#define INSTANCES 3
#define OUT_MAX 8192

struct instance {
	char name[8], dir[96], sock[112], listen[32];
	pid_t pid;
};

static struct fixture {
	struct etcd_fixture ef; /* ef.top: the instances' directories */
	char prefix[16];
	int round;
	int ttl_s;	   /* the instances' lease */
	const char *flags; /* more flags for the instances */
	pid_t fa;	   /* fakeagents in the background, or -1 */
	struct instance in[INSTANCES];
	char out[OUT_MAX];
} fx;

/* The instance's status --json (into fx.out): 0 if it answered. */
static int status(const struct instance *in)
{
	return run_cmd(fx.out, sizeof(fx.out), "$KM -s %s status --json",
		       in->sock);
}

/* A number after "key": in fx.out, -1 if none. */
static long long field(const char *key)
{
	char pat[48];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(fx.out, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static bool role_is(const struct instance *in, const char *role)
{
	char pat[48];

	snprintf(pat, sizeof(pat), "\"role\":\"%s\"", role);
	return status(in) == 0 && strstr(fx.out, pat);
}

static void start(struct instance *in)
{
	char eps[160];

	snprintf(eps, sizeof(eps), "%s,%s,%s", fx.ef.client[0], fx.ef.client[1],
		 fx.ef.client[2]);
	in->pid = spawn("exec $KM -c /dev/null -d %s -s %s -l %s "
			"--store etcd --etcd-endpoints %s --etcd-prefix %s "
			"--lease-ttl %ds --instance %s --rotate-interval 1h "
			"--leaders %s,%s,%s %s run >>%s/log 2>&1",
			in->dir, in->sock, in->listen, eps, fx.prefix, fx.ttl_s,
			in->name, fx.in[0].listen, fx.in[1].listen,
			fx.in[2].listen, fx.flags, in->dir);
	assert_true(in->pid > 0);
}

/* The instance that leads (status says so) within secs, or NULL. */
static struct instance *leader_within(int secs)
{
	for (int t = 0; t < secs * 5; t++) {
		for (int i = 0; i < INSTANCES; i++)
			if (fx.in[i].pid > 0 && role_is(&fx.in[i], "leader"))
				return &fx.in[i];
		usleep(200000);
	}
	return NULL;
}

static bool becomes(struct instance *in, const char *role, int secs)
{
	for (int t = 0; t < secs * 5; t++) {
		if (role_is(in, role))
			return true;
		usleep(200000);
	}
	return false;
}

/* A, alone, seeds etcd; B and C get its state key and stand by. */
static struct instance *three_up(void)
{
	struct instance *a = &fx.in[0], *l;
	char cmd[512];

	start(a);
	l = leader_within(20);
	assert_ptr_equal(l, a);
	for (int i = 1; i < INSTANCES; i++) {
		snprintf(cmd, sizeof(cmd),
			 "cp %s/state.key %s/ && chmod 600 "
			 "%s/state.key",
			 a->dir, fx.in[i].dir, fx.in[i].dir);
		assert_int_equal(system(cmd), 0);
		start(&fx.in[i]);
		assert_true(becomes(&fx.in[i], "standby", 10));
	}
	return a;
}

/* etcd's revision now (a read through our own client). */
struct rev_ctx {
	int64_t rev;
	bool done;
};

static void on_rev(void *arg, int err, int st, const char *body, size_t len,
		   const struct why *w)
{
	struct rev_ctx *c = arg;
	struct json_doc doc;
	struct etcd_header h = { 0 };
	struct why why = { "" };

	(void)w;
	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	if (!err && !etcd_reply_open(&doc, st, body, len, &h, &why))
		c->rev = h.revision;
	json_doc_cleanup(&doc);
	c->done = true;
}

/* etcd's status at endpoint i: this member's id and its leader's. */
struct member_ctx {
	char me[32], leader[32];
	bool done;
};

static void on_status(void *arg, int err, int st, const char *body, size_t len,
		      const struct why *w)
{
	struct member_ctx *c = arg;
	struct json_doc doc;
	struct why why = { "" };
	int h, m, l;

	(void)w;
	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	if (!err && st == 200 && !json_parse(&doc, body, len, &why)) {
		h = json_get(&doc, 0, "header");
		m = h >= 0 ? json_get(&doc, h, "member_id") : -1;
		l = json_get(&doc, 0, "leader");
		if (m >= 0 && l >= 0) {
			json_string(&doc, m, c->me, sizeof(c->me));
			json_string(&doc, l, c->leader, sizeof(c->leader));
		}
	}
	json_doc_cleanup(&doc);
	c->done = true;
}

/* A member that is not etcd's raft leader (losing it costs no election). */
static size_t etcd_follower(void)
{
	for (size_t i = 0; i < fx.ef.n; i++) {
		const char *ep[1] = { fx.ef.endpoints[i] };
		struct etcd_config cfg = { ep, 1, 2000, NULL };
		struct loop *l = loop_new();
		struct why why = { "" };
		struct etcd *e = etcd_new(l, &cfg, &why);
		struct member_ctx c = { "", "", false };

		assert_non_null(e);
		assert_int_equal(etcd_post(e, "/v3/maintenance/status", "{}", 2,
					   on_status, &c),
				 0);
		for (int t = 0; t < 100 && !c.done; t++)
			loop_run_once(l, 100);
		etcd_free(e);
		loop_free(l);
		if (c.me[0] && c.leader[0] && strcmp(c.me, c.leader) != 0)
			return i;
	}
	fail_msg("no etcd member says it follows another");
	return 0;
}

static int64_t etcd_revision(void)
{
	struct etcd_config cfg = { fx.ef.endpoints, fx.ef.n, 2000, NULL };
	struct loop *l = loop_new();
	struct why why = { "" };
	struct etcd *e = etcd_new(l, &cfg, &why);
	struct rev_ctx c = { -1, false };

	assert_non_null(e);
	assert_int_equal(etcd_post(e, "/v3/kv/range", "{\"key\":\"eA==\"}", 14,
				   on_rev, &c),
			 0);
	for (int i = 0; i < 100 && !c.done; i++)
		loop_run_once(l, 100);
	etcd_free(e);
	loop_free(l);
	assert_true(c.rev > 0);
	return c.rev;
}

/* Fresh instances (directories, ports) under a fresh prefix. */
static int setup_case(void **state)
{
	(void)state;
	snprintf(fx.prefix, sizeof(fx.prefix), "/ha%d/", ++fx.round);
	fx.ttl_s = 5; /* the default: a loaded machine outlives it */
	fx.flags = "";
	for (int i = 0; i < INSTANCES; i++) {
		struct instance *in = &fx.in[i];
		char cmd[256], top[sizeof(fx.ef.top)], dir[sizeof(in->dir)];

		/* from copies: the compiler sees every field inside fx */
		memcpy(top, fx.ef.top, sizeof(top));
		snprintf(in->name, sizeof(in->name), "%c", 'a' + i);
		snprintf(dir, sizeof(dir), "%s/%d%c", top, fx.round, 'a' + i);
		memcpy(in->dir, dir, sizeof(dir));
		snprintf(in->sock, sizeof(in->sock), "%s/sock", dir);
		snprintf(in->listen, sizeof(in->listen), "127.0.0.1:%d",
			 etcd_fixture_free_port());
		snprintf(cmd, sizeof(cmd), "mkdir -p -m 700 %s", in->dir);
		if (system(cmd))
			return -1;
		in->pid = -1;
	}
	return 0;
}

static int teardown_case(void **state)
{
	(void)state;
	stop(&fx.fa, SIGKILL);
	for (int i = 0; i < INSTANCES; i++)
		stop(&fx.in[i].pid, SIGKILL);
	for (size_t i = 0; i < fx.ef.n; i++)
		if (fx.ef.pid[i] < 0)
			etcd_fixture_restart(&fx.ef, i);
	return etcd_fixture_ready(&fx.ef, 30) ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	if (env_bin("KM", "../vxsec-keymgr") || env_bin("FA", "fakeagents"))
		return -1;
	return etcd_fixture_start(&fx.ef, 3);
}

static int teardown(void **state)
{
	(void)state;
	return etcd_fixture_stop(&fx.ef);
}

/*
 * One leads, two stand by (and refuse commands); kill -9 the leader:
 * another leads with a newer term at the same revision; the old one,
 * restarted, stands by.
 */
static void test_takeover(void **state)
{
	struct instance *a, *b, *s;
	long long term, rev;
	char token[256], want[128];

	(void)state;
	a = three_up();
	assert_int_equal(status(a), 0);
	term = field("term");
	rev = field("revision");
	assert_true(term > 0 && rev > 0);
	s = a == &fx.in[1] ? &fx.in[2] : &fx.in[1];
	assert_int_not_equal(
		run_cmd(fx.out, sizeof(fx.out), "$KM -s %s rotate", s->sock),
		0);
	assert_non_null(strstr(fx.out, "is a standby, not the leader"));
	/* a standby names the leader and its term */
	snprintf(want, sizeof(want),
		 "ask %s, which leads (term %lld, agents at %s)", a->name, term,
		 a->listen);
	assert_non_null(strstr(fx.out, want));
	/* a new token, answered once etcd has it */
	assert_int_equal(run_cmd(fx.out, sizeof(fx.out), "$KM -s %s token show",
				 a->sock),
			 0);
	snprintf(token, sizeof(token), "%.200s", fx.out);
	snprintf(want, sizeof(want), "\nleader = %s,%s,%s", fx.in[0].listen,
		 fx.in[1].listen, fx.in[2].listen);
	assert_non_null(strstr(fx.out, want)); /* the agents' list */
	assert_int_equal(run_cmd(fx.out, sizeof(fx.out),
				 "$KM -s %s token rotate", a->sock),
			 0);
	assert_string_not_equal(fx.out, token);
	snprintf(token, sizeof(token), "%.200s", fx.out);

	stop(&a->pid, SIGKILL);
	b = leader_within(20);
	assert_non_null(b);
	assert_ptr_not_equal(b, a);
	assert_int_equal(status(b), 0);
	assert_true(field("term") > term);
	assert_true(field("revision") >= rev);
	assert_int_equal(run_cmd(fx.out, sizeof(fx.out), "$KM -s %s token show",
				 b->sock),
			 0);
	assert_string_equal(fx.out, token); /* the token survived */
	start(a);
	assert_true(becomes(a, "standby", 10));
	/* a standby from its start; it knows the leader once it campaigns */
	snprintf(want, sizeof(want),
		 "\"leader\":\"%s\",\"leader_listen\":\"%s\"", b->name,
		 b->listen);
	for (int t = 0; t < 50 && !(status(a) == 0 && strstr(fx.out, want));
	     t++)
		usleep(200000);
	assert_non_null(strstr(fx.out, want));
	assert_true(field("term") > term);
	/* the new leader rotates: its commits go through */
	assert_int_equal(
		run_cmd(fx.out, sizeof(fx.out), "$KM -s %s rotate", b->sock),
		0);
	for (int i = 0;
	     i < 50 && (status(b) || field("transmit_generation") < 2); i++)
		usleep(200000);
	assert_int_equal(field("transmit_generation"), 2);
}

/*
 * A leader paused past its lease: another takes over; resumed, the old
 * one stands by and etcd's revision shows it wrote nothing.
 */
static void test_paused(void **state)
{
	struct instance *a, *b;
	int64_t before;

	(void)state;
	a = three_up();
	kill(a->pid, SIGSTOP);
	b = leader_within(20);
	assert_non_null(b);
	assert_ptr_not_equal(b, a);
	/* The new leader's first commits are done: the revision holds still
	 * for a second (under load they can take more than a second). */
	before = etcd_revision();
	for (int i = 0; i < 10; i++) {
		int64_t now;

		sleep(1);
		now = etcd_revision();
		if (now == before)
			break;
		before = now;
	}
	kill(a->pid, SIGCONT);
	assert_true(becomes(a, "standby", 10));
	sleep(2);
	assert_int_equal(etcd_revision(), before);
	assert_ptr_equal(leader_within(1), b);
}

/*
 * One etcd member lost (a follower: losing etcd's own raft leader makes
 * etcd elect another, a second or more under load, which a lease may or
 * may not outlive): the leader keeps its term and its 10 agents; quorum
 * lost: it stands by, no instance rotates; quorum back: one leads again
 * at the same revision, the agents resync with it, rotate once and hold
 * the same keys (--verify).
 */
static void test_quorum(void **state)
{
	struct instance *a, *l;
	long long term, rev;
	char token[256], synced[128], go[128], out[128];
	size_t f;

	(void)state;
	a = three_up();
	assert_int_equal(status(a), 0);
	term = field("term");
	rev = field("revision");
	/* 10 agents in sync; their failover "command" waits for "go" */
	assert_int_equal(run_cmd(fx.out, sizeof(fx.out),
				 "$KM -s %s token show | head -n 1", a->sock),
			 0);
	snprintf(token, sizeof(token), "%.200s", fx.out);
	token[strcspn(token, "\n")] = '\0';
	snprintf(synced, sizeof(synced), "%s/synced", fx.ef.top);
	snprintf(go, sizeof(go), "%s/go", fx.ef.top);
	snprintf(out, sizeof(out), "%s/fa.out", fx.ef.top);
	fx.fa = spawn(
		"exec $FA --leader %s,%s,%s --token %s -n 10 --timeout 240 "
		"--failover-after-sync 'touch %s; while [ ! -e %s ]; do "
		"sleep 0.1; done' --rotations 1 --rotate-cmd 'for s in %s "
		"%s %s; do $KM -s $s rotate >/dev/null 2>&1 && exit 0; "
		"done; exit 1' --verify >%s 2>&1",
		fx.in[0].listen, fx.in[1].listen, fx.in[2].listen, token,
		synced, go, fx.in[0].sock, fx.in[1].sock, fx.in[2].sock, out);
	assert_true(wait_file(out, "failover: running the command", 60));

	f = etcd_follower();
	etcd_fixture_kill(&fx.ef, f);
	sleep(11); /* more than twice the lease */
	assert_true(role_is(a, "leader"));
	assert_int_equal(field("term"), term);
	assert_int_equal(field("connected"), 10);

	etcd_fixture_kill(&fx.ef, (f + 1) % fx.ef.n);
	assert_true(becomes(a, "standby", 30));
	assert_int_equal(status(a), 0);
	assert_non_null(strstr(fx.out, "\"role\":\"standby\""));
	/* no instance rotates without etcd */
	for (int i = 0; i < INSTANCES; i++)
		assert_int_not_equal(run_cmd(fx.out, sizeof(fx.out),
					     "$KM -s %s rotate", fx.in[i].sock),
				     0);
	assert_int_equal(etcd_fixture_restart(&fx.ef, f), 0);
	assert_int_equal(etcd_fixture_restart(&fx.ef, (f + 1) % fx.ef.n), 0);
	l = leader_within(60);
	assert_non_null(l);
	assert_int_equal(status(l), 0);
	assert_true(field("term") > term);
	assert_true(field("revision") >= rev);
	/* the agents find it, resync, rotate once with it and agree */
	assert_int_equal(run_cmd(fx.out, sizeof(fx.out), "touch %s", go), 0);
	assert_int_equal(wait_exit(&fx.fa, 120), 0);
	assert_true(file_has(out, "failover: 10 agents in sync"));
	assert_int_equal(status(l), 0);
	assert_int_equal(field("transmit_generation"), 2);
}

/*
 * 20 agents in sync; a rotation; the leader killed in phase (the commit
 * phase lasts one round trip on loopback: there the agents hold their
 * commit acks 3 s, fakeagents --hold-commit, for ha_phase.sh to see it
 * and kill): another
 * leads, the rotation it found in etcd completes, one more follows, and
 * every agent holds the same keys (fakeagents --verify); generation 2
 * (the interrupted one) and 3 (the next) were each issued once.
 */
static void kill_in(const char *phase, const char *fa_flags)
{
	struct instance *a, *l;
	char token[256], cmd[2048];

	fx.flags = "--grace 3s --ack-deadline 60s";
	a = three_up();
	assert_int_equal(run_cmd(fx.out, sizeof(fx.out),
				 "$KM -s %s token show | head -n 1", a->sock),
			 0);
	snprintf(token, sizeof(token), "%.200s", fx.out);
	token[strcspn(token, "\n")] = '\0';
	snprintf(cmd, sizeof(cmd),
		 "$FA --leader %s,%s,%s --token %s -n 20 --timeout 120 %s "
		 "--failover-after-sync 'exec tests/wire/ha_phase.sh $KM %s %d "
		 "%s' "
		 "--rotations 1 --rotate-cmd 'for s in %s %s %s; do $KM -s $s "
		 "rotate >/dev/null 2>&1 && exit 0; done; exit 1' --verify",
		 fx.in[0].listen, fx.in[1].listen, fx.in[2].listen, token,
		 fa_flags, a->sock, (int)a->pid, phase, fx.in[0].sock,
		 fx.in[1].sock, fx.in[2].sock);
	assert_int_equal(run_cmd(fx.out, sizeof(fx.out), "%s", cmd), 0);
	assert_non_null(strstr(fx.out, "failover: 20 agents in sync"));
	a->pid = -1; /* killed by ha_phase.sh */
	l = leader_within(10);
	assert_non_null(l);
	/* the rotation to 3 asked after the failover ends on the leader */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(status(l), 0);
		if (strstr(fx.out, "\"rotation\":{\"phase\":\"idle\""))
			break;
		usleep(200000);
	}
	if (field("transmit_generation") != 3) /* what each instance did */
		for (int i = 0; i < INSTANCES; i++)
			(void)run_cmd(fx.out, sizeof(fx.out),
				      "grep -h -i -e rotation -e generation "
				      "-e lead -e term %s/log | tail -n 25",
				      fx.in[i].dir);
	assert_int_equal(status(l), 0);
	assert_int_equal(field("transmit_generation"), 3);
	assert_int_equal(count(fx.out, "\"generation\":"), 1);
}

static void test_kill_in_prepare(void **state)
{
	(void)state;
	kill_in("prepare", "");
}

static void test_kill_in_commit(void **state)
{
	(void)state;
	kill_in("commit", "--hold-commit 3000");
}

static void test_kill_in_grace(void **state)
{
	(void)state;
	kill_in("grace", "");
}

/* start() under systemd: $NOTIFY_SOCKET a datagram socket of ours. */
static int start_notified(struct instance *in)
{
	char path[sizeof(in->dir) + 8];
	int fd;

	snprintf(path, sizeof(path), "%s/notify", in->dir);
	fd = probe_notify_bind(path);
	setenv("NOTIFY_SOCKET", path, 1);
	start(in);
	unsetenv("NOTIFY_SOCKET");
	return fd;
}

/*
 * Type=notify with store = etcd: the first instance says READY=1 once it
 * campaigns, then STATUS= the leader's line once elected; a second one,
 * while the first leads, says READY=1 as a standby (a standby unit is
 * up: it is ready to take over) and its STATUS= says standby and the
 * election's state; each says READY=1 once, and STOPPING=1 at the end.
 */
static void test_notify(void **state)
{
	struct instance *a = &fx.in[0], *b = &fx.in[1];
	char la[4096] = "", lb[4096] = "", cmd[512];
	int fa, fb;

	(void)state;
	fa = start_notified(a);
	assert_true(
		probe_notify_wait(fa, "READY=1\nSTATUS=", 10, la, sizeof(la)));
	assert_true(probe_notify_wait(fa, "STATUS=leader: 0 members", 20, la,
				      sizeof(la)));
	assert_ptr_equal(leader_within(5), a);
	snprintf(cmd, sizeof(cmd),
		 "cp %s/state.key %s/ && chmod 600 %s/state.key", a->dir,
		 b->dir, b->dir);
	assert_int_equal(system(cmd), 0);
	fb = start_notified(b);
	assert_true(probe_notify_wait(fb, "READY=1\nSTATUS=standby (term ", 10,
				      lb, sizeof(lb)));
	assert_true(probe_notify_wait(fb, "election standby: not serving", 10,
				      lb, sizeof(lb)));
	assert_true(role_is(b, "standby"));
	assert_true(role_is(a, "leader"));
	stop(&b->pid, SIGTERM);
	assert_true(probe_notify_wait(fb, "STOPPING=1", 5, lb, sizeof(lb)));
	stop(&a->pid, SIGTERM);
	assert_true(probe_notify_wait(fa, "STOPPING=1", 5, la, sizeof(la)));
	assert_int_equal(count(la, "READY=1"), 1);
	assert_int_equal(count(lb, "READY=1"), 1);
	assert_int_equal(count(lb, "STATUS=leader"), 0);
	close(fa);
	close(fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notify, setup_case,
						teardown_case),
		cmocka_unit_test_setup_teardown(test_takeover, setup_case,
						teardown_case),
		cmocka_unit_test_setup_teardown(test_paused, setup_case,
						teardown_case),
		cmocka_unit_test_setup_teardown(test_quorum, setup_case,
						teardown_case),
		cmocka_unit_test_setup_teardown(test_kill_in_prepare,
						setup_case, teardown_case),
		cmocka_unit_test_setup_teardown(test_kill_in_commit, setup_case,
						teardown_case),
		cmocka_unit_test_setup_teardown(test_kill_in_grace, setup_case,
						teardown_case),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
