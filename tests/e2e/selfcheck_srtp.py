#!/usr/bin/python3
"""
selfcheck_srtp.py - validates the SRTP client machinery of test_srtp_gst.py and test_srtp_ffmpeg.py
without the MMR, on 127.0.0.1: GStreamer srtpenc sender -> [pylibsrtp decrypt with the sender's key]
-> rtp_media.LayerRelay (drops TIDs above each target, rewrites seq/PictureID) -> [pylibsrtp encrypt
per receiver with that receiver's key] -> GStreamer srtpdec receivers. pylibsrtp (libsrtp2) is an
implementation independent of GStreamer's, so this shows the key formats (SDES inline base64 ->
srtpenc key / srtpdec caps) agree, and that the checks catch what they must.

Scenarios (each must come out as stated, else exit 1):
  gcm, cm        AEAD_AES_128_GCM / AES_CM_128_HMAC_SHA1_80, receivers T0/T1/T2: every check passes;
  recv-wrong-key the relay encrypts dave's copies with a key that is not dave's: dave must FAIL
                 (srtpdec refuses his packets), bob and carol pass;
  plain-out      the relay sends bob plain RTP: bob must FAIL;
  send-wrong-key the sender encrypts with a key the relay does not have: every receiver must FAIL;
  ffmpeg         ffmpeg's SRTP sender (AES_CM_128_HMAC_SHA1_80, localport) -> pylibsrtp decrypt ->
                 re-encrypt -> srtpdec receiver: every frame pixel-exact against the file's decode.
Run: /usr/bin/python3 tests/e2e/selfcheck_srtp.py [scenario ...]
"""

import os
import socket
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import l1t3_session as ls  # noqa: E402
import rtp_media as rm  # noqa: E402
import srtp_media as sm  # noqa: E402

import pylibsrtp  # noqa: E402  (python3-pylibsrtp)

IP = "127.0.0.1"
RELAY_PORT = 45100      # decrypt proxy (what the sender sends to)
PLAIN_PORT = 45101      # LayerRelay
SENDER_PORT = 45110
PROFILES = {
    "AEAD_AES_128_GCM": pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
    "AEAD_AES_256_GCM": pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_256_GCM,
    "AES_CM_128_HMAC_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
}


def session(suite_name, key, inbound):
    t = pylibsrtp.Policy.SSRC_ANY_INBOUND if inbound else pylibsrtp.Policy.SSRC_ANY_OUTBOUND
    return pylibsrtp.Session(pylibsrtp.Policy(key=key, ssrc_type=t,
                                              srtp_profile=PROFILES[suite_name]))


class UdpProxy:
    """Receives on local, sends fn(packet) (None: drop) to dest from the same socket."""

    def __init__(self, local, dest, fn):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rm._big_rcvbuf(self.sock)
        self.sock.bind(local)
        self.sock.settimeout(0.1)
        self.dest = dest
        self.fn = fn
        self.dropped = 0
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._loop, daemon=True)
        self._th.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                pkt, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            out = self.fn(pkt)
            if out is None:
                self.dropped += 1
            else:
                self.sock.sendto(out, self.dest)

    def stop(self):
        self._stop.set()
        self._th.join()
        self.sock.close()


def decryptor(suite_name, key):
    s = session(suite_name, key, True)

    def fn(pkt):
        try:
            return s.unprotect(pkt)
        except pylibsrtp.Error:
            return None
    return fn


def encryptor(suite_name, key):
    s = session(suite_name, key, False)
    return s.protect


