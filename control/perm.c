/*
 * perm.c - the role -> permission table (see perm.h).
 */
#include "perm.h"

#define B(p) (1u << (p))
#define PUBLISH (B(PERM_PUBLISH_AUDIO) | B(PERM_PUBLISH_VIDEO) | B(PERM_PUBLISH_SCREEN))
#define COHOST  (PUBLISH | B(PERM_RECEIVE) | B(PERM_VIEW) | B(PERM_MUTE_OTHERS) | B(PERM_ADMIT) | B(PERM_EJECT) | \
		 B(PERM_SHARE) | B(PERM_PASSCODE))

static const unsigned table[] = {
	[TOKEN_ROLE_ADMIN] = (1u << PERM_COUNT) - 1,
	[TOKEN_ROLE_PUBLISHER] = PUBLISH,
	[TOKEN_ROLE_VIEWER] = B(PERM_RECEIVE),
	[TOKEN_ROLE_PARTICIPANT] = PUBLISH | B(PERM_RECEIVE),
	[TOKEN_ROLE_HOST] = COHOST | B(PERM_LOCK_END),
	[TOKEN_ROLE_COHOST] = COHOST,
};

static const char *const names[] = {
	[PERM_PUBLISH_AUDIO] = "publish_audio", [PERM_PUBLISH_VIDEO] = "publish_video",
	[PERM_PUBLISH_SCREEN] = "publish_screen", [PERM_RECEIVE] = "receive", [PERM_VIEW] = "view",
	[PERM_MUTE_OTHERS] = "mute_others", [PERM_ADMIT] = "admit", [PERM_EJECT] = "eject", [PERM_SHARE] = "share",
	[PERM_LOCK_END] = "lock_end", [PERM_PASSCODE] = "passcode", [PERM_READ_KEYS] = "read_keys",
	[PERM_MANAGE] = "manage", [PERM_OPERATE] = "operate",
};

bool perm_allows(enum token_role role, enum perm p)
{
	if ((unsigned)role >= sizeof(table) / sizeof(table[0]) || (unsigned)p >= PERM_COUNT)
		return false;
	return table[role] & B(p);
}

const char *perm_name(enum perm p)
{
	return (unsigned)p < PERM_COUNT ? names[p] : "?";
}
