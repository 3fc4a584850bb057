// SPDX-License-Identifier: MIT
/* Config files: a one-line parser (fuzzable), a file reader, typed values. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#define STR(x) STR_(x)
#define STR_(x) #x

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* p just after the opening quote. */
static int value_quoted(const char *p, char *val, size_t vlen, struct why *why)
{
	size_t n = 0;

	for (; *p != '"'; p++) {
		if (!*p)
			return why_fail(why, -EINVAL, "unterminated quote");
		if (*p == '\\') {
			p++;
			if (*p != '"' && *p != '\\')
				return why_fail(
					why, -EINVAL,
					"unknown escape in quoted value "
					"(only \\\" and \\\\)");
		}
		if (n + 1 >= vlen)
			return why_fail(why, -EINVAL, "value too long");
		val[n++] = *p;
	}
	val[n] = '\0';
	p = skip_space(p + 1);
	if (*p && *p != '#')
		return why_fail(why, -EINVAL, "text after the closing quote");
	return 0;
}

static int value_plain(const char *p, char *val, size_t vlen, struct why *why)
{
	const char *start = p;
	size_t n;

	while (*p &&
	       !(*p == '#' && (p == start || p[-1] == ' ' || p[-1] == '\t')))
		p++;
	while (p > start && (p[-1] == ' ' || p[-1] == '\t'))
		p--;
	n = (size_t)(p - start);
	if (n >= vlen)
		return why_fail(why, -EINVAL, "value too long");
	memcpy(val, start, n);
	val[n] = '\0';
	return 0;
}

/* Copies line without its "\n" or "\r\n", refusing control characters. */
static int line_clean(const char *line, char *buf, struct why *why)
{
	size_t n = strlen(line), i;

	if (n && line[n - 1] == '\n')
		n--;
	if (n && line[n - 1] == '\r')
		n--;
	if (n > CONFIG_LINE_MAX)
		return why_fail(
			why, -EINVAL,
			"line longer than " STR(CONFIG_LINE_MAX) " bytes");
	for (i = 0; i < n; i++) {
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') ||
		    line[i] == 0x7f)
			return why_fail(why, -EINVAL, "control character");
	}
	memcpy(buf, line, n);
	buf[n] = '\0';
	return 0;
}

/* The entry of a cleaned line: 1, 0 for nothing, or -EINVAL. */
static int line_entry(const char *p, char *key, size_t klen, char *val,
		      size_t vlen, struct why *why)
{
	const char *k;
	int r;

	p = skip_space(p);
	if (!*p || *p == '#')
		return 0;
	for (k = p; key_char(*p); p++)
		;
	if (p == k)
		return why_fail(why, -EINVAL,
				"expected a key ([A-Za-z0-9_.-])");
	if ((size_t)(p - k) >= klen)
		return why_fail(why, -EINVAL, "key too long");
	memcpy(key, k, (size_t)(p - k));
	key[p - k] = '\0';
	p = skip_space(p);
	if (*p != '=')
		return why_fail(why, -EINVAL, "expected '=' after the key");
	p = skip_space(p + 1);
	if (*p == '"')
		r = value_quoted(p + 1, val, vlen, why);
	else
		r = value_plain(p, val, vlen, why);
	return r ? r : 1;
}

int config_line(const char *line, char *key, size_t klen, char *val,
		size_t vlen, struct why *why)
{
	char buf[CONFIG_LINE_MAX + 1];
	int r;

	if (!klen || !vlen)
		return why_fail(why, -EINVAL, "no room for key or value");
	r = line_clean(line, buf, why);
	if (!r)
		r = line_entry(buf, key, klen, val, vlen, why);
	/* buf holds a copy of the value, which may be a secret */
	explicit_bzero(buf, sizeof(buf));
	return r;
}

/*
 * One line into buf (with its '\n' if any): its length, 0 at the end,
 * -E2BIG if too long, -EILSEQ on a NUL byte, -EIO on a read error.
 */
