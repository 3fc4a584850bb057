// SPDX-License-Identifier: MIT
/* clidump_agent: vxsec-agent's flags, config keys and commands (clidump.h), from agent/main.c and agent_config.c themselves. */
#include <string.h>

#include "clidump.h"

/* Their strcmp() calls record what a probe is compared with. */
#undef strcmp
#define strcmp clidump_strcmp
#define main agent_main
int agent_main(int argc, char **argv);
#include "agent/agent_config.c"
#include "agent/main.c"
#undef main

int main(void)
{
	struct agent_config cfg;

	agent_config_defaults(&cfg);
	return clidump(&agent_cli, &cfg);
}
