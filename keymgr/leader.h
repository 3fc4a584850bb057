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
#define LEADER_INSTANCE_MAX 64 /* an instance's name, without the NUL */

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
	char instance[LEADER_INSTANCE_MAX + 1]; /* default: the host name */
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
 * unlock key in unlock_text, LEADER_UNLOCK_TEXT_LEN + 1 bytes, never
 * stored: leader_unlock_key_parse() turns it into leader_new()'s key).
 * -EEXIST, with which files, if the directory holds any file of a leader
 * (state, state.key, state.key.new, ca.pem, listen): nothing is ever
 * created over an old cluster's CA or key. A failed init removes
 * what it created. Temporary files a crash left are wiped first.
 */
int leader_init_state(const struct leader_config *cfg, char *token_text,
		      size_t token_len, char *unlock_text, size_t unlock_len,
		      struct why *why);

/*
 * Opens the state (creating a new cluster in default mode if the
 * directory holds none), binds the listen and control sockets. For the
 * keys it holds it makes the process non-dumpable and without core files;
 * it also ignores SIGPIPE and raises the fd limit to the hard limit.
 * unlock_key: the 32-byte key of an autolocked state (from
 * leader_unlock_key_parse()), else NULL. NULL with *exit_code and why on
 * failure; nothing on disk was changed.
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
 * ---- Operations and events (since 0.2, version node VXSEC_KEYMGR_0.2) ----
 *
 * What the control socket's commands do, for a host that embeds the
 * leader: the same code, the same checks and refusals (a standby refuses
 * all but leader_status_get with -EAGAIN; while the state cannot be
 * saved, changes are refused with the save's -errno), the same log lines.
 *
 * Threads: the library has none. Every function here is called on the
 * host's thread, the one that calls leader_dispatch() (or leader_run()),
 * never concurrently with it. Callbacks run on that thread, from inside
 * leader_dispatch() or leader_run(); a callback may call any function
 * here except leader_free(). A change's done callback is never called
 * from inside the function that started it. Events come as things
 * happen, which is mostly inside leader_dispatch(), but a change saves
 * the state inside the call that makes it, with the file store: its
 * LEADER_EVENT_MEMBER_REMOVED, a LEADER_EVENT_SAVE_FAILED or
 * LEADER_EVENT_SAVED come from inside leader_member_remove(),
 * leader_rotate(), leader_token_rotate() or leader_unlock_key_rotate().
 * leader_free() tells the changes not told yet (see leader_done_fn) from
 * inside itself (those callbacks must not call the library), and no
 * event (the sessions it closes are not news).
 *
 * Growth: structs the host reads carry their size first (the library's
 * sizeof when it filled them): a field past it is absent (an older
 * library). Structs the host passes in (leader_status) say their size in
 * the same field, set by the host to sizeof(its struct). Enums may gain
 * values: ignore those you do not know.
 *
 * Secrets: no returned struct holds one. leader_token_show() and
 * leader_unlock_key_show()/_rotate() return a secret as text in locked,
 * guarded memory (libsodium): the host wipes and frees it with
 * leader_secret_free() as soon as it is done, and never logs it.
 */

/* store = file: always LEADER_ROLE_SOLE. */
enum leader_role {
	LEADER_ROLE_SOLE,    /* the only leader: the state directory */
	LEADER_ROLE_STANDBY, /* store = etcd: another instance leads, or none */
	LEADER_ROLE_LOADING, /* elected: reading the state from etcd */
	LEADER_ROLE_LEADING, /* elected, serving */
};

enum leader_rotation_phase {
	LEADER_ROTATION_IDLE,
	LEADER_ROTATION_PREPARE, /* the new generation sent, acks awaited */
	LEADER_ROTATION_COMMIT,	 /* agents transmit with it, acks awaited */
	LEADER_ROTATION_GRACE,	 /* until the old generation retires */
};

