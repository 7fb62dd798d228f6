#!/usr/bin/python3
"""
test_vp9_loss.py - issue 11 end to end with VP9 SVC: a LIVE libvpx L3T3 publisher that makes keyframes
only when asked, real loss on every link, receivers at different spatial layers that NACK and ask for
keyframes, every decoded picture checked pixel-exact; and a spatial up-switch timed.

The publisher (alice) is `build/tests/e2e/vp9_svc live`: encodes 80x45/160x90/320x180, temporal
0,2,1,2, flexible mode, in real time at 30 fps (FRAMES counted pictures + TAIL more), a keyframe ONLY
for its first picture and when a PLI or a new FIR reaches its socket; answers generic NACKs from its
packet history as RTX (SSRC RTX_SSRC, PT RTX_PT: the MMR's stream has --rtx-ssrc/--rtx-pt), sends
SR + SDES every second, logs what it sent, resent and when it made keyframes (live.txt), and
afterwards proves its reference structure and writes the reference decode `vp9_svc check` uses.
Three receivers (one Python thread; its own client, written for this test) subscribe at different
spatial layers, temporal layer 2:
  bob    S2, takes RTX (--rtx 98:99), asks keyframes by PLI; 1 % random loss both ways;
  carol  S1, no RTX (the MMR resends on the media SSRC), asks by FIR; 1 % in bursts of 10 both ways;
  dave   S0, raised to S2 (`mmrctl sub set`) at T_UP; takes RTX, PLI; 0.5 % random + 0.5 % in bursts
         of 10 both ways.
The uplink (alice <-> MMR, media and the MMR's RTCP back) has 0.5 % random + 0.5 % in bursts of 10:
1 % loss on every link.
Every link goes through tools/impair_relay.py (user-space, seeded; RTCP lost like media). Bursts are
applied only in the direction that carries media (10 RTCP packets in a row of a feedback-only
direction would be seconds without feedback); the random loss goes both ways.
Each receiver, like a real one: undoes RTX (RFC 4588); NACKs sequence gaps at once and again every
RENACK_S (generic NACK, reduced-size; up to NACK_TRIES times); follows which layer frames it could
decode (complete, and every reference from the flexible-mode P_DIFFs and D decoded; a keyframe
resets) and, when a complete layer frame has waited GIVEUP_S for references that did not come, asks
for a keyframe (PLI or FIR, again every KF_RETRY_S until one comes); sends a Receiver Report with
LSR/DLSR for the MMR's Sender Reports every RR_S. A packet that arrives more than LATENCY_S after
its picture left the publisher is dropped as a jitter buffer would (counted "late").
After the call `vp9_svc check --lossy` decodes each receiver's packets with libvpx (only complete
layer frames whose references were decoded) and compares every decoded layer frame with the
publisher's reference decode. Per receiver (checks):
  - no corrupt picture, no decoder error;
  - >= 95 % of the FRAMES counted pictures decoded at its layer (dave: S0 before the up-switch
    picture, S2 from it on);
  - no freeze (counted pictures in a row not decoded at its layer) longer than 1 s;
  - dave: its first S2 picture arrives within UPSWITCH_MAX s of the `sub set` (the MMR asks alice
    for a keyframe on a spatial up-switch: one RTT plus the encoder's keyframe time); printed with
    the publisher's keyframe time and the RTTs the MMR measured.
--rtcp-off: the negative control (tests/run-all.sh: must FAIL with a "want >= 95 %" or "froze" line):
the dataplane's `rtcp = false;` (no repair, no keyframe request reaches alice).
--frames N, --seed S, --loss R (bob's random rate; half of it on the uplink and dave's links),
--burst-loss R (carol's burst rate; half of it on the uplink and dave's links).

Run as root: /usr/bin/python3 tests/e2e/test_vp9_loss.py [--build DIR] [--rtcp-off]
Exit 0 on pass. Takes about 15 s (--rtcp-off the same).
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import impair_relay as ir  # noqa: E402
from rtpgen import parse_vp9  # noqa: E402

FPS = 30
FRAMES = 300                # counted pictures (10 s)
TAIL = 15                   # sent after them: a loss among the last packets is seen by nobody
T_UP = 5.0                  # stream time of dave's up-switch S0 -> S2
UPSWITCH_MAX = 0.5
RATES = "100,150,300"       # vp9_svc --rates (kbit/s per spatial layer)
VIDEO_SSRC, RTX_SSRC = 0x7100, 0x7101
VIDEO_PT, RTX_PT = 98, 99
TS0 = 4294900000            # vp9_svc's first timestamp, 3000 per picture
LATENCY_S = 0.4             # jitter buffer: later packets are dropped
RENACK_S = 0.05
NACK_TRIES = 6
GIVEUP_S = 0.3
KF_RETRY_S = 0.3
RR_S = 0.5
MIN_RATIO = 0.95
MAX_FREEZE_S = 1.0
MEETING = "m-vp9loss"
PUB_MMR_PORT, PUB_LOCAL_PORT, PUB_RELAY_PORT = 43000, 43001, 43002


class RxSpec:
    def __init__(self, k, name, spatial, rtx, fir, random_loss, burst_loss):
        self.name, self.spatial, self.rtx, self.fir = name, spatial, rtx, fir
        self.random_loss, self.burst_loss = random_loss, burst_loss
        self.mmr_port, self.local_port, self.relay_port = 43010 + 10 * k, 43011 + 10 * k, 43012 + 10 * k
        self.ssrc = 0x7200 + k                # its own SSRC (RTCP sender)
        self.rtx_ssrc = 0x7300 + k if rtx else None


class BothLoss:
    """Random loss and loss in bursts on one link direction: a packet is dropped if either drops it
    (both models see every packet, so each keeps its own seeded pattern)."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.rate = a.rate + b.rate
        self.burst = b.burst

    @property
    def events(self):
        return self.a.events + self.b.events

    def drop(self):
        x = self.a.drop()
        y = self.b.drop()
        return x or y


