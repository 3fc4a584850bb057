// SPDX-License-Identifier: MIT
/* Unit tests: the agent's VXLAN devices, one per pair family: the split of peers, the second device's making and FDB, its failure said. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent/overlay_set.h"
#include "common/log.h"

/* ---- fakes: the kernel's devices, their FDBs, the log ---- */

#define DEVS_MAX 4
#define FDB_MAX 16

struct fake_dev {
	char name[OVERLAY_IFNAME_MAX];
	struct overlay_config c;
	struct overlay_peer fdb[FDB_MAX];
	size_t n_fdb;
	unsigned ensures, syncs;
};

static struct fake_dev devs[DEVS_MAX];
static size_t n_devs;
static int ensure_err[2]; /* [0] AF_INET, [1] AF_INET6 */
static char logged[4096];

static void fakes_reset(void)
{
	memset(devs, 0, sizeof(devs));
	n_devs = 0;
	memset(ensure_err, 0, sizeof(ensure_err));
	logged[0] = '\0';
}

static struct fake_dev *dev_find(const char *name)
{
	for (size_t i = 0; i < n_devs; i++)
		if (strcmp(devs[i].name, name) == 0)
			return &devs[i];
	return NULL;
}

/* A device as a previous run (or the user) left it. */
static struct fake_dev *dev_add(const char *name)
{
	struct fake_dev *d = &devs[n_devs++];

	assert_true(n_devs <= DEVS_MAX);
	snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}

int __wrap_overlay_ensure(const struct overlay_config *c, struct why *why);
int __wrap_overlay_ensure(const struct overlay_config *c, struct why *why)
{
	struct fake_dev *d = dev_find(c->ifname);
	int err = ensure_err[c->family == AF_INET6];

	if (err)
		return why_fail(why, err, "%s: made to fail", c->ifname);
	if (!d)
		d = dev_add(c->ifname);
	d->c = *c;
	d->ensures++;
	return 0;
}

int __wrap_overlay_present(const char *ifname, uint32_t *mtu);
int __wrap_overlay_present(const char *ifname, uint32_t *mtu)
{
	struct fake_dev *d = dev_find(ifname);

	if (!d)
		return -ENODEV;
	if (mtu)
		*mtu = overlay_mtu(1500, d->c.family ? d->c.family : AF_INET);
	return 0;
}

int __wrap_overlay_fdb_sync(const struct overlay_config *c,
			    const struct overlay_peer *peers, size_t n_peers,
			    size_t *added, size_t *removed, struct why *why);
int __wrap_overlay_fdb_sync(const struct overlay_config *c,
			    const struct overlay_peer *peers, size_t n_peers,
			    size_t *added, size_t *removed, struct why *why)
{
	struct fake_dev *d = dev_find(c->ifname);

	if (!d)
		return why_fail(why, -ENODEV, "no %s", c->ifname);
	for (size_t i = 0; i < n_peers; i++) /* as the kernel: one family */
		if (peers[i].family != c->family)
			return why_fail(why, -EINVAL, "family");
	assert_true(n_peers <= FDB_MAX);
	memcpy(d->fdb, peers, n_peers * sizeof(*peers));
	if (added)
		*added = n_peers > d->n_fdb ? n_peers - d->n_fdb : 0;
	if (removed)
		*removed = d->n_fdb > n_peers ? d->n_fdb - n_peers : 0;
	d->n_fdb = n_peers;
	d->syncs++;
	return 0;
}

void __wrap_log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void __wrap_log_msg(enum log_level level, const char *fmt, ...)
{
	size_t used = strlen(logged);
	va_list ap;

	used += (size_t)snprintf(logged + used, sizeof(logged) - used, "%d ",
				 (int)level);
	va_start(ap, fmt);
	vsnprintf(logged + used, sizeof(logged) - used, fmt, ap);
	va_end(ap);
	used = strlen(logged);
	snprintf(logged + used, sizeof(logged) - used, "\n");
}

