// SPDX-License-Identifier: MIT
/* vxsec-keymgr: admitting connections — caps before authentication, cheap refusals, wrong-token delays. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/addr.h"
#include "session_int.h"

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
static void refuse_cheaply(struct sessions *ss, int fd,
			   const struct sockaddr_storage *from, int why)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char addr[64];
	uint64_t quiet;

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	if (!log_limit_pass(&ss->refuse_log, loop_now_ms(), &quiet))
		return;
	addr_format(from, addr, sizeof(addr));
	log_warn("%s: connection refused: %zu connections %s are not "
		 "authenticated yet (limit %s = %zu; %llu more refused, not "
		 "logged)",
		 addr, why == -EBUSY ? ss->guard.n_open : ss->guard.per_source,
		 why == -EBUSY ? "in all" : "from this address",
		 why == -EBUSY ? "unauth_max" : "unauth_per_source",
		 why == -EBUSY ? ss->guard.max : ss->guard.per_source,
		 (unsigned long long)quiet);
}

static void on_accept_retry(struct loop *lp, struct loop_timer *t, void *arg)
{
	struct sessions *ss = arg;

	(void)t;
	loop_mod_fd(lp, ss->lfd, EPOLLIN);
}

/* Out of descriptors or memory: not a busy loop; listen again soon. */
static void pause_accepting(struct sessions *ss, int err)
{
	uint64_t quiet;

	if (!ss->accept_retry)
		ss->accept_retry =
			loop_timer_new(ss->loop, on_accept_retry, ss);
	if (!ss->accept_retry || loop_mod_fd(ss->loop, ss->lfd, 0))
		return;
	loop_timer_arm(ss->accept_retry, ACCEPT_RETRY_MS, 0);
	if (log_limit_pass(&ss->accept_log, loop_now_ms(), &quiet))
		log_err("cannot accept connections: %s; trying again every "
			"%d ms (%llu more not logged)",
			strerror(err), ACCEPT_RETRY_MS,
			(unsigned long long)quiet);
}

/* The IP address of a peer's socket address (len 0 if not IP). */
static void source_of(const struct sockaddr_storage *from,
		      struct node_addr *out)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)from;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)from;

	memset(out, 0, sizeof(*out));
	if (from->ss_family == AF_INET) {
		out->len = 4;
		memcpy(out->ip, &v4->sin_addr, 4);
	} else if (from->ss_family == AF_INET6) {
		out->len = 16;
		memcpy(out->ip, &v6->sin6_addr, 16);
	}
}

static void admit(struct sessions *ss, int fd,
		  const struct sockaddr_storage *from)
{
	struct guard_src src;
	struct client *cl;
	int err;

	guard_src_from(&src, from);
	err = guard_admit(&ss->guard, &src);
	if (err) {
		refuse_cheaply(ss, fd, from, err);
		return;
	}
	tune(fd);
	cl = session_client_new(ss, fd, from, &src);
	if (!cl) {
		guard_release(&ss->guard, &src);
		close(fd);
		return;
	}
	source_of(from, &cl->source); /* NAT detection, at its hello */
}

/* The listener's callback: admits within the guard's caps, refuses cheaply. */
static void on_accept(struct loop *lp, int fd, uint32_t events, void *arg)
{
	struct sessions *ss = arg;
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
			admit(ss, cfd, &from);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			pause_accepting(ss, errno);
		return;
	}
}

int session_admission(struct sessions *ss, size_t max, size_t per_source,
		      struct why *why)
{
	size_t cap = max;
	struct rlimit nofile;

	/* Together they take at most half of what the process may open:
	 * agents and the control socket always keep the rest. */
	if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur / 4 < cap) {
		cap = nofile.rlim_cur / 4 ? (size_t)nofile.rlim_cur / 4 : 1;
		log_warn("unauth_max lowered from %zu to %zu: the process may "
			 "open %llu descriptors (LimitNOFILE)",
			 max, cap, (unsigned long long)nofile.rlim_cur);
	}
	if (guard_init(&ss->guard, cap, per_source)) {
		why_set(why, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int session_listen(struct sessions *ss, int lfd)
{
	int err = loop_add_fd(ss->loop, lfd, EPOLLIN, on_accept, ss);

	if (err)
		return err;
	ss->lfd = lfd;
	return 0;
}

void session_unlisten(struct sessions *ss)
{
	if (ss->accept_retry)
		loop_timer_arm(ss->accept_retry, 0, 0);
	if (ss->lfd < 0)
		return;
	loop_del_fd(ss->loop, ss->lfd);
	close(ss->lfd);
	ss->lfd = -1;
}

void session_token_failed(struct client *cl)
{
	struct sessions *ss = cl->ss;
	uint64_t now = loop_now_ms(), quiet;
	uint64_t delay = guard_token_failed(&ss->guard, &cl->src, now);

	if (log_limit_pass(&ss->token_log, now, &quiet))
		log_warn("%s: join refused: %s (answered after %llu ms; %llu "
			 "wrong tokens in all, %llu not logged)",
			 cl->addr, WRONG_TOKEN, (unsigned long long)delay,
			 (unsigned long long)ss->guard.token_failures,
			 (unsigned long long)quiet);
	if (!delay) {
		session_refuse_quiet(cl, WERR_UNAUTHORIZED, WRONG_TOKEN);
		return;
	}
	cl->refuse_at = now + delay;
	ss->n_delayed++;
}

void session_tick(struct sessions *ss)
{
	uint64_t now;
	struct client *cl, *next;

	if (!ss->n_delayed)
		return;
	now = loop_now_ms();
	for (cl = ss->clients; cl; cl = next) {
		next = cl->next; /* a refusal closes later, from the loop */
		if (!cl->refuse_at || cl->refuse_at > now)
			continue;
		cl->refuse_at = 0;
		ss->n_delayed--;
		session_refuse_quiet(cl, WERR_UNAUTHORIZED, WRONG_TOKEN);
	}
}
