// SPDX-License-Identifier: MIT
/* Unit tests: the node id rule (proto/node_id.h): which ids pass, the length boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pki.h"
#include "proto/node_id.h"

/* A certificate's CN is the node id: pki_node_id() takes the same length. */
_Static_assert(PKI_NODE_ID_MAX == NODE_ID_MAX,
	       "a node id must fit a certificate's CN as pki reads it");

/* Ids as an operator might write them, and what the rule says of each. */
static void test_examples(void **state)
{
	static const struct {
		const char *id;
		bool ok;
	} ex[] = {
		{ "a", true },
		{ "0", true },
		{ ".", true },
		{ "-", true },
		{ "node-1", true },
		{ "Node_3.example", true },
		{ "vxsec-leader", true }, /* refused by the leader, not here */
		{ "..", true },
		{ "", false },
		{ "node 1", false },
		{ "node/1", false },
		{ "node:1", false },
		{ "n\303\266de", false }, /* UTF-8 */
		{ "a\tb", false },
		{ "a\nb", false },
		{ " a", false },
		{ "a@b", false },
		{ "node,1", false },
		{ "a\\b", false },
		{ "a\x7f", false },
		{ "\xff", false },
	};

	(void)state;
	assert_false(node_id_valid(NULL));
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		print_message("\"%s\"\n", ex[i].id);
		assert_int_equal(node_id_valid(ex[i].id), ex[i].ok);
		if (ex[i].ok)
			assert_int_equal(node_id_span(ex[i].id),
					 strlen(ex[i].id));
	}
	/* The first character that is not ours is named by its place. */
	assert_int_equal(node_id_span("node 1"), 4);
	assert_int_equal(node_id_span("n\303\266de"), 1);
	assert_int_equal(node_id_span(""), 0);
}

/* Every byte alone: exactly [A-Za-z0-9._-] passes. */
static void test_every_character(void **state)
{
	char id[2] = "";
	int n = 0;

	(void)state;
	for (int c = 1; c < 256; c++) {
		bool want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			    c == '-';

		id[0] = (char)c;
		assert_int_equal(node_id_valid(id), want);
		n += want;
	}
	assert_int_equal(n, 26 + 26 + 10 + 3);
}

/* 64 characters pass, 65 do not; a full buffer without a NUL is too long
 * and is not read past (ASan watches). */
static void test_length_boundary(void **state)
{
	char id[NODE_ID_MAX + 2];
	char *unterminated;

	(void)state;
	assert_int_equal(NODE_ID_MAX, 64);
	memset(id, 'x', sizeof(id));
	id[NODE_ID_MAX] = '\0';
	assert_true(node_id_valid(id));
	id[NODE_ID_MAX - 1] = ' ';
	assert_false(node_id_valid(id));
	id[NODE_ID_MAX - 1] = 'x';
	id[NODE_ID_MAX] = 'x';
	id[NODE_ID_MAX + 1] = '\0';
	assert_false(node_id_valid(id));
	unterminated = malloc(NODE_ID_MAX + 1);
	assert_non_null(unterminated);
	memset(unterminated, 'x', NODE_ID_MAX + 1);
	assert_false(node_id_valid(unterminated));
	free(unterminated);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_every_character),
		cmocka_unit_test(test_length_boundary),
	};

	return cmocka_run_group_tests_name("node_id", tests, NULL, NULL);
}
