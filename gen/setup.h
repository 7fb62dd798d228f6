/*
 * setup.h - programming the emulated meetings into the MMR, three ways:
 *
 *   ctl     requests to mmr-controller over its socket (the same frames mmrctl sends, lib/contract/ctl_proto.h):
 *           meeting create, participant add, stream add (codec, layers; AV1 with its --dd-ext),
 *           then sub set for every receiver whose layer targets are not the default top layers. With SRTP the controller's participant keys are
 *           read from its answers. Issue 12: the participants' RTCP feedback (--rtcp, e.g. with
 *           twcc) and header extension ids (--ext twcc=1,audio-level=4), the meetings' top-N audio
 *           (--top-n) when asked (gen_setup.rtcp_fb, ext, top_n).
 *   script  the same commands written as an `mmrctl` shell script, for a person or a script to run.
 *   ring    PUT commands pushed straight into the dataplane's command ring (lib/contract/cmd_chan.h), for
 *           measuring the dataplane alone (and subscription ids in any order, --shuffle-ids; issue 12:
 *           TWCC and audio level ids in PARTICIPANT_PUT, MEETING_PUT top_n with one slot
 *           subscription per receiver and slot instead of per-pair audio subscriptions). No
 *           controller may be attached to that dataplane: the ring has one producer, and a
 *           controller's resync would delete what it did not create.
 *
 * ctl sends its requests over one connection, pipelined (up to 64 ahead of their answers).
 *
 * The single-request client (ctl_call) and the ring producer are also used by the update driver.
 */
#ifndef MMR_GEN_SETUP_H
#define MMR_GEN_SETUP_H

#include <stddef.h>
#include <stdint.h>
#include "cmd_chan.h"
#include "model.h"
#include "srtp_fast.h"

struct gen_setup {
	const char *socket;          /* controller socket (ctl) */
	const char *shm_name;        /* dataplane segment (ring) */
	enum srtp_suite srtp;        /* SRTP_SUITE_NONE: plain */
	int shuffle_ids;             /* ring: subscription ids in random order (as after churn) */
	double wait_s;               /* ctl: wait this long for the controller and its dataplane */
	const char *rtcp_fb;         /* ctl/script: `participant add --rtcp LIST` (NULL: the default) */
	char ext[96];                /* ctl/script: `participant add --ext LIST` ("": none) */
	uint8_t top_n;               /* ctl/script/ring: `meeting create --top-n N` / MEETING_PUT (0: none) */
	uint8_t twcc_ext_id;         /* ring: participants take TWCC (fb |= MMR_FB_TWCC) with this id; 0: none */
	uint8_t level_ext_id;        /* ring: participants' audio level extension id; 0: none */
	int ice;                     /* ctl/script: `participant add --ice` (stun_checks.h credentials) */

	/* results */
	uint32_t n_subs;
	uint32_t *sub_of_flow;       /* ring: flow index -> subscription id (UINT32_MAX: none) */
	struct srtp_master *send_key;/* ctl + SRTP: per participant (what it protects with) */
	struct srtp_master *recv_key;/* ctl + SRTP: per participant (what it unprotects with) */
	uint64_t requests;
	double seconds;
};

/* One request to the controller; *body (malloc'd, NUL-terminated) gets the answer's body.
 * Returns 0 (ok), 1 (the controller answered "error: ..."; *body holds the status line) or -errno. */
int ctl_call(const char *socket, int argc, char **argv, char **body);

int setup_ctl(struct gen_setup *su, const struct gen_model *m);
int setup_script(const struct gen_setup *su, const struct gen_model *m, const char *path);
int setup_ring(struct gen_setup *su, const struct gen_model *m, struct cmd_chan *ch);
void setup_free(struct gen_setup *su);

/* The layer targets of receiver p's subscription to stream s (target_tid/sid/dt) in a SUB_PUT. */
void gen_sub_targets(const struct gen_model *m, uint32_t p, const struct gen_stream *s, struct mmr_cmd_sub *c);

/* Ring producer: push one command, waiting while the ring is full (at most timeout_ms). */
int ring_push_wait(struct cmd_chan *ch, struct mmr_cmd *c, unsigned timeout_ms);
/* Wait until the dataplane has applied everything pushed (head == tail); 0 or -ETIMEDOUT. */
int ring_wait_applied(struct cmd_chan *ch, unsigned timeout_ms);

#endif
