// SPDX-License-Identifier: MIT
/* Logs: "<name>: <level>: text" on a terminal, "<N>text" for journald. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *prog = "vxsec";
static enum log_level max_level = LOG_INFO;
static bool journal;

void log_init(const char *name, enum log_level max)
{
	prog = name;
	max_level = max;
	/* systemd sets JOURNAL_STREAM when stderr goes to the journal. */
	journal = getenv("JOURNAL_STREAM") != NULL;
}

static const char *word(enum log_level l)
{
	switch (l) {
	case LOG_ERR:
		return "error";
	case LOG_WARN:
		return "warning";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One event, one line: a stray newline would split it. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (journal)
		fprintf(stderr, "<%d>%s\n", (int)level, line);
	else
		fprintf(stderr, "%s: %s: %s\n", prog, word(level), line);
}

bool log_limit_pass(struct log_limit *ll, uint64_t now_ms, uint64_t *quiet)
{
	if (ll->last_ms && now_ms - ll->last_ms < 1000) {
		ll->quiet++;
		return false;
	}
	*quiet = ll->quiet;
	ll->quiet = 0;
	ll->last_ms = now_ms ? now_ms : 1;
	return true;
}
