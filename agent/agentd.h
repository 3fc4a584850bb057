/* SPDX-License-Identifier: MIT */
/* vxsec-agent daemon: settings, and the agent that wires the session, the view, the reconciler and the kernel together. */
#ifndef VXSEC_AGENTD_H
#define VXSEC_AGENTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/why.h"
#include "desired.h"
#include "proto/node_id.h"
#include "wire.h"

#define AGENT_CONFIG "/etc/vxsec/agent.conf"
#define AGENT_STATE_DIR "/var/lib/vxsec-agent"
#define AGENT_SOCKET "/run/vxsec-agent.sock"
#define AGENT_BOOT_ID "/proc/sys/kernel/random/boot_id"
#define AGENT_STATIC_KEY_LIFETIME_MS ((uint64_t)24 * 3600 * 1000)
#define AGENT_REQID 0x7678 /* "vx" */
#define AGENT_PORT 7120
#define AGENT_NAT_PORT 4500	     /* ESP in UDP, RFC 3948 */
#define AGENT_NAT_KEEPALIVE_MS 20000 /* RFC 3948 3.2 */
#define AGENT_LEADERS_MAX 8 /* instances in leader = a:7120,b:7120,... */
/*
 * Every SA's soft byte limit: 2^40 bytes are 2^36 AES blocks, where
 * AES-GCM's confidentiality margin is about 2^-57 (TLS 1.3 rekeys at a
 * similar volume, RFC 8446 5.5); reaching it asks the leader to rotate
 * early. No hard limit of any kind by default (docs/design.md,
 * "Lifetimes"): nothing ends an SA while the leader is away.
 */
#define AGENT_SA_SOFT_BYTES (1ULL << 40)

/* Exit codes (as vxsec-keymgr's). */
#define AGENT_EXIT_OK 0
#define AGENT_EXIT_FAIL 1
#define AGENT_EXIT_USAGE 2
#define AGENT_EXIT_REMOVED 3 /* the leader removed this node */
#define AGENT_EXIT_NOT_RUNNING 69
#define AGENT_EXIT_NOPERM 77

struct agent_config {
	/* The leader's instances (IPv4 or IPv6 and a port), tried in turn,
	 * and the setting as given. */
	struct sockaddr_storage leaders[AGENT_LEADERS_MAX];
	size_t n_leaders;
	char leader_text[512];
	char node_id[NODE_ID_MAX + 1];
	char state_dir[256];
	char socket[256];
	char token_file[256];
	char boot_id_file[256];
	struct desired_addr addrs[DESIRED_ADDRS_MAX];
	size_t n_addrs;
	struct desired_config
		dc; /* reqid, port, window, lifetimes, catch-all */
	uint64_t resync_ms;
	uint64_t static_key_lifetime_ms; /* the periodic X25519 key change */
	/* NAT (docs/nat.md): the setting (WIRE_NAT_AUTO, _FORCE: yes,
	 * _NEVER: no), with yes where peers reach us (family 0: the leader
	 * sees it), and how often a node behind NAT probes its peers; the
	 * ESP-in-UDP port is dc.nat_port. */
	int nat;
	struct desired_addr nat_public;
	uint64_t nat_keepalive_ms;
	bool verbose;
	/* Optional overlay device. */
	bool vxlan;
	char vxlan_dev[16];
	uint32_t vni;
	uint32_t mtu; /* 0: from the underlay */
	/* GET /metrics over HTTP: where (metrics_len 0: off, the default) */
	struct sockaddr_storage metrics;
	socklen_t metrics_len;
};

void agent_config_defaults(struct agent_config *c);
/* One setting (a config file key or a flag): 0, or -EINVAL and why. */
int agent_config_set(struct agent_config *c, const char *key, const char *val,
		     struct why *why);
/* After all settings: what must be given (leader, address...). */
int agent_config_check(const struct agent_config *c, struct why *why);
/*
 * The catch-all as it applies (agent.md): "192.168.0.0/24, ::/0", one
 * prefix per family of c's addresses when underlay_cidr lists none of
 * it; "" when catchall is off. Returns buf.
 */
const char *agent_catchall_text(const struct agent_config *c, char *buf,
				size_t len);

struct agent;

/*
 * Opens everything (netlink sockets, the control socket, the session);
 * NULL with why and errno on failure (EPERM: no CAP_NET_ADMIN; ENOKEY:
 * neither a certificate nor a token). Nothing is changed in the kernel before the
 * first snapshot, except the catch-all, and nothing is ever changed
 * outside our reqid.
 */
struct agent *agent_new(const struct agent_config *c, struct why *why);
/*
 * Runs until SIGINT/SIGTERM (0) or removal (AGENT_EXIT_REMOVED). Under
 * systemd ($NOTIFY_SOCKET) it sends READY=1 once the kernel holds the
 * first revision from the leader, or, with a certificate and no leader
 * answering (a whole pass through the list failed), at once: the kernel
 * keeps the policies of the last run. STATUS=, WATCHDOG=1, STOPPING=1 as
 * the leader's (leader_run).
 */
int agent_run(struct agent *a);
void agent_free(struct agent *a);

/*
 * The control socket's commands (common/ctl.h): the agent serves them
 * with a struct agent as the handlers' arg; vxsec-agent sends them and
 * lists them in --help.
 */
struct ctl_table;
extern const struct ctl_table agent_commands;

/* CAP_NET_ADMIN in the effective set (root has it). */
bool agent_has_net_admin(void);

#endif
