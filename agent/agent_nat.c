// SPDX-License-Identifier: MIT
/* vxsec-agent NAT wiring (docs/nat.md): the encapsulation sockets, probes, mapping events. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_nat.h"
#include "agentd_int.h"
#include "common/log.h"
#include "natprobe.h"

#define PROBE_WINDOW_MS 120000 /* clocks roughly right: natprobe_fresh() */

static int fam_slot(int family)
{
	return family == AF_INET6;
}

void agent_nat_init(struct agent_nat *n)
{
	memset(n, 0, sizeof(*n));
	n->fd[0] = n->fd[1] = -1;
}

void agent_nat_cleanup(struct agent *a)
{
	struct agent_nat *n = &a->nat;

	for (int i = 0; i < 2; i++)
		if (n->fd[i] >= 0) {
			loop_del_fd(a->loop, n->fd[i]);
			close(n->fd[i]);
			n->fd[i] = -1;
		}
	free(n->map);
	n->map = NULL;
	n->n_map = n->cap_map = 0;
}

/* The learned mapping of the peer at view position i, or NULL. */
static struct agent_nat_map *map_of(struct agent *a, size_t i)
{
	const struct view_meta *m = &a->view.meta[i];

	for (size_t j = 0; j < a->nat.n_map; j++)
		if (a->nat.map[j].index == m->index &&
		    a->nat.map[j].incarnation == m->incarnation)
			return &a->nat.map[j];
	return NULL;
}

static struct agent_nat_map *map_add(struct agent *a, size_t i)
{
	struct agent_nat *n = &a->nat;
	struct agent_nat_map *e = map_of(a, i);

	if (e)
		return e;
	for (size_t j = 0; j < n->n_map; j++)
		if (n->map[j].index == a->view.meta[i].index) {
			e = &n->map[j]; /* a new incarnation: forget the old */
			break;
		}
	if (!e) {
		if (n->n_map == n->cap_map) {
			size_t cap = n->cap_map ? 2 * n->cap_map : 8;
			struct agent_nat_map *m =
				realloc(n->map, cap * sizeof(*m));

			if (!m)
				return NULL;
			n->map = m, n->cap_map = cap;
		}
		e = &n->map[n->n_map++];
	}
	memset(e, 0, sizeof(*e));
	e->index = a->view.meta[i].index;
	e->incarnation = a->view.meta[i].incarnation;
	return e;
}

void agent_nat_apply(struct agent *a)
{
	if (desired_nat_shared(a->view.peers, a->view.n_peers,
			       a->view.self.index, a->view.self.nat,
			       &a->view.self.public_addr,
			       &a->view.self_nat_second))
		log_err("out of memory: members sharing a NAT not marked");
	for (size_t i = 0; i < a->view.n_peers; i++) {
		const struct agent_nat_map *e = map_of(a, i);

		a->view.peers[i].nat_port = e ? e->port : 0;
	}
}

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg);

int agent_nat_sockets(struct agent *a, const struct desired_state *want,
		      struct why *why)
{
	for (size_t i = 0; i < want->n_sas; i++) {
		int family = want->sas[i].family, s = fam_slot(family), fd;

		if (!want->sas[i].encap_type || a->nat.fd[s] >= 0)
			continue;
		fd = xfrm_encap_open(family, a->cfg.dc.nat_port);
		if (fd < 0)
			return why_fail(why, fd,
					"cannot open the ESP-in-UDP socket on "
					"%s port %u: %s%s",
					family == AF_INET ? "IPv4" : "IPv6",
					a->cfg.dc.nat_port, strerror(-fd),
					fd == -EADDRINUSE
						? " (an IKE daemon? set "
						  "nat_port)"
						: "");
		if (loop_add_fd(a->loop, fd, EPOLLIN, on_readable, a)) {
			close(fd);
			return why_fail(why, -EIO,
					"cannot watch the "
					"ESP-in-UDP socket");
		}
		a->nat.fd[s] = fd;
		log_info("ESP in UDP: listening on %s port %u",
			 family == AF_INET ? "IPv4" : "IPv6",
			 a->cfg.dc.nat_port);
	}
	return 0;
}

static void sockaddr_of(const struct desired_addr *ip, uint16_t port,
			struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, ip->ip.raw, 4);
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, ip->ip.raw, 16);
		*len = sizeof(*s6);
	}
}

static bool addr_eq(const struct desired_addr *x, const struct desired_addr *y)
{
	return x->family == y->family &&
	       memcmp(x->ip.raw, y->ip.raw, x->family == AF_INET ? 4 : 16) == 0;
}

