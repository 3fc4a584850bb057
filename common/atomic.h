/* SPDX-License-Identifier: MIT */
/* Atomic file replacement: temp file, fsync, rename, fsync of the directory. */
#ifndef VXSEC_ATOMIC_H
#define VXSEC_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replaces path with exactly len bytes of data, or leaves the old file
 * untouched: a crash at any point shows one or the other, never a mix.
 * The temp file, <path>.tmp.<16 random hex digits>, is created with mode
 * (0600 for secrets); a new name every time, so that no leftover of a
 * killed process (under our PID or not) is ever in the way. A crash can
 * leave one behind: atomic_clean() at start removes it. 0 or -errno.
 */
int atomic_write(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Removes what a crash during atomic_write() left in dir: every regular
 * file named <name>.tmp.<hex digits> is overwritten with zeros, synced,
 * then unlinked (a copy of old secrets must not outlive the crash).
 * Other kinds of files are left alone. Call at start, before this
 * process writes anything there. The number removed, or -errno.
 */
int atomic_clean(const char *dir);

#endif
