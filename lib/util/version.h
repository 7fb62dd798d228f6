/*
 * version.h - `--version` for every mmr program. MMR_VERSION comes from the top-level VERSION file
 * (the Makefile writes it into $(BUILD)/include/mmr_version.h; the one place the version is kept).
 */
#ifndef MMR_VERSION_H
#define MMR_VERSION_H

#include <stdio.h>
#include <string.h>

#include "mmr_version.h"

/* argv[1] == "--version": print "NAME VERSION" to stdout and return 1 (the caller exits 0). */
static inline int mmr_version_arg(const char *name, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--version") != 0)
		return 0;
	printf("%s %s\n", name, MMR_VERSION);
	return 1;
}

#endif
