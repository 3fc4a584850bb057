// SPDX-License-Identifier: MIT
/* vxsec-agent settings: defaults, and each config key checked and set. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentd.h"
#include "common/config.h"
#include "common/httpd.h"
#include "common/why.h"
#include "proto/node_id.h"

void agent_config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", AGENT_STATE_DIR);
	snprintf(c->socket, sizeof(c->socket), "%s", AGENT_SOCKET);
	snprintf(c->boot_id_file, sizeof(c->boot_id_file), "%s", AGENT_BOOT_ID);
	if (gethostname(c->node_id, sizeof(c->node_id) - 1))
		c->node_id[0] = '\0';
	c->node_id[strcspn(c->node_id, ".")] = '\0'; /* the short name */
	c->dc.reqid = AGENT_REQID;
	c->dc.vxlan_port = 4789;
	c->dc.replay_window = 1024;
	c->dc.catchall = true; /* fail closed: 0.0.0.0/0 and ::/0 */
	/* Soft only: rotation replaces keys long before (agentd.h). */
	c->dc.lft.soft_bytes = AGENT_SA_SOFT_BYTES;
	c->resync_ms = 60000;
	c->nat = WIRE_NAT_AUTO;
	c->dc.nat_port = AGENT_NAT_PORT;
	c->nat_keepalive_ms = AGENT_NAT_KEEPALIVE_MS;
	c->static_key_lifetime_ms = AGENT_STATIC_KEY_LIFETIME_MS;
	snprintf(c->vxlan_dev, sizeof(c->vxlan_dev), "vxsec0");
	c->vni = 4242;
}

static int set_str(char *dst, size_t len, const char *key, const char *val,
		   struct why *why)
{
	if (!*val || strlen(val) >= len)
		return why_fail(why, -EINVAL, "%s: empty or too long", key);
	snprintf(dst, len, "%s", val);
	return 0;
}

static int set_u32(uint32_t *dst, uint32_t min, uint32_t max, const char *key,
		   const char *val, struct why *why)
{
	if (config_u32(val, min, max, dst))
		return why_fail(why, -EINVAL,
				"%s: \"%s\" is not a number from %u to %u", key,
				val, min, max);
	return 0;
}

static int set_node_id(struct agent_config *c, const char *val, struct why *why)
{
	if (!node_id_valid(val))
		return why_fail(why, -EINVAL,
				"node_id: \"%s\" is not 1-%u characters "
				"of " NODE_ID_CHARSET,
				val, NODE_ID_MAX);
	snprintf(c->node_id, sizeof(c->node_id), "%s", val);
	return 0;
}

static int add_address(struct agent_config *c, const char *val, struct why *why)
{
	struct desired_addr a = { 0 };

	if (c->n_addrs == DESIRED_ADDRS_MAX)
		return why_fail(why, -EINVAL, "address: at most %d addresses",
				DESIRED_ADDRS_MAX);
	if (xfrm_ip_parse(val, &a.family, &a.ip))
		return why_fail(why, -EINVAL,
				"address: \"%s\" is not an IPv4 or IPv6 "
				"address",
				val);
	for (size_t i = 0; i < c->n_addrs; i++)
		if (c->addrs[i].family == a.family &&
		    memcmp(c->addrs[i].ip.raw, a.ip.raw, sizeof(a.ip.raw)) == 0)
			return why_fail(why, -EINVAL,
					"address: %s is listed twice", val);
	c->addrs[c->n_addrs++] = a;
	return 0;
}

/* Whether p's address has a bit set past its prefix length. */
static bool host_bits(const struct desired_prefix *p)
{
	const uint8_t *b = (const uint8_t *)&p->net.ip;
	size_t len = p->net.family == AF_INET ? 4 : 16;

	for (size_t i = p->plen / 8; i < len; i++) {
		uint8_t keep = i == p->plen / 8
				       ? (uint8_t)(0xff00 >> (p->plen % 8))
				       : 0;

		if (b[i] & (uint8_t)~keep)
			return true;
	}
	return false;
}

/* The list being parsed, kept aside until every item passed. */
struct prefix_list {
	struct desired_prefix l[DESIRED_CATCHALL_MAX];
	size_t n;
};

