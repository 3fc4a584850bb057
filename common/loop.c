// SPDX-License-Identifier: MIT
/* The event loop: epoll dispatch of fds, timerfd timers and a signalfd. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "log.h"
#include "loop.h"

#define MAX_EVENTS 64
/* A timer this late is logged (at most once a LATE_QUIET_MS): leases,
 * deadlines and keepalives all wait on the loop. */
#define LATE_WARN_MS 1000
#define LATE_QUIET_MS 10000

enum kind { KIND_FD, KIND_TIMER, KIND_SIGNAL };

/* One per registered fd; freed only between dispatch rounds. */
struct handler {
	enum kind kind;
	int fd;
	bool dead;
	loop_fd_cb fd_cb;
	loop_timer_cb timer_cb;
	loop_signal_cb signal_cb;
	void *arg;
	struct loop_timer *timer;
	struct handler *prev, *next; /* all handlers, for cleanup */
	struct handler *dead_next;   /* deleted, to be freed after the round */
};

struct loop_timer {
	struct loop *loop;
	struct handler *h;
	uint64_t due_ms, interval_ms; /* monotonic; due 0: disarmed */
};

struct loop {
	int epfd;
	bool stop;
	struct handler *handlers;
	struct handler **by_fd; /* live handlers by fd number */
	size_t n_fd;
	struct handler *dead;
	uint64_t late_quiet_until, late_max_ms;
};

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

/* Room in by_fd for fd. */
static int grow(struct loop *l, size_t fd)
{
	struct handler **p =
		array_grow(l->by_fd, &l->n_fd, fd, sizeof(struct handler *));

	if (!p)
		return -ENOMEM;
	l->by_fd = p;
	return 0;
}

static struct handler *add(struct loop *l, enum kind kind, int fd,
			   uint32_t events)
{
	struct handler *h = calloc(1, sizeof(*h));
	struct epoll_event ev = { .events = events };

	if (!h || fd < 0 || grow(l, (size_t)fd)) {
		free(h);
		return NULL;
	}
	h->kind = kind;
	h->fd = fd;
	ev.data.ptr = h;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		free(h);
		return NULL;
	}
	h->next = l->handlers;
	if (h->next)
		h->next->prev = h;
	l->handlers = h;
	l->by_fd[fd] = h;
	return h;
}

static struct handler *find(struct loop *l, int fd)
{
	return fd >= 0 && (size_t)fd < l->n_fd ? l->by_fd[fd] : NULL;
}

/* Frees handlers marked dead: no event of this round can point at them. */
static void reap(struct loop *l)
{
	struct handler *h;

	while ((h = l->dead)) {
		l->dead = h->dead_next;
		if (h->prev)
			h->prev->next = h->next;
		else
			l->handlers = h->next;
		if (h->next)
			h->next->prev = h->prev;
		if (h->kind != KIND_FD)
			close(h->fd);
		free(h->timer);
		free(h);
	}
}

static void kill_handler(struct loop *l, struct handler *h)
{
	if (h->dead)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	h->dead = true;
	if (find(l, h->fd) == h)
		l->by_fd[h->fd] = NULL;
	h->dead_next = l->dead;
	l->dead = h;
}

void loop_free(struct loop *l)
{
	struct handler *h;

	if (!l)
		return;
	for (h = l->handlers; h; h = h->next)
		kill_handler(l, h);
	reap(l);
	close(l->epfd);
	free(l->by_fd);
	free(l);
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb,
		void *arg)
{
	struct handler *h;

	if (find(l, fd))
		return -EEXIST;
	h = add(l, KIND_FD, fd, events);
	if (!h)
		return errno ? -errno : -ENOMEM;
	h->fd_cb = cb;
	h->arg = arg;
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct handler *h = find(l, fd);
	struct epoll_event ev = { .events = events };

	if (!h)
		return -ENOENT;
	ev.data.ptr = h;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

int loop_del_fd(struct loop *l, int fd)
{
	struct handler *h = find(l, fd);

	if (!h || h->kind != KIND_FD)
		return -ENOENT;
	kill_handler(l, h);
	return 0;
}

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct loop_timer *t = calloc(1, sizeof(*t));
	struct handler *h = NULL;

	if (fd >= 0 && t)
		h = add(l, KIND_TIMER, fd, EPOLLIN);
	if (!h) {
		if (fd >= 0)
			close(fd);
		free(t);
		return NULL;
	}
	h->timer_cb = cb;
	h->arg = arg;
	h->timer = t;
	t->loop = l;
	t->h = h;
	return t;
}

