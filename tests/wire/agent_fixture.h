/* SPDX-License-Identifier: MIT */
/* The agent process tests' fixture: a fresh network namespace per case, the leader, the agent, fake peers, status polling. */
#ifndef VXSEC_TEST_AGENT_FIXTURE_H
#define VXSEC_TEST_AGENT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <cmocka.h>

#include "tests/wire/proc_util.h"
#include "tests/wire/run_cmd.h"

/* Shell variables set by fixture_env() from where this test binary
 * lives, so a sanitizer build tests its own agent, leader and fake
 * agents. */
#define AG "$AG"
#define KM "$KM"
#define FA "$FA"

/* The agent's own underlay address: loopback, inside the namespace. */
#define SELF "127.0.0.2"
#define REQID "reqid 30328" /* the agent's default */

/* The case's folder ($D), where the leader listens, its join token and
 * the token's secret. */
extern char dir[64], listen_at[64], token[256], secret[128];
extern char why_not[160]; /* set when the namespace cases cannot run */
extern pid_t leader, agent, fakes;

/* <dir>/name (four at a time). */
char *path(const char *name);

/* The namespace cases run as root only: they say so, loudly, and skip. */
#define NEED_NETNS()                                                         \
	do {                                                                 \
		if (why_not[0]) {                                            \
			fprintf(stderr, "SKIP %s: %s\n", __func__, why_not); \
			skip();                                              \
		}                                                            \
	} while (0)

/* `vxsec-agent status`: its exit code, its output in out. */
int status(char *out, size_t len, const char *args);

/*
 * This node's static key fingerprint as `status --json` shows it (44
 * base64 characters), into fpr[45]; false if it shows none.
 */
bool own_fingerprint(char fpr[45]);

/* Polls `status --json` until it holds needle (false after secs). */
bool wait_status(const char *needle, int secs);

/* A new cluster (`init`), its leader on 127.0.0.1 (a port it picks),
 * with extra options. */
void start_leader_with(const char *extra);
void start_leader(void);

/* The agent in the background as agent-1; extra options before "run". */
void start_agent(const char *extra, const char *log);

/* Leader, and agent-1 joined with the token: connected and in sync. */
void join_agent(void);

/* ... and two fake agents (127.16.0.2, 127.16.0.3) holding sessions. */
void join_with_peers(void);

/* Lines of an `ip xfrm` listing that name our reqid. */
size_t ours(const char *what, char *out, size_t len);

/* Whether this kernel takes an ESP SA (the host: no; the VM lab: yes). */
bool have_esp(void);

/* Each case: a fresh folder and, as root, a fresh network namespace. */
int setup(void **state);
int teardown(void **state);

/* $AG, $KM, $FA: the binaries next to this test binary's build; SIGPIPE
 * ignored. 0, or -1. */
int fixture_env(void);

#endif
