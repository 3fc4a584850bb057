// SPDX-License-Identifier: MIT
/* vxsec-keymgr on loopback with faulty state directories: missing files, FIFOs, crash leftovers, a full disk. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/wire/leader_fixture.h"

static bool mounted, can_mount;

static void read_file(const char *p, char *buf, size_t len)
{
	FILE *f = fopen(p, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void put(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The tmpfs goes before the folder it is mounted in. */
static int teardown(void **state)
{
	leader_stop();
	if (mounted)
		umount2(path("disk"), MNT_DETACH);
	mounted = false;
	return leader_teardown(state);
}

/* ---- a state directory that is not what it should be ---- */

/*
 * A state file gone next to its key and CA: run and init refuse, say
 * which file is missing and which are there, and overwrite nothing.
 * Before, both created a new cluster over the CA and the key.
 */
static void test_missing_state_refused(void **state)
{
	char ca[8192], key[64], after[8192], out[4096];

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	stop(&leader, SIGTERM);
	read_file(spath("ca.pem"), ca, sizeof(ca));
	read_file(spath("state.key"), key, sizeof(key));
	assert_int_equal(unlink(spath("state")), 0);
	assert_int_equal(start_leader("", 10), 3);
	assert_true(file_has(path("leader.log"),
			     "has no state file but holds state.key, ca.pem"));
	assert_true(file_has(path("leader.log"), "refusing to create"));
	assert_int_equal(run_cmd(out, sizeof(out), KM " -d %s init", sdir), 1);
	assert_non_null(strstr(out, "has no state file but holds state.key"));
	assert_int_equal(access(spath("state"), F_OK), -1);
	read_file(spath("ca.pem"), after, sizeof(after));
	assert_string_equal(after, ca);
	read_file(spath("state.key"), after, sizeof(after));
	assert_memory_equal(after, key, 32);
	/* A CA alone is enough to refuse. */
	assert_int_equal(unlink(spath("state.key")), 0);
	assert_int_equal(run_cmd(out, sizeof(out), KM " -d %s init", sdir), 1);
	assert_non_null(strstr(out, "holds ca.pem of a cluster"));
}

/*
 * run with autolock on an empty directory: refused, nothing created (its
 * unlock key would have nowhere to go; init --autolock prints it). Before,
 * it failed with "No space left on device" from the unlock key's text.
 */
static void test_autolock_run_refused(void **state)
{
	(void)state;
	assert_int_equal(start_leader("--autolock", 10), 3);
	assert_true(file_has(path("leader.log"),
			     "holds no state, and autolock = yes: create the "
			     "cluster with \"vxsec-keymgr init --autolock\""));
	assert_int_equal(access(spath("ca.pem"), F_OK), -1);
	assert_int_equal(access(spath("state"), F_OK), -1);
}

/*
 * init as root in a directory the service's user owns (as the packages
 * make it): the new files are that user's, so its leader can read them.
 * Before, they stayed root's and the service's first start failed
 * ("state file ...: Permission denied"; found by the systemd lab).
 */
static void test_root_init_gives_files_to_owner(void **state)
{
	static const char *const files[] = { "ca.pem", "state", "state.key" };
	char out[4096];
	struct stat st;

	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: chown needs root (make check runs as "
			      "root)\n");
		skip();
	}
	assert_int_equal(mkdir(sdir, 0700), 0);
	assert_int_equal(chown(sdir, 65534, 65534), 0);
	assert_int_equal(run_cmd(out, sizeof(out), KM " -d %s init", sdir), 0);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(stat(spath(files[i]), &st), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
	}
}

/* A FIFO where a file the leader reads belongs: refused, not a hang. */
static void fifo_refused(const char *name, const char *says)
{
	assert_int_equal(start_leader("", 10), 0);
	stop(&leader, SIGTERM);
	assert_int_equal(unlink(spath(name)), 0);
	assert_int_equal(mkfifo(spath(name), 0600), 0);
	assert_int_equal(start_leader("", 10), 3);
	assert_true(file_has(path("leader.log"), says));
}

