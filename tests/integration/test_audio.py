#!/usr/bin/python3
"""
test_audio.py - audio by who is speaking and feedback to publishers (issue 12), on the real
mmr-dataplane and controller: client sockets in the test's network namespace talk to the MMR over
net_tap like test_forwarding.py. Every publisher sends Opus-like audio (50 pps) with the RFC 6464
audio level header extension; its payload names the publisher, so a receiver can tell whose it got.

Speaker (meeting m1, 3 participants, every audio to everyone): alice talks (level 20 -dBov, voice)
while bob and carol are silent (127): `mmrctl meeting show m1` names alice (text "dominant speaker:"
and JSON dominant_speaker) within 2 s; then bob talks and alice is silent: bob within 2 s; the
lcores' speaker_runs grow and the stream counter `level` holds each one's last level. The controller
read events and refused none; restarted, it names bob again (the dataplane's snapshot restates the
speaker: snapshot_events grow).
Malformed level extension: 50 packets of carol whose extension block holds an element running past
it (rtp_parse accepts the block, the level reader refuses it): the lcore counter ext_bad grows by
exactly 50, and alice and bob still get every one of them unchanged.
Top-N (meeting m2, --top-n 3, 10 participants): three talk at a time (two rounds of three, then a
change of one), the rest are silent: every receiver gets exactly 3 SSRCs (its three slot SSRCs,
none of them a publisher's), sequence numbers +1 per packet on each and timestamps never going
backwards across the speaker changes, never its own audio, always the current talkers' audio (what
it got in the last 300 ms of each round: the three talkers, minus itself), and the silent
participants' streams count topn_drops. The publishers send SRs: the MMR's SRs about each slot SSRC
give RTP times on the slot's own timeline (its newest packet's + the time since, within 40 ms).
Uplink (m1): alice negotiated transport-wide CC (--rtcp ...,twcc, --ext twcc=3): her audio carries a
transport-wide sequence number; she gets RTPFB FMT 15 feedback from the MMR's SSRC for her about
roughly 10 times a second (twcc_fb_ms = 100), whose packet status chunks, decoded independently
here (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1), report every sequence number
she sent as received and nothing she did not send, with fb_count +1 per message; twcc_fb_out
counts them. bob negotiated REMB (--rtcp ...,remb, --ext abs-send-time=2): he gets a REMB
(PSFB FMT 15 "REMB") about once a second naming his SSRC, and remb_out counts them.
SRTP (meeting m3, AEAD_AES_128_GCM, --top-n 2, 4 participants, pylibsrtp): the level is read from
the (authenticated, clear) header; every receiver decrypts its slot copies under its recv key, 2
SSRCs, contiguous sequence numbers, never its own audio; s0's TWCC feedback comes as SRTCP under its
recv key and reports what it sent.

Negative control (--no-levels, in tests/run-all.sh): the same senders, but no participant announces
the audio level extension: nobody is named, the first check fails and the test stops.

Run as root: /usr/bin/python3 tests/integration/test_audio.py [--asan] [--no-levels]  (under the DPDK flock)
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
import twccmodel  # noqa: E402

try:
    import pylibsrtp
except ImportError:
    pylibsrtp = None

ASAN = '--asan' in sys.argv
# negative control (tests/run-all.sh): the participants announce no audio level extension, so the
# dataplane reads no levels and must name nobody: the first check fails, the test stops there
NO_LEVELS = '--no-levels' in sys.argv
CONF = 'speaker_interval_ms = 300;\ntopn_ms = 100;\ntwcc_fb_ms = 100;\nsr_audio_ms = 500;\n'
LEVEL_ID, ABS_ID, TWCC_ID = 1, 2, 3
LOUD, SILENT = 20, 127
PT_OPUS = 111


def wait_for(cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout * (3 if ASAN else 1)
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


class Sender:
    """One publisher's Opus-like audio: 20 ms packets, the audio level element (voice bit when
    loud), optionally transport-wide seq and abs-send-time elements; payload = its index + counter."""

    def __init__(self, idx, ssrc, twcc=False, abs_time=False, encrypt=None):
        self.idx, self.ssrc, self.twcc, self.abs_time = idx, ssrc, twcc, abs_time
        self.seq, self.ts, self.count, self.tseq = 1000 + 37 * idx, 48000 * (idx + 1), 0, 0
        self.level = SILENT
        self.encrypt = encrypt or (lambda d: d)
        self.encrypt_rtcp = lambda d: d
        self.sent_tseq = []
        self.bad_ext = 0          # packets still to send with a malformed level element
        self.send_sr = False      # a sender report every 25 packets (0.5 s)

    def packet(self):
        v = 0x80 if self.level < 127 else 0
        els = [(LEVEL_ID, bytes([v | self.level]))]
        if self.twcc:
            els.append((TWCC_ID, struct.pack('!H', self.tseq & 0xffff)))
            self.sent_tseq.append(self.tseq & 0xffff)
            self.tseq += 1
        if self.abs_time:
            t = int(time.time() * (1 << 18)) & 0xffffff
            els.append((ABS_ID, struct.pack('!I', t)[1:]))
        prof, data = rtpgen.one_byte_ext(els)
        if self.bad_ext:
            # a level element claiming 16 bytes in an 8-byte block: the block is well formed for
            # rtp_parse, the element is not
            data = bytes([(LEVEL_ID << 4) | 15]) + bytes(7)
            self.bad_ext -= 1
        body = struct.pack('!BBI', 0x48, self.idx, self.count) + bytes(40)
        d = rtpgen.rtp_packet(self.seq, self.ts, self.ssrc, PT_OPUS, body, ext=(prof, data))
        self.seq = (self.seq + 1) & 0xffff
        self.ts = (self.ts + 960) & 0xffffffff
        self.count += 1
        return self.encrypt(d)


class Clients:
    """Senders in one thread at 50 pps each; every socket read by another, (time, data) kept."""

    def __init__(self, env, socks, senders):
        self.env, self.socks, self.senders = env, socks, senders
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

    def send_loop(self):
        t_next = time.monotonic()
        while not self.stop.is_set():
            with self.lock:
                for n, snd in self.senders.items():
                    self.env.send(self.socks[n], snd.packet())
                    if snd.send_sr and snd.count % 25 == 1:
                        sr = R.sr(snd.ssrc, R.ntp_from_unix(time.time()), snd.ts - 960, snd.count, 44 * snd.count)
                        self.env.send(self.socks[n], snd.encrypt_rtcp(sr + R.sdes_cname(snd.ssrc, 'p%d' % snd.idx)))
            t_next += 0.02
            d = t_next - time.monotonic()
            if d > 0:
                time.sleep(d)

    def set_levels(self, levels):
        with self.lock:
            for n, lv in levels.items():
                self.senders[n].level = lv

    def items(self, name, since=0.0):
        with self.lock:
            return [(t, d) for t, d in self.log[name] if t >= since]

    def close(self):
        self.stop.set()
        self.tx.join()
        self.rx.join()


def is_rtcp(d):
    return len(d) >= 2 and 192 <= d[1] <= 223


def rtcp_packets(d):
    """[(pt, fmt, body)] of a compound RTCP packet."""
    out, off = [], 0
    while off + 4 <= len(d):
        fmt, pt, ln = d[off] & 0x1f, d[off + 1], struct.unpack_from('!H', d, off + 2)[0]
        end = off + 4 * (ln + 1)
        if end > len(d):
            break
        body = d[off + 4:end]
        if d[off] & 0x20 and end == len(d):
            body = body[:len(body) - body[-1]]
        out.append((pt, fmt, body))
        off = end
    return out


def parse_twcc(body):
    """A transport-wide feedback packet's body (after its 4-byte header) read by twccmodel: sender
    SSRC, media SSRC, base seq, fb_count and {seq: received?} for every status."""
    try:
        snd, media, base, fb_count, st = twccmodel.parse_twcc(bytes([0x8f, 205, 0, 0]) + body)
    except ValueError:
        return dict(sender=None, media=None, base=None, count=0, fb_count=None, status={}, deltas_ok=False)
    return dict(sender=snd, media=media, base=base, count=len(st), fb_count=fb_count,
                status={q: a is not None for q, a in st}, deltas_ok=True)


def meeting_show(env, name):
    cp = env.ctl('meeting', 'show', name, json=True, check=False)
    return cp.stdout if cp.returncode == 0 and isinstance(cp.stdout, dict) else {}


def dominant(env, meeting):
    v = mmrtest.find_key(meeting_show(env, meeting), 'dominant_speaker')
    return v if isinstance(v, str) else None


def part_counter(env, meeting, name, key):
    cp = env.ctl('participant', 'show', meeting, name, json=True, check=False)
    v = mmrtest.find_key(cp.stdout, key) if cp.returncode == 0 else None
    return int(v or 0)


def add_participant(env, meeting, name, port, rtcp=None, ext=None):
    args = ['participant', 'add', meeting, name, '--addr', mmrtest.CLIENT_IP, '--port', port]
    if rtcp:
        args += ['--rtcp', rtcp]
    if ext:
        args += ['--ext', ext]
    env.ctl(*args)


def rtp_of(d):
    try:
        return rtpgen.parse_rtp(d)
    except ValueError:
        return None


# ---- dominant speaker, malformed levels, uplink feedback ---------------------------------------------

def body_speaker(env, c):
    names = ['alice', 'bob', 'carol']
    ports = {'alice': 7000, 'bob': 7001, 'carol': 7002}
    ssrc = {'alice': 0xA0000001, 'bob': 0xB0000001, 'carol': 0xC0000001}
    env.meeting('m1')
    lvl = '' if NO_LEVELS else 'audio-level=%d,' % LEVEL_ID
    add_participant(env, 'm1', 'alice', ports['alice'], 'nack,pli,twcc', lvl + 'twcc=%d' % TWCC_ID)
    add_participant(env, 'm1', 'bob', ports['bob'], 'nack,pli,remb', lvl + 'abs-send-time=%d' % ABS_ID)
    add_participant(env, 'm1', 'carol', ports['carol'], None, lvl[:-1] or None)
    for n in names:
        env.stream('m1', n, ssrc[n], 'audio')
    socks = {n: env.udp_socket(ports[n]) for n in names}
    senders = {'alice': Sender(0, ssrc['alice'], twcc=True), 'bob': Sender(1, ssrc['bob'], abs_time=True),
               'carol': Sender(2, ssrc['carol'])}
    cl = Clients(env, socks, senders)
    try:
        runs0 = mmrtest.lcore_total(env.stats(), 'speaker_runs')
        cl.set_levels({'alice': LOUD, 'bob': SILENT, 'carol': SILENT})
        t0 = time.monotonic()
        got = wait_for(lambda: dominant(env, 'm1') == 'alice', 4)
        c.check(got, 'dominant speaker: alice talking (after %.1f s)' % (time.monotonic() - t0),
                meeting_show(env, 'm1'))
        if NO_LEVELS:
            return
        txt = env.ctl('meeting', 'show', 'm1').stdout
        c.check('dominant speaker: alice' in txt, 'meeting show (text): "dominant speaker: alice"', txt)
        cl.set_levels({'alice': SILENT, 'bob': LOUD})
        t0 = time.monotonic()
        got = wait_for(lambda: dominant(env, 'm1') == 'bob', 4)
        dt = time.monotonic() - t0
        c.check(got, 'dominant speaker follows: bob (after %.1f s)' % dt, meeting_show(env, 'm1'))
        st = env.stats()
        c.check(mmrtest.lcore_total(st, 'speaker_runs') > runs0, 'speaker_runs grow')
        sb, sa = mmrtest.stream_stats(st, ssrc['bob']), mmrtest.stream_stats(st, ssrc['alice'])
        c.check(sb and int(sb.get('level', -1)) == LOUD and sa and int(sa.get('level', -1)) == SILENT,
                'stream counter level: bob %d, alice %d' % (LOUD, SILENT), (sb, sa))

        # ---- malformed level extension: counted, forwarded unchanged ----
        bad0 = mmrtest.lcore_total(env.stats(), 'ext_bad')
        t_bad = time.time()
        with cl.lock:
            senders['carol'].bad_ext = 50
            first_bad = senders['carol'].count
        wait_for(lambda: senders['carol'].bad_ext == 0, 3)
        time.sleep(0.3)
        bad = mmrtest.lcore_total(env.stats(), 'ext_bad') - bad0
        c.eq(bad, 50, 'malformed level extensions counted (ext_bad)')
        for rcv in ('alice', 'bob'):
            got = set()
            for _, d in cl.items(rcv, t_bad - 0.5):
                r = rtp_of(d)
                if r and not is_rtcp(d) and r.payload[1] == 2:
                    got.add(struct.unpack_from('!I', r.payload, 2)[0])
            c.check(all(i in got for i in range(first_bad, first_bad + 50)),
                    'carol\'s packets with a malformed level reach %s' % rcv)

        # ---- uplink: TWCC feedback to alice, REMB to bob ----
        t_fb = time.time()
        time.sleep(2.0)
        fbs, rembs = [], []
        for t, d in cl.items('alice', t_fb):
            if is_rtcp(d):
                for pt, fmt, b in rtcp_packets(d):
                    if pt == 205 and fmt == 15:
                        fbs.append((t, parse_twcc(b)))
        for t, d in cl.items('bob', t_fb - 1.0):
            if is_rtcp(d):
                for pt, fmt, b in rtcp_packets(d):
                    if pt == 206 and fmt == 15 and b[8:12] == b'REMB':
                        n = b[12]
                        rembs.append((t, [struct.unpack_from('!I', b, 16 + 4 * i)[0] for i in range(n)]))
        c.check(14 <= len(fbs) <= 26, 'alice gets TWCC feedback ~10/s (%d in 2 s)' % len(fbs))
        sent = set(senders['alice'].sent_tseq)
        reported = {}
        for _, f in fbs:
            for s, rcvd in f['status'].items():
                reported[s] = reported.get(s, False) or rcvd
        lied = [s for s, r in reported.items() if r and s not in sent]
        missed = [s for s, r in reported.items() if not r and s in sent]
        c.check(fbs and not lied and len(missed) <= 2 and len(reported) >= 80,
                'TWCC statuses match what alice sent (%d reported, %d not sent, %d missed)'
                % (len(reported), len(lied), len(missed)))
        c.check(fbs and all(f['deltas_ok'] for _, f in fbs), 'TWCC feedback holds its deltas')
        c.check(fbs and all(f['media'] == ssrc['alice'] for _, f in fbs), 'TWCC media SSRC = alice\'s stream')
        cnts = [f['fb_count'] for _, f in fbs]
        c.check(all((b - a) & 0xff == 1 for a, b in zip(cnts, cnts[1:])), 'TWCC fb_count +1 per message', cnts[:8])
        c.check(part_counter(env, 'm1', 'alice', 'twcc_fb_out') >= len(fbs), 'twcc_fb_out counts them')
        c.check(1 <= len(rembs) <= 5 and all(ssrc['bob'] in s for _, s in rembs),
                'bob gets REMB about his SSRC ~1/s (%d in 3 s)' % len(rembs), rembs[:3])
        c.check(part_counter(env, 'm1', 'bob', 'remb_out') >= len(rembs) > 0, 'remb_out counts them')

        # ---- events: read without refusals; a restarted controller learns the speaker again ----
        ev = mmrtest.find_key(env.status(), 'events') or {}
        c.check(int(ev.get('read', 0)) > 0 and int(ev.get('bad', 1)) == 0, 'controller: events read, none bad', ev)
        snap0 = mmrtest.find_key(env.stats(), 'snapshot_events') or 0
        env.kill_controller()
        env.start_controller()
        env.wait_dp_attached(10)
        c.check(wait_for(lambda: dominant(env, 'm1') == 'bob', 3), 'after a controller restart (snapshot): bob')
        c.check((mmrtest.find_key(env.stats(), 'snapshot_events') or 0) > snap0, 'the snapshot restated events')
    finally:
        cl.close()


# ---- top-N --------------------------------------------------------------------------------------------

def check_topn(c, cl, names, ssrcs, n_slots, rounds, tag):
    """rounds: [(t_end, set of talkers)]; every receiver's copies checked."""
    ok_ssrcs = ok_seq = ok_ts = ok_own = ok_talk = True
    details = []
    for rcv in names:
        me = names.index(rcv)
        by_ssrc = {}
        for t, d in cl.items(rcv):
            if is_rtcp(d):
                continue
            r = rtp_of(d)
            if r is None:
                continue
            by_ssrc.setdefault(r.ssrc, []).append((t, r))
        if len(by_ssrc) != n_slots or any(s in ssrcs for s in by_ssrc):
            ok_ssrcs = False
            details.append((rcv, 'ssrcs', [hex(s) for s in by_ssrc]))
        for s, pkts in by_ssrc.items():
            seqs = [r.seq for _, r in pkts]
            if any((b - a) & 0xffff != 1 for a, b in zip(seqs, seqs[1:])):
                ok_seq = False
                details.append((rcv, 'seq', hex(s), [(a, b) for a, b in zip(seqs, seqs[1:]) if (b - a) & 0xffff != 1][:4]))
            tss = [r.ts for _, r in pkts]
            if any(((b - a) & 0xffffffff) >= 0x80000000 for a, b in zip(tss, tss[1:])):
                ok_ts = False
                details.append((rcv, 'ts', hex(s)))
            if any(r.payload[1] == me for _, r in pkts):
                ok_own = False
                details.append((rcv, 'own audio', hex(s)))
        for t_end, talkers in rounds:
            who = {r.payload[1] for s in by_ssrc.values() for t, r in s if t_end - 0.3 <= t < t_end}
            want = {names.index(n) for n in talkers} - {me}
            if not want <= who:
                ok_talk = False
                details.append((rcv, 'talkers', sorted(who), sorted(want)))
    c.check(ok_ssrcs, '%s: every receiver gets exactly %d SSRCs, none a publisher\'s' % (tag, n_slots), details[:4])
    c.check(ok_seq, '%s: sequence numbers +1 per packet on each slot across speaker changes' % tag, details[:4])
    c.check(ok_ts, '%s: timestamps never go backwards on each slot' % tag, details[:4])
    c.check(ok_own, '%s: nobody gets its own audio' % tag, details[:4])
    c.check(ok_talk, '%s: every receiver gets the current talkers' % tag, details[:4])


