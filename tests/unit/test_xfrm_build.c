// SPDX-License-Identifier: MIT
/* Unit tests: the bytes xfrm/ builders produce, attribute by attribute. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xfrm/xfrm_int.h"

struct attrs {
	const struct nlattr *a[XFRMA_MAX + 1];
	int count[XFRMA_MAX + 1];
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct attrs *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	assert_true(type <= XFRMA_MAX);
	t->a[type] = attr;
	t->count[type]++;
	return MNL_CB_OK;
}

static void get_attrs(const struct nlmsghdr *nlh, size_t hdr, struct attrs *t)
{
	memset(t, 0, sizeof(*t));
	assert_true(mnl_attr_parse(nlh, (unsigned int)hdr, attr_cb, t) >= 0);
}

static void make_sa(struct xfrm_sa *sa, int family, uint8_t key_len)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = family;
	if (family == AF_INET) {
		inet_pton(AF_INET, "192.0.2.1", &sa->src.v4);
		inet_pton(AF_INET, "192.0.2.2", &sa->dst.v4);
	} else {
		inet_pton(AF_INET6, "2001:db8::1", &sa->src.v6);
		inet_pton(AF_INET6, "2001:db8::2", &sa->dst.v6);
	}
	sa->spi = 0x01000002;
	sa->reqid = 0x1234;
	sa->key_len = key_len;
	for (uint8_t i = 0; i < key_len; i++)
		sa->key[i] = (uint8_t)(0xa0 + i);
	sa->icv_bits = 128;
	sa->esn = true;
	sa->replay_window = 1024;
}

static size_t count_key(const uint8_t *buf, size_t len,
			const struct xfrm_sa *sa)
{
	size_t n = 0;

	for (size_t i = 0; i + sa->key_len <= len; i++)
		if (!memcmp(buf + i, sa->key, sa->key_len))
			n++;
	return n;
}

static void test_sa_add_ipv4(void **state)
{
	uint8_t buf[XFRM_REQ_BYTES] __attribute__((aligned(8)));
	const struct xfrm_usersa_info *info;
	const struct xfrm_algo_aead *aead;
	const struct xfrm_replay_state_esn *esn;
	const struct xfrm_mark *mark;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct xfrm_sa sa;
	struct attrs t;
	int n;

	(void)state;
	make_sa(&sa, AF_INET, 36);
	sa.mark = 0x10;
	sa.mark_mask = 0xff;
	sa.lft.soft_bytes = 1000;
	sa.lft.hard_secs = 60;
	n = xfrm_build_req(buf, sizeof(buf), XFRM_REQ_SA_ADD, &sa, NULL, 77,
			   NLM_F_ACK);
	assert_true(n > 0);
	assert_int_equal(nlh->nlmsg_len, n);
	assert_int_equal(n % 4, 0);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_NEWSA);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_seq, 77);

	info = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(info->family, AF_INET);
	assert_int_equal(info->id.proto, IPPROTO_ESP);
	assert_int_equal(info->id.spi, htonl(0x01000002));
	assert_memory_equal(&info->id.daddr, &sa.dst.v4, 4);
	assert_memory_equal(&info->saddr, &sa.src.v4, 4);
	assert_int_equal(info->mode, XFRM_MODE_TRANSPORT);
	assert_int_equal(info->reqid, 0x1234);
	assert_int_equal(info->seq, 0);
	assert_int_equal(info->flags, XFRM_STATE_ESN);
	assert_int_equal(info->replay_window, 0); /* ESN: in the attribute */
	assert_int_equal(info->sel.prefixlen_s, 32);
	assert_int_equal(info->sel.prefixlen_d, 32);
	assert_int_equal(info->lft.soft_byte_limit, 1000);
	assert_true(info->lft.hard_byte_limit == XFRM_INF);
	assert_true(info->lft.soft_packet_limit == XFRM_INF);
	assert_int_equal(info->lft.hard_add_expires_seconds, 60);

	get_attrs(nlh, sizeof(*info), &t);
	assert_int_equal(t.count[XFRMA_ALG_AEAD], 1);
	aead = mnl_attr_get_payload(t.a[XFRMA_ALG_AEAD]);
	assert_string_equal(aead->alg_name, "rfc4106(gcm(aes))");
	assert_int_equal(aead->alg_key_len, 288);
	assert_int_equal(aead->alg_icv_len, 128);
	assert_int_equal(mnl_attr_get_payload_len(t.a[XFRMA_ALG_AEAD]),
			 sizeof(*aead) + 36);
	assert_memory_equal(aead->alg_key, sa.key, 36);
	/* The key sits exactly once in the message, inside the AEAD attr. */
	assert_int_equal(count_key(buf, (size_t)n, &sa), 1);
	assert_ptr_equal((const uint8_t *)aead->alg_key,
			 memmem(buf, (size_t)n, sa.key, sa.key_len));

	esn = mnl_attr_get_payload(t.a[XFRMA_REPLAY_ESN_VAL]);
	assert_int_equal(esn->bmp_len, 32);
	assert_int_equal(esn->replay_window, 1024);
	assert_int_equal(esn->oseq, 0);
	assert_int_equal(mnl_attr_get_payload_len(t.a[XFRMA_REPLAY_ESN_VAL]),
			 sizeof(*esn) + 32 * 4);
	mark = mnl_attr_get_payload(t.a[XFRMA_MARK]);
	assert_int_equal(mark->v, 0x10);
	assert_int_equal(mark->m, 0xff);
}

