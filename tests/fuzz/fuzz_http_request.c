// SPDX-License-Identifier: MIT
/* Fuzz target: an HTTP request head through common/httpd.c's httpd_request_status, in a buffer of its exact size. */
#include <stdlib.h>
#include <string.h>

#include "common/httpd.h"
#include "tests/fuzz/fuzz.h"

int fuzz_http_request(const uint8_t *data, size_t size)
{
	char *head = malloc(size ? size : 1); /* no NUL: reads stop at size */
	int st;

	if (!head)
		return 0;
	memcpy(head, data, size);
	st = httpd_request_status(head, size, "/metrics");
	if (st != 200 && st != 400 && st != 404 && st != 405 && st != 505)
		abort();
	/* The page goes only to GET /metrics[?...] HTTP/1.x. */
	if (st == 200 && (size < 21 || memcmp(head, "GET /metrics", 12) != 0 ||
			  (head[12] != ' ' && head[12] != '?')))
		abort();
	/* No control character but CR, LF and tab reaches a 200. */
	for (size_t i = 0; st == 200 && i < size; i++)
		if ((unsigned char)head[i] < ' ' && !strchr("\r\n\t", head[i]))
			abort();
	free(head);
	return 0;
}
