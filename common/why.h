/* SPDX-License-Identifier: MIT */
/* The one-line reasons that errors carry back to whoever logs them. */
#ifndef VXSEC_WHY_H
#define VXSEC_WHY_H

#include <stdarg.h>
#include <stdio.h>

/*
 * Header only, so every module may use it without linking common/. Room
 * for a config file's "<path>:<line>: <reason>", the longest reason kept.
 */
#define WHY_MAX 512

struct why {
	char msg[WHY_MAX];
};

/* Formats the reason into w; w NULL: the caller wanted no reason. */
static inline void why_set(struct why *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void why_set(struct why *w, const char *fmt, ...)
{
	va_list ap;

	if (!w)
		return;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
}

/* Says why, then is err: a macro so an analyzer sees the error returned. */
#define why_fail(w, err, ...) (why_set((w), __VA_ARGS__), (err))

#endif
