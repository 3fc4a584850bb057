/* SPDX-License-Identifier: MIT */
/* Fakes of common/tls.c and common/loop.c for fuzz_conn: the input is the decrypted stream, the fuzzer the clock. */
#ifndef VXSEC_FUZZ_FAKE_IO_H
#define VXSEC_FUZZ_FAKE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/loop.h"

/*
 * What the fake TLS connection does, decided by the input. Each call of
 * the handshake, each read and (with partial_writes) each write takes one
 * byte of the tape; when the tape is used up, the handshake succeeds,
 * reads return everything left (at most what was asked) and writes take
 * everything.
 */
struct fake_tls_script {
	const uint8_t *tape;
	size_t tape_len;
	const uint8_t *stream; /* the decrypted bytes the peer sends */
	size_t stream_len;
	bool eof; /* at the end of the stream: closed (else silent) */
	bool partial_writes; /* writes take the tape's sizes, may block */
};

/* What the fake saw, for the harness's checks. */
struct fake_tls_seen {
	int news, frees;	/* tls_conn_new, tls_conn_free calls */
	size_t stream_off;	/* stream bytes handed to reads */
	const uint8_t *written; /* everything written, in order */
	size_t written_len;	/* (bounded by FAKE_WRITTEN_MAX) */
	bool write_failed;	/* a write returned an error */
	bool handshaken;	/* the handshake returned 0 */
	bool used_after_free;
};

#define FAKE_WRITTEN_MAX (1u << 20)

void fake_tls_start(const struct fake_tls_script *s);
const struct fake_tls_seen *fake_tls_seen(void);
/* One tape byte, or -1 when the tape is used up. */
int fake_tape_byte(void);
bool fake_stream_done(void);

/* The loop: one fd, timers on a clock that moves only when told. */
struct loop *fake_loop(void);
uint64_t fake_now(void);
/* Moves the clock by ms, firing every timer that falls due, in order. */
void fake_advance(uint64_t ms);
/* The next armed timer's due time, or UINT64_MAX. */
uint64_t fake_next_due(void);
/* Calls the registered fd's callback as the loop would; false if none. */
bool fake_fd_ready(uint32_t events);
bool fake_fd_registered(void);
int fake_live_timers(void);

#endif
