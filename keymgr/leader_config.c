// SPDX-License-Identifier: MIT
/* vxsec-keymgr settings: defaults, and each config key checked and set. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/httpd.h"
#include "guard.h"
#include "leader.h"

void leader_config_defaults(struct leader_config *c)
{
	struct why why = { "" };

	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", LEADER_STATE_DIR);
	snprintf(c->socket, sizeof(c->socket), "%s", LEADER_SOCKET);
	leader_config_set(c, "listen", LEADER_LISTEN, &why);
	c->rotate_interval_ms = 12ull * 3600 * 1000;
	c->ack_deadline_ms = 30000;
	c->grace_ms = 10000;
	c->cert_life_ms = 30ull * 86400 * 1000;
	c->unauth_max = GUARD_MAX_DEFAULT;
	c->unauth_per_source = GUARD_PER_SOURCE_DEFAULT;
	snprintf(c->etcd_prefix, sizeof(c->etcd_prefix), "%s",
		 LEADER_ETCD_PREFIX);
	c->lease_ttl_ms = 5000;
	if (gethostname(c->instance, sizeof(c->instance) - 1) ||
	    !c->instance[0])
		snprintf(c->instance, sizeof(c->instance), "keymgr");
}

static int set_duration(uint64_t *dst, uint64_t min, const char *key,
			const char *val, struct why *why);
static int set_path(char *dst, size_t len, const char *key, const char *val,
		    struct why *why);

/* A list being parsed, kept aside until every item passed. */
struct addr_list {
	const char *key;
	char l[LEADER_ETCD_MAX][64];
	size_t n;
};

static int add_addr(void *arg, const char *item, struct why *why)
{
	struct addr_list *al = arg;
	struct sockaddr_storage ss;
	socklen_t len;

	if (al->n == LEADER_ETCD_MAX)
		return why_fail(why, -EINVAL, "%s: more than %d", al->key,
				LEADER_ETCD_MAX);
	if (config_addr_port(item, &ss, &len))
		return why_fail(why, -EINVAL,
				"%s: \"%s\" is not ADDRESS:PORT (e.g. "
				"10.0.0.5:2379, [fd00::5]:2379)",
				al->key, item);
	snprintf(al->l[al->n++], 64, "%s", item);
	return 0;
}

/* "a:p,b:p": each ADDRESS:PORT, at most LEADER_ETCD_MAX, into list. */
static int set_addr_list(char (*list)[64], size_t *n_out, const char *key,
			 const char *val, struct why *why)
{
	struct addr_list al = { .key = key };
	int err = config_list(key, "address", val, add_addr, &al, why);

	if (err)
		return err;
	memcpy(list, al.l, sizeof(al.l));
	*n_out = al.n;
	return 0;
}

/* A key prefix: printable, no space, ends with '/'. */
static int set_prefix(struct leader_config *c, const char *val, struct why *why)
{
	size_t n = strlen(val);

	for (size_t i = 0; i < n; i++)
		if (val[i] <= ' ' || val[i] > '~')
			n = 0;
	if (!n || n > LEADER_ETCD_PREFIX_MAX || val[n - 1] != '/')
		return why_fail(why, -EINVAL,
				"etcd_prefix: \"%s\" is not 1 to %d "
				"printable bytes ending with '/' (e.g. "
				"/vxsec/)",
				val, LEADER_ETCD_PREFIX_MAX);
	snprintf(c->etcd_prefix, sizeof(c->etcd_prefix), "%s", val);
	return 0;
}

static int set_instance(struct leader_config *c, const char *val,
			struct why *why)
{
	size_t n = strlen(val);

	for (size_t i = 0; i < n; i++)
		if (val[i] <= ' ' || val[i] > '~')
			n = 0;
	if (!n || n >= sizeof(c->instance))
		return why_fail(why, -EINVAL,
				"instance: \"%s\" is not 1 to 64 printable "
				"bytes without spaces",
				val);
	snprintf(c->instance, sizeof(c->instance), "%s", val);
	return 0;
}

