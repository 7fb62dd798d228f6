#!/bin/bash
# hugepages.sh - make sure DPDK has 2 MiB hugepages: if fewer than 512 are free, reserve 1024 and
# mount hugetlbfs on /dev/hugepages when nothing is mounted there. Says what it did. Without root (or
# when the kernel refuses) it says so and returns 0: the test harness then runs the EAL with
# `--no-huge -m 1024` instead.
set -u

NR=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
FREE=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
WANT_FREE=512
RESERVE=1024

if [ ! -e "$NR" ]; then
	echo "hugepages: kernel has no 2 MiB hugepages; tests will use --no-huge"
	exit 0
fi

free=$(cat "$FREE")
if [ "$free" -lt "$WANT_FREE" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "hugepages: only $free free 2 MiB pages and not root; tests will use --no-huge"
		exit 0
	fi
	total=$(cat "$NR")
	want=$((total - free + RESERVE))
	[ "$want" -lt "$RESERVE" ] && want=$RESERVE
	if ! echo "$want" >"$NR" 2>/dev/null; then
		echo "hugepages: cannot write $NR; tests will use --no-huge"
		exit 0
	fi
	free=$(cat "$FREE")
	echo "hugepages: reserved $(cat "$NR") 2 MiB pages ($free free)"
	if [ "$free" -lt "$WANT_FREE" ]; then
		echo "hugepages: kernel gave only $free free pages; tests will use --no-huge"
	fi
fi

if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "hugepages: /dev/hugepages not mounted and not root; tests will use --no-huge"
		exit 0
	fi
	mkdir -p /dev/hugepages
	if mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages 2>/dev/null; then
		echo "hugepages: mounted hugetlbfs on /dev/hugepages"
	else
		echo "hugepages: cannot mount hugetlbfs on /dev/hugepages; tests will use --no-huge"
	fi
fi
exit 0
