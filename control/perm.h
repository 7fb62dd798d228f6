/*
 * perm.h - what each access-token role may do (issue 15): the one permission table of the
 * controller. Every request served for a token (the REST routes, the join endpoints, sessions,
 * events, the audit log) asks perm_allows(role, PERM_...) before anything runs or changes.
 *
 *   role            who                                   may
 *   admin           operator (zone admin; meeting "*"     everything (with meeting M: only M)
 *                   or one meeting)
 *   host            runs its meeting                      publish audio/video/screen, receive, view the
 *                                                         meeting, mute others, admit, eject, share policy,
 *                                                         lock/end, set the passcode
 *   co-host         helps the host                        as host, but not lock/end
 *   participant     takes part                            publish audio/video/screen, receive
 *   viewer          attendee                              receive only
 *   publisher       (old tokens) publishes only           publish audio/video/screen
 * Reading SRTP keys (participant keys/rekey/add over the API) is PERM_READ_KEYS: admin only,
 * audited. Changing a meeting's setup (participants, streams, subscriptions) is PERM_MANAGE and
 * zone-wide routes (status, stats, meeting list/create, dataplane reset, the audit log, sessions)
 * PERM_OPERATE: admin only.
 */
#ifndef MMR_CTL_PERM_H
#define MMR_CTL_PERM_H

#include <stdbool.h>
#include "token.h"

enum perm {
	PERM_PUBLISH_AUDIO,
	PERM_PUBLISH_VIDEO,
	PERM_PUBLISH_SCREEN,
	PERM_RECEIVE,
	PERM_VIEW,              /* read the meeting (show, participants, subscriptions, slots) */
	PERM_MUTE_OTHERS,
	PERM_ADMIT,
	PERM_EJECT,
	PERM_SHARE,             /* the screen-share policy: who may share */
	PERM_LOCK_END,          /* lock or end the meeting */
	PERM_PASSCODE,          /* set or clear the meeting's passcode */
	PERM_READ_KEYS,         /* see a participant's SRTP keys */
	PERM_MANAGE,            /* change a meeting's setup (participants, streams, subscriptions) */
	PERM_OPERATE,           /* zone-wide operations (needs meeting "*") */
	PERM_COUNT
};

/* May role do p? (false for an unknown role or permission) */
bool perm_allows(enum token_role role, enum perm p);
/* "publish_audio", ... ; "?" for a bad value. */
const char *perm_name(enum perm p);

#endif
