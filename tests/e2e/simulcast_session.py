"""
simulcast_session.py - one simulcast call (three encodings of one picture on three SSRCs, one
publisher) sent to several receivers, and the checks that each receiver got one well-formed stream
whose every decoded picture is pixel-exact against the reference decode of the encoding it was on.
Codec-neutral: test_simulcast_vp8.py (libvpx, tools/vp8_simulcast.c) and test_simulcast_h264.py
(ffmpeg/libx264) build a Stream and decode what each receiver got; this module sends, receives,
switches encodings mid-stream, stands in for the MMR in self-checks (IdealRelay) and judges.

The rules checked per receiver (the MMR's simulcast contract, README "switching rules"):
  - every video packet carries the SSRC of encoding 0; sequence numbers are contiguous except for
    a gap right after a frame the forwarder cut (a frame without its last packet, only where it
    switched encodings);
  - timestamps: one per frame, never decreasing, at most 1 s forward from one frame to the next,
    and exactly 3000 per picture between frames of one encoding (the sender's own spacing);
  - every decoded picture equals the reference decode of some (encoding, picture), identified by
    its size and hash; none matches nothing (a corrupt picture);
  - fixed receiver at encoding E: exactly pictures 0..N-1 of E, in order;
  - switching receiver: pictures of its first encoding until the switch, then each new encoding
    starting at one of its keyframes - the first keyframe of the new encoding at or after the
    picture at which the change was issued, or at the latest the first after the picture during
    which mmrctl returned (bounded delay) - and from there every picture of the new encoding;
    the picture at a switch may also come from the old encoding (its frame left before the new
    keyframe began), nothing else twice, nothing missing.
"""

import os
import socket
import struct
import threading
import time

FPS = 30
TS_STEP = 90000 // FPS
KEY, FIRST, LAST = 1, 2, 4


class Pkt:
    __slots__ = ("enc", "pic", "flags", "data", "ssrc", "seq", "ts")

    def __init__(self, enc, pic, flags, data):
        self.enc, self.pic, self.flags, self.data = enc, pic, flags, bytes(data)
        self.ssrc, = struct.unpack_from("!I", data, 8)
        self.seq, self.ts = struct.unpack_from("!HI", data, 2)


class Stream:
    """What the sender knows: its packets in send order and the reference decode.
    refs[enc][pic] = (width, height, hash)."""

    def __init__(self, pkts, refs, ssrcs):
        self.pkts = pkts
        self.refs = refs
        self.ssrcs = list(ssrcs)
        self.n = len(refs[0])
        self.keyframes = [sorted({p.pic for p in pkts if p.enc == e and p.flags & KEY})
                          for e in range(len(refs))]
        self.sizes = [refs[e][0][:2] for e in range(len(refs))]
        self.lookup = {}
        for e, r in enumerate(refs):
            for pic, (w, h, hsh) in enumerate(r):
                self.lookup.setdefault((w, h, hsh), []).append((e, pic))
        self.meta = {(p.ssrc, p.seq): p for p in pkts}

    def problems(self):
        out = []
        if len(self.sizes) != len(set(self.sizes)):
            out.append("encodings do not have distinct sizes: %s" % self.sizes)
        dup = [k for k, v in self.lookup.items() if len(v) > 1]
        if dup:
            out.append("%d reference pictures are not unique" % len(dup))
        for e in range(len(self.refs)):
            if len(self.refs[e]) != self.n:
                out.append("encoding %d has %d reference pictures, want %d"
                           % (e, len(self.refs[e]), self.n))
            if not self.keyframes[e] or self.keyframes[e][0] != 0:
                out.append("encoding %d does not start with a keyframe" % e)
        return out


class RxSpec:
    def __init__(self, name, port, encoding, switches=()):
        self.name = name
        self.port = port
        self.encoding = encoding
        self.switches = list(switches)   # [(picture at which to issue, new encoding)]