static void test_fifo_state_refused(void **state)
{
	(void)state;
	fifo_refused("state", "state/state is not a regular file");
}

static void test_fifo_key_refused(void **state)
{
	(void)state;
	fifo_refused("state.key", "state.key: not a regular file");
}

static void test_fifo_ca_refused(void **state)
{
	(void)state;
	fifo_refused("ca.pem", "ca.pem is not a regular file");
}

/* What a kill -9 during a save left is wiped at the next start. */
static void test_temp_files_removed(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(start_leader("", 10), 0);
	stop(&leader, SIGTERM);
	read_file(spath("state"), out, sizeof(out));
	put(spath("state.tmp.4242"), "an old, decryptable state");
	put(spath("ca.pem.tmp.0123456789abcdef"), "half a CA");
	assert_int_equal(start_leader("", 10), 0);
	assert_int_equal(access(spath("state.tmp.4242"), F_OK), -1);
	assert_int_equal(access(spath("ca.pem.tmp.0123456789abcdef"), F_OK),
			 -1);
	assert_true(file_has(path("leader.log"),
			     "removed 2 temporary files a crash left"));
}

/* ---- a full disk ---- */

/*
 * The state directory on a tmpfs of its own, in this test's mount
 * namespace (main): nothing stays mounted if the test dies. The leader's
 * state is a few KiB; fill() takes every page left, unfill() gives them
 * back.
 */
static bool small_disk(void)
{
	if (!can_mount) {
		print_message("SKIP: a full disk needs root and a mount "
			      "namespace (unshare CLONE_NEWNS) for its "
			      "tmpfs\n");
		return false;
	}
	assert_int_equal(mkdir(path("disk"), 0700), 0);
	assert_int_equal(mount("vxsec-disk", path("disk"), "tmpfs", 0,
			       "size=1m,mode=0700"),
			 0);
	mounted = true;
	snprintf(sdir, sizeof(sdir), "%s/disk/state", dir);
	return true;
}

static void fill(void)
{
	char out[512];

	run_cmd(out, sizeof(out), "dd if=/dev/zero of=%s bs=4k",
		path("disk/filler"));
	assert_non_null(strstr(out, "No space left on device"));
}

static void unfill(void)
{
	assert_int_equal(unlink(path("disk/filler")), 0);
}

/*
 * Rotations fall due while nothing can be saved: the leader holds still
 * (says so in status and metrics), drops nobody, and rotates once it can
 * save. Before, the rotation ran in memory, nothing of it was sent, and
 * every agent was dropped at the ack deadline.
 */
static void test_full_disk_holds_rotation(void **state)
{
	char out[8192];

	(void)state;
	if (!small_disk())
		skip();
	assert_int_equal(
		start_leader("--rotate-interval 2s --ack-deadline 1s", 10), 0);
	start_agents("-n 2 --verify", "agents.log");
	assert_true(wait_file(path("agents.log"), "holding:", 60));
	fill();
	assert_true(wait_ctl("status --json", "\"state_saved\":false", 10));
	sleep(4); /* two intervals and a deadline, at least */
	assert_false(file_has(path("leader.log"), "no acknowledgement"));
	assert_true(wait_ctl("status --json", "\"connected\":2", 1));
	assert_true(wait_ctl("status", "NOT SAVED", 1));
	assert_true(wait_ctl("status", "holding", 1));
	assert_true(wait_ctl("metrics", "vxsec_keymgr_state_saved 0", 1));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s status --json", sock), 0);
	assert_non_null(strstr(out, "\"save_error\":\"No space left"));
	unfill();
	assert_true(wait_ctl("status --json", "\"state_saved\":true", 10));
	assert_true(wait_ctl("status --json", "\"completed\":3", 20));
	assert_true(wait_ctl("metrics", "vxsec_keymgr_state_saved 1", 1));
	assert_false(file_has(path("leader.log"), "no acknowledgement"));
	assert_true(wait_ctl("status --json", "\"connected\":2", 1));
	assert_true(file_has(path("leader.log"), "state saved again"));
}