/* The keys of generation g of peer p, or NULL. */
static const struct desired_keys *keys_of(const struct desired_peer *p,
					  uint32_t g)
{
	for (size_t k = 0; k < p->n_keys; k++)
		if (p->keys[k].g == g)
			return &p->keys[k];
	return NULL;
}

/* Sends peer i a probe under the committed generation's out key. */
static void probe(struct agent *a, size_t i, const struct desired_pair *pr,
		  bool reply)
{
	const struct desired_peer *p = &a->view.peers[i];
	const struct desired_keys *kk = keys_of(p, view_committed(&a->view));
	struct natprobe np = { .from = a->view.self.index,
			       .to = p->index,
			       .generation = kk ? kk->g : 0,
			       .time_ms = (uint64_t)time(NULL) * 1000 };
	uint8_t key[NATPROBE_KEY_LEN], buf[NATPROBE_LEN];
	struct sockaddr_storage ss;
	socklen_t len;
	struct timespec ts;
	int fd = a->nat.fd[fam_slot(pr->peer->family)];

	if (!kk || fd < 0 || !np.from)
		return;
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
		np.time_ms = (uint64_t)ts.tv_sec * 1000 +
			     (uint64_t)ts.tv_nsec / 1000000;
	np.reply = reply;
	natprobe_key(kk->key_out, key);
	natprobe_build(&np, key, buf);
	sodium_memzero(key, sizeof(key));
	sockaddr_of(pr->peer, pr->dport, &ss, &len);
	if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, len) < 0)
		log_debug("NAT probe to %s: %s", a->view.meta[i].id,
			  strerror(errno));
	else
		a->nat.n_sent++;
}

/* Calls fn for each peer whose pair is ESP in UDP. */
static void each_udp_peer(struct agent *a,
			  void (*fn)(struct agent *a, size_t i,
				     const struct desired_pair *pr))
{
	struct desired_view dv;
	struct desired_pair pr;

	view_desired(&a->view, a->cfg.addrs, a->cfg.n_addrs, &dv);
	for (size_t i = 0; i < a->view.n_peers; i++)
		if (desired_pair(&dv, &a->view.peers[i], &a->cfg.dc, &pr) ==
			    0 &&
		    pr.path == DPATH_UDP)
			fn(a, i, &pr);
}

static void probe_one(struct agent *a, size_t i, const struct desired_pair *pr)
{
	probe(a, i, pr, false);
}

static void count_udp(struct agent *a, size_t i, const struct desired_pair *pr)
{
	(void)i;
	a->nat.udp_pairs[fam_slot(pr->me->family)]++;
}

void agent_nat_mtu_note(struct agent *a)
{
	if (!a->cfg.vxlan || a->cfg.mtu || a->nat.mtu_noted)
		return;
	a->nat.udp_pairs[0] = a->nat.udp_pairs[1] = 0;
	each_udp_peer(a, count_udp);
	for (size_t d = 0; d < OVERLAY_SET_DEVS; d++) {
		const struct overlay_dev *dev = &a->ov.dev[d];
		size_t n;

		if (!dev->made || !dev->c.family)
			continue;
		n = a->nat.udp_pairs[fam_slot(dev->c.family)];
		if (!n || dev->mtu <= 8)
			continue;
		log_warn("%s: MTU %u fills the underlay with plain ESP; the "
			 "%zu pairs over ESP in UDP carry 8 bytes more, so "
			 "their full-size packets are fragmented: set mtu = %u "
			 "on every node to avoid it (docs/nat.md)",
			 dev->c.ifname, dev->mtu, n, dev->mtu - 8);
		a->nat.mtu_noted = true;
	}
}

void agent_nat_probe_all(struct agent *a)
{
	if (a->view.have_snapshot && a->view.self.nat)
		each_udp_peer(a, probe_one);
}

/*
 * Peer i's pair (ESP in UDP) is reached at pr: a mapping (from an
 * authenticated probe or the kernel) says it sends from addr:port.
 * Another address is the leader's business (a new incarnation); another
 * port moves the pair's SAs in place. true if it moved.
 */