class Receiver:
    """A socket that keeps every datagram it gets, in order."""

    def __init__(self, spec, local):
        self.spec = spec
        self.packets = []
        self.sources = set()
        self.errors = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(local)
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._loop, name="rx-" + spec.name, daemon=True)

    def start(self):
        self._th.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                pkt, src = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError as e:
                self.errors.append("recv: %s" % e)
                return
            self.sources.add(src)
            self.packets.append(pkt)

    def finish(self):
        self._stop.set()
        self._th.join()
        self.sock.close()

    def write_capture(self, path):
        """u16 little-endian length + packet, as tools/vp8_simulcast decode reads it."""
        with open(path, "wb") as f:
            for p in self.packets:
                f.write(struct.pack("<H", len(p)) + p)


def run_session(stream, client_ip, dest, sender_port, specs, set_encoding, drain_s=1.0):
    """Send the stream in real time (one picture every 1/30 s, the encodings' packets interleaved
    as the sender wrote them) to dest, receive on each spec's port, issue the switches with
    set_encoding(name, enc) from a side thread. Returns (receivers, switch_log, errors):
    switch_log[name] = [(issue_picture, picture_when_done, enc)]."""
    rxs = [Receiver(s, (client_ip, s.port)) for s in specs]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    sock.bind((client_ip, sender_port))
    log = {s.name: [] for s in specs}
    pending = sorted((f, s.name, e) for s in specs for f, e in s.switches)
    todo, errors = [], []
    cv = threading.Condition()
    state = {"pic": 0, "stop": False}

    def switcher():
        while True:
            with cv:
                while not todo and not state["stop"]:
                    cv.wait()
                if not todo:
                    return
                pic, name, enc = todo.pop(0)
            try:
                set_encoding(name, enc)
            except Exception as e:   # reported; the receiver's checks will fail too
                errors.append("switch %s -> %d: %s" % (name, enc, e))
            with cv:
                log[name].append((pic, state["pic"], enc))

    th = threading.Thread(target=switcher, name="switcher", daemon=True)
    th.start()
    for r in rxs:
        r.start()
    time.sleep(0.2)
    by_pic = {}
    for p in stream.pkts:
        by_pic.setdefault(p.pic, []).append(p)
    t0 = time.monotonic()
    try:
        for pic in range(stream.n):
            delay = t0 + pic / FPS - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with cv:
                state["pic"] = pic
                while pending and pending[0][0] <= pic:
                    todo.append(pending.pop(0))
                    cv.notify()
            for p in by_pic.get(pic, ()):
                try:
                    sock.sendto(p.data, dest)
                except OSError as e:
                    errors.append("send: %s" % e)
        with cv:
            state["pic"] = stream.n
        time.sleep(drain_s)
    finally:
        with cv:
            state["stop"] = True
            cv.notify()
        th.join()
        sock.close()
        for r in rxs:
            r.finish()
    return rxs, log, errors


# ---- checks ----------------------------------------------------------------------------------

class Frame:
    """One frame as a receiver saw it. pic = (width, height, hash) when it decoded to a picture."""
    __slots__ = ("ts", "first_seq", "last_seq", "complete", "pic", "extra")

    def __init__(self, ts, first_seq, last_seq, complete, pic=None, extra=None):
        self.ts, self.first_seq, self.last_seq = ts, first_seq, last_seq
        self.complete, self.pic, self.extra = complete, pic, extra or {}


