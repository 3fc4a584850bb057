/* SPDX-License-Identifier: MIT */
/* The input of fuzz_xfrm_reply, shared with its seed generator. */
#ifndef VXSEC_FUZZ_XFRM_REPLY_H
#define VXSEC_FUZZ_XFRM_REPLY_H

/*
 * [mode] [flags] then datagrams, each [length, 2 bytes little-endian]
 * [bytes]; a length past the end takes what is left. Replies answer
 * request XFRM_REPLY_SEQ of port XFRM_REPLY_PORTID (a batch's requests
 * are numbered from it). flags: bit 0, a dump's callback says stop at its
 * third object; a batch holds 1 + flags % 8 requests.
 */
#define XFRM_REPLY_SEQ 0x10000u
#define XFRM_REPLY_PORTID 0x1234u
#define XFRM_REPLY_DGRAMS 8

enum xfrm_reply_mode {
	XFRM_REPLY_SA_DUMP,	/* xfrm_dump_parse(), SAs */
	XFRM_REPLY_POLICY_DUMP, /* xfrm_dump_parse(), policies */
	XFRM_REPLY_BATCH,	/* xfrm_batch_parse_replies() */
	XFRM_REPLY_EACH, /* every message: nl_err_parse(), xfrm_parse_event() */
	XFRM_REPLY_MODES,
};

#endif
