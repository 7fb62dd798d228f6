#!/usr/bin/python3
"""
test_vp9_svc.py - end-to-end test of VP9 spatial+temporal SVC (RFC 9628) through the MMR.

A real VP9 SVC encoder (libvpx through build/tests/e2e/vp9_svc, with a reference structure the tool
sets and therefore knows) makes three streams, each about 180 pictures at 30 fps with keyframes
every 48 pictures:
  L3T3      3 spatial layers (80x46, 160x90, 320x180) x 3 temporal (0,2,1,2), full inter-layer
            prediction, non-flexible mode (TL0PICIDX, scalability structure with the picture
            group); halfway between keyframes a spatial sync picture (upper layers P=0);
  L3T3_KEY  K-SVC: inter-layer prediction only on keyframes, flexible mode (P_DIFFs);
  L2T3      2 spatial layers, full inter-layer prediction, flexible mode.
Each is sent (one session after the other, its own meeting) from one participant through the real
MMR (mmr-dataplane on net_tap + mmr-controller, tests/lib/mmrtest.py) to receivers with fixed
(spatial, temporal) targets, e.g. (2,2) (2,0) (1,2) (0,1) (0,0), and to two whose targets change
mid-stream (mmrctl sub set while the stream runs; at a switch the sender pauses until the MMR has
counted every packet sent before it, issues the command, and waits until the controller says the
dataplane has it, so the picture where it takes effect is known exactly): spatial down, temporal down, spatial+temporal up (waits for a
spatial sync or keyframe), temporal up, ...

The tool depacketizes what each receiver got, decodes it with libvpx and compares every picture with
the reference decode (the full stream's output after that picture's layer-S frame, which the tool
has proved equal to the decode of the stream filtered to S). Checks per receiver:
  - every picture it decodes equals a reference (never a corrupt picture), at the spatial layer the
    rules give; a fixed target gets exactly the pictures with TID <= T, each at layer S;
  - a switching receiver: outside switch windows exactly what the ideal selector gives; inside a
    window (from the picture where the switch was issued to SWITCH_SLACK pictures after the ideal
    switch point: down at the next picture; temporal up one layer at a time at U=1; spatial up at a
    keyframe or a P=0 layer frame) only layers between the old and new ones, and every picture both
    targets include;
  - the marker bit on the last packet of the highest spatial layer it got, and on no other packet
    (RFC 9628: 0 otherwise) - a check line of its own;
  - contiguous sequence numbers, the stream's SSRC and payload type, complete layer frames, no
    decoder error, packets only from the MMR - a check line of its own.
selfcheck_vp9.py runs the same checks against an ideal Python relay and negative controls.

Run as root: /usr/bin/python3 tests/e2e/test_vp9_svc.py [--build DIR] [--asan] [--only l3t3,...]
Exit 0 on pass. Takes about 40 s.
"""

import argparse
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
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

FPS = 30
FRAMES = 180
KF = 48
PT = 98
SWITCH_SLACK = 4       # pictures allowed after the ideal switch point
SETTLE_S = 0.15        # the sender's pause after issuing a target change

# name: (tool mode, flexible, spatial layers)
STRUCTURES = {
    "l3t3": ("l3t3", False, 3),
    "l3t3key": ("l3t3key", True, 3),
    "l2t3": ("l2t3", True, 2),
}


# ---- the stream, as the sender knows it -----------------------------------------------------------

class Pic:
    def __init__(self, idx, ts, tid, key, sync, layers):
        self.idx, self.ts, self.tid, self.key, self.sync = idx, ts, tid, key, sync
        self.layers = layers          # per spatial layer: dict p, u, d, z