static bool mapping(struct agent *a, size_t i, const struct desired_pair *pr,
		    const struct desired_addr *addr, uint16_t port,
		    const char *how)
{
	struct agent_nat_map *e;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (!addr_eq(addr, pr->peer)) {
		inet_ntop(addr->family, addr->ip.raw, ip, sizeof(ip));
		log_warn("%s: %s from %s, not the peer's address: ignored "
			 "(a new address comes from the leader)",
			 a->view.meta[i].id, how, ip);
		return false;
	}
	if (port == pr->dport)
		return false;
	e = map_add(a, i);
	if (!e)
		return false;
	e->port = port;
	a->nat.n_moves++;
	log_info("%s: its NAT now maps it to port %u (was %u; %s): SAs "
		 "updated in place",
		 a->view.meta[i].id, port, pr->dport, how);
	return true;
}

/* A datagram on the encapsulation socket: a probe, or refused. */
static void on_probe(struct agent *a, const uint8_t *buf, size_t len,
		     const struct desired_addr *from, uint16_t port)
{
	struct natprobe np;
	struct desired_view dv;
	struct desired_pair pr;
	const struct desired_keys *kk;
	uint8_t key[NATPROBE_KEY_LEN];
	struct agent_nat_map *e;
	long i = -1;
	bool ok;

	if (natprobe_parse(buf, len, &np) || np.to != a->view.self.index) {
		a->nat.n_bad++;
		return;
	}
	for (size_t j = 0; j < a->view.n_peers; j++)
		if (a->view.peers[j].index == np.from)
			i = (long)j;
	view_desired(&a->view, a->cfg.addrs, a->cfg.n_addrs, &dv);
	if (i < 0 || !(kk = keys_of(&a->view.peers[i], np.generation)) ||
	    desired_pair(&dv, &a->view.peers[i], &a->cfg.dc, &pr) ||
	    pr.path != DPATH_UDP) {
		a->nat.n_bad++;
		return;
	}
	natprobe_key(kk->key_in, key);
	ok = natprobe_verify(buf, key);
	sodium_memzero(key, sizeof(key));
	e = map_of(a, (size_t)i);
	if (!ok ||
	    !natprobe_fresh(np.time_ms, e ? e->last_ms : 0,
			    (uint64_t)time(NULL) * 1000, PROBE_WINDOW_MS)) {
		a->nat.n_bad++;
		return;
	}
	a->nat.n_ok++;
	if ((e = map_add(a, (size_t)i)))
		e->last_ms = np.time_ms;
	if (mapping(a, (size_t)i, &pr, from, port, "an authenticated probe")) {
		agent_sync(a, "a NAT mapping moved");
		/* the pair as now programmed */
		view_desired(&a->view, a->cfg.addrs, a->cfg.n_addrs, &dv);
		if (desired_pair(&dv, &a->view.peers[i], &a->cfg.dc, &pr))
			return;
	}
	if (!np.reply)
		probe(a, (size_t)i, &pr, true);
}

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;
	uint8_t buf[NATPROBE_LEN + 1];

	(void)l, (void)events;
	for (int k = 0; k < 64; k++) { /* then back to the loop */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct desired_addr from = { 0 };
		uint16_t port;
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
				     (struct sockaddr *)&ss, &sl);

		if (n < 0)
			return; /* EAGAIN: all read */
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *s4 = (const void *)&ss;

			from.family = AF_INET;
			memcpy(from.ip.raw, &s4->sin_addr, 4);
			port = ntohs(s4->sin_port);
		} else {
			const struct sockaddr_in6 *s6 = (const void *)&ss;

			from.family = AF_INET6;
			memcpy(from.ip.raw, &s6->sin6_addr, 16);
			port = ntohs(s6->sin6_port);
		}
		if (!a->view.have_snapshot || (size_t)n > NATPROBE_LEN) {
			a->nat.n_bad++;
			continue;
		}
		on_probe(a, buf, (size_t)n, &from, port);
	}
}

void agent_nat_mapping(struct agent *a, const struct xfrm_event *ev)
{
	struct desired_view dv;
	struct desired_pair pr;
	struct desired_addr from = { .family = ev->family };

	memcpy(from.ip.raw, ev->map.new_addr.raw, sizeof(from.ip.raw));
	view_desired(&a->view, a->cfg.addrs, a->cfg.n_addrs, &dv);
	for (size_t i = 0; i < a->view.n_peers; i++) {
		const struct desired_peer *p = &a->view.peers[i];

		for (size_t k = 0; k < p->n_keys; k++) {
			if (p->keys[k].spi_in != ev->spi)
				continue;
			if (desired_pair(&dv, p, &a->cfg.dc, &pr) == 0 &&
			    pr.path == DPATH_UDP &&
			    mapping(a, i, &pr, &from, ev->map.new_port,
				    "the kernel's mapping event"))
				a->in_sync = false; /* the caller syncs */
			return;
		}
	}
}
