/* SPDX-License-Identifier: MIT */
/* xfrm: kernel IPsec (XFRM) states and policies over netlink, batched. */
#ifndef VXSEC_XFRM_H
#define VXSEC_XFRM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Everything here speaks ESP in transport mode with the AEAD
 * rfc4106(gcm(aes)). Functions return 0 or -errno; constructors return NULL
 * with errno set. Nothing here logs: callers decide what to report.
 */

#define XFRM_KEY_MAX 36	    /* AES-256 key + 4-byte salt */
#define XFRM_EXTACK_MAX 128 /* kernel extended-ack text, truncated */
#define XFRM_DESC_MAX 160   /* xfrm_*_describe() output */

/*
 * ESP in UDP (RFC 3948): the value of UDP_ENCAP_ESPINUDP (linux/udp.h),
 * both an SA's encap_type and the socket option's value; the IKE port
 * NAT traversal uses by default.
 */
#define XFRM_ENCAP_ESPINUDP 2
#define XFRM_ENCAP_PORT 4500

union xfrm_ip {
	struct in_addr v4;
	struct in6_addr v6;
	uint8_t raw[16];
};

/* Soft/hard limits; 0 means "no limit". */
struct xfrm_lifetime {
	uint64_t soft_bytes, hard_bytes;
	uint64_t soft_packets, hard_packets;
	uint64_t soft_secs, hard_secs; /* seconds after add */
};

/* Live counters the kernel reports on get/dump. */
struct xfrm_sa_stats {
	uint64_t bytes, packets, add_time;
	uint64_t oseq, seq; /* 64-bit with ESN */
};

/* One ESP transport-mode SA. key[] is secret: wipe with xfrm_sa_wipe(). */
struct xfrm_sa {
	int family; /* AF_INET or AF_INET6 */
	union xfrm_ip src, dst;
	uint32_t spi; /* host byte order, >= 256 */
	uint32_t reqid;
	uint8_t key[XFRM_KEY_MAX];
	uint8_t key_len;	  /* 20, 28 or 36: AES-128/192/256 + salt */
	uint8_t icv_bits;	  /* 64, 96 or 128 */
	bool esn;		  /* 64-bit sequence numbers */
	uint32_t replay_window;	  /* packets, <= 4096; ESN needs > 0 */
	uint32_t mark, mark_mask; /* mark_mask 0 = no mark */
	struct xfrm_lifetime lft;
	/*
	 * ESP in UDP: encap_type 0 = plain ESP (the rest must be zero), or
	 * XFRM_ENCAP_ESPINUDP: an out SA sends from encap_sport to the
	 * peer's encap_dport; an in SA expects the peer's source port in
	 * encap_sport (a packet from another address or port raises an
	 * XFRM_EVENT_MAPPING). encap_oa: the original address (NAT-OA),
	 * zero if none. Ports in host order. A kernel SA whose encap is of
	 * another type (ESP in TCP, non-IKE) is reported with that type.
	 */
	uint16_t encap_type;
	uint16_t encap_sport, encap_dport;
	union xfrm_ip encap_oa;
	struct xfrm_sa_stats stats; /* filled by get/dump only */
};

enum xfrm_dir { XFRM_IN = 0, XFRM_OUT = 1, XFRM_FWD = 2 };
enum xfrm_action { XFRM_ALLOW = 0, XFRM_BLOCK = 1 };

struct xfrm_selector_spec {
	int family;
	union xfrm_ip src, dst;
	uint8_t src_plen, dst_plen; /* prefix lengths */
	uint8_t proto;		    /* 0 = any, else IPPROTO_UDP, ... */
	uint16_t dport;		    /* host order; 0 = any */
};

/* A policy and its single ESP transport template. */
struct xfrm_policy {
	struct xfrm_selector_spec sel;
	enum xfrm_dir dir;
	uint32_t priority; /* lower wins */
	enum xfrm_action action;
	bool has_tmpl; /* ESP transport template present */
	uint32_t tmpl_reqid;
	uint32_t tmpl_spi;	  /* 0 = any SA of the reqid */
	uint32_t mark, mark_mask; /* mark_mask 0 = no mark */
	uint32_t index;		  /* kernel's policy index, from dumps */
};