class Stream:
    """What vp9_svc encode wrote into its directory."""

    def __init__(self, d):
        self.dir = d
        with open(os.path.join(d, "info.txt")) as f:
            w = f.read().split()
        info = dict(zip(w[0::2], w[1::2]))
        self.ns = int(info["ns"])
        self.ssrc = int(info["ssrc"])
        self.pt = int(info["pt"])
        self.pics = []
        with open(os.path.join(d, "pictures.txt")) as f:
            for line in f:
                v = line.split()
                layers = [dict(p=int(x[0]), u=int(x[1]), d=int(x[2]), z=int(x[3])) for x in v[7:]]
                self.pics.append(Pic(int(v[1]), int(v[2]), int(v[3]), int(v[4]), int(v[5]), layers))
        meta = []
        with open(os.path.join(d, "packets.txt")) as f:
            for line in f:
                v = [int(x) for x in line.split()[1:]]
                meta.append(dict(pic=v[1], sid=v[2], b=v[3], e=v[4], m=v[5]))
        self.packets = []             # (send time s, bytes, meta)
        with open(os.path.join(d, "tx.bin"), "rb") as f:
            data = f.read()
        off = 0
        while off < len(data):
            t, n = struct.unpack_from("<IH", data, off)
            self.packets.append((t / 1e6, data[off + 6:off + 6 + n], meta[len(self.packets)]))
            off += 6 + n
        if len(self.packets) != len(meta):
            raise ValueError("tx.bin has %d packets, packets.txt %d" % (len(self.packets), len(meta)))

    def by_picture(self):
        out = [[] for _ in self.pics]
        for t, pkt, m in self.packets:
            out[m["pic"]].append((t, pkt, m))
        return out


def encode(tool, structure, out_dir, ssrc):
    mode, flexible, _ = STRUCTURES[structure]
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    argv = [tool, "encode", "--mode", mode, "--out", out_dir, "--frames", str(FRAMES),
            "--kf", str(KF), "--ssrc", str(ssrc), "--pt", str(PT)] + (["--flexible"] if flexible else [])
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if cp.returncode != 0:
        raise RuntimeError("vp9_svc encode %s failed: %s" % (structure, cp.stderr.strip()))
    return Stream(out_dir), cp.stdout.strip().splitlines()[-1]


# ---- the switching rules, from the sender's own layer knowledge ----------------------------------

class Selector:
    """The ideal per-receiver layer selector: nothing before a keyframe (which takes the target at
    once); down-switches at the next picture; temporal up one layer at a time at a picture of the
    next layer whose frames have U=1; spatial up at a picture whose next layer frame has P=0."""

    def __init__(self, target):
        self.target = target
        self.cur = None

    def picture(self, pic):
        """Highest spatial layer forwarded of this picture, or None."""
        S, T = self.target
        S = min(S, len(pic.layers) - 1)
        if pic.key:
            self.cur = (S, T)
        if self.cur is None:
            return None
        s, t = min(self.cur[0], S), min(self.cur[1], T)
        if t < T and pic.tid == t + 1 and all(pic.layers[k]["u"] for k in range(s + 1)):
            t += 1
        while s < S and pic.tid <= t and not pic.layers[s + 1]["p"]:
            s += 1
        self.cur = (s, t)
        return s if pic.tid <= t else None

    def settled(self, ns):
        return self.cur == (min(self.target[0], ns - 1), self.target[1])


class RxSpec:
    def __init__(self, name, port, target, switches=()):
        self.name = name
        self.port = port
        self.target = target                 # (spatial, temporal)
        self.switches = list(switches)       # [(picture index, (spatial, temporal))]


def receivers(ns, base_port):
    top = ns - 1
    fixed = [(top, 2), (top, 0), (top - 1, 2), (0, 1), (0, 0)] if ns == 3 else \
        [(1, 2), (1, 0), (0, 2), (0, 1)]
    specs = [RxSpec("fix%d%d" % t, base_port + 2 * i, t) for i, t in enumerate(fixed)]
    n = len(specs)
    # sw1: spatial down, temporal down, then both up from a picture right before a TL2 picture that
    # is no switching point for a TL0 receiver (pos 3 of 0,2,1,2)
    specs.append(RxSpec("sw1", base_port + 2 * n, (top, 2),
                        [(30, (top - 1, 2)), (60, (top - 1, 0)), (103, (top, 2))]))
    # sw2: from the bottom both up (spatial waits for the keyframe at 48), temporal up, spatial
    # down two layers at once, spatial up one and temporal down
    specs.append(RxSpec("sw2", base_port + 2 * n + 2, (0, 0),
                        [(40, (top, 1)), (75, (top, 2)), (130, (0, 2)), (150, (min(1, top), 1))]))
    return specs


def expectations(stream, spec, switch_log):
    """Per picture: ('exact', s or None) or ('window', smin, smax, tmin, tmax)."""
    sel = Selector(spec.target)
    events = dict(switch_log)
    out = []
    win = None                      # [smin, smax, tmin, tmax, end or None]
    for pic in stream.pics:
        if pic.idx in events:
            new = events[pic.idx]
            old = sel.cur if sel.cur is not None else new
            sel.target = new
            S = min(new[0], stream.ns - 1)
            r = [min(old[0], S), max(old[0], S), min(old[1], new[1]), max(old[1], new[1]), None]
            if win is not None:
                r = [min(r[0], win[0]), max(r[1], win[1]), min(r[2], win[2]), max(r[3], win[3]), None]
            win = r
        s = sel.picture(pic)
        if win is not None and win[4] is None and sel.settled(stream.ns):
            win[4] = pic.idx + SWITCH_SLACK
        if win is not None:
            out.append(("window",) + tuple(win[:4]))
            if win[4] is not None and pic.idx >= win[4]:
                win = None
        else:
            out.append(("exact", s))
    return out


