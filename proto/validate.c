// SPDX-License-Identifier: MIT
/* proto validation: every decoded field checked before anyone uses it. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"
#include "node_id.h"

static int check_id(struct why *w, const char *what, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (node_id_valid(id))
		return 0;
	if (n == 0 || n > NODE_ID_MAX)
		return why_fail(w, -EBADMSG, "%s: length %zu, want 1..%u", what,
				n, NODE_ID_MAX);
	return why_fail(w, -EBADMSG,
			"%s: character %zu not in " NODE_ID_CHARSET, what,
			node_id_span(id));
}

static int check_bytes(struct why *w, const char *what,
		       const ProtobufCBinaryData *b, size_t min, size_t max)
{
	if (b->len < min || b->len > max)
		return why_fail(w, -EBADMSG, "%s: %zu bytes, want %zu..%zu",
				what, b->len, min, max);
	return 0;
}

static int check_addrs(struct why *w, size_t n, Vxsec__Address **a,
		       bool need_one)
{
	size_t i;

	if (n > PROTO_ADDRS_MAX || (need_one && n == 0))
		return why_fail(w, -EBADMSG,
				"underlay: %zu addresses, want %u..%u", n,
				need_one ? 1u : 0u, PROTO_ADDRS_MAX);
	for (i = 0; i < n; i++)
		if (a[i]->ip.len != 4 && a[i]->ip.len != 16)
			return why_fail(
				w, -EBADMSG,
				"underlay[%zu]: %zu bytes, want 4 or 16", i,
				a[i]->ip.len);
	return 0;
}

/* An optional single address (Hello.local_address, Peer.public_address). */
static int check_addr_opt(struct why *w, const char *what,
			  const Vxsec__Address *a)
{
	if (a && a->ip.len != 4 && a->ip.len != 16)
		return why_fail(w, -EBADMSG, "%s: %zu bytes, want 4 or 16",
				what, a->ip.len);
	return 0;
}

static int check_static_key(struct why *w, const char *what,
			    const ProtobufCBinaryData *b)
{
	return check_bytes(w, what, b, PROTO_STATIC_KEY_LEN,
			   PROTO_STATIC_KEY_LEN);
}

/* A node's keys: 1 to PROTO_NODE_KEYS_MAX, first generations increasing. */
static int check_node_keys(struct why *w, const char *who, size_t n,
			   Vxsec__NodeKey **k)
{
	if (n == 0 || n > PROTO_NODE_KEYS_MAX)
		return why_fail(w, -EBADMSG, "%s: %zu static keys, want 1..%u",
				who, n, PROTO_NODE_KEYS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (k[i]->key.len != PROTO_STATIC_KEY_LEN)
			return why_fail(w, -EBADMSG,
					"%s: static key %zu of %zu bytes, "
					"want %u",
					who, i + 1, k[i]->key.len,
					PROTO_STATIC_KEY_LEN);
		if (i && k[i]->from_generation <= k[i - 1]->from_generation)
			return why_fail(w, -EBADMSG,
					"%s: static key %zu from generation "
					"%u, not after %u",
					who, i + 1, k[i]->from_generation,
					k[i - 1]->from_generation);
	}
	return 0;
}

static int check_peer(struct why *w, const Vxsec__Peer *p)
{
	int err;

	if (!p)
		return why_fail(w, -EBADMSG, "peer missing");
	err = check_id(w, "peer node_id", p->node_id);
	if (!err && p->index == 0)
		err = why_fail(w, -EBADMSG, "peer %s: index 0", p->node_id);
	if (!err)
		err = check_addrs(w, p->n_underlay, p->underlay, true);
	if (!err)
		err = check_node_keys(w, p->node_id, p->n_keys, p->keys);
	if (!err)
		err = check_addr_opt(w, "peer public_address",
				     p->public_address);
	return err;
}

static int check_join_request(struct why *w, const Vxsec__JoinRequest *m)
{
	int err = check_id(w, "node_id", m->node_id);

	if (!err)
		err = check_bytes(w, "secret_proof", &m->secret_proof,
				  PROTO_PROOF_LEN, PROTO_PROOF_LEN);
	if (!err)
		err = check_bytes(w, "csr_der", &m->csr_der, 1, PROTO_DER_MAX);
	if (!err)
		err = check_bytes(w, "boot_id", &m->boot_id, PROTO_BOOT_ID_LEN,
				  PROTO_BOOT_ID_LEN);
	if (!err)
		err = check_addrs(w, m->n_underlay, m->underlay, true);
	if (!err)
		err = check_static_key(w, "static_key", &m->static_key);
	return err;
}

static int check_join_response(struct why *w, const Vxsec__JoinResponse *m)
{
	int err = check_bytes(w, "cert_der", &m->cert_der, 1, PROTO_DER_MAX);

	if (!err)
		err = check_bytes(w, "ca_cert_der", &m->ca_cert_der, 1,
				  PROTO_DER_MAX);
	if (!err && m->node_index == 0)
		err = why_fail(w, -EBADMSG, "node_index 0");
	return err;
}

