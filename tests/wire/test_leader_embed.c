// SPDX-License-Identifier: MIT
/* The leader embedded in a host's own poll loop, through keymgr/leader.h: its operations and events. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "keymgr/leader.h"
#include "tests/wire/etcd_fixture.h"
#include "tests/wire/proc_util.h"

static char bin[512]; /* where this test and fakeagents live */

static void set(struct leader_config *c, const char *k, const char *v)
{
	struct why why = { "" };

	assert_int_equal(leader_config_set(c, k, v, &why), 0);
}

/* A host loop: poll the leader's fd, dispatch, until the child ends. */
static int serve_until(struct leader *l, pid_t child)
{
	struct pollfd p = { .fd = leader_poll_fd(l), .events = POLLIN };
	int st;

	for (int i = 0; i < 600; i++) { /* 60 s at most */
		poll(&p, 1, 100);
		assert_int_equal(leader_dispatch(l), 0);
		if (waitpid(child, &st, WNOHANG) == child)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return -1;
}

/* What the host's callbacks saw. */
struct seen {
	int n[LEADER_EVENT_ROLE + 1];
	enum leader_rotation_phase phases[32];
	size_t n_phases;
	char removed[LEADER_NODE_ID_MAX + 1];
	char disconnected[LEADER_NODE_ID_MAX + 1];
	int save_error;
	uint64_t incarnation;
	enum leader_role role;
	int64_t term;
	int done, done_err;
};

static struct seen seen;

static void on_event(struct leader *l, const struct leader_event *ev, void *arg)
{
	assert_ptr_equal(arg, &seen);
	assert_non_null(l);
	assert_true(ev->size >= sizeof(*ev));
	if (ev->type < 1 || ev->type > LEADER_EVENT_ROLE)
		return;
	seen.n[ev->type]++;
	if (ev->type == LEADER_EVENT_ROTATION && seen.n_phases < 32)
		seen.phases[seen.n_phases++] = ev->phase;
	if (ev->type == LEADER_EVENT_MEMBER_REMOVED)
		snprintf(seen.removed, sizeof(seen.removed), "%s", ev->node);
	if (ev->type == LEADER_EVENT_MEMBER_DISCONNECTED)
		snprintf(seen.disconnected, sizeof(seen.disconnected), "%s",
			 ev->node);
	if (ev->type == LEADER_EVENT_SAVE_FAILED)
		seen.save_error = ev->error;
	if (ev->type == LEADER_EVENT_MEMBER_INCARNATION)
		seen.incarnation = ev->incarnation;
	if (ev->type == LEADER_EVENT_ROLE)
		seen.role = ev->role, seen.term = ev->term;
	if (ev->type >= LEADER_EVENT_MEMBER_JOINED &&
	    ev->type <= LEADER_EVENT_MEMBER_REMOVED) {
		assert_non_null(ev->node);
		assert_true(ev->index >= 1);
		assert_true(ev->incarnation >= 1);
	}
}

static void on_done(struct leader *l, int err, void *arg)
{
	assert_non_null(l);
	assert_ptr_equal(arg, &seen);
	seen.done++;
	seen.done_err = err;
}

/* Dispatches until *count reaches want (false after secs). */
static bool serve_for(struct leader *l, const int *count, int want, int secs)
{
	struct pollfd p = { .fd = leader_poll_fd(l), .events = POLLIN };

	for (int i = 0; i < secs * 10 && *count < want; i++) {
		poll(&p, 1, 100);
		assert_int_equal(leader_dispatch(l), 0);
	}
	if (*count < want)
		print_message("waited %d s for %d, have %d\n", secs, want,
			      *count);
	return *count >= want;
}

/* Dispatches until every member acked the cluster's revision. */
static bool settle(struct leader *l, int secs)
{
	struct leader_status st = { .size = sizeof(st) };
	struct pollfd p = { .fd = leader_poll_fd(l), .events = POLLIN };

	for (int i = 0; i < secs * 10; i++) {
		struct leader_members *m = leader_members_new(l);
		size_t behind = 0;

		assert_non_null(m);
		assert_int_equal(leader_status_get(l, &st), 0);
		for (size_t k = 0; k < leader_members_count(m); k++)
			behind += leader_members_at(m, k)->acked_revision <
				  st.revision;
		leader_members_free(m);
		if (!behind)
			return true;
		poll(&p, 1, 100);
		assert_int_equal(leader_dispatch(l), 0);
	}
	print_message("the members never acked revision %llu\n",
		      (unsigned long long)st.revision);
	return false;
}

/* A new folder (dir, a mkdtemp template): the state and control socket
 * in it, listening on 127.0.0.1:0. */
static void configure(char *dir, struct leader_config *c)
{
	char p[256];

	assert_non_null(mkdtemp(dir));
	leader_config_defaults(c);
	snprintf(p, sizeof(p), "%s/state", dir);
	set(c, "state_dir", p);
	snprintf(p, sizeof(p), "%s/ctl.sock", dir);
	set(c, "socket", p);
	set(c, "listen", "127.0.0.1:0");
}

/* A leader on 127.0.0.1:0 in a new folder, grace 0, our callbacks. */
static struct leader *embed(char *dir, const char *extra_key,
			    const char *extra_val)
{
	struct why why = { "" };
	struct leader_config c;
	struct leader *l;
	int code;

	configure(dir, &c);
	set(&c, "grace", "0s");
	if (extra_key)
		set(&c, extra_key, extra_val);
	l = leader_new(&c, NULL, &code, &why);
	if (!l)
		print_message("leader_new: %s\n", why.msg);
	assert_non_null(l);
	assert_int_equal(code, 0);
	memset(&seen, 0, sizeof(seen));
	leader_events_set(l, on_event, &seen);
	return l;
}

static void listen_addr(const char *dir, char *addr, size_t len)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/state/listen", dir);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(addr, (int)len, f));
	addr[strcspn(addr, "\n")] = '\0';
	fclose(f);
}

