/* SPDX-License-Identifier: MIT */
/* Process tests: run a shell command, capture its output as text, get its exit status. */
#ifndef VXSEC_RUN_CMD_H
#define VXSEC_RUN_CMD_H

#include <stddef.h>

/*
 * Runs a command through sh with stderr joined to stdout; its output in
 * out (NULs shown as '.': frames carry them) and echoed for the log
 * (cmocka's print_message). The exit status, or -1 if it did not exit.
 */
int run_cmd(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
