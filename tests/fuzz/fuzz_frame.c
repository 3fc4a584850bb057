// SPDX-License-Identifier: MIT
/* Fuzz target: a byte stream cut into frames, decoded, validated, re-encoded. */
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_FRAME_MAX (1u << 20)

/* A message that passed validation encodes and decodes to the same bytes. */
static void roundtrip(Vxsec__Envelope *env)
{
	Vxsec__Envelope *again;
	struct why why = { "" };
	uint8_t *buf, *buf2;
	size_t len, len2, body;

	if (frame_encode(env, &buf, &len))
		abort();
	if (frame_header(buf, len, FRAME_MAX_DEFAULT, &body) ||
	    body + FRAME_HEADER != len)
		abort();
	if (frame_decode(buf + FRAME_HEADER, body, &again, &why))
		abort(); /* we produced what we refuse */
	if (frame_encode(again, &buf2, &len2) || len2 != len ||
	    memcmp(buf, buf2, len) != 0)
		abort();
	frame_buf_free(buf2, len2);
	frame_buf_free(buf, len);
	frame_free(again);
}

int fuzz_frame(const uint8_t *data, size_t size)
{
	struct why why = { "" };
	Vxsec__Envelope *env;
	size_t body;

	while (size >= FRAME_HEADER) {
		if (frame_header(data, size, FUZZ_FRAME_MAX, &body))
			break; /* the connection would be closed here */
		if (body > size - FRAME_HEADER)
			break; /* waits for more bytes */
		if (frame_decode(data + FRAME_HEADER, body, &env, &why) == 0) {
			roundtrip(env);
			frame_free(env);
		} else if (why.msg[0] == '\0') {
			abort(); /* every refusal says why */
		}
		data += FRAME_HEADER + body;
		size -= FRAME_HEADER + body;
	}
	return 0;
}