static pid_t sh(const char *cmd)
{
	pid_t child = fork();

	if (child == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	assert_true(child > 0);
	return child;
}

static void rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The control socket's rotate while three agents run: their joins,
 * sessions and the rotation's phases reach the host's callback. */
static void test_embedded_leader_rotates(void **state)
{
	char dir[] = "/tmp/vxsec-embed-XXXXXX", addr[64], cmd[2048];
	struct leader *l;
	pid_t child;

	(void)state;
	l = embed(dir, NULL, NULL);
	listen_addr(dir, addr, sizeof(addr));
	/* The operator's commands and three agents, in another process. */
	snprintf(cmd, sizeof(cmd),
		 "KM=%s/../vxsec-keymgr; S=%s/ctl.sock; "
		 "T=$($KM -s $S token show) && %s/fakeagents --leader %s "
		 "--token $T -n 3 --rotations 1 --rotate-cmd \"$KM -s $S "
		 "rotate\" --verify --timeout 50",
		 bin, dir, bin, addr);
	child = sh(cmd);
	assert_int_equal(serve_until(l, child), 0);
	assert_int_equal(seen.n[LEADER_EVENT_MEMBER_JOINED], 3);
	assert_true(seen.n[LEADER_EVENT_MEMBER_CONNECTED] >= 3);
	assert_true(
		serve_for(l, &seen.n[LEADER_EVENT_MEMBER_DISCONNECTED], 3, 10));
	/* the first generation at start, then the operator's rotation */
	assert_true(seen.n_phases >= 3);
	assert_int_equal(seen.phases[seen.n_phases - 3],
			 LEADER_ROTATION_PREPARE);
	assert_int_equal(seen.phases[seen.n_phases - 2],
			 LEADER_ROTATION_COMMIT);
	assert_int_equal(seen.phases[seen.n_phases - 1], LEADER_ROTATION_IDLE);
	assert_int_equal(seen.n[LEADER_EVENT_SAVE_FAILED], 0);
	leader_free(l);
	rm_rf(dir);
}

/* Status and members as structs, with two agents holding sessions. */
static void check_view(struct leader *l)
{
	struct leader_status st = { .size = sizeof(st) };
	struct leader_status tiny = { .size = sizeof(size_t) };
	struct leader_members *m;
	const struct leader_member *a;

	assert_int_equal(leader_status_get(l, &tiny), -EINVAL);
	assert_int_equal(leader_status_get(l, &st), 0);
	assert_int_equal(st.size, sizeof(st));
	assert_int_equal(st.role, LEADER_ROLE_SOLE);
	assert_true(st.serving);
	assert_int_equal(st.members, 2);
	assert_int_equal(st.connected, 2);
	assert_true(st.state_saved);
	assert_int_equal(st.transmit_generation, 1);
	assert_int_equal(st.rotation, LEADER_ROTATION_IDLE);
	assert_int_equal(strncmp(st.listen, "127.0.0.1:", 10), 0);
	/* since 0.3: the store; nothing of etcd */
	assert_int_equal(st.store, LEADER_STORE_FILE);
	assert_string_equal(st.instance, "");
	assert_string_equal(st.leader, "");
	assert_int_equal(st.n_etcd_endpoints, 0);
	assert_int_equal(st.etcd_commits, 0);
	m = leader_members_new(l);
	assert_non_null(m);
	assert_int_equal(leader_members_count(m), 2);
	assert_null(leader_members_at(m, 2));
	a = leader_members_at(m, 0);
	/* The two agents join at once: either may get index 1. */
	assert_true(strcmp(a->id, "node-00001") == 0 ||
		    strcmp(a->id, "node-00002") == 0);
	assert_int_equal(a->index, 1);
	assert_int_equal(a->incarnation, 1);
	assert_int_equal(a->state, LEADER_MEMBER_CONNECTED);
	assert_int_equal(a->n_underlay, 1);
	assert_int_equal(strncmp(a->underlay[0], "127.16.", 7), 0);
	assert_int_equal(strlen(a->key), LEADER_KEY_FPR_LEN - 1);
	assert_true(a->acked_revision > 0);
	assert_string_not_equal(leader_members_at(m, 1)->id, a->id);
	assert_int_equal(strncmp(leader_members_at(m, 1)->id, "node-0000", 9),
			 0);
	assert_int_equal(leader_members_at(m, 1)->index, 2);
	leader_members_free(m);
}

/* A rotation the host asks for: refused never here; done from a later
 * dispatch, then the phases; the status counts it. */
static void check_rotate(struct leader *l)
{
	struct leader_status st = { .size = sizeof(st) };
	struct why why = { "" };
	size_t phases = seen.n_phases;
	int events = seen.n[LEADER_EVENT_ROTATION];

	seen.done = 0;
	assert_int_equal(leader_rotate(l, on_done, &seen, &why), 0);
	assert_int_equal(seen.done, 0); /* never from inside the call */
	assert_true(serve_for(l, &seen.done, 1, 5));
	assert_int_equal(seen.done_err, 0);
	assert_true(
		serve_for(l, &seen.n[LEADER_EVENT_ROTATION], events + 3, 20));
	assert_int_equal(seen.phases[phases], LEADER_ROTATION_PREPARE);
	assert_int_equal(seen.phases[phases + 1], LEADER_ROTATION_COMMIT);
	assert_int_equal(seen.phases[phases + 2], LEADER_ROTATION_IDLE);
	assert_int_equal(leader_status_get(l, &st), 0);
	assert_int_equal(st.transmit_generation, 2);
	assert_int_equal(st.rotations, 1);
}

/* token show, token rotate: a new secret, the old one gone. */
static void check_token(struct leader *l)
{
	struct why why = { "" };
	char *t1 = NULL, *t2 = NULL, old[256];

	assert_int_equal(leader_token_show(l, &t1, &why), 0);
	assert_int_equal(strncmp(t1, "VXSEC-1-", 8), 0);
	snprintf(old, sizeof(old), "%s", t1);
	leader_secret_free(t1);
	seen.done = 0;
	assert_int_equal(leader_token_rotate(l, on_done, &seen, &why), 0);
	assert_true(serve_for(l, &seen.done, 1, 5));
	assert_int_equal(seen.done_err, 0);
	assert_int_equal(leader_token_show(l, &t2, &why), 0);
	assert_string_not_equal(t2, old);
	leader_secret_free(t2);
	leader_secret_free(NULL);
}

/* remove: refusals as the command's, then the node dropped and told. */
static void check_remove(struct leader *l)
{
	struct why why = { "" };
	struct leader_members *m;
	size_t i;

	assert_int_equal(
		leader_member_remove(l, "node-09999", on_done, &seen, &why),
		-ENOENT);
	assert_non_null(strstr(why.msg, "not a member"));
	seen.done = 0;
	seen.n[LEADER_EVENT_MEMBER_DISCONNECTED] = 0;
	assert_int_equal(
		leader_member_remove(l, "node-00002", on_done, &seen, &why), 0);
	assert_true(serve_for(l, &seen.done, 1, 5));
	assert_int_equal(seen.done_err, 0);
	assert_int_equal(seen.n[LEADER_EVENT_MEMBER_REMOVED], 1);
	assert_string_equal(seen.removed, "node-00002");
	assert_true(
		serve_for(l, &seen.n[LEADER_EVENT_MEMBER_DISCONNECTED], 1, 5));
	assert_string_equal(seen.disconnected, "node-00002");
	assert_int_equal(
		leader_member_remove(l, "node-00002", NULL, NULL, &why),
		-EPERM);
	m = leader_members_new(l);
	assert_non_null(m);
	/* in join order, which was either */
	i = strcmp(leader_members_at(m, 0)->id, "node-00002") == 0 ? 0 : 1;
	assert_string_equal(leader_members_at(m, i)->id, "node-00002");
	assert_int_equal(leader_members_at(m, i)->state, LEADER_MEMBER_REMOVED);
	assert_int_equal(leader_members_at(m, 1 - i)->state,
			 LEADER_MEMBER_CONNECTED);
	leader_members_free(m);
}

/* Without autolock: no unlock key to show; a rotation says the file. */
static void check_unlock(struct leader *l)
{
	struct why why = { "" };
	char *t = (char *)"x";

	assert_int_equal(leader_unlock_key_show(l, &t, &why), -ENOKEY);
	assert_null(t);
	assert_non_null(strstr(why.msg, "autolock is off"));
	assert_int_equal(leader_unlock_key_rotate(l, &t, &why), 0);
	assert_non_null(strstr(t, "state.key"));
	leader_secret_free(t);
}

/*
 * A leader (embed()) and, in a child, sh -c of script with $F (the
 * fakeagents program), $L (the leader's address), $T (its join token,
 * from leader_token_show) and $D (the folder).
 */
static struct leader *embed_agents(char *dir, const char *script, pid_t *child)
{
	char addr[64], cmd[2048];
	struct why why = { "" };
	char *token = NULL;
	struct leader *l = embed(dir, NULL, NULL);

	listen_addr(dir, addr, sizeof(addr));
	assert_int_equal(leader_token_show(l, &token, &why), 0);
	snprintf(cmd, sizeof(cmd), "F=%s/fakeagents L=%s T=%s D=%s; %s", bin,
		 addr, token, dir, script);
	leader_secret_free(token);
	*child = sh(cmd);
	memset(cmd, 0, sizeof(cmd));
	return l;
}

static void test_operations(void **state)
{
	char dir[] = "/tmp/vxsec-embed-XXXXXX";
	struct leader *l;
	pid_t child;

	(void)state;
	l = embed_agents(dir,
			 "exec $F --leader $L --token $T -n 2 --hold "
			 "--timeout 50 >$D/agents.log 2>&1",
			 &child);
	assert_true(serve_for(l, &seen.n[LEADER_EVENT_MEMBER_JOINED], 2, 30));
	assert_true(
		serve_for(l, &seen.n[LEADER_EVENT_MEMBER_CONNECTED], 2, 30));
	assert_true(settle(l, 20));
	check_view(l);
	check_rotate(l);
	check_token(l);
	check_remove(l);
	check_unlock(l);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	leader_free(l);
	rm_rf(dir);
}

/* The state directory replaced by a file: the host's rotate is refused
 * with the save's error, the failure is an event; back, saves resume. */
static void test_save_failure(void **state)
{
	char dir[] = "/tmp/vxsec-embed-XXXXXX", sd[256], moved[256];
	struct leader_status st = { .size = sizeof(st) };
	struct why why = { "" };
	struct leader *l;
	int fd;

	(void)state;
	l = embed(dir, NULL, NULL);
	snprintf(sd, sizeof(sd), "%s/state", dir);
	snprintf(moved, sizeof(moved), "%s/moved", dir);
	assert_int_equal(rename(sd, moved), 0);
	fd = open(sd, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_true(leader_rotate(l, on_done, &seen, &why) < 0);
	assert_non_null(strstr(why.msg, "cannot save"));
	assert_int_equal(seen.n[LEADER_EVENT_SAVE_FAILED], 1);
	assert_int_equal(seen.save_error, -ENOTDIR);
	assert_int_equal(leader_status_get(l, &st), 0);
	assert_false(st.state_saved);
	assert_int_equal(st.save_error, -ENOTDIR);
	/* refused at once while saves fail */
	assert_int_equal(leader_token_rotate(l, NULL, NULL, &why) < 0, 1);
	assert_int_equal(unlink(sd), 0);
	assert_int_equal(rename(moved, sd), 0);
	assert_true(serve_for(l, &seen.n[LEADER_EVENT_SAVED], 1, 5));
	assert_int_equal(leader_status_get(l, &st), 0);
	assert_true(st.state_saved);
	assert_int_equal(seen.done, 0); /* a refused change is never told */
	leader_free(l);
	rm_rf(dir);
}

/* With autolock: show gives the unlock key init printed, which
 * leader_unlock_key_parse() turns into the key that opens the state; a
 * rotation gives a new one, which opens it, and the old one no more. */
static void test_unlock_key(void **state)
{
	char dir[] = "/tmp/vxsec-embed-XXXXXX",
	     unlock[LEADER_UNLOCK_TEXT_LEN + 1];
	uint8_t *key = NULL, *old = NULL;
	struct why why = { "" };
	struct leader_config c;
	struct leader *l;
	char *t = NULL;
	int code;

	(void)state;
	configure(dir, &c);
	set(&c, "autolock", "yes");
	assert_int_equal(
		leader_init_state(&c, NULL, 0, unlock, sizeof(unlock), &why),
		0);
	assert_int_equal(strlen(unlock), LEADER_UNLOCK_TEXT_LEN);
	assert_int_equal(leader_unlock_key_parse(unlock, &old, &why), 0);
	assert_non_null(old);
	assert_null(leader_new(&c, NULL, &code, &why)); /* locked */
	assert_int_equal(code, LEADER_EXIT_STATE);
	l = leader_new(&c, old, &code, &why);
	assert_non_null(l);
	assert_int_equal(leader_unlock_key_show(l, &t, &why), 0);
	assert_string_equal(t, unlock);
	leader_secret_free(t);
	assert_int_equal(leader_unlock_key_rotate(l, &t, &why), 0);
	assert_string_not_equal(t, unlock);
	assert_int_equal(leader_unlock_key_parse(t, &key, &why), 0);
	assert_memory_not_equal(key, old, LEADER_UNLOCK_KEY_LEN);
	leader_secret_free(t);
	leader_free(l);
	assert_null(leader_new(&c, old, &code, &why)); /* the old key: no */
	assert_int_equal(code, LEADER_EXIT_STATE);
	l = leader_new(&c, key, &code, &why); /* the new key opens it */
	if (!l)
		print_message("leader_new: %s\n", why.msg);
	assert_non_null(l);
	leader_free(l);
	leader_unlock_key_free(key);
	leader_unlock_key_free(old);
	leader_unlock_key_free(NULL);
	rm_rf(dir);
}

/* The text as a host keeps it: case and white space do not matter; bad
 * text is refused with its reason, which never quotes it, and no key. */
static void test_unlock_key_parse(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "empty" },
		{ " \n", "empty" },
		{ "VXSEC-1-AAAA-BBBB", "this is a join token" },
		{ "unlock key: VXSEC-UNLOCK-AAAA", "does not begin with" },
		{ "VXSEC-UNLOCK-"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		  "not 48" },
		{ "VXSEC-UNLOCK-"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		  "not 53" },
		{ "VXSEC-UNLOCK-"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA0AAAAAAA",
		  "character 45 after VXSEC-UNLOCK- is not base32" },
		{ "VXSEC-UNLOCK-"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
		  "last character cannot end a 32-byte key" },
		{ NULL, "no text" },
	};
	char dir[] = "/tmp/vxsec-embed-XXXXXX",
	     unlock[LEADER_UNLOCK_TEXT_LEN + 1];
	char text[LEADER_UNLOCK_TEXT_LEN + 16];
	uint8_t *key = (uint8_t *)"x", *again = NULL;
	struct why why = { "" };
	struct leader_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why.msg[0] = '\0';
		key = (uint8_t *)"x";
		assert_int_equal(
			leader_unlock_key_parse(bad[i].text, &key, &why),
			-EINVAL);
		assert_null(key);
		if (!strstr(why.msg, bad[i].why))
			fail_msg("\"%s\": \"%s\" lacks \"%s\"",
				 bad[i].text ? bad[i].text : "(null)", why.msg,
				 bad[i].why);
		assert_null(strstr(why.msg, "AAAA"));
	}
	/* a real key, as init prints it, then lower case in white space */
	configure(dir, &c);
	set(&c, "autolock", "yes");
	assert_int_equal(
		leader_init_state(&c, NULL, 0, unlock, sizeof(unlock), &why),
		0);
	assert_int_equal(leader_unlock_key_parse(unlock, &key, &why), 0);
	snprintf(text, sizeof(text), "\t %s \r\n", unlock);
	for (char *p = text; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	assert_int_equal(leader_unlock_key_parse(text, &again, NULL), 0);
	assert_memory_equal(key, again, LEADER_UNLOCK_KEY_LEN);
	leader_unlock_key_free(again);
	/* one character changed, still base32: another key, refused by
	 * the state (there is no checksum) */
	snprintf(text, sizeof(text), "%s", unlock);
	text[20] = text[20] == 'A' ? 'B' : 'A';
	assert_int_equal(leader_unlock_key_parse(text, &again, &why), 0);
	assert_memory_not_equal(key, again, LEADER_UNLOCK_KEY_LEN);
	{
		int code;

		assert_null(leader_new(&c, again, &code, &why));
		assert_int_equal(code, LEADER_EXIT_STATE);
	}
	leader_unlock_key_free(again);
	leader_unlock_key_free(key);
	rm_rf(dir);
}

