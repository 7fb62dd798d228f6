"""
rtcp_media.py - real GStreamer clients that repair loss with RTCP, for the issue 11 end-to-end tests:
a VP8 publisher that makes keyframes ONLY when asked and resends what it is NACKed for (RFC 4588
RTX), and receivers that NACK, ask for keyframes after unrepaired loss and decode. Every decoded
picture is compared pixel-exactly with the publisher's own decode of the same frame (rtp_media's
hashing and match_frames), and each receiver's figures are measured: frames decoded, the longest
freeze, NACKs and keyframe requests it sent, retransmissions it got.

Publisher (Gst.parse_launch, rtpbin linked by hand so its signals are connected before its pads):
  videotestsrc ! timeoverlay ! vp8enc keyframe-mode=disabled ! tee
     tee ! rtpvp8pay ! rtpbin.send_rtp_sink_0 ; rtpbin.send_rtp_src_0 ! appsink -> UDP socket
     tee ! vp8dec ! appsink (the reference pictures)
  rtpbin's aux sender is an rtprtxsend (payload-type-map 96 -> 97, ssrc-map SSRC -> RTX SSRC) when
  the publisher sends RTX; without RTX NACKs are not answered. RTCP it receives goes into
  rtpbin.recv_rtcp_sink_0: rtpsession turns a PLI/FIR into a GstForceKeyUnit event upstream, which
  vp8enc (GstVideoEncoder) honours with a keyframe, and a NACK into a retransmission request for
  rtprtxsend. After the last frame (a pad probe drops every later raw picture) the pipeline keeps
  running for `drain` seconds so late NACKs are still answered.
Receiver:
  socket -> (RTP) appsrc ! rtpbin.recv_rtp_sink_0, (RTCP) appsrc ! rtpbin.recv_rtcp_sink_0;
  rtpbin.send_rtcp_src_0 ! appsink -> socket (RTP and RTCP share the socket: rtcp-mux, RFC 5761);
  rtpbin (rtp-profile avpf, do-retransmission: its jitterbuffer asks for what is late, rtpsession
  sends generic NACKs; aux receiver rtprtxreceive (map 96 -> 97, like the sender's) when it takes RTX)
    ! rtpvp8depay request-keyframe=true wait-for-keyframe=true ! vp8dec ! appsink.
  After a loss the jitterbuffer could not repair the depayloader drops everything up to the next
  keyframe and asks for one upstream; rtpsession sends it as a FIR (fir=True: the caps allow
  ccm fir) or a PLI (fir=False). rtpsession's RTCP interval is brought down to rtcp_interval_ms and
  its bandwidth guess to SESSION_BPS, else the first NACKs wait about a second for a regular
  report and the jitterbuffer gives up on them.
Sockets are Python UDP sockets (one per participant), so a test can put impair_relay.py between
each client and the MMR, and counts every RTCP item either side sends or gets.
Needs /usr/bin/python3 with python3-gi and GStreamer 1.22 (rtpmanager, vpx, videotestsrc, ...).
"""

import socket
import struct
import threading
import time

import rtp_media as rm
from rtp_media import Gst

VIDEO_PT = 96
RTX_PT = 97
FPS = rm.FPS
WIDTH, HEIGHT = rm.WIDTH, rm.HEIGHT
# rtpsession sends feedback only where the caps allow it (SDP a=rtcp-fb): nack, nack pli, ccm fir.
# A keyframe request from rtpvp8depay goes out as FIR when ccm-fir is allowed, else as PLI.
RTP_CAPS_PLI = ("application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=%d,"
                "rtcp-fb-nack=(boolean)true,rtcp-fb-nack-pli=(boolean)true" % VIDEO_PT)
RTP_CAPS = RTP_CAPS_PLI + ",rtcp-fb-ccm-fir=(boolean)true"
RTX_CAPS = ("application/x-rtp,media=video,clock-rate=90000,encoding-name=RTX,payload=%d,apt=%d"
            % (RTX_PT, VIDEO_PT))
GST_PROFILE_AVPF = 3
# Frames sent after the counted ones: a loss among the last packets of a stream is seen by nobody (no
# later packet shows the gap), so the checks count only the frames before this tail.
TAIL_FRAMES = 15
SESSION_BPS = 1000000


def is_rtcp(pkt):
    return len(pkt) >= 8 and (pkt[0] >> 6) == 2 and 192 <= pkt[1] <= 223


