// SPDX-License-Identifier: MIT
/*
 * memscan: does a process's memory hold any of some byte strings? The lab
 * asks it whether the leader's memory holds any key the agents put in
 * their kernels (it must not: the leader is blind). Reads /proc/PID/maps
 * and /proc/PID/mem (root, or the same user with ptrace allowed).
 *
 *   memscan PID HEX...   prints each string found and where; exit 0 if
 *                        none is found, 1 if one is, 2 on an error
 *   memscan --self-test  puts a random string in its own heap and must
 *                        find it (the scan can find what is there)
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#define NEEDLE_MAX 64
#define NEEDLES_MAX 4096
#define CHUNK ((size_t)1 << 20)

struct needle {
	uint8_t b[NEEDLE_MAX];
	size_t len;
	const char *text;
	unsigned found;
};

struct scan {
	struct needle *n;
	size_t count;
	uint64_t bytes, regions, unreadable;
};

static int hex_needle(const char *text, struct needle *n)
{
	const char *h = strncmp(text, "0x", 2) == 0 ? text + 2 : text;
	size_t len = strlen(h);

	if (len < 16 || len % 2 || len / 2 > NEEDLE_MAX ||
	    sodium_hex2bin(n->b, sizeof(n->b), h, len, NULL, &n->len, NULL) ||
	    n->len != len / 2) {
		fprintf(stderr,
			"memscan: %s: not 8 to %d bytes of hex (a key as ip "
			"xfrm prints it)\n",
			text, NEEDLE_MAX);
		return -1;
	}
	n->text = text;
	return 0;
}

/*
 * Every needle in buf (at address base). The first `seen` bytes were
 * searched before (the end of the previous chunk): a string wholly in
 * them is not counted again.
 */
static void search(struct scan *s, const uint8_t *buf, size_t len, size_t seen,
		   uint64_t base)
{
	for (size_t i = 0; i < s->count; i++) {
		struct needle *n = &s->n[i];
		const uint8_t *p = buf, *end = buf + len;
		const uint8_t *hit;

		while (p < end &&
		       (hit = memmem(p, (size_t)(end - p), n->b, n->len))) {
			p = hit + 1;
			if ((size_t)(hit - buf) + n->len <= seen)
				continue;
			if (n->found++ < 4)
				printf("found %s at 0x%" PRIx64 "\n", n->text,
				       base + (uint64_t)(hit - buf));
		}
	}
}

/*
 * One region [lo, hi), in chunks; the last NEEDLE_MAX - 1 bytes of each
 * are searched again with the next, so a string across a chunk's end is
 * found.
 */
static void scan_region(struct scan *s, int mem, uint64_t lo, uint64_t hi,
			uint8_t *buf)
{
	uint64_t at = lo;
	size_t keep = 0;

	s->regions++;
	while (at < hi) {
		size_t want = hi - at < CHUNK ? (size_t)(hi - at) : CHUNK;
		ssize_t r = pread(mem, buf + keep, want, (off_t)at);
		size_t have;

		if (r <= 0) {
			s->unreadable += hi - at;
			return;
		}
		have = keep + (size_t)r;
		search(s, buf, have, keep, at - keep);
		s->bytes += (uint64_t)r;
		at += (uint64_t)r;
		keep = have < NEEDLE_MAX - 1 ? have : NEEDLE_MAX - 1;
		memmove(buf, buf + have - keep, keep);
	}
}

static int scan_pid(struct scan *s, const char *pid)
{
	char path[64], line[512];
	uint8_t *buf = malloc(CHUNK + NEEDLE_MAX);
	FILE *maps;
	int mem;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%s/mem", pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (!buf || !maps || mem < 0) {
		fprintf(stderr, "memscan: process %s: %s\n", pid,
			strerror(errno));
		free(buf);
		if (maps)
			fclose(maps);
		if (mem >= 0)
			close(mem);
		return -1;
	}
	while (fgets(line, sizeof(line), maps)) {
		uint64_t lo, hi;
		char perms[5];

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s", &lo, &hi,
			   perms) != 3 ||
		    perms[0] != 'r' || strstr(line, "[vvar]") ||
		    strstr(line, "[vsyscall]"))
			continue;
		scan_region(s, mem, lo, hi, buf);
	}
	fclose(maps);
	close(mem);
	free(buf);
	return 0;
}

/* A random string in this process's heap, found by scanning itself. */
static int self_test(void)
{
	struct needle n = { .len = 36 };
	struct scan s = { .n = &n, .count = 1 };
	char hex[2 * NEEDLE_MAX + 1], pid[16];
	uint8_t *heap = malloc(4096);

	if (!heap)
		return 2;
	randombytes_buf(heap, 4096);
	memcpy(n.b, heap + 1000, n.len);
	sodium_bin2hex(hex, sizeof(hex), n.b, n.len);
	n.text = hex;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (scan_pid(&s, pid))
		return 2;
	/* Found in the heap and in n.b at least (the stack). */
	printf("self-test: %.1f MiB in %" PRIu64 " regions, the string "
	       "found %u times\n",
	       (double)s.bytes / (1 << 20), s.regions, n.found);
	free(heap);
	return n.found >= 2 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct scan s = { 0 };
	unsigned hit = 0;

	if (sodium_init() < 0)
		return 2;
	if (argc == 2 && strcmp(argv[1], "--self-test") == 0)
		return self_test();
	if (argc < 3 || argc - 2 > NEEDLES_MAX) {
		fprintf(stderr, "usage: memscan PID HEX... | memscan "
				"--self-test\n");
		return 2;
	}
	s.n = calloc((size_t)argc - 2, sizeof(*s.n));
	if (!s.n)
		return 2;
	for (int i = 2; i < argc; i++)
		if (hex_needle(argv[i], &s.n[s.count++]))
			return 2;
	if (scan_pid(&s, argv[1]))
		return 2;
	for (size_t i = 0; i < s.count; i++)
		hit += s.n[i].found != 0;
	printf("memscan: process %s: %.1f MiB in %" PRIu64 " regions "
	       "(%" PRIu64 " bytes unreadable): %u of %zu strings found\n",
	       argv[1], (double)s.bytes / (1 << 20), s.regions, s.unreadable,
	       hit, s.count);
	free(s.n);
	return hit ? 1 : 0;
}
