/*
 * static_files.h - the demo page: GET (or HEAD) /demo and /demo/NAME serve the files of one
 * directory (config demo_dir; /demo is its demo.html), without a token. NAME is one path segment of
 * A-Z a-z 0-9 . _ - not starting with '.', so nothing outside the directory can be named; a symbolic
 * link or anything but a regular file is 404. Content-Type from the extension.
 */
#ifndef MMR_CTL_STATIC_FILES_H
#define MMR_CTL_STATIC_FILES_H

#include <stdbool.h>
#include "http_internal.h"

#define STATIC_MAX_FILE (4u << 20)

/* Is url /demo or under it? */
bool static_files_url(const char *url);
enum MHD_Result static_files_serve(struct http_req *r, const char *dir, const char *url, const char *method);

#endif