def rtp_frames(packets):
    """Group RTP packets (arrival order) into frames: a frame ends at its marker; a timestamp
    change or a sequence gap before the marker ends it incomplete (cut: the next frame may be the
    new encoding's keyframe of the same picture, with the same timestamp). Returns (frames,
    problems)."""
    frames, problems = [], []
    cur = None
    for raw in packets:
        if len(raw) < 12 or raw[0] >> 6 != 2:
            problems.append("non-RTP datagram of %d bytes" % len(raw))
            continue
        seq, ts = struct.unpack_from("!HI", raw, 2)
        marker = raw[1] >> 7
        if cur is not None and (cur.ts != ts or (seq - cur.last_seq) & 0xFFFF != 1):
            frames.append(cur)         # no marker: cut (or its tail lost)
            cur = None
        if cur is None:
            cur = Frame(ts, seq, seq, False)
        else:
            cur.last_seq = seq
        if marker:
            cur.complete = True
            frames.append(cur)
            cur = None
    if cur is not None:
        frames.append(cur)
    return frames, problems


class Result:
    def __init__(self, spec):
        self.spec = spec
        self.failures = []
        self.decoded = 0
        self.cuts = 0
        self.path = []        # [(encoding, first picture)] as decoded

    def fail(self, msg):
        self.failures.append(msg)


def check_rtp(stream, rx, res, nswitches):
    """SSRC, sequence numbers, cuts and timestamps of one receiver's packets."""
    ssrcs = set()
    for raw in rx.packets:
        if len(raw) >= 12:
            ssrcs.add(struct.unpack_from("!I", raw, 8)[0])
    if not rx.packets:
        res.fail("received no packets")
        return
    if ssrcs != {stream.ssrcs[0]}:
        res.fail("SSRCs %s, want only encoding 0's %d" % (sorted(ssrcs), stream.ssrcs[0]))
    frames, probs = rtp_frames(rx.packets)
    for p in probs[:3]:
        res.fail(p)
    cut = [k for k, f in enumerate(frames[:-1]) if not f.complete]
    res.cuts = len(cut)
    if frames and not frames[-1].complete:
        res.fail("the last frame (seq %d) never got its marker" % frames[-1].first_seq)
    if len(cut) > nswitches:
        res.fail("%d frames cut (no last packet) but only %d encoding switches" % (len(cut),
                                                                                     nswitches))
    for k in range(1, len(frames)):
        a, b = frames[k - 1], frames[k]
        d = (b.first_seq - a.last_seq) & 0xFFFF
        if d != 1 and not (k - 1 in cut and 1 < d < 0x8000):
            res.fail("sequence %d -> %d between frames %d and %d%s" % (
                a.last_seq, b.first_seq, k - 1, k, "" if k - 1 in cut else " (no cut frame there)"))
            break
        dts = (b.ts - a.ts) & 0xFFFFFFFF
        if dts >= 0x80000000:
            res.fail("timestamp goes back %d between frames %d and %d (ts %d -> %d)"
                     % (0x100000000 - dts, k - 1, k, a.ts, b.ts))
            break
        if dts > 90000:
            res.fail("timestamp jumps %d (> 1 s) between frames %d and %d" % (dts, k - 1, k))
            break
    return frames


