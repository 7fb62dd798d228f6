/*
 * jwipe.h - jansson's allocator, hooked so that every block jansson frees is wiped first
 * (explicit_bzero): JSON that passes through the controller's HTTP API may carry SRTP keys (the
 * replies of participant add/keys/rekey) and tokens, and none of it may stay behind in freed memory,
 * as mmrctl's and the socket path's buffers are wiped today.
 *
 * jwipe_install() must run before the first jansson call (jansson requires the allocator to be set
 * before any JSON value exists); it is idempotent.
 */
#ifndef MMR_CTL_JWIPE_H
#define MMR_CTL_JWIPE_H

void jwipe_install(void);

#endif
