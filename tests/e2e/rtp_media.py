"""
rtp_media.py - real media clients for the end-to-end tests: a GStreamer VP8 L1T3 (+ Opus) sender and
RTP receivers that decode with GStreamer, plus the frame comparison that proves each receiver's
pictures are pixel-for-pixel the sender's own.

How frames are identified: the sender tees its encoded VP8 into its own vp8dec and keeps the SHA-256
of every decoded I420 picture, in encode order, together with the temporal layer (TID), the keyframe
bit and the RTP timestamp it read back from its own RTP packets. A receiver depayloads and decodes
what reaches it and hashes every picture the same way; `match_frames` then walks the receiver's
hashes and finds each one in the sender's sequence strictly after the previous match. A picture
decoded from a broken reference chain does not hash to any sender picture, so it fails the match.

Sockets are plain Python UDP sockets (GStreamer only encodes, payloads, depayloads and decodes), so
one socket per participant carries audio and video like a BUNDLEd WebRTC client, the sender sends
from exactly the (address, port) it is registered with, and the test sees every RTP header.

`LayerRelay` is a tiny Python stand-in for the MMR used only by selfcheck_l1t3.py to validate this
machinery (and to show that the comparison can fail); the real test never goes through it.

Needs /usr/bin/python3 with python3-gi and GStreamer 1.22 (vp8enc, rtpvp8pay, opusenc, ...).
"""

import hashlib
import socket
import struct
import threading
import time
import warnings

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GObject, Gst  # noqa: E402

Gst.init(None)

VIDEO_PT = 96
AUDIO_PT = 111
WIDTH, HEIGHT, FPS = 320, 240, 30
I420_SIZE = WIDTH * HEIGHT * 3 // 2

# L1T3 with a real reference structure (VP8 buffers: LAST, GOLDEN, ALTREF), period 8:
#   TID 0 (pos 0,4): refs LAST only, updates LAST           -> TL0 decodes on its own
#   TID 1 (pos 2,6): refs LAST (pos 6 also GOLDEN), updates GOLDEN only
#   TID 2 (pos 1,3,5,7): pos 1 refs LAST only; others LAST+GOLDEN+ALTREF; update ALTREF only
# Frames above TL0 never update the entropy context (a dropped frame must not change what the next
# frame is decoded with). Sync (Y) frames (pos 1, 2) reference only LAST (= TL0), so a receiver may
# switch up there.
LAYER_IDS = [0, 2, 1, 2, 0, 2, 1, 2]
LAYER_SYNC = [False, True, True, False, False, False, False, False]
_TL0 = "no-ref-golden+no-ref-alt+no-upd-golden+no-upd-alt"
_TL2_SYNC = "no-ref-golden+no-ref-alt+no-upd-last+no-upd-golden+no-upd-entropy"
_TL1_SYNC = "no-ref-golden+no-ref-alt+no-upd-last+no-upd-alt+no-upd-entropy"
_TL2 = "no-upd-last+no-upd-golden+no-upd-entropy"
_TL1 = "no-ref-alt+no-upd-last+no-upd-alt+no-upd-entropy"
LAYER_FLAGS = [_TL0, _TL2_SYNC, _TL1_SYNC, _TL2, _TL0, _TL2, _TL1, _TL2]


# ---- RTP / VP8 descriptor parsing ---------------------------------------------------------------

class Rtp:
    """The fields of one RTP packet the tests look at (RFC 3550)."""
    __slots__ = ("pt", "marker", "seq", "ts", "ssrc", "hdr_len", "payload")

    def __init__(self, data):
        if len(data) < 12 or data[0] >> 6 != 2:
            raise ValueError("not RTP v2")
        cc = data[0] & 0x0F
        hl = 12 + 4 * cc
        if data[0] & 0x10:  # header extension
            if len(data) < hl + 4:
                raise ValueError("truncated RTP extension")
            hl += 4 + 4 * struct.unpack_from("!H", data, hl + 2)[0]
        end = len(data)
        if data[0] & 0x20:  # padding
            end -= data[-1]
        if hl > end:
            raise ValueError("truncated RTP header")
        self.pt = data[1] & 0x7F
        self.marker = data[1] >> 7
        self.seq, self.ts, self.ssrc = struct.unpack_from("!HII", data, 2)
        self.hdr_len = hl
        self.payload = bytes(data[hl:end])


