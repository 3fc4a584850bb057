/* SPDX-License-Identifier: MIT */
/* Atomic file replacement: temp file, fsync, rename, fsync of the directory. */
#ifndef VXSEC_ATOMIC_H
#define VXSEC_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replaces path with exactly len bytes of data, or leaves the old file
 * untouched: a crash at any point shows one or the other, never a mix.
 * The temp file is created with mode (0600 for secrets) and wiped of
 * nothing: callers pass data they may write. 0 or -errno.
 */
int atomic_write(const char *path, const void *data, size_t len, mode_t mode);

#endif
