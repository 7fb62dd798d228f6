#!/usr/bin/python3
"""
test_bwe_svc.py - issue 12 end to end, video: every receiver's VP9 SVC layers sized to its link by the
MMR's own bandwidth estimate (transport-wide congestion control), through a user-space bandwidth shaper.

The publisher (alice) is a real libvpx VP9 L3T3 encoder (build/tests/e2e/vp9_svc encode --smooth
--flexible: 80x45/160x90/320x180, temporal 0,2,1,2, keyframe every KF pictures, a spatial sync picture
half way; encoded before the call, the reference decode proved by the tool) sent in real time at 30 fps
with an Opus stream (libopus through ctypes, 60 ms frames at 8 kbit/s) of the same publisher, every
packet carrying the transport-cc header extension (id TWCC_ID) with alice's own transport-wide
sequence number. Through the real MMR (mmr-dataplane on net_tap + mmr-controller,
tests/lib/mmrtest.py; participants added with --rtcp ...,twcc --ext twcc=ID) to three receivers, each
behind tools/impair_relay.py with a Shaper on its downlink (token bucket, drop-tail queue of
QUEUE_MS, rate changed at run time):
  r300   300 kbit/s; at T_DROP its link falls to PAUSE_BPS, which cannot carry the lowest video layer
         (the audio fits), and returns to 300 kbit/s at T_BACK;
  r1m    1 Mbit/s; at T_DROP 250 kbit/s; back to 1 Mbit/s at T_LIFT;
  rfree  no limit.
Each receiver (one Python thread for all) takes arrival times from the kernel (SO_TIMESTAMPNS), sends
transport-wide feedback (RTPFB FMT 15, tools/twcc_feedback.py, our own builder) every 100 ms through
its relay, NACKs video gaps (generic NACK, at once and once more 100 ms later; the MMR resends from
its packet buffer), and keeps every packet; after the call `vp9_svc check --lossy` depacketizes and decodes its
video like a real receiver (a layer frame only when complete and its references were decoded) and
compares every decoded picture with the reference decode, pixel-exact; its audio payloads are compared
with what alice sent and decoded with libopus.

The layer ladder (what receiving up to each (spatial, temporal) costs on the wire, audio added) is
measured from the encoded stream; an option FITS a link when its rate fits the link's rate; the
highest layers that fit are the highest option that fits the link, or the highest that fits 75 % of
it (GCC's estimate settles at 85-95 % of a bottleneck, an allocation keeps about 10 % margin). The
shapers run in a forked process of their own (their timing is the link's), driven through the relay's
control socket; they, alice and the receivers run on SCHED_FIFO where the kernel allows (the network
and the clients keep their timing on a busy 2-CPU machine whose other CPU the dataplane polls flat
out; they sleep between packets). Checks (receiver side: what it received and decoded; MMR side: the
controller's `sub list` current layers from the layers events, polled every POLL_S):
  - no corrupt picture, ever (every receiver, every phase);
  - each receiver settles on the highest layers that fit within SETTLE_MAX s of the start and keeps
    them until T_DROP (rfree: to the end), from what it decodes and from the MMR's view;
  - r1m at 250 kbit/s: down-switched (nothing above what 250 kbit/s carries forwarded any more) within
    DOWN_MAX s, decodes again at the lower layers, and back at its old layers within RETURN_MAX s of
    T_LIFT, kept HOLD_S s (a later step up is reported, not judged: the estimate of a receiver that
    gets less than its link carries grows past the link by AIMD, see tests/README.md);
  - r300 at PAUSE_BPS: its video paused (at most 10 % of the pictures reach it; the MMR's pause
    within PAUSE_MAX s of the fall), its audio kept while its video is paused (>= 90 % of the audio
    packets sent from the MMR's pause + QUEUE_DRAIN_S, at least from T_DROP + 2 s, to T_BACK,
    byte-exact, decodable), and its video back (decoded) within VIDEO_BACK_MAX s of T_BACK.
Measured times (settling, down-switch, return, video back) are printed as "figures ..." lines.

--bwe-off: the negative control (tests/run-all.sh, must FAIL): the dataplane runs with `bwe = false;`
(targets = ceilings, S2T2 for everyone), one phase of NEG_FRAMES pictures; r300's link cannot carry
that, and its "settles" check fails (stalls: drop-tail losses).
--plain: without the issue 12 participant options (--rtcp ...,twcc --ext twcc=ID): the MMR neither
stamps nor estimates for anyone (development of the test itself, and what the test shows without them).

Run as root: /usr/bin/python3 tests/e2e/test_bwe_svc.py [--build DIR] [--bwe-off]
Exit 0 on pass. Takes about 60 s (--bwe-off about 20 s).
"""

import argparse
import ctypes
import math
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import impair_relay as ir  # noqa: E402
import twcc_feedback as tw  # noqa: E402

FPS = 30
KF = 96                     # keyframe every 3.2 s, spatial sync picture half way
RATES = "120,60,250"        # vp9_svc --rates (what the encoder makes of them: the measured ladder)
FRAMES = 1020               # 34 s
NEG_FRAMES = 300            # the negative control: 10 s
VIDEO_SSRC, AUDIO_SSRC = 0x7000, 0x7001
VIDEO_PT, AUDIO_PT = 98, 111
TWCC_ID = 3
EXT_BYTES = 8               # the one-byte-form extension block with the 2-byte transport-cc element
WIRE = 28                   # IPv4 + UDP
OPUS_FRAME_MS = 60
OPUS_BPS = 8000
FEEDBACK_S = 0.100
POLL_S = 0.25
QUEUE_MS = 300
RT_RELAY, RT_CLIENTS = 20, 10   # SCHED_FIFO priorities of the shapers and of alice + the receivers