static int check_hello(struct why *w, const Vxsec__Hello *m)
{
	int err = check_id(w, "node_id", m->node_id);

	if (!err)
		err = check_bytes(w, "boot_id", &m->boot_id, PROTO_BOOT_ID_LEN,
				  PROTO_BOOT_ID_LEN);
	if (!err)
		err = check_addrs(w, m->n_underlay, m->underlay, true);
	if (!err)
		err = check_static_key(w, "static_key", &m->static_key);
	if (!err)
		err = check_addr_opt(w, "local_address", m->local_address);
	if (!err && (m->nat < VXSEC__NAT_MODE__NAT_AUTO ||
		     m->nat > VXSEC__NAT_MODE__NAT_NEVER))
		err = why_fail(w, -EBADMSG, "nat: unknown mode %d",
			       (int)m->nat);
	if (!err && m->public_address && m->nat != VXSEC__NAT_MODE__NAT_FORCE)
		err = why_fail(w, -EBADMSG,
			       "public_address without nat = NAT_FORCE");
	if (!err)
		err = check_addr_opt(w, "public_address", m->public_address);
	return err;
}

static int check_generations(struct why *w, size_t n, Vxsec__Generation **g)
{
	size_t i, committed = 0;

	if (n > PROTO_GENERATIONS_MAX)
		return why_fail(w, -EBADMSG, "%zu live generations, at most %u",
				n, PROTO_GENERATIONS_MAX);
	for (i = 0; i < n; i++) {
		if (g[i]->generation == 0)
			return why_fail(w, -EBADMSG, "generation 0");
		if (g[i]->phase < VXSEC__PHASE__PHASE_PREPARED ||
		    g[i]->phase > VXSEC__PHASE__PHASE_RETIRING)
			return why_fail(w, -EBADMSG, "generation %u: phase %d",
					g[i]->generation, g[i]->phase);
		if (g[i]->spi_slot < 1 || g[i]->spi_slot > PROTO_SPI_SLOT_MAX)
			return why_fail(
				w, -EBADMSG,
				"generation %u: spi slot %u, want 1..%u",
				g[i]->generation, g[i]->spi_slot,
				PROTO_SPI_SLOT_MAX);
		if (g[i]->phase == VXSEC__PHASE__PHASE_COMMITTED)
			committed++;
	}
	if (committed > 1)
		return why_fail(w, -EBADMSG,
				"%zu committed generations, at most 1",
				committed);
	return 0;
}

/* One epoch secret for each live generation, and none other. */
static int check_epochs(struct why *w, const Vxsec__Snapshot *m)
{
	if (m->n_epochs != m->n_generations)
		return why_fail(w, -EBADMSG,
				"%zu epoch secrets for %zu live generations",
				m->n_epochs, m->n_generations);
	for (size_t i = 0; i < m->n_epochs; i++) {
		if (m->epochs[i]->secret.len != PROTO_EPOCH_LEN)
			return why_fail(w, -EBADMSG,
					"epoch of generation %u: %zu bytes, "
					"want %u",
					m->epochs[i]->generation,
					m->epochs[i]->secret.len,
					PROTO_EPOCH_LEN);
		if (m->epochs[i]->generation != m->generations[i]->generation)
			return why_fail(w, -EBADMSG,
					"epoch %zu is of generation %u, not "
					"%u",
					i + 1, m->epochs[i]->generation,
					m->generations[i]->generation);
	}
	return 0;
}

static int check_snapshot(struct why *w, const Vxsec__Snapshot *m)
{
	size_t i;
	int err;

	if (m->n_peers > PROTO_PEERS_MAX)
		return why_fail(w, -EBADMSG, "%zu peers, at most %u",
				m->n_peers, PROTO_PEERS_MAX);
	for (i = 0; i < m->n_peers; i++) {
		err = check_peer(w, m->peers[i]);
		if (err)
			return err;
	}
	if (!m->self)
		return why_fail(w, -EBADMSG, "snapshot without this node");
	err = check_peer(w, m->self);
	if (!err)
		err = check_generations(w, m->n_generations, m->generations);
	return err ? err : check_epochs(w, m);
}

static int check_peer_update(struct why *w, const Vxsec__PeerUpdate *m)
{
	return check_peer(w, m->peer);
}

static int check_prepare(struct why *w, const Vxsec__GenerationPrepare *m)
{
	if (m->generation == 0)
		return why_fail(w, -EBADMSG, "prepare of generation 0");
	if (m->epoch.len != PROTO_EPOCH_LEN)
		return why_fail(w, -EBADMSG,
				"prepare of generation %u: epoch of %zu bytes, "
				"want %u",
				m->generation, m->epoch.len, PROTO_EPOCH_LEN);
	if (m->spi_slot < 1 || m->spi_slot > PROTO_SPI_SLOT_MAX)
		return why_fail(w, -EBADMSG,
				"prepare of generation %u: spi slot %u",
				m->generation, m->spi_slot);
	if (m->n_key_changes > PROTO_PEERS_MAX)
		return why_fail(w, -EBADMSG, "%zu key changes, at most %u",
				m->n_key_changes, PROTO_PEERS_MAX);
	for (size_t i = 0; i < m->n_key_changes; i++) {
		if (m->key_changes[i]->index == 0)
			return why_fail(w, -EBADMSG, "key change of index 0");
		if (m->key_changes[i]->key.len != PROTO_STATIC_KEY_LEN)
			return why_fail(w, -EBADMSG,
					"key change of index %u: %zu bytes",
					m->key_changes[i]->index,
					m->key_changes[i]->key.len);
	}
	return 0;
}

