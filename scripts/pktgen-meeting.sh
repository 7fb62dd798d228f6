#!/usr/bin/env bash
# pktgen-meeting.sh - the demo meetings the Pktgen-DPDK profiles of pktgen-profiles/ send to, and
# (one machine) the MMR they run on. Pktgen itself is not part of the project: build Pktgen-DPDK
# 23.06.1 yourself (pktgen-profiles/README.md) and point PKTGEN at its binary.
#
# Meetings: pg0 .. pg(N-1). Meeting m has one publisher "pub" at PKTGEN_IP, UDP port 40000+m, with
# an Opus audio stream of SSRC 0x6d6d7231 (the same SSRC in every meeting: SSRCs are per meeting),
# and R receive-only participants r1..rR at 10.2.m.r port 40000. The profiles step the UDP source
# port over 40000..40015, so each packet belongs to one of the meetings and is copied to its R
# receivers (with --meetings below 16 the other ports are unknown senders, counted and dropped). With --video, meeting "m0" of build/mmr-gen's model (base address 198.18.3.0: VP8 L1T3
# and Opus publishers) is added too, and its traffic is written to a pcap for pktgen's pcap mode.
#
#   one machine:  scripts/pktgen-meeting.sh [--link vhost|memif] [--meetings N] [--receivers R]
#                     [--video] [--run PROFILE] [--seconds S]
#       starts mmr-dataplane (port 0: a vhost-user or memif server socket in $WORK) and
#       mmr-controller, creates the meetings, prints the pktgen command line; with --run it runs
#       pktgen (under `script`, it needs a terminal) with that profile, prints the MMR's counters,
#       and stops everything. Without --run it waits for Ctrl-C.
#   two hosts:    scripts/pktgen-meeting.sh --setup-only --socket PATH --pktgen-ip A
#                     [--meetings N] [--receivers R] [--pktgen-mac MAC]
#       only creates the meetings, through the controller of an MMR that is already running on
#       its own NIC (host B), for a pktgen sending from address A (host A).
#
# Environment: PKTGEN (pktgen binary, default /tmp/pktgen/build/app/pktgen), WORK (default
# /tmp/mmr-pktgen). Needs root. Addresses are the demo's own: MMR 198.18.0.2, pktgen 198.18.1.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
B=$ROOT/build
PKTGEN=${PKTGEN:-/tmp/pktgen/build/app/pktgen}
WORK=${WORK:-/tmp/mmr-pktgen}
LINK=vhost
MEETINGS=16
RECEIVERS=8
VIDEO=0
RUN=
SECONDS_RUN=10
SETUP_ONLY=0
SOCKET=
PKTGEN_IP=198.18.1.1
PKTGEN_MAC=02:00:00:00:00:01
MMR_IP=198.18.0.2
MMR_MAC=56:48:4f:53:54:00      # the vhost PMD's own MAC of port 0; memif is given the same one
SSRC=0x6d6d7231         # "mmr1": no zero byte, so pktgen's fill pattern can carry it

die() { echo "pktgen-meeting: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--link) LINK=$2; shift ;;
	--meetings) MEETINGS=$2; shift ;;
	--receivers) RECEIVERS=$2; shift ;;
	--video) VIDEO=1 ;;
	--run) RUN=$2; shift ;;
	--seconds) SECONDS_RUN=$2; shift ;;
	--setup-only) SETUP_ONLY=1 ;;
	--socket) SOCKET=$2; shift ;;
	--pktgen-ip) PKTGEN_IP=$2; shift ;;
	--pktgen-mac) PKTGEN_MAC=$2; shift ;;
	-h|--help) sed -n '2,30p' "$0"; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || die "needs root (DPDK, hugepages)"
[[ "$MEETINGS" =~ ^[0-9]+$ ]] && [ "$MEETINGS" -ge 1 ] && [ "$MEETINGS" -le 16 ] || die "--meetings 1..16"
[[ "$RECEIVERS" =~ ^[0-9]+$ ]] && [ "$RECEIVERS" -ge 1 ] && [ "$RECEIVERS" -le 250 ] || die "--receivers 1..250"

ctl() { "$B/mmrctl" -S "$SOCKET" "$@"; }

make_meetings() {
	for ((m = 0; m < MEETINGS; m++)); do
		ctl meeting create "pg$m" --plain
		ctl participant add "pg$m" pub --addr "$PKTGEN_IP" --port $((40000 + m)) --role sendonly
		ctl stream add "pg$m" pub --ssrc "$SSRC" --kind audio --codec opus
		for ((r = 1; r <= RECEIVERS; r++)); do
			ctl participant add "pg$m" "r$r" --addr "10.2.$m.$r" --port 40000 --role recvonly
		done
	done
	echo "pktgen-meeting: $MEETINGS meeting(s) pg0..pg$((MEETINGS - 1)), publisher $PKTGEN_IP:40000..$((40000 + MEETINGS - 1)), $RECEIVERS receivers each"
}

if [ "$SETUP_ONLY" = 1 ]; then
	[ -n "$SOCKET" ] || die "--setup-only needs --socket (the controller's, on the MMR host)"
	make_meetings
	exit 0
fi

# ---- one machine: the MMR on a vhost-user or memif socket -----------------------------------------
for b in mmr-dataplane mmr-controller mmrctl mmr-gen; do
	[ -x "$B/$b" ] || die "$B/$b not built (make progs build/mmr-gen)"
