/*
 * fuzz_audio_level.c - libFuzzer target for the RFC 6464 audio level reader (lib/audio/audio_level.c)
 * and what consumes its output (lib/audio/dominant_speaker.c, lib/audio/topn.c).
 *
 * Input: byte 0 picks the extension id (1-255; 0 too), the rest is an RTP packet. Checks besides
 * crashes / ASan / UBSan: audio_level_get returns -1, 0 or 1; on 1 the level is 0-127 and the
 * voice bit 0/1, the element lies inside the packet's extension block and its byte is what was
 * returned; on -1 or 0 the outputs are untouched; audio_level_find on the parsed packet agrees;
 * the level fed to a speaker and a top-N energy is accepted (and 128+ refused).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audio_level.h"
#include "dominant_speaker.h"
#include "topn.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ds_speaker sp;
	static struct ds_meeting m;
	static struct topn_energy e;
	static uint64_t now;
	uint8_t level = 200, voice = 9;

	if (size < 1 || size > 2048)
		return 0;
	uint8_t id = data[0];
	const uint8_t *p = data + 1;
	uint32_t len = (uint32_t)size - 1;
	uint8_t *copy = malloc(len ? len : 1);   /* exact size: ASan sees any over-read */
	if (!copy)
		return 0;
	memcpy(copy, p, len);

	int r = audio_level_get(copy, len, id, &level, &voice);
	CHECK(r >= -1 && r <= 1);
	if (r != 1) {
		CHECK(level == 200 && voice == 9);
	} else {
		struct rtp_info ri;
		uint16_t off, elen;
		CHECK(level <= 127 && voice <= 1);
		CHECK(rtp_parse(copy, len, &ri) == MMR_DROP_NONE);
		CHECK(rtp_find_ext(copy, &ri, id, &off, &elen) == 1 && elen == 1);
		CHECK(off >= ri.ext_off && off + 1u <= (uint32_t)ri.ext_off + ri.ext_len);
		CHECK(copy[off] == (uint8_t)(voice << 7 | level));
	}
	struct rtp_info ri;
	if (rtp_parse(copy, len, &ri) == MMR_DROP_NONE) {
		uint8_t l2 = 200, v2 = 9;
		CHECK(audio_level_find(copy, &ri, id, &l2, &v2) == r);
		if (r == 1)
			CHECK(l2 == level && v2 == voice);
	} else {
		CHECK(r == -1 || id == 0);
	}
	if (now == 0) {
		ds_speaker_init(&sp, 0);
		ds_meeting_init(&m);
		topn_energy_init(&e);
	}
	now += 20;
	if (r == 1) {
		CHECK(ds_speaker_on_level(&sp, now, level) == 0);
		CHECK(topn_energy_on_level(&e, now, level) == 0);
	}
	CHECK(ds_speaker_on_level(&sp, now, (uint8_t)(128 + (id & 127))) == -1);
	struct ds_speaker *const spp[1] = { &sp };
	const uint32_t ids[1] = { 1 };
	int d = ds_decide(&m, spp, ids, 1, now);
	CHECK(d == -1 || d == 0);
	free(copy);
	return 0;
}
