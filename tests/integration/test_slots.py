#!/usr/bin/python3
"""
test_slots.py - receive slots (issue 13) on the real mmr-dataplane and controller (net_tap, client
sockets in the test's namespace as in test_audio.py): a receiver with one video slot, publishers put
on it and switched without renegotiation.

Two VP8 publishers A and B (30 frames/s, 2 packets a frame, payload naming the publisher) send a
keyframe at the start and then only when the MMR asks them (PLI or FIR about their SSRC, read from
their sockets): a keyframe on the receiver's slot after a switch can only come from the MMR's own
request. Receiver R: `participant add ... --video-slots 0x51000000 --audio-slots 0x61000000,0x61000001
--rtcp nack,pli` (meeting with --top-n 2). `slot set m R --video 0 --ssrc A`, then B, then A again.
R sees one SSRC (its slot's), sequence numbers +1 (a +2 allowed only right at a switch, when the
switch cut a frame), timestamps never going back, and the first packet of every publisher's run a
keyframe of that publisher; A and B each got a PLI/FIR from the MMR after they were put on the slot.
`slot list` (text and JSON) names the publisher on the slot; the lcore counter slot_switches counts
the switches. R NACKs a sequence number from before the last switch: not resent, slot_nack_stale
+1. A and B publish audio with levels: R's audio arrives only on its two audio slot SSRCs.
Errors: an unknown SSRC, a slot out of range, an audio stream on a video slot, `--ssrc` with
`--none`, slots for a sendonly participant, audio slots above the meeting's top-n.
SRTP (AEAD_AES_128_GCM): the same switches; R decrypts every copy with ONE libsrtp inbound session
under its recv key (no replay or authentication error: no SRTP index used twice across the
switches); the publishers read the MMR's PLIs as SRTCP.
A state file survives a controller restart: `slot list` is the same afterwards.

Negative control (--no-kf-request, in tests/run-all.sh): the publishers ignore keyframe requests
(their only keyframe goes out before anyone is on the slot): the receiver gets nothing on its slot,
the video checks fail (the selection never forwards a delta frame to a slot that saw no keyframe).

`--selfcheck` (what run-all.sh runs): the dataplane is build-check/mmr-dataplane (ASan and the table
self-check after every batch, with the video slot rules): no self-check failure.

Run as root: /usr/bin/python3 tests/integration/test_slots.py [--asan] [--selfcheck] [--no-kf-request]
(under the DPDK flock)
"""
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv  # noqa: E402
import rtpgen  # noqa: E402
import rtcpmodel as R  # noqa: E402

try:
    import pylibsrtp
except ImportError:
    pylibsrtp = None

ASAN = '--asan' in sys.argv
NO_KF = '--no-kf-request' in sys.argv
SELFCHECK = '--selfcheck' in sys.argv     # the self-check dataplane (make selfcheck): what run-all.sh runs
CHECK_DP = os.path.join(mmrtest.ROOT, 'build-check', 'mmr-dataplane')
CONF = 'speaker_interval_ms = 300;\ntopn_ms = 100;\nkf_throttle_ms = 200;\n'
PT_VP8, PT_OPUS, LEVEL_ID = 96, 111, 1
SLOT_SSRC = 0x51000000
ASLOTS = (0x61000000, 0x61000001)
RUN = 1.5 * (3 if ASAN else 1)