# ---- the receiver-side check (vp9_svc check) and the verdict -------------------------------------

def write_pktfile(path, pkts):
    with open(path, "wb") as f:
        for t, p in pkts:
            f.write(struct.pack("<IH", int(t * 1e6) & 0xFFFFFFFF, len(p)) + p)


def run_check(tool, stream, rx_path):
    cp = subprocess.run([tool, "check", "--ref", stream.dir, "--rx", rx_path], capture_output=True,
                        text=True, timeout=120)
    if cp.returncode != 0:
        raise RuntimeError("vp9_svc check failed: %s" % cp.stderr.strip())
    pics, errs, summary = {}, [], ""
    for line in cp.stdout.splitlines():
        v = line.split()
        if v and v[0] == "pic":
            layers = [] if v[5] == "-" else [int(x) for x in v[5].split(",")]
            out = v[7]
            pics[int(v[1])] = dict(tid=int(v[3]), layers=layers,
                                   out=int(out) if out.isdigit() else out, line=line)
        elif v and v[0] == "err":
            errs.append(line)
        elif v and v[0] == "summary":
            summary = line
    return pics, errs, summary


def evaluate(stream, spec, switch_log, got, errs):
    """Failure strings for one receiver (empty: it got exactly what the rules give)."""
    return [m for _, m in evaluate_by_kind(stream, spec, switch_log, got, errs)]


def evaluate_by_kind(stream, spec, switch_log, got, errs):
    """[(kind, failure)] for one receiver; kind: 'pictures' (what it decoded, pixel-exact, at which
    layers), 'marker' (the RTP marker bit), 'packets' (sequence numbers, SSRC, payload type, layer
    frame completeness, decoder errors)."""
    fails = []
    marker = [e for e in errs if ": marker:" in e]
    other = [e for e in errs if ": marker:" not in e]
    if marker:
        fails.append(("marker", "%d pictures with a misplaced marker; first: %s"
                      % (len(marker), "; ".join(marker[:3]))))
    if other:
        fails.append(("packets", "%d protocol errors; first: %s" % (len(other), "; ".join(other[:3]))))
    if spec.switches and len(switch_log) != len(spec.switches):
        fails.append(("pictures", "only %d of %d target changes issued"
                      % (len(switch_log), len(spec.switches))))
    exp = expectations(stream, spec, switch_log)
    bad = []
    for pic, e in zip(stream.pics, exp):
        g = got.get(pic.idx)
        if g is not None and not isinstance(g["out"], int):
            bad.append("picture %d (tid %d): decoded %s, layers %s" % (pic.idx, pic.tid, g["out"],
                                                                       g["layers"]))
            continue
        if e[0] == "exact":
            want = e[1]
            if want is None and g is not None:
                bad.append("picture %d (tid %d) received (layers %s), not in the target"
                           % (pic.idx, pic.tid, g["layers"]))
            elif want is not None and g is None:
                bad.append("picture %d (tid %d) missing, want layer %d" % (pic.idx, pic.tid, want))
            elif want is not None and (g["out"] != want or max(g["layers"]) != want):
                bad.append("picture %d (tid %d): decoded layer %s (layers %s), want layer %d"
                           % (pic.idx, pic.tid, g["out"], g["layers"], want))
        else:
            _, smin, smax, tmin, tmax = e
            if pic.tid > tmax and g is not None:
                bad.append("picture %d (tid %d) received during a switch between T%d and T%d"
                           % (pic.idx, pic.tid, tmin, tmax))
            elif pic.tid <= tmin and g is None:
                bad.append("picture %d (tid %d) missing during a switch (both targets include it)"
                           % (pic.idx, pic.tid))
            elif g is not None and not smin <= g["out"] <= smax:
                bad.append("picture %d (tid %d): decoded layer %d during a switch between S%d and "
                           "S%d" % (pic.idx, pic.tid, g["out"], smin, smax))
    if bad:
        fails.append(("pictures", "%d pictures wrong; first: %s" % (len(bad), "; ".join(bad[:4]))))
    return fails


