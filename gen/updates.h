/*
 * updates.h - table updates issued while traffic flows, and their effect on the wire.
 *
 * Each update changes the output SSRC of one subscription (`sub set M R --ssrc S --target T
 * --out-ssrc X`, or the same SUB_PUT straight into the command ring), alternating between the
 * stream's SSRC and that SSRC with GEN_SSRC_ALT_BIT. Its effect is immediate and unambiguous: the
 * first copy of that stream to that receiver carrying the new SSRC. The time from issuing the
 * request to receiving that copy is the update's effect time (it includes waiting for the
 * stream's next packet). A touched flow gets its next update only after the previous one took
 * effect, so every update is measured. Touched flows are audio subscriptions of receivers that
 * the dataplane reaches through port 0 (back to us); every other flow counts as untouched, and
 * its losses during the updates are the "update_lost_packets".
 *
 * Two paths: UPD_CTL (through mmr-controller, up to `inflight` requests at a time on
 * non-blocking sockets, so the generator keeps polling) and UPD_RING (the dataplane's command
 * ring, after a ring set-up). With the ring, `bulk` adds every subscription of the receivers that
 * do not come back to us as unmeasured targets (the same SUB_PUT, alternating their out SSRC): a
 * flow can only take one measured update per packet it carries, bulk targets keep the ring full.
 *
 * `targets_only` (ring): every update changes the subscription's temporal target instead (bit 0
 * toggled, out SSRC kept), the change a bandwidth allocator makes; no effect is measured (nothing on
 * the wire says it), every target is issued as fast as the ring takes it.
 */
#ifndef MMR_GEN_UPDATES_H
#define MMR_GEN_UPDATES_H

#include <stdint.h>
#include "cmd_chan.h"
#include "latency_hist.h"
#include "model.h"
#include "rx_track.h"
#include "setup.h"

enum upd_mode { UPD_NONE = 0, UPD_CTL, UPD_RING };

struct upd_target {
	uint32_t flow;
	uint32_t stream;
	uint32_t part;            /* receiver */
	uint32_t sub_id;          /* ring mode */
	uint8_t  alt;             /* the SSRC variant the last update asked for */
	uint8_t  pending;
	uint8_t  bulk;            /* not measured (its copies do not come back to us) */
	uint8_t  pad;
	uint16_t conn;            /* ctl mode: connection slot carrying it */
	uint64_t t_req;
	uint64_t t_issue_next;    /* not before this TSC (pacing per flow) */
};

struct upd_conn;

struct updates {
	enum upd_mode mode;
	const struct gen_model *m;
	const char *socket;
	struct cmd_chan *ring;
	double rate;              /* updates per second in total, 0 = as fast as possible */
	uint32_t inflight;        /* ctl: concurrent requests */
	uint64_t tsc_hz;
	uint64_t timeout_cycles;  /* an update whose effect is not seen within this is counted and retried */

	uint32_t n_targets;       /* measured targets first, then bulk ones */
	uint8_t  targets_only;    /* ring: change targets, not out SSRCs (set after updates_init) */
	uint32_t n_measured;
	struct upd_target *t;
	uint32_t cursor;
	struct upd_conn *conns;
	uint64_t next_issue_tsc;
	uint64_t last_poll_tsc;
	int active;               /* issuing (inside the measurement window) */

	/* results of the window */
	uint64_t issued, issued_bulk, effects, timeouts, ctl_errors, ring_full;
	uint64_t ctl_answers;     /* ctl: answers received ("ok") */
	struct latency_hist effect;   /* TSC cycles from request to the first copy showing it */
	struct latency_hist answer;   /* ctl: TSC cycles from request to the controller's answer */
};

/* Choose up to n_flows touched flows and hook into the receive tracker. */
int updates_init(struct updates *u, enum upd_mode mode, const struct gen_model *m, struct rx_track *rx,
		 const struct gen_setup *su, uint32_t n_flows, int bulk, double rate, uint32_t inflight,
		 const char *socket, struct cmd_chan *ring, uint64_t tsc_hz);
void updates_free(struct updates *u);
void updates_window_start(struct updates *u);
/* Issue what is due and collect answers; called from the generator's loop. */
void updates_poll(struct updates *u, uint64_t now);
/* Stop issuing (the window ended). */
void updates_stop(struct updates *u);

#endif
