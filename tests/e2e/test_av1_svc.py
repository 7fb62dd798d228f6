#!/usr/bin/python3
"""
test_av1_svc.py - end-to-end test of the MMR with AV1 SVC and the Dependency Descriptor.

The sender is a real libaom real-time SVC encoder (tests/e2e/tools/av1_svc.c, built as
build/tests/e2e/av1_svc): L3T3 (80x44, 160x88, 320x176; temporal pattern 0 2 1 2; every layer
frame predicted from its own layer's T0/T1 frame and from the layer below in the same picture;
keyframes every 40 pictures), L1T3 (320x176) and L3T3_KEY (K-SVC, --mode ksvc: the same layers,
inter-layer prediction in key pictures only; in delta pictures each layer frame references only
its own layer's earlier frames, so a lower layer's delta frames are NOT_PRESENT for a higher
spatial decode target and are not forwarded to its receivers; chain c runs through the key
picture's frames of S0..Sc, then through the T0 frames of Sc alone), 240 pictures at 30 fps, with a
reference structure the tool sets itself so it knows every dependency. Each layer frame goes out as RTP per the AV1 RTP
payload format (OBU elements without size fields, aggregation header, fragments) with the
Dependency Descriptor (templates with DTIs, fdiffs, one chain per spatial layer, resolutions; the
structure attached to keyframes, two-byte header form there) under --dd-ext 5, and an
abs-send-time-like 3-byte element under id 3 that must arrive unchanged.

Receivers (each a UDP socket of its own; what it got is decoded offline by the tool with libaom,
one temporal unit per picture, and compared picture by picture with the reference decodes of the
encoder's output filtered by the sender's own layer knowledge):
  L3T3: bob dt 8 (S2T2), carol dt 6 (S2T0), dave dt 5 (S1T2), erin dt 0 (S0T0), and frank who
        starts at dt 8 and is moved (mmrctl sub set --dt, while the stream runs) to 3 (S1T0),
        4 (S1T1, temporal up), 8 (spatial+temporal up, at a keyframe), 0 (down both), 7 (S0 to S2
        in one step, at a keyframe) and 2 (S0T2: spatial down with temporal up).
  L1T3: gina dt 2, hugo dt 1, ivan dt 0, and jane 2 -> 0 -> 2 -> 1.
  L3T3_KEY: kim dt 8, leo dt 7 (S2T1), mia dt 4 (S1T1), ned dt 0, and oscar 8 -> 6 (temporal down,
        at once) -> 7 (temporal up, at a T1 frame) -> 1 (S2 to S0: spatial down, which in K-SVC
        waits for a keyframe: an S2 receiver has none of S0's delta frames) -> 2 (temporal up)
        -> 8 (spatial up, at a keyframe) -> 3 (down both, at a keyframe) -> 4 (temporal up).
The tool's checks per receiver: every packet is one that was sent (payload byte for byte), SSRC,
contiguous sequence numbers, constant timestamp offset, the other extension element unchanged, the
descriptor parses (with the structure the receiver got) and says the layer that was sent, its frame
numbers are the sent ones (or consistently rebased), the marker is on the last packet of the
highest layer frame it got of each picture; every picture decodes, pixel-exact, and a receiver at a
fixed target gets exactly the pictures of its target; a switching receiver is pixel-exact to some
target between old and new while switching, and exactly on the new target from a bounded number of
pictures (--slack) after the first valid switching point that follows the change (+ --settle).

The active decode targets a receiver is told (where the MMR adds or rewrites the bitmask) must be
those all of whose frames it gets (from the DTIs: L3T3 sid and tid at or below its own; K-SVC the
lower temporal targets of its own spatial layer only).

selfcheck_av1.py runs the same session through an ideal Python relay and shows that the checks
catch a relay that breaks the rules.

Run as root: /usr/bin/python3 tests/e2e/test_av1_svc.py [--build DIR] [--asan] [--structures
L3T3,L1T3,L3T3_KEY] [--keep DIR]. Exit 0 on pass. Takes about 45 s.
"""

import argparse
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

