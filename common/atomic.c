// SPDX-License-Identifier: MIT
/* Atomic file replacement that survives a crash or power loss at any point. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"

#define TMP_TAG ".tmp."
#define TMP_TRIES 8

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The rename is durable only once the directory itself is on disk. */
static int sync_dir(const char *path)
{
	char buf[4096];
	int fd, err = 0;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

/*
 * A new temp file next to path, <path>.tmp.<16 random hex digits>: no
 * leftover of a dead process (one with our PID included) can be in the
 * way. The fd, its name in tmp, or -errno.
 */
static int tmp_open(const char *path, mode_t mode, char *tmp, size_t len)
{
	uint64_t r;

	for (int i = 0; i < TMP_TRIES; i++) {
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			return -EIO;
		if (snprintf(tmp, len, "%s" TMP_TAG "%016llx", path,
			     (unsigned long long)r) >= (int)len)
			return -ENAMETOOLONG;
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			      mode);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

int atomic_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[4096];
	int fd, err;

	fd = tmp_open(path, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	err = write_all(fd, data, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return sync_dir(path);
}

/* <name>.tmp.<hex digits>: ours, from this or any earlier version. */
static bool is_tmp_name(const char *name)
{
	const char *t = strstr(name, TMP_TAG);

	if (!t || t == name)
		return false;
	t += strlen(TMP_TAG);
	if (!*t)
		return false;
	for (; *t; t++)
		if (!strchr("0123456789abcdef", *t))
			return false;
	return true;
}

/* Zeros over a regular file's bytes, then it goes; 1 if not regular. */
static int wipe_unlink(int dfd, const char *name)
{
	static const char zero[4096];
	struct stat st;
	int err = 0, fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 1; /* not something atomic_write() made */
	fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (off_t off = 0; !err && off < st.st_size; off += sizeof(zero)) {
		size_t n = st.st_size - off < (off_t)sizeof(zero)
				   ? (size_t)(st.st_size - off)
				   : sizeof(zero);
		err = write_all(fd, zero, n);
	}
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err && unlinkat(dfd, name, 0))
		err = -errno;
	return err;
}

int atomic_clean(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0, err = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!is_tmp_name(e->d_name))
			continue;
		err = wipe_unlink(dirfd(d), e->d_name);
		if (err < 0)
			break;
		n += !err;
		err = 0;
	}
	if (!err && n && fsync(dirfd(d)))
		err = -errno;
	closedir(d);
	return err ? err : n;
}
