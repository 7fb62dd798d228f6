/* twcc.c - transport-wide feedback parse and build (see twcc.h). First version: stubs. */
#include "twcc.h"

int twcc_fb_parse(const uint8_t *fci, uint32_t len, struct twcc_fb *fb, struct twcc_status *st, unsigned max)
{ (void)fci; (void)len; (void)fb; (void)st; (void)max; return -1; }
uint32_t twcc_fb_build(uint8_t *buf, uint32_t cap, const struct twcc_fb *hdr, const struct twcc_status *st,
		       unsigned n)
{ (void)buf; (void)cap; (void)hdr; (void)st; (void)n; return 0; }
