/* SPDX-License-Identifier: MIT */
/* The leader process tests' fixture: a folder per case, vxsec-keymgr on loopback, fake agents, polling its control socket. */
#ifndef VXSEC_TEST_LEADER_FIXTURE_H
#define VXSEC_TEST_LEADER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

#include "tests/wire/proc_util.h"
#include "tests/wire/run_cmd.h"

/* Shell variables set by leader_fixture_init() from where this test
 * binary lives, so a sanitizer build tests its own leader and tools. */
#define KM "$KM"
#define FA "$FA"
#define FLOOD "$FLOOD"
#define WIRECLI "$WIRECLI"

/*
 * The case's folder; the leader's state directory (<dir>/state unless
 * the case moves it); its control socket; where it listens (address and
 * port, and the port alone) and its join token, once it listens.
 */
extern char dir[64], sdir[128], sock[128], listen_at[64], port[8], token[256];
extern pid_t leader, agents;

/* <dir>/name and <sdir>/name (each four at a time). */
char *path(const char *name);
char *spath(const char *name);

/*
 * Once, in main(): cases make their folders as /tmp/vxsec-<name>-XXXXXX
 * and every leader runs with opts before its own options; $KM, $FA,
 * $FLOOD and $WIRECLI set, SIGPIPE ignored. 0, or -1.
 */
int leader_fixture_init(const char *name, const char *opts);

/* Each case: a fresh folder; at the end the agents and the leader
 * stopped (leader_stop) and the folder removed. */
int leader_setup(void **state);
void leader_stop(void);
int leader_teardown(void **state);

/*
 * Starts the leader on sdir with extra options: 0 once it listens, its
 * exit code if it exits within secs. If it does neither by then: -1 (it
 * is left running for the teardown).
 */
int start_leader(const char *extra, int secs);

/* Fake agents in the background, holding their sessions; output in
 * <dir>/log. */
void start_agents(const char *args, const char *log);

/* Polls `vxsec-keymgr <cmd>` on the control socket until its output
 * holds needle (false after secs). */
bool wait_ctl(const char *cmd, const char *needle, int secs);

#endif
