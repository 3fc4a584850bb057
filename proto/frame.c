// SPDX-License-Identifier: MIT
/* proto frames: 4-byte big-endian length + Envelope, a wiping allocator. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/*
 * protobuf-c frees without a size, so each block carries its own: that is
 * how a decoded message's keys are wiped before the memory goes back.
 */
struct block {
	size_t size;
	max_align_t align[];
};

static void *wipe_alloc(void *data, size_t size)
{
	struct block *b = malloc(sizeof(*b) + size);

	(void)data;
	if (!b)
		return NULL;
	b->size = size;
	return b->align;
}

static void wipe_free(void *data, void *p)
{
	struct block *b;

	(void)data;
	if (!p)
		return;
	b = (struct block *)((char *)p - offsetof(struct block, align));
	explicit_bzero(p, b->size);
	free(b);
}

static ProtobufCAllocator wiping = {
	.alloc = wipe_alloc,
	.free = wipe_free,
	.allocator_data = NULL,
};

int frame_header(const uint8_t *buf, size_t len, size_t max, size_t *body_len)
{
	uint32_t n;

	if (len < FRAME_HEADER)
		return -EAGAIN;
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3];
	if (n == 0 || n > max)
		return -EMSGSIZE;
	*body_len = n;
	return 0;
}

/*
 * Field number 0 is invalid in protobuf, but protobuf-c 1.4 takes one
 * whose tag is written in more than one byte (0x85 0x00) for an unknown
 * field, and then packs it as 0x05, which it refuses: a message it
 * accepted would not encode to anything it accepts. Found by fuzz_frame.
 */
static bool has_field_zero(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;

	for (unsigned i = 0; i < m->n_unknown_fields; i++)
		if (m->unknown_fields[i].tag == 0)
			return true;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		ProtobufCMessage *const *sub =
			(ProtobufCMessage *const *)(base + f->offset);
		size_t n = 1;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue; /* another member of the oneof */
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + f->quantifier_offset);
			sub = *(ProtobufCMessage *const *const *)sub;
		}
		for (size_t k = 0; k < n; k++)
			if (sub[k] && has_field_zero(sub[k]))
				return true;
	}
	return false;
}

int frame_decode(const uint8_t *body, size_t len, Vxsec__Envelope **out,
		 struct why *why)
{
	Vxsec__Envelope *env;
	int err;

	*out = NULL;
	env = vxsec__envelope__unpack(&wiping, len, body);
	if (!env) {
		why_set(why, "undecodable protobuf (%zu bytes)", len);
		return -EBADMSG;
	}
	if (has_field_zero(&env->base)) {
		why_set(why, "a field numbered 0 (%zu bytes)", len);
		frame_free(env);
		return -EBADMSG;
	}
	err = frame_validate(env, why);
	if (err) {
		frame_free(env);
		return err;
	}
	*out = env;
	return 0;
}

void frame_free(Vxsec__Envelope *env)
{
	if (env)
		vxsec__envelope__free_unpacked(env, &wiping);
}

int frame_encode(Vxsec__Envelope *env, uint8_t **out, size_t *len)
{
	size_t n;
	uint8_t *buf;

	env->version = PROTOCOL_VERSION;
	n = vxsec__envelope__get_packed_size(env);
	if (n == 0 || n > FRAME_MAX_DEFAULT)
		return -EMSGSIZE;
	buf = malloc(FRAME_HEADER + n);
	if (!buf)
		return -ENOMEM;
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	vxsec__envelope__pack(env, buf + FRAME_HEADER);
	*out = buf;
	*len = FRAME_HEADER + n;
	return 0;
}

void frame_buf_free(uint8_t *buf, size_t len)
{
	if (!buf)
		return;
	explicit_bzero(buf, len);
	free(buf);
}