static void test_sa_update_ipv6_legacy(void **state)
{
	uint8_t buf[XFRM_REQ_BYTES] __attribute__((aligned(8)));
	const struct xfrm_usersa_info *info;
	const struct xfrm_algo_aead *aead;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct xfrm_sa sa;
	struct attrs t;

	(void)state;
	make_sa(&sa, AF_INET6, 20);
	sa.esn = false;
	sa.replay_window = 32;
	sa.icv_bits = 64;
	assert_true(xfrm_build_req(buf, sizeof(buf), XFRM_REQ_SA_UPDATE, &sa,
				   NULL, 1, 0) > 0);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_UPDSA);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST);
	info = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(info->family, AF_INET6);
	assert_memory_equal(&info->id.daddr, &sa.dst.v6, 16);
	assert_int_equal(info->sel.prefixlen_d, 128);
	assert_int_equal(info->flags, 0);
	assert_int_equal(info->replay_window, 32);
	get_attrs(nlh, sizeof(*info), &t);
	assert_null(t.a[XFRMA_REPLAY_ESN_VAL]);
	assert_null(t.a[XFRMA_MARK]);
	aead = mnl_attr_get_payload(t.a[XFRMA_ALG_AEAD]);
	assert_int_equal(aead->alg_key_len, 160);
	assert_int_equal(aead->alg_icv_len, 64);
}

static void test_sa_rejected(void **state)
{
	uint8_t buf[XFRM_REQ_BYTES] __attribute__((aligned(8)));
	struct xfrm_sa sa;

	(void)state;
	make_sa(&sa, AF_INET, 36);
	sa.spi = 255;
	assert_int_equal(xfrm_build_req(buf, sizeof(buf), XFRM_REQ_SA_ADD, &sa,
					NULL, 1, 0),
			 -EINVAL);
	make_sa(&sa, AF_INET, 16);
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	make_sa(&sa, AF_INET, 36);
	sa.icv_bits = 100;
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	make_sa(&sa, AF_INET, 36);
	sa.family = AF_UNIX;
	assert_int_equal(xfrm_sa_check(&sa), -EAFNOSUPPORT);
	make_sa(&sa, AF_INET, 36);
	sa.esn = false;
	sa.replay_window = 64;
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	make_sa(&sa, AF_INET, 36);
	sa.replay_window = 0;
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	make_sa(&sa, AF_INET, 36);
	sa.replay_window = 4097;
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	make_sa(&sa, AF_INET, 36);
	assert_int_equal(xfrm_sa_check(&sa), 0);
}

/* Too small for the ESN bitmap: the key already written is wiped. */
static void test_sa_short_buffer_wipes_key(void **state)
{
	uint8_t buf[XFRM_REQ_BYTES] __attribute__((aligned(8)));
	size_t upto =
		NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct xfrm_usersa_info)) +
		NLA_HDRLEN + NLA_ALIGN(sizeof(struct xfrm_algo_aead) + 36) + 8;
	struct xfrm_sa sa;

	(void)state;
	make_sa(&sa, AF_INET, 36);
	memset(buf, 0x55, sizeof(buf));
	assert_int_equal(
		xfrm_build_req(buf, upto, XFRM_REQ_SA_ADD, &sa, NULL, 1, 0),
		-EMSGSIZE);
	assert_int_equal(count_key(buf, sizeof(buf), &sa), 0);
	assert_int_equal(
		xfrm_build_req(buf, 10, XFRM_REQ_SA_ADD, &sa, NULL, 1, 0),
		-EMSGSIZE);
}

