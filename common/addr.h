/* SPDX-License-Identifier: MIT */
/* Socket addresses as text for logs and status: "1.2.3.4:7120", "[::1]:7120". */
#ifndef VXSEC_ADDR_H
#define VXSEC_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define ADDR_TEXT_MAX 64

/* Writes ss as text (at most ADDR_TEXT_MAX bytes); "?" if not IP. */
void addr_format(const struct sockaddr_storage *ss, char *out, size_t len);

#endif
