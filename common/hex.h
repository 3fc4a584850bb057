/* SPDX-License-Identifier: MIT */
/* Hex digits, for the parsers that read them (URL escapes, chunk sizes, keys on a command line). */
#ifndef VXSEC_HEX_H
#define VXSEC_HEX_H

/* The value of one hex digit (either case), or -1. */
int hex_value(char c);

#endif
