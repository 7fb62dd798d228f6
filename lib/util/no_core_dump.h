/*
 * no_core_dump.h - keep key material out of core dumps: the process is made non-dumpable
 * (prctl PR_SET_DUMPABLE 0), so a crash writes no core and no other user's process may ptrace it
 * or read its /proc/PID/mem. Used by mmr-controller (the SRTP keys it makes, the zone token secret,
 * ICE passwords, passcodes) and mmr-dataplane (every participant's SRTP keys and session keys,
 * in ordinary memory and in its hugepages, the DTLS private key).
 *
 * Why the whole process and not madvise(MADV_DONTDUMP) on key buffers: keys live in many places
 * (the model, the state store's buffers, request replies, OpenSSL's own copies, the dataplane's
 * hugepage-backed tables and per-worker SRTP contexts) and a missed one would be dumped; hugepage
 * memory is mapped by DPDK, not by us. MMR_ALLOW_CORE_DUMPS=1 in the environment keeps a process
 * dumpable (debugging a crash on a test machine: its cores then hold keys).
 */
#ifndef MMR_NO_CORE_DUMP_H
#define MMR_NO_CORE_DUMP_H

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

/* 0: not dumpable (or allowed by the environment: then 1); -1 (errno) if prctl failed. */
static inline int mmr_no_core_dump(void)
{
	const char *e = getenv("MMR_ALLOW_CORE_DUMPS");
	if (e && strcmp(e, "1") == 0)
		return 1;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : -1;
}

#endif
