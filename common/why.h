/* SPDX-License-Identifier: MIT */
/* The one-line reasons that errors carry back to whoever logs them. */
#ifndef VXSEC_WHY_H
#define VXSEC_WHY_H

#include <stddef.h>

/* Formats the reason into why, when the caller gave room for one. */
void why_set(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Says why, then is err: a macro so an analyzer sees the error returned. */
#define why_fail(why, whylen, err, ...) \
	(why_set((why), (whylen), __VA_ARGS__), (err))

#endif
