#!/bin/bash
# install-deps.sh - install the Debian 12 packages mmr builds, tests and demos with, then reserve
# hugepages (scripts/hugepages.sh). Idempotent and quiet: when every package is already installed
# apt is not touched at all, so a second run takes well under a second. Run as root.
set -u

PKGS=(
	build-essential pkg-config
	dpdk dpdk-dev libdpdk-dev
	libsrtp2-dev liburcu-dev libconfig-dev libssl-dev libcmocka-dev libpcap-dev zlib1g-dev
	libmicrohttpd-dev libjansson-dev python3-yaml
	libsystemd-dev systemd
	clang libclang-rt-14-dev
	iproute2 iputils-ping python3 tcpdump
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
	gstreamer1.0-libav python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
	ffmpeg python3-pylibsrtp python3-aioice
	openssl python3-aiortc
	chromium
	libvpx-dev libaom-dev libopus-dev
	prometheus
	etcd-server etcd-client libcurl4-openssl-dev
)

here=$(cd "$(dirname "$0")" && pwd)

missing=()
for p in "${PKGS[@]}"; do
	# "install ok installed" is the only state that means the package is really there
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages (${missing[*]}) and not root: run as root" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	log=$(mktemp /tmp/mmr-install-deps.XXXXXX)
	# an empty or stale package list makes install fail to find packages: update first
	if ! apt-get update -q >"$log" 2>&1; then
		cat "$log" >&2
		echo "install-deps: apt-get update failed" >&2
		rm -f "$log"
		exit 1
	fi
	if ! apt-get install -y -q "${missing[@]}" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "install-deps: apt-get install failed" >&2
		rm -f "$log"
		exit 1
	fi
	rm -f "$log"
fi

"$here/hugepages.sh" || true
exit 0