class Pub:
    """A VP8 L1T1 publisher (and its audio): keyframe at start and when asked."""

    def __init__(self, idx, vssrc, assrc, encrypt=None, decrypt_rtcp=None):
        self.idx, self.vssrc, self.assrc = idx, vssrc, assrc
        self.seq, self.ts, self.pid, self.tl0 = 100 + 5000 * idx, 90000 * (idx + 7), 10 * idx, 0
        self.aseq, self.ats = 7 + idx, 48000 * idx
        self.want_kf, self.frames = True, 0
        self.encrypt = encrypt or (lambda d: d)
        self.decrypt_rtcp = decrypt_rtcp or (lambda d: d)
        self.kf_req_times = []
        self.keyframes = 0

    def frame(self):
        key = self.want_kf
        self.want_kf = False
        self.keyframes += key
        out = []
        for i in range(2):
            desc = rtpgen.vp8_descriptor(s=(i == 0), pid=0, picture_id=self.pid, tl0picidx=self.tl0, tid=0)
            body = (rtpgen.vp8_payload_header(key, 300) if i == 0 else b'') + struct.pack('!BBI', 0x56, self.idx, self.frames) + bytes(300)
            d = rtpgen.rtp_packet(self.seq, self.ts, self.vssrc, PT_VP8, desc + body, marker=(i == 1))
            self.seq = (self.seq + 1) & 0xffff
            out.append(self.encrypt(d))
        self.ts = (self.ts + 3000) & 0xffffffff
        self.pid = (self.pid + 1) & 0x7fff
        self.tl0 = (self.tl0 + 1) & 0xff
        self.frames += 1
        return out

    def audio(self):
        prof, data = rtpgen.one_byte_ext([(LEVEL_ID, bytes([0x80 | 20]))])
        d = rtpgen.rtp_packet(self.aseq, self.ats, self.assrc, PT_OPUS, struct.pack('!BB', 0x41, self.idx) + bytes(40),
                              ext=(prof, data))
        self.aseq = (self.aseq + 1) & 0xffff
        self.ats = (self.ats + 960) & 0xffffffff
        return self.encrypt(d)

    def on_rtcp(self, d):
        try:
            d = self.decrypt_rtcp(d)
        except Exception:   # noqa: a refused SRTCP packet is not a request
            return
        try:
            pkts = R.parse(d)
        except ValueError:
            return
        for p in pkts:
            pli = p['pt'] == 206 and p['fmt'] == 1 and p['media'] == self.vssrc
            fir = p['pt'] == 206 and p['fmt'] == 4 and any(s == self.vssrc for s, _ in p.get('fir', []))
            if pli or fir:
                self.kf_req_times.append(time.time())
                if not NO_KF:
                    self.want_kf = True


class Clients:
    """Publishers in one sender thread (30 frames/s, audio 50/s); every socket read by another."""

    def __init__(self, env, socks, pubs):
        self.env, self.socks, self.pubs = env, socks, pubs
        self.log = {n: [] for n in socks}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.rx = threading.Thread(target=self.recv_loop, daemon=True)
        self.tx = threading.Thread(target=self.send_loop, daemon=True)
        self.rx.start()
        self.tx.start()

    def recv_loop(self):
        import select
        by_fd = {s.fileno(): n for n, s in self.socks.items()}
        while not self.stop.is_set():
            r, _, _ = select.select(list(self.socks.values()), [], [], 0.05)
            for s in r:
                n = by_fd[s.fileno()]
                while True:
                    try:
                        d = s.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    with self.lock:
                        self.log[n].append((time.time(), d))
                        if n in self.pubs and rtpgen.is_rtcp(d):
                            self.pubs[n].on_rtcp(d)

    def send_loop(self):
        t_next, k = time.monotonic(), 0
        while not self.stop.is_set():
            with self.lock:
                for n, p in self.pubs.items():
                    if k % 3 == 0:
                        for d in p.frame():
                            self.env.send(self.socks[n], d)
                    if k % 2 == 0:
                        self.env.send(self.socks[n], p.audio())
            k += 1
            t_next += 0.01
            d = t_next - time.monotonic()
            if d > 0:
                time.sleep(d)

    def close(self):
        self.stop.set()
        self.tx.join()
        self.rx.join()


def slot_list(env, meeting):
    cp = env.ctl('slot', 'list', meeting, json=True, check=False)
    return cp.stdout.get('slots', []) if cp.returncode == 0 and isinstance(cp.stdout, dict) else []


def lcore_counter(env, key):
    return mmrtest.lcore_total(env.stats(), key)


def setup(env, meeting, srtp=None):
    args = ['meeting', 'create', meeting, '--top-n', 2] + (['--srtp', srtp] if srtp else ['--plain'])
    env.ctl(*args)
    base = 7400 if not srtp else 7500
    ports = {'A': base, 'B': base + 1, 'R': base + 2}
    for n in ('A', 'B'):
        env.ctl('participant', 'add', meeting, n, '--addr', mmrtest.CLIENT_IP, '--port', ports[n], '--role',
                'sendonly', '--ext', 'audio-level=%d' % LEVEL_ID)
    env.ctl('participant', 'add', meeting, 'R', '--addr', mmrtest.CLIENT_IP, '--port', ports['R'], '--role',
            'recvonly', '--rtcp', 'nack,pli', '--video-slots', '0x%08x' % SLOT_SSRC,
            '--audio-slots', ','.join('0x%08x' % s for s in ASLOTS))
    return ports