def check_pictures(stream, spec, decoded, switch_log, res):
    """decoded: [(ts, (w, h, hash))] in decode order. Pixel checks and the switching rules."""
    res.decoded = len(decoded)
    ids, corrupt, last = [], [], None
    for k, (ts, pic) in enumerate(decoded):
        m = stream.lookup.get(pic)
        if m is None:
            known = [e for e, s in enumerate(stream.sizes) if s == pic[:2]]
            corrupt.append("#%d (%dx%d%s, after %s)" % (
                k, pic[0], pic[1], ", encoding %d's size" % known[0] if known else "",
                "enc %d picture %d" % last[:2] if last else "nothing matched"))
            ids.append(None)
        else:
            ids.append((m[0][0], m[0][1], ts))
            last = ids[-1]
    if corrupt:
        res.fail("%d decoded pictures match no reference picture (corrupt): %s"
                 % (len(corrupt), ", ".join(corrupt[:4]) + (" ..." if len(corrupt) > 4 else "")))
    good = [i for i in ids if i is not None]
    # timestamps inside one encoding keep the sender's spacing
    for a, b in zip(good, good[1:]):
        if a[2] is None or b[2] is None:
            continue
        if a[0] == b[0] and (b[2] - a[2]) & 0xFFFFFFFF != ((b[1] - a[1]) * TS_STEP) & 0xFFFFFFFF:
            res.fail("encoding %d pictures %d -> %d: timestamp step %d, want %d"
                     % (a[0], a[1], b[1], (b[2] - a[2]) & 0xFFFFFFFF, (b[1] - a[1]) * TS_STEP))
            break
    # the path through the encodings: [(enc, first pic)]
    path = []
    for e, pic, _ in good:
        if not path or path[-1][0] != e:
            path.append((e, pic))
    res.path = path
    want_encs = [spec.encoding] + [e for _, e in spec.switches]
    got_encs = [e for e, _ in path]
    if got_encs != want_encs:
        res.fail("decoded encodings in the order %s, want %s" % (got_encs, want_encs))
        return
    # where each segment must begin
    starts = [0]
    for k, (issue, done, enc) in enumerate(switch_log):
        kfs = stream.keyframes[enc]
        first = next((p for p in kfs if p >= issue), None)
        latest = next((p for p in kfs if p > done), None)
        at = path[k + 1][1]
        if first is None:
            res.fail("switch to encoding %d issued at picture %d: no keyframe of it follows"
                     % (enc, issue))
            return
        if at not in kfs:
            res.fail("switched to encoding %d at picture %d, which is not one of its keyframes %s"
                     % (enc, at, kfs))
        elif at < first or (latest is not None and at > max(first, latest)):
            res.fail("switched to encoding %d at picture %d; issued at picture %d (mmrctl done at "
                     "%d), want its keyframe %s" % (enc, at, issue, done,
                                                    first if latest in (None, first) else
                                                    "%d or %d" % (first, latest)))
        starts.append(at)
    if len(switch_log) != len(spec.switches):
        res.fail("only %d of %d switches issued" % (len(switch_log), len(spec.switches)))
        return
    # exactly the expected pictures, in order
    want = []
    for k, e in enumerate(want_encs):
        end = starts[k + 1] if k + 1 < len(starts) else stream.n
        want.extend((e, p) for p in range(starts[k], end))
    got = [(e, p) for e, p, _ in good]
    extra_ok = set()
    for k in range(1, len(starts)):        # old encoding's frame of the switch picture
        extra_ok.add((want_encs[k - 1], starts[k]))
    got_strict = [g for g in got if not (g in extra_ok and g not in want)]
    if got_strict != want:
        missing = sorted(set(want) - set(got_strict))
        extra = [g for g in got_strict if g not in set(want)]
        dup = len(got_strict) - len(set(got_strict))
        res.fail("decoded %d pictures, want %d: missing %s%s%s%s" % (
            len(got_strict), len(want), missing[:6], " extra %s" % extra[:6] if extra else "",
            " %d repeated" % dup if dup else "",
            " out of order" if not missing and not extra and not dup else ""))


def report(results, out=print):
    ok = True
    for r in results:
        sw = ""
        if r.spec.switches:
            sw = " then " + ", ".join("%d@%d" % (e, f) for f, e in r.spec.switches)
        path = " ".join("enc%d@%d" % p for p in r.path)
        out("  %-6s encoding %d%s: decoded %d, path [%s], cuts %d: %s"
            % (r.spec.name, r.spec.encoding, sw, r.decoded, path, r.cuts,
               "PASS" if not r.failures else "FAIL"))
        for m in r.failures:
            out("      - " + m)
        ok = ok and not r.failures
    return ok


# ---- a stand-in for the MMR (self-checks only) -----------------------------------------------

class _Out:
    def __init__(self, addr, enc):
        self.addr = addr
        self.target = enc
        self.cur = None
        self.seq = 1000
        self.pid = 100
        self.tl0 = 7
        self.open = False          # the last forwarded packet was not a frame's last
        self.skipped = 0           # eligible keyframes passed over (mode "late")