/* ---- a view ---- */

struct fixture {
	struct desired_view v;
	struct desired_peer peers[6];
	const char *names[6];
};

static struct desired_addr addr(const char *text)
{
	struct desired_addr a = { .family = strchr(text, ':') ? AF_INET6
							      : AF_INET };

	assert_int_equal(inet_pton(a.family, text, &a.ip), 1);
	return a;
}

static bool same_ip(const struct overlay_peer *p, const char *text)
{
	struct desired_addr a = addr(text);

	return p->family == a.family &&
	       memcmp(&p->ip, &a.ip, sizeof(a.ip)) == 0;
}

static bool fdb_has(const struct fake_dev *d, const char *text)
{
	for (size_t i = 0; i < d->n_fdb; i++)
		if (same_ip(&d->fdb[i], text))
			return true;
	return false;
}

/* self: index 2, its addresses (text, in order) */
static void view_self(struct fixture *f, const char *a0, const char *a1)
{
	memset(f, 0, sizeof(*f));
	f->v.self_index = 2;
	f->v.self[f->v.n_self++] = addr(a0);
	if (a1)
		f->v.self[f->v.n_self++] = addr(a1);
	f->v.peers = f->peers;
}

static void view_peer(struct fixture *f, const char *name, uint32_t index,
		      const char *a0, const char *a1)
{
	struct desired_peer *p = &f->peers[f->v.n_peers];

	memset(p, 0, sizeof(*p));
	p->index = index;
	p->addrs[p->n_addrs++] = addr(a0);
	if (a1)
		p->addrs[p->n_addrs++] = addr(a1);
	f->names[f->v.n_peers++] = name;
}

static const char *name_of(const void *arg, size_t i)
{
	return ((const struct fixture *)arg)->names[i];
}

static struct overlay_config base_of(const struct fixture *f, const char *name)
{
	struct overlay_config c = { .vni = 4242,
				    .port = 4789,
				    .family = f->v.self[0].family,
				    .local = f->v.self[0].ip };

	snprintf(c.ifname, sizeof(c.ifname), "%s", name);
	return c;
}

static void open_set(struct overlay_set *s, const struct fixture *f)
{
	struct overlay_config c = base_of(f, "vxsec0");
	struct why why = { "" };

	assert_int_equal(overlay_set_init(s, &c, f->v.self, f->v.n_self, &why),
			 0);
	assert_int_equal(overlay_set_open(s, &why), 0);
}

static char *status(const struct overlay_set *s, bool json)
{
	struct ctl_reply r;
	char *text;

	ctl_reply_init(&r);
	overlay_set_status(s, json, &r);
	assert_int_equal(r.err, 0);
	text = strndup(r.buf ? r.buf : "", r.len);
	ctl_reply_cleanup(&r);
	assert_non_null(text);
	return text;
}

/* ---- tests ---- */

/*
 * Each peer in the list of its pair's family, the family both ends choose
 * (the lower-index node's order), and with the peer's address of it.
 */
static void test_split_by_pair_family(void **state)
{
	struct overlay_peer out[6];
	struct fixture f;
	size_t idx[6], n;

	(void)state;
	view_self(&f, "fd00::12", "192.168.77.12");
	view_peer(&f, "vm3", 3, "fd00::13", "192.168.77.13"); /* ours: v6 */
	view_peer(&f, "vm4", 4, "192.168.77.14", NULL);	      /* only v4 */
	view_peer(&f, "vm1", 1, "192.168.77.11", "fd00::11"); /* its: v4 */
	view_peer(&f, "vm5", 5, "fd00::15", NULL);
	n = overlay_pair_peers(&f.v, AF_INET6, out, idx);
	assert_int_equal(n, 2);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 3);
	assert_int_equal(out[0].family, AF_INET6);
	n = overlay_pair_peers(&f.v, AF_INET, out, idx);
	assert_int_equal(n, 2);
	assert_int_equal(idx[0], 1);
	assert_int_equal(idx[1], 2);
	assert_true(same_ip(&out[1], "192.168.77.11"));

	/* An IPv4-only self: the IPv6-only peer is in no list. */
	f.v.n_self = 1;
	f.v.self[0] = addr("192.168.77.12");
	assert_int_equal(overlay_pair_peers(&f.v, AF_INET, out, idx), 3);
	assert_int_equal(overlay_pair_peers(&f.v, AF_INET6, out, idx), 0);
}