static int check_delta(struct why *w, const Vxsec__Delta *m)
{
	if (m->revision == 0)
		return why_fail(w, -EBADMSG, "delta with revision 0");
	switch (m->change_case) {
	case VXSEC__DELTA__CHANGE_PEER_ADDED:
		return check_peer_update(w, m->peer_added);
	case VXSEC__DELTA__CHANGE_INCARNATION_CHANGED:
		return check_peer_update(w, m->incarnation_changed);
	case VXSEC__DELTA__CHANGE_PEER_REMOVED:
		return check_id(w, "removed node_id", m->peer_removed->node_id);
	case VXSEC__DELTA__CHANGE_PREPARE:
		return check_prepare(w, m->prepare);
	case VXSEC__DELTA__CHANGE_COMMIT:
		return m->commit->generation
			       ? 0
			       : why_fail(w, -EBADMSG,
					  "commit of generation 0");
	case VXSEC__DELTA__CHANGE_RETIRE:
		return m->retire->generation
			       ? 0
			       : why_fail(w, -EBADMSG,
					  "retire of generation 0");
	default:
		return why_fail(w, -EBADMSG, "delta without a change");
	}
}

/* Error.leader: empty, or up to PROTO_LEADER_MAX printable characters. */
static int check_leader(struct why *w, const char *leader)
{
	size_t n = leader ? strlen(leader) : 0;

	if (n > PROTO_LEADER_MAX)
		return why_fail(w, -EBADMSG, "error leader of %zu bytes", n);
	for (size_t i = 0; i < n; i++)
		if (leader[i] <= ' ' || leader[i] > '~')
			return why_fail(w, -EBADMSG,
					"error leader: byte %zu is 0x%02x", i,
					(unsigned int)(unsigned char)leader[i]);
	return 0;
}

static int check_error(struct why *w, const Vxsec__Error *m)
{
	size_t n = m->reason ? strlen(m->reason) : 0;

	if (m->code < VXSEC__ERROR_CODE__ERROR_UNSPECIFIED ||
	    m->code > VXSEC__ERROR_CODE__ERROR_NOT_LEADER)
		return why_fail(w, -EBADMSG, "error code %d", m->code);
	if (n > PROTO_REASON_MAX)
		return why_fail(w, -EBADMSG, "error reason of %zu bytes", n);
	return check_leader(w, m->leader);
}

static int check_expire(struct why *w, const Vxsec__ExpireReport *m)
{
	if (m->generation == 0 || m->spi < PROTO_SPI_MIN)
		return why_fail(w, -EBADMSG,
				"expire report: generation %u spi 0x%x",
				m->generation, m->spi);
	return 0;
}

int frame_validate(const Vxsec__Envelope *env, struct why *why)
{
	if (env->version != PROTOCOL_VERSION) {
		return why_fail(why, -EPROTO,
				"protocol version %u, this side speaks %u",
				env->version, PROTOCOL_VERSION);
	}
	switch (env->msg_case) {
	case VXSEC__ENVELOPE__MSG_JOIN_REQUEST:
		return check_join_request(why, env->join_request);
	case VXSEC__ENVELOPE__MSG_JOIN_RESPONSE:
		return check_join_response(why, env->join_response);
	case VXSEC__ENVELOPE__MSG_HELLO:
		return check_hello(why, env->hello);
	case VXSEC__ENVELOPE__MSG_SNAPSHOT:
		return check_snapshot(why, env->snapshot);
	case VXSEC__ENVELOPE__MSG_DELTA:
		return check_delta(why, env->delta);
	case VXSEC__ENVELOPE__MSG_ERROR:
		return check_error(why, env->error);
	case VXSEC__ENVELOPE__MSG_EXPIRE_REPORT:
		return check_expire(why, env->expire_report);
	case VXSEC__ENVELOPE__MSG_KEY_UPDATE:
		return check_static_key(why, "static_key",
					&env->key_update->static_key);
	case VXSEC__ENVELOPE__MSG_RENEW_REQUEST:
		return check_bytes(why, "csr_der", &env->renew_request->csr_der,
				   1, PROTO_DER_MAX);
	case VXSEC__ENVELOPE__MSG_ACK:
	case VXSEC__ENVELOPE__MSG_PING:
		return 0;
	default:
		return why_fail(why, -EBADMSG, "envelope without a message");
	}
}
