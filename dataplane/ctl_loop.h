/*
 * ctl_loop.h - the control thread (EAL main lcore): consumes the command ring, publishes table
 * changes, keeps the heartbeats and port counters in the shared segment, logs status lines.
 */
#ifndef MMR_DP_CTL_LOOP_H
#define MMR_DP_CTL_LOOP_H

struct dataplane;
struct cmd_apply;

/* Publish the wall clock for the lcores' RTCP (dp->ntp, ntp_time.h): a (TSC, Unix time) pair
 * read together. Before the lcores start, then about once a second from ctl_loop_run. */
void ctl_publish_ntp(struct dataplane *dp);

/* Runs until dp->stop is set. The calling thread must be a registered RCU reader, offline. */
void ctl_loop_run(struct dataplane *dp, struct cmd_apply *ca);

#endif