/* One family: one device, exactly as before. */
static void test_single_family_one_device(void **state)
{
	struct overlay_set s;
	struct fixture f;
	char *text;

	(void)state;
	fakes_reset();
	view_self(&f, "192.168.77.12", NULL);
	view_peer(&f, "vm3", 3, "192.168.77.13", "fd00::13");
	view_peer(&f, "vm4", 4, "192.168.77.14", NULL);
	open_set(&s, &f);
	assert_int_equal(s.dev[1].c.family, 0);
	overlay_set_sync(&s, &f.v, name_of, &f);
	assert_int_equal(n_devs, 1);
	assert_string_equal(devs[0].name, "vxsec0");
	assert_int_equal(devs[0].n_fdb, 2);
	assert_true(fdb_has(&devs[0], "192.168.77.13"));
	assert_true(fdb_has(&devs[0], "192.168.77.14"));
	text = status(&s, true);
	assert_non_null(strstr(text, "\"vxlan_devices\":[{\"name\":\"vxsec0\","
				     "\"family\":\"IPv4\""));
	assert_null(strstr(text, "vxsec0v6"));
	free(text);
}

/*
 * Dual-stack, vxsec0 over IPv6: vxsec0v4 is made when the first IPv4
 * pair appears, with that family's local address and the same VNI and
 * port, holds exactly the IPv4 peers, and is kept, emptied, when the last
 * one goes.
 */
static void test_second_device_made_and_kept(void **state)
{
	struct fake_dev *v4;
	struct overlay_set s;
	struct fixture f;
	char *text;

	(void)state;
	fakes_reset();
	view_self(&f, "fd00::12", "192.168.77.12");
	view_peer(&f, "vm3", 3, "fd00::13", "192.168.77.13");
	open_set(&s, &f);
	assert_string_equal(s.dev[1].c.ifname, "vxsec0v4");
	overlay_set_sync(&s, &f.v, name_of, &f);
	assert_int_equal(n_devs, 1); /* no IPv4 pair: no second device */
	text = status(&s, false);
	assert_non_null(strstr(text, "vxsec0v4: IPv4 from 192.168.77.12, "
				     "not made"));
	free(text);

	view_peer(&f, "vm4", 4, "192.168.77.14", NULL);
	overlay_set_sync(&s, &f.v, name_of, &f);
	v4 = dev_find("vxsec0v4");
	assert_non_null(v4);
	assert_int_equal(v4->c.family, AF_INET);
	assert_int_equal(v4->c.vni, 4242);
	assert_int_equal(v4->c.port, 4789);
	assert_true(same_ip(&(struct overlay_peer){ .family = v4->c.family,
						    .ip = v4->c.local },
			    "192.168.77.12"));
	assert_int_equal(v4->n_fdb, 1);
	assert_true(fdb_has(v4, "192.168.77.14"));
	assert_int_equal(dev_find("vxsec0")->n_fdb, 1);
	assert_true(fdb_has(dev_find("vxsec0"), "fd00::13"));
	assert_non_null(strstr(logged, "vxsec0v4 made for the pairs over "
				       "IPv4 (MTU 1416)"));
	text = status(&s, true);
	assert_non_null(strstr(text, "{\"name\":\"vxsec0v4\",\"family\":"
				     "\"IPv4\",\"local\":\"192.168.77.12\","
				     "\"made\":true,\"mtu\":1416,\"peers\":1,"
				     "\"left_out\":0,\"error\":null}"));
	free(text);

	f.v.n_peers = 1; /* vm4 gone */
	overlay_set_sync(&s, &f.v, name_of, &f);
	assert_int_equal(v4->ensures, 1);
	assert_int_equal(v4->n_fdb, 0);
	assert_int_equal(dev_find("vxsec0")->n_fdb, 1);
}

