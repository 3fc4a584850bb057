// SPDX-License-Identifier: MIT
/* keymgr keys: leader-chosen SPIs; pair keys are the pairs' own (common/pairkey.c). */
#include "keys.h"

uint32_t keys_spi_slot(uint32_t generation)
{
	return 1u + generation % 255u;
}

uint32_t keys_spi(uint32_t generation, uint32_t sender_index)
{
	if (sender_index == 0 || sender_index > KEYS_INDEX_MAX)
		return 0;
	return keys_spi_slot(generation) << 24 | sender_index;
}
