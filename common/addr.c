// SPDX-License-Identifier: MIT
/* Socket addresses as text, IPv4 and IPv6, with the port. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

void addr_format(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;

	if (ss->ss_family == AF_INET6) {
		memcpy(&a6, ss, sizeof(a6));
		inet_ntop(AF_INET6, &a6.sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(a6.sin6_port));
	} else if (ss->ss_family == AF_INET) {
		memcpy(&a4, ss, sizeof(a4));
		inet_ntop(AF_INET, &a4.sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(a4.sin_port));
	} else {
		snprintf(out, len, "?");
	}
}