/* An agent that comes back with another boot id (a second fakeagents
 * run with the first one's certificate): a new incarnation, then its
 * session. */
static void test_incarnation(void **state)
{
	char dir[] = "/tmp/vxsec-embed-XXXXXX";
	struct leader *l;
	pid_t child;

	(void)state;
	l = embed_agents(dir,
			 "mkdir $D/certs && $F --leader $L --token $T -n 1 "
			 "--certs $D/certs --timeout 20 && $F --leader $L "
			 "--token $T -n 1 --certs $D/certs --timeout 20",
			 &child);
	assert_int_equal(serve_until(l, child), 0);
	assert_int_equal(seen.n[LEADER_EVENT_MEMBER_JOINED], 1);
	assert_int_equal(seen.n[LEADER_EVENT_MEMBER_INCARNATION], 1);
	assert_int_equal(seen.incarnation, 2);
	assert_int_equal(seen.n[LEADER_EVENT_MEMBER_CONNECTED], 2);
	leader_free(l);
	rm_rf(dir);
}

/* store = etcd on a real etcd: the role changes as events; a change's
 * done comes once etcd holds it; what etcd cannot do is refused. */
static void test_etcd(void **state)
{
	char dir[] = "/tmp/vxsec-embed-XXXXXX", *t = NULL;
	struct leader_status st = { .size = sizeof(st) };
	struct etcd_fixture ef;
	struct why why = { "" };
	struct leader_config c;
	struct leader *l;
	int code;

	(void)state;
	memset(&ef, 0, sizeof(ef));
	assert_int_equal(etcd_fixture_start(&ef, 1), 0);
	configure(dir, &c);
	set(&c, "store", "etcd");
	set(&c, "etcd_endpoints", ef.client[0]);
	set(&c, "instance", "embedded");
	set(&c, "grace", "0s");
	l = leader_new(&c, NULL, &code, &why);
	if (!l)
		print_message("leader_new: %s\n", why.msg);
	assert_non_null(l);
	memset(&seen, 0, sizeof(seen));
	leader_events_set(l, on_event, &seen);
	assert_int_equal(leader_status_get(l, &st), 0);
	assert_int_equal(st.role, LEADER_ROLE_STANDBY);
	assert_int_equal(leader_rotate(l, on_done, &seen, &why), -EAGAIN);
	assert_non_null(strstr(why.msg, "not the leader"));
	assert_true(serve_for(l, &seen.n[LEADER_EVENT_ROLE], 2, 30));
	assert_int_equal(seen.role, LEADER_ROLE_LEADING);
	assert_true(seen.term > 0);
	assert_int_equal(leader_status_get(l, &st), 0);
	assert_true(st.serving);
	assert_int_equal(st.term, seen.term);
	assert_int_equal(leader_rotate(l, on_done, &seen, &why), 0);
	assert_int_equal(seen.done, 0);
	assert_true(serve_for(l, &seen.done, 1, 10));
	assert_int_equal(seen.done_err, 0);
	/* since 0.3: etcd as status --json shows it, this instance leading */
	assert_int_equal(leader_status_get(l, &st), 0);
	assert_int_equal(st.store, LEADER_STORE_ETCD);
	assert_string_equal(st.instance, "embedded");
	assert_string_equal(st.leader, "embedded");
	assert_string_equal(st.leader_listen, st.listen);
	assert_string_equal(st.election, "leader");
	assert_int_equal(st.n_etcd_endpoints, 1);
	assert_string_equal(st.etcd_endpoint, ef.client[0]);
	assert_string_equal(st.etcd_prefix, "/vxsec/");
	assert_int_equal(st.lease_ttl_s, 5);
	assert_true(st.etcd_commits >= 1); /* at least the rotation asked */
	assert_int_equal(st.etcd_failures, 0);
	assert_true(st.etcd_revision > 0);
	assert_int_equal(leader_token_rotate(l, on_done, &seen, &why), 0);
	assert_true(serve_for(l, &seen.done, 2, 10));
	assert_int_equal(seen.done_err, 0);
	assert_int_equal(leader_unlock_key_rotate(l, &t, &why), -EOPNOTSUPP);
	assert_null(t);
	/* one not confirmed yet: leader_free tells it, cancelled */
	assert_int_equal(leader_rotate(l, on_done, &seen, &why), 0);
	leader_free(l);
	assert_int_equal(seen.done, 3);
	assert_int_equal(seen.done_err, -ECANCELED);
	assert_int_equal(etcd_fixture_stop(&ef), 0);
	rm_rf(dir);
}