class Vp8Desc:
    """RFC 7741 section 4.2 payload descriptor."""
    __slots__ = ("length", "start", "pid", "picture_id", "picture_id_off", "picture_id_bits",
                 "tl0picidx", "tl0_off", "tid", "sync", "keyframe", "frame_start")

    def __init__(self, p):
        if len(p) < 2:
            raise ValueError("VP8 payload too short")
        self.start = (p[0] >> 4) & 1
        self.pid = p[0] & 7
        self.picture_id = self.tl0picidx = None
        self.picture_id_off = self.tl0_off = 0
        self.picture_id_bits = 0
        self.tid = 0
        self.sync = 0
        off = 1
        if p[0] & 0x80:
            x = p[1]
            off = 2
            if x & 0x80:
                self.picture_id_off = off
                if p[off] & 0x80:
                    self.picture_id = ((p[off] & 0x7F) << 8) | p[off + 1]
                    self.picture_id_bits = 15
                    off += 2
                else:
                    self.picture_id = p[off] & 0x7F
                    self.picture_id_bits = 7
                    off += 1
            if x & 0x40:
                self.tl0_off = off
                self.tl0picidx = p[off]
                off += 1
            if x & 0x30:
                if x & 0x20:
                    self.tid = p[off] >> 6
                    self.sync = (p[off] >> 5) & 1
                off += 1
        if off >= len(p):
            raise ValueError("VP8 descriptor without payload")
        self.length = off
        self.frame_start = self.start == 1 and self.pid == 0
        self.keyframe = self.frame_start and (p[off] & 1) == 0


# ---- GStreamer helpers --------------------------------------------------------------------------

def _int_array(values):
    """A GValueArray of gint, for vp8enc's GParamSpecValueArray properties (gst-launch cannot)."""
    # GValueArray is deprecated in GLib, but it is what vp8enc's array properties take
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        arr = GObject.ValueArray.new(len(values))
        for v in values:
            gv = GObject.Value()
            gv.init(GObject.TYPE_INT)
            gv.set_int(v)
            arr.append(gv)
    return arr


def configure_l1t3(enc, layer_flags=True):
    """Three temporal layers on a vp8enc; layer_flags=False leaves the TIDs as mere labels (used by
    the self-check to show that dropping layers then corrupts pictures)."""
    enc.set_property("temporal-scalability-number-layers", 3)
    enc.set_property("temporal-scalability-periodicity", len(LAYER_IDS))
    enc.set_property("temporal-scalability-layer-id", _int_array(LAYER_IDS))
    enc.set_property("temporal-scalability-rate-decimator", _int_array([4, 2, 1]))
    enc.set_property("temporal-scalability-target-bitrate", _int_array([204800, 307200, 512000]))
    Gst.util_set_object_arg(enc, "temporal-scalability-layer-sync-flags",
                            "<" + ",".join("true" if s else "false" for s in LAYER_SYNC) + ">")
    if layer_flags:
        Gst.util_set_object_arg(enc, "temporal-scalability-layer-flags",
                                "<" + ",".join(LAYER_FLAGS) + ">")


def _buffer_bytes(buf):
    ok, info = buf.map(Gst.MapFlags.READ)
    if not ok:
        raise RuntimeError("cannot map buffer")
    try:
        return bytes(info.data)
    finally:
        buf.unmap(info)


def _on_sample(appsink, fn):
    """Connect fn(bytes) to every buffer of an appsink (runs on the streaming thread)."""
    def cb(sink):
        sample = sink.emit("pull-sample")
        if sample is not None:
            fn(_buffer_bytes(sample.get_buffer()))
        return Gst.FlowReturn.OK
    appsink.set_property("emit-signals", True)
    appsink.connect("new-sample", cb)