def run_switches(env, c, meeting, cl, pubs, tag):
    """A on the slot, then B, then A; returns [(time, publisher)] of the switches."""
    switches = []
    for who in ('A', 'B', 'A'):
        t = time.time()
        env.ctl('slot', 'set', meeting, 'R', '--video', 0, '--ssrc', '0x%08x' % pubs[who].vssrc)
        switches.append((t, who))
        time.sleep(RUN)
    return switches


def check_video(c, rtp, pubs, switches, tag):
    """rtp: R's video packets (parsed, in arrival order)."""
    c.check(len(rtp) > 100, '%s: R got video on its slot (%d packets)' % (tag, len(rtp)))
    if not rtp:
        return
    c.check(all(p['ssrc'] == SLOT_SSRC for p in rtp), '%s: every video copy is on the slot SSRC' % tag,
            sorted({hex(p['ssrc']) for p in rtp}))
    runs, jumps, back = [], [], 0
    for i, p in enumerate(rtp):
        who = p['who']
        if who is not None and (not runs or runs[-1][0] != who):
            runs.append((who, i, p['key']))
        if i:
            d = (p['seq'] - rtp[i - 1]['seq']) & 0xffff
            if d != 1:
                jumps.append((i, d))
            if ((p['ts'] - rtp[i - 1]['ts']) & 0xffffffff) >= 0x80000000:
                back += 1
    starts = {i for _, i, _ in runs}
    c.check(all(d == 1 or (d == 2 and any(abs(i - s) <= 1 for s in starts)) for i, d in jumps),
            '%s: sequence numbers +1 across the switches (a +2 only where a switch cut a frame)' % tag, jumps[:5])
    backs = [(i, rtp[i - 1]['ts'], rtp[i]['ts'], rtp[i - 1]['seq'], rtp[i]['seq'], rtp[i]['who'], rtp[i]['key'])
             for i in range(1, len(rtp)) if ((rtp[i]['ts'] - rtp[i - 1]['ts']) & 0xffffffff) >= 0x80000000]
    c.check(back == 0, '%s: timestamps never go back (%d did)' % (tag, back), [(b, [s for _, s, _ in runs]) for b in backs])
    c.check([w for w, _, _ in runs] == [0, 1, 0], '%s: the slot carried A, then B, then A' % tag,
            [w for w, _, _ in runs])
    c.check(all(k for _, _, k in runs), '%s: each publisher\'s run starts with its keyframe' % tag,
            [(w, k) for w, _, k in runs])
    tb, ta = switches[1][0], switches[2][0]
    c.check(any(t >= tb for t in pubs['B'].kf_req_times), '%s: B was asked for a keyframe (PLI/FIR) after '
            'it was put on the slot' % tag)
    c.check(any(t >= ta for t in pubs['A'].kf_req_times), '%s: A was asked again after it came back' % tag)


def parse_video(d):
    """R's video packet as a dict: seq, ts, ssrc, start, key, who (the publisher index a frame's
    first packet names; None on others)."""
    try:
        r = rtpgen.parse_rtp(d)
        if r.pt != PT_VP8:
            return None
        pl = r.payload
        vd = rtpgen.parse_vp8(pl)
    except ValueError:
        return None
    p = dict(seq=r.seq, ts=r.ts, ssrc=r.ssrc, start=vd.s and vd.pid == 0, key=rtpgen.vp8_is_keyframe(pl))
    off = vd.length + (10 if p['key'] else 3) + 1
    p['who'] = pl[off] if p['start'] and len(pl) > off else None
    return p


