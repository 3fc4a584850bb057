// SPDX-License-Identifier: MIT
/* vxsec-keymgr: command line — the daemon (run, init) and the operator's commands over the control socket. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "common/ctl.h"
#include "common/log.h"
#include "leader.h"
#include "state.h"

_Static_assert(LEADER_EXIT_USAGE == CTL_USAGE && LEADER_EXIT_FAIL == CTL_FAIL,
	       "cli_main() exits with the leader's codes");

static const char usage_head[] =
	"usage: vxsec-keymgr [OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"The vxsec leader: the cluster CA, key generations (epoch secrets\n"
	"from which each node pair derives its own AES-GCM keys, which the\n"
	"leader cannot), and rotation without packet loss.\n"
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
	"      --store file|etcd    [store] where the state is, default file;\n"
	"                           etcd: instances elect a leader there\n"
	"      --etcd-endpoints L   [etcd_endpoints] a:2379,b:2379,c:2379\n"
	"      --etcd-prefix P      [etcd_prefix] default " LEADER_ETCD_PREFIX
	"\n"
	"      --etcd-ca FILE       [etcd_ca] etcd over TLS: the CAs (PEM) of\n"
	"                           etcd's server certificates\n"
	"      --etcd-cert FILE     [etcd_cert] with --etcd-key: a client\n"
	"                           certificate (PEM) for etcd's\n"
	"                           --client-cert-auth\n"
	"      --etcd-key FILE      [etcd_key] its key (PEM, mode 0600)\n"
	"      --lease-ttl D        [lease_ttl] the leader's lease, default "
	"5s\n"
	"      --instance NAME      [instance] default the host name\n"
	"      --leaders L          [leaders] every instance, a:7120,b:7120:\n"
	"                           token show prints it for the agents\n"
	"      --metrics-listen A   [metrics_listen] serve GET /metrics over\n"
	"                           HTTP at ADDRESS:PORT (127.0.0.1:7121),\n"
	"                           default off\n"
	"  -v, --verbose            [verbose] debug logs\n"
	"  -h, --help, --version\n"
	"Durations: 500ms, 30s, 5m, 12h, 1d.\n"
	"\n"
	"Exit codes: 0 ok, 1 failure, 2 usage or config error, 3 the state\n"
	"cannot be opened or made (damaged, modified, wrong or missing unlock\n"
	"key; with store = etcd, the cluster in etcd unusable by this\n"
	"instance), 69 the leader is not running, 77 permission denied.\n";

/* What the command line configures: the leader, and how to unlock it. */
struct cmdline {
	struct leader_config cfg;
	const char *unlock_file; /* --unlock-key-file */
};

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
	{ "store", required_argument, NULL, 'S' },
	{ "etcd-endpoints", required_argument, NULL, 'E' },
	{ "etcd-prefix", required_argument, NULL, 'X' },
	{ "etcd-ca", required_argument, NULL, 'a' },
	{ "etcd-cert", required_argument, NULL, 'e' },
	{ "etcd-key", required_argument, NULL, 'k' },
	{ "lease-ttl", required_argument, NULL, 'T' },
	{ "instance", required_argument, NULL, 'i' },
	{ "leaders", required_argument, NULL, 'Z' },
	{ "metrics-listen", required_argument, NULL, 'M' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 }
};

static int cfg_set(void *arg, const char *key, const char *val, struct why *why)
{
	struct cmdline *m = arg;

	return leader_config_set(&m->cfg, key, val, why);
}

/* The flag that is no setting: --unlock-key-file. */
static int cfg_flag(void *arg, int c, const char *val)
{
	struct cmdline *m = arg;

	if (c != 'U')
		return -ENOENT;
	m->unlock_file = val;
	return 0;
}

/* One line holding VXSEC-UNLOCK-...; "-" reads standard input. *key in
 * sodium memory (leader_unlock_key_free), or NULL and -errno. */
static int read_unlock(const char *file, uint8_t **key)
{
	char line[256];
	FILE *f = strcmp(file, "-") != 0 ? fopen(file, "re") : stdin;
	struct why why = { "the file is empty" };
	int err = -EINVAL;

	*key = NULL;
	if (!f) {
		fprintf(stderr, "vxsec-keymgr: %s: %s\n", file,
			strerror(errno));
		return -errno;
	}
	if (fgets(line, sizeof(line), f))
		err = leader_unlock_key_parse(line, key, &why);
	sodium_memzero(line, sizeof(line));
	if (f != stdin)
		fclose(f);
	if (err)
		fprintf(stderr,
			"vxsec-keymgr: %s does not hold an unlock key "
			"(VXSEC-UNLOCK-...): %s\n",
			file, why.msg);
	return err;
}

static int cmd_run(const struct leader_config *cfg, const char *unlock_file)
{
	uint8_t *key = NULL;
	struct leader *l;
	struct why why = { "" };
	int code;

	if (unlock_file && read_unlock(unlock_file, &key))
		return LEADER_EXIT_STATE;
	l = leader_new(cfg, key, &code, &why);
	leader_unlock_key_free(key);
	if (!l) {
		log_err("cannot start: %s", why.msg);
		return code;
	}
	code = leader_run(l) ? LEADER_EXIT_FAIL : leader_exit_code(l);
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

static int command(const struct cli *c, void *arg, int argc, char **argv)
{
	struct cmdline *m = arg;

	log_init("vxsec-keymgr", m->cfg.verbose ? LOG_DEBUG : LOG_INFO);
	if (strcmp(argv[0], "run") == 0 && argc == 1)
		return cmd_run(&m->cfg, m->unlock_file);
	if (strcmp(argv[0], "init") == 0)
		return cmd_init(&m->cfg, argc, argv);
	return cli_remote(c, m->cfg.socket, argc, argv);
}

static const struct cli leader_cli = {
	.usage_head = usage_head,
	.usage_tail = usage_tail,
	.commands = &leader_commands,
	.config = LEADER_CONFIG,
	/* "+": options end at the command; its own flags follow it. */
	.shortopts = "+c:d:s:l:vh",
	.longopts = longs,
	.set = cfg_set,
	.flag = cfg_flag,
	.command = command,
};

int main(int argc, char **argv)
{
	struct cmdline m = { 0 };

	leader_config_defaults(&m.cfg);
	return cli_main(&leader_cli, &m, argc, argv);
}
