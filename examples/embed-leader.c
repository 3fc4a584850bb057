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
 * leader_free() saves and wipes. SIGUSR1 asks for a key rotation
 * (leader_rotate: its end is logged when the state holds it), SIGHUP
 * logs the status and the members (leader_status_get,
 * leader_members_new). Members joining, leaving and coming back, each
 * rotation phase and each failed save are logged from the leader's
 * events (leader_events_set). An autolocked state (made with
 *   vxsec-keymgr -d DIR/state init --autolock
 * ) opens with its unlock key, which this host keeps as text in
 * DIR/unlock-key (mode 0600, one line as init printed it) and turns
 * into the key's bytes with leader_unlock_key_parse. Exit: 0, or the
 * leader's exit code.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
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

/* SIGTERM, SIGINT, SIGUSR1 and SIGHUP as a descriptor the host polls. */
static int signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
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

/*
 * DIR/unlock-key, if there is one: its key in *key (locked memory, for
 * leader_new; the host frees it). 0, or -1 (said why).
 */
static int unlock_key(const char *dir, uint8_t **key)
{
	char path[PATH_MAX], line[256] = "";
	struct why why = { "" };
	struct stat st;
	FILE *f;
	int err;

	*key = NULL;
	snprintf(path, sizeof(path), "%s/unlock-key", dir);
	f = fopen(path, "re");
	if (!f)
		return 0; /* none: a state in default mode */
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
		fprintf(stderr, "embed-leader: %s: others may read it\n", path);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	err = leader_unlock_key_parse(line, key, &why);
	explicit_bzero(line, sizeof(line));
	if (err) {
		fprintf(stderr, "embed-leader: %s: %s\n", path, why.msg);
		return -1;
	}
	return 0;
}

static const char *phase_name(enum leader_rotation_phase p)
{
	switch (p) {
	case LEADER_ROTATION_IDLE:
		return "idle";
	case LEADER_ROTATION_PREPARE:
		return "prepare";
	case LEADER_ROTATION_COMMIT:
		return "commit";
	case LEADER_ROTATION_GRACE:
		return "grace";
	}
	return "?";
}

/* The leader's events, on this thread, from inside leader_dispatch(). */
static void on_event(struct leader *l, const struct leader_event *ev, void *arg)
{
	(void)l, (void)arg;
	switch (ev->type) {
	case LEADER_EVENT_MEMBER_JOINED:
		fprintf(stderr, "embed-leader: %s joined (index %u)\n",
			ev->node, ev->index);
		break;
	case LEADER_EVENT_MEMBER_CONNECTED:
	case LEADER_EVENT_MEMBER_DISCONNECTED:
		fprintf(stderr, "embed-leader: %s %s\n", ev->node,
			ev->type == LEADER_EVENT_MEMBER_CONNECTED
				? "connected"
				: "disconnected");
		break;
	case LEADER_EVENT_MEMBER_INCARNATION:
		fprintf(stderr,
			"embed-leader: %s came back new (incarnation "
			"%llu)\n",
			ev->node, (unsigned long long)ev->incarnation);
		break;
	case LEADER_EVENT_MEMBER_REMOVED:
		fprintf(stderr, "embed-leader: %s removed\n", ev->node);
		break;
	case LEADER_EVENT_ROTATION:
		fprintf(stderr, "embed-leader: rotation: %s, generation %u\n",
			phase_name(ev->phase), ev->generation);
		break;
	case LEADER_EVENT_SAVE_FAILED:
		fprintf(stderr, "embed-leader: the state cannot be saved: %s\n",
			ev->why ? ev->why : strerror(-ev->error));
		break;
	default: /* saved again, role changes, and events of later versions */
		break;
	}
}

static void on_rotated(struct leader *l, int err, void *arg)
{
	(void)l, (void)arg;
	if (err)
		fprintf(stderr, "embed-leader: rotation not confirmed: %s\n",
			strerror(-err));
	else
		fprintf(stderr, "embed-leader: rotation requested and saved\n");
}

static void log_status(struct leader *l)
{
	struct leader_status st = { .size = sizeof(st) };
	struct leader_members *m;
	const struct leader_member *a;

	if (leader_status_get(l, &st) == 0)
		fprintf(stderr,
			"embed-leader: status: revision %llu, %zu members, "
			"%zu connected, generation %u, %llu rotations\n",
			(unsigned long long)st.revision, st.members,
			st.connected, st.transmit_generation,
			(unsigned long long)st.rotations);
	/* a 0.2 library fills less: size says how much */
	if (st.size >= offsetof(struct leader_status, etcd_revision) +
			       sizeof(st.etcd_revision)) {
		if (st.store == LEADER_STORE_ETCD)
			fprintf(stderr,
				"embed-leader: store etcd (%s, prefix %s), "
				"instance %s, %s, term %lld; the leader: %s "
				"(%s)\n",
				st.etcd_endpoint, st.etcd_prefix, st.instance,
				st.serving ? "leading" : "standby",
				(long long)st.term,
				st.leader[0] ? st.leader : "not known yet",
				st.leader_listen);
		else
			fprintf(stderr, "embed-leader: store file%s\n",
				st.autolock ? ", autolock" : "");
	}
	m = leader_members_new(l);
	for (size_t i = 0; (a = leader_members_at(m, i)); i++)
		fprintf(stderr, "embed-leader: member %s index %u %s\n", a->id,
			a->index, a->n_underlay ? a->underlay[0] : "-");
	leader_members_free(m);
}

/* A signal: 1 to stop, 0 to go on. */
static int on_signal(struct leader *l, int sig)
{
	struct signalfd_siginfo si;
	struct why why = { "" };

	if (read(sig, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	if (si.ssi_signo == SIGUSR1) {
		if (leader_rotate(l, on_rotated, NULL, &why))
			fprintf(stderr, "embed-leader: rotate: %s\n", why.msg);
		return 0;
	}
	if (si.ssi_signo == SIGHUP) {
		log_status(l);
		return 0;
	}
	fprintf(stderr, "embed-leader: signal, stopping\n");
	return 1;
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
		if ((p[0].revents & POLLIN) && on_signal(l, sig))
			return 0;
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
	uint8_t *key;
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
	if (unlock_key(argv[1], &key))
		return LEADER_EXIT_STATE;
	l = leader_new(&cfg, key, &code, &why);
	leader_unlock_key_free(key); /* wiped: the leader holds its own */
	if (!l) {
		fprintf(stderr, "embed-leader: %s\n", why.msg);
		return code ? code : LEADER_EXIT_FAIL;
	}
	leader_events_set(l, on_event, NULL);
	fprintf(stderr, "embed-leader: leader up, state in %s\n",
		cfg.state_dir);
	if (serve(l, sig, argc > 3 ? atof(argv[3]) : 0))
		code = LEADER_EXIT_FAIL;
	leader_free(l);
	close(sig);
	fprintf(stderr, "embed-leader: leader freed, exit %d\n", code);
	return code;
}