/* Dispatches until the status says st->leader is who (false after secs). */
static bool sees_leader(struct leader *l, struct leader_status *st,
			const char *who, int secs)
{
	struct pollfd p = { .fd = leader_poll_fd(l), .events = POLLIN };

	for (int i = 0; i < secs * 10; i++) {
		assert_int_equal(leader_status_get(l, st), 0);
		if (strcmp(st->leader, who) == 0)
			return true;
		poll(&p, 1, 100);
		assert_int_equal(leader_dispatch(l), 0);
	}
	print_message("after %d s the leader seen is \"%s\", not %s\n", secs,
		      st->leader, who);
	return false;
}

/*
 * store = etcd, embedded as a standby: a vxsec-keymgr process leads; the
 * status says so (its name, where agents reach it, its term) and refuses
 * the host's changes; the process stops, the embedded one takes over.
 */
static void test_etcd_standby(void **state)
{
	char dir[] = "/tmp/vxsec-embed-XXXXXX", pdir[64], cmd[2048];
	char listen[32], pstatus[1024];
	struct leader_status st = { .size = sizeof(st) };
	struct etcd_fixture ef;
	struct why why = { "" };
	struct leader_config c;
	struct leader *l;
	pid_t proc;
	int code, i;

	(void)state;
	memset(&ef, 0, sizeof(ef));
	assert_int_equal(etcd_fixture_start(&ef, 1), 0);
	configure(dir, &c);
	snprintf(pdir, sizeof(pdir), "%s/proc", dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d",
		 etcd_fixture_free_port());
	snprintf(cmd, sizeof(cmd),
		 "mkdir -m 700 %s && exec %s/../vxsec-keymgr -c /dev/null -d "
		 "%s -s %s/sock -l %s --store etcd --etcd-endpoints %s "
		 "--instance proc run >%s/log 2>&1",
		 pdir, bin, pdir, pdir, listen, ef.client[0], dir);
	proc = sh(cmd);
	snprintf(pstatus, sizeof(pstatus),
		 "%s/../vxsec-keymgr -s %s/sock status --json 2>/dev/null | "
		 "grep -q '\"role\":\"leader\"'",
		 bin, pdir);
	for (i = 0; i < 150 && system(pstatus) != 0; i++)
		usleep(200000);
	assert_true(i < 150);
	/* the cluster's state key, as every instance holds it */
	snprintf(cmd, sizeof(cmd),
		 "mkdir -m 700 %s/state && cp -p %s/state.key %s/state/", dir,
		 pdir, dir);
	assert_int_equal(system(cmd), 0);
	set(&c, "store", "etcd");
	set(&c, "etcd_endpoints", ef.client[0]);
	set(&c, "instance", "embedded");
	l = leader_new(&c, NULL, &code, &why);
	if (!l)
		print_message("leader_new: %s\n", why.msg);
	assert_non_null(l);
	memset(&seen, 0, sizeof(seen));
	leader_events_set(l, on_event, &seen);
	assert_true(sees_leader(l, &st, "proc", 20));
	assert_int_equal(st.role, LEADER_ROLE_STANDBY);
	assert_false(st.serving);
	assert_int_equal(st.store, LEADER_STORE_ETCD);
	assert_string_equal(st.instance, "embedded");
	assert_string_equal(st.leader_listen, listen);
	assert_true(st.term > 0);
	assert_string_equal(st.election, "standby");
	assert_string_equal(st.etcd_endpoint, ef.client[0]);
	assert_int_equal(st.lease_ttl_s, 5);
	assert_int_equal(st.etcd_commits, 0);
	assert_int_equal(leader_rotate(l, on_done, &seen, &why), -EAGAIN);
	assert_non_null(strstr(why.msg, "ask proc, which leads"));
	assert_null(leader_members_new(l));
	assert_int_equal(errno, EAGAIN);
	/* the process stops (it resigns): this one leads, a newer term */
	stop(&proc, SIGTERM);
	assert_true(sees_leader(l, &st, "embedded", 30));
	assert_true(serve_for(l, &seen.n[LEADER_EVENT_ROLE], 2, 30));
	assert_int_equal(leader_status_get(l, &st), 0);
	assert_int_equal(st.role, LEADER_ROLE_LEADING);
	assert_string_equal(st.leader_listen, st.listen);
	assert_true(st.term > 0);
	leader_free(l);
	assert_int_equal(etcd_fixture_stop(&ef), 0);
	rm_rf(dir);
}