def body_topn(env, c):
    n = 10
    names = ['p%d' % i for i in range(n)]
    ports = {nm: 7100 + i for i, nm in enumerate(names)}
    ssrcs = [0xD0000000 + i for i in range(n)]
    env.ctl('meeting', 'create', 'm2', '--top-n', 3, '--plain')
    for i, nm in enumerate(names):
        add_participant(env, 'm2', nm, ports[nm], None, 'audio-level=%d' % LEVEL_ID)
        env.stream('m2', nm, ssrcs[i], 'audio')
    txt = env.ctl('meeting', 'show', 'm2').stdout
    c.check('top-n: 3' in txt and mmrtest.find_key(meeting_show(env, 'm2'), 'top_n') == 3,
            'meeting show: "top-n: 3", JSON top_n 3', txt)
    socks = {nm: env.udp_socket(ports[nm]) for nm in names}
    senders = {nm: Sender(i, ssrcs[i]) for i, nm in enumerate(names)}
    for snd in senders.values():
        snd.send_sr = True
    cl = Clients(env, socks, senders)
    rounds = []
    try:
        for talkers in (('p0', 'p1', 'p2'), ('p3', 'p4', 'p5'), ('p3', 'p4', 'p6')):
            cl.set_levels({nm: (LOUD if nm in talkers else SILENT) for nm in names})
            time.sleep(1.5 * (3 if ASAN else 1))
            rounds.append((time.time(), set(talkers)))
        cl.stop.set()
        cl.tx.join()
        time.sleep(0.3)
    finally:
        cl.close()
    check_topn(c, cl, names, ssrcs, 3, rounds, 'top-3 of 10')
    # SRs about a slot: RTP time = the current speaker's SR mapping + the slot's offset, i.e. where
    # the slot's own timeline is (its newest packet's ts + the time since it came), within 40 ms
    errs, n_sr = [], 0
    for rcv in names:
        last = {}
        for t, d in cl.items(rcv):
            if not is_rtcp(d):
                r = rtp_of(d)
                if r:
                    last[r.ssrc] = (t, r.ts)
                continue
            for pt, fmt, b in rtcp_packets(d):
                if pt != 200:
                    continue
                ssrc, _, rtp = struct.unpack_from('!IQI', b, 0)
                if ssrc in last and t - last[ssrc][0] < 0.1:
                    n_sr += 1
                    want = (last[ssrc][1] + int((t - last[ssrc][0]) * 48000)) & 0xffffffff
                    diff = ((rtp - want + 0x80000000) & 0xffffffff) - 0x80000000
                    if abs(diff) > 1920:
                        errs.append((rcv, hex(ssrc), diff))
    c.check(n_sr >= 20 and len(errs) <= n_sr // 20, 'SRs about the slots follow each slot\'s timeline (%d SRs, '
            '%d off by more than 40 ms)' % (n_sr, len(errs)), errs[:5])
    st = env.stats()
    quiet = [mmrtest.stream_stats(st, ssrcs[i]) for i in (7, 8, 9)]
    c.check(all(q and int(q.get('topn_drops', 0)) > 0 and int(q.get('fwd_copies', 0)) == 0 for q in quiet),
            'silent streams: topn_drops, no copies', [(q or {}).get('topn_drops') for q in quiet])


