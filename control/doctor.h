/*
 * doctor.h - `mmrctl doctor`: checks a host for running the MMR (hugepages, dpdk.service, NICs and
 * their drivers, IOMMU, core isolation against the dataplane's lcores, the shared segment and the
 * controller socket), locally, without the controller. One line per check: ok / warn / FAIL.
 */
#ifndef MMR_DOCTOR_H
#define MMR_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

/* argv: the words after "doctor" (--root DIR, --dataplane-config FILE). 0 if no check failed, 1 if
 * any did, -1 on a usage error (message in err). sock: the controller socket to look at. */
int doctor_main(int argc, char **argv, bool json, const char *sock, char *err, size_t errlen);

#endif