/*
 * What a request does to an SA or a policy. add fails with -EEXIST if it
 * is there, update replaces it, del removes it.
 */
enum xfrm_op { XFRM_OP_ADD, XFRM_OP_UPDATE, XFRM_OP_DEL };

/* ---- socket ---- */

struct xfrm_sock;

/*
 * Opens a NETLINK_XFRM socket (non-blocking, close-on-exec, CAP_ACK and
 * EXT_ACK set, large buffers). groups: 0 for requests, or XFRM_EV_* bits
 * to receive events (see xfrm_events_read()).
 */
struct xfrm_sock *xfrm_sock_open(unsigned int groups);
void xfrm_sock_close(struct xfrm_sock *s);
int xfrm_sock_fd(const struct xfrm_sock *s);
/* The kernel's extended-ack text of the last single request ("" if none). */
const char *xfrm_sock_extack(const struct xfrm_sock *s);

/* ---- batches: many requests, one sendmsg per chunk, one result each ---- */

struct xfrm_batch;

struct xfrm_batch *xfrm_batch_new(void);
/* Wipes every request buffer (keys included) and frees. NULL-safe. */
void xfrm_batch_free(struct xfrm_batch *b);
/* Forgets all requests and results; buffers are wiped, memory kept. */
void xfrm_batch_reset(struct xfrm_batch *b);

/*
 * Each queues one request doing op on the object and returns its index
 * (>= 0) or -errno; an unknown op is -EINVAL and queues nothing.
 */
int xfrm_batch_sa(struct xfrm_batch *b, enum xfrm_op op,
		  const struct xfrm_sa *sa);
int xfrm_batch_policy(struct xfrm_batch *b, enum xfrm_op op,
		      const struct xfrm_policy *p);

size_t xfrm_batch_count(const struct xfrm_batch *b);

/*
 * Sends every queued request and collects one ack per request, once: the
 * request buffers (keys) are wiped as they leave, so sending again, or
 * queueing more, gives -EALREADY until xfrm_batch_reset(). Returns 0
 * if all succeeded, -EIO if some failed (see xfrm_batch_error()), or
 * another -errno if the exchange itself broke (then requests without a
 * reply report -ETIMEDOUT or the socket error).
 */
int xfrm_batch_send(struct xfrm_sock *s, struct xfrm_batch *b);

/* After send: 0 or -errno of request i; extack is "" if none. */
int xfrm_batch_error(const struct xfrm_batch *b, size_t i);
const char *xfrm_batch_extack(const struct xfrm_batch *b, size_t i);
size_t xfrm_batch_failed(const struct xfrm_batch *b);
/* Human text naming request i: "add SA spi 0x01000002 10.0.0.1->..." */
const char *xfrm_batch_describe(const struct xfrm_batch *b, size_t i, char *buf,
				size_t len);

/* ---- single requests: send one, wait for its ack ---- */

/* 0 or -errno; a bad object or an unknown op is refused before sending. */
int xfrm_sa_apply(struct xfrm_sock *s, enum xfrm_op op,
		  const struct xfrm_sa *sa);
int xfrm_policy_apply(struct xfrm_sock *s, enum xfrm_op op,
		      const struct xfrm_policy *p);

/*
 * Looks up the SA (family, dst, spi; src and mark used to match).
 * Fills *out (key included: wipe it). -ESRCH if absent (as the kernel says).
 */
int xfrm_sa_get(struct xfrm_sock *s, const struct xfrm_sa *id,
		struct xfrm_sa *out);

/* Deletes every ESP SA / every policy. For tests and lab only. */
int xfrm_sa_flush(struct xfrm_sock *s);
int xfrm_policy_flush(struct xfrm_sock *s);

/* ---- dumps ---- */

/* Return non-zero from a callback to stop early (the value is returned). */
typedef int (*xfrm_sa_cb)(const struct xfrm_sa *sa, void *arg);
typedef int (*xfrm_policy_cb)(const struct xfrm_policy *p, void *arg);

/*
 * Dumps ESP SAs whose reqid equals reqid (0 = all). The struct passed to
 * cb is wiped after cb returns. -EINTR if the kernel flagged the dump as
 * interrupted by a concurrent change: the caller should dump again.
 */