T_DROP = 8.0                # stream time (s): r1m -> 250 kbit/s, r300 -> PAUSE_BPS
T_LIFT = 14.0               # r1m -> 1 Mbit/s
T_BACK = 16.0               # r300 -> 300 kbit/s
PAUSE_BPS = 24000
DROP_BPS = 250000
SETTLE_MAX = 5.0
DOWN_MAX = 2.0
RETURN_MAX = 10.0
HOLD_S = 3.0                # r1m: back at its old layers within RETURN_MAX and kept at least this long
PAUSE_MAX = 6.0             # r300: the MMR pauses its video within this of the fall to PAUSE_BPS
QUEUE_DRAIN_S = 1.0         # the shaper's smallest queue (3000 bytes) at PAUSE_BPS: 1 s
VIDEO_BACK_MAX = 14.0
HEADROOM = 0.75             # the highest option under this share of a link also counts as "fits"
WIN = 30                    # pictures per window (1 s)
WIN_OK = 0.9                # share of a window's pictures that must match the layers


class RxSpec:
    def __init__(self, k, name, rate):
        self.name, self.rate = name, rate
        self.mmr_port = 42010 + 10 * k       # the relay's server side: what the MMR knows
        self.relay_port = 42011 + 10 * k     # the relay's client side: where feedback goes
        self.local_port = 42012 + 10 * k     # the receiver's own socket
        self.fb_ssrc = 0x5000 + k


SPECS = [RxSpec(0, "r300", 300000), RxSpec(1, "r1m", 1000000), RxSpec(2, "rfree", None)]
PUB_PORT = 42000
RELAY_CTL_PORT = 42099


# ---- Opus through libopus (ctypes) ---------------------------------------------------------------

class Opus:
    def __init__(self):
        self.lib = ctypes.CDLL("libopus.so.0")
        err = ctypes.c_int()
        self.lib.opus_encoder_create.restype = ctypes.c_void_p
        self.lib.opus_decoder_create.restype = ctypes.c_void_p
        self.enc = self.lib.opus_encoder_create(48000, 1, 2048, ctypes.byref(err))   # VOIP
        if not self.enc or err.value:
            raise RuntimeError("opus_encoder_create: %d" % err.value)
        self.lib.opus_encoder_ctl(ctypes.c_void_p(self.enc), 4002, ctypes.c_int(OPUS_BPS))  # bitrate
        self.n = 48 * OPUS_FRAME_MS

    def encode(self, frames):
        """frames packets of a warbling tone."""
        out = []
        pcm = (ctypes.c_int16 * self.n)()
        buf = (ctypes.c_ubyte * 1500)()
        for k in range(frames):
            for i in range(self.n):
                t = (k * self.n + i) / 48000.0
                f = 300 + 100 * math.sin(2 * math.pi * 0.5 * t)
                pcm[i] = int(8000 * math.sin(2 * math.pi * f * t) * (0.6 + 0.4 * math.sin(6 * t)))
            n = self.lib.opus_encode(ctypes.c_void_p(self.enc), pcm, self.n, buf, 1500)
            if n <= 0:
                raise RuntimeError("opus_encode: %d" % n)
            out.append(bytes(buf[:n]))
        return out

    def decodes(self, payload):
        """Samples libopus decodes from one packet (<= 0: an error)."""
        err = ctypes.c_int()
        dec = self.lib.opus_decoder_create(48000, 1, ctypes.byref(err))
        pcm = (ctypes.c_int16 * 5760)()
        data = (ctypes.c_ubyte * len(payload)).from_buffer_copy(payload)
        n = self.lib.opus_decode(ctypes.c_void_p(dec), data, len(payload), pcm, 5760, 0)
        self.lib.opus_decoder_destroy(ctypes.c_void_p(dec))
        return n


# ---- the encoded video --------------------------------------------------------------------------

class Stream:
    """What vp9_svc encode wrote: packets (send time, bytes, pic, sid), pictures' tids."""

    def __init__(self, d):
        self.dir = d
        self.tid = {}
        with open(os.path.join(d, "pictures.txt")) as f:
            for line in f:
                v = line.split()
                self.tid[int(v[1])] = int(v[3])
        meta = []
        with open(os.path.join(d, "packets.txt")) as f:
            for line in f:
                v = [int(x) for x in line.split()[1:]]
                meta.append((v[1], v[2]))
        self.packets = []
        with open(os.path.join(d, "tx.bin"), "rb") as f:
            data = f.read()
        off = 0
        while off < len(data):
            t, n = struct.unpack_from("<IH", data, off)
            pic, sid = meta[len(self.packets)]
            self.packets.append((t / 1e6, data[off + 6:off + 6 + n], pic, sid))
            off += 6 + n
        self.frames = len(self.tid)

    def ladder(self, audio_bps, upto=None):
        """[(rate bit/s with audio, (S, T))] by rate: what receiving up to (S, T) costs on the wire."""
        upto = self.frames if upto is None else upto
        dur = upto / FPS
        acc = {}
        for _, p, pic, sid in self.packets:
            if pic < upto:
                k = (sid, self.tid[pic])
                acc[k] = acc.get(k, 0) + len(p) + EXT_BYTES + WIRE
        out = []
        for s in range(3):
            for t in range(3):
                b = sum(v for (ss, tt), v in acc.items() if ss <= s and tt <= t)
                out.append((b * 8 / dur + audio_bps, (s, t)))
        return sorted(out)


