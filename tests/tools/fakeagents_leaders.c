// SPDX-License-Identifier: MIT
/* fakeagents: the leader list — where an agent connects, the next address after a failure, and the backoff before it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fakeagents.h"

#define BACKOFF_MIN_MS 100   /* the shortest wait before another try */
#define BACKOFF_FIRST_MS 500 /* the longest, until a whole pass failed */
#define TICK_MS 10	     /* how often the waiting agents are looked at */

/* "host:port" (IPv4) into l; numeric only: no lookup blocks the loop. */
static int parse_one(const char *text, size_t len, bool numeric,
		     struct fa_leader *l)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM },
			*res = NULL;
	char buf[300];
	char *colon;
	int err;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	colon = strrchr(buf, ':');
	if (!colon || colon == buf || !colon[1])
		return -EINVAL;
	*colon = '\0';
	if (numeric)
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	err = getaddrinfo(buf, colon + 1, &hints, &res);
	if (err)
		return -EINVAL;
	l->ip = ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
	l->port = ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port);
	freeaddrinfo(res);
	return 0;
}

int fa_leaders_parse(struct fa_run *r, const char *list)
{
	const char *p = list, *comma;
	size_t len;

	r->n_leaders = 0;
	do {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (r->n_leaders == FA_LEADERS_MAX) {
			fprintf(stderr,
				"fakeagents: --leader %s: more than %d "
				"addresses\n",
				list, FA_LEADERS_MAX);
			return -EINVAL;
		}
		if (parse_one(p, len, false, &r->leaders[r->n_leaders++])) {
			fprintf(stderr,
				"fakeagents: --leader %s: \"%.*s\" is not "
				"HOST:PORT (IPv4)\n",
				list, (int)len, p);
			return -EINVAL;
		}
		p = comma + 1;
	} while (comma);
	r->reconnect = r->n_leaders > 1 || r->o.failover_cmd;
	return 0;
}

/* The address connect() bound fd to, for the hello (NAT detection). */
static void local_of(struct fa_agent *a, int fd)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);

	a->has_local = getsockname(fd, (struct sockaddr *)&me, &len) == 0 &&
		       me.sin_family == AF_INET;
	a->local = a->has_local ? ntohl(me.sin_addr.s_addr) : 0;
}

int fa_dial(struct fa_agent *a)
{
	const struct fa_leader *l = &a->run->leaders[a->cur];
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(l->port),
				  .sin_addr.s_addr = htonl(l->ip) };
	struct sockaddr_in me = { .sin_family = AF_INET };
	int one = 1, fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->ip >> 24 == 127) {
		/* The port is picked at connect(), per 4-tuple: no bind limit. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
		me.sin_addr.s_addr = htonl(a->addr);
		if (bind(fd, (struct sockaddr *)&me, sizeof(me)))
			goto out;
	}
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) &&
	    errno != EINPROGRESS)
		goto out;
	local_of(a, fd);
	return fd;
out:
	err = -errno;
	close(fd);
	return err;
}

void fa_leader_named(struct fa_agent *a, const char *named)
{
	struct fa_run *r = a->run;
	struct fa_leader l;
	uint32_t i;

	if (!named || !named[0] || parse_one(named, strlen(named), true, &l))
		return;
	for (i = 0; i < r->n_leaders; i++)
		if (r->leaders[i].ip == l.ip && r->leaders[i].port == l.port &&
		    i != a->cur)
			a->redirect = (int32_t)i;
}

static uint32_t first_backoff(const struct fa_run *r)
{
	return r->o.backoff_max < BACKOFF_FIRST_MS ? r->o.backoff_max
						   : BACKOFF_FIRST_MS;
}

void fa_leader_reached(struct fa_agent *a)
{
	a->tried = 0;
	a->redirected = false;
	a->redirect = -1;
	a->backoff = first_backoff(a->run);
}

/* Between BACKOFF_MIN_MS (or top, if less) and top, at random. */
static uint32_t jitter(uint32_t top)
{
	uint32_t lo = top < BACKOFF_MIN_MS ? top : BACKOFF_MIN_MS;

	return lo + randombytes_uniform(top - lo + 1);
}

/*
 * As agent/session_addr.c: the address a refusal named, else the next
 * in the list. Following a name costs nothing the first time in a pass;
 * anything else waits a little, and a whole pass of failures doubles
 * the longest wait, up to --backoff-max.
 */
void fa_agent_retry(struct fa_agent *a)
{
	struct fa_run *r = a->run;
	bool free_hop = a->redirect >= 0 && !a->redirected;
	uint32_t wait = 0, b2;

	if (a->waiting)
		return;
	a->cur = a->redirect >= 0 ? (uint32_t)a->redirect
				  : (a->cur + 1) % r->n_leaders;
	if (a->redirect >= 0)
		a->redirected = true;
	a->redirect = -1;
	if (!free_hop) {
		if (++a->tried >= r->n_leaders) {
			a->tried = 0;
			a->redirected = false;
			b2 = a->backoff * 2;
			a->backoff =
				b2 > r->o.backoff_max ? r->o.backoff_max : b2;
		}
		wait = jitter(a->backoff);
	}
	r->n_retries++;
	a->due = loop_mono_ms() + wait;
	a->waiting = true;
	r->waiting[r->n_waiting++] = a->gid;
	if (r->n_waiting == 1)
		loop_timer_arm(r->retry, TICK_MS, TICK_MS);
}

/* The agents whose wait is over connect; those that fail wait again. */
static void on_tick(struct loop *l, struct loop_timer *t, void *arg)
{
	struct fa_run *r = arg;
	uint64_t now = loop_mono_ms();
	uint32_t i, k = 0, n_due = 0;

	(void)l;
	for (i = 0; i < r->n_waiting; i++) {
		struct fa_agent *a = &r->agents[r->waiting[i]];

		if (a->due <= now && !r->stop)
			r->due[n_due++] = a->gid;
		else
			r->waiting[k++] = a->gid;
	}
	r->n_waiting = k;
	for (i = 0; i < n_due; i++) {
		r->agents[r->due[i]].waiting = false;
		fa_agent_reopen(&r->agents[r->due[i]]);
	}
	if (!r->n_waiting)
		loop_timer_arm(t, 0, 0);
}

int fa_retry_init(struct fa_run *r)
{
	uint32_t i;

	r->waiting = calloc(r->o.n, sizeof(*r->waiting));
	r->due = calloc(r->o.n, sizeof(*r->due));
	r->retry = loop_timer_new(r->loop, on_tick, r);
	if (!r->waiting || !r->due || !r->retry)
		return -ENOMEM;
	for (i = 0; i < r->o.n; i++)
		fa_leader_reached(&r->agents[i]);
	return 0;
}
