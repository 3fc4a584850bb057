/* SPDX-License-Identifier: MIT */
/* nl: the netlink core under xfrm/ and the agent's rtnetlink: socket, message walk, error replies, request/ack loop. */
#ifndef VXSEC_NL_H
#define VXSEC_NL_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * One netlink socket of any bus (NETLINK_XFRM, NETLINK_ROUTE), in the
 * way of iproute2's mnl_utils.c: close-on-exec and non-blocking,
 * NETLINK_CAP_ACK (an error reply does not echo the request, key
 * included) and NETLINK_EXT_ACK (the kernel says why), bound to groups
 * (a bitmask of multicast groups, 0 for none). Its receive buffer of
 * rx_bytes is locked (best effort) and wiped after every datagram, since
 * replies may carry keys. NULL with errno set.
 */
struct nl_sock;
struct nl_sock *nl_sock_open(int bus, unsigned int groups, size_t rx_bytes);
void nl_sock_close(struct nl_sock *s); /* NULL-safe */
int nl_sock_fd(const struct nl_sock *s);
uint32_t nl_sock_portid(const struct nl_sock *s);
/* Socket buffers of bytes each way (FORCE where allowed), best effort. */
void nl_sock_set_buffers(struct nl_sock *s, int bytes);

/* Reserves n sequence numbers and returns the first. */
uint32_t nl_sock_next_seq(struct nl_sock *s, uint32_t n);

/* Sends buf whole (retried on EINTR): 0, -errno, -EMSGSIZE if cut short. */
int nl_sock_send(struct nl_sock *s, const void *buf, size_t len);

/*
 * Receives one datagram into the socket's buffer and points *buf at it.
 * Waits up to timeout_ms (0: not at all, -EAGAIN) and then returns
 * -ETIMEDOUT. A datagram larger than the buffer is -EMSGSIZE, one not
 * from the kernel -EPERM (both wiped); -ENOBUFS is a receive overrun.
 */
ssize_t nl_sock_recv(struct nl_sock *s, void **buf, int timeout_ms);
/* Wipes the first len bytes of the socket's receive buffer. */
void nl_sock_wipe_rx(struct nl_sock *s, size_t len);

/*
 * The request/ack loop, after the request was sent: feeds each datagram
 * received to feed(buf, len, arg), wiping it afterwards, until feed
 * returns 1 (the exchange is over) or -errno. Every datagram waits at most
 * timeout_ms. Returns 1 or -errno (feed's or nl_sock_recv's).
 */
int nl_sock_read(struct nl_sock *s, int timeout_ms,
		 int (*feed)(const void *buf, size_t len, void *arg),
		 void *arg);

/*
 * Replaces mnl_nlmsg_ok()/mnl_nlmsg_next(), which compare nlmsg_len as an
 * int: a length of 2 GiB or more passed. ok: a whole message header and
 * the whole message lie within len bytes. next: the message after nlh;
 * *len shrinks by nlh's aligned length (to 0 at the buffer's end).
 */
bool nl_msg_ok(const struct nlmsghdr *nlh, size_t len);
struct nlmsghdr *nl_msg_next(const struct nlmsghdr *nlh, size_t *len);

/*
 * Walks the messages of one datagram and calls one(nlh, arg) for those
 * that answer request seq of port portid (others are stale replies of an
 * earlier exchange). Returns one's first non-zero result, -EBADMSG if the
 * datagram ends in a partial message, else 0.
 */
int nl_walk(const void *buf, size_t len, uint32_t seq, uint32_t portid,
	    int (*one)(const struct nlmsghdr *nlh, void *arg), void *arg);

/*
 * Parses an NLMSG_ERROR (struct nlmsgerr) or NLMSG_DONE (an int, which
 * may be missing) message: *err is 0 (ack, end of dump) or -errno; the
 * kernel's extended-ack text, if any, is copied into msg ("" otherwise;
 * len may be 0). -EBADMSG if it is malformed: too short, a code that is
 * no -errno, acknowledgement TLVs that do not fit the message.
 */
int nl_err_parse(const struct nlmsghdr *nlh, int *err, char *msg, size_t len);

/* libc-only secret wipe. */
void nl_wipe(void *p, size_t len);

#endif
