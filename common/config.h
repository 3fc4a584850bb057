/* SPDX-License-Identifier: MIT */
/* Config files: "key = value" lines, and the parsers of typed values. */
#ifndef VXSEC_CONFIG_H
#define VXSEC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "why.h"

#define CONFIG_LINE_MAX 1024 /* bytes of a line, without its newline */
#define CONFIG_KEY_MAX 64    /* a key buffer of this size takes any key */

/*
 * One line (a trailing "\n" or "\r\n" allowed). Format:
 *   key = value      key: [A-Za-z0-9_.-]+; white space around trimmed
 *   key = "v a l"    quoted: \" and \\ are the only escapes
 *   key = v  # note  a '#' at the start of a value or after white space
 *                    starts a comment; quote the value to keep one
 *   # comment        and blank lines: nothing
 * No control character but tab, anywhere. Returns 1 and fills key and val,
 * 0 for nothing, or -EINVAL with a reason that never quotes the line.
 */
int config_line(const char *line, char *key, size_t klen, char *val,
		size_t vlen, struct why *why);

/* Per entry; a negative return stops the load (why says why). */
typedef int (*config_cb)(void *arg, const char *key, const char *val,
			 struct why *why);

/*
 * Reads path and calls cb for each entry in order. Errors (bad lines,
 * lines over CONFIG_LINE_MAX, NUL bytes, cb failures) stop the load and
 * are reported as "<path>:<line>: <reason>"; returns 0 or -errno.
 */
int config_load(const char *path, config_cb cb, void *arg, struct why *why);

#define CONFIG_ITEM_MAX 64 /* bytes of one list item, NUL included */

/* One item of a list: 0, or a negative errno and why. */
typedef int (*config_item_cb)(void *arg, const char *item, struct why *why);

/*
 * A comma-separated list: cb gets each item in order, NUL-terminated, the
 * spaces and tabs around it trimmed; the first failure stops it. An empty
 * item, or one of CONFIG_ITEM_MAX bytes or more, is refused as "<key>: an
 * empty or overlong <what> in the list".
 */
int config_list(const char *key, const char *what, const char *val,
		config_item_cb cb, void *arg, struct why *why);

/* yes/no, true/false, on/off, 1/0 (any case); -EINVAL otherwise. */
int config_bool(const char *v, bool *out);

/*
 * "500ms", "30s", "5m", "12h", "1d"; a plain number is seconds. -EINVAL
 * for anything else (no sign, no space, no fraction), -ERANGE on overflow.
 */
int config_duration_ms(const char *v, uint64_t *out);

/* Decimal digits only; -ERANGE outside [min, max]. */
int config_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out);

/*
 * "1.2.3.4:7120" or "[2001:db8::1]:7120", port 0-65535 (0: any). Numeric
 * only: no names, no scope ids. Fills ss and len; -EINVAL or -ERANGE.
 */
int config_addr_port(const char *v, struct sockaddr_storage *ss,
		     socklen_t *len);

#endif