def link_loss(seed, name, direction, random_rate, burst_rate):
    """The loss of one link direction. Bursts of 10 only where media flows (the uplink's "up", the
    downlinks' "down"): ten packets in a row of an RTCP-only direction (a few a second) would be a
    feedback outage of seconds, not a burst."""
    media = direction == ("up" if name == "alice" else "down")
    if not media:
        burst_rate = 0.0
    parts = []
    if random_rate > 0:
        parts.append(ir.make_loss(random_rate, 1, seed, name, direction))
    if burst_rate > 0:
        parts.append(ir.make_loss(burst_rate, 10, seed, name, direction + "/burst"))
    if not parts:
        return ir.LossModel()
    return parts[0] if len(parts) == 1 else BothLoss(*parts)


# ---- the receivers -----------------------------------------------------------------------------

class RxState:
    def __init__(self, spec):
        self.spec = spec
        self.packets = []          # (monotonic arrival, media packet as sent on the media SSRC)
        self.high = None           # highest media seq (unwrapped)
        self.missing = {}          # unwrapped seq -> [NACKs sent, first missed, last NACK]
        self.frames = {}           # (pid, sid) -> dict(seqs, b, e, p, diffs, d, done_at)
        self.pending = set()       # complete frames not (yet) decodable
        self.decoded = set()       # (pid, sid) decodable
        self.last_pid = None
        self.need_kf_since = None  # a keyframe asked for and not yet come
        self.last_kf_req = 0.0
        self.fir_seq = 0
        self.fir_for = None        # the need_kf_since the last FIR sequence number was for
        self.last_sr = None        # (LSR value, monotonic arrival) of the MMR's last SR
        self.sr_ssrc = 0
        self.n = dict(rtp=0, rtx=0, dup=0, rtcp_in=0, sr_in=0, nack_pkts=0, nack_seqs=0, pli=0, fir=0,
                      rr=0, repaired=0, gave_up=0, other=0)
        self.kf_req_times = []
        self.log = []              # (monotonic, what): gaps, give-ups, keyframe requests and arrivals