def _big_rcvbuf(sock, size=4 << 20):
    """A receive buffer that holds seconds of media: SO_RCVBUFFORCE (root may exceed rmem_max)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def _frame_hash(data):
    if len(data) != I420_SIZE:
        raise RuntimeError("decoded picture has %d bytes, want %d" % (len(data), I420_SIZE))
    return hashlib.sha256(data).hexdigest()[:24]


def _bus_errors(pipeline, timeout_ns):
    """Pop bus messages until EOS, an error or the timeout; returns (eos_seen, [error strings])."""
    bus = pipeline.get_bus()
    errors = []
    deadline = time.monotonic() + timeout_ns / 1e9
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, errors
        msg = bus.timed_pop_filtered(int(left * 1e9), Gst.MessageType.EOS | Gst.MessageType.ERROR)
        if msg is None:
            return False, errors
        if msg.type == Gst.MessageType.EOS:
            return True, errors
        err, dbg = msg.parse_error()
        errors.append("%s: %s (%s)" % (msg.src.get_name(), err.message, dbg))
        return False, errors


# ---- sender -------------------------------------------------------------------------------------

class SentFrame:
    __slots__ = ("ts", "tid", "sync", "keyframe", "packets", "hash")

    def __init__(self, ts, tid, sync, keyframe):
        self.ts, self.tid, self.sync, self.keyframe = ts, tid, sync, keyframe
        self.packets = 0
        self.hash = None


class Sender:
    """VP8 L1T3 (+ Opus) from GStreamer, sent from one UDP socket (bound to local) to dest.

    frames: SentFrame per encoded frame, in order, hash filled from the sender's own decode.
    audio_payloads: RTP payload bytes of every Opus packet sent, in order.
    """

    def __init__(self, local, dest, video_ssrc, audio_ssrc=None, frames=240, mtu=600,
                 layer_flags=True, keyframe_dist=64, audio=True):
        self.dest = dest
        self.video_ssrc = video_ssrc
        self.audio_ssrc = audio_ssrc
        self.nframes = frames
        self.frames = []
        self.decoded = []
        self.audio_payloads = []
        self.video_packets = 0
        self.send_errors = []
        self._lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self.sock.bind(local)
        audio_branch = ""
        if audio and audio_ssrc is not None:
            # 20 ms Opus frames for the duration of the video.
            audio_branch = (
                " audiotestsrc is-live=true wave=sine freq=440 samplesperbuffer=960 num-buffers=%d"
                " ! audio/x-raw,rate=48000,channels=1 ! opusenc frame-size=20"
                " ! rtpopuspay pt=%d ssrc=%d ! appsink name=artp sync=false"
                % (frames * 50 // FPS, AUDIO_PT, audio_ssrc))
        desc = (
            "videotestsrc is-live=true num-buffers=%d pattern=smpte horizontal-speed=2"
            " ! video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1"
            " ! timeoverlay font-desc=\"Sans 20\" ! vp8enc name=enc deadline=1 cpu-used=4 threads=1"
            " keyframe-max-dist=%d error-resilient=default"
            " ! tee name=t"
            " t. ! queue ! rtpvp8pay name=pay pt=%d ssrc=%d picture-id-mode=15-bit mtu=%d"
            " ! appsink name=vrtp sync=false"
            " t. ! queue ! vp8dec ! video/x-raw,format=I420 ! appsink name=vdec sync=false"
            % (frames, WIDTH, HEIGHT, FPS, keyframe_dist, VIDEO_PT, video_ssrc, mtu)) + audio_branch
        self.pipeline = Gst.parse_launch(desc)
        configure_l1t3(self.pipeline.get_by_name("enc"), layer_flags)
        _on_sample(self.pipeline.get_by_name("vrtp"), self._on_video_rtp)
        _on_sample(self.pipeline.get_by_name("vdec"), self._on_decoded)
        if audio_branch:
            _on_sample(self.pipeline.get_by_name("artp"), self._on_audio_rtp)
        # Optional hook: fn(frame_index) called when a frame's first packet is sent.
        self.on_frame = None

    def _send(self, pkt):
        try:
            self.sock.sendto(pkt, self.dest)
        except OSError as e:  # recorded, reported by the test
            self.send_errors.append(str(e))

    def _on_video_rtp(self, pkt):
        r = Rtp(pkt)
        d = Vp8Desc(r.payload)
        with self._lock:
            if d.frame_start:
                self.frames.append(SentFrame(r.ts, d.tid, d.sync, d.keyframe))
                idx = len(self.frames) - 1
            else:
                idx = None
            if self.frames:
                self.frames[-1].packets += 1
            self.video_packets += 1
        if idx is not None and self.on_frame is not None:
            self.on_frame(idx)
        self._send(pkt)

    def _on_audio_rtp(self, pkt):
        r = Rtp(pkt)
        with self._lock:
            self.audio_payloads.append(r.payload)
        self._send(pkt)

    def _on_decoded(self, data):
        self.decoded.append(_frame_hash(data))

    def run(self, timeout=60):
        """Play to EOS; returns a list of error strings (empty on success)."""
        self.pipeline.set_state(Gst.State.PLAYING)
        eos, errors = _bus_errors(self.pipeline, int(timeout * Gst.SECOND))
        self.pipeline.set_state(Gst.State.NULL)
        if not eos and not errors:
            errors.append("sender: no EOS within %ds" % timeout)
        if len(self.decoded) != len(self.frames):
            errors.append("sender: %d frames sent but %d decoded by its own vp8dec"
                          % (len(self.frames), len(self.decoded)))
        for f, h in zip(self.frames, self.decoded):
            f.hash = h
        if len(set(self.decoded)) != len(self.decoded):
            errors.append("sender: its decoded pictures are not all distinct; frame matching would "
                          "be ambiguous")
        errors.extend("sender: " + e for e in self.send_errors[:3])
        return errors

    def close(self):
        self.sock.close()


# ---- receiver -----------------------------------------------------------------------------------

class Receiver:
    """One participant's socket (bound to local) and its depayload+decode pipeline."""

    def __init__(self, name, local, video_ssrc=None, audio_ssrc=None, target=None):
        self.name = name
        self.local = local
        self.target = target
        self.video_ssrc = video_ssrc
        self.audio_ssrc = audio_ssrc
        self.decoded = []
        self.video_seqs = []
        self.video_ssrcs = set()
        self.video_descs = []          # (tid, picture_id, tl0picidx, frame_start)
        self.audio_payloads = []
        self.audio_seqs = []
        self.audio_ssrcs = set()
        self.other = []                # packets neither audio nor video, or not RTP
        self.sources = set()
        self.errors = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        _big_rcvbuf(self.sock)
        self.sock.bind(local)
        self.sock.settimeout(0.1)
        self.pipeline = Gst.parse_launch(
            "appsrc name=src is-live=true format=time do-timestamp=true"
            " caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=%d\""
            " ! rtpvp8depay wait-for-keyframe=true ! vp8dec ! video/x-raw,format=I420"
            " ! appsink name=vdec sync=false" % VIDEO_PT)
        self.src = self.pipeline.get_by_name("src")
        _on_sample(self.pipeline.get_by_name("vdec"), self._on_decoded)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rx-" + name, daemon=True)

    def _on_decoded(self, data):
        self.decoded.append(_frame_hash(data))

    def start(self):
        self.pipeline.set_state(Gst.State.PLAYING)
        self._thread.start()

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
            self.handle_packet(pkt)

    def handle_packet(self, pkt):
        """Account for one (plain) RTP packet and feed video to the decoder. A subclass that gets
        something else off the wire (SRTP) unwraps it first and calls this with the RTP packet."""
        try:
            r = Rtp(pkt)
        except ValueError:
            self.other.append(pkt)
            return
        if r.pt == VIDEO_PT:
            self.video_seqs.append(r.seq)
            self.video_ssrcs.add(r.ssrc)
            try:
                d = Vp8Desc(r.payload)
                self.video_descs.append((d.tid, d.picture_id, d.tl0picidx, d.frame_start))
            except ValueError as e:
                self.errors.append("bad VP8 descriptor: %s" % e)
            self.src.emit("push-buffer", Gst.Buffer.new_wrapped(pkt))
        elif r.pt == AUDIO_PT:
            self.audio_seqs.append(r.seq)
            self.audio_ssrcs.add(r.ssrc)
            self.audio_payloads.append(r.payload)
        else:
            self.other.append(pkt)

    def finish(self, timeout=10):
        """Stop receiving, drain the decoder; returns error strings."""
        self._stop.set()
        self._thread.join()
        self.src.emit("end-of-stream")
        eos, errors = _bus_errors(self.pipeline, int(timeout * Gst.SECOND))
        self.pipeline.set_state(Gst.State.NULL)
        self.sock.close()
        if not eos and not errors:
            errors.append("no EOS from the decoder within %ds" % timeout)
        return self.errors + errors


