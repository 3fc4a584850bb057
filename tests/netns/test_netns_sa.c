// SPDX-License-Identifier: MIT
/* netns tests: xfrm/ SAs and expire events on a real kernel (ESP needed). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/netns/netns_util.h"
#include "xfrm/xfrm.h"

#define REQID 0x2345u

static struct xfrm_sock *sock;
static bool have_esp;
static char esp_missing[256];

static void make_sa(struct xfrm_sa *sa, const char *src, const char *dst,
		    uint32_t spi, uint8_t key_len)
{
	int family;

	memset(sa, 0, sizeof(*sa));
	assert_int_equal(xfrm_ip_parse(src, &sa->family, &sa->src), 0);
	assert_int_equal(xfrm_ip_parse(dst, &family, &sa->dst), 0);
	sa->spi = spi;
	sa->reqid = REQID;
	sa->key_len = key_len;
	for (uint8_t i = 0; i < key_len; i++)
		sa->key[i] = (uint8_t)(spi * 7 + i * 13);
	sa->icv_bits = 128;
	sa->esn = true;
	sa->replay_window = 1024;
	sa->lft.soft_bytes = 1ull << 40;
	sa->lft.hard_bytes = 1ull << 41;
}

/* An SA add tells whether this kernel has ESP and rfc4106(gcm(aes)). */
static void probe_esp(void)
{
	struct xfrm_sa sa;
	int err;

	make_sa(&sa, "192.0.2.1", "192.0.2.2", 0x100, 36);
	err = xfrm_sa_apply(sock, XFRM_OP_ADD, &sa);
	xfrm_sa_wipe(&sa);
	have_esp = err == 0;
	if (!have_esp)
		snprintf(esp_missing, sizeof(esp_missing), "%s (%s)",
			 strerror(-err), xfrm_sock_extack(sock));
	(void)xfrm_sa_flush(sock);
}