/* One item of underlay_cidr: "10.0.0.0/16" or "fd00::/64". */
static int add_prefix(void *arg, const char *item, struct why *why)
{
	struct prefix_list *pl = arg;
	struct desired_prefix *p = &pl->l[pl->n];
	char ip[CONFIG_ITEM_MAX];
	const char *slash = strchr(item, '/');
	uint32_t plen;

	if (pl->n == DESIRED_CATCHALL_MAX)
		return why_fail(why, -EINVAL,
				"underlay_cidr: more than %d prefixes",
				DESIRED_CATCHALL_MAX);
	memset(p, 0, sizeof(*p));
	if (!slash)
		goto bad;
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - item), item);
	if (xfrm_ip_parse(ip, &p->net.family, &p->net.ip) ||
	    config_u32(slash + 1, 0, p->net.family == AF_INET ? 32 : 128,
		       &plen))
		goto bad;
	p->plen = (uint8_t)plen;
	if (host_bits(p))
		return why_fail(why, -EINVAL,
				"underlay_cidr: \"%s\" has bits set past "
				"its prefix length",
				item);
	for (size_t i = 0; i < pl->n; i++)
		if (pl->l[i].plen == p->plen &&
		    pl->l[i].net.family == p->net.family &&
		    memcmp(pl->l[i].net.ip.raw, p->net.ip.raw,
			   sizeof(p->net.ip.raw)) == 0)
			return why_fail(why, -EINVAL,
					"underlay_cidr: %s is listed twice",
					item);
	pl->n++;
	return 0;
bad:
	return why_fail(why, -EINVAL,
			"underlay_cidr: \"%s\" is not a prefix such as "
			"10.0.0.0/16 or fd00::/64",
			item);
}

/*
 * "10.0.0.0/16, fd00::/64": the prefixes the catch-all covers, up to
 * DESIRED_CATCHALL_MAX; a family not listed keeps the whole family. A
 * value given again (a flag after the file) replaces the list.
 */
static int set_underlay_cidr(struct agent_config *c, const char *val,
			     struct why *why)
{
	struct prefix_list pl = { .n = 0 };
	int err = config_list("underlay_cidr", "prefix", val, add_prefix, &pl,
			      why);

	if (err)
		return err;
	memcpy(c->dc.catchall_nets, pl.l, sizeof(pl.l));
	c->dc.n_catchall_nets = pl.n;
	return 0;
}

static int set_bool(bool *dst, const char *key, const char *val,
		    struct why *why)
{
	if (config_bool(val, dst) == 0)
		return 0;
	return why_fail(why, -EINVAL, "%s: \"%s\" is not yes or no", key, val);
}

/* The instances being parsed, kept aside until every item passed. */
struct leader_list {
	struct sockaddr_storage l[AGENT_LEADERS_MAX];
	size_t n;
};

/* One instance of the list: ADDRESS:PORT. */
static int add_leader(void *arg, const char *item, struct why *why)
{
	struct leader_list *ll = arg;
	socklen_t sl;

	if (ll->n == AGENT_LEADERS_MAX)
		return why_fail(why, -EINVAL, "leader: more than %d addresses",
				AGENT_LEADERS_MAX);
	if (config_addr_port(item, &ll->l[ll->n], &sl))
		return why_fail(why, -EINVAL,
				"leader: \"%s\" is not ADDRESS:PORT (e.g. "
				"10.0.0.1:%d, [fd00::1]:%d)",
				item, AGENT_PORT, AGENT_PORT);
	for (size_t i = 0; i < ll->n; i++)
		if (memcmp(&ll->l[i], &ll->l[ll->n], sl) == 0)
			return why_fail(why, -EINVAL,
					"leader: %s is listed twice", item);
	ll->n++;
	return 0;
}

/*
 * "a:7120,b:7120,[fd00::3]:7120": the leader's instances (up to
 * AGENT_LEADERS_MAX), tried in turn; a single address as well. A value
 * given again (a flag after the file) replaces the list.
 */
static int set_leader(struct agent_config *c, const char *val, struct why *why)
{
	struct leader_list ll;
	int err;

	if (strlen(val) >= sizeof(c->leader_text))
		return why_fail(why, -EINVAL, "leader: too long");
	memset(&ll, 0, sizeof(ll));
	err = config_list("leader", "address", val, add_leader, &ll, why);
	if (err)
		return err;
	memcpy(c->leaders, ll.l, sizeof(ll.l));
	c->n_leaders = ll.n;
	snprintf(c->leader_text, sizeof(c->leader_text), "%s", val);
	return 0;
}