def describe(stream, spec, got):
    n = len(got)
    by_layer = {}
    for g in got.values():
        if isinstance(g["out"], int):
            by_layer[g["out"]] = by_layer.get(g["out"], 0) + 1
    lay = " ".join("S%d:%d" % (k, by_layer[k]) for k in sorted(by_layer))
    sw = "" if not spec.switches else " switches %s" % ",".join(
        "%d->S%dT%d" % (i, s, t) for i, (s, t) in spec.switches)
    return "%s target S%dT%d%s: %d of %d pictures decoded (%s)" % (
        spec.name, spec.target[0], spec.target[1], sw, n, len(stream.pics), lay)


# ---- the session through the MMR -----------------------------------------------------------------

class Collector(threading.Thread):
    """Reads every receiver socket until stopped: [(arrival time, bytes)] and the sources seen."""

    def __init__(self, socks):
        super().__init__(daemon=True)
        self.socks = socks
        self.got = {s.fileno(): [] for s in socks}
        self.sources = {s.fileno(): set() for s in socks}
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def run(self):
        while not self.stop.is_set():
            r, _, _ = select.select(self.socks, [], [], 0.05)
            for s in r:
                while True:
                    try:
                        pkt, src = s.recvfrom(65536)
                    except (BlockingIOError, socket.timeout):
                        break
                    self.got[s.fileno()].append((time.monotonic() - self.t0, pkt))
                    self.sources[s.fileno()].add(src)


