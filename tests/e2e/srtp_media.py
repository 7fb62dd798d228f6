"""
srtp_media.py - SRTP for the end-to-end clients: the MMR's key output (SDES "inline:" material, RFC
4568) turned into what GStreamer's srtpenc/srtpdec take, and SRTP versions of rtp_media's sender and
receiver in which the encryption is done by the real GStreamer elements.

    keys = parse_mmrctl_keys(stdout)       # `mmrctl participant add ...` (text or --json) output
    k = inline_key(keys["send_key"], keys["srtp_suite"])   # bytes: master key || master salt
    SrtpSender(local, dest, vssrc, assrc, suite_name=..., key=k, ...)  # VP8 L1T3 + Opus via srtpenc
    SrtpReceiver(name, local, vssrc, assrc, target, suite_name=..., key=k)  # srtpdec, then decoder

How: rtp_media.Sender hands every RTP packet to Python; here it goes through an SRTP stage (srtpenc)
and what comes out is sent from the participant's socket. A receiver passes every datagram from its
socket through srtpdec stages (one per SSRC: the key travels in srtpdec's caps, which name the SSRC)
and gives what srtpdec lets through to rtp_media.Receiver's normal accounting and decoder.

Each stage is its own `gst-launch-1.0 udpsrc ! srtpenc|srtpdec ! udpsink` process on 127.0.0.1,
fed and drained by this module over loopback UDP: several srtpenc/srtpdec instances working at once
in ONE process corrupt each other's buffers (GStreamer 1.22 + Debian's NSS-based libsrtp2: refcount
criticals and wrong plaintext, seen with srtpdec alone, no other SRTP code in the process), while
separate processes are clean. srtpdec drops a packet that fails authentication or the replay check
without an error message, so each stage counts packets in and out, and a receiver reports every
packet that srtpdec refused as an error.

Needs /usr/bin/python3, python3-gi, GStreamer 1.22 with srtpenc/srtpdec (gstreamer1.0-plugins-bad)
and gst-launch-1.0 (gstreamer1.0-tools).
"""

import base64
import binascii
import ctypes
import json
import signal
import socket
import subprocess
import threading
import time

import rtp_media as rm


class Suite:
    """One SRTP crypto suite: its SDES name, the GStreamer cipher/auth names, key and salt sizes."""

    def __init__(self, name, cipher, auth, key_len, salt_len, tag_len):
        self.name = name
        self.cipher = cipher
        self.auth = auth
        self.key_len = key_len
        self.salt_len = salt_len
        self.tag_len = tag_len

    @property
    def master_len(self):
        return self.key_len + self.salt_len


SUITES = {
    "AEAD_AES_128_GCM": Suite("AEAD_AES_128_GCM", "aes-128-gcm", "null", 16, 12, 16),
    "AEAD_AES_256_GCM": Suite("AEAD_AES_256_GCM", "aes-256-gcm", "null", 32, 12, 16),
    "AES_CM_128_HMAC_SHA1_80": Suite("AES_CM_128_HMAC_SHA1_80", "aes-128-icm", "hmac-sha1-80",
                                     16, 14, 10),
}


def suite(name):
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError("unknown SRTP suite %r (want one of %s)" % (name, ", ".join(SUITES)))


def inline_key(text, suite_name):
    """bytes of master key || master salt from SDES key-params "inline:BASE64[|lifetime][|MKI:len]".
    Raises ValueError with the reason when the text is not that or has the wrong length."""
    s = suite(suite_name)
    if not isinstance(text, str) or not text.startswith("inline:"):
        raise ValueError("key %r does not start with 'inline:'" % (text,))
    b64 = text[len("inline:"):].split("|", 1)[0]
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError("key is not valid base64 (%s)" % e)
    if len(raw) != s.master_len:
        raise ValueError("%s key material is %d bytes, want %d (key %d + salt %d)"
                         % (s.name, len(raw), s.master_len, s.key_len, s.salt_len))
    return raw


def to_inline(raw):
    return "inline:" + base64.b64encode(raw).decode()


