// SPDX-License-Identifier: MIT
/* vxsec-keymgr: admitting connections — caps before authentication, cheap refusals, wrong-token delays. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/addr.h"
#include "leader_int.h"

#define ACCEPT_BURST 64	    /* connections taken per wake-up */
#define ACCEPT_RETRY_MS 100 /* after EMFILE and the like */

#define WRONG_TOKEN "join token secret does not match (wrong or rotated token)"

/*
 * Small frames (acks, commits) must not wait for Nagle; a vanished host
 * is noticed within about a minute (30 s idle, 3 probes 10 s apart) and
 * its session closed, so it gets a snapshot when it comes back.
 */
static void tune(int fd)
{
	int one = 1, idle = 30, intvl = 10, cnt = 3;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Over a cap: a reset, nothing allocated, no TIME_WAIT left behind. */
static void refuse_cheaply(struct leader *l, int fd,
			   const struct sockaddr_storage *from, int why)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char addr[64];
	uint64_t quiet;

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	if (!log_limit_pass(&l->refuse_log, leader_now_ms(), &quiet))
		return;
	addr_format(from, addr, sizeof(addr));
	log_warn("%s: connection refused: %zu connections %s are not "
		 "authenticated yet (limit %s = %zu; %llu more refused, not "
		 "logged)",
		 addr, why == -EBUSY ? l->guard.n_open : l->guard.per_source,
		 why == -EBUSY ? "in all" : "from this address",
		 why == -EBUSY ? "unauth_max" : "unauth_per_source",
		 why == -EBUSY ? l->guard.max : l->guard.per_source,
		 (unsigned long long)quiet);
}

static void on_accept_retry(struct loop *lp, struct loop_timer *t, void *arg)
{
	struct leader *l = arg;

	(void)t;
	loop_mod_fd(lp, l->lfd, EPOLLIN);
}

/* Out of descriptors or memory: not a busy loop; listen again soon. */
static void pause_accepting(struct leader *l, int err)
{
	uint64_t quiet;

	if (!l->accept_retry)
		l->accept_retry = loop_timer_new(l->loop, on_accept_retry, l);
	if (!l->accept_retry || loop_mod_fd(l->loop, l->lfd, 0))
		return;
	loop_timer_arm(l->accept_retry, ACCEPT_RETRY_MS, 0);
	if (log_limit_pass(&l->accept_log, leader_now_ms(), &quiet))
		log_err("cannot accept connections: %s; trying again every "
			"%d ms (%llu more not logged)",
			strerror(err), ACCEPT_RETRY_MS,
			(unsigned long long)quiet);
}

static void admit(struct leader *l, int fd, const struct sockaddr_storage *from)
{
	struct guard_src src;
	int err;

	guard_src_from(&src, from);
	err = guard_admit(&l->guard, &src);
	if (err) {
		refuse_cheaply(l, fd, from, err);
		return;
	}
	tune(fd);
	if (!session_client_new(l, fd, from, &src)) {
		guard_release(&l->guard, &src);
		close(fd);
	}
}

void session_accept(struct loop *lp, int fd, uint32_t events, void *arg)
{
	struct leader *l = arg;
	struct sockaddr_storage from;
	socklen_t flen;
	int cfd;

	(void)lp, (void)events;
	for (int i = 0; i < ACCEPT_BURST; i++) {
		memset(&from, 0, sizeof(from));
		flen = sizeof(from);
		cfd = accept4(fd, (struct sockaddr *)&from, &flen,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			admit(l, cfd, &from);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			pause_accepting(l, errno);
		return;
	}
}

void session_token_failed(struct client *cl)
{
	struct leader *l = cl->l;
	uint64_t now = leader_now_ms(), quiet;
	uint64_t delay = guard_token_failed(&l->guard, &cl->src, now);

	if (log_limit_pass(&l->token_log, now, &quiet))
		log_warn("%s: join refused: %s (answered after %llu ms; %llu "
			 "wrong tokens in all, %llu not logged)",
			 cl->addr, WRONG_TOKEN, (unsigned long long)delay,
			 (unsigned long long)l->guard.token_failures,
			 (unsigned long long)quiet);
	if (!delay) {
		session_refuse_quiet(cl, WERR_UNAUTHORIZED, WRONG_TOKEN);
		return;
	}
	cl->refuse_at = now + delay;
	l->n_delayed++;
}

void session_tick(struct leader *l)
{
	uint64_t now;
	struct client *cl, *next;

	if (!l->n_delayed)
		return;
	now = leader_now_ms();
	for (cl = l->clients; cl; cl = next) {
		next = cl->next; /* a refusal closes later, from the loop */
		if (!cl->refuse_at || cl->refuse_at > now)
			continue;
		cl->refuse_at = 0;
		l->n_delayed--;
		session_refuse_quiet(cl, WERR_UNAUTHORIZED, WRONG_TOKEN);
	}
}