/* The second device cannot be made: its peers are named, once. */
static void test_second_device_failure_said(void **state)
{
	struct overlay_set s;
	struct fixture f;
	char *text;

	(void)state;
	fakes_reset();
	view_self(&f, "fd00::12", "192.168.77.12");
	view_peer(&f, "vm3", 3, "fd00::13", "192.168.77.13");
	view_peer(&f, "vm4", 4, "192.168.77.14", NULL);
	open_set(&s, &f);
	ensure_err[0] = -EEXIST;
	overlay_set_sync(&s, &f.v, name_of, &f);
	assert_null(dev_find("vxsec0v4"));
	assert_non_null(strstr(logged, "3 VXLAN device vxsec0v4 (IPv4): "
				       "vxsec0v4: made to fail; 1 peers over "
				       "IPv4 left out of the overlay: vm4 "
				       "(192.168.77.14)"));
	logged[0] = '\0';
	overlay_set_sync(&s, &f.v, name_of, &f); /* no change: no line */
	assert_string_equal(logged, "");
	text = status(&s, true);
	assert_non_null(strstr(text, "\"made\":false,\"mtu\":0,\"peers\":1,"
				     "\"left_out\":1,\"error\":\"vxsec0v4: "
				     "made to fail\"}"));
	free(text);
	text = status(&s, false);
	assert_non_null(strstr(text, "NOT MADE: 1 peers left out"));
	free(text);

	ensure_err[0] = 0; /* the next sync makes it */
	overlay_set_sync(&s, &f.v, name_of, &f);
	assert_non_null(dev_find("vxsec0v4"));
	assert_true(fdb_has(dev_find("vxsec0v4"), "192.168.77.14"));
	assert_int_equal(s.dev[1].n_left_out, 0);
}

/* A second device left by an earlier run is adopted and emptied. */
static void test_leftover_adopted(void **state)
{
	struct fake_dev *old;
	struct overlay_set s;
	struct fixture f;

	(void)state;
	fakes_reset();
	old = dev_add("vxsec0v6");
	old->c.family = AF_INET6;
	old->fdb[0].family = AF_INET6;
	old->n_fdb = 1;
	view_self(&f, "192.168.77.12", "fd00::12");
	view_peer(&f, "vm3", 3, "192.168.77.13", NULL);
	open_set(&s, &f);
	assert_int_equal(old->ensures, 1);
	overlay_set_sync(&s, &f.v, name_of, &f);
	assert_int_equal(old->n_fdb, 0);
	assert_int_equal(old->syncs, 1);
	assert_true(fdb_has(dev_find("vxsec0"), "192.168.77.13"));
}

/* A name with no room for the suffix is refused at start. */
static void test_name_too_long(void **state)
{
	struct overlay_config c;
	struct overlay_set s;
	struct why why = { "" };
	struct fixture f;

	(void)state;
	view_self(&f, "fd00::12", "192.168.77.12");
	c = base_of(&f, "vxsec-overlay0");
	assert_int_equal(overlay_set_init(&s, &c, f.v.self, f.v.n_self, &why),
			 -ENAMETOOLONG);
	assert_non_null(strstr(why.msg, "vxsec-overlay0v4"));
	f.v.n_self = 1; /* one family: no second name needed */
	assert_int_equal(overlay_set_init(&s, &c, f.v.self, f.v.n_self, &why),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_by_pair_family),
		cmocka_unit_test(test_single_family_one_device),
		cmocka_unit_test(test_second_device_made_and_kept),
		cmocka_unit_test(test_second_device_failure_said),
		cmocka_unit_test(test_leftover_adopted),
		cmocka_unit_test(test_name_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