int xfrm_sa_dump(struct xfrm_sock *s, uint32_t reqid, xfrm_sa_cb cb, void *arg);
/* Dumps policies whose template reqid equals reqid (0 = all). */
int xfrm_policy_dump(struct xfrm_sock *s, uint32_t reqid, xfrm_policy_cb cb,
		     void *arg);

/* ---- events ---- */

#define XFRM_EV_EXPIRE 0x1u
#define XFRM_EV_ACQUIRE 0x2u
#define XFRM_EV_MAPPING 0x4u

enum xfrm_event_type {
	XFRM_EVENT_SOFT_EXPIRE,
	XFRM_EVENT_HARD_EXPIRE,
	XFRM_EVENT_ACQUIRE,
	XFRM_EVENT_LOST, /* ENOBUFS: events were dropped, resync */
	XFRM_EVENT_MAPPING,
};

/*
 * XFRM_MSG_MAPPING: an ESP-in-UDP packet that authenticated under an
 * inbound SA came from another address or port than the SA's (a NAT
 * mapping changed). The kernel raises it only after the packet passed the
 * SA's integrity check, for every such packet until the SA is updated.
 */
struct xfrm_mapping {
	union xfrm_ip old_addr, new_addr; /* the peer's source address */
	uint16_t old_port, new_port;	  /* its source port, host order */
};

struct xfrm_event {
	enum xfrm_event_type type;
	int family;
	union xfrm_ip src, dst; /* SA addresses (expire, mapping), selector */
	uint32_t spi;		/* expire and mapping only */
	uint32_t reqid;
	struct xfrm_selector_spec sel; /* acquire only */
	struct xfrm_mapping map;       /* mapping only */
};

typedef void (*xfrm_event_cb)(const struct xfrm_event *ev, void *arg);

/*
 * Reads every pending event from an events socket without blocking and
 * calls cb for each. Returns the number of events, or -errno. A receive
 * overrun is reported as one XFRM_EVENT_LOST event, not an error.
 */
int xfrm_events_read(struct xfrm_sock *s, xfrm_event_cb cb, void *arg);

/* ---- ESP in UDP: the encapsulation socket ---- */

/*
 * Opens a UDP socket of family (AF_INET, or AF_INET6 with IPV6_V6ONLY: a
 * dual-stack node opens one of each), non-blocking and close-on-exec,
 * bound to port on every address of the family, with UDP_ENCAP set to
 * UDP_ENCAP_ESPINUDP: the kernel then takes ESP-in-UDP packets arriving
 * on the port for its SAs, drops NAT keepalives, and passes the rest
 * (IKE, non-ESP marker) to the socket. Returns the descriptor or -errno:
 * -EADDRINUSE (the port is taken, e.g. by an IKE daemon), -EACCES (a
 * port below 1024 without CAP_NET_BIND_SERVICE), -ENOPROTOOPT (a kernel
 * without XFRM), -EAFNOSUPPORT, -EINVAL (port 0).
 */
int xfrm_encap_open(int family, uint16_t port);

/*
 * Sends one NAT keepalive (RFC 3948: a single 0xFF byte) from the
 * encapsulation socket fd to addr:port. 0 or -errno (-EAGAIN if the
 * socket buffer is full: try at the next interval).
 */
int xfrm_encap_keepalive(int fd, int family, const union xfrm_ip *addr,
			 uint16_t port);

/* ---- helpers ---- */

/* Wipes the key and everything else. */
void xfrm_sa_wipe(struct xfrm_sa *sa);
/* Parses "10.0.0.1" or "fd00::1" into *family / *ip. */
int xfrm_ip_parse(const char *text, int *family, union xfrm_ip *ip);
const char *xfrm_ip_fmt(int family, const union xfrm_ip *ip, char *buf,
			size_t len);
/* Validates an SA before any byte is sent: -EINVAL if not acceptable. */
int xfrm_sa_check(const struct xfrm_sa *sa);
int xfrm_policy_check(const struct xfrm_policy *p);
const char *xfrm_sa_describe(const struct xfrm_sa *sa, char *buf, size_t len);
const char *xfrm_policy_describe(const struct xfrm_policy *p, char *buf,
				 size_t len);

#endif