# ---- comparison ---------------------------------------------------------------------------------

def match_frames(sent, received):
    """Find each received hash in sent (list of SentFrame) strictly after the previous match.
    Returns (indices of the matched sender frames, [problem strings]); a received picture that
    matches nothing (or only an earlier frame) is a problem and is skipped."""
    pos = {}
    for i, f in enumerate(sent):
        pos.setdefault(f.hash, []).append(i)
    out = []
    problems = []
    last = -1
    for k, h in enumerate(received):
        cands = [i for i in pos.get(h, []) if i > last]
        if cands:
            last = cands[0]
            out.append(last)
        elif pos.get(h):
            problems.append("received picture #%d equals sender frame %s, not after frame %d "
                            "(out of order or repeated)" % (k, pos[h], last))
        else:
            problems.append("received picture #%d (after sender frame %d) matches no sender "
                            "picture: not pixel-exact" % (k, last))
    return out, problems


def seq_gaps(seqs):
    """Number of places where consecutive received sequence numbers are not +1 (mod 2^16)."""
    return sum(1 for a, b in zip(seqs, seqs[1:]) if (b - a) & 0xFFFF != 1)


# ---- self-check relay (not used by the real test) -----------------------------------------------

class _RelayOut:
    def __init__(self, addr, target):
        self.addr = addr
        self.target = target
        self.started = False
        self.cur = 0
        self.fwd = False
        self.seq_off = 0
        self.pid_off = 0


