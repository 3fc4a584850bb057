// SPDX-License-Identifier: MIT
/* xfrm encap: the ESP-in-UDP socket (UDP_ENCAP_ESPINUDP) and NAT keepalives. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xfrm_int.h"

/* Binds to every address of the family; an IPv6 socket is IPv6 only. */
static int encap_bind(int fd, int family, uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	int one = 1;

	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			       sizeof(one)))
			return -errno;
		return bind(fd, (struct sockaddr *)&a6, sizeof(a6)) ? -errno
								    : 0;
	}
	return bind(fd, (struct sockaddr *)&a4, sizeof(a4)) ? -errno : 0;
}

int xfrm_encap_open(int family, uint16_t port)
{
	int type = UDP_ENCAP_ESPINUDP, fd, err;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!port)
		return -EINVAL; /* peers must know where to send */
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	err = encap_bind(fd, family, port);
	/* Without CONFIG_XFRM the kernel refuses the type: -ENOPROTOOPT. */
	if (!err && setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof(type)))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int xfrm_encap_keepalive(int fd, int family, const union xfrm_ip *addr,
			 uint16_t port)
{
	static const uint8_t marker = 0xff; /* RFC 3948, 2.3 */
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	const struct sockaddr *to = (const struct sockaddr *)&a4;
	socklen_t to_len = sizeof(a4);
	ssize_t n;

	if (family == AF_INET) {
		memcpy(&a4.sin_addr, addr->raw, 4);
	} else if (family == AF_INET6) {
		memcpy(&a6.sin6_addr, addr->raw, 16);
		to = (const struct sockaddr *)&a6;
		to_len = sizeof(a6);
	} else {
		return -EAFNOSUPPORT;
	}
	if (!port)
		return -EINVAL;
	n = sendto(fd, &marker, 1, MSG_DONTWAIT | MSG_NOSIGNAL, to, to_len);
	if (n < 0)
		return -errno;
	return n == 1 ? 0 : -EIO;
}