done
scripts/hugepages.sh > /dev/null
mkdir -p "$WORK"
rm -f "$WORK"/*.sock "$WORK/state" "$WORK/state.lock"
SOCKET=$WORK/mmr.sock
case "$LINK" in
vhost)
	DP_VDEV="--vdev=net_vhost0,iface=$WORK/link.sock,queues=1"
	PG_VDEV="--vdev=virtio_user0,path=$WORK/link.sock,queues=1,queue_size=1024,mac=$PKTGEN_MAC" ;;
memif)
	DP_VDEV="--vdev=net_memif0,role=server,socket=$WORK/link.sock,socket-abstract=no,mac=$MMR_MAC"
	PG_VDEV="--vdev=net_memif0,role=client,socket=$WORK/link.sock,socket-abstract=no,mac=$PKTGEN_MAC" ;;
*) die "--link vhost|memif" ;;
esac
cat > "$WORK/dataplane.conf" <<EOF
# written by scripts/pktgen-meeting.sh
shm_name = "/mmr-pktgen";
eal = [ "-l", "0,1", "--no-pci", "--in-memory", "--log-level", "lib.eal:notice", "$DP_VDEV" ];
mbufs = 32767;
udp_port = 5000;
ports = ( { ipv4 = "$MMR_IP"; gateway_mac = "$PKTGEN_MAC"; } );
status_interval_ms = 1000;
srtp_ledger = "$WORK/srtp-ledger";
# line-rate publishers: policing on, its limits (per publisher) out of pktgen's reach
police_audio_pps = 0; police_audio_kbps = 0; police_video_pps = 0; police_video_kbps = 0;
EOF
cat > "$WORK/controller.conf" <<EOF
socket = "$SOCKET";
state_file = "$WORK/state";
shm_name = "/mmr-pktgen";
EOF

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$B/mmr-dataplane" -c "$WORK/dataplane.conf" > "$WORK/dataplane.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do grep -q 'MMR-DATAPLANE READY' "$WORK/dataplane.log" && break; sleep 0.1; done
grep -q 'MMR-DATAPLANE READY' "$WORK/dataplane.log" || { tail "$WORK/dataplane.log"; die "mmr-dataplane did not start"; }
taskset -c 0 "$B/mmr-controller" -c "$WORK/controller.conf" > "$WORK/controller.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$SOCKET" ] && ctl status > /dev/null 2>&1 && break; sleep 0.1; done
make_meetings

PCAP_ARG=
if [ "$VIDEO" = 1 ]; then
	# a VP8 L1T3 + Opus meeting from mmr-gen's model; 200 virtual seconds give every video stream
	# more than 32768 packets, so when pktgen replays the file in a loop the MMR sees its sequence
	# numbers move forward, not back (a repeated number would be a late packet to the layer selector)
	GEN_ARGS=(--meetings 1 --participants 6 --video-pubs 2 --audio-pubs 4 --video-kbps 1500
		  --base-ip 198.18.3.0 --mmr-ip "$MMR_IP" --mmr-mac "$MMR_MAC" --src-mac "$PKTGEN_MAC")
	"$B/mmr-gen" "${GEN_ARGS[@]}" --setup-script "$WORK/video-meeting.sh"
	MMRCTL="$B/mmrctl -S $SOCKET" sh "$WORK/video-meeting.sh"
	"$B/mmr-gen" "${GEN_ARGS[@]}" --pcap-only --pcap "$WORK/meeting.pcap" --duration 200
	PCAP_ARG="-s 0:$WORK/meeting.pcap"
	echo "pktgen-meeting: meeting m0 (VP8 L1T3 + Opus, 198.18.3.x) and its traffic in $WORK/meeting.pcap"
fi

PG_CMD="$PKTGEN --lcores 0@0,1@0 --no-pci --in-memory --single-file-segments --log-level lib.eal:notice $PG_VDEV -- -T -P -m 1.0 $PCAP_ARG"
echo "pktgen-meeting: MMR at $MMR_IP (MAC $MMR_MAC, UDP 5000) on $LINK socket $WORK/link.sock; logs in $WORK"
echo "pktgen-meeting: pktgen command line (add -f PROFILE):"
echo "    $PG_CMD"

if [ -z "$RUN" ]; then
	echo "pktgen-meeting: running; Ctrl-C stops the MMR"
	while kill -0 "${PIDS[0]}" 2>/dev/null; do sleep 1; done
	exit 0
fi
[ -x "$PKTGEN" ] || die "no pktgen at $PKTGEN (set PKTGEN)"
[ -f "$RUN" ] || die "no profile $RUN"
# pktgen needs a terminal: run it under script(1); a .lua profile ends by itself (pktgen.quit()),
# a .pkt profile is given SECONDS_RUN seconds
PG_OUT=$WORK/pktgen.out
PROFILE=$(realpath "$RUN")
# from the profile's directory: a .pkt profile loads its Lua helpers by relative path
if [[ "$RUN" == *.lua ]]; then
	(cd "$(dirname "$PROFILE")" && MMR_PG_SECONDS=$SECONDS_RUN timeout $((SECONDS_RUN + 60)) \
		script -qfec "$PG_CMD -f $PROFILE" "$PG_OUT" > /dev/null 2>&1 < /dev/null) || true
else
	(cd "$(dirname "$PROFILE")" && timeout -s INT "$SECONDS_RUN" \
		script -qfec "$PG_CMD -f $PROFILE" "$PG_OUT" > /dev/null 2>&1 < /dev/null) || true
fi
sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' "$PG_OUT" | tr -cd '\11\12\15\40-\176' | grep -a -o -E '(MMR-PKTGEN|PANIC).*' || true
echo "pktgen-meeting: MMR counters after the run:"
ctl stats --streams | sed 's/^/    /'
grep 'status:' "$WORK/dataplane.log" | tail -n 3 | sed 's/^/    /'
