/*
 * ntp_time.h - wall-clock time on the lcores without a syscall: NTP 64-bit timestamps (RFC 3550 4:
 * seconds since 1900 in the high 32 bits, fraction in the low 32) from the TSC.
 *
 * A writer (the dataplane's control thread, about once a second) publishes a pair (tsc0, unix_ns0)
 * read at the same moment, with the TSC frequency, into a struct ntp_clock; readers (the lcores)
 * convert any TSC value into Unix nanoseconds or NTP time from it. Publication is a seqlock: the
 * reader copies the three fields between two reads of an even, unchanged sequence word and retries
 * otherwise (the writer holds the word odd for a few stores only, about once a second): no lock, no
 * syscall, no write by the reader. One writer at a time.
 *
 * Also the RTCP time units: the "middle 32 bits" of an NTP timestamp (LSR, RFC 3550 6.4.1) and
 * DLSR / RTT in units of 1/65536 s.
 *
 * Header only, no DPDK: the controller side (lib/contract, lib/util only) may include it.
 */
#ifndef MMR_NTP_TIME_H
#define MMR_NTP_TIME_H

#include <stdint.h>

#define NTP_UNIX_OFFSET 2208988800ull    /* seconds from 1900-01-01 to 1970-01-01 */
#define NTP_NS_PER_S    1000000000ull

/* The published pair. Zero-initialised: not published yet (ntp_clock_read returns 0). */
struct ntp_clock {
	uint32_t seq;          /* odd while the writer changes the fields */
	uint32_t pad;
	uint64_t tsc0;         /* a TSC value ... */
	uint64_t unix_ns0;     /* ... and the Unix time in ns at that moment */
	uint64_t tsc_hz;       /* TSC ticks per second */
};

/* A reader's consistent copy. */
struct ntp_snap {
	uint64_t tsc0, unix_ns0, tsc_hz;
};

/* Writer: publish a new pair (tsc and unix_ns taken together; tsc_hz > 0). */
static inline void ntp_clock_publish(struct ntp_clock *c, uint64_t tsc, uint64_t unix_ns, uint64_t tsc_hz)
{
	uint32_t s = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&c->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&c->tsc0, tsc, __ATOMIC_RELAXED);
	__atomic_store_n(&c->unix_ns0, unix_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&c->tsc_hz, tsc_hz, __ATOMIC_RELAXED);
	__atomic_store_n(&c->seq, s + 2, __ATOMIC_RELEASE);
}

/* Reader: a consistent copy of the pair. Returns 1, or 0 when nothing was published yet (*snap
 * zeroed). Lock-free; retries only while a publication is in progress. */
static inline int ntp_clock_read(const struct ntp_clock *c, struct ntp_snap *snap)
{
	uint32_t s1, s2;

	for (;;) {
		s1 = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
			continue;
		}
		snap->tsc0 = __atomic_load_n(&c->tsc0, __ATOMIC_RELAXED);
		snap->unix_ns0 = __atomic_load_n(&c->unix_ns0, __ATOMIC_RELAXED);
		snap->tsc_hz = __atomic_load_n(&c->tsc_hz, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return snap->tsc_hz != 0;
	}
}

/* ticks * num / den without overflow for ticks up to 2^64 and num, den below 2^32 * 2^31. */
static inline uint64_t ntp_scale(uint64_t ticks, uint64_t num, uint64_t den)
{
	return (uint64_t)((unsigned __int128)ticks * num / den);
}

/* Unix time in ns at TSC value tsc (before or after tsc0). 0 without a published pair. */
static inline uint64_t ntp_unix_ns(const struct ntp_snap *s, uint64_t tsc)
{
	if (!s->tsc_hz)
		return 0;
	if (tsc >= s->tsc0)
		return s->unix_ns0 + ntp_scale(tsc - s->tsc0, NTP_NS_PER_S, s->tsc_hz);
	return s->unix_ns0 - ntp_scale(s->tsc0 - tsc, NTP_NS_PER_S, s->tsc_hz);
}

/* NTP 32.32 from Unix ns. */
static inline uint64_t ntp_from_unix_ns(uint64_t unix_ns)
{
	uint64_t sec = unix_ns / NTP_NS_PER_S, ns = unix_ns % NTP_NS_PER_S;

	return (sec + NTP_UNIX_OFFSET) << 32 | ((ns << 32) / NTP_NS_PER_S);
}

/* Unix ns from NTP 32.32 (times after 1970). */
static inline uint64_t ntp_to_unix_ns(uint64_t ntp)
{
	uint64_t sec = (ntp >> 32) - NTP_UNIX_OFFSET;

	return sec * NTP_NS_PER_S + (((ntp & 0xffffffffull) * NTP_NS_PER_S + (1ull << 31)) >> 32);
}

/* NTP time at TSC value tsc; 0 without a published pair. */
static inline uint64_t ntp_from_tsc(const struct ntp_snap *s, uint64_t tsc)
{
	return s->tsc_hz ? ntp_from_unix_ns(ntp_unix_ns(s, tsc)) : 0;
}

/* The lcores' one call: NTP time now (tsc = rte_rdtsc()) from the published clock. */
static inline uint64_t ntp_now(const struct ntp_clock *c, uint64_t tsc)
{
	struct ntp_snap s;

	return ntp_clock_read(c, &s) ? ntp_from_tsc(&s, tsc) : 0;
}

/* The middle 32 bits of an NTP timestamp (16.16 seconds): an SR's LSR, RTT arithmetic. */
static inline uint32_t ntp_middle32(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

/* A TSC interval in 1/65536 s (DLSR), saturating at 2^32 - 1. */
static inline uint32_t ntp_dlsr_from_tsc(uint64_t dtsc, uint64_t tsc_hz)
{
	uint64_t u = ntp_scale(dtsc, 65536, tsc_hz);

	return u > 0xffffffffull ? 0xffffffffu : (uint32_t)u;
}

/* 1/65536 s units to microseconds (rounded). */
static inline uint64_t ntp_units_to_us(uint32_t units)
{
	return ((uint64_t)units * 1000000ull + 32768) >> 16;
}

/* RTT from a report block (RFC 3550 6.4.1): arrival = middle 32 bits of our NTP time when the
 * report came, lsr/dlsr from the block. Returns the RTT in microseconds, or -1 when the block has no
 * LSR (0) or the result is negative or above 60 s (a bogus block). */
static inline int64_t ntp_rtt_us(uint32_t arrival_mid, uint32_t lsr, uint32_t dlsr)
{
	uint32_t rtt;

	if (lsr == 0)
		return -1;
	rtt = arrival_mid - lsr - dlsr;
	if ((int32_t)rtt < 0 || rtt > 60u * 65536u)
		return -1;
	return (int64_t)ntp_units_to_us(rtt);
}

#endif