static int set_duration(uint64_t *dst, uint64_t min, const char *key,
			const char *val, struct why *why)
{
	uint64_t ms;

	/* a refused value leaves the setting as it was */
	if (config_duration_ms(val, &ms) == 0 && ms >= min) {
		*dst = ms;
		return 0;
	}
	return why_fail(why, -EINVAL,
			"%s: \"%s\" is not a duration of at least %llu ms", key,
			val, (unsigned long long)min);
}

static int set_nat(struct agent_config *c, const char *val, struct why *why)
{
	if (strcmp(val, "auto") == 0)
		c->nat = WIRE_NAT_AUTO;
	else if (strcmp(val, "yes") == 0)
		c->nat = WIRE_NAT_FORCE;
	else if (strcmp(val, "no") == 0)
		c->nat = WIRE_NAT_NEVER;
	else
		return why_fail(why, -EINVAL,
				"nat: \"%s\" is not auto, yes or no", val);
	return 0;
}

/* nat, nat_public_address, nat_port, nat_keepalive; 1: not one of them */
static int set_nat_key(struct agent_config *c, const char *key, const char *val,
		       struct why *why)
{
	uint32_t v;
	int err;

	if (strcmp(key, "nat") == 0)
		return set_nat(c, val, why);
	if (strcmp(key, "nat_public_address") == 0) {
		if (xfrm_ip_parse(val, &c->nat_public.family,
				  &c->nat_public.ip) == 0)
			return 0;
		c->nat_public.family = 0;
		return why_fail(why, -EINVAL,
				"nat_public_address: \"%s\" is not an IPv4 "
				"or IPv6 address",
				val);
	}
	if (strcmp(key, "nat_port") == 0) {
		err = set_u32(&v, 1, 65535, key, val, why);
		if (!err)
			c->dc.nat_port = (uint16_t)v;
		return err;
	}
	if (strcmp(key, "nat_keepalive") == 0) {
		err = set_duration(&c->nat_keepalive_ms, 1000, key, val, why);
		if (!err && c->nat_keepalive_ms > 3600000)
			err = why_fail(why, -EINVAL,
				       "nat_keepalive: at most 1h (NATs forget "
				       "idle UDP in minutes)");
		return err;
	}
	return 1;
}

static int set_more(struct agent_config *c, const char *key, const char *val,
		    struct why *why)
{
	uint32_t v;
	int err;

	err = set_nat_key(c, key, val, why);
	if (err <= 0)
		return err;
	if (strcmp(key, "vxlan_port") == 0) {
		err = set_u32(&v, 1, 65535, key, val, why);
		c->dc.vxlan_port = (uint16_t)v;
		return err;
	}
	if (strcmp(key, "vxlan") == 0)
		return set_bool(&c->vxlan, key, val, why);
	if (strcmp(key, "vxlan_device") == 0)
		return set_str(c->vxlan_dev, sizeof(c->vxlan_dev), key, val,
			       why);
	if (strcmp(key, "vni") == 0)
		return set_u32(&c->vni, 1, 16777215, key, val, why);
	if (strcmp(key, "mtu") == 0)
		return set_u32(&c->mtu, 0, 65535, key, val, why);
	if (strcmp(key, "verbose") == 0)
		return set_bool(&c->verbose, key, val, why);
	if (strcmp(key, "metrics_listen") == 0)
		return httpd_addr_parse(key, val, &c->metrics, &c->metrics_len,
					why);
	if (strcmp(key, "resync_interval") == 0)
		return set_duration(&c->resync_ms, 1000, key, val, why);
	if (strcmp(key, "static_key_lifetime") == 0)
		return set_duration(&c->static_key_lifetime_ms, 60000, key, val,
				    why);
	if (strcmp(key, "sa_lifetime") == 0) {
		uint64_t ms = 0;

		if (strcmp(val, "none") != 0) {
			err = set_duration(&ms, 10000, key, val, why);
			if (err)
				return err;
		}
		c->dc.lft.hard_secs = ms / 1000;
		c->dc.lft.soft_secs = ms / 1000 * 9 / 10;
		return 0;
	}
	return why_fail(why, -EINVAL, "unknown setting \"%s\"", key);
}

