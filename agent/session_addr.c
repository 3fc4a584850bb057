// SPDX-License-Identifier: MIT
/* agent session: the leader's addresses — the one in use, the next one after a failure, and the one a standby's refusal names. */
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/config.h"
#include "common/log.h"
#include "session_int.h"

void session_leaders_set(struct session *s, const struct sockaddr_storage *l,
			 size_t n)
{
	s->n_leaders = n < SESSION_LEADERS_MAX ? n : SESSION_LEADERS_MAX;
	memcpy(s->leaders, l, s->n_leaders * sizeof(*l));
	s->redirect = -1;
	session_leader_use(s, 0);
}

void session_leader_use(struct session *s, size_t i)
{
	s->cur = i;
	addr_format(&s->leaders[i], s->leader_text, sizeof(s->leader_text));
}

socklen_t session_leader_len(const struct session *s)
{
	return s->leaders[s->cur].ss_family == AF_INET6
		       ? sizeof(struct sockaddr_in6)
		       : sizeof(struct sockaddr_in);
}

void session_local_read(struct session *s, int fd)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct sockaddr_storage ss;
	const struct sockaddr_in *v4 = (const void *)&ss;
	const struct sockaddr_in6 *v6 = (const void *)&ss;
	socklen_t len = sizeof(ss);

	memset(&s->local, 0, sizeof(s->local));
	s->has_local = getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
		       (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	if (!s->has_local)
		return;
	if (ss.ss_family == AF_INET) {
		s->local.family = AF_INET;
		memcpy(s->local.ip.raw, &v4->sin_addr, 4);
	} else if (memcmp(&v6->sin6_addr, mapped, sizeof(mapped)) == 0) {
		s->local.family = AF_INET;
		memcpy(s->local.ip.raw, (const uint8_t *)&v6->sin6_addr + 12,
		       4);
	} else {
		s->local.family = AF_INET6;
		memcpy(s->local.ip.raw, &v6->sin6_addr, 16);
	}
}

static bool same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/* Where in the list named is, or -1 (not an ADDRESS:PORT, not listed). */
static int find(const struct session *s, const char *named)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (config_addr_port(named, &ss, &len))
		return -1;
	for (size_t i = 0; i < s->n_leaders; i++)
		if (same_addr(&s->leaders[i], &ss))
			return (int)i;
	return -1;
}

void session_leader_named(struct session *s, const char *named)
{
	int i = named[0] ? find(s, named) : -1;

	if (!named[0])
		log_info("leader %s: not the leader, and it does not know "
			 "which instance is",
			 s->leader_text);
	else if (i < 0)
		log_warn("leader %s: not the leader; it names %s, which is not "
			 "in this agent's leader list: not followed (add it to "
			 "leader =)",
			 s->leader_text, named);
	else if ((size_t)i == s->cur)
		log_warn("leader %s: not the leader, yet it names itself",
			 s->leader_text);
	else {
		log_info("leader %s: not the leader; the leader is at %s: "
			 "trying it next",
			 s->leader_text, named);
		s->redirect = i;
	}
}

/*
 * The address in use failed (connect, handshake, refusal, a session
 * lost). The next is the one a refusal named, else the next in the list.
 * A whole pass of failures backs off; following a refusal's name costs
 * nothing the first time in a pass (so a standby's answer never waits),
 * and counts after that (two standbys naming each other cannot loop).
 */
bool session_leader_next(struct session *s)
{
	bool free_hop = s->redirect >= 0 && !s->redirected;
	size_t next = s->redirect >= 0 ? (size_t)s->redirect
				       : (s->cur + 1) % s->n_leaders;

	if (s->redirect >= 0)
		s->redirected = true;
	s->redirect = -1;
	session_leader_use(s, next);
	if (free_hop || ++s->tried < s->n_leaders)
		return true;
	s->tried = 0;
	s->redirected = false;
	return false;
}

void session_leader_reached(struct session *s)
{
	s->tried = 0;
	s->redirected = false;
	s->redirect = -1;
}
