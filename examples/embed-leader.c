// SPDX-License-Identifier: MIT
/* A control-plane daemon's loop with the vxsec leader embedded: libvxsec-keymgr's example. */

/*
 * Build against the installed library:
 *   cc -o embed-leader embed-leader.c $(pkg-config --cflags --libs vxsec-keymgr)
 * Run:
 *   embed-leader DIR [LISTEN [SECONDS]]
 * The leader keeps its state in DIR/state (a new cluster the first time)
 * and its control socket at DIR/ctl.sock, so that
 *   vxsec-keymgr -s DIR/ctl.sock status
 * talks to it. It listens on LISTEN (default 127.0.0.1:0: a port of the
 * kernel's choosing, written to DIR/state/listen). The host owns the
 * signals: SIGTERM or SIGINT, or SECONDS (0: no limit), end the loop, and
 * leader_free() saves and wipes. Exit: 0, or the leader's exit code.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <vxsec/leader.h>

static int configure(struct leader_config *c, const char *dir,
		     const char *listen)
{
	char path[PATH_MAX];
	struct why why = { "" };

	leader_config_defaults(c);
	snprintf(path, sizeof(path), "%s/state", dir);
	if (leader_config_set(c, "state_dir", path, &why))
		goto bad;
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	if (leader_config_set(c, "socket", path, &why) ||
	    leader_config_set(c, "listen", listen, &why))
		goto bad;
	return 0;
bad:
	fprintf(stderr, "embed-leader: %s\n", why.msg);
	return -1;
}

/* SIGTERM and SIGINT as a descriptor the host's loop polls. */
static int signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The host's loop: its own descriptors, and the leader's. */
static int serve(struct leader *l, int sig, double seconds)
{
	struct pollfd p[2] = { { .fd = sig, .events = POLLIN },
			       { .fd = leader_poll_fd(l), .events = POLLIN } };
	double end = now_s() + seconds;
	int err;

	for (;;) {
		/* at most 100 ms: the leader's rotation clock ticks */
		if (poll(p, 2, 100) < 0)
			return -1;
		if (p[0].revents & POLLIN) {
			fprintf(stderr, "embed-leader: signal, stopping\n");
			return 0;
		}
		err = leader_dispatch(l);
		if (err) {
			fprintf(stderr, "embed-leader: dispatch: %s\n",
				strerror(-err));
			return -1;
		}
		if (seconds > 0 && now_s() >= end)
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct why why = { "" };
	struct leader_config cfg;
	struct leader *l;
	int sig, code = LEADER_EXIT_OK;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: embed-leader DIR [LISTEN [SECONDS]]\n");
		return LEADER_EXIT_USAGE;
	}
	if (configure(&cfg, argv[1], argc > 2 ? argv[2] : "127.0.0.1:0"))
		return LEADER_EXIT_USAGE;
	sig = signals_fd();
	if (sig < 0) {
		perror("embed-leader: signalfd");
		return LEADER_EXIT_FAIL;
	}
	l = leader_new(&cfg, NULL, &code, &why);
	if (!l) {
		fprintf(stderr, "embed-leader: %s\n", why.msg);
		return code ? code : LEADER_EXIT_FAIL;
	}
	fprintf(stderr, "embed-leader: leader up, state in %s\n",
		cfg.state_dir);
	if (serve(l, sig, argc > 3 ? atof(argv[3]) : 0))
		code = LEADER_EXIT_FAIL;
	leader_free(l);
	close(sig);
	fprintf(stderr, "embed-leader: leader freed, exit %d\n", code);
	return code;
}