class LayerRelay:
    """Python stand-in for the MMR on loopback: forwards every packet from the sender to each
    output, withholding VP8 frames whose TID is above the output's current layer (switching down at
    the next frame, up one layer at a time at a sync frame, or at a keyframe), keeping sequence
    numbers and PictureIDs contiguous. Audio passes through. mutate(out_index, packet_bytes) ->
    bytes lets a self-check damage a copy."""

    def __init__(self, local, outputs, rewrite=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _big_rcvbuf(self.sock)
        self.sock.bind(local)
        self.sock.settimeout(0.1)
        self.outs = [_RelayOut(a, t) for a, t in outputs]
        self.rewrite = rewrite
        self.mutate = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="relay", daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def set_target(self, i, target):
        self.outs[i].target = target

    def _loop(self):
        while not self._stop.is_set():
            try:
                pkt, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            r = Rtp(pkt)
            d = Vp8Desc(r.payload) if r.pt == VIDEO_PT else None
            for i, o in enumerate(self.outs):
                out = bytearray(pkt)
                if d is not None:
                    if d.frame_start:
                        if d.keyframe:
                            o.started = True
                            o.cur = o.target
                        elif o.target < o.cur:
                            o.cur = o.target
                        elif d.sync and d.tid == o.cur + 1 <= o.target:
                            o.cur = d.tid   # one layer at a time, like lib/select/layer_select.h
                        o.fwd = o.started and d.tid <= o.cur
                        if not o.fwd:
                            o.pid_off += 1
                    if not o.fwd:
                        o.seq_off += 1
                        continue
                    if self.rewrite:
                        struct.pack_into("!H", out, 2, (r.seq - o.seq_off) & 0xFFFF)
                        if d.picture_id_bits == 15:
                            pid = ((d.picture_id - o.pid_off) & 0x7FFF) | 0x8000
                            struct.pack_into("!H", out, r.hdr_len + d.picture_id_off, pid)
                if self.mutate is not None:
                    out = self.mutate(i, out)
                    if out is None:
                        continue
                self.sock.sendto(bytes(out), o.addr)