enum leader_gen_phase {
	LEADER_GEN_PREPARED,
	LEADER_GEN_COMMITTED, /* the transmit generation */
	LEADER_GEN_RETIRING,
};

enum leader_member_state {
	LEADER_MEMBER_CONNECTED,
	LEADER_MEMBER_DISCONNECTED,
	LEADER_MEMBER_REMOVED,
};

#define LEADER_GENS_MAX 3
#define LEADER_NODE_ID_MAX 64	/* a node id's bytes, without the NUL */
#define LEADER_ADDRS_MAX 8	/* underlay addresses of one member */
#define LEADER_ADDR_TEXT_LEN 46 /* INET6_ADDRSTRLEN */
#define LEADER_KEY_FPR_LEN 45	/* a public key's base64 and a NUL */

/* Where the state lives (since 0.3). */
enum leader_store {
	LEADER_STORE_FILE, /* the state directory: one leader */
	LEADER_STORE_ETCD, /* etcd: instances elect one */
};

/* What `vxsec-keymgr status --json` shows, as numbers. */
struct leader_status {
	size_t size; /* in: sizeof(struct leader_status); out: filled */
	enum leader_role role;
	bool serving; /* this instance serves agents (not a standby) */
	int64_t term; /* store = etcd: the leader term (0: store = file) */
	uint64_t revision, persisted_revision;
	size_t members;	  /* not removed */
	size_t connected; /* members with a session */
	uint32_t transmit_generation;
	size_t n_generations;
	struct {
		uint32_t generation;
		enum leader_gen_phase phase;
	} generations[LEADER_GENS_MAX];
	enum leader_rotation_phase rotation;
	uint32_t rotation_target; /* 0 when idle */
	size_t pending_acks;
	bool rotation_requested;
	uint64_t next_rotation_s; /* idle, not requested: the next periodic */
	uint64_t rotations;	  /* completed since the start */
	uint64_t last_rotation_ms;
	bool autolock;
	bool state_saved; /* false: saves fail, the leader holds still */
	uint64_t unsaved_s;
	int save_error; /* -errno of the failing save, or 0 */
	uint64_t uptime_s;
	char listen[80]; /* where agents connect */
	/*
	 * Since 0.3 (absent when out->size is smaller): where the state
	 * lives and, with store = etcd, the election as `status --json`
	 * shows it. The file store leaves the strings "" and numbers 0.
	 * term above is, for a standby, the term of the leader it sees.
	 */
	enum leader_store store;
	char instance[LEADER_INSTANCE_MAX + 1]; /* this instance's name */
	/* the instance leading: this one, or for a standby the holder of the
	 * leader key in etcd ("": not known yet), and where it listens for
	 * agents ("": not known) */
	char leader[LEADER_INSTANCE_MAX + 1];
	char leader_listen[80];
	uint64_t role_s;   /* in this role */
	char election[16]; /* the campaign: "standby", "leader", "waiting" .. */
	size_t n_etcd_endpoints; /* configured */
	char etcd_endpoint[64];	 /* the one in use ("?": none yet) */
	char etcd_prefix[LEADER_ETCD_PREFIX_MAX + 1];
	int64_t lease_ttl_s;	      /* the leader lease */
	uint64_t loop_late_max_ms;    /* the most a timer fired late */
	uint64_t etcd_commits;	      /* since the start */
	uint64_t etcd_txns;	      /* commits made as one transaction */
	uint64_t etcd_journaled;      /* ... through the journal (too large) */
	uint64_t etcd_failures;	      /* commits etcd did not take */
	uint64_t etcd_last_commit_ms; /* the last one's duration */
	int64_t etcd_revision;	      /* etcd's, at the last commit */
};

/*
 * Fills out (out->size set by the caller; at most that many bytes are
 * written, and out->size is set to what was). 0, or -EINVAL if out->size
 * is smaller than the first version's struct.
 */
int leader_status_get(struct leader *l, struct leader_status *out);