int loop_timer_arm(struct loop_timer *t, uint64_t ms, uint64_t interval_ms)
{
	struct itimerspec its = {
		.it_value = { (time_t)(ms / 1000),
			      (long)(ms % 1000) * 1000000 },
		.it_interval = { (time_t)(interval_ms / 1000),
				 (long)(interval_ms % 1000) * 1000000 },
	};

	if (timerfd_settime(t->h->fd, 0, &its, NULL))
		return -errno;
	t->due_ms = ms ? loop_mono_ms() + ms : 0;
	t->interval_ms = ms ? interval_ms : 0;
	return 0;
}

/* A timer fired ticks times: how late the last one is, logged if long. */
static void timer_late(struct loop *l, struct loop_timer *t, uint64_t ticks)
{
	uint64_t now = loop_mono_ms(), due, late;

	if (!t->due_ms || !ticks)
		return;
	due = t->due_ms + (ticks - 1) * t->interval_ms;
	t->due_ms = t->interval_ms ? due + t->interval_ms : 0;
	late = now > due ? now - due : 0;
	if (late > l->late_max_ms)
		l->late_max_ms = late;
	if (late < LATE_WARN_MS || now < l->late_quiet_until)
		return;
	l->late_quiet_until = now + LATE_QUIET_MS;
	log_warn("event loop: a timer fired %llu ms late (the longest so "
		 "far %llu ms): this process was starved of CPU or a "
		 "callback ran that long; leases and deadlines waited too",
		 (unsigned long long)late, (unsigned long long)l->late_max_ms);
}

void loop_timer_free(struct loop_timer *t)
{
	if (t)
		kill_handler(t->loop, t->h); /* freed with its handler */
}

int loop_signals(struct loop *l, const int *sigs, size_t n, loop_signal_cb cb,
		 void *arg)
{
	struct handler *h;
	sigset_t set;
	size_t i;
	int fd;

	sigemptyset(&set);
	for (i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	h = add(l, KIND_SIGNAL, fd, EPOLLIN);
	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	h->signal_cb = cb;
	h->arg = arg;
	return 0;
}

static void dispatch(struct loop *l, struct handler *h, uint32_t events)
{
	struct signalfd_siginfo si;
	uint64_t ticks;

	if (h->dead)
		return; /* deleted earlier in this round */
	switch (h->kind) {
	case KIND_FD:
		h->fd_cb(l, h->fd, events, h->arg);
		break;
	case KIND_TIMER:
		if (read(h->fd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
			timer_late(l, h->timer, ticks);
			h->timer_cb(l, h->timer, h->arg);
		}
		break;
	case KIND_SIGNAL:
		while (read(h->fd, &si, sizeof(si)) == sizeof(si))
			h->signal_cb(l, (int)si.ssi_signo, h->arg);
		break;
	default:
		abort(); /* a broken invariant */
	}
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event ev[MAX_EVENTS];
	int n = epoll_wait(l->epfd, ev, MAX_EVENTS, timeout_ms), i;

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++)
		dispatch(l, ev[i].data.ptr, ev[i].events);
	reap(l);
	return n;
}

int loop_run(struct loop *l)
{
	int r;

	l->stop = false;
	while (!l->stop) {
		r = loop_run_once(l, -1);
		if (r < 0)
			return r;
	}
	return 0;
}

uint64_t loop_late_max_ms(const struct loop *l)
{
	return l->late_max_ms;
}

int loop_fd(const struct loop *l)
{
	return l->epfd;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t loop_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

uint64_t loop_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}
