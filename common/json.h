/* SPDX-License-Identifier: MIT */
/* JSON: a strict reader into a flat token array, its accessors, a bounded writer. */
#ifndef VXSEC_JSON_H
#define VXSEC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "why.h"

/*
 * Written for etcd's v3 JSON gateway, whose replies the leader must not
 * trust: every byte of a document is checked before any is used. A
 * reason gives an offset and at most the one byte found there, never a
 * value (values may be secrets).
 */
#define JSON_LEN_MAX (64u << 20)   /* bytes of a document */
#define JSON_TOKENS_MAX (1u << 20) /* tokens of a document */
#define JSON_DEPTH_MAX 32	   /* nested objects and arrays */

enum json_type {
	JSON_OBJECT = 1,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

/*
 * One value, in document order: a container comes before its children,
 * an object's members as a key (a STRING) followed by its value.
 */
struct json_tok {
	uint32_t start; /* offset of its first byte ('{', '"', '-', 't'...) */
	uint32_t end;	/* offset just past its last byte ('}', '"'...) */
	uint32_t size;	/* members of an object, elements of an array; 0 */
	uint32_t skip;	/* index of the token after it and its children */
	uint8_t type;	/* enum json_type */
	uint8_t esc;	/* STRING: it holds a backslash escape */
};

struct json_doc {
	const char *text; /* the document, not copied: keep it alive */
	size_t len;
	struct json_tok *toks; /* toks[0] is the document's value */
	size_t n;	       /* tokens parsed */
	size_t cap;	       /* room in toks */
	bool heap;	       /* toks is ours (json_doc_cleanup frees it) */
};

/*
 * toks: the caller's array of cap tokens (cap capped at JSON_TOKENS_MAX);
 * NULL: json_parse() allocates exactly what a document needs, at most
 * cap tokens.
 */
void json_doc_init(struct json_doc *doc, struct json_tok *toks, size_t cap);

/*
 * Parses one whole JSON value (RFC 8259) of text[0..len): white space
 * around it, nothing else. Strict: no leading zeros, no control bytes or
 * unknown escapes in strings, no lone surrogate in \u escapes, no comma
 * before a closing bracket. Bytes >= 0x80 in strings are taken as they
 * are (not checked as UTF-8). Numbers of any size are tokens; their
 * range is checked when read. Returns 0; -EBADMSG for a malformed
 * document, -E2BIG over a cap (JSON_LEN_MAX, the token room,
 * JSON_DEPTH_MAX), -ENOMEM; a refusal says what and at which byte.
 */
int json_parse(struct json_doc *doc, const char *text, size_t len,
	       struct why *why);

/* Wipes the tokens parsed (sodium_memzero) and frees them if ours. */
void json_doc_cleanup(struct json_doc *doc);

/*
 * Accessors. tok is an index into doc->toks (0: the document's value).
 * They return -EINVAL for an index out of range or a token of another
 * type than they read.
 */

/*
 * The value of obj's member named key: its index, -ENOENT if there is
 * none (etcd omits fields at their default), -EBADMSG if key is there
 * twice. Keys are compared after their escapes are decoded.
 */
int json_get(const struct json_doc *doc, int obj, const char *key);

/*
 * Iterates an array's elements, or an object's keys (its value is the
 * key's index + 1):
 *   struct json_iter it;
 *   for (int t = json_iter_init(doc, arr, &it); t >= 0; t = json_iter_next(doc, &it))
 * json_iter_init() returns the first, -ENOENT when empty, -EINVAL.
 */
struct json_iter {
	uint32_t next; /* token of the next child */
	uint32_t left; /* children not yet returned */
	bool object;
};
int json_iter_init(const struct json_doc *doc, int tok, struct json_iter *it);
int json_iter_next(const struct json_doc *doc, struct json_iter *it);

/*
 * A string, escapes decoded to UTF-8, into buf with a NUL: returns its
 * length, -ENOSPC if it and the NUL do not fit in len, -EBADMSG if it
 * holds a \u0000 (a C string cannot).
 */
int json_string(const struct json_doc *doc, int tok, char *buf, size_t len);

/*
 * An integer from a NUMBER without fraction or exponent, or from a
 * STRING of one (etcd writes int64 as "42"): -EINVAL for anything else,
 * -ERANGE outside the type (a negative for the unsigned one).
 */
int json_int64(const struct json_doc *doc, int tok, int64_t *out);
int json_uint64(const struct json_doc *doc, int tok, uint64_t *out);

/* TRUE or FALSE. */
int json_bool(const struct json_doc *doc, int tok, bool *out);

/*
 * Base64 (the standard alphabet with padding, as etcd writes bytes) of a
 * STRING without escapes into buf: *out_len bytes. -ENOSPC if they do
 * not fit in len, -EBADMSG for bad base64 (or an escape).
 */
int json_base64(const struct json_doc *doc, int tok, uint8_t *buf, size_t len,
		size_t *out_len);

/*
 * The writer: a request body into a fixed buffer, with commas and a
 * closing NUL put where they go. The first error sticks: every later
 * call returns it and writes nothing. -ENOSPC when out of room (nothing
 * is written past cap), -EINVAL for a misuse (a value where a key must
 * be, a close that does not match, nesting over JSON_DEPTH_MAX).
 */
struct json_out {
	char *buf;
	size_t cap, len;
	int err;
	uint32_t depth;
	uint32_t objects; /* bit d: the container at depth d is an object */
	uint32_t started; /* bit d: it has a child (the next needs a comma) */
	bool keyed;	  /* a key was written; its value comes next */
};

void json_out_init(struct json_out *out, char *buf, size_t cap);
int json_out_object(struct json_out *out);
int json_out_object_end(struct json_out *out);
int json_out_array(struct json_out *out);
int json_out_array_end(struct json_out *out);
int json_out_key(struct json_out *out, const char *key);
/* len bytes as a string: '"', '\\' and bytes under 0x20 escaped. */
int json_out_string(struct json_out *out, const char *s, size_t len);
/* Integers as JSON strings of digits, as etcd reads int64 fields. */
int json_out_int64(struct json_out *out, int64_t v);
int json_out_uint64(struct json_out *out, uint64_t v);
int json_out_bool(struct json_out *out, bool v);
int json_out_base64(struct json_out *out, const uint8_t *bin, size_t len);
/* 0 and the length (without the NUL) if the document is whole. */
int json_out_finish(struct json_out *out, size_t *len);

#endif