MEETING = "m1"
DD_EXT = 5
ABS_EXT = 3
PICTURES = 240
KEYINT = 40
SETTLE = 10     # pictures from `mmrctl sub set` returning to the change being due
SLACK = 8       # pictures allowed after the first valid switching point

REC = struct.Struct("<HHBBBBIHH")
F_KEY, F_START, F_END, F_STRUCT, F_NEWCVS, F_MARKER = 1, 2, 4, 8, 16, 32
DTI_SWITCH = 2


class Rx:
    def __init__(self, name, port, dt, switches=()):
        self.name = name
        self.port = port
        self.dt = dt
        self.switches = list(switches)   # [(sender picture, new dt)]


# name, spatial layers, SSRC, sender port, receivers
STRUCTURES = {
    "L3T3": (3, 0x5A000001, 41000, [
        Rx("bob", 41002, 8), Rx("carol", 41004, 6), Rx("dave", 41006, 5), Rx("erin", 41008, 0),
        Rx("frank", 41010, 8, [(14, 3), (36, 4), (58, 8), (100, 0), (136, 7), (184, 2)])]),
    "L1T3": (1, 0x5A000002, 41100, [
        Rx("gina", 41102, 2), Rx("hugo", 41104, 1), Rx("ivan", 41106, 0),
        Rx("jane", 41108, 2, [(30, 0), (90, 2), (160, 1)])]),
    "L3T3_KEY": (3, 0x5A000003, 41200, [
        Rx("kim", 41202, 8), Rx("leo", 41204, 7), Rx("mia", 41206, 4), Rx("ned", 41208, 0),
        Rx("oscar", 41210, 8, [(14, 6), (36, 7), (58, 1), (96, 2), (126, 8), (176, 3), (214, 4)])]),
}
MODES = {"L3T3_KEY": "ksvc"}    # av1_svc encode --mode (default svc)