def encode_video(tool, work, frames):
    d = os.path.join(work, "video")
    if os.path.isdir(d):
        shutil.rmtree(d)
    cp = subprocess.run([tool, "encode", "--mode", "l3t3", "--flexible", "--smooth", "--out", d,
                         "--frames", str(frames), "--kf", str(KF), "--rates", RATES, "--ssrc",
                         str(VIDEO_SSRC), "--pt", str(VIDEO_PT)], capture_output=True, text=True,
                        timeout=180)
    if cp.returncode != 0:
        raise RuntimeError("vp9_svc encode failed: %s" % cp.stderr.strip())
    return Stream(d), cp.stdout.strip().splitlines()[-1]


def rtp(pt, seq, ts, ssrc, marker, payload):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF,
                       ssrc) + payload


# ---- the call -----------------------------------------------------------------------------------

def _relay_main(ip, mmr, conn):
    import mmrtest
    mmrtest.fixture_realtime(RT_RELAY)      # the links' clocks first
    links = [ir.Link(s.name, (ip, s.relay_port), (ip, s.mmr_port), mmr, (ip, s.local_port),
                     shape_down=ir.Shaper(s.rate, queue_ms=QUEUE_MS)) for s in SPECS]
    relay = ir.ImpairRelay(links, (ip, RELAY_CTL_PORT)).start()
    conn.send("ready")
    conn.recv()
    relay.stop()
    conn.send(relay.stats())


class RelayProcess:
    """The shapers in a process of their own (forked: in the test's network namespace), so that
    their timing does not share an interpreter lock with the publisher and the receivers; rates
    changed through the relay's control socket."""

    def __init__(self, ip, mmr):
        import multiprocessing
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_relay_main, args=(ip, mmr, child), daemon=True)
        self.proc.start()
        if not self.conn.poll(10) or self.conn.recv() != "ready":
            raise RuntimeError("the relay process did not start")
        self.ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addr = (ip, RELAY_CTL_PORT)

    def set_rate(self, name, rate):
        self.ctl.sendto(("rate %s down %s" % (name, "none" if rate is None else rate)).encode(),
                        self.addr)

    def stop(self):
        self.conn.send("stop")
        stats = self.conn.recv() if self.conn.poll(10) else {}
        self.proc.join(5)
        self.ctl.close()
        return stats


