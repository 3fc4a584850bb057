/* SPDX-License-Identifier: MIT */
/* The daemons' control socket: one request line in, a code and a body out. */
#ifndef VXSEC_CTL_H
#define VXSEC_CTL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "loop.h"
#include "why.h"

/*
 * Wire format (unix stream socket, one request per connection):
 *   request: words separated by spaces or tabs, then '\n'; at most
 *            CTL_REQUEST_MAX bytes with the newline. A word may carry %XX
 *            escapes and "double-quoted" parts (spaces kept, no backslash
 *            escapes: write %22 for a quote). Escapes never yield NUL or
 *            another control character. An optional '\r' before the '\n'
 *            is dropped.
 *   reply:   "<code>\n" (decimal, 0..255), then the body; the server closes.
 *            A deferred reply (CTL_LATER) comes the same way, only later:
 *            nothing is sent until the daemon finishes it or the server
 *            gives up after the later deadline (CTL_FAIL "no answer within
 *            ..."), which stays below CTL_WRITE_MS, how long ctl_call()
 *            waits for the first byte.
 */
#define CTL_REQUEST_MAX 4096
#define CTL_ARGS_MAX 64
#define CTL_READ_MS 5000   /* the whole request must arrive within this */
#define CTL_WRITE_MS 60000 /* the whole reply must be read within this */
#define CTL_REPLY_MAX (64u << 20)
#define CTL_CLIENTS_MAX 32     /* more wait in the listen backlog */
#define CTL_LATER_MS 30000     /* a deferred reply must come within this */
#define CTL_LATER_MAX_MS 50000 /* the most it may be set to: < CTL_WRITE_MS */

/* Reply codes the server itself sends; handlers choose their own. */
#define CTL_OK 0
#define CTL_FAIL 1
#define CTL_USAGE 2	   /* also: a request too long, malformed or too late */
#define CTL_NOT_RUNNING 69 /* EX_UNAVAILABLE: ctl_remote() found no daemon */
#define CTL_NOPERM 77	   /* EX_NOPERM: the peer is neither root nor us */
/* Not a code: a handler's "the answer comes later" (ctl_reply_later). */
#define CTL_LATER (-4096)

/* A growable text buffer; on failure it keeps what it had and sets err. */
struct ctl_reply {
	char *buf;
	size_t len, cap;
	int err; /* first -errno of an append: -ENOMEM or -EMSGSIZE */
};

