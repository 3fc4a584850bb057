// SPDX-License-Identifier: MIT
/* Writes the seed corpus of the NAT probe fuzzer: probes under its fixed key, replies, and damaged ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/natprobe.h"

static const char *dir;

static void write_file(const char *name, const uint8_t *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		exit(1);
}

int main(int argc, char **argv)
{
	uint8_t pair[PAIRKEY_LEN], key[NATPROBE_KEY_LEN], buf[NATPROBE_LEN];
	struct natprobe p = {
		.from = 2, .to = 3, .generation = 1, .time_ms = 1796000000000ull
	};
	char name[32];

	if (argc != 2)
		return 2;
	dir = argv[1];
	memset(pair, 0x42, sizeof(pair)); /* fuzz_natprobe.c's key */
	natprobe_key(pair, key);
	for (int i = 0; i < 6; i++) {
		p.generation = 1u + (uint32_t)i * 40;
		p.reply = i & 1;
		p.from = i < 3 ? 2 : 0xffffff;
		natprobe_build(&p, key, buf);
		snprintf(name, sizeof(name), "probe-%d", i);
		write_file(name, buf, sizeof(buf));
	}
	natprobe_build(&p, key, buf);
	buf[40] ^= 1;
	write_file("bad-mac", buf, sizeof(buf));
	write_file("short", buf, sizeof(buf) - 1);
	buf[0] = 1; /* ESP, not the non-ESP marker */
	write_file("esp", buf, sizeof(buf));
	memset(buf, 0xff, 1);
	write_file("keepalive", buf, 1);
	natprobe_build(&p, key, buf);
	buf[8] = 2;
	write_file("version-2", buf, sizeof(buf));
	buf[8] = 1, buf[9] = 4;
	write_file("flags", buf, sizeof(buf));
	return 0;
}
