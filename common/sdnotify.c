// SPDX-License-Identifier: MIT
/* systemd's notify protocol, a datagram per message to $NOTIFY_SOCKET (docs/dependencies.md: why not libsystemd). */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sdnotify.h"

int sdnotify_addr(const char *env, struct sockaddr_un *sun, socklen_t *len,
		  struct why *why)
{
	size_t n = strlen(env);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n < 2 || (env[0] != '/' && env[0] != '@'))
		return why_fail(why, -EINVAL,
				"NOTIFY_SOCKET \"%s\" is neither an absolute "
				"path nor an abstract \"@name\"",
				env);
	if (n > sizeof(sun->sun_path) - (env[0] == '/'))
		return why_fail(why, -ENAMETOOLONG,
				"NOTIFY_SOCKET: %zu bytes, longer than a unix "
				"socket address",
				n);
	memcpy(sun->sun_path, env, n);
	if (env[0] == '@')
		sun->sun_path[0] = '\0'; /* abstract: no NUL at the end */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
			   (env[0] == '/'));
	return 0;
}

/* Decimal digits only, no sign, no overflow. */
static int digits(const char *s, unsigned long long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int sdnotify_watchdog_ms(const char *usec, const char *pid, pid_t self,
			 uint64_t *ms)
{
	unsigned long long us, p;

	*ms = 0;
	if (!usec)
		return 0;
	if (digits(usec, &us) || (pid && digits(pid, &p)))
		return -EINVAL;
	if (pid && p != (unsigned long long)self)
		return 0; /* another process's watchdog */
	*ms = us / 2000;
	if (us && *ms < SDNOTIFY_WATCHDOG_MIN_MS)
		*ms = SDNOTIFY_WATCHDOG_MIN_MS;
	return 0;
}

int sdnotify_send(struct sdnotify *n, const char *msg)
{
	ssize_t r;

	if (!n->on)
		return 0;
	do
		r = sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
			   (const struct sockaddr *)&n->addr, n->addr_len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	n->sent++;
	return 0;
}

/* "KEY\nSTATUS=line" with the status just built. */
static int send_with_status(struct sdnotify *n, const char *key)
{
	char msg[SDNOTIFY_STATUS_MAX + 32];

	if (n->status)
		n->status(n->arg, n->last, sizeof(n->last));
	n->last[strcspn(n->last, "\n")] = '\0'; /* one line */
	if (!n->last[0])
		return sdnotify_send(n, key);
	snprintf(msg, sizeof(msg), "%s\nSTATUS=%s", key, n->last);
	return sdnotify_send(n, msg);
}

void sdnotify_status_update(struct sdnotify *n)
{
	char line[SDNOTIFY_STATUS_MAX] = "", msg[SDNOTIFY_STATUS_MAX + 8];

	if (!n->on || !n->status)
		return;
	n->status(n->arg, line, sizeof(line)); /* may send READY=1 */
	line[strcspn(line, "\n")] = '\0';
	if (!n->ready || strcmp(line, n->last) == 0)
		return; /* before READY=1, the first status goes with it */
	snprintf(n->last, sizeof(n->last), "%s", line);
	snprintf(msg, sizeof(msg), "STATUS=%s", line);
	sdnotify_send(n, msg);
}

int sdnotify_ready(struct sdnotify *n)
{
	if (!n->on || n->ready)
		return 0;
	n->ready = true;
	return send_with_status(n, "READY=1");
}

int sdnotify_stopping(struct sdnotify *n)
{
	char msg[SDNOTIFY_STATUS_MAX + 48];

	if (!n->on)
		return 0;
	if (n->last[0])
		snprintf(msg, sizeof(msg),
			 "STOPPING=1\nSTATUS=stopping (was: %s)", n->last);
	else
		snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=stopping");
	return sdnotify_send(n, msg);
}

static void on_watchdog(struct loop *l, struct loop_timer *t, void *arg)
{
	(void)l, (void)t;
	sdnotify_send(arg, "WATCHDOG=1");
}

static void on_tick(struct loop *l, struct loop_timer *t, void *arg)
{
	(void)l, (void)t;
	sdnotify_status_update(arg);
}

/* The timers: the watchdog's pings, the status's rebuilds. */
static int timers(struct sdnotify *n, struct loop *l)
{
	if (n->watchdog_ms) {
		n->watchdog = loop_timer_new(l, on_watchdog, n);
		if (!n->watchdog ||
		    loop_timer_arm(n->watchdog, n->watchdog_ms, n->watchdog_ms))
			return -ENOMEM;
	}
	if (n->status) {
		n->tick = loop_timer_new(l, on_tick, n);
		if (!n->tick || loop_timer_arm(n->tick, SDNOTIFY_STATUS_MS,
					       SDNOTIFY_STATUS_MS))
			return -ENOMEM;
	}
	return 0;
}

int sdnotify_init(struct sdnotify *n, struct loop *l, sdnotify_status_cb status,
		  void *arg, struct why *why)
{
	const char *env = getenv("NOTIFY_SOCKET");
	int err;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->status = status;
	n->arg = arg;
	if (!env)
		return 0;
	err = sdnotify_addr(env, &n->addr, &n->addr_len, why);
	if (err)
		return err;
	if (sdnotify_watchdog_ms(getenv("WATCHDOG_USEC"),
				 getenv("WATCHDOG_PID"), getpid(),
				 &n->watchdog_ms))
		return why_fail(why, -EINVAL,
				"WATCHDOG_USEC or WATCHDOG_PID is not a "
				"number");
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0)
		return why_fail(why, -errno, "NOTIFY_SOCKET: socket: %s",
				strerror(errno));
	n->on = true;
	err = timers(n, l);
	if (err) {
		sdnotify_cleanup(n);
		return why_fail(why, err, "NOTIFY_SOCKET: out of memory");
	}
	return 0;
}

void sdnotify_cleanup(struct sdnotify *n)
{
	loop_timer_free(n->watchdog);
	loop_timer_free(n->tick);
	n->watchdog = n->tick = NULL;
	if (n->on)
		close(n->fd);
	n->on = false;
}
