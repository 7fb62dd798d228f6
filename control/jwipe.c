/*
 * jwipe.c - jansson's allocator with wiping frees (see jwipe.h). Each block carries its size in a
 * 16-byte header (16 keeps the payload aligned for any type) so that free knows what to wipe.
 */
#include "jwipe.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HDR 16

static void *wipe_malloc(size_t n)
{
	if (n > SIZE_MAX - HDR)
		return NULL;
	unsigned char *p = malloc(n + HDR);
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + HDR;
}

static void wipe_free(void *q)
{
	if (!q)
		return;
	unsigned char *p = (unsigned char *)q - HDR;
	size_t n;
	memcpy(&n, p, sizeof(n));
	explicit_bzero(p, n + HDR);
	free(p);
}

void jwipe_install(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}
