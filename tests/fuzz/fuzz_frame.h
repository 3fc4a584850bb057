/* SPDX-License-Identifier: MIT */
/* Fuzz target of the frame decoder + validator (libFuzzer entry point). */
#ifndef VXSEC_FUZZ_FRAME_H
#define VXSEC_FUZZ_FRAME_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