/* The settings of store = etcd. */
static int set_etcd(struct leader_config *c, const char *key, const char *val,
		    struct why *why)
{
	if (strcmp(key, "store") == 0) {
		if (strcmp(val, "file") != 0 && strcmp(val, "etcd") != 0)
			return why_fail(why, -EINVAL,
					"store: \"%s\" is not file or etcd",
					val);
		c->etcd = strcmp(val, "etcd") == 0;
		return 0;
	}
	if (strcmp(key, "etcd_endpoints") == 0)
		return set_addr_list(c->etcd_endpoints, &c->n_etcd, key, val,
				     why);
	if (strcmp(key, "leaders") == 0)
		return set_addr_list(c->leaders, &c->n_leaders, key, val, why);
	if (strcmp(key, "etcd_prefix") == 0)
		return set_prefix(c, val, why);
	if (strcmp(key, "instance") == 0)
		return set_instance(c, val, why);
	if (strcmp(key, "lease_ttl") == 0) {
		int err = set_duration(&c->lease_ttl_ms, 2000, key, val, why);

		if (!err && c->lease_ttl_ms > 600000)
			err = why_fail(why, -EINVAL, "lease_ttl: at most 10m");
		return err;
	}
	if (strcmp(key, "etcd_ca") == 0)
		return set_path(c->etcd_ca, sizeof(c->etcd_ca), key, val, why);
	if (strcmp(key, "etcd_cert") == 0)
		return set_path(c->etcd_cert, sizeof(c->etcd_cert), key, val,
				why);
	if (strcmp(key, "etcd_key") == 0)
		return set_path(c->etcd_key, sizeof(c->etcd_key), key, val,
				why);
	return why_fail(why, -EINVAL, "unknown setting \"%s\"", key);
}

static int set_count(size_t *dst, const char *key, const char *val,
		     struct why *why)
{
	uint32_t v;

	if (config_u32(val, 1, 1000000, &v)) {
		why_set(why, "%s: \"%s\" is not a number from 1 to 1000000",
			key, val);
		return -EINVAL;
	}
	*dst = v;
	return 0;
}

static int set_path(char *dst, size_t len, const char *key, const char *val,
		    struct why *why)
{
	if (!*val || strlen(val) >= len) {
		why_set(why, "%s: empty or too long", key);
		return -EINVAL;
	}
	snprintf(dst, len, "%s", val);
	return 0;
}

static int set_duration(uint64_t *dst, uint64_t min, const char *key,
			const char *val, struct why *why)
{
	uint64_t v;

	if (config_duration_ms(val, &v) || v < min) {
		why_set(why,
			"%s: \"%s\" is not a duration of at least %llu ms "
			"(e.g. 500ms, 30s, 5m, 12h, 1d)",
			key, val, (unsigned long long)min);
		return -EINVAL;
	}
	*dst = v;
	return 0;
}

int leader_config_set(struct leader_config *c, const char *key, const char *val,
		      struct why *why)
{
	if (strcmp(key, "state_dir") == 0)
		return set_path(c->state_dir, sizeof(c->state_dir), key, val,
				why);
	if (strcmp(key, "socket") == 0)
		return set_path(c->socket, sizeof(c->socket), key, val, why);
	if (strcmp(key, "listen") == 0) {
		if (config_addr_port(val, &c->listen, &c->listen_len)) {
			why_set(why,
				"listen: \"%s\" is not ADDRESS:PORT "
				"(e.g. 0.0.0.0:7120, [::]:7120)",
				val);
			return -EINVAL;
		}
		snprintf(c->listen_text, sizeof(c->listen_text), "%s", val);
		return 0;
	}
	if (strcmp(key, "metrics_listen") == 0) {
		int err = httpd_addr_parse(key, val, &c->metrics,
					   &c->metrics_len, why);

		if (!err)
			snprintf(c->metrics_text, sizeof(c->metrics_text), "%s",
				 c->metrics_len ? val : "");
		return err;
	}
	if (strcmp(key, "rotate_interval") == 0)
		return set_duration(&c->rotate_interval_ms, 1000, key, val,
				    why);
	if (strcmp(key, "ack_deadline") == 0)
		return set_duration(&c->ack_deadline_ms, 100, key, val, why);
	if (strcmp(key, "grace") == 0)
		return set_duration(&c->grace_ms, 0, key, val, why);
	if (strcmp(key, "cert_lifetime") == 0)
		return set_duration(&c->cert_life_ms, 10000, key, val, why);
	if (strcmp(key, "unauth_max") == 0)
		return set_count(&c->unauth_max, key, val, why);
	if (strcmp(key, "unauth_per_source") == 0)
		return set_count(&c->unauth_per_source, key, val, why);
	if (strcmp(key, "autolock") == 0 || strcmp(key, "verbose") == 0) {
		bool *b = key[0] == 'a' ? &c->autolock : &c->verbose;

		if (!config_bool(val, b))
			return 0;
		why_set(why, "%s: \"%s\" is not yes or no", key, val);
		return -EINVAL;
	}
	return set_etcd(c, key, val, why);
}
