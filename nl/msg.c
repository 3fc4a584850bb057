// SPDX-License-Identifier: MIT
/* nl messages: the walk through a datagram, error and done replies with their extended ack. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"

bool nl_msg_ok(const struct nlmsghdr *nlh, size_t len)
{
	return len >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= len;
}

struct nlmsghdr *nl_msg_next(const struct nlmsghdr *nlh, size_t *len)
{
	size_t step = ((size_t)nlh->nlmsg_len + NLMSG_ALIGNTO - 1) &
		      ~((size_t)NLMSG_ALIGNTO - 1);

	if (step > *len)
		step = *len; /* the last message, unpadded */
	*len -= step;
	return (struct nlmsghdr *)((const uint8_t *)nlh + step);
}

int nl_walk(const void *buf, size_t len, uint32_t seq, uint32_t portid,
	    int (*one)(const struct nlmsghdr *nlh, void *arg), void *arg)
{
	const struct nlmsghdr *nlh = buf;
	size_t left = len;
	int r;

	for (; nl_msg_ok(nlh, left); nlh = nl_msg_next(nlh, &left)) {
		if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid)
			continue; /* stale reply of an earlier exchange */
		r = one(nlh, arg);
		if (r)
			return r;
	}
	return left > 0 ? -EBADMSG : 0;
}

/* The first NLMSGERR_ATTR_MSG from off on, if it is a string. */
static void get_extack(const struct nlmsghdr *nlh, size_t off, char *msg,
		       size_t len)
{
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, off)
	{
		if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return;
		snprintf(msg, len, "%s", mnl_attr_get_str(attr));
		return;
	}
}

/* Where the acknowledgement TLVs begin, or 0 if they cannot. */
static size_t tlv_offset(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off;

	if (nlh->nlmsg_type == NLMSG_DONE)
		return sizeof(int);
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return 0;
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	return MNL_NLMSG_HDRLEN + off > nlh->nlmsg_len ? 0 : off;
}

int nl_err_parse(const struct nlmsghdr *nlh, int *err, char *msg, size_t len)
{
	size_t min, off;
	int code;

	if (len)
		msg[0] = '\0';
	if (nlh->nlmsg_type == NLMSG_ERROR)
		min = sizeof(struct nlmsgerr);
	else if (nlh->nlmsg_type == NLMSG_DONE)
		min = sizeof(int);
	else
		return -EBADMSG;
	if (mnl_nlmsg_get_payload_len(nlh) < min) {
		if (nlh->nlmsg_type == NLMSG_ERROR)
			return -EBADMSG;
		*err = 0; /* a done without a code: the dump went well */
		return 0;
	}
	memcpy(&code, mnl_nlmsg_get_payload(nlh), sizeof(code));
	if (code > 0 || code < -4095)
		return -EBADMSG;
	*err = code;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	off = tlv_offset(nlh);
	if (!off)
		return -EBADMSG; /* with or without a buffer for the text */
	if (len)
		get_extack(nlh, off, msg, len);
	return 0;
}

void nl_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}
