// SPDX-License-Identifier: MIT
/* The one-line reasons that errors carry back to whoever logs them. */
#include <stdarg.h>
#include <stdio.h>

#include "why.h"

void why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}