def parse_mmrctl_keys(out):
    """The keys `mmrctl participant add|keys|rekey` printed: from its text lines
    ("srtp_suite NAME", "send_key inline:...", "recv_key inline:...") or from its --json object.
    Returns {"srtp_suite", "send_key", "recv_key"}; raises ValueError naming what is missing."""
    if isinstance(out, dict):
        d = out
    else:
        text = out if isinstance(out, str) else out.decode()
        d = None
        if text.strip().startswith("{"):
            try:
                d = json.loads(text)
            except ValueError:
                d = None
        if d is None:
            d = {}
            for line in text.splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] in ("srtp_suite", "send_key", "recv_key"):
                    d[parts[0]] = parts[1]
    missing = [k for k in ("srtp_suite", "send_key", "recv_key") if not d.get(k)]
    if missing:
        raise ValueError("mmrctl printed no %s (output: %r)" % (", ".join(missing), out))
    suite(d["srtp_suite"])
    for k in ("send_key", "recv_key"):
        inline_key(d[k], d["srtp_suite"])
    return {k: d[k] for k in ("srtp_suite", "send_key", "recv_key")}


def srtp_caps(suite_name, key, ssrc):
    """srtpdec's sink caps carrying the key of one SSRC."""
    s = suite(suite_name)
    return ("application/x-srtp,ssrc=(uint)%d,srtp-key=(buffer)%s,srtp-cipher=(string)%s,"
            "srtp-auth=(string)%s,srtcp-cipher=(string)%s,srtcp-auth=(string)%s"
            % (ssrc, key.hex(), s.cipher, s.auth, s.cipher, s.auth))


_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # in the child between fork and exec: if the test dies, its gst-launch helpers go with it
    # (PR_SET_PDEATHSIG = 1)
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def _free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _udp_port_bound(pid, port):
    """Is UDP port bound on 127.0.0.1 in the network namespace of process pid?"""
    want = ":%04X" % port
    try:
        with open("/proc/%d/net/udp" % pid) as f:
            next(f)
            return any(line.split()[1].endswith(want) for line in f)
    except (OSError, StopIteration, IndexError):
        return False