def rtcp_items(pkt):
    """The items of one (compound) RTCP packet: [(kind, sender_ssrc, media_ssrc, n)], kind one of sr,
    rr, sdes, bye, nack (n = sequence numbers asked), pli, fir (n = FCI entries), remb, xr, app,
    other; a malformed tail ends the walk with ('bad', 0, 0, 0)."""
    out = []
    off = 0
    while off + 4 <= len(pkt):
        b0, pt, words = struct.unpack_from("!BBH", pkt, off)
        ln = (words + 1) * 4
        if b0 >> 6 != 2 or off + ln > len(pkt):
            out.append(("bad", 0, 0, 0))
            break
        fmt = b0 & 0x1F
        body = pkt[off + 4:off + ln]
        sender = struct.unpack_from("!I", body, 0)[0] if len(body) >= 4 else 0
        media = struct.unpack_from("!I", body, 4)[0] if len(body) >= 8 else 0
        if pt == 200:
            out.append(("sr", sender, 0, fmt))
        elif pt == 201:
            out.append(("rr", sender, 0, fmt))
        elif pt == 202:
            out.append(("sdes", sender, 0, fmt))
        elif pt == 203:
            out.append(("bye", sender, 0, fmt))
        elif pt == 204:
            out.append(("app", sender, 0, 0))
        elif pt == 205 and fmt == 1:
            n = 0
            for k in range(8, len(body) - 3, 4):
                _, blp = struct.unpack_from("!HH", body, k)
                n += 1 + bin(blp).count("1")
            out.append(("nack", sender, media, n))
        elif pt == 206 and fmt == 1:
            out.append(("pli", sender, media, 1))
        elif pt == 206 and fmt == 4:
            out.append(("fir", sender, media, max(0, (len(body) - 8) // 8)))
        elif pt == 206 and fmt == 15:
            out.append(("remb", sender, media, 0))
        elif pt == 207:
            out.append(("xr", sender, 0, 0))
        else:
            out.append(("other", sender, media, pt))
        off += ln
    return out


class RtcpCounts:
    """What one side saw in RTCP: packets and items by kind (nack counts the sequence numbers)."""

    def __init__(self):
        self.packets = 0
        self.items = {}
        self.lock = threading.Lock()

    def add(self, pkt):
        with self.lock:
            self.packets += 1
            for kind, _, _, n in rtcp_items(pkt):
                self.items[kind] = self.items.get(kind, 0) + (n if kind == "nack" else 1)

    def get(self, kind):
        return self.items.get(kind, 0)

    def as_dict(self):
        return dict(self.items, packets=self.packets)


def _pt_map_caps(pt, fir=True):
    if pt == VIDEO_PT:
        return Gst.Caps.from_string(RTP_CAPS if fir else RTP_CAPS_PLI)
    if pt == RTX_PT:
        return Gst.Caps.from_string(RTX_CAPS)
    return None


def _aux_bin(element):
    b = Gst.Bin.new(None)
    b.add(element)
    b.add_pad(Gst.GhostPad.new("sink_0", element.get_static_pad("sink")))
    b.add_pad(Gst.GhostPad.new("src_0", element.get_static_pad("src")))
    return b


def _tune_session(rtpbin, rtcp_interval_ms):
    """RTCP at least every rtcp_interval_ms (the default minimum is 5 s), AVPF early feedback."""
    sess = rtpbin.emit("get-internal-session", 0)
    if sess is not None:
        sess.set_property("rtcp-min-interval", int(rtcp_interval_ms) * Gst.MSECOND)
        # the RTCP interval also follows the session bandwidth, which rtpsession guesses at
        # 64 kbit/s until it has measured the sender: give it the real order of magnitude, else
        # the first NACKs wait for a regular report (about 1 s)
        sess.set_property("bandwidth", float(SESSION_BPS))
    return sess


class SentFrame:
    __slots__ = ("ts", "keyframe", "packets", "hash", "sent_at")

    def __init__(self, ts, keyframe, sent_at):
        self.ts, self.keyframe, self.sent_at = ts, keyframe, sent_at
        self.packets = 0
        self.hash = None


class Publisher:
    """VP8 from GStreamer with keyframes only when asked, from one UDP socket (bound to local) to
    dest, answering NACKs with RTX when rtx_ssrc is given. frames: SentFrame per frame sent, hash
    from the publisher's own decode. rtx_sent: RTX packets sent. rtcp_in: RtcpCounts of what
    reached it. keyframes: frames sent as keyframes."""

    def __init__(self, local, dest, ssrc, rtx_ssrc=None, frames=300, mtu=1000, bitrate=600000,
                 rtcp_interval_ms=100, tail=TAIL_FRAMES):
        self.dest = dest
        self.ssrc = ssrc
        self.rtx_ssrc = rtx_ssrc
        self.counted = frames            # the frames the checks count
        self.nframes = frames + tail     # the frames sent
        self.frames = []
        self.decoded = []
        self.rtx_sent = 0
        self.media_packets = 0
        self.rtcp_out = RtcpCounts()
        self.rtcp_in = RtcpCounts()
        self.rtcp_in_at_end = None   # rtcp_in when the last frame left (later requests change nothing)
        self.other_in = 0
        self.send_errors = []
        self.errors = []
        self._lock = threading.Lock()
        self._fed = 0
        self.done = threading.Event()      # the last frame's packets left
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        rm._big_rcvbuf(self.sock)
        self.sock.bind(local)
        self.sock.settimeout(0.1)
        desc = (
            "rtpbin name=rb rtp-profile=avpf"
            " videotestsrc name=vsrc is-live=true pattern=smpte horizontal-speed=2"
            " ! video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1"
            " ! timeoverlay font-desc=\"Sans 20\" ! vp8enc name=enc deadline=1 cpu-used=4 threads=1"
            " keyframe-mode=disabled keyframe-max-dist=2147483647 target-bitrate=%d"
            " ! tee name=t"
            " t. ! queue ! rtpvp8pay name=pay pt=%d ssrc=%d picture-id-mode=15-bit mtu=%d"
            " t. ! queue ! vp8dec ! video/x-raw,format=I420 ! appsink name=vdec sync=false"
            " appsrc name=rtcpsrc is-live=true format=time do-timestamp=true caps=application/x-rtcp"
            " appsink name=rtpout sync=false async=false"
            " appsink name=rtcpout sync=false async=false"
            % (WIDTH, HEIGHT, FPS, bitrate, VIDEO_PT, ssrc, mtu))
        self.pipeline = Gst.parse_launch(desc)
        rb = self.rtpbin = self.pipeline.get_by_name("rb")
        self.rtx = None
        if rtx_ssrc is not None:
            rtx = Gst.ElementFactory.make("rtprtxsend", None)
            rtx.set_property("payload-type-map", Gst.Structure.new_from_string(
                "application/x-rtp-pt-map, %d=(uint)%d" % (VIDEO_PT, RTX_PT)))
            rtx.set_property("ssrc-map", Gst.Structure.new_from_string(
                "application/x-rtp-ssrc-map, %d=(uint)%d" % (ssrc, rtx_ssrc)))
            rtx.set_property("max-size-time", 2000)
            rtx.set_property("max-size-packets", 0)
            self.rtx = rtx
            rb.connect("request-aux-sender", lambda _rb, sid: _aux_bin(rtx) if sid == 0 else None)
        rb.connect("request-pt-map", lambda _rb, sid, pt: _pt_map_caps(pt))
        pay = self.pipeline.get_by_name("pay")
        if not pay.link_pads("src", rb, "send_rtp_sink_0"):
            raise RuntimeError("cannot link rtpvp8pay to rtpbin")
        if not rb.link_pads("send_rtp_src_0", self.pipeline.get_by_name("rtpout"), "sink"):
            raise RuntimeError("cannot link rtpbin's send_rtp_src_0")
        if not rb.link_pads("send_rtcp_src_0", self.pipeline.get_by_name("rtcpout"), "sink"):
            raise RuntimeError("cannot link rtpbin's send_rtcp_src_0")
        self.rtcpsrc = self.pipeline.get_by_name("rtcpsrc")
        if not self.rtcpsrc.link_pads("src", rb, "recv_rtcp_sink_0"):
            raise RuntimeError("cannot link rtpbin's recv_rtcp_sink_0")
        self.session = _tune_session(rb, rtcp_interval_ms)
        # exactly `frames` raw pictures reach the encoder; the source keeps running (live)
        self.pipeline.get_by_name("enc").get_static_pad("sink").add_probe(
            Gst.PadProbeType.BUFFER, self._count_raw)
        rm._on_sample(self.pipeline.get_by_name("rtpout"), self._on_rtp)
        rm._on_sample(self.pipeline.get_by_name("rtcpout"), self._on_rtcp_out)
        rm._on_sample(self.pipeline.get_by_name("vdec"), self._on_decoded)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pub-rx", daemon=True)

    def _count_raw(self, pad, info):
        self._fed += 1
        if self._fed > self.nframes:
            return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.OK

    def _send(self, pkt):
        try:
            self.sock.sendto(pkt, self.dest)
        except OSError as e:
            self.send_errors.append(str(e))

    def _on_rtp(self, pkt):
        r = rm.Rtp(pkt)
        if r.pt == RTX_PT:
            with self._lock:
                self.rtx_sent += 1
        elif r.pt == VIDEO_PT:
            d = rm.Vp8Desc(r.payload)
            with self._lock:
                if d.frame_start and d.pid == 0:
                    self.frames.append(SentFrame(r.ts, d.keyframe, time.monotonic()))
                if self.frames:
                    self.frames[-1].packets += 1
                self.media_packets += 1
                last = len(self.frames) >= self.nframes and r.marker
            if last and not self.done.is_set():
                self.rtcp_in_at_end = self.rtcp_in.as_dict()
                self.done.set()
        self._send(pkt)

    def _on_rtcp_out(self, pkt):
        self.rtcp_out.add(pkt)
        self._send(pkt)

    def _on_decoded(self, data):
        self.decoded.append(rm._frame_hash(data))

    def _loop(self):
        while not self._stop.is_set():
            try:
                pkt, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if is_rtcp(pkt):
                self.rtcp_in.add(pkt)
                self.rtcpsrc.emit("push-buffer", Gst.Buffer.new_wrapped(pkt))
            else:
                self.other_in += 1

    def start(self):
        self.pipeline.set_state(Gst.State.PLAYING)
        self._thread.start()

    def wait_done(self, timeout):
        """Until the last frame left (or an error / the timeout); returns error strings."""
        bus = self.pipeline.get_bus()
        deadline = time.monotonic() + timeout
        while not self.done.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                self.errors.append("publisher: %d of %d frames sent within %.0f s"
                                   % (len(self.frames), self.nframes, timeout))
                break
            msg = bus.timed_pop_filtered(int(min(left, 0.2) * Gst.SECOND), Gst.MessageType.ERROR)
            if msg is not None:
                err, dbg = msg.parse_error()
                self.errors.append("publisher: %s: %s (%s)" % (msg.src.get_name(), err.message, dbg))
                break
        return self.errors

    def stop(self):
        """Stop; fills every frame's hash from the publisher's own decode; returns error strings."""
        self._stop.set()
        self._thread.join()
        self.pipeline.set_state(Gst.State.NULL)
        self.sock.close()
        errors = list(self.errors)
        n = min(len(self.frames), self.nframes)
        if len(self.decoded) < n:
            errors.append("publisher: %d frames sent but %d decoded by its own vp8dec"
                          % (n, len(self.decoded)))
        del self.frames[self.nframes:]
        for f, h in zip(self.frames, self.decoded):
            f.hash = h
        hs = [f.hash for f in self.frames]
        if len(set(hs)) != len(hs):
            errors.append("publisher: its decoded pictures are not all distinct")
        errors.extend("publisher: " + e for e in self.send_errors[:3])
        return errors

    def stats(self):
        return {"frames": len(self.frames), "counted": self.counted,
                "keyframes": sum(1 for f in self.frames[:self.counted] if f.keyframe),
                "media_packets": self.media_packets, "rtx_sent": self.rtx_sent,
                "rtcp_in": self.rtcp_in_at_end or self.rtcp_in.as_dict(),
                "rtcp_out": self.rtcp_out.as_dict()}


class LossReceiver:
    """One receiving participant: its socket (bound to local, RTCP sent to dest) and rtpbin +
    depayloader + decoder. decoded: [(hash, monotonic time)]."""

    def __init__(self, name, local, dest, rtx=True, nack=True, fir=True, latency_ms=400,
                 rtcp_interval_ms=100):
        self.name = name
        self.local = local
        self.dest = dest
        self.rtx = rtx
        self.decoded = []
        self.rtcp_out = RtcpCounts()
        self.rtcp_in = RtcpCounts()
        self.rtp_in = 0
        self.rtx_in = 0
        self.ssrcs = set()
        self.errors = []
        self.jitterbuffers = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        rm._big_rcvbuf(self.sock)
        self.sock.bind(local)
        self.sock.settimeout(0.1)
        desc = (
            "rtpbin name=rb rtp-profile=avpf latency=%d do-retransmission=%s do-lost=true"
            " appsrc name=rtpsrc is-live=true format=time do-timestamp=true caps=\"%s\""
            " appsrc name=rtcpsrc is-live=true format=time do-timestamp=true caps=application/x-rtcp"
            " appsink name=rtcpout sync=false async=false"
            " rtpvp8depay name=depay request-keyframe=true wait-for-keyframe=true ! vp8dec"
            " ! video/x-raw,format=I420 ! appsink name=vdec sync=false"
            % (latency_ms, "true" if nack else "false", RTP_CAPS if fir else RTP_CAPS_PLI))
        self.pipeline = Gst.parse_launch(desc)
        rb = self.rtpbin = self.pipeline.get_by_name("rb")
        rb.connect("request-pt-map", lambda _rb, sid, pt: _pt_map_caps(pt, fir))
        if rtx:
            rrx = Gst.ElementFactory.make("rtprtxreceive", None)
            rrx.set_property("payload-type-map", Gst.Structure.new_from_string(
                "application/x-rtp-pt-map, %d=(uint)%d" % (VIDEO_PT, RTX_PT)))
            self.rtxreceive = rrx
            rb.connect("request-aux-receiver", lambda _rb, sid: _aux_bin(rrx) if sid == 0 else None)
        else:
            self.rtxreceive = None
        rb.connect("new-jitterbuffer", lambda _rb, jb, sid, ssrc: self.jitterbuffers.append(jb))
        self._linked = False
        rb.connect("pad-added", self._pad_added)
        self.rtpsrc = self.pipeline.get_by_name("rtpsrc")
        self.rtcpsrc = self.pipeline.get_by_name("rtcpsrc")
        if not self.rtpsrc.link_pads("src", rb, "recv_rtp_sink_0"):
            raise RuntimeError("cannot link rtpbin's recv_rtp_sink_0")
        if not self.rtcpsrc.link_pads("src", rb, "recv_rtcp_sink_0"):
            raise RuntimeError("cannot link rtpbin's recv_rtcp_sink_0")
        if not rb.link_pads("send_rtcp_src_0", self.pipeline.get_by_name("rtcpout"), "sink"):
            raise RuntimeError("cannot link rtpbin's send_rtcp_src_0")
        self.session = _tune_session(rb, rtcp_interval_ms)
        rm._on_sample(self.pipeline.get_by_name("rtcpout"), self._on_rtcp_out)
        rm._on_sample(self.pipeline.get_by_name("vdec"), self._on_decoded)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rx-" + name, daemon=True)

    def _pad_added(self, rb, pad):
        name = pad.get_name()
        if not name.startswith("recv_rtp_src_0_"):
            return
        if self._linked:
            self.errors.append("a second RTP source pad %s (only one video stream expected)" % name)
            return
        self._linked = True
        if pad.link(self.pipeline.get_by_name("depay").get_static_pad("sink")) != Gst.PadLinkReturn.OK:
            self.errors.append("cannot link %s to the depayloader" % name)

    def _on_rtcp_out(self, pkt):
        self.rtcp_out.add(pkt)
        try:
            self.sock.sendto(pkt, self.dest)
        except OSError as e:
            self.errors.append("send: %s" % e)

    def _on_decoded(self, data):
        self.decoded.append((rm._frame_hash(data), time.monotonic()))

    def _loop(self):
        while not self._stop.is_set():
            try:
                pkt, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError as e:
                self.errors.append("recv: %s" % e)
                return
            if is_rtcp(pkt):
                self.rtcp_in.add(pkt)
                self.rtcpsrc.emit("push-buffer", Gst.Buffer.new_wrapped(pkt))
                continue
            try:
                r = rm.Rtp(pkt)
            except ValueError:
                self.errors.append("a packet that is neither RTP nor RTCP")
                continue
            self.rtp_in += 1
            if r.pt == RTX_PT:
                self.rtx_in += 1
            self.ssrcs.add(r.ssrc)
            self.rtpsrc.emit("push-buffer", Gst.Buffer.new_wrapped(pkt))

    def start(self):
        self.pipeline.set_state(Gst.State.PLAYING)
        self._thread.start()

    def jb_stats(self):
        out = {}
        for jb in self.jitterbuffers:
            st = jb.get_property("stats")
            for k in ("num-pushed", "num-lost", "num-late", "num-duplicates", "rtx-count",
                      "rtx-success-count"):
                ok, v = st.get_uint64(k)
                if ok:
                    out[k] = out.get(k, 0) + v
        if self.rtxreceive is not None:
            out["rtx-assoc"] = self.rtxreceive.get_property("num-rtx-assoc-packets")
        return out

    def stop(self):
        self._stop.set()
        self._thread.join()
        self.stats_at_stop = self.jb_stats()
        bus = self.pipeline.get_bus()
        while True:
            msg = bus.pop_filtered(Gst.MessageType.ERROR)
            if msg is None:
                break
            err, dbg = msg.parse_error()
            self.errors.append("%s: %s (%s)" % (msg.src.get_name(), err.message, dbg))
        self.pipeline.set_state(Gst.State.NULL)
        self.sock.close()
        return self.errors


class RxResult:
    def __init__(self, name):
        self.name = name
        self.failures = []
        self.decoded = 0
        self.matched = 0
        self.sent = 0
        self.freeze_s = 0.0          # longest gap in media time between displayed frames
        self.freeze_at = None
        self.wall_freeze_s = 0.0     # the same as the receiver's wall clock saw it
        self.figures = {}


def check(pub, rx, min_ratio=0.95, max_freeze_s=1.0):
    """Pixel-exact (every decoded picture, tail frames too), fraction of the counted frames decoded,
    longest freeze (in the sender's frame time, head and end of the counted frames included: a
    receiver that stopped decoding froze until the end)."""
    res = RxResult(rx.name)
    sent = pub.frames
    n = min(len(sent), pub.counted)
    res.sent = n
    hashes = [h for h, _ in rx.decoded]
    res.decoded = len(hashes)
    for e in rx.errors:
        res.failures.append("receiver error: " + e)
    idx, problems = rm.match_frames(sent, hashes)     # every sent frame, the tail too
    idx = [i for i in idx if i < n]
    res.matched = len(idx)
    if problems:
        res.failures.append("%d of %d decoded pictures not pixel-exact / out of order; first: %s"
                            % (len(problems), res.decoded, problems[0]))
    if n == 0:
        res.failures.append("the publisher sent no frame")
        return res
    ratio = res.matched / n
    if ratio < min_ratio:
        res.failures.append("decoded %d of %d frames pixel-exact (%.1f %%), want >= %.0f %%"
                            % (res.matched, n, 100 * ratio, 100 * min_ratio))
    marks = [-1] + idx + [n]
    worst, at = 0, None
    for a, b in zip(marks, marks[1:]):
        if b - a - 1 > worst:
            worst, at = b - a - 1, a + 1
    res.freeze_s = worst / FPS
    res.freeze_at = at
    times = [t for _, t in rx.decoded]
    res.wall_freeze_s = max([b - a for a, b in zip(times, times[1:])] or [0.0])
    if res.freeze_s > max_freeze_s:
        res.failures.append("froze %.2f s (%d frames from frame %d not shown), want <= %.1f s"
                            % (res.freeze_s, worst, at, max_freeze_s))
    jb = getattr(rx, "stats_at_stop", {})
    res.figures = {"nack_seqs_sent": rx.rtcp_out.get("nack"), "pli_sent": rx.rtcp_out.get("pli"),
                   "fir_sent": rx.rtcp_out.get("fir"), "rtx_in": rx.rtx_in, "rtp_in": rx.rtp_in,
                   "jb_lost": jb.get("num-lost", 0), "jb_rtx_requests": jb.get("rtx-count", 0),
                   "jb_rtx_success": jb.get("rtx-success-count", 0),
                   "rtcp_in": rx.rtcp_in.as_dict()}
    return res


def report(pub, results, relay_stats, out):
    ps = pub.stats()
    out("publisher: %d frames (+%d tail frames not counted), %d keyframes, %d media packets, "
        "%d RTX resends; RTCP in %s"
        % (ps["counted"], ps["frames"] - ps["counted"], ps["keyframes"], ps["media_packets"],
           ps["rtx_sent"], ps["rtcp_in"]))
    ok = True
    for r in results:
        out("  %-6s decoded %d/%d pixel-exact (%.1f %%), longest freeze %.2f s (frame %s; wall %.2f"
            " s): %s" % (r.name, r.matched, r.sent, 100.0 * r.matched / max(1, r.sent), r.freeze_s,
                         r.freeze_at, r.wall_freeze_s, "PASS" if not r.failures else "FAIL"))
        out("         %s" % r.figures)
        for m in r.failures:
            out("      - " + m)
        ok = ok and not r.failures
    for name, st in sorted((relay_stats or {}).items()):
        out("  relay %-6s up %s" % (name, st["up"]))
        out("  relay %-6s down %s" % (name, st["down"]))
    return ok
