// SPDX-License-Identifier: MIT
/* agent overlay set: the managed VXLAN devices, one per underlay family the agent's pairs use, and their FDBs. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "overlay_set.h"

#define LEFT_OUT_TEXT 512 /* the log line's list of peers */

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

size_t overlay_pair_peers(const struct desired_view *v, int family,
			  struct overlay_peer *out, size_t *idx)
{
	const struct desired_addr *me, *peer;
	size_t n = 0;

	for (size_t i = 0; i < v->n_peers; i++) {
		if (desired_pair_addrs(v, &v->peers[i], &me, &peer) ||
		    peer->family != family)
			continue;
		out[n].family = family;
		out[n].ip = peer->ip;
		if (idx)
			idx[n] = i;
		n++;
	}
	return n;
}

int overlay_set_init(struct overlay_set *s, const struct overlay_config *base,
		     const struct desired_addr *self, size_t n_self,
		     struct why *why)
{
	struct overlay_config *c = &s->dev[1].c;
	int len;

	memset(s, 0, sizeof(*s));
	s->dev[0].c = *base;
	for (size_t i = 0; i < n_self; i++) {
		if (self[i].family == base->family)
			continue;
		*c = *base;
		c->family = self[i].family;
		c->local = self[i].ip;
		len = snprintf(c->ifname, sizeof(c->ifname), "%s%s",
			       base->ifname,
			       c->family == AF_INET ? "v4" : "v6");
		if (len < 0 || (size_t)len >= sizeof(c->ifname))
			return why_fail(why, -ENAMETOOLONG,
					"vxlan_device %s: the %s device's "
					"name, %sv%c, is longer than %zu "
					"bytes; choose a shorter name",
					base->ifname, family_name(c->family),
					base->ifname,
					c->family == AF_INET ? '4' : '6',
					sizeof(c->ifname) - 1);
		break;
	}
	return 0;
}

/* Made or adopted: what the kernel has now. */
static void dev_made(struct overlay_dev *d)
{
	d->made = true;
	if (overlay_present(d->c.ifname, &d->mtu))
		d->mtu = 0;
}

int overlay_set_open(struct overlay_set *s, struct why *why)
{
	struct overlay_dev *d = &s->dev[1];
	int err = overlay_ensure(&s->dev[0].c, why);

	if (err)
		return err;
	dev_made(&s->dev[0]);
	if (!d->c.family || overlay_present(d->c.ifname, NULL))
		return 0;
	d->err = overlay_ensure(&d->c, &d->why);
	if (d->err) {
		log_err("VXLAN device %s (%s), found at start: %s", d->c.ifname,
			family_name(d->c.family), d->why.msg);
		return 0;
	}
	dev_made(d);
	log_info("VXLAN device %s (%s, MTU %u) adopted", d->c.ifname,
		 family_name(d->c.family), d->mtu);
	return 0;
}

/* "vm4 (192.168.77.14), vm5 (...)" into buf (len > 4), cut short "...". */
static void peers_text(const struct overlay_peer *p, const size_t *idx,
		       size_t n, const char *(*name)(const void *, size_t),
		       const void *arg, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	size_t used = 0;
	int k;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!inet_ntop(p[i].family, &p[i].ip, ip, sizeof(ip)))
			snprintf(ip, sizeof(ip), "?");
		k = snprintf(buf + used, len - used, "%s%s (%s)", i ? ", " : "",
			     name(arg, idx[i]), ip);
		if (k < 0 || (size_t)k >= len - used) {
			snprintf(buf + len - 4, 4, "...");
			return;
		}
		used += (size_t)k;
	}
}

/* The device's state changed (error, or pairs left out): log it once. */
static void dev_report(struct overlay_dev *d, int err, size_t left_out,
		       const char *peers)
{
	bool same = err == d->err && left_out == d->n_left_out;

	d->err = err;
	d->n_left_out = left_out;
	if (same)
		return;
	if (left_out)
		log_err("VXLAN device %s (%s): %s; %zu peers over %s left "
			"out of the overlay: %s",
			d->c.ifname, family_name(d->c.family), d->why.msg,
			left_out, family_name(d->c.family), peers);
	else if (err)
		log_err("VXLAN device %s: %s", d->c.ifname, d->why.msg);
}