def body_plain(env, c):
    ports = setup(env, 'm')
    pubs = {'A': Pub(0, 0xA1000000, 0xA2000000), 'B': Pub(1, 0xB1000000, 0xB2000000)}
    for n in ('A', 'B'):
        env.stream('m', n, pubs[n].vssrc, 'video', layers=1)
        env.stream('m', n, pubs[n].assrc, 'audio')
    # errors, each changing nothing
    for args, what, text in (
            (('--video', 0, '--ssrc', '0x12345678'), 'an unknown SSRC', 'no stream with SSRC'),
            (('--video', 1, '--ssrc', '0x%08x' % pubs['A'].vssrc), 'a slot out of range', 'bad video slot'),
            (('--video', 0, '--ssrc', '0x%08x' % pubs['A'].assrc), 'audio on a video slot', 'is audio'),
            (('--video', 0, '--ssrc', '0x%08x' % pubs['A'].vssrc, '--none'), '--ssrc with --none', '--none')):
        cp = env.ctl('slot', 'set', 'm', 'R', *args, check=False)
        c.check(cp.returncode != 0 and text in (cp.stderr + str(cp.stdout)), 'slot set refuses %s' % what,
                (cp.stderr + str(cp.stdout))[:200])
    cp = env.ctl('sub', 'set', 'm', 'R', '--ssrc', '0x%08x' % pubs['A'].vssrc, '--target', 0, check=False)
    c.check(cp.returncode != 0 and 'slot set' in cp.stderr, 'sub set refused for video of a slot receiver',
            cp.stderr[:200])
    cp = env.ctl('participant', 'add', 'm', 'X', '--addr', mmrtest.CLIENT_IP, '--port', 7499, '--role', 'sendonly',
                 '--video-slots', '0x77000000', check=False)
    c.check(cp.returncode != 0, 'slots refused for a sendonly participant')
    cp = env.ctl('participant', 'add', 'm', 'Y', '--addr', mmrtest.CLIENT_IP, '--port', 7498, '--audio-slots',
                 '0x78000000,0x78000001,0x78000002', check=False)
    c.check(cp.returncode != 0 and 'top-n' in cp.stderr, 'audio slots above the meeting\'s top-n refused',
            cp.stderr[:200])
    socks = {n: env.udp_socket(ports[n]) for n in ports}
    sw0 = lcore_counter(env, 'slot_switches')
    cl = Clients(env, socks, pubs)
    try:
        switches = run_switches(env, c, 'm', cl, pubs, 'plain')
        sl = slot_list(env, 'm')
        v = [s for s in sl if s.get('kind') == 'video']
        c.check(len(v) == 1 and v[0].get('publisher') == 'A' and v[0].get('ssrc') == pubs['A'].vssrc and
                v[0].get('out_ssrc') == SLOT_SSRC and (v[0].get('current') or {}).get('started') is True,
                'slot list: R\'s slot 0 carries A, started', v)
        a = sorted(s.get('out_ssrc') for s in sl if s.get('kind') == 'audio')
        c.check(a == list(ASLOTS), 'slot list: R\'s audio slots are its own SSRCs', a)
        txt = env.ctl('slot', 'list', 'm').stdout
        c.check('0x%08x' % SLOT_SSRC in txt and 'A' in txt, 'slot list (text) shows the slot', txt[:300])
        # a NACK for a number from before the last switch: ignored and counted
        with cl.lock:
            vid = [parse_video(d) for t, d in cl.log['R'] if t < switches[2][0] and not rtpgen.is_rtcp(d)]
        vid = [p for p in vid if p]
        stale0 = lcore_counter(env, 'slot_nack_stale')
        if vid:
            env.send(socks['R'], R.rr(0x0E000001) + R.nack(0x0E000001, SLOT_SSRC, vid[-5]['seq'], 0))
        if os.environ.get('SLOTS_DEBUG'):
            time.sleep(1)
            print('NACK seq', vid[-5]['seq'] if vid else None, 'drops', mmrtest.drop_counts(env.stats()))
        ok = mmrtest_wait(lambda: lcore_counter(env, 'slot_nack_stale') > stale0, 3)
        c.check(ok, 'a NACK of the previous publisher\'s number counts slot_nack_stale')
        # a PLI from R about its slot (once A has had no request for a second): the publisher on
        # the slot now, A, is asked for a keyframe
        mmrtest_wait(lambda: not pubs['A'].kf_req_times or time.time() - pubs['A'].kf_req_times[-1] > 1.0, 5)
        t_pli = time.time()
        env.send(socks['R'], R.rr(0x0E000001) + R.pli(0x0E000001, SLOT_SSRC))
        ok = mmrtest_wait(lambda: any(t >= t_pli for t in pubs['A'].kf_req_times), 3)
        c.check(ok, 'a PLI from R about its slot reaches the publisher on it (A) as a keyframe request')
        cl.stop.set()
        cl.tx.join()
        time.sleep(0.3)
    finally:
        cl.close()
    rtp = [p for p in (parse_video(d) for t, d in cl.log['R'] if not rtpgen.is_rtcp(d)) if p]
    check_video(c, rtp, pubs, switches, 'plain')
    c.check(lcore_counter(env, 'slot_switches') - sw0 >= 3, 'lcore counter slot_switches counts the switches',
            lcore_counter(env, 'slot_switches') - sw0)
    aud = set()
    for t, d in cl.log['R']:
        if rtpgen.is_rtcp(d):
            continue
        try:
            p = rtpgen.parse_rtp(d)
        except ValueError:
            continue
        if p.pt == PT_OPUS:
            aud.add(p.ssrc)
    c.check(aud and aud <= set(ASLOTS), 'R\'s audio arrives on its audio slot SSRCs only', sorted(hex(s) for s in aud))
    # --none empties the slot
    env.ctl('slot', 'set', 'm', 'R', '--video', 0, '--none')
    v = [s for s in slot_list(env, 'm') if s.get('kind') == 'video']
    c.check(len(v) == 1 and v[0].get('publisher') is None, 'slot set --none empties the slot', v)
    env.ctl('slot', 'set', 'm', 'R', '--video', 0, '--ssrc', '0x%08x' % pubs['B'].vssrc)