static void test_sa_id(void **state)
{
	uint8_t buf[256] __attribute__((aligned(8)));
	const struct xfrm_usersa_id *id;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct xfrm_sa sa;
	struct attrs t;

	(void)state;
	make_sa(&sa, AF_INET, 36);
	assert_true(xfrm_build_sa_id(buf, sizeof(buf), XFRM_MSG_DELSA, &sa, 9,
				     NLM_F_ACK) > 0);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_DELSA);
	id = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(id->spi, htonl(sa.spi));
	assert_int_equal(id->family, AF_INET);
	assert_int_equal(id->proto, IPPROTO_ESP);
	assert_memory_equal(&id->daddr, &sa.dst.v4, 4);
	get_attrs(nlh, sizeof(*id), &t);
	assert_memory_equal(mnl_attr_get_payload(t.a[XFRMA_SRCADDR]),
			    &sa.src.v4, 4);
	assert_null(t.a[XFRMA_ALG_AEAD]);
	assert_int_equal(count_key(buf, nlh->nlmsg_len, &sa), 0);
}

static void make_policy(struct xfrm_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->sel.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &p->sel.src.v4);
	inet_pton(AF_INET, "192.0.2.2", &p->sel.dst.v4);
	p->sel.src_plen = p->sel.dst_plen = 32;
	p->sel.proto = IPPROTO_UDP;
	p->sel.dport = 4789;
	p->dir = XFRM_OUT;
	p->priority = 100;
	p->has_tmpl = true;
	p->tmpl_reqid = 0x1234;
	p->tmpl_spi = 0x02000001;
}

/* An SA delete is the SA's id message; kind and object must agree. */
static void test_build_req_kinds(void **state)
{
	uint8_t req[256] __attribute__((aligned(8)));
	uint8_t id[256] __attribute__((aligned(8)));
	struct xfrm_policy p;
	struct xfrm_sa sa;
	int n;

	(void)state;
	make_sa(&sa, AF_INET, 36);
	make_policy(&p);
	n = xfrm_build_req(req, sizeof(req), XFRM_REQ_SA_DEL, &sa, NULL, 9,
			   NLM_F_ACK);
	assert_true(n > 0);
	assert_int_equal(xfrm_build_sa_id(id, sizeof(id), XFRM_MSG_DELSA, &sa,
					  9, NLM_F_ACK),
			 n);
	assert_memory_equal(req, id, (size_t)n);
	assert_int_equal(xfrm_build_req(req, sizeof(req), XFRM_REQ_SA_ADD, NULL,
					&p, 1, 0),
			 -EINVAL);
	assert_int_equal(xfrm_build_req(req, sizeof(req), XFRM_REQ_POLICY_ADD,
					&sa, NULL, 1, 0),
			 -EINVAL);
	assert_int_equal(xfrm_build_req(req, sizeof(req), XFRM_REQ_POLICY_DEL,
					&sa, &p, 1, 0),
			 -EINVAL);
	assert_int_equal(
		xfrm_build_req(req, sizeof(req),
			       (enum xfrm_req_kind)(XFRM_REQ_POLICY_DEL + 1),
			       NULL, &p, 1, 0),
		-EINVAL);
	xfrm_sa_wipe(&sa);
}

