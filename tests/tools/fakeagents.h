/* SPDX-License-Identifier: MIT */
/* fakeagents: N simulated agents in one process; what its parts share. */
#ifndef VXSEC_FAKEAGENTS_H
#define VXSEC_FAKEAGENTS_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/conn.h"
#include "common/pairkey.h"
#include "common/token.h"
#include "common/why.h"
#include "proto/frame.h"

#define FA_GENS_MAX 3
#define FA_DIGEST_LEN 16
#define FA_KEYS_MAX 4	 /* static keys of one node at once */
#define FA_SAMPLE 100	 /* agents that derive their pairs' keys (--verify) */
#define FA_LEADERS_MAX 8 /* --leader a:p,b:p,... */

/* ---- node ids, interned: our agents are 0..N-1, other nodes after ---- */

struct fa_names {
	char **name;	 /* by gid */
	uint32_t n, cap; /* names, room in name[] */
	uint32_t *slot;	 /* open addressing: gid + 1, 0 = free */
	uint32_t slots;	 /* a power of two */
};

int fa_names_init(struct fa_names *t);
void fa_names_cleanup(struct fa_names *t);
/* The gid of name, added if new; -ENOMEM. */
int fa_names_intern(struct fa_names *t, const char *name, uint32_t *gid);
const char *fa_names_get(const struct fa_names *t, uint32_t gid);

/* ---- what one agent was told ---- */

/*
 * A node as an agent knows it: index, incarnation and static public keys
 * (from generation, key), oldest first. Kept only by sampled agents, and
 * only for sampled nodes (itself included): a run of 10,000 agents keeps
 * 100 x 100 of these, not 10^8.
 */
struct fa_peer {
	uint32_t gid; /* UINT32_MAX: self */
	uint32_t index;
	uint64_t incarnation;
	size_t n_keys;
	struct {
		uint32_t from;
		uint8_t pub[PAIRKEY_PUB_LEN];
	} k[FA_KEYS_MAX];
};

struct fa_gen {
	uint32_t number;
	Vxsec__Phase phase;
	uint32_t spi_slot;
	uint8_t epoch_digest[FA_DIGEST_LEN]; /* every agent: the same E_g */
	uint8_t *epoch; /* E_g itself, sampled agents only (sodium_malloc) */
};

struct fa_state {
	uint64_t revision;
	bool have_snapshot;
	unsigned int n_gens;
	struct fa_gen gens[FA_GENS_MAX];
	uint64_t *peers; /* bitmap by gid */
	uint32_t peers_cap;
	/* set by the agent before its session: does it derive keys, and
	 * which nodes (by gid, below n_ours) it keeps keys of */
	bool full;
	const uint8_t *sampled; /* one byte per agent of the run */
	uint32_t n_ours;
	struct fa_peer self;
	struct fa_peer *kp; /* sampled peers, in no order */
	uint32_t n_kp, kp_cap;
};

/*
 * Apply a snapshot or a delta to s. A message
 * the protocol does not allow here (a revision gap, a key for a
 * generation that is not live, ...) gives -EPROTO and the reason in why.
 */
int fa_state_snapshot(struct fa_state *s, struct fa_names *t,
		      const Vxsec__Snapshot *m, struct why *why);
int fa_state_delta(struct fa_state *s, struct fa_names *t,
		   const Vxsec__Delta *m, struct why *why);
void fa_state_cleanup(struct fa_state *s);
const struct fa_gen *fa_state_gen(const struct fa_state *s, uint32_t number);
/* What a full agent knows of node gid (NULL if not kept). */
const struct fa_peer *fa_state_peer(const struct fa_state *s, uint32_t gid);
/* The key of p in generation g (NULL if none). */
const uint8_t *fa_peer_key(const struct fa_peer *p, uint32_t g);
bool fa_state_has_peer(const struct fa_state *s, uint32_t peer);
/* The committed generation's number, 0 if none. */
uint32_t fa_state_committed(const struct fa_state *s);
const char *fa_phase_name(Vxsec__Phase p);

/* ---- the run ---- */

/* FA_RECONNECT: it was live, lost its session and tries to get one again. */
enum fa_phase {
	FA_IDLE,
	FA_JOINING,
	FA_SESSION,
	FA_LIVE,
	FA_RECONNECT,
	FA_GONE
};

struct fa_run;

/* Bytes from the leader: on the wire (TLS records) and frames (plaintext). */
struct fa_bytes {
	uint64_t wire, frames;
};

