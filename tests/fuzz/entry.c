// SPDX-License-Identifier: MIT
/* libFuzzer's entry point, built once per target with -DFUZZ_TARGET=fuzz_<name>. */
#include "tests/fuzz/fuzz.h"

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET=fuzz_<name>"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return FUZZ_TARGET(data, size);
}
