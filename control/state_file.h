/*
 * state_file.h - the controller's state on disk, in readable lines: every meeting, participant,
 * stream and subscription with its id, so that a restarted controller programs the dataplane with
 * the same ids (forwarding state and per-stream counters keep their slots). The same lines serve
 * the snapshot (this file) and the records of the journal that follows it (state_store.h).
 *
 * Snapshot:
 *   mmr-state 7
 *   journal GEN                               the generation of the journal that follows it
 *   state_id ID TOKEN CHANGES                 the state's lineage (below), before the meetings
 *   srtp_ledger ID REKEYED                    optional, before the meetings (below)
 *   meeting ID NAME SECURITY TOP_N            SECURITY: plain, or the SRTP suite's name
 *   participant ID MEETING_ID NAME ADDR UDP_PORT ROLE MAC|- DP_PORT SEND_KEY|- RECV_KEY|- FB MMR_SSRC RTX|- EXT|-
 *   stream ID PARTICIPANT_ID SSRC KIND CODEC LAYERS SPATIAL GROUP|- ENCODING DD_EXT|- RTX_SSRC|- RTX_PT|- CLOCK SCREEN|-
 *   sub ID STREAM_ID|- SUBSCRIBER_ID TARGET OUT_SSRC TARGET_SID TARGET_DT TARGET_ENCODING RTX_SSRC|- PRIORITY|- SLOT|-
 *   end MEETINGS PARTICIPANTS STREAMS SUBS
 *
 * Lines are grouped per meeting in list order (participants in join order, then their streams,
 * then the subscriptions each participant receives), so a reload rebuilds the same lists. '#'
 * starts a comment line. A simulcast group's streams follow each other, encoding 0 first (GROUP is
 * its id); a subscription's sel_id is not written: it follows from the group (model.h). The file
 * is replaced atomically (write a temporary file, fsync, rename, fsync the directory): a kill -9 at
 * any moment leaves the old or the new file, never a mix. Loading checks everything a request
 * would check, plus the subscription rule and the final "end" line; any violation is an error,
 * never a silent repair.
 *
 * Journal records (one change each, journal.h) hold the lines of what the change adds (meeting,
 * participant, stream, sub lines as above, in the order the change made them), and:
 *   target SUB TARGET OUT_SSRC TARGET_SID TARGET_DT TARGET_ENCODING RTX_SSRC|- PRIORITY|-
 *                                                                      a subscription's new targets
 *   keys PARTICIPANT SEND_KEY RECV_KEY                                 an SRTP participant's new keys
 *   remove meeting|participant|stream|sub ID                           with everything under it (a
 *                                                                      stream: its simulcast group;
 *                                                                      sub: one a top-N change removed)
 *   topn MEETING N                                                     a meeting's new top-N setting
 *                                                                      (its added subscriptions follow
 *                                                                      as sub lines)
 *   srtp_ledger ID REKEYED                                             replaces the recorded ledger
 * Every record replayed counts one change (state_changes, model.h), as every change made counts one.
 * Replaying checks each line as loading does; the subscription rule is checked at the end.
 *
 * Keys: a participant of an SRTP meeting has its two master keys in the SDES form
 * "inline:BASE64"; a plain meeting's participants have "-". The files hold secrets, so they are
 * written mode 0600 (and a temporary file left by a crash is made 0600 before it is reused).
 * Older versions are still read: version 1 files (before SRTP: no SECURITY, no keys) as plain
 * meetings; version 1 and 2 files (before spatial layers and simulcast: streams end at LAYERS,
 * subscriptions at OUT_SSRC) as streams with 1 spatial layer outside any group, and subscriptions
 * with spatial target 0, decode target 0, encoding 0; version 1 to 4 files (before the journal) as
 * followed by journal generation 0.
 *
 * SRTP ledger (version 4): `srtp_ledger ID REKEYED` records the id of the dataplane's SRTP ledger the
 * keys above have been used under (ID: 32 lowercase hex digits, lib/contract/cmd_chan.h) and when every SRTP
 * participant last got new keys because that ledger changed (REKEYED: Unix seconds, or - for never).
 * No line: none recorded; version 1 to 3 files load that way (dp_link.h: their SRTP participants are
 * rekeyed before the first replay).
 *
 * RTCP (version 6): FB the feedback flags ("nack,pli,fir,rsize" subset, or "none"), MMR_SSRC the
 * SSRC of the MMR's RTCP toward it, RTX its RTX payload types "APT:PT,..." or "-"; a stream's
 * publisher RTX SSRC and payload type ("-" "-": none) and clock rate; a subscription's RTX SSRC.
 * Version 5 lines and journal records (without these fields) load with the defaults (model.h);
 * replaying takes both forms, so a version 5 journal after an upgrade replays.
 *
 * Application-layer QoS (version 7): a meeting's TOP_N (0: off, 1..MMR_TOPN_MAX); a participant's
 * header extension ids EXT ("twcc=ID,abs-send-time=ID,audio-level=ID" subset, or "-") and FB may
 * hold twcc and remb; a stream's SCREEN ("screen" or "-"); a subscription's PRIORITY ("pinned" or
 * "-") and SLOT: "-", or for a top-N slot subscription its slot (0-based; STREAM_ID is then "-",
 * the targets 0, RTX and PRIORITY "-"). Version 6 lines load with the defaults (no top-N, no ids, not
 * a screen, not pinned); replaying takes both forms. The loader checks that a top-N meeting's audio
 * has no per-pair subscriptions and that every receiver has exactly its meeting's top_n slots.
 *
 * State lineage (version 5): `state_id ID TOKEN CHANGES`: the state's id (32 lowercase hex digits),
 * the fencing token of the last controller that drove a dataplane with it, and its change count
 * (model.h). The dataplane records the id and the count its tables were built from, and a controller
 * whose lineage differs does not replay onto non-empty tables (dp_link.h). Written in every snapshot
 * once the model has an id (the count as of the snapshot, and each journal record counts one more;
 * a take-over writes a new snapshot with its token); a state without one (none on disk, or files of versions 1 to 4) gets one at start, written
 * at once as a new snapshot (controller.c).
 */