def wait_received(env, mmrtest, ssrc, n, timeout=3.0):
    """Wait until the MMR's counters say it received n packets of the stream."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = mmrtest.stream_stats(env.stats(), ssrc) or {}
        if int(st.get("rx_pkts", -1)) >= n:
            time.sleep(0.02)    # the burst that counted them is forwarded by now
            return True
        time.sleep(0.01)
    return False


def run_session(env, mmrtest, c, tool, structure, work, ssrc, base_port):
    stream, enc_line = encode(tool, structure, os.path.join(work, structure), ssrc)
    c.note("%s: %s" % (structure, enc_line))
    meeting = "m-" + structure
    sender_port = base_port - 2
    specs = receivers(stream.ns, base_port)
    env.ctl("meeting", "create", meeting, "--plain")
    env.ctl("participant", "add", meeting, "alice", "--addr", mmrtest.CLIENT_IP, "--port",
            str(sender_port), "--role", "sendonly")
    env.ctl("stream", "add", meeting, "alice", "--ssrc", str(ssrc), "--kind", "video", "--codec",
            "vp9", "--spatial", str(stream.ns), "--layers", "3")
    socks = []
    for s in specs:
        env.ctl("participant", "add", meeting, s.name, "--addr", mmrtest.CLIENT_IP, "--port",
                str(s.port), "--role", "recvonly")
        env.ctl("sub", "set", meeting, s.name, "--ssrc", str(ssrc), "--spatial", str(s.target[0]),
                "--target", str(s.target[1]))
        socks.append(env.udp_socket(s.port))
    env.wait_dp_attached()
    tx = env.udp_socket(sender_port)
    col = Collector(socks)
    col.start()
    pending = sorted((i, s.name, t) for s in specs for i, t in s.switches)
    logs = {s.name: [] for s in specs}
    start = time.monotonic()
    shift = 0.0
    applied = []
    sent = 0
    send_fail = 0
    for pic_pkts in stream.by_picture():
        idx = pic_pkts[0][2]["pic"]
        if pending and pending[0][0] == idx:
            # every packet sent so far must be through the MMR before the switch is issued, so
            # that the switch takes effect exactly at this picture
            t_issue = time.monotonic()
            drained = wait_received(env, mmrtest, ssrc, sent)
            shift += time.monotonic() - t_issue
            if not drained:
                c.note("%s: the MMR had not received all %d packets sent before picture %d"
                       % (structure, sent, idx))
        while pending and pending[0][0] == idx:
            _, name, (sp, tp) = pending.pop(0)
            t_issue = time.monotonic()
            env.ctl("sub", "set", meeting, name, "--ssrc", str(ssrc), "--spatial", str(sp),
                    "--target", str(tp))
            # the picture of the switch is the next one only once the dataplane has the command
            env.wait_dp_attached()
            applied.append(time.monotonic() - t_issue)
            logs[name].append((idx, (sp, tp)))
            time.sleep(SETTLE_S)
            shift += time.monotonic() - t_issue
        due = start + shift + pic_pkts[0][0]
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        for _, pkt, _ in pic_pkts:
            if not env.send(tx, pkt):
                send_fail += 1
            sent += 1
    time.sleep(1.0)
    col.stop.set()
    col.join()
    tx.close()
    if applied:
        c.note("%s: target changes reached the dataplane in %s ms" % (
            structure, ", ".join("%.0f" % (1000 * a) for a in applied)))
    c.check(send_fail == 0, "%s: sender sent all %d packets" % (structure, len(stream.packets)),
            "%d sends failed" % send_fail)
    ok_all = {"pictures": True, "marker": True, "packets": True}
    for s, sock in zip(specs, socks):
        pkts = col.got[sock.fileno()]
        rx_path = os.path.join(stream.dir, "rx-%s.bin" % s.name)
        write_pktfile(rx_path, pkts)
        got, errs, summary = run_check(tool, stream, rx_path)
        fails = evaluate_by_kind(stream, s, logs[s.name], got, errs)
        srcs = col.sources[sock.fileno()]
        if srcs and srcs != {(mmrtest.MMR_IP, mmrtest.MMR_PORT)}:
            fails.append(("packets", "packets from %s, want only %s:%d"
                          % (sorted(srcs), mmrtest.MMR_IP, mmrtest.MMR_PORT)))
        for kind, what in (("pictures", describe(stream, s, got)),
                           ("marker", "%s: marker bit only on the last packet of each picture"
                            % s.name),
                           ("packets", "%s: contiguous sequence numbers, SSRC %d, complete layer "
                            "frames, no decoder error" % (s.name, ssrc))):
            f = [m for k, m in fails if k == kind]
            ok_all[kind] &= c.check(not f, "%s: %s" % (structure, what), " | ".join(f))
        sock.close()
    try:   # the MMR's own view, for the log (the verdict comes from the receivers)
        subs = env.ctl("sub", "list", meeting, json=True).stdout.get("subscriptions", [])
        c.note("%s: mmrctl sub list: %s" % (structure, "; ".join(
            "%s target S%sT%s current %s" % (x.get("subscriber"), x.get("target_spatial"),
                                             x.get("target"), x.get("current")) for x in subs)))
        drops = {k: v for k, v in mmrtest.drop_counts(env.stats()).items() if v}
        c.note("%s: mmr drops %s" % (structure, drops))
    except Exception as e:  # informative only
        c.note("%s: mmr state unavailable: %s" % (structure, e))
    return ok_all


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("--only", default=",".join(STRUCTURES),
                    help="comma list of structures (%s)" % ",".join(STRUCTURES))
    args = ap.parse_args()
    import mmrtest
    c = mmrtest.Checks("test_vp9_svc")
    tool = os.path.join(args.build, "tests", "e2e", "vp9_svc")
    missing = [p for p in ("mmr-dataplane", "mmr-controller", "mmrctl", "tests/e2e/vp9_svc")
               if not os.access(os.path.join(args.build, p), os.X_OK)]
    if missing:
        c.check(False, "built", "%s missing in %s (make all)" % (", ".join(missing), args.build))
        c.done()
    if os.geteuid() != 0:
        c.check(False, "running as root (network namespace, DPDK)")
        c.done()
    work = os.path.join(args.build, "test-logs", "e2e-vp9-svc")
    os.makedirs(work, exist_ok=True)
    shown = []      # per structure: which kinds of checks passed for every receiver
    try:
        # RTCP off: its receivers are RTP-only tools that take every datagram for media (the MMR's
        # RTCP toward real clients is tested by test_rtcp_loss.py)
        with mmrtest.MmrEnv("e2e-vp9", build=args.build, asan=args.asan, rtcp=False) as env:
            env.wait_dp_attached()
            for k, structure in enumerate(args.only.split(",")):
                ok = run_session(env, mmrtest, c, tool, structure, work, 7000 + k, 41000 + 100 * k)
                shown.append("%s (%s)" % (structure, ", ".join(
                    "%s %s" % (kind, "ok" if v else "FAILED") for kind, v in ok.items())))
    except Exception as e:  # noqa: a test must report, not crash
        import traceback
        traceback.print_exc()
        c.check(False, "test ran to the end", "%s: %s" % (type(e).__name__, e))
    c.note("end to end: %s" % ("; ".join(shown) or "nothing"))
    c.done()


if __name__ == "__main__":
    main()