static void test_policy_add(void **state)
{
	uint8_t buf[512] __attribute__((aligned(8)));
	const struct xfrm_userpolicy_info *info;
	const struct xfrm_user_tmpl *tmpl;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct xfrm_policy p;
	struct attrs t;

	(void)state;
	make_policy(&p);
	assert_true(xfrm_build_req(buf, sizeof(buf), XFRM_REQ_POLICY_UPDATE,
				   NULL, &p, 5, 0) > 0);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_UPDPOLICY);
	info = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(info->sel.family, AF_INET);
	assert_int_equal(info->sel.dport, htons(4789));
	assert_int_equal(info->sel.dport_mask, 0xffff);
	assert_int_equal(info->sel.sport_mask, 0);
	assert_int_equal(info->sel.proto, IPPROTO_UDP);
	assert_int_equal(info->dir, XFRM_POLICY_OUT);
	assert_int_equal(info->priority, 100);
	assert_int_equal(info->action, XFRM_POLICY_ALLOW);
	assert_true(info->lft.hard_byte_limit == XFRM_INF);
	get_attrs(nlh, sizeof(*info), &t);
	assert_int_equal(t.count[XFRMA_TMPL], 1);
	tmpl = mnl_attr_get_payload(t.a[XFRMA_TMPL]);
	assert_int_equal(tmpl->id.proto, IPPROTO_ESP);
	assert_int_equal(tmpl->id.spi, htonl(0x02000001));
	assert_int_equal(tmpl->mode, XFRM_MODE_TRANSPORT);
	assert_int_equal(tmpl->reqid, 0x1234);
	assert_int_equal(tmpl->family, AF_INET);
	assert_int_equal(tmpl->aalgos, ~0u);
	assert_int_equal(tmpl->ealgos, ~0u);
	assert_int_equal(tmpl->calgos, ~0u);
	assert_null(t.a[XFRMA_MARK]);
}

static void test_policy_block_and_del(void **state)
{
	uint8_t buf[512] __attribute__((aligned(8)));
	const struct xfrm_userpolicy_info *info;
	const struct xfrm_userpolicy_id *id;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct xfrm_policy p;
	struct attrs t;

	(void)state;
	make_policy(&p);
	p.has_tmpl = false;
	p.action = XFRM_BLOCK;
	p.sel.dport = 0;
	p.mark = 1;
	p.mark_mask = 3;
	assert_true(xfrm_build_req(buf, sizeof(buf), XFRM_REQ_POLICY_ADD, NULL,
				   &p, 5, 0) > 0);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_NEWPOLICY);
	info = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(info->action, XFRM_POLICY_BLOCK);
	assert_int_equal(info->sel.dport_mask, 0);
	get_attrs(nlh, sizeof(*info), &t);
	assert_null(t.a[XFRMA_TMPL]);
	assert_non_null(t.a[XFRMA_MARK]);

	p.dir = XFRM_IN;
	assert_true(xfrm_build_req(buf, sizeof(buf), XFRM_REQ_POLICY_DEL, NULL,
				   &p, 6, 0) > 0);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_DELPOLICY);
	id = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(id->dir, XFRM_POLICY_IN);
	assert_int_equal(id->sel.prefixlen_d, 32);
	get_attrs(nlh, sizeof(*id), &t);
	assert_null(t.a[XFRMA_TMPL]);
	assert_non_null(t.a[XFRMA_MARK]);
}

static void test_policy_rejected(void **state)
{
	struct xfrm_policy p;

	(void)state;
	make_policy(&p);
	p.sel.dst_plen = 33;
	assert_int_equal(xfrm_policy_check(&p), -EINVAL);
	make_policy(&p);
	p.sel.proto = 0; /* a port without a protocol */
	assert_int_equal(xfrm_policy_check(&p), -EINVAL);
	make_policy(&p);
	p.dir = (enum xfrm_dir)3;
	assert_int_equal(xfrm_policy_check(&p), -EINVAL);
	make_policy(&p);
	p.tmpl_spi = 12;
	assert_int_equal(xfrm_policy_check(&p), -EINVAL);
	make_policy(&p);
	p.sel.family = AF_INET6;
	p.sel.dst_plen = 128;
	assert_int_equal(xfrm_policy_check(&p), 0);
}

