/* SPDX-License-Identifier: MIT */
/* The event loop of every vxsec daemon: epoll, timerfd, signalfd, one thread. */
#ifndef VXSEC_LOOP_H
#define VXSEC_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_timer;

typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events, void *arg);
typedef void (*loop_timer_cb)(struct loop *l, struct loop_timer *t, void *arg);
typedef void (*loop_signal_cb)(struct loop *l, int sig, void *arg);

struct loop *loop_new(void);
/* Frees the loop and every timer; registered fds are not closed. */
void loop_free(struct loop *l);

/* events: EPOLLIN, EPOLLOUT, ... Callbacks must not block. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb,
		void *arg);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* Safe from inside any callback, including the fd's own. */
int loop_del_fd(struct loop *l, int fd);

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg);
/* Fires after ms, then every interval_ms (0: once). ms == 0 disarms. */
int loop_timer_arm(struct loop_timer *t, uint64_t ms, uint64_t interval_ms);
void loop_timer_free(struct loop_timer *t);

/* Blocks the signals and delivers them through cb instead. */
int loop_signals(struct loop *l, const int *sigs, size_t n, loop_signal_cb cb,
		 void *arg);

/* Dispatches events until loop_stop(); 0, or -errno if epoll fails. */
int loop_run(struct loop *l);
/* Dispatches what is ready within timeout_ms (-1: wait); event count. */
int loop_run_once(struct loop *l, int timeout_ms);
void loop_stop(struct loop *l);

/*
 * The epoll fd: readable when something is ready, for a host that polls
 * this loop from its own (then loop_run_once(l, 0)).
 */
int loop_fd(const struct loop *l);

/*
 * How late a timer fired at most (ms after it was due, by the monotonic
 * clock): what a starved process or a long callback costs every lease
 * and deadline. One a second or more late is logged (a warning, at most
 * every 10 s).
 */
uint64_t loop_late_max_ms(const struct loop *l);

/* Clocks in ms: the wall clock (CLOCK_REALTIME), for what is saved or
 * shown as time; CLOCK_MONOTONIC, for intervals of this process. */
uint64_t loop_now_ms(void);
uint64_t loop_mono_ms(void);

#endif