struct fa_agent {
	struct fa_run *run;
	uint32_t gid;  /* its index in run->agents and in run->names */
	uint32_t addr; /* source address, host order (0: any) */
	/* its socket's local address (getsockname), host order: the hello
	 * names it (NAT detection), or --claim-local's instead */
	uint32_t local;
	bool has_local;
	uint32_t index;	  /* node index from the leader */
	uint64_t counted; /* the max revision it was counted at */
	enum fa_phase phase;
	bool silent, ready, joined, rotated, refused;
	bool ack_due;	  /* applied frames not acked yet */
	bool commit_held; /* --hold-commit: its ack waits for run->hold */
	bool expire;	  /* reports a soft expiry after its first snapshot */
	/* the leader it talks to: an index in run->leaders; tried: addresses
	 * failed in this pass; redirect: where a not-leader refusal sent it
	 * (-1: none), redirected: this pass followed one already; backoff:
	 * the longest wait before the next try (ms); due: when it tries
	 * again (loop_mono_ms()), waiting: it is in run->waiting */
	uint32_t cur, tried, backoff;
	int32_t redirect;
	bool redirected, waiting;
	uint64_t due;
	uint64_t term;	  /* the highest leader term it was sent */
	bool failed_over; /* acked the new leader's state (--failover...) */
	uint8_t boot_id[PROTO_BOOT_ID_LEN];
	/* its X25519 static key: a real one (sk) for a sampled agent, 32
	 * random bytes for the others, which only ack */
	struct pairkey_static *sk;
	uint8_t pub[PAIRKEY_PUB_LEN];
	/* --key-update: it sends one after its first snapshot, and keeps
	 * the key it had (the generations before the next use it) */
	bool key_update;
	struct pairkey_static *sk_old;
	uint8_t pub_old[PAIRKEY_PUB_LEN];
	EVP_PKEY *key;
	uint8_t *csr; /* DER, made before the clock starts; freed at join */
	size_t csr_len;
	struct tls_ctx *tls; /* its session context (certificate, CA) */
	struct conn *conn;
	struct fa_state st;
	/* received: rx.wire over its closed connections only, rx.frames
	 * over all (fa_agent_rx() adds the open connection's wire bytes);
	 * rx_mark: fa_agent_rx() when the rotation started */
	struct fa_bytes rx, rx_mark;
};

struct fa_opts {
	const char *leader, *token, *token_file, *prefix, *rotate_cmd;
	const char *bench, *state_out, *certs, *failover_cmd;
	uint32_t n, first, rotations, parallel, width;
	uint32_t backoff_max; /* ms */
	uint32_t hold_commit; /* ms an agent waits before acking a commit */
	long leader_pid, timeout;
	bool verify, hold;
	uint32_t expire;     /* agent number that reports a soft expiry */
	uint32_t key_update; /* agent number that changes its static key */
	uint32_t *silent;    /* agent numbers */
	size_t n_silent;
	/* --claim-local: the local address every hello names (host order),
	 * not the socket's: as an agent behind NAT would see it */
	bool claim;
	uint32_t claim_local;
};

struct fa_run {
	struct fa_opts o;
	struct loop *loop;
	struct fa_names names;
	struct fa_agent *agents;
	uint8_t *sampled; /* by gid: derives its pairs' keys for --verify */
	struct join_token token;
	struct tls_ctx *join_tls;
	X509 *ca; /* from the first join response; the others must match */
	uint8_t *ca_der;
	size_t ca_len;
	struct fa_leader {
		uint32_t ip; /* host order; on 127.0.0.0/8 each agent binds
			      * its own 127.x.y.z */
		uint16_t port;
	} leaders[FA_LEADERS_MAX];
	uint32_t n_leaders;
	/* a lost connection tries the next leader (a list, or a failover):
	 * the agents waiting to, by gid, and the timer that starts them */
	bool reconnect;
	uint32_t *waiting, n_waiting, *due;
	struct loop_timer *retry;
	struct loop_timer *hold; /* --hold-commit: sends the held acks */
	bool hold_armed;
	uint64_t n_retries, n_not_leader;
	uint32_t n_stale; /* frames of a lower term than the agent held */
	uint32_t n_away;  /* agents (not silent) that were live, reconnecting */
	/* --failover-after-sync: the term and revision before the command,
	 * the agents to wait for, those in sync with a higher term since */
	bool failing_over;
	uint64_t fo_term, fo_rev;
	uint32_t fo_want, n_failed_over;
	double t_failed_over;
	int rc;
	bool stop, holding, ending;
	/* counters kept by the callbacks, read by the phases */
	uint32_t next, in_flight, n_snap, n_live, n_at_max, n_rotated;
	uint64_t max_rev;
	uint32_t g0; /* committed generation when the rotation started */
	bool rotating;
	double t_first, t_snap, t_rotated;
};

