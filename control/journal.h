/*
 * journal.h - the controller's append-only journal of changes: record framing with a CRC, and
 * reading a journal back (docs/design.md "The controller's state: snapshot and journal").
 *
 * A journal file is a sequence of records, each
 *
 *     u32 magic "MMRj" | u32 len | u32 crc | payload (len bytes)          little-endian
 *
 * where crc is the CRC-32C (Castagnoli) of the 4 length bytes followed by the payload. The first
 * record's payload is the header line "mmr-journal 1 GEN\n": GEN (decimal) is the journal's
 * generation, which the snapshot it follows names in its `journal GEN` line (state_file.h). Every
 * other record is one change: state-file lines (state_file.h, "Journal records") that the change
 * adds, replaces or removes.
 *
 * Records are appended in batches (group commit) and made durable by one fdatasync per batch, so a
 * crash can leave at most the last batch torn: a record cut short, or bytes that do not check. A
 * reader stops at the first record that is incomplete or fails its magic, length or CRC, and the
 * journal's good part is everything before it (none of the rest was acknowledged: a change is only
 * acknowledged after its batch's fdatasync).
 *
 * Pure functions over byte buffers (no I/O): the unit test and the controller share them.
 */
#ifndef MMR_JOURNAL_H
#define MMR_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include "outbuf.h"

#define JOURNAL_MAGIC      "MMRj"
#define JOURNAL_REC_HDR    12u
#define JOURNAL_MAX_RECORD (256u << 20)   /* payload bytes: larger is damage, not a record */
#define JOURNAL_VERSION    1


/* Start a record at the end of b (its header space is reserved); returns where it starts. The
 * payload is then appended to b, and journal_rec_end() fills in the header. */
size_t journal_rec_begin(struct outbuf *b);
void journal_rec_end(struct outbuf *b, size_t start);
/* The header record of generation gen, appended to b. */
void journal_header(struct outbuf *b, uint64_t gen);

/* The record at *off in buf[0..len): 1 with *payload and *plen set and *off moved past it; 0 at the
 * clean end (*off == len); -1 when the bytes at *off are not a whole, intact record (torn or
 * damaged: *off is left where the good part ends). */
int journal_next(const uint8_t *buf, size_t len, size_t *off, const uint8_t **payload, size_t *plen);
/* Parse a header record's payload: 0 with *gen set, -1 if it is not one. */
int journal_parse_header(const uint8_t *payload, size_t len, uint64_t *gen);

#endif