/*
 * remove under a full disk: refused, the node stays a member and its
 * agent hears nothing. Before, the agent was told it was removed (and
 * deleted its keys) while the removal was in memory only.
 */
static void test_full_disk_remove(void **state)
{
	char out[4096];

	(void)state;
	if (!small_disk())
		skip();
	assert_int_equal(start_leader("", 10), 0);
	start_agents("-n 3", "agents.log");
	assert_true(wait_file(path("agents.log"), "holding:", 60));
	assert_true(wait_ctl("status --json", "\"connected\":3", 10));
	fill();
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s remove node-00002", sock),
		1);
	assert_non_null(strstr(out, "cannot save"));
	assert_non_null(strstr(out, "not removed"));
	assert_int_equal(run_cmd(out, sizeof(out), KM " -s %s rotate", sock),
			 1);
	assert_non_null(strstr(out, "cannot save"));
	sleep(1);
	assert_false(file_has(path("agents.log"), "removed"));
	assert_true(
		wait_ctl("status --json", "\"members\":3,\"connected\":3", 1));
	unfill();
	assert_true(wait_ctl("status --json", "\"state_saved\":true", 10));
	assert_int_equal(
		run_cmd(out, sizeof(out), KM " -s %s remove node-00002", sock),
		0);
	assert_true(wait_file(path("agents.log"), "node-00002: removed", 10));
	assert_true(wait_ctl("status --json", "\"members\":2", 10));
}

/*
 * A join whose answer could not be saved, then given up by its agent,
 * must not make the id "already a member"; one while the leader cannot
 * save is refused with that reason. Both join once the disk has room.
 */
static void test_full_disk_join(void **state)
{
	char out[8192];

	(void)state;
	if (!small_disk())
		skip();
	assert_int_equal(start_leader("", 10), 0);
	assert_true(wait_ctl("status --json", "\"state_saved\":true", 10));
	fill();
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 1 --timeout 3",
				 listen_at, token),
			 1);
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 1 --first 2 "
				    "--timeout 10",
				 listen_at, token),
			 1);
	assert_non_null(strstr(out, "cannot save its state"));
	unfill();
	assert_true(wait_ctl("status --json", "\"state_saved\":true", 10));
	assert_int_equal(run_cmd(out, sizeof(out),
				 FA " --leader %s --token %s -n 2 --timeout 20",
				 listen_at, token),
			 0);
	assert_null(strstr(out, "already a member"));
}

/* A full disk at start is named as such, not as a listening problem. */
static void test_full_disk_at_start(void **state)
{
	(void)state;
	if (!small_disk())
		skip();
	assert_int_equal(start_leader("", 10), 0);
	stop(&leader, SIGTERM);
	unlink(spath("listen")); /* its page would make room for the next */
	fill();
	assert_int_equal(start_leader("", 10), 1);
	assert_true(file_has(path("leader.log"), "listen: No space left"));
	assert_false(file_has(path("leader.log"), "cannot listen on"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, leader_setup, teardown)
		T(test_missing_state_refused),
		T(test_fifo_state_refused),
		T(test_fifo_key_refused),
		T(test_fifo_ca_refused),
		T(test_temp_files_removed),
		T(test_full_disk_holds_rotation),
		T(test_full_disk_remove),
		T(test_full_disk_join),
		T(test_full_disk_at_start),
		T(test_autolock_run_refused),
		T(test_root_init_gives_files_to_owner),
#undef T
	};

	if (leader_fixture_init("disk", "--grace 0s"))
		return 1;
	/* Our own mount namespace: a tmpfs of a failed test goes with us. */
	can_mount = geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	return cmocka_run_group_tests_name("keymgr_disk", tests, NULL, NULL);
}
