/* SPDX-License-Identifier: MIT */
/* A small HTTP/1.x server on the loop that serves one page (GET /metrics) from a control command, for hostile clients. */
#ifndef VXSEC_HTTPD_H
#define VXSEC_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ctl.h"
#include "loop.h"
#include "why.h"

#define HTTPD_HEAD_MAX 8192	  /* request line and headers, with CRLFs */
#define HTTPD_DEADLINE_MS 5000	  /* a connection's whole life */
#define HTTPD_CLIENTS_MAX 16	  /* at once; more get 503 and are closed */
#define HTTPD_PAGE_MAX (4u << 20) /* a page larger than this is a 500 */
#define HTTPD_CONTENT_TYPE "text/plain; version=0.0.4"

/*
 * The settings' "ADDRESS:PORT" (config_addr_port), or "" / "off" /
 * "none": no server (*len 0). -EINVAL with why.
 */
int httpd_addr_parse(const char *key, const char *val,
		     struct sockaddr_storage *ss, socklen_t *len,
		     struct why *why);

/*
 * The status a request head gets (the bytes before its blank line):
 * 200 for "GET <path> HTTP/1.0" or "HTTP/1.1" (a query string after
 * the path is ignored; headers are not read), 400 for a malformed
 * request line or a control character in the head, 405 for another
 * method, 404 for another target, 505 for another HTTP version.
 */
int httpd_request_status(const char *head, size_t len, const char *path);

struct httpd_limits {
	size_t head_max;      /* 431 beyond */
	uint64_t deadline_ms; /* from accept to close */
	unsigned int clients_max;
};

struct httpd;

/*
 * Listens on addr (SO_REUSEADDR, O_NONBLOCK|O_CLOEXEC) and answers GET
 * path with what the control command cmd appends to its reply (cb with
 * argv { cmd }: the daemon's own ctl handler, so the page is exactly
 * what the command prints), Content-Type HTTPD_CONTENT_TYPE; a code
 * other than 0 is a 500. Every response closes its connection. lim
 * NULL: the HTTPD_* defaults. NULL with errno and why on failure.
 */
struct httpd *httpd_new(struct loop *l, const struct sockaddr_storage *addr,
			socklen_t addr_len, const char *path, const char *cmd,
			ctl_handler cb, void *arg,
			const struct httpd_limits *lim, struct why *why);
/* Closes every connection and the socket; NULL-safe. */
void httpd_free(struct httpd *h);
/* Where it listens (a port 0 resolved), as "1.2.3.4:9100". */
const char *httpd_address(const struct httpd *h);

#endif