double fa_now(void);
/* One line naming the agent (NULL: the run); ends the run unless holding. */
void fa_fail(struct fa_run *r, const struct fa_agent *a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *fa_id(const struct fa_run *r, const struct fa_agent *a);

enum fa_stage {
	FA_ST_JOIN,
	FA_ST_CONVERGE,
	FA_ST_FAILOVER,
	FA_ST_ROTATE,
	FA_ST_HOLD
};

/* fakeagents.c: what main() drives through the stages of a run; the
 * agents' counters are in struct fa_run. */
struct fa_driver {
	struct fa_run *r;
	enum fa_stage stage;
	uint32_t done_rotations;
	double *rot_secs;
	double *rot_wire; /* bytes from the leader per live agent */
	double join_wire; /* per agent, first connect to all joined */
	/* CPU seconds of the leader and of this process: at the first
	 * connect, then spent until all joined. */
	double cpu0_leader, cpu0_self, join_cpu_leader, join_cpu_self;
	double t_cmd, t_join_converged;
	double failover_secs;	    /* -1: no failover (yet) */
	const char *cmd_name, *cmd; /* the command running in child */
	pid_t child;
	long rss0_kib, hwm_kib;
	uint64_t settled_rev; /* hold: the last revision reported */
	struct loop_timer *settle;
};

/* fakeagents_report.c: what the driver prints: the join, the bench lines,
 * and the bytes from the leader per live agent since the rotation began. */
void fa_report_join(struct fa_driver *d);
void fa_print_bench(struct fa_driver *d);
void fa_rotation_bytes(struct fa_run *r, double *wire, double *frames);

/* fakeagents_opts.c: the command line; the token, leader, limits, keys. */
int fa_opts_parse(struct fa_opts *o, int argc, char **argv, bool *help);
int fa_setup(struct fa_run *r);

/* fakeagents_leaders.c: the leader list, connecting, trying again. */
int fa_leaders_parse(struct fa_run *r, const char *list);
int fa_retry_init(struct fa_run *r);
/* A non-blocking socket connecting to a's current leader; -errno. */
int fa_dial(struct fa_agent *a);
/* A not-leader refusal named this address ("host:port", maybe ""). */
void fa_leader_named(struct fa_agent *a, const char *named);
/* A leader answered: the next failure starts a fresh pass. */
void fa_leader_reached(struct fa_agent *a);
/* a's connection failed: the next address, after a backoff. */
void fa_agent_retry(struct fa_agent *a);

/* fakeagents_net.c: one agent's key, join and session. */
int fa_agent_prepare(struct fa_agent *a, const char *id, bool sampled);
int fa_agent_start(struct fa_agent *a);
/* Connects again (a join if it has no certificate yet). */
void fa_agent_reopen(struct fa_agent *a);
void fa_agent_cleanup(struct fa_agent *a);
/* Everything a has received from the leader so far, all connections. */
struct fa_bytes fa_agent_rx(const struct fa_agent *a);

/* fakeagents_send.c: one frame to the leader (dropped if it cannot be
 * encoded); an ack of revision, a pong, a's soft expiry report, a's new
 * static key (the old one kept for the generations that use it). */
void fa_send(struct conn *c, Vxsec__Envelope *env);
void fa_send_ack(struct conn *c, uint64_t revision);
void fa_send_pong(struct conn *c, uint64_t nonce);
void fa_send_expire(struct conn *c, struct fa_agent *a);
void fa_send_key_update(struct conn *c, struct fa_agent *a);
/* The private key a holds for the public key pub (NULL if none). */
const struct pairkey_static *fa_agent_private(const struct fa_agent *a,
					      const uint8_t *pub);

/* fakeagents_proc.c: a process's VmRSS/VmHWM (KiB) and its CPU time
 * (user + system seconds; pid 0: this one), -1 if /proc does not say. */
long fa_proc_kib(long pid, const char *name);
double fa_proc_cpu(long pid);

/* fakeagents_check.c: --verify and --state-out over every agent. */
int fa_verify(struct fa_run *r);
int fa_state_out(struct fa_run *r, const char *path);

#endif