class Receivers(threading.Thread):
    """Every receiver's socket: kernel arrival times, packets by kind, TWCC feedback every 100 ms."""

    def __init__(self, socks, specs, ip):
        super().__init__(daemon=True)
        self.socks, self.specs, self.ip = socks, specs, ip
        self.twcc = [tw.TwccReceiver() for _ in specs]
        self.video = [[] for _ in specs]      # (monotonic arrival, bytes)
        self.audio = [[] for _ in specs]
        self.rtcp = [0] * len(specs)
        self.other = [0] * len(specs)
        self.other_bytes = [0] * len(specs)
        self.no_ext = [0] * len(specs)
        self.fb_sent = [0] * len(specs)
        self.high = [None] * len(specs)       # highest video seq (unwrapped)
        self.missing = [{} for _ in specs]    # unwrapped video seq -> NACKs sent for it
        self.nacks = [0] * len(specs)
        self.repaired = [0] * len(specs)
        self.stop = threading.Event()
        self.base_ns = time.time_ns() - 10 ** 10    # receiver clock: kernel time, 10 s before now
        self.mono_off = time.monotonic() - (time.time_ns() / 1e9)
        for s in socks:
            s.setsockopt(socket.SOL_SOCKET, 35, 1)    # SO_TIMESTAMPNS

    def run(self):
        next_fb = time.monotonic() + FEEDBACK_S
        idx = {s.fileno(): i for i, s in enumerate(self.socks)}
        while not self.stop.is_set():
            r, _, _ = select.select(self.socks, [], [], max(0.0, next_fb - time.monotonic()))
            for s in r:
                i = idx[s.fileno()]
                while True:
                    try:
                        pkt, anc, _, _ = s.recvmsg(65536, 256, socket.MSG_DONTWAIT)
                    except (BlockingIOError, InterruptedError):
                        break
                    ns = None
                    for lvl, typ, data in anc:
                        if lvl == socket.SOL_SOCKET and typ == 35 and len(data) >= 16:
                            sec, nsec = struct.unpack_from("@qq", data)
                            ns = sec * 10 ** 9 + nsec
                    if ns is None:
                        ns = time.time_ns()
                    self.on_packet(i, pkt, ns)
            if time.monotonic() >= next_fb:
                next_fb += FEEDBACK_S
                for i, s in enumerate(self.socks):
                    self.nack(i, again=True)
                    fb = self.twcc[i].build(self.specs[i].fb_ssrc, VIDEO_SSRC)
                    if fb:
                        s.sendto(fb, (self.ip, self.specs[i].relay_port))
                        self.fb_sent[i] += 1

    def on_packet(self, i, pkt, ns):
        if ir.is_rtcp(pkt):
            self.rtcp[i] += 1
            return
        if len(pkt) < 12 or pkt[0] >> 6 != 2:
            self.other[i] += 1
            return
        v = tw.find_ext(pkt, TWCC_ID)
        if v is not None and len(v) >= 2:
            self.twcc[i].on_packet((v[0] << 8) | v[1], (ns - self.base_ns) // 1000)
        else:
            self.no_ext[i] += 1
        mono = ns / 1e9 + self.mono_off
        pt, ssrc = pkt[1] & 0x7F, struct.unpack_from("!I", pkt, 8)[0]
        if pt == VIDEO_PT and ssrc == VIDEO_SSRC:
            self.video[i].append((mono, pkt))
            self.on_video_seq(i, (pkt[2] << 8) | pkt[3])
        elif pt == AUDIO_PT and ssrc == AUDIO_SSRC:
            self.audio[i].append((mono, pkt))
        else:                    # the MMR's probes (padding on its own SSRC) and anything else
            self.other[i] += 1
            self.other_bytes[i] += len(pkt)


    def on_video_seq(self, i, seq):
        """Gap detection on the video stream: the missing seqs are NACKed at once and once more at
        the next feedback tick (generic NACK, RFC 4585, reduced size), as a real receiver's jitter
        buffer asks; what the MMR resends fills the hole (the checker orders by seq)."""
        h = self.high[i]
        u = seq + 65536 if h is None else h + ((seq - h + 32768) & 0xFFFF) - 32768
        if h is not None and u > h + 1 and u - h < 200:
            for m in range(h + 1, u):
                self.missing[i][m] = [0, time.monotonic()]
            self.nack(i)
        if h is None or u > h:
            self.high[i] = u
        elif self.missing[i].pop(u, None) is not None:
            self.repaired[i] += 1

    def nack(self, i, again=False):
        miss = self.missing[i]
        now = time.monotonic()
        for m in [m for m, (_, t) in miss.items() if now - t > 2.0]:
            del miss[m]           # given up on (the checker sees the hole)
        want = sorted(m for m, (n, _) in miss.items() if n < (2 if again else 1))
        if not want:
            return
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
            miss[m][0] += 1
        body = struct.pack("!II", self.specs[i].fb_ssrc, VIDEO_SSRC) + fci
        self.socks[i].sendto(struct.pack("!BBH", 0x81, 205, len(body) // 4) + body,
                             (self.ip, self.specs[i].relay_port))
        self.nacks[i] += 1


class Poller(threading.Thread):
    """The controller's view: `sub list` current layers of every video subscription every POLL_S."""

    def __init__(self, env, mmrtest, meeting):
        super().__init__(daemon=True)
        self.env, self.mmrtest, self.meeting = env, mmrtest, meeting
        self.log = []           # (monotonic, {subscriber: current dict or None})
        self.est = []           # (monotonic, {participant: find_estimates' tuple})
        self.layer_kbps = []    # the video stream's layer_kbps samples
        self.errors = 0
        self.stop = threading.Event()

    def run(self):
        k = 0
        while not self.stop.wait(POLL_S):
            k += 1
            try:
                subs = self.env.ctl("sub", "list", self.meeting, json=True).stdout.get("subscriptions", [])
                cur = {x["subscriber"]: x.get("current") for x in subs if x.get("kind") == "video"}
                self.log.append((time.monotonic(), cur))
                if k % 2 == 0:     # the estimates, for the figures
                    st = self.env.ctl("stats", "--participants", json=True).stdout
                    self.est.append((time.monotonic(), {n: v for n, v in find_estimates(st)}))
                if k % 8 == 0:     # the MMR's layer rate meter of the video stream
                    vs = self.mmrtest.stream_stats(self.env.stats(), VIDEO_SSRC) or {}
                    self.layer_kbps.append(vs.get("layer_kbps"))
            except Exception:
                self.errors += 1


def find_estimates(obj):
    """(participant name, (bwe_bps, alloc_bps, paused, bwe_delay_bps, bwe_loss_bps, bwe_loss, (over-uses,
    over-uses put down to a burst, probes ok, probes failed))) of every participant in `stats --participants`."""
    if isinstance(obj, dict):
        if "bwe_bps" in obj:
            name = obj.get("participant", obj.get("name"))
            yield name, (obj.get("bwe_bps"), obj.get("alloc_bps"), obj.get("paused"),
                         obj.get("bwe_delay_bps"), obj.get("bwe_loss_bps"), obj.get("bwe_loss"),
                         tuple(obj.get(k) or 0 for k in ("bwe_overuse", "bwe_burst_ignored",
                                                         "probes_ok", "probes_failed")))
        else:
            for v in obj.values():
                yield from find_estimates(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from find_estimates(v)


def mmr_layers(cur):
    """(S, T), 'paused' or None from one `sub list` current value."""
    if not cur or not cur.get("started"):
        return None
    if cur.get("paused"):
        return "paused"
    return (cur.get("spatial"), cur.get("temporal"))


def setup(env, ip, meeting, plain):
    env.ctl("meeting", "create", meeting, "--plain")
    ext = [] if plain else ["--ext", "twcc=%d" % TWCC_ID]
    env.ctl("participant", "add", meeting, "alice", "--addr", ip, "--port", PUB_PORT, "--role",
            "sendonly", *ext)
    env.ctl("stream", "add", meeting, "alice", "--ssrc", VIDEO_SSRC, "--kind", "video", "--codec",
            "vp9", "--spatial", 3, "--layers", 3)
    env.ctl("stream", "add", meeting, "alice", "--ssrc", AUDIO_SSRC, "--kind", "audio", "--codec", "opus")
    for s in SPECS:
        env.ctl("participant", "add", meeting, s.name, "--addr", ip, "--port", s.mmr_port, "--role",
                "recvonly", "--rtcp", "nack,pli,rsize" if plain else "nack,pli,rsize,twcc", *ext)
        env.ctl("sub", "set", meeting, s.name, "--ssrc", VIDEO_SSRC, "--spatial", 2, "--target", 2)
        env.ctl("sub", "set", meeting, s.name, "--ssrc", AUDIO_SSRC, "--target", 0)


def run_call(env, mmrtest, c, stream, opus_pkts, frames, events):
    """Send the call in real time; returns what the receivers got and the timeline."""
    ip = mmrtest.CLIENT_IP
    mmr = (mmrtest.MMR_IP, mmrtest.MMR_PORT)
    rt = mmrtest.fixture_realtime(RT_CLIENTS)     # the publisher's pacing, the receivers' feedback
    relay = RelayProcess(ip, mmr)
    socks = [env.udp_socket(s.local_port) for s in SPECS]
    rx = Receivers(socks, SPECS, ip)
    rx.start()
    poll = Poller(env, mmrtest, "m-bwe")
    poll.start()
    pub = env.udp_socket(PUB_PORT)
    # the schedule: (stream time, kind, payload) merged; video pictures at i/30, audio every 60 ms
    sched = [(t, 0, p) for t, p, pic, _ in stream.packets if pic < frames]
    dur = frames / FPS
    a_sent = {}
    for k in range(int(dur * 1000 / OPUS_FRAME_MS)):
        pl = opus_pkts[k % len(opus_pkts)]
        pkt = rtp(AUDIO_PT, 1000 + k, 48 * OPUS_FRAME_MS * k, AUDIO_SSRC, k == 0, pl)
        a_sent[(1000 + k) & 0xFFFF] = (k * OPUS_FRAME_MS / 1000.0, pl)
        sched.append((k * OPUS_FRAME_MS / 1000.0, 1, pkt))
    sched.sort(key=lambda x: (x[0], x[1]))
    ev = sorted(events)
    seq = 0
    fails = 0
    pub_rtcp = 0
    start = time.monotonic() + 0.3
    lag = 0.0
    applied = []
    for t, kind, pkt in sched:
        while ev and ev[0][0] <= t:
            et, name, rate = ev.pop(0)
            now = time.monotonic()
            if start + et > now:
                time.sleep(start + et - now)
            relay.set_rate(name, rate)
            applied.append((name, rate, time.monotonic() - start))
        due = start + t
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        else:
            lag = max(lag, now - due)
        wire = tw.add_ext(pkt, TWCC_ID, struct.pack("!H", seq & 0xFFFF))
        seq += 1
        if not env.send(pub, wire):
            fails += 1
        while select.select([pub], [], [], 0)[0]:     # the MMR's feedback to alice: counted
            try:
                pub.recv(65536)
                pub_rtcp += 1
            except BlockingIOError:
                break
    time.sleep(1.0)             # the shapers' queues drain
    rx.stop.set()
    poll.stop.set()
    rx.join()
    poll.join()
    relay_stats = relay.stop()
    for s in socks + [pub]:
        s.close()
    if rt:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    c.note("the shapers, alice and the receivers ran %s" % ("on SCHED_FIFO" if rt else
                                                              "at normal priority (SCHED_FIFO refused)"))
    c.check(fails == 0, "alice sent all %d packets in real time (largest lag %.0f ms)"
            % (len(sched), lag * 1000), "%d sends failed" % fails)
    c.note("link changes at stream times: %s" % ", ".join("%s %s at %.2f s" % (n, r, t)
                                                           for n, r, t in applied))
    c.note("alice got %d packets from the MMR (its feedback to the publisher)" % pub_rtcp)
    for i, s in enumerate(SPECS):
        c.note("%s: %d video, %d audio, %d RTCP, %d other packets (probes; %d bytes); %d without "
               "transport-cc; "
               "%d feedback sent, %d late arrivals; %d NACKs sent, %d holes filled; relay %s"
               % (s.name, len(rx.video[i]), len(rx.audio[i]), rx.rtcp[i], rx.other[i],
                  rx.other_bytes[i], rx.no_ext[i],
                  rx.fb_sent[i], rx.twcc[i].late, rx.nacks[i], rx.repaired[i],
                  relay_stats[s.name]["shape_down"]))
    return rx, poll, start, a_sent


# ---- the verdict --------------------------------------------------------------------------------

def check_video(tool, stream, path, pkts, start):
    with open(path, "wb") as f:
        for t, p in pkts:
            f.write(struct.pack("<IH", int(max(0.0, t - start) * 1e6) & 0xFFFFFFFF, len(p)) + p)
    cp = subprocess.run([tool, "check", "--lossy", "--ref", stream.dir, "--rx", path],
                        capture_output=True, text=True, timeout=120)
    if cp.returncode != 0:
        raise RuntimeError("vp9_svc check failed: %s" % cp.stderr.strip())
    pics, errs, summary = {}, [], ""
    for line in cp.stdout.splitlines():
        v = line.split()
        if v and v[0] == "pic":
            rxs = [] if v[5] == "-" else [int(x) for x in v[5].split(",")]
            out = v[9]
            pics[int(v[1])] = dict(tid=int(v[3]), rx=rxs, out=int(out) if out.isdigit() else out)
        elif v and v[0] == "err":
            errs.append(line)
        elif v and v[0] == "summary":
            summary = line
    return pics, errs, summary


class Timeline:
    """One receiver's pictures as (S, T) options: consistency per picture, windows, times."""

    def __init__(self, stream, pics, frames):
        self.stream, self.pics, self.frames = stream, pics, frames

    def at(self, p, opt):
        """Picture p is what a receiver at option opt gets: tid <= T decoded at S, others absent."""
        s, t = opt
        g = self.pics.get(p)
        if self.stream.tid[p] > t:
            return g is None
        return g is not None and g["out"] == s

    def window_opt(self, a, opts):
        """The option of opts the window [a, a+WIN) is at, or None."""
        for o in opts:
            if sum(self.at(p, o) for p in range(a, a + WIN)) >= WIN_OK * WIN:
                return o
        return None

    def window_switch(self, a, prev, opts):
        """Whether the window [a, a+WIN) is a switch from option prev to another of opts: its
        pictures at prev up to some picture, at that other option from there (WIN_OK of them)."""
        for o in opts:
            if o == prev:
                continue
            for k in range(a + 1, a + WIN):
                ok = sum(self.at(p, prev) for p in range(a, k)) + sum(self.at(p, o) for p in range(k, a + WIN))
                if ok >= WIN_OK * WIN:
                    return True
        return False

    def settle(self, a, b, opts):
        """Stream time from picture a until the receiver is at one of opts in every window up to
        b (None: never), and the option of the last window. A window that switches from one of opts
        to another (S0T2 -> S1T0 at S1's switch point) keeps it settled."""
        step = 3
        last = None
        since = None
        for w in range(a, b - WIN + 1, step):
            o = self.window_opt(w, opts)
            if o is None and since is not None and last in opts and self.window_switch(w, last, opts):
                continue
            if o is None:
                since = None
            elif since is None:
                since = w
            last = o
        if since is None:
            return None, last
        return (since - a) / FPS, last

    def rx_over(self, a, b, allowed):
        """Last picture in [a, b) received with layers beyond the allowed options (-1: none)."""
        last = -1
        for p in range(a, b):
            g = self.pics.get(p)
            if g and g["rx"]:
                o = (max(g["rx"]), self.stream.tid[p])
                if not any(o[0] <= s and o[1] <= t for s, t in allowed):
                    last = p
        return last

    def received(self, a, b):
        return sum(1 for p in range(a, b) if self.pics.get(p) and self.pics[p]["rx"])

    def first_decoded(self, a, b):
        for p in range(a, b):
            g = self.pics.get(p)
            if g and isinstance(g["out"], int):
                return p
        return None


def mmr_times(poll_log, start, name, t0, t1, opts):
    """(seconds from t0 until the MMR's view of name is in opts at every later poll up to t1, the
    last value seen in [t0, t1])."""
    since, last = None, None
    for t, cur in poll_log:
        st = t - start
        if st < t0 or st > t1:
            continue
        v = mmr_layers(cur.get(name))
        last = v
        if v in opts:
            if since is None:
                since = st
        else:
            since = None
    return (None if since is None else since - t0), last


def est_first(est, start, name, t0, cond):
    """Seconds from t0 to the first `stats --participants` sample of name that meets cond."""
    for t, e in est:
        v = e.get(name)
        if t - start >= t0 and v and v[2] is not None and cond(v):
            return t - start - t0
    return None


def fmt(x):
    return "never" if x is None else "%.2f s" % x


def opt_name(o):
    return o if isinstance(o, str) or o is None else "S%dT%d" % o


def verdict(c, args, stream, rx, poll, start, a_sent, opus, frames, tool, work):
    audio_bps = sum(len(p) + 12 + EXT_BYTES + WIRE for _, p in a_sent.values()) * 8 / (frames / FPS)
    lad = stream.ladder(audio_bps, frames)
    alone = [0] * 12
    for _, pk, pic, sid in stream.packets:
        if pic < frames:
            alone[sid * 4 + stream.tid[pic]] += len(pk) + EXT_BYTES
    c.note("the sender's layer rates (sid*4+tid, each alone, RTP bytes, kbit/s): %s"
           % [int(b * 8 / (frames / FPS) / 1000) for b in alone])
    c.note("ladder (wire bit/s with audio %.0f): %s" % (audio_bps, ", ".join(
        "%s %.0f" % (opt_name(o), r) for r, o in lad)))

    def fitting(rate):
        return [o for r, o in lad if rate is None or r <= rate]

    def best(rate):
        f = fitting(rate)
        return f[-1] if f else None

    def acceptable(rate):
        return list(dict.fromkeys(o for o in (best(rate), best(None if rate is None else HEADROOM * rate))
                                  if o is not None))

    p_drop = int(T_DROP * FPS) if not args.bwe_off else frames
    figures = []
    ok_all = True
    for i, s in enumerate(SPECS):
        pics, errs, summary = check_video(tool, stream, os.path.join(work, "rx-%s.bin" % s.name),
                                          rx.video[i], start)
        c.note("%s: %s" % (s.name, summary))
        tl = Timeline(stream, pics, frames)
        corrupt = [p for p, g in sorted(pics.items()) if g["out"] == "corrupt"]
        ok_all &= c.check(not corrupt and not errs, "%s: no corrupt picture, no protocol error"
                          % s.name, "%d corrupt (first %s); %s" % (len(corrupt), corrupt[:5], errs[:3]))
        # phase 1: settle on the highest layers that fit
        end1 = p_drop if s.name != "rfree" else frames
        opts = acceptable(s.rate)
        t_set, last = tl.settle(0, end1, opts)
        m_set, m_last = mmr_times(poll.log, start, s.name, 0.0, end1 / FPS - 0.5, opts)
        figures.append("%s settled on %s in %s (MMR view: %s in %s)"
                       % (s.name, opt_name(last), fmt(t_set), opt_name(m_last), fmt(m_set)))
        ok_all &= c.check(t_set is not None and t_set <= SETTLE_MAX,
                          "%s: settled on the highest layers that fit %s (%s) within %.0f s, kept "
                          "until %.0f s" % (s.name, "no limit" if s.rate is None else "%d kbit/s"
                                            % (s.rate // 1000), "/".join(map(opt_name, opts)),
                                            SETTLE_MAX, end1 / FPS),
                          "settled: %s, last window %s" % (fmt(t_set), opt_name(last)))
        if not args.plain:
            ok_all &= c.check(m_set is not None and m_set <= SETTLE_MAX + 1.0,
                              "%s: the MMR's current layers (sub list) settled within %.0f s"
                              % (s.name, SETTLE_MAX + 1.0),
                              "settled: %s, last %s" % (fmt(m_set), opt_name(m_last)))
        if args.bwe_off:
            continue
        if s.name == "r1m":
            p_lift = int(T_LIFT * FPS)
            low = fitting(DROP_BPS)
            over = tl.rx_over(p_drop, p_lift, low)
            t_down = max(0.0, (over + 1) / FPS - T_DROP) if over >= 0 else 0.0
            m_down, m_dlast = mmr_times(poll.log, start, s.name, T_DROP, T_LIFT, low + ["paused"])
            dec_low = tl.first_decoded(max(over + 1, p_drop), p_lift)
            above = tl.rx_over(p_drop - WIN, p_drop, low) >= 0
            figures.append("r1m down-switched in %.2f s (MMR view %s, to %s), decoding again at "
                           "%s after the drop%s" % (t_down, fmt(m_down), opt_name(m_dlast),
                                                    fmt(None if dec_low is None else dec_low / FPS - T_DROP),
                                                    "" if above else " (it got nothing above what "
                                                    "250 kbit/s carries in the second before)"))
            ok_all &= c.check(over < 0 or t_down <= DOWN_MAX,
                              "r1m: down-switched within %.0f s of its link falling to %d kbit/s"
                              % (DOWN_MAX, DROP_BPS // 1000), "layers above %s until %.2f s after"
                              % ("/".join(map(opt_name, low[-2:])), t_down))
            ok_all &= c.check(dec_low is not None, "r1m: decodes at the lower layers before the limit "
                              "is lifted", "nothing decoded after the down-switch")
            old = [last] if last else opts
            # judged up to RETURN_MAX + HOLD_S after the lift: what comes later (a step up from
            # there when the estimate grows past the old layers) is reported, not judged
            p_held = min(frames, p_lift + int((RETURN_MAX + HOLD_S) * FPS))
            t_ret, rlast = tl.settle(p_lift, p_held, old)
            m_ret, m_rlast = mmr_times(poll.log, start, s.name, T_LIFT, p_held / FPS - 0.5, old)
            _, m_end = mmr_times(poll.log, start, s.name, p_held / FPS, frames / FPS, old)
            figures.append("r1m returned to %s in %s after the lift (MMR view %s; at the end %s)"
                           % (opt_name(rlast), fmt(t_ret), fmt(m_ret), opt_name(m_end)))
            ok_all &= c.check(t_ret is not None and t_ret <= RETURN_MAX,
                              "r1m: back at its old layers %s within %.0f s of the limit lifted"
                              % ("/".join(map(opt_name, old)), RETURN_MAX),
                              "returned: %s, last window %s" % (fmt(t_ret), opt_name(rlast)))
        if s.name == "r300":
            p_back = int(T_BACK * FPS)
            a0 = int((T_DROP + 3.0) * FPS)
            n_rx = tl.received(a0, p_back)
            m_pause = est_first(poll.est, start, s.name, T_DROP, lambda v: v[2])
            m_resume = est_first(poll.est, start, s.name, T_BACK, lambda v: not v[2])
            figures.append("r300 at %d kbit/s: %d of %d pictures received from %.0f s (MMR view: "
                           "paused after %s, resumed %s after the link recovered)"
                           % (PAUSE_BPS // 1000, n_rx, p_back - a0, T_DROP + 3, fmt(m_pause),
                              fmt(m_resume)))
            ok_all &= c.check(n_rx <= 0.1 * (p_back - a0), "r300: video paused on a link that cannot "
                              "carry its lowest layer (%d kbit/s)" % (PAUSE_BPS // 1000),
                              "%d of %d pictures received" % (n_rx, p_back - a0))
            ok_all &= c.check(m_pause is not None and m_pause <= PAUSE_MAX,
                              "r300: video paused by the MMR within %.0f s of its link falling"
                              % PAUSE_MAX, "paused after %s" % fmt(m_pause))
            # audio while its video is paused (from the MMR's pause, once the link's queue of the
            # video sent before it has drained: QUEUE_DRAIN_S), byte-exact and decodable
            t_a, t_b = T_DROP + max(2.0, (m_pause or 0.0) + QUEUE_DRAIN_S), T_BACK
            want = {q for q, (t, _) in a_sent.items() if t_a <= t < t_b}
            got = {}
            for _, pkt in rx.audio[i]:
                q = (pkt[2] << 8) | pkt[3]
                if q in want:
                    got[q] = pkt
            bad = 0
            for q, pkt in got.items():
                hl = 12 + 4 * (pkt[0] & 0x0F)
                if pkt[0] & 0x10:
                    hl += 4 + 4 * struct.unpack_from("!H", pkt, hl + 2)[0]
                pl = pkt[hl:]
                if pl != a_sent[q][1] or opus.decodes(pl) <= 0:
                    bad += 1
            figures.append("r300 audio during the pause (sent %.1f-%.1f s): %d of %d packets, %d not "
                           "byte-exact or undecodable" % (t_a, t_b, len(got), len(want), bad))
            ok_all &= c.check(len(got) >= 0.9 * len(want) and not bad,
                              "r300: keeps its audio while its video is paused (>= 90 %, byte-exact, "
                              "decodable)", "%d of %d, %d bad" % (len(got), len(want), bad))
            back = tl.first_decoded(p_back, frames)
            t_back = None if back is None else back / FPS - T_BACK
            m_back, _ = mmr_times(poll.log, start, s.name, T_BACK, frames / FPS,
                                  [o for _, o in lad])
            figures.append("r300 video back %s after its link recovered (MMR view %s)"
                           % (fmt(t_back), fmt(m_back)))
            ok_all &= c.check(t_back is not None and t_back <= VIDEO_BACK_MAX,
                              "r300: video back within %.0f s of its link recovering" % VIDEO_BACK_MAX,
                              "back: %s" % fmt(t_back))
    for s in SPECS:   # the MMR's estimate and allocation toward each receiver, per second
        row = {}
        for t, est in poll.est:
            v = est.get(s.name)
            if v and v[0] is not None:
                row.setdefault(int(t - start), v)
        c.note("%s estimate/allocated kbit/s by second: %s" % (s.name, " ".join(
            "%d:%d/%d" % (k, (v[0] or 0) // 1000, (v[1] or 0) // 1000) for k, v in sorted(row.items()))))
        c.note("%s delay-based/loss-based kbit/s, loss/256 by second: %s" % (s.name, " ".join(
            "%d:%d/%d,%d" % (k, (v[3] or 0) // 1000, (v[4] or 0) // 1000, v[5] or 0)
            for k, v in sorted(row.items()))))
        prev, ev = (0, 0, 0, 0), []
        for k, v in sorted(row.items()):
            if v[6] != prev:
                ev.append("%d:%s" % (k, "/".join("%+d" % (a - b) for a, b in zip(v[6], prev))))
                prev = v[6]
        c.note("%s over-uses/ignored bursts/probes ok/probes failed, when they changed: %s"
               % (s.name, " ".join(ev)))
        prev, ev = "", []
        for t, cur in poll.log:
            o = mmr_layers(cur.get(s.name))
            o = o if o in (None, "paused") else "S%sT%s" % o
            if o != prev:
                ev.append("%.2f:%s" % (t - start, o))
                prev = o
        c.note("%s the MMR's layers, when they changed: %s" % (s.name, " ".join(ev)))
    for f in figures:
        print("figures: " + f)
    return ok_all


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("--bwe-off", action="store_true",
                    help="negative control: the dataplane's `bwe = false;`; the run must FAIL")
    ap.add_argument("--plain", action="store_true",
                    help="no issue 12 participant options (development)")
    args = ap.parse_args()
    import mmrtest
    c = mmrtest.Checks("test_bwe_svc" + (" --bwe-off" if args.bwe_off else ""))
    tool = os.path.join(args.build, "tests", "e2e", "vp9_svc")
    if not os.access(tool, os.X_OK):
        c.check(False, "built", "%s missing (make all)" % tool)
        c.done()
    if os.geteuid() != 0:
        c.check(False, "running as root (network namespace, DPDK)")
        c.done()
    work = os.path.join(args.build, "test-logs", "e2e-bwe-svc" + ("-off" if args.bwe_off else ""))
    os.makedirs(work, exist_ok=True)
    frames = NEG_FRAMES if args.bwe_off else FRAMES
    try:
        tw._selftest()          # our feedback builder against its own parser (raises if wrong)
        stream, line = encode_video(tool, work, frames)
        c.note("video: %s" % line)
        opus = Opus()
        opus_pkts = opus.encode(50)
        events = [] if args.bwe_off else [(T_DROP, "r1m", DROP_BPS), (T_DROP, "r300", PAUSE_BPS),
                                          (T_LIFT, "r1m", 1000000), (T_BACK, "r300", 300000)]
        env = mmrtest.MmrEnv("e2e-bwe" + ("-off" if args.bwe_off else ""), build=args.build,
                             asan=args.asan)
        env.extra_dp_conf = "bwe = false;\n" if args.bwe_off else "bwe = true;\nbwe_min_kbps = 10;\n"
        with env:
            env.wait_dp_attached()
            setup(env, mmrtest.CLIENT_IP, "m-bwe", args.plain)
            env.wait_dp_attached()
            rx, poll, start, a_sent = run_call(env, mmrtest, c, stream, opus_pkts, frames, events)
            try:     # the MMR's own figures, for the log
                st = env.stats()
                drops = {k: v for k, v in mmrtest.drop_counts(st).items() if v}
                c.note("mmr drops %s" % drops)
                lk = [v for v in poll.layer_kbps if v]
                if lk:
                    c.note("the MMR's layer_kbps of the video stream (sid*4+tid, each alone) over "
                           "%d samples: mean %s, max %s" % (len(lk), [
                               int(sum(v[k] for v in lk) / len(lk)) for k in range(len(lk[0]))],
                               [max(v[k] for v in lk) for k in range(len(lk[0]))]))
                for s in SPECS:
                    cp = env.ctl("participant", "show", "m-bwe", s.name, check=False)
                    c.note("mmr participant %s: %s" % (s.name, " ".join(cp.stdout.split())[:600]))
            except Exception as e:  # informative only
                c.note("mmr figures unavailable: %s" % e)
        ok = verdict(c, args, stream, rx, poll, start, a_sent, opus, frames, tool, work)
        c.note("end to end: %s" % ("every check passed" if ok else "FAILED"))
    except Exception as e:  # noqa: a test must report, not crash
        import traceback
        traceback.print_exc()
        c.check(False, "test ran to the end", "%s: %s" % (type(e).__name__, e))
    c.done()


if __name__ == "__main__":
    main()
