/* SPDX-License-Identifier: MIT */
/* TLS 1.3 only, mutual authentication, non-blocking, for one epoll loop; and a client of another service's TLS 1.2+ (etcd). */
#ifndef VXSEC_TLS_H
#define VXSEC_TLS_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TLS_EXPORTER_LEN 32
#define TLS_EXPORTER_JOIN "EXPORTER-vxsec-join"

struct tls_ctx;
struct tls_conn;

/*
 * Server: presents cert (+ the CA in its chain) and asks for a client
 * certificate issued by ca. With allow_anonymous, a client without one is
 * let through (a join); tls_conn_peer_id() then says -ENOENT.
 */
struct tls_ctx *tls_ctx_server(X509 *cert, EVP_PKEY *key, X509 *ca,
			       bool allow_anonymous);

/*
 * Client: trusts ca, or, on first contact (ca NULL), the CA in the
 * server's chain whose SHA-256 equals pin. cert/key may be NULL (a join).
 */
struct tls_ctx *tls_ctx_client(X509 *cert, EVP_PKEY *key, X509 *ca,
			       const uint8_t *pin);
void tls_ctx_free(struct tls_ctx *t);

struct why;

/*
 * Client of another service (etcd): TLS 1.2 or 1.3, the server's chain
 * verified against the CAs in ca_file (PEM); cert_file (PEM, a chain) and
 * key_file (PEM, not encrypted) its client certificate, or both NULL.
 * Read now. NULL with errno (ENOENT, EACCES, EINVAL, ENOMEM) and why
 * naming the file and OpenSSL's reason. Check the peer's address with
 * tls_conn_verify_ip on each connection.
 */
struct tls_ctx *tls_ctx_client_files(const char *ca_file, const char *cert_file,
				     const char *key_file, struct why *why);

/* A connection over a connected, non-blocking socket (not closed by us). */
struct tls_conn *tls_conn_new(struct tls_ctx *t, int fd, bool server);
void tls_conn_free(struct tls_conn *c);
/* The server's certificate must name this IP address (text): before the
 * handshake. 0 or -EINVAL. */
int tls_conn_verify_ip(struct tls_conn *c, const char *ip);

/*
 * Drives the handshake: 0 when done, -EAGAIN with *want set to the epoll
 * events to wait for, or -EPROTO/-ECONNRESET with tls_conn_error() text.
 */
int tls_conn_handshake(struct tls_conn *c, uint32_t *want);

/* n > 0, 0 at a clean close, -EAGAIN (+ *want), or -errno. */
ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t len,
		      uint32_t *want);
ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t len,
		       uint32_t *want);

/* The verified peer certificate's node id; -ENOENT if it sent none. */
int tls_conn_peer_id(struct tls_conn *c, char *out, size_t len);

/* Keying material bound to this session (RFC 8446 exporter). */
int tls_conn_exporter(struct tls_conn *c, const char *label,
		      uint8_t out[TLS_EXPORTER_LEN]);

const char *tls_conn_error(const struct tls_conn *c);

/* Bytes read from the socket so far: TLS records, handshake included. */
uint64_t tls_conn_bytes_read(const struct tls_conn *c);

/* Sends close_notify if it can without blocking; best effort. */
void tls_conn_shutdown(struct tls_conn *c);

#endif
