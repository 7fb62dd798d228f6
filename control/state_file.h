/*
 * state_file.h - the controller's state on disk: every meeting, participant, stream and
 * subscription with its id, one readable line each, so that a restarted controller programs the
 * dataplane with the same ids (forwarding state and per-stream counters keep their slots).
 *
 *   mmr-state 4
 *   srtp_ledger ID REKEYED                    optional, before the meetings (below)
 *   meeting ID NAME SECURITY                  SECURITY: plain, or the SRTP suite's name
 *   participant ID MEETING_ID NAME ADDR UDP_PORT ROLE MAC|- DP_PORT SEND_KEY|- RECV_KEY|-
 *   stream ID PARTICIPANT_ID SSRC KIND CODEC LAYERS SPATIAL GROUP|- ENCODING DD_EXT|-
 *   sub ID STREAM_ID SUBSCRIBER_ID TARGET OUT_SSRC TARGET_SID TARGET_DT TARGET_ENCODING
 *   end MEETINGS PARTICIPANTS STREAMS SUBS
 *
 * Lines are grouped per meeting in list order (participants in join order, then their streams,
 * then the subscriptions each participant receives), so a reload rebuilds the same lists. '#'
 * starts a comment line. A simulcast group's streams follow each other, encoding 0 first (GROUP is
 * its id); a subscription's sel_id is not written: it follows from the group (model.h). The file is replaced atomically (write a temporary file, fsync, rename,
 * fsync the directory): a kill -9 at any moment leaves the old or the new file, never a mix.
 * Loading checks everything a request would check, plus the subscription rule and the final
 * "end" line; any violation is an error, never a silent repair.
 *
 * Keys: a participant of an SRTP meeting has its two master keys in the SDES form
 * "inline:BASE64"; a plain meeting's participants have "-". The file holds secrets, so it is
 * written mode 0600 (and a temporary file left by a crash is made 0600 before it is reused). Version
 * 1 files (before SRTP: no SECURITY, no keys) are still read, as plain meetings; version 1 and 2
 * files (before spatial layers and simulcast: streams end at LAYERS, subscriptions at OUT_SSRC) as
 * streams with 1 spatial layer outside any group, and subscriptions with spatial target 0, decode
 * target 0, encoding 0.
 *
 * SRTP ledger (version 4): `srtp_ledger ID REKEYED` records the id of the dataplane's SRTP ledger the
 * keys above have been used under (ID: 32 lowercase hex digits, lib/contract/cmd_chan.h) and when every SRTP
 * participant last got new keys because that ledger changed (REKEYED: Unix seconds, or - for never).
 * No line: none recorded; version 1 to 3 files load that way (dp_link.h: their SRTP participants are
 * rekeyed before the first replay).
 */
#ifndef MMR_STATE_FILE_H
#define MMR_STATE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"

/* An object (and everything under it) to leave out while writing: the one a request removes. */
enum state_skip_kind { STATE_SKIP_NONE = 0, STATE_SKIP_MEETING, STATE_SKIP_PARTICIPANT, STATE_SKIP_STREAM };
struct state_skip {
	enum state_skip_kind kind;
	uint32_t id;
};

/* Load into an empty model. A missing file is an empty state (returns 1). 0 loaded, 1 missing,
 * -1 error with a one-line reason in err ("PATH:LINE: why"). */
int state_file_load(struct model *m, const char *path, char *err, size_t errlen);
/* Write the model (minus skip, may be NULL) to path atomically. 0, or -1 with a reason in err. */
int state_file_save(const struct model *m, const char *path, const struct state_skip *skip,
		    char *err, size_t errlen);
/* An SRTP ledger id as 32 lowercase hex digits (NUL-terminated) in out; returns out. */
char *ledger_id_hex(const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char out[2 * MMR_SRTP_LEDGER_ID_LEN + 1]);

#endif
