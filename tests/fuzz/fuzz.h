/* SPDX-License-Identifier: MIT */
/* The fuzz targets: one per parser, run by libFuzzer (entry.c) and by replay.c. */
#ifndef VXSEC_FUZZ_H
#define VXSEC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Each returns 0 and abort()s when a property of its parser breaks. */
int fuzz_frame(const uint8_t *data, size_t size);
int fuzz_state_body(const uint8_t *data, size_t size);
int fuzz_config_line(const uint8_t *data, size_t size);
int fuzz_ctl_request(const uint8_t *data, size_t size);
int fuzz_conn(const uint8_t *data, size_t size);
int fuzz_xfrm_reply(const uint8_t *data, size_t size);
int fuzz_agent_wire(const uint8_t *data, size_t size);
int fuzz_static_key(const uint8_t *data, size_t size);
int fuzz_http_response(const uint8_t *data, size_t size);
int fuzz_json(const uint8_t *data, size_t size);
int fuzz_etcd_reply(const uint8_t *data, size_t size);
int fuzz_records(const uint8_t *data, size_t size);
int fuzz_http_request(const uint8_t *data, size_t size);
int fuzz_natprobe(const uint8_t *data, size_t size);

/* libFuzzer's entry point: entry.c maps it to FUZZ_TARGET. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
