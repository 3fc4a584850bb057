/* SPDX-License-Identifier: MIT */
/* Unit tests: what the state file tests share (a temp dir, samples, load and compare). */
#ifndef VXSEC_TEST_STATE_UTIL_H
#define VXSEC_TEST_STATE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "keymgr/state.h"

extern char dir[64];
extern const char pem[];
extern const struct rot_config cfg;
/* The cluster's revision that goes with the rotation saved. */
extern uint64_t revision;

void rnd(uint8_t *buf, size_t len, void *arg);
/* A fresh temporary directory as dir; removed by teardown. */
int setup(void **state);
int teardown(void **state);
/* dir/name (two at a time). */
const char *at(const char *name);
uint8_t *slurp(const char *path, size_t *len);
void spill(const char *path, const void *b, size_t len);
/* Files in dir. */
size_t entries(void);
void add_node(struct registry *r, int i, const char *addrs);
/* Six nodes: v4, v6, both; one rebooted, one removed; static keys; two
 * behind NAT. */
struct registry *registry_sample(void);
void extra_sample(struct state_extra *x);
/* A rotation in phase with n gens of the given phases, the last the target. */
void rot_sample(struct rotation *r, enum rot_phase phase, size_t n,
		const enum gen_phase *ph);
void assert_registry_same(struct registry *a, struct registry *b);
void assert_rot_same(const struct rotation *a, const struct rotation *b);
/* Loads dir with unlock (or the key files), compares if want is given. */
int load(const uint8_t *unlock, uint8_t key[32], struct why *why,
	 struct registry *want_reg, const struct rotation *want_rot,
	 const struct state_extra *want_x);
/* A small state saved under key: one node, one generation. */
void small_state(uint8_t key[32]);

#endif