/* One member, as `vxsec-keymgr nodes --json` shows it (no secret). */
struct leader_member {
	size_t size; /* the library's sizeof(struct leader_member) */
	char id[LEADER_NODE_ID_MAX + 1];
	uint32_t index;	      /* from 1, never reused */
	uint64_t incarnation; /* from 1 */
	enum leader_member_state state;
	char cert_serial[48];			/* hex */
	uint64_t sent_revision, acked_revision; /* its session's, or 0 */
	size_t n_underlay;
	char underlay[LEADER_ADDRS_MAX][LEADER_ADDR_TEXT_LEN];
	char key[LEADER_KEY_FPR_LEN];	      /* its newest static key, or "" */
	char pending_key[LEADER_KEY_FPR_LEN]; /* announced, or "" */
	/* added with NAT detection (docs/nat.md): behind NAT, and where */
	bool nat;
	char public_address[LEADER_ADDR_TEXT_LEN]; /* "" if not nat */
};

/*
 * The members (removed ones too), in join order, copied now: the list is
 * the host's and does not change. NULL with errno (ENOMEM; EAGAIN: a
 * standby). leader_members_at() is NULL past the end; its pointer lives
 * until leader_members_free() (NULL-safe).
 */
struct leader_members;
struct leader_members *leader_members_new(struct leader *l);
size_t leader_members_count(const struct leader_members *m);
const struct leader_member *leader_members_at(const struct leader_members *m,
					      size_t i);
void leader_members_free(struct leader_members *m);

/*
 * The end of a change: err 0 once the change is saved (store = file: the
 * state directory; store = etcd: etcd holds it) and what follows it is
 * done (a removed node's session ended and its peers told); or -errno:
 * -ESTALE (store = etcd: this instance stepped down first), -ECANCELED
 * (leader_free() came first), or etcd's error (the change stays in
 * memory and goes with the next commit while this instance leads). It is
 * called exactly once for each change started with 0, from a later
 * leader_dispatch(): with store = file, the first one after the call
 * (the change was saved inside it); with store = etcd, the one in which
 * etcd's answer arrives. Never for a change refused with -errno.
 */
typedef void leader_done_fn(struct leader *l, int err, void *arg);

/*
 * Starts a change; done (NULL: not told) and arg as above. 0 once
 * started; -errno and why if refused, nothing changed: -EAGAIN (a
 * standby), the save's -errno (the state cannot be saved now), -ENOBUFS
 * (16 changes wait already).
 *
 * leader_rotate: a rotation now (after the one under way, if any).
 * leader_member_remove: node removed for good, told at once (after the
 *   save), its peers delete its SAs and a rotation follows; -ENOENT (not
 *   a member), -EPERM (already removed).
 * leader_token_rotate: a new join token; the old one is refused from
 *   the save on. leader_token_show() gives the new one.
 */
int leader_rotate(struct leader *l, leader_done_fn *done, void *arg,
		  struct why *why);
int leader_member_remove(struct leader *l, const char *node,
			 leader_done_fn *done, void *arg, struct why *why);
int leader_token_rotate(struct leader *l, leader_done_fn *done, void *arg,
			struct why *why);

/*
 * Secrets as text in *text (locked memory, NUL-terminated): 0, or -errno
 * and why (*text NULL). The host wipes and frees it with
 * leader_secret_free(). leader_token_show: the join token.
 * leader_unlock_key_show: the unlock key of an autolocked state
 * (-ENOKEY without autolock: the key is the file state.key).
 * leader_unlock_key_rotate: a new state key, the state saved under it
 * (synchronous, like the command): with autolock its unlock key, the only
 * copy; without, a line saying which file holds it. -EOPNOTSUPP with
 * store = etcd.
 */
int leader_token_show(struct leader *l, char **text, struct why *why);
int leader_unlock_key_show(struct leader *l, char **text, struct why *why);
int leader_unlock_key_rotate(struct leader *l, char **text, struct why *why);
/* Wipes and frees a secret these returned. NULL-safe. */
void leader_secret_free(char *text);

