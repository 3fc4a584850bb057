/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr: the leader daemon as a library (a control-plane daemon may embed it). */
#ifndef VXSEC_LEADER_H
#define VXSEC_LEADER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/why.h"

/* Installed as <vxsec/leader.h> (libvxsec-keymgr-dev), for C and C++ hosts. */
#ifdef __cplusplus
extern "C" {
#endif

#define LEADER_STATE_DIR "/var/lib/vxsec-keymgr"
#define LEADER_SOCKET "/run/vxsec-keymgr.sock"
#define LEADER_CONFIG "/etc/vxsec/keymgr.conf"
#define LEADER_PORT 7120
#define LEADER_LISTEN "0.0.0.0:7120"
#define LEADER_ETCD_MAX 8
#define LEADER_ETCD_PREFIX_MAX 128
#define LEADER_ETCD_PREFIX "/vxsec/"

struct leader_config {
	char state_dir[PATH_MAX];
	char socket[PATH_MAX];
	char listen_text[80];
	struct sockaddr_storage listen;
	socklen_t listen_len;
	uint64_t rotate_interval_ms; /* default 12 h */
	uint64_t ack_deadline_ms;    /* default 30 s */
	uint64_t grace_ms;	     /* default 10 s */
	uint64_t cert_life_ms;	     /* node certificates, default 30 d */
	size_t unauth_max; /* connections not authenticated, default 256 */
	size_t unauth_per_source; /* ... from one address, default 16 */
	bool autolock;		  /* for a new state only */
	bool verbose;
	/* store = etcd: the state in etcd, one leader elected among the
	 * instances that share the prefix (docs/operations.md) */
	bool etcd;
	char etcd_endpoints[LEADER_ETCD_MAX][64]; /* "ip:port" */
	size_t n_etcd;
	char etcd_prefix[LEADER_ETCD_PREFIX_MAX + 1]; /* default "/vxsec/" */
	uint64_t lease_ttl_ms;			      /* default 5 s */
	char instance[65]; /* this instance's name, default the host name */
	/* what agents list as leader (token show prints it) */
	char leaders[LEADER_ETCD_MAX][64];
	size_t n_leaders;
	/* etcd over TLS: the CAs of etcd's server certificates; the client
	 * certificate and key for etcd's --client-cert-auth ("": none) */
	char etcd_ca[PATH_MAX], etcd_cert[PATH_MAX], etcd_key[PATH_MAX];
	/* GET /metrics over HTTP: where (metrics_len 0: off, the default) */
	char metrics_text[80];
	struct sockaddr_storage metrics;
	socklen_t metrics_len;
};

void leader_config_defaults(struct leader_config *c);

/*
 * One setting by its config file name (state_dir, socket, listen,
 * rotate_interval, ack_deadline, grace, cert_lifetime, unauth_max,
 * unauth_per_source, autolock, verbose, store, etcd_endpoints,
 * etcd_prefix, lease_ttl, instance, leaders, etcd_ca, etcd_cert,
 * etcd_key, metrics_listen). -EINVAL and why for an unknown key or a bad value. The files
 * are read by leader_new.
 */
int leader_config_set(struct leader_config *c, const char *key, const char *val,
		      struct why *why);

struct leader;

/* Exit codes of the daemon and its commands (docs/keymgr.md). */
enum leader_exit {
	LEADER_EXIT_OK = 0,
	LEADER_EXIT_FAIL = 1,	      /* a command failed */
	LEADER_EXIT_USAGE = 2,	      /* bad flags or config */
	LEADER_EXIT_STATE = 3,	      /* state unreadable, tampered, locked */
	LEADER_EXIT_NOT_RUNNING = 69, /* EX_UNAVAILABLE: no daemon answers */
	LEADER_EXIT_NOPERM = 77,      /* EX_NOPERM */
};

/*
 * Creates a new cluster in cfg->state_dir: the CA, a join token (as text
 * in token_text if not NULL), the state key (or, with cfg->autolock, an
 * unlock key in unlock_text, STATE_UNLOCK_TEXT_LEN + 1 bytes, never
 * stored). -EEXIST, with which files, if the directory holds any file of
 * a leader (state, state.key, state.key.new, ca.pem, listen): nothing is
 * ever created over an old cluster's CA or key. A failed init removes
 * what it created. Temporary files a crash left are wiped first.
 */
int leader_init_state(const struct leader_config *cfg, char *token_text,
		      size_t token_len, char *unlock_text, size_t unlock_len,
		      struct why *why);

/*
 * Opens the state (creating a new cluster in default mode if the
 * directory holds none), binds the listen and control sockets. For the
 * keys it holds it makes the process non-dumpable and without core files;
 * it also ignores SIGPIPE and raises the fd limit to the hard limit. unlock_key:
 * the 32-byte key of an autolocked state, else NULL. NULL with *exit_code
 * and why on failure; nothing on disk was changed.
 */
struct leader *leader_new(const struct leader_config *cfg,
			  const uint8_t *unlock_key, int *exit_code,
			  struct why *why);

/*
 * Serves until SIGTERM or SIGINT (blocked in the process and taken by the
 * loop); 0, or -errno if the loop failed. Under systemd ($NOTIFY_SOCKET
 * set) it speaks the notify protocol: READY=1 at once (the state is
 * loaded and the sockets listen; with store = etcd, a standby is ready
 * when it campaigns), STATUS= with status in one line, WATCHDOG=1 when
 * $WATCHDOG_USEC asks, STOPPING=1 at the end. leader_dispatch() does not:
 * a host that embeds the leader speaks for its own process.
 */
int leader_run(struct leader *l);

/*
 * Embedded in a host with its own event loop: poll leader_poll_fd() for
 * input (with a timeout of at most 100 ms: the rotation clock ticks), then
 * call leader_dispatch(), which never blocks. Signals stay the host's.
 */
int leader_poll_fd(const struct leader *l);
/*
 * After leader_run: LEADER_EXIT_STATE if it stopped because, elected, it
 * found a cluster in etcd it cannot use (another state key, a damaged or
 * newer record), else LEADER_EXIT_OK.
 */
int leader_exit_code(const struct leader *l);
int leader_dispatch(struct leader *l);

/* Persists, closes every connection and wipes every secret. NULL-safe. */
void leader_free(struct leader *l);

/*
 * The control socket's commands (common/ctl.h): the leader serves them
 * (the handlers' arg is its own, internal, struct admin); vxsec-keymgr
 * sends them and lists them in --help.
 */
struct ctl_table;
extern const struct ctl_table leader_commands;

#ifdef __cplusplus
}
#endif

#endif