/* A change not told yet is told by leader_free (its result). */
static void test_free_tells(void **state)
{
	char dir[] = "/tmp/vxsec-embed-XXXXXX";
	struct why why = { "" };
	struct leader *l;

	(void)state;
	l = embed(dir, NULL, NULL);
	assert_int_equal(leader_rotate(l, on_done, &seen, &why), 0);
	assert_int_equal(seen.done, 0);
	leader_free(l);
	assert_int_equal(seen.done, 1);
	assert_int_equal(seen.done_err, 0);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* first: a host parses its key before any leader_new() */
		cmocka_unit_test(test_unlock_key_parse),
		cmocka_unit_test(test_embedded_leader_rotates),
		cmocka_unit_test(test_operations),
		cmocka_unit_test(test_save_failure),
		cmocka_unit_test(test_unlock_key),
		cmocka_unit_test(test_incarnation),
		cmocka_unit_test(test_etcd),
		cmocka_unit_test(test_etcd_standby),
		cmocka_unit_test(test_free_tells),
	};
	ssize_t n = readlink("/proc/self/exe", bin, sizeof(bin) - 1);

	if (n <= 0)
		return 1;
	bin[n] = '\0';
	*strrchr(bin, '/') = '\0';
	return cmocka_run_group_tests_name("leader_embed", tests, NULL, NULL);
}