static void test_batch_chunks(void **state)
{
	struct xfrm_batch *b = xfrm_batch_new();
	const struct nlmsghdr *nlh;
	struct xfrm_policy p;
	struct xfrm_sa sa;
	size_t c, len, first, count, next = 0, i;
	const void *buf;
	int left;

	(void)state;
	make_policy(&p);
	make_sa(&sa, AF_INET, 36);
	for (i = 0; i < 3000; i++) {
		p.tmpl_spi = 0x01000000 | (uint32_t)i;
		assert_int_equal(xfrm_batch_policy(b, XFRM_OP_ADD, &p), (int)i);
	}
	for (; i < 3600; i++)
		assert_int_equal(xfrm_batch_sa(b, XFRM_OP_ADD, &sa), (int)i);
	assert_int_equal(xfrm_batch_count(b), 3600);
	assert_true(xfrm_batch_chunks(b) >= 5);
	xfrm_batch_set_seq(b, 1000);
	for (c = 0; c < xfrm_batch_chunks(b); c++) {
		buf = xfrm_batch_chunk(b, c, &len, &first, &count);
		assert_true(len <= 128 * 1024);
		assert_true(count <= 1024);
		assert_int_equal(first, next);
		next += count;
		left = (int)len;
		i = first;
		for (nlh = buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left), i++) {
			assert_int_equal(nlh->nlmsg_seq, 1000 + i);
			assert_int_equal(!!(nlh->nlmsg_flags & NLM_F_ACK),
					 i == first + count - 1);
		}
		assert_int_equal(left, 0);
		assert_int_equal(i, first + count);
	}
	assert_int_equal(next, 3600);
	/* The chunk holding SAs holds keys until it is wiped. */
	c = xfrm_batch_chunks(b) - 1;
	buf = xfrm_batch_chunk(b, c, &len, &first, &count);
	assert_true(count_key(buf, len, &sa) > 0);
	xfrm_batch_wipe_chunk(b, c);
	assert_int_equal(count_key(buf, len, &sa), 0);
	xfrm_batch_reset(b);
	assert_int_equal(xfrm_batch_count(b), 0);
	assert_int_equal(xfrm_batch_chunks(b), 0);
	assert_true(xfrm_batch_policy(b, XFRM_OP_ADD, &p) == 0);
	xfrm_batch_free(b);
	xfrm_batch_free(NULL);
}

static void test_batch_refuses_bad_object(void **state)
{
	struct xfrm_batch *b = xfrm_batch_new();
	struct xfrm_sa sa;

	(void)state;
	make_sa(&sa, AF_INET, 36);
	sa.icv_bits = 0;
	assert_int_equal(xfrm_batch_sa(b, XFRM_OP_ADD, &sa), -EINVAL);
	assert_int_equal(xfrm_batch_count(b), 0);
	xfrm_batch_free(b);
}

/* An op outside enum xfrm_op is refused before anything is queued. */
static void test_batch_refuses_unknown_op(void **state)
{
	struct xfrm_batch *b = xfrm_batch_new();
	char desc[XFRM_DESC_MAX + 32];
	struct xfrm_policy p;
	struct xfrm_sa sa;

	(void)state;
	make_sa(&sa, AF_INET, 36);
	make_policy(&p);
	assert_int_equal(xfrm_batch_sa(b, (enum xfrm_op)(XFRM_OP_DEL + 1), &sa),
			 -EINVAL);
	assert_int_equal(xfrm_batch_sa(b, (enum xfrm_op) - 1, &sa), -EINVAL);
	assert_int_equal(
		xfrm_batch_policy(b, (enum xfrm_op)(XFRM_OP_DEL + 1), &p),
		-EINVAL);
	assert_int_equal(xfrm_batch_count(b), 0);
	assert_int_equal(xfrm_batch_chunks(b), 0);
	/* Known ops queue, each named by what it does. */
	assert_int_equal(xfrm_batch_sa(b, XFRM_OP_UPDATE, &sa), 0);
	assert_int_equal(xfrm_batch_policy(b, XFRM_OP_DEL, &p), 1);
	assert_string_equal(
		xfrm_batch_describe(b, 0, desc, sizeof(desc)),
		"request 0: update SA spi 0x01000002 192.0.2.1->192.0.2.2 "
		"reqid 4660");
	assert_string_equal(xfrm_batch_describe(b, 1, desc, sizeof(desc)),
			    "request 1: delete policy out "
			    "192.0.2.1/32->192.0.2.2/32 proto 17 dport 4789");
	xfrm_batch_free(b);
	xfrm_sa_wipe(&sa);
}

/*
 * A chunk filled to its last request, then an add refused at queue time:
 * the chunk opened for it stays empty and must be neither counted nor
 * sent (an empty sendmsg gets no ack: the send waited 10 s for one).
 */