int agent_config_set(struct agent_config *c, const char *key, const char *val,
		     struct why *why)
{
	if (strcmp(key, "leader") == 0)
		return set_leader(c, val, why);
	if (strcmp(key, "node_id") == 0)
		return set_node_id(c, val, why);
	if (strcmp(key, "address") == 0)
		return add_address(c, val, why);
	if (strcmp(key, "state_dir") == 0)
		return set_str(c->state_dir, sizeof(c->state_dir), key, val,
			       why);
	if (strcmp(key, "socket") == 0)
		return set_str(c->socket, sizeof(c->socket), key, val, why);
	if (strcmp(key, "token_file") == 0)
		return set_str(c->token_file, sizeof(c->token_file), key, val,
			       why);
	if (strcmp(key, "boot_id_file") == 0)
		return set_str(c->boot_id_file, sizeof(c->boot_id_file), key,
			       val, why);
	if (strcmp(key, "reqid") == 0)
		return set_u32(&c->dc.reqid, 1, UINT32_MAX, key, val, why);
	if (strcmp(key, "replay_window") == 0)
		return set_u32(&c->dc.replay_window, 32, 4096, key, val, why);
	if (strcmp(key, "underlay_cidr") == 0)
		return set_underlay_cidr(c, val, why);
	if (strcmp(key, "catchall") == 0)
		return set_bool(&c->dc.catchall, key, val, why);
	return set_more(c, key, val, why);
}

int agent_config_check(const struct agent_config *c, struct why *why)
{
	if (!c->n_leaders)
		return why_fail(why, -EINVAL,
				"no leader: set leader = ADDRESS:PORT (or a "
				"list: ADDRESS:PORT,ADDRESS:PORT,...)");
	if (!c->n_addrs)
		return why_fail(why, -EINVAL,
				"no underlay address: set address = this "
				"node's address (one line per address)");
	if (!c->node_id[0])
		return why_fail(why, -EINVAL,
				"no node id: set node_id (the host name "
				"is not usable)");
	if (c->nat_public.family && c->nat != WIRE_NAT_FORCE)
		return why_fail(why, -EINVAL,
				"nat_public_address is set but nat is not "
				"yes: the leader finds the public address "
				"itself (nat = auto)");
	if (c->dc.nat_port == c->dc.vxlan_port)
		return why_fail(why, -EINVAL,
				"nat_port and vxlan_port are both %u",
				c->dc.nat_port);
	if (!c->dc.catchall && c->dc.n_catchall_nets)
		return why_fail(why, -EINVAL,
				"underlay_cidr is set but catchall = no: the "
				"prefixes would cover nothing (remove one "
				"or the other)");
	for (size_t j = 0; j < c->dc.n_catchall_nets; j++) {
		const struct desired_prefix *p = &c->dc.catchall_nets[j];
		bool found = false;

		for (size_t i = 0; i < c->n_addrs; i++)
			found |= c->addrs[i].family == p->net.family;
		if (!found)
			return why_fail(why, -EINVAL,
					"underlay_cidr: %s prefix but no %s "
					"address",
					p->net.family == AF_INET ? "an IPv4"
								 : "an IPv6",
					p->net.family == AF_INET ? "IPv4"
								 : "IPv6");
	}
	return 0;
}

/* Appends "net/plen" to buf, after ", " unless buf is empty. */
static void catchall_append(const struct desired_prefix *p, char *buf,
			    size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	size_t at = strlen(buf);

	if (at < len)
		snprintf(buf + at, len - at, "%s%s/%u", at ? ", " : "",
			 xfrm_ip_fmt(p->net.family, &p->net.ip, ip, sizeof(ip)),
			 p->plen);
}

const char *agent_catchall_text(const struct agent_config *c, char *buf,
				size_t len)
{
	static const int families[] = { AF_INET, AF_INET6 };

	buf[0] = '\0';
	for (size_t f = 0; c->dc.catchall && f < 2; f++) {
		struct desired_prefix all = { .net.family = families[f] };
		bool have = false, listed = false;

		for (size_t i = 0; i < c->n_addrs; i++)
			have |= c->addrs[i].family == families[f];
		for (size_t j = 0; have && j < c->dc.n_catchall_nets; j++)
			if (c->dc.catchall_nets[j].net.family == families[f]) {
				catchall_append(&c->dc.catchall_nets[j], buf,
						len);
				listed = true;
			}
		if (have && !listed)
			catchall_append(&all, buf, len);
	}
	return buf;
}
