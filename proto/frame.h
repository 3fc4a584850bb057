/* SPDX-License-Identifier: MIT */
/* proto: length-prefixed frames of vxsec Envelopes, size limits, validation. */
#ifndef VXSEC_FRAME_H
#define VXSEC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "node_id.h"
#include "vxsec.pb-c.h"

#define PROTOCOL_VERSION 2u
#define FRAME_HEADER 4u
#define FRAME_MAX_DEFAULT ((size_t)16 * 1024 * 1024)

/* Limits every decoded message is checked against. */
#define PROTO_NODE_ID_MAX NODE_ID_MAX /* the node id rule: node_id.h */
#define PROTO_STATIC_KEY_LEN 32u      /* X25519 public key */
#define PROTO_EPOCH_LEN 32u
#define PROTO_NODE_KEYS_MAX 4u /* keys of one node live at once */
#define PROTO_SPI_SLOT_MAX 255u
#define PROTO_SPI_MIN 256u
#define PROTO_ADDRS_MAX 8u
#define PROTO_PEERS_MAX 65536u
#define PROTO_GENERATIONS_MAX 3u
#define PROTO_DER_MAX 8192u
#define PROTO_BOOT_ID_LEN 16u
#define PROTO_PROOF_LEN 32u
#define PROTO_REASON_MAX 1024u
/* Error.leader: "host:port" or "[v6]:port", printable ASCII, no space. */
#define PROTO_LEADER_MAX 262u

/*
 * Reads a frame header. Returns 0 and the body length, -EAGAIN if fewer
 * than FRAME_HEADER bytes are at hand, or -EMSGSIZE for an empty frame or
 * one longer than max: nothing is allocated before this check.
 */
int frame_header(const uint8_t *buf, size_t len, size_t max, size_t *body_len);

/*
 * Decodes and validates one frame body. Returns 0 and *out (free with
 * frame_free), or -EBADMSG (undecodable or invalid) / -EPROTO (another
 * protocol version) with the reason in why.
 */
int frame_decode(const uint8_t *body, size_t len, Vxsec__Envelope **out,
		 struct why *why);

/* Frees a decoded envelope; every byte it held (keys) is wiped first. */
void frame_free(Vxsec__Envelope *env);

/*
 * Encodes env with its version set to PROTOCOL_VERSION into a new frame
 * (header + body). Free with frame_buf_free, which wipes it.
 */
int frame_encode(Vxsec__Envelope *env, uint8_t **out, size_t *len);
void frame_buf_free(uint8_t *buf, size_t len);

/* Checks every field of a decoded envelope: 0, or -EBADMSG/-EPROTO + why. */
int frame_validate(const Vxsec__Envelope *env, struct why *why);

#endif
