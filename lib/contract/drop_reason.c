/*
 * drop_reason.c - the printed names and meanings of the drop reasons, made from the one list in
 * drop_reason.h; used by the dataplane's status line, the controller's stats reply, mmrctl and mmr-gen.
 */
#include "drop_reason.h"

const char *const mmr_drop_names[MMR_DROP__COUNT] = {
#define _(sym, name, doc) [MMR_DROP_##sym] = name,
	foreach_mmr_drop(_)
#undef _
};

const char *const mmr_drop_docs[MMR_DROP__COUNT] = {
#define _(sym, name, doc) [MMR_DROP_##sym] = doc,
	foreach_mmr_drop(_)
#undef _
};
