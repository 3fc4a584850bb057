/* SPDX-License-Identifier: MIT */
/* systemd's notify protocol without libsystemd: READY=1, STATUS=, WATCHDOG=1, STOPPING=1 as datagrams to $NOTIFY_SOCKET. */
#ifndef VXSEC_SDNOTIFY_H
#define VXSEC_SDNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "loop.h"
#include "why.h"

#define SDNOTIFY_STATUS_MAX 256	   /* a STATUS= line, with its NUL */
#define SDNOTIFY_STATUS_MS 1000	   /* how often the status is rebuilt */
#define SDNOTIFY_WATCHDOG_MIN_MS 2 /* half of WATCHDOG_USEC, at least */

/*
 * Builds the one-line status (what `status` shows, in short) into line
 * (SDNOTIFY_STATUS_MAX bytes). Called every SDNOTIFY_STATUS_MS while
 * $NOTIFY_SOCKET is set; it may call sdnotify_ready() (a readiness that
 * is polled, as the agent's "no leader, policies in").
 */
typedef void (*sdnotify_status_cb)(void *arg, char *line, size_t len);

struct sdnotify {
	bool on; /* false ($NOTIFY_SOCKET unset, or zeroed): nothing sent */
	int fd;
	struct sockaddr_un addr;
	socklen_t addr_len;
	bool ready;
	uint64_t watchdog_ms; /* the ping interval (0: none) */
	struct loop_timer *watchdog, *tick;
	sdnotify_status_cb status;
	void *arg;
	char last[SDNOTIFY_STATUS_MAX]; /* the STATUS= last sent */
	unsigned long long sent;	/* datagrams sent */
};

/*
 * $NOTIFY_SOCKET's value as an address: an absolute path, or "@name" for
 * Linux's abstract namespace. -EINVAL (why says why) for anything else,
 * -ENAMETOOLONG past sun_path.
 */
int sdnotify_addr(const char *env, struct sockaddr_un *sun, socklen_t *len,
		  struct why *why);

/*
 * $WATCHDOG_USEC and $WATCHDOG_PID (NULL when unset) as the interval of
 * the pings in ms: half the timeout, at least SDNOTIFY_WATCHDOG_MIN_MS.
 * 0 when there is no watchdog, or it is meant for another process (a
 * WATCHDOG_PID other than self). -EINVAL for values that are not numbers.
 */
int sdnotify_watchdog_ms(const char *usec, const char *pid, pid_t self,
			 uint64_t *ms);

/*
 * Reads the environment. Unset $NOTIFY_SOCKET: 0, n->on false, no timer,
 * nothing ever sent. Else a datagram socket (O_NONBLOCK|O_CLOEXEC), the
 * watchdog's timer when $WATCHDOG_USEC asks for it, and, with status
 * non-NULL, the status timer (the first STATUS= goes with READY=1).
 * -errno with why for a value that cannot be used.
 */
int sdnotify_init(struct sdnotify *n, struct loop *l, sdnotify_status_cb status,
		  void *arg, struct why *why);
/* Closes the socket, frees the timers. A zeroed struct is off: every
 * function may be called on it, and does nothing. */
void sdnotify_cleanup(struct sdnotify *n);

/* One datagram ("KEY=value\n..."), dropped if the manager's queue is
 * full (it never blocks). 0 also when disabled; -errno. */
int sdnotify_send(struct sdnotify *n, const char *msg);
/* READY=1 with the current status, once; later calls do nothing. */
int sdnotify_ready(struct sdnotify *n);
/* STOPPING=1 with the last status line: the daemon shuts down. */
int sdnotify_stopping(struct sdnotify *n);
/* Rebuilds the status now and sends it if it changed (the timer's job). */
void sdnotify_status_update(struct sdnotify *n);

#endif
