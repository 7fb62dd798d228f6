#!/bin/bash
# make-deb.sh - build the Debian package mmr_VERSION_amd64.deb from the tree (`make deb`): the programs
# built in BUILD_DIR for Debian's DPDK baseline (MARCH=corei7), `make install DESTDIR=stage PREFIX=/usr`,
# Depends from dpkg-shlibdeps, /etc/mmr/*.conf as conffiles, dpkg-deb. Usage: make-deb.sh BUILD_DIR OUT_DIR
set -euo pipefail

build=${1:?usage: make-deb.sh BUILD_DIR OUT_DIR}
out=${2:?usage: make-deb.sh BUILD_DIR OUT_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
version=$(cat VERSION)
arch=$(dpkg --print-architecture)
work=$(mktemp -d /tmp/mmr-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
stage=$work/stage

make -s -j2 BUILD="$build" MARCH=corei7 progs
make -s BUILD="$build" MARCH=corei7 DESTDIR="$stage" PREFIX=/usr install >/dev/null

# Debian layout: stripped binaries, man pages gzipped, a copyright file
strip --strip-unneeded "$stage"/usr/sbin/* "$stage"/usr/bin/*
gzip -9n "$stage"/usr/share/man/man*/*
install -d "$stage/usr/share/doc/mmr"
printf 'mmr %s, built from the source tree (https://github.com/ - see README.md).\n' "$version" \
	> "$stage/usr/share/doc/mmr/copyright"

# Depends: the shared libraries the programs link (dpkg-shlibdeps needs a debian/control to read)
mkdir -p "$work/src/debian"
printf 'Source: mmr\n\nPackage: mmr\nArchitecture: any\n' > "$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O "$stage"/usr/sbin/* "$stage"/usr/bin/* 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
if [ -z "$depends" ]; then
	echo "make-deb: dpkg-shlibdeps found no dependencies" >&2
	exit 1
fi

# DPDK loads its drivers as plugins (pmds-NN), which dpkg-shlibdeps cannot see: the mbuf pools'
# mempool driver and the PCI and vdev buses always, every NIC driver through librte-meta-net
abi=$(grep -o 'librte-eal[0-9]*' <<<"$depends" | head -n 1 | sed 's/librte-eal//')
if [ -z "$abi" ]; then
	echo "make-deb: no librte-eal in the dependencies ($depends)" >&2
	exit 1
fi
depends="$depends, librte-mempool-ring$abi, librte-bus-pci$abi, librte-bus-vdev$abi"

install -d "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CTL
Package: mmr
Version: $version
Architecture: $arch
Maintainer: mmr developers <mmr@localhost>
Section: net
Priority: optional
Installed-Size: $size
Depends: $depends
Recommends: dpdk, librte-meta-net
Description: DPDK kernel-bypass media router (SFU) for RTP/SRTP and WebRTC
 mmr-dataplane forwards the media of meetings on DPDK ports; mmr-controller keeps
 the state and programs it; mmrctl controls both. systemd units mmr-dataplane and
 mmr-controller; configs in /etc/mmr.
CTL
(cd "$stage" && find etc -type f | sed 's|^|/|' | sort) > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'SH'
#!/bin/sh
# mmr postinst: make systemd see the units (never started here: edit /etc/mmr first)
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
SH
cat > "$stage/DEBIAN/postrm" <<'SH'
#!/bin/sh
# mmr postrm: forget the removed units
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
SH
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/postrm"

mkdir -p "$out"
deb="$out/mmr_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