def body_srtp(env, c):
    if pylibsrtp is None:
        c.check(False, 'pylibsrtp importable (apt install python3-pylibsrtp)')
        return
    profile = pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM

    def session(key, outbound):
        return pylibsrtp.Session(pylibsrtp.Policy(
            key=key, srtp_profile=profile,
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound else pylibsrtp.Policy.SSRC_ANY_INBOUND))
    n = 4
    names = ['s%d' % i for i in range(n)]
    ports = {nm: 7200 + i for i, nm in enumerate(names)}
    ssrcs = [0xE0000000 + i for i in range(n)]
    env.ctl('meeting', 'create', 'm3', '--srtp', 'AEAD_AES_128_GCM', '--top-n', 2)
    rx = {}
    senders = {}
    for i, nm in enumerate(names):
        if i == 0:   # s0 also gets transport-wide feedback, as SRTCP
            add_participant(env, 'm3', nm, ports[nm], 'nack,pli,twcc', 'audio-level=%d,twcc=%d' % (LEVEL_ID, TWCC_ID))
        else:
            add_participant(env, 'm3', nm, ports[nm], None, 'audio-level=%d' % LEVEL_ID)
        keys = env.participant_keys('m3', nm)
        tx = session(mmrtest.key_bytes(keys['send_key']), True)
        rx[nm] = session(mmrtest.key_bytes(keys['recv_key']), False)
        senders[nm] = Sender(i, ssrcs[i], twcc=(i == 0), encrypt=tx.protect)
        env.stream('m3', nm, ssrcs[i], 'audio')
    socks = {nm: env.udp_socket(ports[nm]) for nm in names}
    cl = Clients(env, socks, senders)
    rounds = []
    try:
        for talkers in (('s0', 's1'), ('s2', 's3')):
            cl.set_levels({nm: (LOUD if nm in talkers else SILENT) for nm in names})
            time.sleep(1.5 * (3 if ASAN else 1))
            rounds.append((time.time(), set(talkers)))
        cl.stop.set()
        cl.tx.join()
        time.sleep(0.3)
    finally:
        cl.close()
    bad = 0
    fbs, bad_rtcp = [], 0
    for t, d in cl.log['s0']:
        if is_rtcp(d):
            try:
                fbs += [parse_twcc(b) for pt, fmt, b in rtcp_packets(rx['s0'].unprotect_rtcp(d)) if pt == 205 and fmt == 15]
            except pylibsrtp.Error:
                bad_rtcp += 1
    rep = {}
    for f in fbs:
        for q, r in f['status'].items():
            rep[q] = rep.get(q, False) or r
    sent = set(senders['s0'].sent_tseq)
    c.check(len(fbs) >= 20 and not bad_rtcp and sum(rep.values()) >= 100 and all(q in sent for q, r in rep.items() if r),
            'SRTP: s0\'s TWCC feedback decrypts under its recv key (SRTCP) and reports what it sent (%d messages, '
            '%d refused)' % (len(fbs), bad_rtcp))
    for nm in names:   # decrypt in place in the log, then check like plain copies
        out = []
        for t, d in cl.log[nm]:
            if is_rtcp(d):
                continue
            try:
                out.append((t, rx[nm].unprotect(d)))
            except pylibsrtp.Error:
                bad += 1
        cl.log[nm] = out
    c.check(bad == 0, 'SRTP: every slot copy decrypts under the receiver\'s recv key (%d did not)' % bad)
    check_topn(c, cl, names, ssrcs, 2, rounds, 'SRTP top-2 of 4')


def body(c):
    env = MmrEnv('audio', asan=ASAN)
    env.extra_dp_conf = CONF
    with env:
        env.wait_dp_attached(10)
        body_speaker(env, c)
        if NO_LEVELS:
            return
        body_topn(env, c)
        body_srtp(env, c)
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports', env.sanitizer_errors()[:3])


if __name__ == '__main__':
    mmrtest.run_test('test_audio', body)