static void test_batch_full_chunk_then_refused(void **state)
{
	struct xfrm_batch *b = xfrm_batch_new();
	size_t len, first, count, i;
	struct xfrm_sa sa;

	(void)state;
	make_sa(&sa, AF_INET, 36);
	for (i = 0; i < 1024; i++) { /* deletes: 1024 fill a chunk */
		sa.spi = 0x01000000 | (uint32_t)i;
		assert_int_equal(xfrm_batch_sa(b, XFRM_OP_DEL, &sa), (int)i);
	}
	assert_int_equal(xfrm_batch_chunks(b), 1);
	sa.icv_bits = 0;
	assert_int_equal(xfrm_batch_sa(b, XFRM_OP_ADD, &sa), -EINVAL);
	assert_int_equal(xfrm_batch_count(b), 1024);
	assert_int_equal(xfrm_batch_chunks(b), 1);
	for (i = 0; i < xfrm_batch_chunks(b); i++) {
		xfrm_batch_chunk(b, i, &len, &first, &count);
		assert_true(len > 0);
		assert_true(count > 0);
	}
	/* The next good request goes to the chunk opened before. */
	sa.icv_bits = 128;
	assert_int_equal(xfrm_batch_sa(b, XFRM_OP_ADD, &sa), 1024);
	assert_int_equal(xfrm_batch_chunks(b), 2);
	xfrm_batch_chunk(b, 1, &len, &first, &count);
	assert_int_equal(first, 1024);
	assert_int_equal(count, 1);
	xfrm_batch_free(b);
	xfrm_sa_wipe(&sa);
}

/* ESP in UDP: one XFRMA_ENCAP, ports in network order, on add and update. */
static void test_sa_encap(void **state)
{
	uint8_t buf[XFRM_REQ_BYTES] __attribute__((aligned(8)));
	const struct xfrm_encap_tmpl *e;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct xfrm_sa sa, back;
	struct attrs t;
	int n;

	(void)state;
	make_sa(&sa, AF_INET, 36);
	assert_true(xfrm_build_req(buf, sizeof(buf), XFRM_REQ_SA_ADD, &sa, NULL,
				   1, 0) > 0);
	get_attrs(nlh, sizeof(struct xfrm_usersa_info), &t);
	assert_null(t.a[XFRMA_ENCAP]); /* plain ESP: no template */

	sa.encap_type = XFRM_ENCAP_ESPINUDP;
	sa.encap_sport = 4500;
	sa.encap_dport = 61001;
	inet_pton(AF_INET, "198.51.100.7", &sa.encap_oa.v4);
	for (int kind = XFRM_REQ_SA_ADD; kind <= XFRM_REQ_SA_UPDATE; kind++) {
		n = xfrm_build_req(buf, sizeof(buf), (enum xfrm_req_kind)kind,
				   &sa, NULL, 1, 0);
		assert_true(n > 0);
		get_attrs(nlh, sizeof(struct xfrm_usersa_info), &t);
		assert_int_equal(t.count[XFRMA_ENCAP], 1);
		assert_int_equal(mnl_attr_get_payload_len(t.a[XFRMA_ENCAP]),
				 sizeof(*e));
		e = mnl_attr_get_payload(t.a[XFRMA_ENCAP]);
		assert_int_equal(e->encap_type, UDP_ENCAP_ESPINUDP);
		assert_int_equal(e->encap_sport, htons(4500));
		assert_int_equal(e->encap_dport, htons(61001));
		assert_memory_equal(&e->encap_oa, &sa.encap_oa.v4, 4);
		/* The kernel's reply has the same shape: read back equal. */
		nlh->nlmsg_type = XFRM_MSG_NEWSA;
		assert_int_equal(xfrm_parse_sa(nlh, &back), 0);
		assert_int_equal(back.encap_type, XFRM_ENCAP_ESPINUDP);
		assert_int_equal(back.encap_sport, 4500);
		assert_int_equal(back.encap_dport, 61001);
		assert_memory_equal(&back.encap_oa, &sa.encap_oa,
				    sizeof(back.encap_oa));
		xfrm_sa_wipe(&back);
	}
	/* A delete names the SA only. */
	assert_true(xfrm_build_req(buf, sizeof(buf), XFRM_REQ_SA_DEL, &sa, NULL,
				   1, 0) > 0);
	get_attrs(nlh, sizeof(struct xfrm_usersa_id), &t);
	assert_null(t.a[XFRMA_ENCAP]);

	make_sa(&sa, AF_INET6, 36);
	sa.encap_type = XFRM_ENCAP_ESPINUDP;
	sa.encap_sport = sa.encap_dport = 4500;
	assert_true(xfrm_build_req(buf, sizeof(buf), XFRM_REQ_SA_ADD, &sa, NULL,
				   1, 0) > 0);
	get_attrs(nlh, sizeof(struct xfrm_usersa_info), &t);
	e = mnl_attr_get_payload(t.a[XFRMA_ENCAP]);
	assert_int_equal(e->encap_dport, htons(4500));
	for (size_t i = 0; i < sizeof(e->encap_oa); i++)
		assert_int_equal(((const uint8_t *)&e->encap_oa)[i], 0);
	xfrm_sa_wipe(&sa);
}

