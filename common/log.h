/* SPDX-License-Identifier: MIT */
/* Logs to stderr, one event per line; under journald with its priority prefix. */
#ifndef VXSEC_LOG_H
#define VXSEC_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

/* The program name on every line; levels above max are dropped. */
void log_init(const char *name, enum log_level max);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * One line a second at most for a kind of event (failed handshakes, wrong
 * tokens, refused connections), so a flood of them cannot flood the log.
 */
struct log_limit {
	uint64_t last_ms; /* when one was last logged */
	uint64_t quiet;	  /* not logged since */
};

/*
 * At now_ms: true if this one may be logged, with *quiet the number
 * not logged before it (then reset); false counts it as not logged.
 */
bool log_limit_pass(struct log_limit *ll, uint64_t now_ms, uint64_t *quiet);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