static int line_read(FILE *f, char *buf, size_t size)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF) {
		if (c == '\0')
			return -EILSEQ;
		if (n + 1 >= size)
			return -E2BIG;
		buf[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (ferror(f))
		return -EIO;
	buf[n] = '\0';
	return (int)n;
}

static int load_entry(const char *line, config_cb cb, void *arg,
		      struct why *why)
{
	char key[CONFIG_KEY_MAX], val[CONFIG_LINE_MAX + 1];
	int r;

	r = config_line(line, key, sizeof(key), val, sizeof(val), why);
	if (r > 0) {
		why->msg[0] = '\0';
		r = cb(arg, key, val, why);
		if (r < 0 && !why->msg[0])
			why_set(why, "%s: %s", key, strerror(-r));
	}
	/* values may be secrets, a refused one too (partly copied) */
	explicit_bzero(val, sizeof(val));
	return r < 0 ? r : 0;
}

int config_load(const char *path, config_cb cb, void *arg, struct why *why)
{
	/* +2: "\r\n" after a line of the maximum length */
	char line[CONFIG_LINE_MAX + 3];
	struct why reason = { "" };
	unsigned int no = 0;
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		r = -errno;
		why_set(why, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	do {
		no++;
		r = line_read(f, line, sizeof(line));
		if (r == -E2BIG)
			why_set(&reason, "line longer than %d bytes",
				CONFIG_LINE_MAX);
		else if (r == -EILSEQ)
			why_set(&reason, "NUL byte");
		else if (r < 0)
			why_set(&reason, "read error: %s", strerror(-r));
		else if (r > 0)
			r = load_entry(line, cb, arg, &reason);
		else
			break; /* end of file */
	} while (r >= 0);
	if (r < 0)
		why_set(why, "%s:%u: %s", path, no, reason.msg);
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return r < 0 ? r : 0;
}

int config_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Leading decimal digits into *out; *end after them. */
static int parse_u64(const char *v, uint64_t *out, const char **end)
{
	uint64_t n = 0;
	unsigned int d;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	for (; *v >= '0' && *v <= '9'; v++) {
		d = (unsigned int)(*v - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
	}
	*out = n;
	*end = v;
	return 0;
}

int config_duration_ms(const char *v, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "", 1000 },   { "ms", 1 },	{ "s", 1000 },
		      { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 } };
	const char *end;
	uint64_t n;
	size_t i;
	int r = parse_u64(v, &n, &end);

	if (r)
		return r;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (n > UINT64_MAX / units[i].ms)
			return -ERANGE;
		*out = n * units[i].ms;
		return 0;
	}
	return -EINVAL;
}

int config_list(const char *key, const char *what, const char *val,
		config_item_cb cb, void *arg, struct why *why)
{
	const char *p = val, *comma;
	char one[CONFIG_ITEM_MAX];
	int err;

	do {
		size_t len;

		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(one))
			return why_fail(why, -EINVAL,
					"%s: an empty or overlong %s in the "
					"list",
					key, what);
		memcpy(one, p, len);
		one[len] = '\0';
		err = cb(arg, one, why);
		p = comma + 1;
	} while (!err && comma);
	return err;
}

int config_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	const char *end;
	uint64_t n;
	int r = parse_u64(v, &n, &end);

	if (r)
		return r;
	if (*end)
		return -EINVAL;
	if (n < min || n > max)
		return -ERANGE;
	*out = (uint32_t)n;
	return 0;
}

/* Splits "host:port" or "[host]:port"; host copied into buf. */
static int split_host_port(const char *v, char *buf, size_t size,
			   const char **port, bool *six)
{
	const char *h = v, *e;

	*six = *v == '[';
	if (*six) {
		h = v + 1;
		e = strchr(h, ']');
		if (!e || e[1] != ':')
			return -EINVAL;
		*port = e + 2;
	} else {
		e = strchr(v, ':');
		if (!e || strchr(e + 1, ':'))
			return -EINVAL; /* none, or IPv6 without brackets */
		*port = e + 1;
	}
	if (e == h || (size_t)(e - h) >= size)
		return -EINVAL;
	memcpy(buf, h, (size_t)(e - h));
	buf[e - h] = '\0';
	return 0;
}

int config_addr_port(const char *v, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *port;
	uint32_t p;
	bool six;
	int r;

	r = split_host_port(v, host, sizeof(host), &port, &six);
	if (!r)
		r = config_u32(port, 0, 65535, &p);
	if (r)
		return r;
	memset(ss, 0, sizeof(*ss));
	if (six) {
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*s6);
	} else {
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		*len = sizeof(*s4);
	}
	return 0;
}
