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
	/* Soft only: rotation replaces keys long before (agentd.h). */
	c->dc.lft.soft_bytes = AGENT_SA_SOFT_BYTES;
	c->resync_ms = 60000;
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
	c->addrs[c->n_addrs++] = a;
	return 0;
}

/* "10.0.0.0/16" or "fd00::/64": the catch-all's underlay prefix. */
static int set_catchall(struct agent_config *c, const char *val,
			struct why *why)
{
	char ip[64];
	const char *slash = strchr(val, '/');
	uint32_t plen;

	if (!slash || (size_t)(slash - val) >= sizeof(ip))
		goto bad;
	memcpy(ip, val, (size_t)(slash - val));
	ip[slash - val] = '\0';
	if (xfrm_ip_parse(ip, &c->dc.catchall_net.family,
			  &c->dc.catchall_net.ip) ||
	    config_u32(slash + 1, 0,
		       c->dc.catchall_net.family == AF_INET ? 32 : 128, &plen))
		goto bad;
	c->dc.catchall = true;
	c->dc.catchall_plen = (uint8_t)plen;
	return 0;
bad:
	return why_fail(why, -EINVAL,
			"underlay_cidr: \"%s\" is not a prefix such as "
			"10.0.0.0/16 or fd00::/64",
			val);
}

static int set_bool(bool *dst, const char *key, const char *val,
		    struct why *why)
{
	if (config_bool(val, dst) == 0)
		return 0;
	return why_fail(why, -EINVAL, "%s: \"%s\" is not yes or no", key, val);
}

/* One instance of the list: ADDRESS:PORT, spaces around it ignored. */
static int add_leader(struct sockaddr_storage *out, size_t *n, const char *item,
		      size_t len, struct why *why)
{
	char one[64];
	socklen_t sl;

	while (len && (*item == ' ' || *item == '\t'))
		item++, len--;
	while (len && (item[len - 1] == ' ' || item[len - 1] == '\t'))
		len--;
	if (*n == AGENT_LEADERS_MAX)
		return why_fail(why, -EINVAL, "leader: more than %d addresses",
				AGENT_LEADERS_MAX);
	if (len == 0 || len >= sizeof(one))
		return why_fail(why, -EINVAL,
				"leader: an empty or overlong address in the "
				"list");
	memcpy(one, item, len);
	one[len] = '\0';
	if (config_addr_port(one, &out[*n], &sl))
		return why_fail(why, -EINVAL,
				"leader: \"%s\" is not ADDRESS:PORT (e.g. "
				"10.0.0.1:%d, [fd00::1]:%d)",
				one, AGENT_PORT, AGENT_PORT);
	for (size_t i = 0; i < *n; i++)
		if (memcmp(&out[i], &out[*n], sl) == 0)
			return why_fail(why, -EINVAL,
					"leader: %s is listed twice", one);
	(*n)++;
	return 0;
}

/*
 * "a:7120,b:7120,[fd00::3]:7120": the leader's instances (up to
 * AGENT_LEADERS_MAX), tried in turn; a single address as well. A value
 * given again (a flag after the file) replaces the list.
 */
static int set_leader(struct agent_config *c, const char *val, struct why *why)
{
	struct sockaddr_storage l[AGENT_LEADERS_MAX];
	size_t n = 0;
	const char *p = val, *comma;
	int err;

	if (strlen(val) >= sizeof(c->leader_text))
		return why_fail(why, -EINVAL, "leader: too long");
	memset(l, 0, sizeof(l));
	do {
		comma = strchr(p, ',');
		err = add_leader(l, &n, p,
				 comma ? (size_t)(comma - p) : strlen(p), why);
		p = comma + 1;
	} while (!err && comma);
	if (err)
		return err;
	memcpy(c->leaders, l, sizeof(l));
	c->n_leaders = n;
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

static int set_more(struct agent_config *c, const char *key, const char *val,
		    struct why *why)
{
	uint32_t v;
	int err;

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
		return set_catchall(c, val, why);
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
	if (c->dc.catchall) {
		for (size_t i = 0; i < c->n_addrs; i++)
			if (c->addrs[i].family == c->dc.catchall_net.family)
				return 0;
		return why_fail(why, -EINVAL,
				"underlay_cidr: no address of that family");
	}
	return 0;
}
