/*
 * meeting_owner.h - the control thread's side of ownership by meeting (owner.h): placing a meeting
 * on the least loaded worker lcore when its first participant is put, and moving a live meeting to
 * another worker with no packet lost, duplicated or reordered (docs/dataplane.md, "Moving a
 * meeting"). Load = the number of participants of the meetings a worker owns. Control thread only.
 */
#ifndef MMR_DP_MEETING_OWNER_H
#define MMR_DP_MEETING_OWNER_H

#include <stddef.h>
#include <stdint.h>

struct dataplane;
struct meeting_owner;

/* NULL on allocation failure. Every meeting starts unplaced. */
struct meeting_owner *meeting_owner_new(struct dataplane *dp);
void meeting_owner_free(struct meeting_owner *mo);

/* A participant of `meeting` is created: the meeting's first one places it (before the participant's
 * node is published, so no worker sees the participant without an owner). */
void meeting_owner_join(struct meeting_owner *mo, uint32_t meeting);
/* A participant of `meeting` is deleted: the last one leaves the meeting unplaced for the controller
 * (its next first participant places it again). */
void meeting_owner_leave(struct meeting_owner *mo, uint32_t meeting);

/*
 * Start moving `meeting` to worker `to` (an index < n_workers): 1 when started (then call
 * meeting_owner_move_poll until it returns 0; a grace period and two handshakes with the workers,
 * microseconds to a few ms), 0 when it is already there, -1 with the reason in err (nothing changed):
 * no participant of that meeting here, worker index out of range. One move at a time.
 */
int meeting_owner_move_start(struct meeting_owner *mo, uint32_t meeting, uint32_t to, char *err, size_t errlen);
/* Advance the move in progress; 1 while it is not done, 0 once it is (or none was in progress). */
int meeting_owner_move_poll(struct meeting_owner *mo);

/* Participants per worker, and moves done (status line). */
void meeting_owner_load(const struct meeting_owner *mo, uint32_t *load, unsigned n, uint64_t *moves);

#endif
