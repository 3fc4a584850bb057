// SPDX-License-Identifier: MIT
/* Writes the seed corpus of the NAT probe fuzzer: probes under its fixed key, replies, and damaged ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"
#include "agent/natprobe.h"

int main(int argc, char **argv)
{
	uint8_t pair[PAIRKEY_LEN], key[NATPROBE_KEY_LEN], buf[NATPROBE_LEN];
	struct natprobe p = {
		.from = 2, .to = 3, .generation = 1, .time_ms = 1796000000000ull
	};
	char name[32];

	seed_dir_from(argc, argv);
	memset(pair, 0x42, sizeof(pair)); /* fuzz_natprobe.c's key */
	natprobe_key(pair, key);
	for (int i = 0; i < 6; i++) {
		p.generation = 1u + (uint32_t)i * 40;
		p.reply = i & 1;
		p.from = i < 3 ? 2 : 0xffffff;
		natprobe_build(&p, key, buf);
		snprintf(name, sizeof(name), "probe-%d", i);
		seed_write(name, buf, sizeof(buf));
	}
	natprobe_build(&p, key, buf);
	buf[40] ^= 1;
	seed_write("bad-mac", buf, sizeof(buf));
	seed_write("short", buf, sizeof(buf) - 1);
	buf[0] = 1; /* ESP, not the non-ESP marker */
	seed_write("esp", buf, sizeof(buf));
	memset(buf, 0xff, 1);
	seed_write("keepalive", buf, 1);
	natprobe_build(&p, key, buf);
	buf[8] = 2;
	seed_write("version-2", buf, sizeof(buf));
	buf[8] = 1, buf[9] = 4;
	seed_write("flags", buf, sizeof(buf));
	return 0;
}