class Receivers(threading.Thread):
    def __init__(self, env, specs, ip):
        super().__init__(daemon=True)
        self.specs, self.ip = specs, ip
        self.socks = [env.udp_socket(s.local_port) for s in specs]
        self.st = [RxState(s) for s in specs]
        self.stop = threading.Event()
        self.errors = []

    def send(self, i, pkt):
        try:
            self.socks[i].sendto(pkt, (self.ip, self.specs[i].relay_port))
        except OSError as e:
            self.errors.append("%s: send: %s" % (self.specs[i].name, e))

    def run(self):
        import select
        idx = {s.fileno(): i for i, s in enumerate(self.socks)}
        next_rr = time.monotonic() + RR_S
        while not self.stop.is_set():
            r, _, _ = select.select(self.socks, [], [], 0.01)
            for s in r:
                i = idx[s.fileno()]
                while True:
                    try:
                        pkt = s.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    self.on_packet(i, pkt, time.monotonic())
            now = time.monotonic()
            for i in range(len(self.st)):
                self.tick(i, now)
            if now >= next_rr:
                next_rr += RR_S
                for i in range(len(self.st)):
                    self.rr(i, now)
        for s in self.socks:
            s.close()

    # -- packets --
    def on_packet(self, i, pkt, now):
        st = self.st[i]
        if ir.is_rtcp(pkt):
            st.n["rtcp_in"] += 1
            off = 0
            while off + 4 <= len(pkt):
                b0, pt, words = struct.unpack_from("!BBH", pkt, off)
                if pt == 200 and off + 20 <= len(pkt):
                    ssrc, sec, frac = struct.unpack_from("!III", pkt, off + 4)
                    st.last_sr = (((sec & 0xFFFF) << 16) | (frac >> 16), now)
                    st.sr_ssrc = ssrc
                    st.n["sr_in"] += 1
                off += (words + 1) * 4
            return
        if len(pkt) < 12 or pkt[0] >> 6 != 2:
            st.n["other"] += 1
            return
        pt = pkt[1] & 0x7F
        if pt == RTX_PT:
            if len(pkt) < 14:
                st.n["other"] += 1
                return
            st.n["rtx"] += 1
            # RFC 4588: original seq first; the media SSRC and PT are the stream's
            pkt = (bytes([pkt[0], (pkt[1] & 0x80) | VIDEO_PT]) + pkt[12:14] + pkt[4:8] +
                   struct.pack("!I", VIDEO_SSRC) + pkt[14:])
        elif pt != VIDEO_PT or struct.unpack_from("!I", pkt, 8)[0] != VIDEO_SSRC:
            st.n["other"] += 1
            return
        st.n["rtp"] += 1
        seq = (pkt[2] << 8) | pkt[3]
        h = st.high
        u = seq + 65536 if h is None else h + ((seq - h + 32768) & 0xFFFF) - 32768
        if h is not None and u <= h and u not in st.missing:
            st.n["dup"] += 1          # a resend of what came already (or a stale one)
            return
        st.packets.append((now, pkt))
        if h is not None and u > h + 1 and u - h < 500:
            for m in range(h + 1, u):
                st.missing[m] = [0, now, 0.0]
            st.log.append((now, "gap %d..%d" % ((h + 1) & 0xFFFF, (u - 1) & 0xFFFF)))
        if h is None or u > h:
            st.high = u
        elif st.missing.pop(u, None) is not None:
            st.n["repaired"] += 1
            st.log.append((now, "repaired %d" % seq))
        self.on_frame_packet(st, u, pkt, now)
        self.tick(i, now)

    def on_frame_packet(self, st, u, pkt, now):
        try:
            d = parse_vp9(pkt[12:])
        except ValueError:
            st.n["other"] += 1
            return
        pid = d.picture_id if st.last_pid is None else \
            st.last_pid + ((d.picture_id - st.last_pid + 16384) & 0x7FFF) - 16384
        if st.last_pid is None or pid > st.last_pid:
            st.last_pid = pid
        key = (pid, d.sid)
        f = st.frames.get(key)
        if f is None:
            f = st.frames[key] = dict(seqs=set(), b=None, e=None, p=d.p, diffs=list(d.p_diffs), d=d.d,
                                      done_at=None)
        f["seqs"].add(u)
        if d.b:
            f["b"] = u
        if d.e:
            f["e"] = u
        if f["done_at"] is None and f["b"] is not None and f["e"] is not None and \
                len(f["seqs"]) == f["e"] - f["b"] + 1:
            f["done_at"] = now
            st.pending.add(key)
            self.resolve(st)

    def resolve(self, st):
        """Move every complete frame whose references are decodable to decoded; a keyframe
        (base layer frame with P=0: this publisher sends no other) restarts the decoder."""
        changed = True
        while changed:
            changed = False
            for key in sorted(st.pending):
                pid, sid = key
                f = st.frames[key]
                if sid == 0 and not f["p"]:
                    st.log.append((time.monotonic(), "keyframe pid %d" % pid))
                    st.decoded = {k for k in st.decoded if k[0] >= pid}
                    st.pending = {k for k in st.pending if k[0] >= pid}
                    if st.need_kf_since is not None:
                        st.need_kf_since = None
                    refs = []
                else:
                    refs = [(pid - x, sid) for x in f["diffs"]] if f["p"] else []
                    if f["d"]:
                        refs.append((pid, sid - 1))
                if key in st.pending and all(r in st.decoded for r in refs):
                    st.pending.discard(key)
                    st.decoded.add(key)
                    changed = True
                    break
        # keep the bookkeeping bounded: frames well behind the newest picture are settled
        if st.last_pid is not None and len(st.frames) > 400:
            old = st.last_pid - 120
            for k in [k for k in st.frames if k[0] < old]:
                del st.frames[k]
            st.pending = {k for k in st.pending if k[0] >= old}

    # -- feedback --
    def tick(self, i, now):
        st = self.st[i]
        want = []
        for m, v in list(st.missing.items()):
            if now - v[1] > RENACK_S * (NACK_TRIES + 2):
                del st.missing[m]
                st.n["gave_up"] += 1
                st.log.append((now, "gave up %d" % (m & 0xFFFF)))
            elif v[0] < NACK_TRIES and now - v[2] >= RENACK_S:
                want.append(m)
        if want:
            self.nack(i, sorted(want), now)
        # a complete layer frame waiting too long for its references: ask for a keyframe
        stuck = any(now - st.frames[k]["done_at"] > GIVEUP_S for k in st.pending)
        if stuck and st.need_kf_since is None:
            st.need_kf_since = now
        if st.need_kf_since is not None and now - st.last_kf_req >= KF_RETRY_S:
            self.kf_request(i, now)

    def nack(self, i, want, now):
        st = self.st[i]
        fci = b""
        k = 0
        while k < len(want):
            pid, blp = want[k], 0
            k += 1
            while k < len(want) and want[k] - pid <= 16:
                blp |= 1 << (want[k] - pid - 1)
                k += 1
            fci += struct.pack("!HH", pid & 0xFFFF, blp)
        for m in want:
            st.missing[m][0] += 1
            st.missing[m][2] = now
        body = struct.pack("!II", st.spec.ssrc, VIDEO_SSRC) + fci
        self.send(i, struct.pack("!BBH", 0x81, 205, len(body) // 4) + body)
        st.n["nack_pkts"] += 1
        st.n["nack_seqs"] += len(want)

    def kf_request(self, i, now):
        st = self.st[i]
        st.last_kf_req = now
        st.log.append((now, "kf request (stuck: %s)" % sorted(k for k in st.pending
                                                             if now - st.frames[k]["done_at"] > GIVEUP_S)[:4]))
        st.kf_req_times.append(now)
        if st.spec.fir:
            if st.fir_for != st.need_kf_since:       # a new request (RFC 5104 4.3.1.1), else a repeat
                st.fir_for = st.need_kf_since
                st.fir_seq = (st.fir_seq + 1) & 0xFF
            body = struct.pack("!II", st.spec.ssrc, 0) + struct.pack("!IB3x", VIDEO_SSRC, st.fir_seq)
            self.send(i, struct.pack("!BBH", 0x84, 206, len(body) // 4) + body)
            st.n["fir"] += 1
        else:
            self.send(i, struct.pack("!BBHII", 0x81, 206, 2, st.spec.ssrc, VIDEO_SSRC))
            st.n["pli"] += 1

    def rr(self, i, now):
        """A Receiver Report for the MMR's last SR (LSR/DLSR: the MMR's RTT to this receiver)."""
        st = self.st[i]
        if st.last_sr is None or st.high is None:
            return
        lsr, at = st.last_sr
        dlsr = int((now - at) * 65536) & 0xFFFFFFFF
        block = struct.pack("!IIIIII", VIDEO_SSRC, 0, st.high & 0xFFFFFFFF, 0, lsr, dlsr)
        self.send(i, struct.pack("!BBHI", 0x81, 201, 7, st.spec.ssrc) + block)
        st.n["rr"] += 1


# ---- the publisher's log and the checker ---------------------------------------------------------

def read_live(path):
    pics, reqs, kfs, summary = {}, [], [], {}
    with open(path) as f:
        for line in f:
            v = line.split()
            if not v:
                continue
            if v[0] == "pic":
                pics[int(v[1])] = (float(v[2]), int(v[3]))
            elif v[0] == "req":
                reqs.append((v[1], float(v[2])))
            elif v[0] == "kf":
                kfs.append((int(v[1]), float(v[2]), float(v[3])))
            elif v[0] == "summary":
                summary = {v[k]: float(v[k + 1]) for k in range(1, len(v) - 1, 2)}
    return pics, reqs, kfs, summary


def check_rx(tool, refdir, st, pic_sent, path):
    """Write what the receiver kept (late packets dropped) and run `vp9_svc check --lossy`:
    ({pic: (rx sids, dec sids, out)}, error lines, summary line, late count, {pic: arrival of its
    last packet per sid})."""
    late = 0
    arrival = {}
    with open(path, "wb") as f:
        for t, p in st.packets:
            ts = struct.unpack_from("!I", p, 4)[0]
            pic = ((ts - TS0) & 0xFFFFFFFF) // 3000
            sent = pic_sent.get(pic)
            if sent is not None and t - sent[0] > LATENCY_S:
                late += 1
                continue
            try:
                sid = parse_vp9(p[12:]).sid
            except ValueError:
                sid = -1
            a = arrival.setdefault(pic, {})
            a[sid] = max(a.get(sid, 0.0), t)
            f.write(struct.pack("<IH", int(t * 1e6) & 0xFFFFFFFF, len(p)) + p)
    cp = subprocess.run([tool, "check", "--lossy", "--ref", refdir, "--rx", path],
                        capture_output=True, text=True, timeout=120)
    if cp.returncode != 0:
        raise RuntimeError("vp9_svc check failed: %s" % cp.stderr.strip())
    with open(path[:-4] + ".check.txt", "w") as f:    # kept for a look after the run
        f.write(cp.stdout)
    pics, errs, summary = {}, [], ""
    for line in cp.stdout.splitlines():
        v = line.split()
        if v and v[0] == "pic":
            out = v[9]
            pics[int(v[1])] = (v[5], v[7], int(out) if out.isdigit() else out)
        elif v and v[0] == "err":
            errs.append(line)
        elif v and v[0] == "summary":
            summary = line
    return pics, errs, summary, late, arrival


def verdict(spec, pics, errs, counted, switch_pic):
    """Failure lines in test_rtcp_loss's wording (tests/run-all.sh's negative pattern); figures."""
    fails = []
    corrupt = [p for p, (_, _, o) in pics.items() if o == "corrupt"]
    if corrupt or errs:
        fails.append("%d corrupt pictures (first %s), %d checker errors%s"
                     % (len(corrupt), min(corrupt) if corrupt else "-", len(errs),
                        ("; first: " + errs[0]) if errs else ""))

    def want(p):
        if spec.name == "dave":
            return 0 if switch_pic is None or p < switch_pic else 2
        return spec.spatial

    good = [p for p in range(counted) if p in pics and pics[p][2] == want(p)]
    ratio = len(good) / counted
    if ratio < MIN_RATIO:
        fails.append("decoded %d of %d frames pixel-exact (%.1f %%), want >= %.0f %%"
                     % (len(good), counted, 100 * ratio, 100 * MIN_RATIO))
    marks = [-1] + good + [counted]
    worst, at = 0, None
    for a, b in zip(marks, marks[1:]):
        if b - a - 1 > worst:
            worst, at = b - a - 1, a + 1
    freeze = worst / FPS
    if freeze > MAX_FREEZE_S:
        fails.append("froze %.2f s (%d frames from frame %d not shown), want <= %.1f s"
                     % (freeze, worst, at, MAX_FREEZE_S))
    return fails, len(good), freeze


def mmr_rtts(env):
    out = {}
    try:
        for p in env.ctl("participant", "list", MEETING, json=True).stdout or []:
            name = p.get("name") or p.get("participant")
            out[name] = {k: p[k] for k in p if "rtt" in k or k in ("nack_in", "pli_in", "fir_in")}
    except Exception as e:   # informative only
        out["error"] = str(e)
    return out


# ---- the run -------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("--frames", type=int, default=FRAMES)
    ap.add_argument("--loss", type=float, default=0.01, help="random loss rate of the random links")
    ap.add_argument("--burst-loss", type=float, default=0.01, help="loss rate in bursts of 10")
    ap.add_argument("--seed", default="11")
    ap.add_argument("--rtcp-off", action="store_true",
                    help="negative control: the dataplane's `rtcp = false;`; the run must FAIL")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("FAIL: must run as root (network namespace, DPDK)")
        return 1
    import mmrtest
    import test_rtcp_loss
    tool = os.path.join(args.build, "tests", "e2e", "vp9_svc")
    if not os.access(tool, os.X_OK):
        print("FAIL: %s not built (make all)" % tool)
        return 1
    L, B = args.loss, args.burst_loss
    specs = [RxSpec(0, "bob", 2, rtx=True, fir=False, random_loss=L, burst_loss=0.0),
             RxSpec(1, "carol", 1, rtx=False, fir=True, random_loss=0.0, burst_loss=B),
             RxSpec(2, "dave", 0, rtx=True, fir=False, random_loss=L / 2, burst_loss=B / 2)]
    t_start = time.monotonic()
    env = mmrtest.MmrEnv("e2e-vp9loss" + ("-off" if args.rtcp_off else ""), build=args.build,
                         asan=args.asan, rtcp=not args.rtcp_off)
    work = os.path.join(env.logdir, "vp9live")
    failures = []
    with env:
        env.wait_dp_attached()
        ip, mmr = mmrtest.CLIENT_IP, (mmrtest.MMR_IP, mmrtest.MMR_PORT)
        env.ctl("meeting", "create", MEETING, "--plain")
        env.ctl("participant", "add", MEETING, "alice", "--addr", ip, "--port", PUB_MMR_PORT,
                "--role", "sendonly", "--rtcp", "nack,pli,fir")
        env.ctl("stream", "add", MEETING, "alice", "--ssrc", VIDEO_SSRC, "--kind", "video", "--codec",
                "vp9", "--spatial", 3, "--layers", 3, "--rtx-ssrc", RTX_SSRC, "--rtx-pt", RTX_PT)
        for s in specs:
            a = ["participant", "add", MEETING, s.name, "--addr", ip, "--port", s.mmr_port, "--role",
                 "recvonly", "--rtcp", "nack,pli,fir,rsize" if s.fir else "nack,pli,rsize"]
            if s.rtx:
                a += ["--rtx", "%d:%d" % (VIDEO_PT, RTX_PT)]
            env.ctl(*a)
            a = ["sub", "set", MEETING, s.name, "--ssrc", VIDEO_SSRC, "--spatial", s.spatial,
                 "--target", 2]
            if s.rtx:
                a += ["--rtx-ssrc", s.rtx_ssrc]
            env.ctl(*a)
        env.wait_dp_attached()
        links = [ir.Link("alice", (ip, PUB_RELAY_PORT), (ip, PUB_MMR_PORT), mmr, (ip, PUB_LOCAL_PORT),
                         link_loss(args.seed, "alice", "up", L / 2, B / 2),
                         link_loss(args.seed, "alice", "down", L / 2, B / 2))]
        for s in specs:
            links.append(ir.Link(s.name, (ip, s.relay_port), (ip, s.mmr_port), mmr, (ip, s.local_port),
                                 link_loss(args.seed, s.name, "up", s.random_loss, s.burst_loss),
                                 link_loss(args.seed, s.name, "down", s.random_loss, s.burst_loss)))
        relay = ir.ImpairRelay(links).start()
        rx = Receivers(env, specs, ip)
        rx.start()
        if os.path.isdir(work):
            shutil.rmtree(work)
        os.makedirs(work)
        total = args.frames + TAIL
        print("call: %d pictures (+%d tail) of VP9 L3T3 live, loss: uplink %.3f random + %.3f in bursts "
              "of 10; bob %.3f random, carol %.3f bursts, dave as the uplink; seed %s; MMR rtcp %s"
              % (args.frames, TAIL, L / 2, B / 2, L, B, args.seed, "off" if args.rtcp_off else "on"),
              flush=True)
        pub = subprocess.Popen([tool, "live", "--out", work, "--bind", "%s:%d" % (ip, PUB_LOCAL_PORT),
                                "--dest", "%s:%d" % (ip, PUB_RELAY_PORT), "--frames", str(total),
                                "--smooth", "--rates", RATES, "--ssrc", str(VIDEO_SSRC), "--pt",
                                str(VIDEO_PT), "--rtx-ssrc", str(RTX_SSRC), "--rtx-pt", str(RTX_PT),
                                "--drain", "1.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        t_pub = time.monotonic()
        time.sleep(max(0.0, t_pub + 0.05 + T_UP - time.monotonic()))
        t_cmd = time.monotonic()
        env.ctl("sub", "set", MEETING, "dave", "--ssrc", VIDEO_SSRC, "--spatial", 2, "--target", 2,
                "--rtx-ssrc", specs[2].rtx_ssrc)
        t_cmd_done = time.monotonic()
        try:
            out, err = pub.communicate(timeout=total / FPS + 60)
        except subprocess.TimeoutExpired:
            pub.kill()
            out, err = pub.communicate()
            failures.append("publisher: did not finish")
        time.sleep(0.5)
        rx.stop.set()
        rx.join()
        relay.stop()
        if pub.returncode != 0:
            print(out)
            print("FAIL: vp9_svc live exited %s: %s" % (pub.returncode, err.strip()))
            return 1
        print(out.strip())
        ms = test_rtcp_loss.mmr_figures(env, mmrtest, types.SimpleNamespace(ssrc=VIDEO_SSRC,
                                                                            meeting=MEETING)) or {}
        rtts = mmr_rtts(env)
    pics_sent, reqs, kfs, summ = read_live(os.path.join(work, "live.txt"))
    for e in rx.errors[:5]:
        failures.append("receivers: " + e)
    print("publisher: %s" % json.dumps(summ, sort_keys=True))
    print("publisher keyframes (picture, asked at, sent after): %s"
          % ", ".join("%d %+.3f s %.0f ms" % (p, a - t_cmd, (b - a) * 1000) for p, a, b in kfs))
    ok = True
    results = {}
    for i, s in enumerate(specs):
        st = rx.st[i]
        with open(os.path.join(work, "rx-%s.log" % s.name), "w") as f:   # kept for a look after the run
            for t, what in st.log:
                f.write("%.3f %s\n" % (t - t_pub, what))
        pics, errs, summary, late, arrival = check_rx(tool, work, st, pics_sent,
                                                      os.path.join(work, "rx-%s.bin" % s.name))
        switch_pic = None
        if s.name == "dave":
            ups = sorted(p for p, (_, _, o) in pics.items() if o == 2)
            switch_pic = ups[0] if ups else None
        fails, good, freeze = verdict(s, pics, errs, args.frames, switch_pic)
        results[s.name] = (good, freeze)
        if s.name == "dave":
            if switch_pic is None:
                fails.append("up-switch: no S2 picture decoded after the sub set at %.2f s" % T_UP)
                results["upswitch"] = None
            else:
                t_up = max(arrival.get(switch_pic, {}).values() or [float("nan")]) - t_cmd
                results["upswitch"] = t_up
                kf = [k for k in kfs if k[0] == switch_pic]
                print("figures up-switch: dave S0 -> S2: sub set at %.3f s (took %.0f ms), first S2 "
                      "picture %d (%s) complete at the receiver %.0f ms after the sub set (want <= %.0f "
                      "ms); publisher keyframe asked %s, made in %s"
                      % (t_cmd - t_pub, (t_cmd_done - t_cmd) * 1000, switch_pic,
                         "a keyframe" if kf else "not a keyframe", t_up * 1000, UPSWITCH_MAX * 1000,
                         "%+.0f ms after the sub set" % ((kf[0][1] - t_cmd) * 1000) if kf else "-",
                         "%.0f ms" % ((kf[0][2] - kf[0][1]) * 1000) if kf else "-"))
                if not t_up <= UPSWITCH_MAX:
                    fails.append("up-switch took %.0f ms, want <= %.0f ms"
                                 % (t_up * 1000, UPSWITCH_MAX * 1000))
        print("  %-6s S%d: decoded %d/%d at its layer (%.1f %%), longest freeze %.2f s: %s"
              % (s.name, s.spatial, good, args.frames, 100.0 * good / args.frames, freeze,
                 "PASS" if not fails else "FAIL"))
        print("         %s; late %d; NACK sent: %d packets %d seqs; %s %d; kf requests at %s; %s"
              % (json.dumps(st.n, sort_keys=True), late, st.n["nack_pkts"], st.n["nack_seqs"],
                 "FIR" if s.fir else "PLI", st.n["fir"] if s.fir else st.n["pli"],
                 ", ".join("%.2f" % (t - t_pub) for t in st.kf_req_times[:8]) or "-", summary))
        for m in fails:
            print("      - " + m)
        ok = ok and not fails
    with open(os.path.join(work, "relay-drops.txt"), "w") as f:   # kept for a look after the run
        for ln in relay.links:
            for t, d, seq in ln.drop_log:
                f.write("%s %s %.3f %d\n" % (ln.name, d, t - t_pub, seq))
    for name, stt in sorted(relay.stats().items()):
        print("  relay %-6s up %s" % (name, {k: stt["up"][k] for k in ("passed", "dropped",
                                                                        "rtcp_dropped", "events")}))
        print("  relay %-6s down %s" % (name, {k: stt["down"][k] for k in ("passed", "dropped",
                                                                            "rtcp_dropped", "events")}))
    print("mmr rtt/feedback per participant: %s" % json.dumps(rtts, sort_keys=True))
    up = results.get("upswitch")
    print("figures vp9 (rtcp %s): frames decoded %s of %d, longest freeze %s s, up-switch %s, publisher "
          "keyframes %d (PLI %d, FIR %d asked), publisher resends %d (RTX %d, gone %d), MMR resent %s "
          "(RTX %s), MMR nack_in %s, nack_out %s, pli_in %s, fir_in %s, kf_requests %s, resend_gone %s"
          % ("off" if args.rtcp_off else "on",
             "/".join(str(results[s.name][0]) for s in specs), args.frames,
             "/".join("%.2f" % results[s.name][1] for s in specs),
             "%.0f ms" % (up * 1000) if up is not None else "none",
             summ.get("keyframes", 0), summ.get("pli", 0), summ.get("fir", 0), summ.get("resent", 0),
             summ.get("rtx", 0), summ.get("gone", 0), ms.get("resent"), ms.get("resent_rtx"),
             ms.get("nack_in"), ms.get("nack_out"), ms.get("pli_in"), ms.get("fir_in"),
             ms.get("kf_requests"), ms.get("resend_gone")))
    for f in failures:
        print("      - " + f)
    ok = ok and not failures
    print("%s: test_vp9_loss%s (%.1f s)" % ("PASS" if ok else "FAIL",
                                            " --rtcp-off" if args.rtcp_off else "",
                                            time.monotonic() - t_start))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