def run(suite_name, frames=120, relay_send_key=None, out_keys=None, plain_to=()):
    """One call through the Python SRTP relay chain; returns (sender errors, {name: Result})."""
    specs = [ls.RxSpec("bob", 45120, 0), ls.RxSpec("carol", 45122, 1), ls.RxSpec("dave", 45124, 2)]
    st = sm.suite(suite_name)
    send_key = os.urandom(st.master_len)
    recv_keys = {s.name: os.urandom(st.master_len) for s in specs}
    out_keys = dict(recv_keys, **(out_keys or {}))
    enc_ports = {s.name: 45130 + i for i, s in enumerate(specs)}
    relay = rm.LayerRelay((IP, PLAIN_PORT), [((IP, enc_ports[s.name]), s.target) for s in specs])
    proxies = [UdpProxy((IP, RELAY_PORT), (IP, PLAIN_PORT),
                        decryptor(suite_name, relay_send_key or send_key))]
    for s in specs:
        fn = (lambda p: p) if s.name in plain_to else encryptor(suite_name, out_keys[s.name])
        proxies.append(UdpProxy((IP, enc_ports[s.name]), (IP, s.port), fn))
    relay.start()
    names = [s.name for s in specs]

    class Sender(sm.SrtpSender):
        def __init__(self, *a, **kw):
            super().__init__(*a, suite_name=suite_name, key=send_key, **kw)

    def make_receiver(spec, local, vssrc, assrc):
        return sm.SrtpReceiver(spec.name, local, vssrc, assrc, spec.target, suite_name=suite_name,
                               key=recv_keys[spec.name])
    try:
        sender, rxs, serr, log = ls.run_session(
            IP, (IP, RELAY_PORT), specs, lambda n, t: relay.set_target(names.index(n), t),
            SENDER_PORT, video_ssrc=1111, audio_ssrc=2222, frames=frames, sender_cls=Sender,
            make_receiver=make_receiver)
    finally:
        relay.stop()
        for p in proxies:
            p.stop()
    results = [ls.check_receiver(sender, s, r, log) for s, r in rxs]
    for e in serr:
        print("  sender error: " + e)
    ls.report(sender, results, print)
    print("  relay: %d packets failed decryption with the sender's key" % proxies[0].dropped)
    return serr, {r.spec.name: r for r in results}


def good(suite_name):
    serr, res = run(suite_name)
    bad = [n for n, r in res.items() if r.failures]
    return not serr and not bad, "all receivers pass" if not bad else "failed: %s" % bad


def recv_wrong_key():
    wrong = os.urandom(28)
    serr, res = run("AEAD_AES_128_GCM", frames=60, out_keys={"dave": wrong})
    f = res["dave"].failures
    ok = (not serr and any("srtpdec refused" in m for m in f) and not res["bob"].failures
          and not res["carol"].failures)
    return ok, "dave failures: %s" % f[:2]


def plain_out():
    serr, res = run("AES_CM_128_HMAC_SHA1_80", frames=60, plain_to=("bob",))
    f = res["bob"].failures
    ok = not serr and any("srtpdec refused" in m for m in f) and not res["dave"].failures
    return ok, "bob failures: %s" % f[:2]


def send_wrong_key():
    serr, res = run("AEAD_AES_128_GCM", frames=60, relay_send_key=os.urandom(28))
    failed = sorted(n for n, r in res.items() if r.failures)
    return failed == ["bob", "carol", "dave"], "failed receivers: %s" % failed


def ffmpeg():
    import time
    import srtp_ffmpeg as sf
    st = sm.suite("AES_CM_128_HMAC_SHA1_80")
    send_key, recv_key = os.urandom(st.master_len), os.urandom(st.master_len)
    dec, enc = decryptor(st.name, send_key), encryptor(st.name, recv_key)

    def reencrypt(pkt):
        plain = dec(pkt)
        return None if plain is None else enc(plain)
    clip = sf.Clip(frames=60)
    try:
        rx = sm.SrtpReceiver("rx", (IP, 45140), 3333, None, 0, suite_name=st.name, key=recv_key)
        proxy = UdpProxy((IP, RELAY_PORT), (IP, 45140), reencrypt)
        rx.start()
        try:
            ferr = sf.send_srtp(clip.path, (IP, RELAY_PORT), IP, 45150, send_key, ssrc=3333)
        finally:
            time.sleep(0.5)
            proxy.stop()
            rxerr = rx.finish()
        problems = sf.check_decode(clip, rx, rxerr, 3333)
    finally:
        clip.remove()
    for p in ferr + problems:
        print("  " + p)
    print("  ffmpeg: %d frames in the clip, %d decoded by the receiver, relay dropped %d"
          % (len(clip.hashes), len(rx.decoded), proxy.dropped))
    return not ferr and not problems, "problems: %s" % (ferr + problems)[:2]


SCENARIOS = {"gcm": lambda: good("AEAD_AES_128_GCM"), "cm": lambda: good("AES_CM_128_HMAC_SHA1_80"),
             "recv-wrong-key": recv_wrong_key, "plain-out": plain_out,
             "send-wrong-key": send_wrong_key, "ffmpeg": ffmpeg}


def main(argv):
    names = argv or list(SCENARIOS)
    failed = []
    for n in names:
        print("== self-check %s" % n)
        ok, why = SCENARIOS[n]()
        print("== %s: %s (%s)" % (n, "as expected" if ok else "NOT AS EXPECTED", why))
        if not ok:
            failed.append(n)
    if failed:
        print("SELF-CHECK FAILED: %s" % ", ".join(failed))
        return 1
    print("SELF-CHECK OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