class SrtpStage:
    """One srtpenc or srtpdec with one key, in a gst-launch-1.0 process of its own:
    push(bytes) sends a packet to its udpsrc; out_fn(bytes) is called (on this stage's reader
    thread) for every packet its udpsink sends back, in order. Counts packets in and out.
    A decoder stage serves one SSRC (srtpdec takes the key from its caps, which name the SSRC)."""

    def __init__(self, kind, suite_name, key, out_fn, name="srtp", ssrc=None, start_timeout=10):
        s = suite(suite_name)
        if len(key) != s.master_len:
            raise ValueError("%s key of %d bytes, want %d" % (s.name, len(key), s.master_len))
        self.kind = kind
        self.name = name
        self.suite = s
        self.key = key
        self.out_fn = out_fn
        self.pushed = 0
        self.emitted = 0
        self._lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rm._big_rcvbuf(self.sock)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        out_port = self.sock.getsockname()[1]
        self.in_port = _free_udp_port()
        if kind == "enc":
            caps = "application/x-rtp"
            el = ["srtpenc", "key=" + key.hex(), "rtp-cipher=" + s.cipher, "rtp-auth=" + s.auth,
                  "rtcp-cipher=" + s.cipher, "rtcp-auth=" + s.auth]
        elif kind == "dec":
            if ssrc is None:
                raise ValueError("a decoder stage needs the SSRC")
            caps = srtp_caps(s.name, key, ssrc)
            el = ["srtpdec"]
        else:
            raise ValueError("kind must be enc or dec")
        argv = (["gst-launch-1.0", "-q", "udpsrc", "address=127.0.0.1", "port=%d" % self.in_port,
                 "buffer-size=4194304", "caps=" + caps, "!"] + el +
                ["!", "udpsink", "host=127.0.0.1", "port=%d" % out_port, "sync=false",
                 "async=false"])
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + start_timeout
        while not _udp_port_bound(self.proc.pid, self.in_port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out = self._stop_proc()
                self.sock.close()
                raise RuntimeError("%s: srtp%s process did not start: %s"
                                   % (name, kind, out.strip()[-300:]))
            time.sleep(0.01)
        self._out_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="srtp%s-%s" % (kind, name),
                                        daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                pkt = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.emitted += 1
            self.out_fn(pkt)

    def push(self, pkt):
        with self._lock:
            self.pushed += 1
        self._out_sock.sendto(bytes(pkt), ("127.0.0.1", self.in_port))

    def _stop_proc(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return (out or b"").decode(errors="replace")

    def drain(self, quiet=0.3, timeout=5):
        """Wait until every packet pushed came back (or none came for `quiet` s), stop the process;
        returns error strings (process output that reports a problem)."""
        deadline = time.monotonic() + timeout
        last, last_t = -1, time.monotonic()
        while time.monotonic() < deadline:
            with self._lock:
                done, n = self.emitted >= self.pushed, self.emitted
            if done:
                break
            if n != last:
                last, last_t = n, time.monotonic()
            elif time.monotonic() - last_t > quiet:
                break
            time.sleep(0.02)
        out = self._stop_proc()
        self._stop.set()
        self._thread.join()
        self.sock.close()
        self._out_sock.close()
        bad = [l for l in out.splitlines() if "CRITICAL" in l or "ERROR" in l]
        return ["srtp%s %s: %s" % (self.kind, self.name, l.strip()) for l in bad[:3]]

    def close(self):
        if self.proc.poll() is None:
            self.drain(quiet=0, timeout=0)


class SrtpDemux:
    """Decoder side of a participant with several SSRCs (video, audio): one srtpdec stage per SSRC,
    all with the same key; made up front for the SSRCs given, on first sight for any other.
    Datagrams too short to carry an SSRC go to a stage of SSRC 0 (srtpdec refuses them, so they
    count as refused)."""

    def __init__(self, suite_name, key, out_fn, name="rx", ssrcs=()):
        self.suite_name = suite_name
        self.key = key
        self.out_fn = out_fn
        self.name = name
        self.stages = {}
        for ssrc in ssrcs:
            if ssrc is not None:
                self._stage(ssrc)

    def _stage(self, ssrc):
        st = self.stages.get(ssrc)
        if st is None:
            st = SrtpStage("dec", self.suite_name, self.key, self.out_fn,
                           name="%s-%08x" % (self.name, ssrc), ssrc=ssrc)
            self.stages[ssrc] = st
        return st

    def push(self, pkt):
        ssrc = int.from_bytes(pkt[8:12], "big") if len(pkt) >= 12 else 0
        self._stage(ssrc).push(pkt)

    @property
    def pushed(self):
        return sum(s.pushed for s in list(self.stages.values()))

    @property
    def emitted(self):
        return sum(s.emitted for s in list(self.stages.values()))

    def drain(self):
        errors = []
        for st in list(self.stages.values()):
            errors.extend(st.drain())
        return errors


class SrtpSender(rm.Sender):
    """rtp_media.Sender whose packets go through GStreamer srtpenc (key = its send_key) before they
    leave its socket. plain_packets / srtp_packets: RTP packets encrypted / SRTP packets sent."""

    def __init__(self, local, dest, video_ssrc, audio_ssrc=None, suite_name=None, key=None,
                 **kw):
        super().__init__(local, dest, video_ssrc, audio_ssrc, **kw)
        self.suite_name = suite_name
        self.stage = SrtpStage("enc", suite_name, key, self._send_protected, name="sender")

    def _send(self, pkt):
        self.stage.push(pkt)

    def _send_protected(self, pkt):
        rm.Sender._send(self, pkt)

    @property
    def plain_packets(self):
        return self.stage.pushed

    @property
    def srtp_packets(self):
        return self.stage.emitted

    def run(self, timeout=60):
        errors = super().run(timeout)
        errors.extend(self.stage.drain())
        if self.srtp_packets != self.plain_packets:
            errors.append("sender: srtpenc turned %d RTP packets into %d SRTP packets"
                          % (self.plain_packets, self.srtp_packets))
        return errors

    def close(self):
        self.stage.close()
        super().close()


class SrtpReceiver(rm.Receiver):
    """rtp_media.Receiver behind GStreamer srtpdec (key = its recv_key). srtp_in: datagrams received;
    srtp_ok: packets srtpdec authenticated and decrypted. Every datagram srtpdec refused is reported
    by finish() as an error."""

    def __init__(self, name, local, video_ssrc=None, audio_ssrc=None, target=None, suite_name=None,
                 key=None):
        super().__init__(name, local, video_ssrc, audio_ssrc, target)
        self.suite_name = suite_name
        self.stage = SrtpDemux(suite_name, key, self._on_plain, name=name,
                               ssrcs=(video_ssrc, audio_ssrc))

    def handle_packet(self, pkt):
        self.stage.push(pkt)

    def _on_plain(self, pkt):
        rm.Receiver.handle_packet(self, pkt)

    @property
    def srtp_in(self):
        return self.stage.pushed

    @property
    def srtp_ok(self):
        return self.stage.emitted

    def finish(self, timeout=10):
        self._stop.set()
        self._thread.join()
        errors = self.stage.drain()
        if self.srtp_ok != self.srtp_in:
            errors.append("srtpdec refused %d of %d SRTP packets received (authentication or replay "
                          "check failed: wrong key, or not SRTP)" % (self.srtp_in - self.srtp_ok,
                                                                    self.srtp_in))
        if self.srtp_in == 0:
            errors.append("no packets received")
        return errors + super().finish(timeout)
