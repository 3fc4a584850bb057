/* SPDX-License-Identifier: MIT */
/* xfrm internals: message builders and reply parsers, shared with tests. */
#ifndef VXSEC_XFRM_INT_H
#define VXSEC_XFRM_INT_H

#include <linux/netlink.h>
#include <linux/udp.h>
#include <linux/xfrm.h>

#include "nl/nl.h"
#include "xfrm.h"

#define XFRM_AEAD_NAME "rfc4106(gcm(aes))"
#define XFRM_SPI_MIN 256u
#define XFRM_REPLAY_MAX 4096u /* bits; the kernel's XFRMA_REPLAY_ESN_MAX*8 */

_Static_assert(XFRM_ENCAP_ESPINUDP == UDP_ENCAP_ESPINUDP,
	       "xfrm.h's encap type is the kernel's");

/* Largest message a builder writes: usersa_info + aead(36) + esn bitmap. */
#define XFRM_REQ_BYTES 2048

/* A request's kind is its object's ADD kind + its enum xfrm_op. */
enum xfrm_req_kind {
	XFRM_REQ_SA_ADD,
	XFRM_REQ_SA_UPDATE,
	XFRM_REQ_SA_DEL,
	XFRM_REQ_POLICY_ADD,
	XFRM_REQ_POLICY_UPDATE,
	XFRM_REQ_POLICY_DEL,
};

_Static_assert(XFRM_REQ_SA_UPDATE == XFRM_REQ_SA_ADD + XFRM_OP_UPDATE &&
		       XFRM_REQ_SA_DEL == XFRM_REQ_SA_ADD + XFRM_OP_DEL &&
		       XFRM_REQ_POLICY_UPDATE ==
			       XFRM_REQ_POLICY_ADD + XFRM_OP_UPDATE &&
		       XFRM_REQ_POLICY_DEL == XFRM_REQ_POLICY_ADD + XFRM_OP_DEL,
	       "request kinds follow enum xfrm_op");

/* Only a known op added to an ADD kind gives a kind of the same object. */
static inline bool xfrm_op_valid(enum xfrm_op op)
{
	return (unsigned int)op <= XFRM_OP_DEL;
}

/*
 * Builders write one complete netlink message into buf and return its
 * length, or -EINVAL (bad object) / -EMSGSIZE (buf too small). flags are
 * the nlmsg_flags beyond NLM_F_REQUEST.
 *
 * xfrm_build_req: the request of kind, on sa for SA kinds or p for policy
 * kinds (the other NULL); an SA delete is the SA's id message.
 */
int xfrm_build_req(void *buf, size_t len, enum xfrm_req_kind kind,
		   const struct xfrm_sa *sa, const struct xfrm_policy *p,
		   uint32_t seq, uint16_t flags);
int xfrm_build_sa_id(void *buf, size_t len, uint16_t type,
		     const struct xfrm_sa *sa, uint32_t seq, uint16_t flags);
int xfrm_build_dump(void *buf, size_t len, uint16_t type, uint32_t seq);
int xfrm_build_flush(void *buf, size_t len, uint16_t type, uint32_t seq);

/* Parsers of kernel messages. -EBADMSG on anything malformed. */
int xfrm_parse_sa(const struct nlmsghdr *nlh, struct xfrm_sa *out);
int xfrm_parse_policy(const struct nlmsghdr *nlh, struct xfrm_policy *out);
int xfrm_parse_event(const struct nlmsghdr *nlh, struct xfrm_event *ev);

/*
 * Feeds one received buffer of replies to a sent batch: each error is
 * matched to its request by sequence number. Returns 1 once the reply to
 * the last request of the chunk in flight has been seen, 0 if more are
 * expected, -EBADMSG if a reply is malformed or matches nothing.
 */
int xfrm_batch_parse_replies(struct xfrm_batch *b, const void *buf, size_t len,
			     uint32_t portid);

/* Dump reply state machine, fed one received buffer at a time. */
struct xfrm_dump {
	uint32_t seq, portid;
	uint16_t type; /* XFRM_MSG_NEWSA or XFRM_MSG_NEWPOLICY */
	bool intr;     /* NLM_F_DUMP_INTR seen */
	int stop;      /* non-zero value returned by a callback */
	int (*msg)(const struct nlmsghdr *nlh, void *arg);
	void *arg;
	char extack[XFRM_EXTACK_MAX];
};

/* Returns 0 to go on, 1 at NLMSG_DONE, or -errno (kernel error, -EBADMSG). */
int xfrm_dump_parse(struct xfrm_dump *d, const void *buf, size_t len);

/* Internal batch access for the socket layer. */
size_t xfrm_batch_chunks(const struct xfrm_batch *b);
/* Chunk c: bytes to send; sets the range of request indexes it holds. */
const void *xfrm_batch_chunk(const struct xfrm_batch *b, size_t c, size_t *len,
			     size_t *first, size_t *count);
void xfrm_batch_set_seq(struct xfrm_batch *b, uint32_t base);
/* Once per batch: -EALREADY if it was sent (its buffers are wiped). */
int xfrm_batch_start(struct xfrm_batch *b);
void xfrm_batch_begin_chunk(struct xfrm_batch *b, size_t c);
/* Marks requests of chunk c still without a result with err. */
void xfrm_batch_fail_pending(struct xfrm_batch *b, size_t c, int err);
void xfrm_batch_wipe_chunk(struct xfrm_batch *b, size_t c);

/* The socket's netlink core, for dumps and events. */
struct nl_sock *xfrm_sock_nl(struct xfrm_sock *s);

#endif