static int setup(void **state)
{
	const char *req = getenv("VXSEC_REQUIRE_ESP");

	(void)state;
	if (netns_test_setup(&sock))
		return -1;
	probe_esp();
	if (have_esp)
		return 0;
	fprintf(stderr,
		"\n*** ESP IS UNAVAILABLE IN THIS KERNEL: SA add failed: %s\n"
		"*** The SA tests are SKIPPED here; they run for real in the "
		"VM lab (make lab).\n\n",
		esp_missing);
	if (req && strcmp(req, "1") == 0) {
		fprintf(stderr, "VXSEC_REQUIRE_ESP=1: failing instead\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xfrm_sock_close(sock);
	return 0;
}

static int clean(void **state)
{
	(void)state;
	return xfrm_sa_flush(sock);
}

#define NEED_ESP()                                                \
	do {                                                      \
		if (!have_esp) {                                  \
			fprintf(stderr,                           \
				"SKIP %s: no ESP in this kernel " \
				"(%s); runs in the VM lab\n",     \
				__func__, esp_missing);           \
			skip();                                   \
		}                                                 \
	} while (0)

static void check_get(const struct xfrm_sa *want)
{
	struct xfrm_sa got;

	assert_int_equal(xfrm_sa_get(sock, want, &got), 0);
	assert_int_equal(got.family, want->family);
	assert_memory_equal(&got.src, &want->src, sizeof(got.src));
	assert_memory_equal(&got.dst, &want->dst, sizeof(got.dst));
	assert_int_equal(got.spi, want->spi);
	assert_int_equal(got.reqid, want->reqid);
	assert_int_equal(got.key_len, want->key_len);
	assert_true(memcmp(got.key, want->key, want->key_len) == 0);
	assert_int_equal(got.icv_bits, want->icv_bits);
	assert_int_equal(got.esn, want->esn);
	assert_int_equal(got.replay_window, want->replay_window);
	assert_int_equal(got.lft.soft_bytes, want->lft.soft_bytes);
	assert_int_equal(got.lft.hard_bytes, want->lft.hard_bytes);
	assert_int_equal(got.lft.hard_secs, want->lft.hard_secs);
	assert_int_equal(got.mark, want->mark);
	assert_int_equal(got.mark_mask, want->mark_mask);
	xfrm_sa_wipe(&got);
}

static void roundtrip(const char *src, const char *dst, uint8_t key_len)
{
	struct xfrm_sa sa, got;

	make_sa(&sa, src, dst, 0x01000002, key_len);
	assert_int_equal(xfrm_sa_apply(sock, XFRM_OP_ADD, &sa), 0);
	assert_int_equal(xfrm_sa_apply(sock, XFRM_OP_ADD, &sa), -EEXIST);
	check_get(&sa);
	sa.lft.hard_secs = 3600;
	assert_int_equal(xfrm_sa_apply(sock, XFRM_OP_UPDATE, &sa), 0);
	check_get(&sa);
	assert_int_equal(xfrm_sa_apply(sock, XFRM_OP_DEL, &sa), 0);
	assert_int_equal(xfrm_sa_get(sock, &sa, &got), -ESRCH);
	assert_int_equal(xfrm_sa_apply(sock, XFRM_OP_DEL, &sa), -ESRCH);
	xfrm_sa_wipe(&sa);
}

static void test_sa_roundtrip_gcm128(void **state)
{
	(void)state;
	NEED_ESP();
	roundtrip("192.0.2.1", "192.0.2.2", 20);
}

static void test_sa_roundtrip_gcm192(void **state)
{
	(void)state;
	NEED_ESP();
	roundtrip("192.0.2.1", "192.0.2.2", 28);
}

static void test_sa_roundtrip_gcm256(void **state)
{
	(void)state;
	NEED_ESP();
	roundtrip("192.0.2.1", "192.0.2.2", 36);
}

static void test_sa_roundtrip_ipv6(void **state)
{
	(void)state;
	NEED_ESP();
	roundtrip("2001:db8::1", "2001:db8::2", 36);
}

static void test_sa_icv_and_legacy_replay(void **state)
{
	struct xfrm_sa sa;

	(void)state;
	NEED_ESP();
	make_sa(&sa, "192.0.2.1", "192.0.2.2", 0x300, 20);
	sa.icv_bits = 64;
	sa.esn = false;
	sa.replay_window = 32;
	assert_int_equal(xfrm_sa_apply(sock, XFRM_OP_ADD, &sa), 0);
	check_get(&sa);
	make_sa(&sa, "192.0.2.1", "192.0.2.2", 0x301, 20);
	sa.icv_bits = 96;
	assert_int_equal(xfrm_sa_apply(sock, XFRM_OP_ADD, &sa), 0);
	check_get(&sa);
	xfrm_sa_wipe(&sa);
}

static void test_sa_update_absent(void **state)
{
	struct xfrm_sa sa;

	(void)state;
	NEED_ESP();
	make_sa(&sa, "192.0.2.1", "192.0.2.9", 0x400, 36);
	assert_int_equal(xfrm_sa_apply(sock, XFRM_OP_UPDATE, &sa), -ESRCH);
	xfrm_sa_wipe(&sa);
}

static void test_sa_mark(void **state)
{
	struct xfrm_sa sa, got;

	(void)state;
	NEED_ESP();
	make_sa(&sa, "192.0.2.1", "192.0.2.2", 0x500, 36);
	sa.mark = 0x10;
	sa.mark_mask = 0xff;
	assert_int_equal(xfrm_sa_apply(sock, XFRM_OP_ADD, &sa), 0);
	check_get(&sa);
	sa.mark_mask = 0;
	assert_int_equal(xfrm_sa_get(sock, &sa, &got), -ESRCH);
	xfrm_sa_wipe(&sa);
}

static int count_cb(const struct xfrm_sa *sa, void *arg)
{
	size_t *n = arg;

	assert_int_equal(sa->reqid, REQID);
	assert_int_equal(sa->key_len, 36);
	(*n)++;
	return 0;
}

static void test_sa_batch_dump(void **state)
{
	struct xfrm_batch *b;
	struct xfrm_sa sa;
	char dst[32];
	size_t n = 0;
	uint32_t i;
	int dup = -1;

	(void)state;
	NEED_ESP();
	b = xfrm_batch_new();
	for (i = 0; i < 1000; i++) {
		snprintf(dst, sizeof(dst), "10.1.%u.%u", i >> 8, i & 255);
		make_sa(&sa, "192.0.2.1", dst, 0x01000000 | (i + 1), 36);
		assert_true(xfrm_batch_sa(b, XFRM_OP_ADD, &sa) >= 0);
		if (i == 500)
			dup = xfrm_batch_sa(b, XFRM_OP_ADD, &sa);
	}
	xfrm_sa_wipe(&sa);
	assert_int_equal(xfrm_batch_send(sock, b), -EIO);
	assert_int_equal(xfrm_batch_failed(b), 1);
	assert_int_equal(xfrm_batch_error(b, (size_t)dup), -EEXIST);
	assert_int_equal(netns_run("ip xfrm state add src 192.0.2.7 dst "
				   "192.0.2.8 proto esp spi 0x777 mode "
				   "transport reqid 9 aead 'rfc4106(gcm(aes))' "
				   "0x0102030405060708090a0b0c0d0e0f1011121314 "
				   "128",
				   NULL, NULL),
			 0);
	assert_int_equal(xfrm_sa_dump(sock, REQID, count_cb, &n), 0);
	assert_int_equal(n, 1000);
	xfrm_batch_free(b);
}

struct wait_ev {
	uint32_t spi;
	int soft, hard;
};

static void ev_cb(const struct xfrm_event *ev, void *arg)
{
	struct wait_ev *w = arg;

	if (ev->spi != w->spi)
		return;
	if (ev->type == XFRM_EVENT_SOFT_EXPIRE)
		w->soft++;
	if (ev->type == XFRM_EVENT_HARD_EXPIRE)
		w->hard++;
}

static void test_sa_expire_events(void **state)
{
	struct xfrm_sock *ev;
	struct wait_ev w = { .spi = 0x600 };
	struct pollfd pfd;
	struct xfrm_sa sa, got;
	double end;

	(void)state;
	NEED_ESP();
	ev = xfrm_sock_open(XFRM_EV_EXPIRE);
	assert_non_null(ev);
	make_sa(&sa, "192.0.2.1", "192.0.2.2", 0x600, 36);
	sa.lft.soft_secs = 1;
	sa.lft.hard_secs = 2;
	assert_int_equal(xfrm_sa_apply(sock, XFRM_OP_ADD, &sa), 0);
	pfd = (struct pollfd){ .fd = xfrm_sock_fd(ev), .events = POLLIN };
	end = netns_now() + 10;
	while (!w.hard && netns_now() < end) {
		if (poll(&pfd, 1, 200) > 0)
			assert_true(xfrm_events_read(ev, ev_cb, &w) >= 0);
	}
	assert_int_equal(w.soft, 1);
	assert_int_equal(w.hard, 1);
	assert_int_equal(xfrm_sa_get(sock, &sa, &got), -ESRCH);
	xfrm_sa_wipe(&sa);
	xfrm_sock_close(ev);
}

/* Only where ESP is missing: the kernel's refusal arrives with its text. */
static void test_sa_add_reports_extack(void **state)
{
	struct xfrm_sa sa;

	(void)state;
	if (have_esp) {
		fprintf(stderr,
			"SKIP %s: this kernel has ESP, so it cannot "
			"refuse the AEAD\n",
			__func__);
		skip();
	}
	make_sa(&sa, "192.0.2.1", "192.0.2.2", 0x700, 36);
	assert_true(xfrm_sa_apply(sock, XFRM_OP_ADD, &sa) < 0);
	assert_true(strlen(xfrm_sock_extack(sock)) > 0);
	xfrm_sa_wipe(&sa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sa_roundtrip_gcm128, clean),
		cmocka_unit_test_setup(test_sa_roundtrip_gcm192, clean),
		cmocka_unit_test_setup(test_sa_roundtrip_gcm256, clean),
		cmocka_unit_test_setup(test_sa_roundtrip_ipv6, clean),
		cmocka_unit_test_setup(test_sa_icv_and_legacy_replay, clean),
		cmocka_unit_test_setup(test_sa_update_absent, clean),
		cmocka_unit_test_setup(test_sa_mark, clean),
		cmocka_unit_test_setup(test_sa_batch_dump, clean),
		cmocka_unit_test_setup(test_sa_expire_events, clean),
		cmocka_unit_test_setup(test_sa_add_reports_extack, clean),
	};

	return cmocka_run_group_tests_name("netns_sa", tests, setup, teardown);
}