class Sent:
    """What the tool encoded: info.txt and the records + packets of sent.bin."""

    def __init__(self, d):
        self.dir = d
        self.info = {}
        with open(os.path.join(d, "info.txt")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                self.info[k] = int(v)
        self.recs = []     # (len, pic, sid, tid, flags, kind, dtis, fn, packet bytes)
        self.dd_end = {}   # record index: bit where the attached structure ends
        with open(os.path.join(d, "sent.bin"), "rb") as f:
            data = f.read()
        off = 0
        while off < len(data):
            r = REC.unpack_from(data, off)
            off += REC.size
            if r[4] & F_STRUCT:
                self.dd_end[len(self.recs)] = r[8]
            self.recs.append(r[:8] + (data[off:off + r[0]],))
            off += r[0]
        self.by_seq = {struct.unpack_from("!H", r[8], 2)[0]: i for i, r in enumerate(self.recs)}
        self.pictures = self.info["pictures"]
        self.fps = self.info["fps"]


def encode(tool, out, spatial, ssrc, pictures=PICTURES, mode="svc"):
    cp = subprocess.run([tool, "encode", "--out", out, "--spatial", str(spatial), "--mode", mode,
                         "--ssrc",
                         str(ssrc), "--pictures", str(pictures), "--keyint", str(KEYINT),
                         "--dd-ext", str(DD_EXT), "--abs-ext", str(ABS_EXT)],
                        capture_output=True, text=True, timeout=120)
    if cp.returncode != 0:
        raise RuntimeError("av1_svc encode failed: %s" % (cp.stderr or cp.stdout).strip())
    return Sent(out), cp.stdout.strip()


class Collector(threading.Thread):
    """Receives on every receiver socket; keeps each receiver's datagrams in arrival order."""

    def __init__(self, socks):
        super().__init__(name="collector", daemon=True)
        self.socks = socks                     # {name: socket}
        self.got = {n: [] for n in socks}
        self.sources = {n: set() for n in socks}
        self.errors = []
        self._quit = threading.Event()
        for s in socks.values():
            s.setblocking(False)

    def run(self):
        names = {s.fileno(): n for n, s in self.socks.items()}
        while not self._quit.is_set():
            r, _, _ = select.select(list(self.socks.values()), [], [], 0.05)
            for s in r:
                while True:
                    try:
                        pkt, src = s.recvfrom(65536)
                    except BlockingIOError:
                        break
                    except OSError as e:
                        self.errors.append(str(e))
                        break
                    n = names[s.fileno()]
                    self.got[n].append(pkt)
                    self.sources[n].add(src)

    def stop(self, drain=0.5):
        time.sleep(drain)
        self._quit.set()
        self.join()


def run_session(sent, sender_sock, dest, rx_socks, rxs, set_dt):
    """Send the stream paced at its frame rate; issue each receiver's target changes (off the
    sending thread) when the sender reaches their picture. Returns (collector, switch log
    {name: [(picture issued, picture when done, dt)]}, send errors)."""
    col = Collector(rx_socks)
    col.start()
    log = {r.name: [] for r in rxs}
    pending = sorted((p, r.name, dt) for r in rxs for p, dt in r.switches)
    cur = [0]
    todo = []
    cv = threading.Condition()
    stop = [False]
    errors = []

    def switcher():
        while True:
            with cv:
                while not todo and not stop[0]:
                    cv.wait()
                if not todo:
                    return
                pic, name, dt = todo.pop(0)
            try:
                set_dt(name, dt)
            except Exception as e:   # reported; the receiver's checks will fail too
                errors.append("set %s dt %d: %s" % (name, dt, e))
            log[name].append((pic, cur[0], dt))

    th = threading.Thread(target=switcher, name="switcher", daemon=True)
    th.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    i = 0
    try:
        for p in range(sent.pictures):
            cur[0] = p
            with cv:
                while pending and pending[0][0] <= p:
                    todo.append(pending.pop(0))
                    cv.notify()
            while i < len(sent.recs) and sent.recs[i][1] == p:
                try:
                    sender_sock.sendto(sent.recs[i][8], dest)
                except BlockingIOError:
                    select.select([], [sender_sock], [], 0.5)
                    sender_sock.sendto(sent.recs[i][8], dest)
                except OSError as e:
                    errors.append("send: %s" % e)
                i += 1
            delay = t0 + (p + 1) / sent.fps - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    finally:
        with cv:
            stop[0] = True
            cv.notify()
        th.join()
        col.stop()
    return col, log, errors


def check(tool, sent, workdir, rx, packets, log, settle=SETTLE, slack=SLACK):
    """Runs `av1_svc check` on what one receiver got; returns (ok, output text)."""
    path = os.path.join(workdir, "recv-%s.bin" % rx.name)
    with open(path, "wb") as f:
        for p in packets:
            f.write(struct.pack("<I", len(p)))
            f.write(p)
    argv = [tool, "check", "--dir", sent.dir, "--recv", path, "--name", rx.name, "--dt",
            str(rx.dt), "--settle", str(settle), "--slack", str(slack)]
    if rx.switches:
        done = log.get(rx.name, [])
        if len(done) != len(rx.switches):
            return False, "%s: only %d of %d target changes were issued" % (
                rx.name, len(done), len(rx.switches))
        argv += ["--switch", ",".join("%d:%d" % (d, dt) for _, d, dt in done)]
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    out = (cp.stdout + cp.stderr).rstrip()
    return cp.returncode == 0, out


def check_all(tool, sent, workdir, rxs, col, log, out=print, expect_src=None):
    ok = True
    for rx in rxs:
        good, text = check(tool, sent, workdir, rx, col.got[rx.name], log)
        for line in text.splitlines():
            out("  " + line)
        if expect_src is not None and col.sources[rx.name] - {expect_src}:
            out("  %s FAIL: packets from %s, want only %s" % (rx.name, sorted(col.sources[rx.name]),
                                                             expect_src))
            good = False
        ok = ok and good
    for e in col.errors:
        out("  receive error: " + e)
    return ok and not col.errors


# ---- the real MMR ------------------------------------------------------------------------------

def run_mmr_structure(env, mmrtest, tool, workdir, name, meeting, out=print):
    nsl, ssrc, sport, rxs = STRUCTURES[name]
    sent, summary = encode(tool, os.path.join(workdir, name), nsl, ssrc,
                           mode=MODES.get(name, "svc"))
    out("%s: %s" % (name, summary))
    env.ctl("meeting", "create", meeting, "--plain")
    env.ctl("participant", "add", meeting, "alice-" + name.lower(), "--addr", mmrtest.CLIENT_IP,
            "--port", str(sport), "--role", "sendonly")
    env.ctl("stream", "add", meeting, "alice-" + name.lower(), "--ssrc", str(ssrc), "--kind",
            "video", "--codec", "av1", "--layers", "3", "--spatial", str(nsl), "--dd-ext",
            str(DD_EXT))
    for r in rxs:
        env.ctl("participant", "add", meeting, r.name, "--addr", mmrtest.CLIENT_IP, "--port",
                str(r.port), "--role", "recvonly")
        env.ctl("sub", "set", meeting, r.name, "--ssrc", str(ssrc), "--dt", str(r.dt))
    env.wait_dp_attached()
    socks = {r.name: env.udp_socket(r.port) for r in rxs}
    sender = env.udp_socket(sport)

    def set_dt(rname, dt):
        env.ctl("sub", "set", meeting, rname, "--ssrc", str(ssrc), "--dt", str(dt))

    col, log, errors = run_session(sent, sender, (mmrtest.MMR_IP, mmrtest.MMR_PORT), socks, rxs,
                                   set_dt)
    try:
        subs = env.ctl("sub", "list", meeting, json=True, check=False).stdout
        for sb in subs.get("subscriptions", []):
            out("%s: mmrctl sub list: %s target_dt %s current %s" % (
                name, sb.get("subscriber"), sb.get("target_dt"), sb.get("current")))
    except Exception as e:   # informative only
        out("%s: sub list unavailable: %s" % (name, e))
    for s in list(socks.values()) + [sender]:
        s.close()
    for e in errors:
        out("  %s FAIL: %s" % (name, e))
    for r in rxs:
        if log.get(r.name):
            out("  %s: target changes (issued at picture, done at picture, dt): %s"
                % (r.name, log[r.name]))
    ok = check_all(tool, sent, workdir, rxs, col, log, out,
                   expect_src=(mmrtest.MMR_IP, mmrtest.MMR_PORT))
    return ok and not errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("--structures", default="L3T3,L1T3,L3T3_KEY")
    ap.add_argument("--keep", help="keep the encoded streams and received packets in this dir")
    args = ap.parse_args()
    tool = os.path.join(args.build, "tests", "e2e", "av1_svc")
    missing = [p for p in ("mmr-dataplane", "mmr-controller", "mmrctl", "tests/e2e/av1_svc")
               if not os.access(os.path.join(args.build, p), os.X_OK)]
    if missing:
        print("FAIL: %s not built in %s (make all)" % (", ".join(missing), args.build))
        return 1
    if os.geteuid() != 0:
        print("FAIL: must run as root (network namespace, DPDK)")
        return 1
    import mmrtest
    from mmrtest import MmrEnv

    t0 = time.monotonic()
    workdir = args.keep or tempfile.mkdtemp(prefix="av1svc-")
    os.makedirs(workdir, exist_ok=True)
    results = {}
    # RTCP off: its receivers are RTP-only tools that take every datagram for media (the MMR's
    # RTCP toward real clients is tested by test_rtcp_loss.py)
    with MmrEnv("e2e-av1", build=args.build, asan=args.asan, rtcp=False) as env:
        env.wait_dp_attached()
        for i, name in enumerate(args.structures.split(",")):
            print("== %s through the MMR" % name)
            try:
                results[name] = run_mmr_structure(env, mmrtest, tool, workdir, name,
                                                  "m%d" % (i + 1))
            except Exception as e:
                print("  %s FAIL: %s" % (name, e))
                results[name] = False
    ok = all(results.values()) and bool(results)
    for n, r in results.items():
        print("%s end to end: %s" % (n, "PASS" if r else "FAIL"))
    if not args.keep:
        subprocess.run(["rm", "-rf", workdir])
    print("%s: test_av1_svc (%.1f s)" % ("PASS" if ok else "FAIL", time.monotonic() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
