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

static int check_key(struct why *w, const Vxsec__PairKey *k)
{
	int err = check_id(w, "pair key peer_id", k->peer_id);

	if (err)
		return err;
	if (k->generation == 0)
		return why_fail(w, -EBADMSG, "pair key for %s: generation 0",
				k->peer_id);
	if (k->spi_out < PROTO_SPI_MIN || k->spi_in < PROTO_SPI_MIN)
		return why_fail(w, -EBADMSG, "pair key for %s: SPI below %u",
				k->peer_id, PROTO_SPI_MIN);
	if (k->key_out.len != PROTO_KEY_LEN || k->key_in.len != PROTO_KEY_LEN)
		return why_fail(w, -EBADMSG,
				"pair key for %s gen %u: key is not %u bytes",
				k->peer_id, k->generation, PROTO_KEY_LEN);
	return 0;
}

static int check_keys(struct why *w, size_t n, Vxsec__PairKey **k)
{
	size_t i;
	int err;

	if (n > (size_t)PROTO_PEERS_MAX * PROTO_GENERATIONS_MAX)
		return why_fail(w, -EBADMSG, "%zu pair keys: too many", n);
	for (i = 0; i < n; i++) {
		err = check_key(w, k[i]);
		if (err)
			return err;
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
		if (g[i]->phase == VXSEC__PHASE__PHASE_COMMITTED)
			committed++;
	}
	if (committed > 1)
		return why_fail(w, -EBADMSG,
				"%zu committed generations, at most 1",
				committed);
	return 0;
}

static bool generation_live(const Vxsec__Snapshot *m, uint32_t gen)
{
	for (size_t i = 0; i < m->n_generations; i++)
		if (m->generations[i]->generation == gen)
			return true;
	return false;
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
	err = check_generations(w, m->n_generations, m->generations);
	if (!err)
		err = check_keys(w, m->n_keys, m->keys);
	for (i = 0; !err && i < m->n_keys; i++)
		if (!generation_live(m, m->keys[i]->generation))
			err = why_fail(w, -EBADMSG,
				       "pair key of generation %u, not live",
				       m->keys[i]->generation);
	return err;
}

static int check_peer_update(struct why *w, const Vxsec__PeerUpdate *m)
{
	int err = check_peer(w, m->peer);

	return err ? err : check_keys(w, m->n_keys, m->keys);
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
		if (m->prepare->generation == 0)
			return why_fail(w, -EBADMSG, "prepare of generation 0");
		return check_keys(w, m->prepare->n_keys, m->prepare->keys);
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

static int check_error(struct why *w, const Vxsec__Error *m)
{
	size_t n = m->reason ? strlen(m->reason) : 0;

	if (m->code < VXSEC__ERROR_CODE__ERROR_UNSPECIFIED ||
	    m->code > VXSEC__ERROR_CODE__ERROR_KERNEL)
		return why_fail(w, -EBADMSG, "error code %d", m->code);
	if (n > PROTO_REASON_MAX)
		return why_fail(w, -EBADMSG, "error reason of %zu bytes", n);
	return 0;
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
