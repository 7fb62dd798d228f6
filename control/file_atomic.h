/*
 * file_atomic.h - replace a file atomically and durably (state file, journal, passcodes).
 */
#ifndef MMR_CTL_FILE_ATOMIC_H
#define MMR_CTL_FILE_ATOMIC_H

#include <stddef.h>

/* Replace path by data: PATH.tmp (0600, also when an old .tmp had another mode), every byte written
 * (EINTR and short writes retried), fsync, close checked, rename, fsync the directory. 0, or -1
 * with a one-line reason in err (the .tmp removed). */
int file_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);

#endif