def mmrtest_wait(cond, timeout):
    deadline = time.monotonic() + timeout * (3 if ASAN else 1)
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def body_srtp(env, c):
    if pylibsrtp is None:
        c.check(False, 'pylibsrtp importable (apt install python3-pylibsrtp)')
        return
    profile = pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM

    def session(key, outbound):
        return pylibsrtp.Session(pylibsrtp.Policy(
            key=key, srtp_profile=profile,
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound else pylibsrtp.Policy.SSRC_ANY_INBOUND))
    ports = setup(env, 's', 'AEAD_AES_128_GCM')
    pubs = {}
    for i, n in enumerate(('A', 'B')):
        keys = env.participant_keys('s', n)
        tx = session(mmrtest.key_bytes(keys['send_key']), True)
        rx = session(mmrtest.key_bytes(keys['recv_key']), False)
        pubs[n] = Pub(i, 0xC1000000 + i, 0xC2000000 + i, encrypt=tx.protect, decrypt_rtcp=rx.unprotect_rtcp)
        env.stream('s', n, pubs[n].vssrc, 'video', layers=1)
        env.stream('s', n, pubs[n].assrc, 'audio')
    rkeys = env.participant_keys('s', 'R')
    rsess = session(mmrtest.key_bytes(rkeys['recv_key']), False)   # ONE inbound session for everything
    socks = {n: env.udp_socket(ports[n]) for n in ports}
    cl = Clients(env, socks, pubs)
    try:
        switches = run_switches(env, c, 's', cl, pubs, 'SRTP')
        cl.stop.set()
        cl.tx.join()
        time.sleep(0.3)
    finally:
        cl.close()
    bad, rtp = 0, []
    for t, d in cl.log['R']:
        if rtpgen.is_rtcp(d):
            continue
        try:
            p = parse_video(rsess.unprotect(d))
        except pylibsrtp.Error:
            bad += 1
            continue
        if p:
            rtp.append(p)
    c.check(bad == 0, 'SRTP: R decrypts every copy with one libsrtp session (no replayed or reused index; '
            '%d refused)' % bad)
    check_video(c, rtp, pubs, switches, 'SRTP')


def body(c):
    env = MmrEnv('slots', asan=ASAN)
    env.extra_dp_conf = CONF
    if SELFCHECK:
        if not c.check(os.access(CHECK_DP, os.X_OK), 'self-check dataplane present (run `make selfcheck`)', CHECK_DP):
            return
        env.dp_bin = CHECK_DP
    with env:
        env.wait_dp_attached(10)
        body_plain(env, c)
        if NO_KF:
            return
        body_srtp(env, c)
        before = slot_list(env, 'm')
        if os.environ.get('SLOTS_DEBUG'):
            for f in (env.state_file, env.state_file + '.journal'):
                if os.path.exists(f):
                    print(f, open(f, errors='replace').read()[-3000:])
        env.kill_controller()
        env.start_controller()
        env.wait_dp_attached(10)
        after = slot_list(env, 'm')
        if os.environ.get('SLOTS_DEBUG'):
            print('AFTER', open(env.state_file, errors='replace').read())
            print(''.join(l for l in open(env.ctl_log, errors='replace') if 'journal' in l or 'vmember' in l or 'replay' in l or 'error' in l.lower())[-3000:])
        strip = lambda sl: [{k: v for k, v in s.items() if k != 'current'} for s in sl]  # noqa: E731
        c.check(before and strip(before) == strip(after), 'slot list the same after a controller restart',
                (before, after))
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports', env.sanitizer_errors()[:3])
        if SELFCHECK:
            bad = [ln for ln in env.log_text('dataplane').splitlines() if 'SELF-CHECK FAILED' in ln]
            c.check(not bad, 'table self-check after every batch found nothing wrong', bad[:1])


if __name__ == '__main__':
    mmrtest.run_test('test_slots', body)