void ctl_reply_init(struct ctl_reply *r);
void ctl_reply_cleanup(struct ctl_reply *r);
int ctl_reply_append(struct ctl_reply *r, const void *data, size_t len);
int ctl_reply_printf(struct ctl_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int ctl_reply_vprintf(struct ctl_reply *r, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal ("..." escaped); NULL gives null. */
int ctl_json_string(struct ctl_reply *r, const char *s);

/*
 * Serves one request: argv[0] is the command (argc >= 1). Appends the body
 * to reply and returns the exit code (0 ok, 1 failure, 2 usage, ...); a
 * value outside 0..255 is sent as 1, except CTL_LATER (below). Runs on
 * the loop: must not block and must not free the server.
 */
typedef int (*ctl_handler)(void *arg, int argc, char **argv,
			   struct ctl_reply *reply);

/*
 * Deferred replies, for a command that waits for something asynchronous (a
 * save to etcd) without blocking the loop. The handler takes its reply with
 * ctl_reply_later() and returns CTL_LATER; the connection stays open (it
 * still counts towards CTL_CLIENTS_MAX), its read deadline is replaced by
 * the later deadline (ctl_server_set_later_timeout) and the body may grow
 * meanwhile through ctl_later_reply(). What the handler appended before
 * stays. The later ends exactly once, one of:
 *   - ctl_later_finish(slot, code): the code and the body go out;
 *   - the client hangs up, the later deadline passes (the server answers
 *     CTL_FAIL "no answer within N s"), the server is freed, or the
 *     handler took the reply but returned a code (that code goes out):
 *     *slot is set to NULL, then gone(arg) is called if not NULL.
 * Either way *slot is NULL afterwards, and ctl_later_finish(slot) on a NULL
 * *slot does nothing: finishing through the slot cannot touch a later that
 * has gone. Keep the later in that one slot only (never copy the pointer);
 * the slot must stay valid until the later ends (finish them, or free the
 * server, before freeing the slot's owner). gone runs on the loop, must not
 * block and must not free the server; it may finish other laters.
 */
struct ctl_later;

/*
 * Only inside a handler, on the reply it was given, once: stores the later
 * in *slot and returns 0; otherwise -EINVAL and nothing changes. A
 * handler returning CTL_LATER without a later gets CTL_FAIL sent.
 */
int ctl_reply_later(struct ctl_reply *r, struct ctl_later **slot,
		    void (*gone)(void *arg), void *arg);
/* The body to append to until the finish; NULL for NULL. */
struct ctl_reply *ctl_later_reply(struct ctl_later *l);
/*
 * Sends code (0..255, else 1) and the body, or CTL_FAIL "reply lost" if an
 * append failed, and sets *slot to NULL; nothing for a NULL *slot. May be
 * called inside the handler itself, before it returns CTL_LATER.
 */
void ctl_later_finish(struct ctl_later **slot, int code);

/*
 * A daemon's commands, one table that its dispatcher (ctl_dispatch, in the
 * daemon) and its command line (ctl_table_find, ctl_table_help,
 * ctl_remote) both read: a command is served if and only if the command
 * line sends it and --help lists it.
 */
struct ctl_cmd {
	const char *name; /* the first word: [a-z0-9-] */
	const char *args; /* what follows it in --help ("NODE"), or "" */
	const char *help; /* one line in --help; '\n' goes on to the next one */
	ctl_handler run;  /* never NULL */
	int argc_max;	  /* more words are an unknown command; 0: any */
};

struct ctl_table {
	const char *prog; /* "vxsec-keymgr" */
	const struct ctl_cmd *cmds;
	size_t n;
	int width;	   /* of the synopsis column in --help */
	bool list_unknown; /* an unknown command's reply lists the commands;
			    * otherwise it points to "<prog> --help" */
};

/* The command named name (argv[0]), or NULL. */
const struct ctl_cmd *ctl_table_find(const struct ctl_table *t,
				     const char *name);
/*
 * The handler of argv[0] (argc >= 1), or, for a name not in the table or
 * too many words, the reply 'unknown command "NAME" (...)' and CTL_USAGE.
 */
int ctl_dispatch(const struct ctl_table *t, void *arg, int argc, char **argv,
		 struct ctl_reply *reply);
/* "  SYNOPSIS  help" a line per command, for --help. */
void ctl_table_help(const struct ctl_table *t, FILE *f);
/*
 * 0 if every entry has a plain unique name, an args and a help text, a
 * handler, an argc_max >= 0 and a synopsis that fits the column; else
 * -EINVAL with the entry and what is wrong in why.
 */
int ctl_table_check(const struct ctl_table *t, struct why *why);

struct ctl_server;

/*
 * Listens at path (mode 0600, O_NONBLOCK|O_CLOEXEC). A stale socket file
 * there is replaced; a live one (something accepts) gives NULL with errno
 * EADDRINUSE, a file that is not a socket EEXIST. Peers must be uid 0 or
 * our euid; others get CTL_NOPERM "permission denied".
 */
struct ctl_server *ctl_server_new(struct loop *l, const char *path,
				  ctl_handler cb, void *arg);
/* Closes the clients and the socket, unlinks path; NULL-safe. */
void ctl_server_free(struct ctl_server *s);
/* Deadlines for later connections, in ms (0 keeps the current one). */
void ctl_server_set_timeouts(struct ctl_server *s, uint64_t read_ms,
			     uint64_t write_ms);
/*
 * How long a deferred reply may wait for its finish, in ms, from the
 * handler's return (CTL_LATER_MS at first; 0 keeps it); cut to
 * CTL_LATER_MAX_MS so that ctl_call() is still waiting for the answer.
 */
void ctl_server_set_later_timeout(struct ctl_server *s, uint64_t ms);

/*
 * Splits one request line (no '\n') in place: argv, room for max + 1
 * pointers, points into line and ends with NULL. Returns argc (0 for a
 * blank line) or -EINVAL with a reason. Exposed to be tested and fuzzed.
 */
int ctl_request_split(char *line, char **argv, int max, struct why *why);

/*
 * The client side, blocking: sends argv (escaped as needed), reads the
 * whole reply, then copies the body to out and returns the code (0..255).
 * On failure nothing is written to out and it returns -errno with a
 * reason in why: the daemon is not running ("... — is vxsec-keymgr
 * running?"), the request is too long (-E2BIG), the reply is malformed
 * (-EPROTO), no reply within CTL_WRITE_MS (-ETIMEDOUT), out fails (-EIO).
 * A deferred reply is waited for: it comes within CTL_LATER_MAX_MS (the
 * server answers by itself then), less than the CTL_WRITE_MS it waits.
 */
int ctl_call(const char *path, int argc, char **argv, FILE *out,
	     struct why *why);

/*
 * A command line's remote command: ctl_call() to stdout. Returns the
 * daemon's code, or after "<prog>: why" on stderr CTL_NOPERM (no access
 * to the socket), CTL_NOT_RUNNING (nobody there) or CTL_FAIL.
 */
int ctl_remote(const char *prog, const char *path, int argc, char **argv);

#endif
