/* SPDX-License-Identifier: MIT */
/* Process tests: background processes (spawn, stop, wait for the exit code), polling their logs, the programs beside the test binary. */
#ifndef VXSEC_PROC_UTIL_H
#define VXSEC_PROC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Failures are reported with cmocka's print_message and assertions. */

/* Whether the file p (its first MiB) holds needle. */
bool file_has(const char *p, const char *needle);

/* Polls file_has() for secs; says which file never held what. */
bool wait_file(const char *p, const char *needle, int secs);

/* The first line of the file p, without its newline, in out (asserted). */
void first_line(const char *p, char *out, size_t len);

/* How many times needle occurs in text. */
size_t count(const char *text, const char *needle);

/* Runs a command (printf's format and arguments) through sh in the
 * background: its pid. */
pid_t spawn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sends sig to *p (if it runs) and reaps it; *p is then -1. */
void stop(pid_t *p, int sig);

/* Waits for *p to exit: its exit code, or -1 (still running after secs;
 * it is then left running for the teardown). */
int wait_exit(pid_t *p, int secs);

/* Whether *p still runs; once it has exited, *p is -1. */
bool alive(pid_t *p);

/*
 * Sets the environment variable name to rel, a path relative to the
 * folder of this test binary (<build>/tests), so a sanitizer build runs
 * its own programs: 0, or -1.
 */
int env_bin(const char *name, const char *rel);

#endif
