/*
 * zone_controls.h - a meeting's access controls follow it across the zone (issue 16). Keys under
 * /mmr/zone/ (docs/interfaces.md), no lease (they outlive hosts; deleted once the meeting ends):
 *   controls/<meeting>         {"waiting_room","self_unmute","share","max_sharers","locked","passcode"}:
 *                              put by the meeting's home whenever they change; "passcode": the record
 *                              sealed (zone_seal.h), null (none), or true (one, but no secret_file)
 *   bans/<meeting>/<identity>  "1": ejected (put by whichever host ejected it)
 * Every other copy (carrier, failover target) applies them; when they cannot be known or applied
 * (no record, a passcode it cannot unseal) its waiting room is on (closed).
 */
#ifndef MMR_CTL_ZONE_CONTROLS_H
#define MMR_CTL_ZONE_CONTROLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_ctx;
struct etcd;
struct zctl;
typedef bool (*zctl_run_fn)(void *arg, int argc, char **argv);

/* secret: the zone secret (NULL or len 0: none). off: MMR_TEST_ZONE_NO_CONTROLS (nothing written). */
struct zctl *zctl_open(struct ctl_ctx *ctx, struct etcd *etcd, const uint8_t *secret, size_t secret_len,
		       zctl_run_fn run, void *run_arg, bool off);
void zctl_close(struct zctl *c);
/* A read of the prefix: begin, every key, end. */
void zctl_snap_begin(struct zctl *c);
void zctl_snap_key(struct zctl *c, const char *rest, const char *val);
/* A copy of meeting not set up by its home here was just created: the record applied, or closed. */
void zctl_created(struct zctl *c, const char *meeting);
/* Each local meeting after a read: home writes its record and bans; others apply changes. */
void zctl_meeting(struct zctl *c, const char *meeting, bool home);
/* Keys of meetings that are not placed any more (placed(arg, id) false) deleted. */
void zctl_sweep(struct zctl *c, bool (*placed)(void *arg, const char *meeting), void *arg);

#endif