/* Makes dev[1] when its first pair appears: 0, -ENODEV (not yet
 * needed), or overlay_ensure()'s error. */
static int dev_make(struct overlay_dev *d, size_t n)
{
	struct why why = { "" };
	int err;

	if (d->made)
		return 0;
	if (!n)
		return -ENODEV;
	err = overlay_ensure(&d->c, &why);
	if (err) {
		d->why = why;
		return err;
	}
	dev_made(d);
	log_info("VXLAN device %s made for the pairs over %s (MTU %u)",
		 d->c.ifname, family_name(d->c.family), d->mtu);
	return 0;
}

static void dev_sync(struct overlay_dev *d, const struct desired_view *v,
		     struct overlay_peer *peers, size_t *idx,
		     const char *(*name)(const void *, size_t), const void *arg)
{
	char text[LEFT_OUT_TEXT];
	size_t n = overlay_pair_peers(v, d->c.family, peers, idx);
	size_t added = 0, removed = 0;
	struct why why = { "" };
	int err;

	d->n_peers = n;
	err = dev_make(d, n);
	if (err) {
		peers_text(peers, idx, n, name, arg, text, sizeof(text));
		dev_report(d, n ? err : 0, n, text);
		return;
	}
	err = overlay_fdb_sync(&d->c, peers, n, &added, &removed, &why);
	if (err)
		d->why = why;
	dev_report(d, err, 0, "");
	if (added || removed)
		log_info("VXLAN device %s: %zu peers added, %zu removed",
			 d->c.ifname, added, removed);
}

void overlay_set_sync(struct overlay_set *s, const struct desired_view *v,
		      const char *(*name)(const void *arg, size_t i),
		      const void *arg)
{
	struct overlay_peer *peers = calloc(v->n_peers + 1, sizeof(*peers));
	size_t *idx = calloc(v->n_peers + 1, sizeof(*idx));

	if (!peers || !idx) {
		log_err("VXLAN devices: out of memory; their FDBs are not "
			"synced");
	} else {
		for (size_t k = 0; k < OVERLAY_SET_DEVS; k++)
			if (s->dev[k].c.family)
				dev_sync(&s->dev[k], v, peers, idx, name, arg);
	}
	free(peers);
	free(idx);
}

static void dev_status(const struct overlay_dev *d, bool json, bool comma,
		       struct ctl_reply *r)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(d->c.family, &d->c.local, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	if (json) {
		ctl_reply_printf(r,
				 "%s{\"name\":\"%s\",\"family\":\"%s\","
				 "\"local\":\"%s\",\"made\":%s,\"mtu\":%u,"
				 "\"peers\":%zu,\"left_out\":%zu,\"error\":",
				 comma ? "," : "", d->c.ifname,
				 family_name(d->c.family), ip,
				 d->made ? "true" : "false", d->mtu, d->n_peers,
				 d->n_left_out);
		ctl_json_string(r, d->err ? d->why.msg : NULL);
		ctl_reply_printf(r, "}");
		return;
	}
	if (d->made)
		ctl_reply_printf(r,
				 "VXLAN device %s: %s from %s, MTU %u, %zu "
				 "peers\n",
				 d->c.ifname, family_name(d->c.family), ip,
				 d->mtu, d->n_peers);
	else if (d->n_left_out)
		ctl_reply_printf(r,
				 "VXLAN device %s: %s from %s, NOT MADE: %zu "
				 "peers left out: %s\n",
				 d->c.ifname, family_name(d->c.family), ip,
				 d->n_left_out, d->why.msg);
	else
		ctl_reply_printf(r,
				 "VXLAN device %s: %s from %s, not made (no "
				 "pair over %s yet)\n",
				 d->c.ifname, family_name(d->c.family), ip,
				 family_name(d->c.family));
	if (d->made && d->err)
		ctl_reply_printf(r, "  last error: %s\n", d->why.msg);
}

void overlay_set_status(const struct overlay_set *s, bool json,
			struct ctl_reply *r)
{
	size_t shown = 0;

	if (json)
		ctl_reply_printf(r, "\"vxlan_devices\":[");
	for (size_t k = 0; k < OVERLAY_SET_DEVS; k++)
		if (s->dev[k].c.family)
			dev_status(&s->dev[k], json, shown++ > 0, r);
	if (json)
		ctl_reply_printf(r, "],");
}