/*
 * ---- The unlock key's text (since 0.3, version node VXSEC_KEYMGR_0.3) ----
 *
 * An autolocked state opens only with its unlock key, which the leader
 * stores nowhere: `vxsec-keymgr init --autolock`, `unlock-key show` and
 * `unlock-key rotate`, leader_init_state() and leader_unlock_key_show()
 * give it as text, "VXSEC-UNLOCK-" and 52 base32 characters
 * (LEADER_UNLOCK_TEXT_LEN). A host that keeps that text (a secret store,
 * a file only it reads) turns it into the bytes leader_new() takes with
 * leader_unlock_key_parse(): the parser of --unlock-key-file.
 *
 * Case and white space around the text are ignored. *key receives
 * LEADER_UNLOCK_KEY_LEN bytes in locked, guarded memory (libsodium),
 * which the host passes to leader_new() and then wipes and frees with
 * leader_unlock_key_free(). 0; or -EINVAL and why (*key NULL): empty,
 * not beginning with VXSEC-UNLOCK-, not 52 characters after it, a
 * character that is not base32 (its position), or a last character that
 * cannot end a key; why never quotes the text. -ENOMEM. The text carries
 * no checksum: a mistyped character that is still base32 gives another
 * key, and leader_new() then fails with LEADER_EXIT_STATE (the state
 * does not open).
 */
#define LEADER_UNLOCK_KEY_LEN 32
#define LEADER_UNLOCK_TEXT_LEN 65 /* without the NUL */
int leader_unlock_key_parse(const char *text, uint8_t **key, struct why *why);
/* Wipes and frees what leader_unlock_key_parse() gave. NULL-safe. */
void leader_unlock_key_free(uint8_t *key);

enum leader_event_type {
	LEADER_EVENT_MEMBER_JOINED = 1,	  /* saved, its join answered */
	LEADER_EVENT_MEMBER_CONNECTED,	  /* a session (after a join too) */
	LEADER_EVENT_MEMBER_DISCONNECTED, /* its session ended (why) */
	LEADER_EVENT_MEMBER_INCARNATION,  /* came back new: reboot, lost SAs */
	LEADER_EVENT_MEMBER_REMOVED,	  /* removed for good, saved */
	LEADER_EVENT_ROTATION,		  /* a rotation phase entered */
	LEADER_EVENT_SAVE_FAILED, /* saves fail: holding still (error) */
	LEADER_EVENT_SAVED,	  /* saves succeed again: resuming */
	LEADER_EVENT_ROLE,	  /* store = etcd: role and term */
};

/*
 * One event, valid during the callback only (copy what you keep). Member
 * events set node, index, incarnation and state; LEADER_EVENT_ROTATION
 * the phase and its generation (the target; idle: the transmit one);
 * LEADER_EVENT_SAVE_FAILED error; LEADER_EVENT_ROLE role and term. A
 * new incarnation comes just before the connection that brought it. A
 * grace period that ends in the round that began it is not reported.
 */
struct leader_event {
	size_t size; /* the library's sizeof(struct leader_event) */
	enum leader_event_type type;
	uint64_t revision; /* the cluster's, when it happened */
	const char *node;  /* member events, else NULL */
	uint32_t index;
	uint64_t incarnation;
	enum leader_member_state state;
	enum leader_rotation_phase phase;
	uint32_t generation;
	int error;	 /* -errno */
	const char *why; /* a reason in words (disconnect, save), or NULL */
	enum leader_role role;
	int64_t term;
};

typedef void leader_event_fn(struct leader *l, const struct leader_event *ev,
			     void *arg);

/* Every event from now to fn(l, ev, arg); fn NULL: none. Replaces the
 * last one set. */
void leader_events_set(struct leader *l, leader_event_fn *fn, void *arg);

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
