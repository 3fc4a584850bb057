// SPDX-License-Identifier: MIT
/* vxsec-keymgr: command line — the daemon (run, init) and the operator's commands over the control socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/ctl.h"
#include "common/log.h"
#include "leader.h"
#include "state.h"

#define VERSION "0.1"
#define FLAGS_MAX 32

static const char usage_head[] =
	"usage: vxsec-keymgr [OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"The vxsec leader: the cluster CA, AES-GCM key generations with one\n"
	"key per ordered node pair, and rotation without packet loss.\n"
	"\n"
	"Daemon:\n"
	"  run                    serve agents in the foreground (a state\n"
	"                         directory without a cluster gets a new one)\n"
	"  init [--autolock]      create a new cluster: prints the join token\n"
	"                         (and, with --autolock, the unlock key)\n"
	"Commands (to the running leader, over its control socket, as root):\n";

/* The commands in between come from leader_commands. */
static const char usage_tail[] =
	"\n"
	"Options (config file keys in brackets):\n"
	"  -c, --config FILE        default " LEADER_CONFIG "\n"
	"  -d, --state-dir DIR      [state_dir] default " LEADER_STATE_DIR "\n"
	"  -s, --socket PATH        [socket] default " LEADER_SOCKET "\n"
	"  -l, --listen ADDR:PORT   [listen] default " LEADER_LISTEN "\n"
	"      --rotate-interval D  [rotate_interval] default 12h\n"
	"      --ack-deadline D     [ack_deadline] default 30s\n"
	"      --grace D            [grace] default 10s\n"
	"      --cert-lifetime D    [cert_lifetime] default 30d\n"
	"      --unauth-max N       [unauth_max] connections not yet\n"
	"                           authenticated, default 256\n"
	"      --unauth-per-source N [unauth_per_source] the same from one\n"
	"                           address, default 16\n"
	"      --autolock           [autolock] init: the state key is never\n"
	"                           stored; run needs --unlock-key-file\n"
	"      --unlock-key-file F  run: the unlock key (\"-\": stdin)\n"
	"  -v, --verbose            [verbose] debug logs\n"
	"  -h, --help, --version\n"
	"Durations: 500ms, 30s, 5m, 12h, 1d.\n"
	"\n"
	"Exit codes: 0 ok, 1 failure, 2 usage or config error, 3 the state\n"
	"cannot be opened (damaged, modified, wrong or missing unlock key),\n"
	"69 the leader is not running, 77 permission denied.\n";

struct opts {
	const char *config;
	bool config_given;
	const char *unlock_file;
	const char *keys[FLAGS_MAX], *vals[FLAGS_MAX];
	int n;
};

static void usage(FILE *f)
{
	fputs(usage_head, f);
	ctl_table_help(&leader_commands, f);
	fputs(usage_tail, f);
}

static int cfg_entry(void *arg, const char *key, const char *val,
		     struct why *why)
{
	return leader_config_set(arg, key, val, why);
}

