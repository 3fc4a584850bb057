// SPDX-License-Identifier: MIT
/* agent xstat: /proc/net/xfrm_stat read and parsed strictly, line by line. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "xstat.h"

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Decimal digits only, no sign, no overflow. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (!len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static bool known(const struct xstat *x, const char *name, size_t len)
{
	for (size_t i = 0; i < x->n; i++)
		if (strlen(x->c[i].name) == len &&
		    memcmp(x->c[i].name, name, len) == 0)
			return true;
	return false;
}

/* One line without its newline: "Name<blanks>Value[<blanks>]". */
static int parse_line(const char *s, size_t len, struct xstat *x)
{
	size_t n = 0, v, vlen;
	uint64_t value;

	while (n < len && name_char(s[n]))
		n++;
	if (n == 0 || n >= XSTAT_NAME_MAX || n == len || !blank(s[n]))
		return -EINVAL;
	for (v = n; v < len && blank(s[v]); v++)
		;
	for (vlen = 0; v + vlen < len && !blank(s[v + vlen]); vlen++)
		;
	for (size_t i = v + vlen; i < len; i++)
		if (!blank(s[i]))
			return -EINVAL;
	if (parse_u64(s + v, vlen, &value))
		return -EINVAL;
	if (known(x, s, n))
		return -EINVAL; /* twice: which one would be true? */
	if (x->n == XSTAT_MAX) {
		x->skipped++;
		return 0;
	}
	memcpy(x->c[x->n].name, s, n);
	x->c[x->n].name[n] = '\0';
	x->c[x->n++].value = value;
	return 0;
}

int xstat_parse(const char *text, size_t len, struct xstat *out)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len))
		return -EINVAL;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (parse_line(text + pos, end - pos, out)) {
			memset(out, 0, sizeof(*out));
			return -EINVAL;
		}
		pos = end + 1;
	}
	return 0;
}

/* The whole file into buf (NUL not added); its length or -errno. */
static ssize_t slurp(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return (ssize_t)len;
		len += (size_t)r;
		if (len == cap)
			return -EFBIG;
	}
}

int xstat_read_file(const char *path, struct xstat *out)
{
	char buf[XSTAT_FILE_MAX];
	ssize_t len;
	int fd;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = slurp(fd, buf, sizeof(buf));
	close(fd);
	if (len < 0)
		return (int)len;
	return xstat_parse(buf, (size_t)len, out);
}

int xstat_read(struct xstat *out)
{
	return xstat_read_file(XSTAT_PATH, out);
}

int xstat_get(const struct xstat *x, const char *name, uint64_t *value)
{
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->c[i].name, name) == 0) {
			*value = x->c[i].value;
			return 0;
		}
	return -ENOENT;
}
