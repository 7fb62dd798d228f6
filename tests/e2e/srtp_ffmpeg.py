"""
srtp_ffmpeg.py - ffmpeg as an SRTP sender for the end-to-end tests, and the reference its receivers
are checked against.

    clip = Clip(frames=90)          # VP8 (libvpx) in an IVF file + the SHA-256 of each decoded picture
    errs = send_srtp(clip.path, dest, local_ip, local_port, key, ssrc)   # ffmpeg -re ... srtp://
    problems = check_decode(clip, receiver, receiver_errors, ssrc)
    clip.remove()

The clip is encoded once by ffmpeg (testsrc, libvpx) into a file; ffmpeg then sends that file with
`-c:v copy` as RTP with its own SRTP (`-srtp_out_suite AES_CM_128_HMAC_SHA1_80 -srtp_out_params
BASE64`, the SDES inline material), from `localport=` so the packets come from the participant's
registered port. Because the bitstream on the wire is exactly the file's, GStreamer's decode of the
file (ivfparse ! vp8dec, hashed like rtp_media does) is the reference: a receiver must decode every
picture, in order, pixel for pixel equal to it. ffmpeg's GCM suites are refused by ffmpeg itself,
so this is AES_CM_128_HMAC_SHA1_80 only.
"""

import base64
import os
import shutil
import subprocess
import tempfile

import rtp_media as rm
from rtp_media import Gst

FFMPEG = "ffmpeg"
VIDEO_PT = rm.VIDEO_PT


class ClipFrame:
    """What rtp_media.match_frames needs of a reference frame."""
    __slots__ = ("hash",)

    def __init__(self, h):
        self.hash = h


class Clip:
    """A VP8 clip in an IVF file (deterministic: ffmpeg's testsrc, one libvpx thread) and the hash
    of every picture GStreamer decodes from it."""

    def __init__(self, frames=90, keyint=30):
        self.dir = tempfile.mkdtemp(prefix="mmr-ffmpeg-")
        self.path = os.path.join(self.dir, "clip.ivf")
        self.frames = frames
        cp = subprocess.run(
            [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
             "-i", "testsrc=size=%dx%d:rate=%d" % (rm.WIDTH, rm.HEIGHT, rm.FPS),
             "-frames:v", str(frames), "-c:v", "libvpx", "-threads", "1", "-deadline", "realtime",
             "-cpu-used", "4", "-b:v", "500k", "-g", str(keyint), "-pix_fmt", "yuv420p", self.path],
            capture_output=True, text=True, timeout=60)
        if cp.returncode != 0:
            raise RuntimeError("ffmpeg could not encode the VP8 clip: %s" % cp.stderr.strip()[-300:])
        self.hashes = self._decode()
        if len(self.hashes) != frames:
            raise RuntimeError("the clip decodes to %d pictures, want %d" % (len(self.hashes),
                                                                           frames))
        if len(set(self.hashes)) != len(self.hashes):
            raise RuntimeError("the clip's pictures are not all distinct; matching would be "
                               "ambiguous")
        self.ref = [ClipFrame(h) for h in self.hashes]

    def _decode(self):
        hashes = []
        p = Gst.parse_launch("filesrc location=\"%s\" ! ivfparse ! vp8dec"
                             " ! video/x-raw,format=I420 ! appsink name=sink sync=false"
                             % self.path)
        rm._on_sample(p.get_by_name("sink"), lambda d: hashes.append(rm._frame_hash(d)))
        p.set_state(Gst.State.PLAYING)
        eos, errors = rm._bus_errors(p, 30 * Gst.SECOND)
        p.set_state(Gst.State.NULL)
        if errors or not eos:
            raise RuntimeError("decoding the clip failed: %s" % (errors or "no EOS"))
        return hashes

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def send_srtp(path, dest, local_ip, local_port, key, ssrc, pkt_size=1200, timeout=60,
              suite="AES_CM_128_HMAC_SHA1_80"):
    """Play the IVF file in real time as SRTP from local_ip:local_port to dest (ip, port).
    key: master key || salt (bytes). Returns a list of error strings (empty on success)."""
    url = "srtp://%s:%d?localaddr=%s&localport=%d&pkt_size=%d" % (dest[0], dest[1], local_ip,
                                                                  local_port, pkt_size)
    argv = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-i", path,
            "-map", "0:v:0", "-c:v", "copy", "-f", "rtp", "-payload_type", str(VIDEO_PT),
            "-ssrc", str(ssrc), "-rtpflags", "skip_rtcp",
            "-srtp_out_suite", suite, "-srtp_out_params", base64.b64encode(key).decode(), url]
    try:
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return ["ffmpeg did not finish within %d s" % timeout]
    if cp.returncode != 0:
        return ["ffmpeg exited with %d: %s" % (cp.returncode, cp.stderr.strip()[-400:])]
    return []


def check_decode(clip, rx, rx_errors, ssrc):
    """A receiver that got the whole clip: no errors, every picture decoded pixel-exact in order,
    contiguous sequence numbers, the sender's SSRC. Returns problem strings (empty: pass)."""
    problems = ["receiver error: " + e for e in rx_errors]
    idx, bad = rm.match_frames(clip.ref, rx.decoded)
    if bad:
        problems.append("%d of %d decoded pictures not pixel-exact or out of order; first: %s"
                        % (len(bad), len(rx.decoded), bad[0]))
    missing = sorted(set(range(len(clip.ref))) - set(idx))
    if missing:
        problems.append("%d of %d pictures not decoded (first %s)" % (len(missing), len(clip.ref),
                                                                      missing[:8]))
    if not rx.decoded:
        problems.append("nothing decoded")
    if rx.video_ssrcs != {ssrc}:
        problems.append("video SSRCs %s, want {%d}" % (sorted(rx.video_ssrcs), ssrc))
    gaps = rm.seq_gaps(rx.video_seqs)
    if gaps:
        problems.append("%d gaps in the video sequence numbers" % gaps)
    if rx.other:
        problems.append("%d packets that are not VP8 RTP pt %d" % (len(rx.other), VIDEO_PT))
    return problems