#ifndef MMR_STATE_FILE_H
#define MMR_STATE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "outbuf.h"

/* Load a snapshot into an empty model. A missing file is an empty state (returns 1). 0 loaded
 * (*journal_gen: the generation of the journal that follows it), 1 missing, -1 error with a
 * one-line reason in err ("PATH:LINE: why"). */
int state_file_load(struct model *m, const char *path, uint64_t *journal_gen, char *err, size_t errlen);
/* Apply one journal record's lines (payload, len) to the model; where names it in errors. 0, or
 * -1 with the reason in err (the model is then half-changed: the caller gives up on it). */
int state_file_replay(struct model *m, const char *payload, size_t len, const char *where, char *err,
		      size_t errlen);
/* After the last record: the subscription rule, sel_ids, id pools. 0 or -1 (err). */
int state_file_replay_end(struct model *m, const char *where, char *err, size_t errlen);
/* Write the model as a snapshot followed by journal generation journal_gen, atomically (0600).
 * 0 (*bytes, may be NULL: its size), or -1 with a reason in err. */
int state_file_save(const struct model *m, const char *path, uint64_t journal_gen, size_t *bytes, char *err,
		    size_t errlen);

/* One object's line, appended to b (keys: the buffer must be wiped after use). */
void state_line_meeting(struct outbuf *b, const struct model *m, uint32_t id);
void state_line_participant(struct outbuf *b, const struct model *m, uint32_t id);
void state_line_stream(struct outbuf *b, const struct model *m, uint32_t id);
void state_line_sub(struct outbuf *b, const struct model *m, uint32_t id);
void state_line_target(struct outbuf *b, const struct model *m, uint32_t sub);
/* aslots PARTICIPANT SSRC,...: its audio slot SSRCs (issue 13) */
void state_line_aslots(struct outbuf *b, const struct model *m, uint32_t p);
void state_line_topn(struct outbuf *b, const struct model *m, uint32_t meeting);
/* paddr ID ADDR PORT ICE (journal): a participant's address and ICE credentials now. */
void state_line_paddr(struct outbuf *b, const struct model *m, uint32_t participant);
/* pdtls ID DTLS (journal, version 9): a DTLS participant's role and peer fingerprint now. */
void state_line_pdtls(struct outbuf *b, const struct model *m, uint32_t participant);
void state_line_keys(struct outbuf *b, const struct model *m, uint32_t participant);
/* pext ID EXT (journal): a participant's header extension ids now (`participant set --ext`). */
void state_line_pext(struct outbuf *b, const struct model *m, uint32_t participant);
/* sssrc ID SSRC RTX_SSRC LEARN (journal): a stream's SSRC or RTX SSRC learned (issue 13). */
void state_line_ssrc(struct outbuf *b, const struct model *m, uint32_t stream);
void state_line_ledger(struct outbuf *b, const struct model *m);
/* Meeting controls (issue 15), in snapshots (after the meeting's line, a participant's lines, the
 * meeting's participants) and as journal records:
 *   mctl MEETING on|off allowed|forbidden everyone|host_only MAX_SHARERS open|locked
 *                                   waiting room, self-unmute, share policy, max sharers, lock
 *   pctl PARTICIPANT waiting|admitted host|- MUTE      MUTE: "audio,video,screen" subset or "-"
 *   ban MEETING NAME                an identity ejected from the meeting (until it ends)
 * A snapshot writes mctl and pctl only when not all default. */
void state_line_mctl(struct outbuf *b, const struct model *m, uint32_t meeting);
void state_line_pctl(struct outbuf *b, const struct model *m, uint32_t participant);
void state_line_ban(struct outbuf *b, uint32_t meeting, const char *name);
/* kind: "meeting", "participant", "stream" or "sub" */
void state_line_remove(struct outbuf *b, const char *kind, uint32_t id);

/* A 16-byte id (an SRTP ledger's, a state's) as 32 lowercase hex digits (NUL-terminated) in out;
 * returns out. */
_Static_assert(MMR_STATE_ID_LEN == MMR_SRTP_LEDGER_ID_LEN, "state and ledger ids share their text form");
char *ledger_id_hex(const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char out[2 * MMR_SRTP_LEDGER_ID_LEN + 1]);
/* The same id shortened for log lines: its first 8 hex digits and "..", or "none" when !has. */
char *id_short(bool has, const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char out[16]);

#endif
