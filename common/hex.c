// SPDX-License-Identifier: MIT
/* Hex digits, for the parsers that read them (URL escapes, chunk sizes, keys on a command line). */
#include "hex.h"

int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