static int parse_flags(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "rotate-interval", required_argument, NULL, 'I' },
		{ "ack-deadline", required_argument, NULL, 'D' },
		{ "grace", required_argument, NULL, 'G' },
		{ "cert-lifetime", required_argument, NULL, 'L' },
		{ "unauth-max", required_argument, NULL, 'N' },
		{ "unauth-per-source", required_argument, NULL, 'P' },
		{ "autolock", no_argument, NULL, 'A' },
		{ "unlock-key-file", required_argument, NULL, 'U' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	static const char *const names[128] = {
		['d'] = "state_dir",	 ['s'] = "socket",
		['l'] = "listen",	 ['I'] = "rotate_interval",
		['D'] = "ack_deadline",	 ['G'] = "grace",
		['L'] = "cert_lifetime", ['A'] = "autolock",
		['N'] = "unauth_max",	 ['P'] = "unauth_per_source",
		['v'] = "verbose",
	};
	int c;

	o->config = LEADER_CONFIG;
	/* "+": options end at the command; its own flags follow it. */
	while ((c = getopt_long(argc, argv, "+c:d:s:l:vh", longs, NULL)) !=
	       -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		} else if (c == 'V') {
			printf("vxsec-keymgr %s\n", VERSION);
			exit(0);
		} else if (c == 'c') {
			o->config = optarg;
			o->config_given = true;
		} else if (c == 'U') {
			o->unlock_file = optarg;
		} else if (c > 0 && c < 128 && names[c] && o->n < FLAGS_MAX) {
			o->keys[o->n] = names[c];
			o->vals[o->n++] = c == 'A' || c == 'v' ? "yes" : optarg;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

/* Defaults, then the config file, then the flags. */
static int configure(struct leader_config *cfg, const struct opts *o)
{
	struct why why = { "" };

	leader_config_defaults(cfg);
	if (o->config_given || access(o->config, F_OK) == 0) {
		if (config_load(o->config, cfg_entry, cfg, &why)) {
			fprintf(stderr, "vxsec-keymgr: %s\n", why.msg);
			return -EINVAL;
		}
	}
	for (int i = 0; i < o->n; i++) {
		if (leader_config_set(cfg, o->keys[i], o->vals[i], &why)) {
			fprintf(stderr, "vxsec-keymgr: %s\n", why.msg);
			return -EINVAL;
		}
	}
	return 0;
}

/* One line holding VXSEC-UNLOCK-...; "-" reads standard input. */
static int read_unlock(const char *file, uint8_t key[STATE_KEY_LEN])
{
	char line[256];
	FILE *f = strcmp(file, "-") != 0 ? fopen(file, "re") : stdin;
	int err = -EINVAL;

	if (!f) {
		fprintf(stderr, "vxsec-keymgr: %s: %s\n", file,
			strerror(errno));
		return -errno;
	}
	if (fgets(line, sizeof(line), f))
		err = state_unlock_parse(line, key);
	sodium_memzero(line, sizeof(line));
	if (f != stdin)
		fclose(f);
	if (err)
		fprintf(stderr,
			"vxsec-keymgr: %s does not hold an unlock key "
			"(VXSEC-UNLOCK-...)\n",
			file);
	return err;
}

static int cmd_run(const struct leader_config *cfg, const struct opts *o)
{
	uint8_t *key = NULL;
	struct leader *l;
	struct why why = { "" };
	int code;

	if (o->unlock_file) {
		key = sodium_malloc(STATE_KEY_LEN);
		if (!key || read_unlock(o->unlock_file, key)) {
			sodium_free(key);
			return LEADER_EXIT_STATE;
		}
	}
	l = leader_new(cfg, key, &code, &why);
	sodium_free(key);
	if (!l) {
		log_err("cannot start: %s", why.msg);
		return code;
	}
	code = leader_run(l) ? LEADER_EXIT_FAIL : LEADER_EXIT_OK;
	leader_free(l);
	return code;
}

static int cmd_init(struct leader_config *cfg, int argc, char **argv)
{
	char token[256], unlock[STATE_UNLOCK_TEXT_LEN + 1];
	struct why why = { "" };
	int err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--autolock") != 0) {
			fprintf(stderr,
				"usage: vxsec-keymgr init [--autolock]\n");
			return LEADER_EXIT_USAGE;
		}
		cfg->autolock = true;
	}
	err = leader_init_state(cfg, token, sizeof(token), unlock,
				sizeof(unlock), &why);
	if (err) {
		fprintf(stderr, "vxsec-keymgr: %s\n", why.msg);
		return LEADER_EXIT_FAIL;
	}
	printf("new cluster in %s\njoin token: %s\n", cfg->state_dir, token);
	if (cfg->autolock)
		printf("unlock key: %s\n(keep it safe: without it the leader "
		       "cannot start; it is not stored)\n",
		       unlock);
	sodium_memzero(token, sizeof(token));
	sodium_memzero(unlock, sizeof(unlock));
	return 0;
}

int main(int argc, char **argv)
{
	struct leader_config cfg;
	struct opts o = { 0 };
	const char *cmd;

	if (parse_flags(argc, argv, &o) || optind >= argc) {
		usage(stderr);
		return LEADER_EXIT_USAGE;
	}
	if (configure(&cfg, &o))
		return LEADER_EXIT_USAGE;
	if (sodium_init() < 0)
		return LEADER_EXIT_FAIL;
	log_init("vxsec-keymgr", cfg.verbose ? LOG_DEBUG : LOG_INFO);
	cmd = argv[optind];
	if (strcmp(cmd, "run") == 0 && optind + 1 == argc)
		return cmd_run(&cfg, &o);
	if (strcmp(cmd, "init") == 0)
		return cmd_init(&cfg, argc - optind, argv + optind);
	if (ctl_table_find(&leader_commands, cmd))
		return ctl_remote("vxsec-keymgr", cfg.socket, argc - optind,
				  argv + optind);
	fprintf(stderr, "vxsec-keymgr: unknown command \"%s\"\n\n", cmd);
	usage(stderr);
	return LEADER_EXIT_USAGE;
}