/* An encap half set, or of a type we do not speak, is refused. */
static void test_sa_encap_rejected(void **state)
{
	uint8_t buf[XFRM_REQ_BYTES] __attribute__((aligned(8)));
	char desc[XFRM_DESC_MAX];
	struct xfrm_sa sa;

	(void)state;
	make_sa(&sa, AF_INET, 36);
	sa.encap_dport = 4500; /* a port without a type */
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	assert_int_equal(xfrm_build_req(buf, sizeof(buf), XFRM_REQ_SA_ADD, &sa,
					NULL, 1, 0),
			 -EINVAL);
	make_sa(&sa, AF_INET, 36);
	sa.encap_oa.raw[0] = 10;
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	make_sa(&sa, AF_INET, 36);
	sa.encap_type = 7; /* TCP_ENCAP_ESPINTCP */
	sa.encap_sport = sa.encap_dport = 4500;
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	sa.encap_type = 1; /* UDP_ENCAP_ESPINUDP_NON_IKE */
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	sa.encap_type = XFRM_ENCAP_ESPINUDP;
	sa.encap_sport = 0;
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	sa.encap_sport = 4500;
	sa.encap_dport = 0;
	assert_int_equal(xfrm_sa_check(&sa), -EINVAL);
	sa.encap_dport = 4501;
	assert_int_equal(xfrm_sa_check(&sa), 0);
	assert_string_equal(xfrm_sa_describe(&sa, desc, sizeof(desc)),
			    "SA spi 0x01000002 192.0.2.1->192.0.2.2 reqid 4660 "
			    "encap espinudp 4500->4501");
	xfrm_sa_wipe(&sa);
}

static void test_text_helpers(void **state)
{
	char buf[XFRM_DESC_MAX];
	union xfrm_ip ip;
	struct xfrm_policy p;
	struct xfrm_sa sa;
	int family;

	(void)state;
	assert_int_equal(xfrm_ip_parse("fd00::7", &family, &ip), 0);
	assert_int_equal(family, AF_INET6);
	assert_string_equal(xfrm_ip_fmt(family, &ip, buf, sizeof(buf)),
			    "fd00::7");
	assert_int_equal(xfrm_ip_parse("10.1.2.3", &family, &ip), 0);
	assert_int_equal(family, AF_INET);
	assert_int_equal(xfrm_ip_parse("10.1.2", &family, &ip), -EINVAL);
	make_sa(&sa, AF_INET, 36);
	assert_string_equal(
		xfrm_sa_describe(&sa, buf, sizeof(buf)),
		"SA spi 0x01000002 192.0.2.1->192.0.2.2 reqid 4660");
	make_policy(&p);
	assert_string_equal(xfrm_policy_describe(&p, buf, sizeof(buf)),
			    "policy out 192.0.2.1/32->192.0.2.2/32 proto 17 "
			    "dport 4789");
	xfrm_sa_wipe(&sa);
	for (size_t i = 0; i < sizeof(sa); i++)
		assert_int_equal(((const uint8_t *)&sa)[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sa_add_ipv4),
		cmocka_unit_test(test_sa_update_ipv6_legacy),
		cmocka_unit_test(test_sa_rejected),
		cmocka_unit_test(test_sa_short_buffer_wipes_key),
		cmocka_unit_test(test_sa_id),
		cmocka_unit_test(test_build_req_kinds),
		cmocka_unit_test(test_policy_add),
		cmocka_unit_test(test_policy_block_and_del),
		cmocka_unit_test(test_policy_rejected),
		cmocka_unit_test(test_batch_chunks),
		cmocka_unit_test(test_batch_refuses_bad_object),
		cmocka_unit_test(test_batch_refuses_unknown_op),
		cmocka_unit_test(test_batch_full_chunk_then_refused),
		cmocka_unit_test(test_sa_encap),
		cmocka_unit_test(test_sa_encap_rejected),
		cmocka_unit_test(test_text_helpers),
	};

	return cmocka_run_group_tests_name("xfrm_build", tests, NULL, NULL);
}
