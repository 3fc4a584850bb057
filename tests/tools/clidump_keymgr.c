// SPDX-License-Identifier: MIT
/* clidump_keymgr: vxsec-keymgr's flags, config keys and commands (clidump.h), from keymgr/main.c and leader_config.c themselves. */
#include <string.h>

#include "clidump.h"

/* Their strcmp() calls record what a probe is compared with. */
#undef strcmp
#define strcmp clidump_strcmp
#define main keymgr_main
int keymgr_main(int argc, char **argv);
#include "keymgr/leader_config.c"
#include "keymgr/main.c"
#undef main

int main(void)
{
	struct cmdline m = { 0 };

	leader_config_defaults(&m.cfg);
	return clidump(&leader_cli, &m);
}
