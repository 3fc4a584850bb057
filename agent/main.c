// SPDX-License-Identifier: MIT
/* vxsec-agent: command line — the daemon (run) and the operator's commands over its control socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agentd.h"
#include "common/cli.h"
#include "common/ctl.h"
#include "common/log.h"

_Static_assert(AGENT_EXIT_USAGE == CTL_USAGE && AGENT_EXIT_FAIL == CTL_FAIL,
	       "cli_main() exits with the agent's codes");

static const char usage_head[] =
	"usage: vxsec-agent [OPTIONS] COMMAND\n"
	"\n"
	"The vxsec node agent: joins the cluster, and keeps this kernel's\n"
	"IPsec SAs and policies for VXLAN equal to what the leader says.\n"
	"\n"
	"Daemon:\n"
	"  run              join (first start, with --token-file) and serve\n"
	"                   in the foreground; needs CAP_NET_ADMIN\n"
	"Commands (to the running agent, over its control socket):\n";

/* The commands in between come from agent_commands. */
static const char usage_tail[] =
	"\n"
	"Options (config file keys in brackets):\n"
	"  -c, --config FILE         default " AGENT_CONFIG "\n"
	"  -L, --leader ADDR:PORT[,ADDR:PORT...]\n"
	"                            [leader] the leader, e.g. 10.0.0.1:7120,\n"
	"                            or its instances (up to 8) in turn\n"
	"  -n, --node-id ID          [node_id] default: the short host name\n"
	"  -a, --address IP          [address] this node's underlay address\n"
	"                            (repeat for IPv4 and IPv6)\n"
	"  -t, --token-file FILE     [token_file] the join token (first "
	"start)\n"
	"  -d, --state-dir DIR       [state_dir] default " AGENT_STATE_DIR "\n"
	"  -s, --socket PATH         [socket] default " AGENT_SOCKET "\n"
	"      --reqid N             [reqid] marks our SAs and policies\n"
	"                            (default 30328); others are never "
	"touched\n"
	"      --vxlan-port N        [vxlan_port] default 4789\n"
	"      --replay-window N     [replay_window] packets, default 1024\n"
	"      --catchall yes|no     [catchall] default yes: no cleartext\n"
	"                            VXLAN to or from any non-member (lower\n"
	"                            priority than pairs); no only for hosts\n"
	"                            carrying another VXLAN on the same port\n"
	"      --underlay-cidr NET[,NET...]\n"
	"                            [underlay_cidr] narrow the catch-all to\n"
	"                            these prefixes (default 0.0.0.0/0, ::/0)\n"
	"      --nat auto|yes|no     [nat] behind NAT: ESP in UDP for its\n"
	"                            pairs (default auto: as the leader sees)\n"
	"      --nat-public-address IP\n"
	"                            [nat_public_address] with --nat yes\n"
	"      --nat-port N          [nat_port] ESP in UDP, default 4500\n"
	"      --nat-keepalive D     [nat_keepalive] default 20s\n"
	"      --sa-lifetime D       [sa_lifetime] default none: a hard SA\n"
	"                            lifetime (soft at 90% asks to rotate);\n"
	"                            a leader away longer fails pairs closed\n"
	"      --resync-interval D   [resync_interval] default 60s\n"
	"      --static-key-lifetime D\n"
	"                            [static_key_lifetime] default 24h: a new\n"
	"                            X25519 key this often\n"
	"      --vxlan               [vxlan] manage the VXLAN device too\n"
	"      --vxlan-device NAME   [vxlan_device] default vxsec0\n"
	"      --vni N               [vni] default 4242\n"
	"      --mtu N               [mtu] default: underlay MTU minus the\n"
	"                            exact ESP and VXLAN overhead\n"
	"      --boot-id-file FILE   [boot_id_file] default " AGENT_BOOT_ID "\n"
	"      --metrics-listen ADDR:PORT\n"
	"                            [metrics_listen] serve GET /metrics over\n"
	"                            HTTP (127.0.0.1:7122), default off\n"
	"  -v, --verbose             [verbose] debug logs\n"
	"  -h, --help, --version\n"
	"Durations: 500ms, 30s, 5m, 12h, 1d.\n"
	"\n"
	"Exit codes: 0 ok, 1 failure, 2 usage or config error, 3 this node\n"
	"was removed from the cluster, 69 the agent is not running, 77\n"
	"permission denied (CAP_NET_ADMIN, or the control socket).\n";

static const struct option longs[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "leader", required_argument, NULL, 'L' },
	{ "node-id", required_argument, NULL, 'n' },
	{ "address", required_argument, NULL, 'a' },
	{ "token-file", required_argument, NULL, 't' },
	{ "state-dir", required_argument, NULL, 'd' },
	{ "socket", required_argument, NULL, 's' },
	{ "reqid", required_argument, NULL, 'R' },
	{ "vxlan-port", required_argument, NULL, 'P' },
	{ "replay-window", required_argument, NULL, 'W' },
	{ "underlay-cidr", required_argument, NULL, 'C' },
	{ "catchall", required_argument, NULL, 'Y' },
	{ "nat", required_argument, NULL, 'A' },
	{ "nat-public-address", required_argument, NULL, 'U' },
	{ "nat-port", required_argument, NULL, 'O' },
	{ "nat-keepalive", required_argument, NULL, 'E' },
	{ "sa-lifetime", required_argument, NULL, 'T' },
	{ "resync-interval", required_argument, NULL, 'I' },
	{ "static-key-lifetime", required_argument, NULL, 'K' },
	{ "vxlan", no_argument, NULL, 'X' },
	{ "vxlan-device", required_argument, NULL, 'D' },
	{ "vni", required_argument, NULL, 'N' },
	{ "mtu", required_argument, NULL, 'M' },
	{ "boot-id-file", required_argument, NULL, 'B' },
	{ "metrics-listen", required_argument, NULL, 'H' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 }
};

static int cfg_set(void *arg, const char *key, const char *val, struct why *why)
{
	return agent_config_set(arg, key, val, why);
}

static int cmd_run(const struct agent_config *cfg)
{
	struct agent *a;
	struct why why = { "" };
	int code;

	if (agent_config_check(cfg, &why)) {
		fprintf(stderr, "vxsec-agent: %s\n", why.msg);
		return AGENT_EXIT_USAGE;
	}
	a = agent_new(cfg, &why);
	if (!a) {
		log_err("cannot start: %s", why.msg);
		if (errno == EPERM)
			return AGENT_EXIT_NOPERM;
		return errno == ENOKEY ? AGENT_EXIT_USAGE : AGENT_EXIT_FAIL;
	}
	code = agent_run(a);
	agent_free(a);
	return code;
}

static int command(const struct cli *c, void *arg, int argc, char **argv)
{
	struct agent_config *cfg = arg;

	log_init("vxsec-agent", cfg->verbose ? LOG_DEBUG : LOG_INFO);
	if (strcmp(argv[0], "run") == 0 && argc == 1)
		return cmd_run(cfg);
	return cli_remote(c, cfg->socket, argc, argv);
}

static const struct cli agent_cli = {
	.usage_head = usage_head,
	.usage_tail = usage_tail,
	.commands = &agent_commands,
	.config = AGENT_CONFIG,
	.shortopts = "+c:L:n:a:t:d:s:vh",
	.longopts = longs,
	.set = cfg_set,
	.command = command,
};

int main(int argc, char **argv)
{
	struct agent_config cfg;

	agent_config_defaults(&cfg);
	return cli_main(&agent_cli, &cfg, argc, argv);
}