class IdealRelay:
    """Forwards the stream to each output following the switching rules from the sender's own
    knowledge (packet metadata): start and switch only at the first packet of a keyframe of the
    target encoding, cut the old encoding's frame in progress (skipping one sequence number), one
    output SSRC, contiguous sequence numbers, timestamps mapped to one clock, VP8 PictureID and
    TL0PICIDX rewritten continuous (vp8=True: offsets of tools/vp8_simulcast's descriptor).
    mode breaks one rule for the negative controls:
      "early"   switch at the next frame start of the new encoding, keyframe or not;
      "late"    pass over the first keyframe that allows a switch;
      "no-pid"  VP8 PictureID/TL0PICIDX passed through (each encoding's own);
      "no-ts"   timestamps passed through (each encoding's own random offset);
      "flip"    one byte flipped in one packet to output 2 (a single corrupt picture)."""

    def __init__(self, stream, local, outputs, vp8=False, mode=None):
        self.stream = stream
        self.vp8 = vp8
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(local)
        self.sock.settimeout(0.1)
        self.outs = [_Out(a, e) for a, e in outputs]
        self.lock = threading.Lock()
        self.count = 0
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._loop, name="relay", daemon=True)

    def start(self):
        self._th.start()

    def stop(self):
        self._stop.set()
        self._th.join()
        self.sock.close()

    def set_encoding(self, i, enc):
        with self.lock:
            self.outs[i].target = enc
            self.outs[i].skipped = 0

    def _loop(self):
        while not self._stop.is_set():
            try:
                raw, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            if len(raw) < 12:
                continue
            p = self.stream.meta.get((struct.unpack_from("!I", raw, 8)[0],
                                      struct.unpack_from("!H", raw, 2)[0]))
            if p is None:
                continue
            with self.lock:
                for i, o in enumerate(self.outs):
                    out = self._one(i, o, p)
                    if out is not None:
                        self.sock.sendto(out, o.addr)

    def _one(self, i, o, p):
        if p.enc == o.target and p.enc != o.cur and p.flags & FIRST:
            eligible = p.flags & KEY or self.mode == "early"
            if eligible and self.mode == "late" and o.cur is not None and not o.skipped:
                o.skipped = 1
                eligible = False
            if eligible:
                if o.open:
                    o.seq += 1            # cut the old frame: the receiver sees a loss
                    o.open = False
                o.cur = p.enc
        if p.enc != o.cur:
            return None
        b = bytearray(p.data)
        struct.pack_into("!H", b, 2, o.seq & 0xFFFF)
        o.seq += 1
        if self.mode != "no-ts":
            struct.pack_into("!I", b, 4, (0x40000000 + p.pic * TS_STEP) & 0xFFFFFFFF)
        struct.pack_into("!I", b, 8, self.stream.ssrcs[0])
        if self.vp8 and self.mode != "no-pid":
            if p.flags & FIRST:
                o.pid = (o.pid + 1) & 0x7FFF
                o.tl0 = (o.tl0 + 1) & 0xFF
            struct.pack_into("!HB", b, 14, 0x8000 | o.pid, o.tl0)
        o.open = not p.flags & LAST
        if self.mode == "flip" and i == 2:
            self.count += 1
            if self.count == 200:
                b[len(b) // 2] ^= 0x10
        return bytes(b)


def run_call(stream, specs, codec, env_name, build, relay_mode, sender_port, ssrcs, relay_port,
             meeting="m1", sender="alice", loop_ip="127.0.0.1"):
    """One simulcast call: through IdealRelay on loop_ip (relay_mode: "ideal" or a broken mode)
    or, with relay_mode None, through the real MMR (mmrctl stream add with the comma list of SSRCs,
    one receive-only participant per spec at its encoding, switches by `sub set --encoding`).
    Returns (receivers, switch log, session errors, the MMR's address or None)."""
    if relay_mode:
        relay = IdealRelay(stream, (loop_ip, relay_port), [((loop_ip, s.port), s.encoding) for s in specs],
                           vp8=codec == "vp8", mode=None if relay_mode == "ideal" else relay_mode)
        names = [s.name for s in specs]
        relay.start()
        try:
            rxs, log, errs = run_session(stream, loop_ip, (loop_ip, relay_port), sender_port, specs,
                                         lambda n, e: relay.set_encoding(names.index(n), e))
        finally:
            relay.stop()
        return rxs, log, errs, None
    import mmrtest
    from mmrtest import CLIENT_IP, MMR_IP, MMR_PORT, MmrEnv
    # RTCP off: its receivers are RTP-only tools that take every datagram for media (the MMR's
    # RTCP toward real clients is tested by test_rtcp_loss.py)
    with MmrEnv(env_name, build=build, rtcp=False) as env:
        env.wait_dp_attached()
        env.ctl("meeting", "create", meeting, "--plain")
        env.ctl("participant", "add", meeting, sender, "--addr", CLIENT_IP, "--port",
                str(sender_port), "--role", "sendonly")
        env.ctl("stream", "add", meeting, sender, "--ssrc", ",".join(map(str, ssrcs)),
                "--kind", "video", "--codec", codec)
        for s in specs:
            env.ctl("participant", "add", meeting, s.name, "--addr", CLIENT_IP, "--port",
                    str(s.port), "--role", "recvonly")
            env.ctl("sub", "set", meeting, s.name, "--ssrc", str(ssrcs[0]), "--encoding",
                    str(s.encoding))
        env.wait_dp_attached()

        def set_encoding(name, enc):
            cp = env.ctl("sub", "set", meeting, name, "--ssrc", str(ssrcs[0]), "--encoding", str(enc))
            said = "%s %s" % (cp.stdout, cp.stderr or "")
            if "offline" in said:   # accepted by the controller, not applied by the dataplane
                raise RuntimeError("mmrctl: %s" % said.strip())

        rxs, log, errs = run_session(stream, CLIENT_IP, (MMR_IP, MMR_PORT), sender_port, specs,
                                     set_encoding)
        try:
            print("mmr sub list: %s" % env.ctl("sub", "list", meeting, json=True).stdout)
        except Exception as e:
            print("mmr sub list: unavailable (%s)" % e)
        try:
            drops = {k: v for k, v in mmrtest.drop_counts(env.stats()).items() if v}
            print("mmr stats: drops %s" % drops)
        except Exception as e:
            print("mmr stats: unavailable (%s)" % e)
    return rxs, log, errs, (MMR_IP, MMR_PORT)


def verdict(stream, rxs, log, errs, src, decode, test_name, relay_mode, t0):
    """Check every receiver of a call (receiver errors, source address, RTP continuity, every
    decoded picture - decode(rx, res) gives them - against the references and the switch log),
    print the results; returns the exit status (0: all passed)."""
    results = []
    for rx in rxs:
        res = Result(rx.spec)
        for e in rx.errors:
            res.fail("receiver: " + e)
        if src and rx.sources and rx.sources != {src}:
            res.fail("packets from %s, want only %s:%d" % (sorted(rx.sources), *src))
        check_rtp(stream, rx, res, len(rx.spec.switches))
        check_pictures(stream, rx.spec, decode(rx, res), log[rx.spec.name], res)
        results.append(res)
    for e in errs:
        print("session error: " + e)
    for name, entries in log.items():
        for issue, done, enc in entries:
            print("switch %s -> encoding %d issued at picture %d, done by picture %d"
                  % (name, enc, issue, done))
    ok = report(results) and not errs
    print("%s: %s%s (%.1f s)" % ("PASS" if ok else "FAIL", test_name,
                                 " --relay " + relay_mode if relay_mode else "", time.monotonic() - t0))
    return 0 if ok else 1
