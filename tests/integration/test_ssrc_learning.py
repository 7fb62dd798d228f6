#!/usr/bin/python3
"""
test_ssrc_learning.py - SSRC learning (issue 13): streams a browser announces by mid and rid only
(RFC 8843, 8852, 8853), learned from the packets' header extensions, with the real controller and
dataplane on net_tap.

pub is added with `--ext mid=4,rid=10,rrid=11` and publishes a VP8 simulcast group `stream add --mid 1
--rid q,h,f --rtx-pt 97` with no SSRC; rx (ceiling: the top encoding) and rx0 (`sub set --encoding
0`) receive it. Checks: refusals (neither --ssrc nor --mid, --mid without the participant's mid id,
--rid without its rid id, a mid twice, --rtx-ssrc with --mid, a learned RTX without rrid); before
any packet `participant show` lists the three encodings as not learned, with mid and rids; the
first packets of encodings q and h (mid 1, rid q/h, one-byte form) are dropped as ssrc_learning and
their SSRCs learned (participant show, `status` ssrc_learned, the controller's log line); while f is
not learned rx gets encoding h (the highest learned within its ceiling: what the group has) and
rx0 encoding q, all under the stand-in out SSRC; f's first packets (two-byte form) teach its SSRC and
rx moves to f at its keyframe; an RTX packet with repaired-rid q teaches q's RTX SSRC; a packet
with an unknown mid, an unknown rid, a new SSRC for an encoding already learned, or the mid of a
removed learning stream is unknown_ssrc (nothing learned); an SSRC another participant's stream
has is refused (ssrc_refused, logged once) and the stream stays unlearned until a free SSRC comes; a controller kill -9 and restart keeps
every learned SSRC (journal) and the forwarding. `--no-clamp` (negative control in run-all.sh): the
controller runs with MMR_TEST_NO_LEARN_CLAMP=1 (a learning group's receivers get their ceiling):
rx must then get nothing while f is unknown, and the check fails. SRTP (an AEAD_AES_128_GCM and an
AES_CM_128_HMAC_SHA1_80 meeting, pylibsrtp): packets with the right clear mid but a made-up tag, no
tag, or a genuine packet's SSRC rewritten are dropped as ssrc_learn_auth and bind nothing (status
ssrc_learned unchanged); a genuine encrypted packet's clear mid then teaches its SSRC (no srtp_auth),
and the receiver decrypts the stream's audio.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, CLIENT_IP  # noqa: E402
import rtpgen  # noqa: E402
try:
    import pylibsrtp
except ImportError:       # reported as a failed check
    pylibsrtp = None

MID_ID, RID_ID, RRID_ID = 4, 10, 11
SSRC = (0x51000000, 0x51000001, 0x51000002)       # what the "browser" picked for q, h, f
RTX_Q = 0x52000000
OTHER = 0x60000000                                  # other's announced stream
RIDS = (b'q', b'h', b'f')
SIZES = (120, 220, 320)                              # payload size per encoding: tells them apart


def ext_one(mid, rid=None, rrid=None):
    el = [(MID_ID, mid)]
    if rid is not None:
        el.append((RID_ID, rid))
    if rrid is not None:
        el.append((RRID_ID, rrid))
    return rtpgen.one_byte_ext(el)


def ext_two(mid, rid):
    return rtpgen.two_byte_ext([(3, b''), (RID_ID, rid), (MID_ID, mid)])


def published(env, name='pub'):
    return env.ctl('participant', 'show', 'm', name, json=True).stdout['published']


def wait_learned(env, idx, timeout=3.0, key='learned'):
    end = time.monotonic() + timeout
    while True:
        p = published(env)
        if all(p[i][key] for i in idx) or time.monotonic() > end:
            return p
        time.sleep(0.05)


def drops(env):
    return mmrtest.drop_counts(env.stats())


def sizes_of(datas, out_ssrc):
    """Encodings (by payload size) of the RTP packets received under out_ssrc, and others' SSRCs."""
    enc, other = [], []
    for d in datas:
        if len(d) < 12 or d[0] >> 6 != 2 or 192 <= d[1] <= 223:
            continue
        r = rtpgen.parse_rtp(d)
        if r.ssrc != out_ssrc:
            other.append(r.ssrc)
            continue
        n = len(r.payload)
        enc.append(min(range(3), key=lambda e: abs(SIZES[e] + 6 - n)))
    return enc, other


def srtp_phase(env, c, tag, suite, prof, mtg, port):
    """An SRTP meeting mtg (suite) with publisher spub (port) learning an audio stream by mid 0: forged
    packets (right mid, a made-up tag, no tag, a genuine packet's SSRC changed) are dropped as
    ssrc_learn_auth and bind nothing; the genuine one binds, and its receiver decrypts the stream."""
    if pylibsrtp is None:
        c.check(False, 'python3-pylibsrtp installed (the SRTP phase needs it)')
        return
    env.meeting(mtg, srtp=suite)
    env.ctl('participant', 'add', mtg, 'spub', '--addr', CLIENT_IP, '--port', port, '--ext', 'mid=%d' % MID_ID)
    env.participant(mtg, 'srx', port + 1)
    env.ctl('stream', 'add', mtg, 'spub', '--mid', 0, '--kind', 'audio', '--codec', 'opus')

    def first():
        return env.ctl('participant', 'show', mtg, 'spub', json=True).stdout['published'][0]
    standin = first()['ssrc']
    keys = {n: env.participant_keys(mtg, n) for n in ('spub', 'srx')}

    def sess(key, outbound):
        return pylibsrtp.Session(pylibsrtp.Policy(
            key=mmrtest.key_bytes(key), srtp_profile=prof,
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound else pylibsrtp.Policy.SSRC_ANY_INBOUND))
    tx, rxs = sess(keys['spub']['send_key'], True), sess(keys['srx']['recv_key'], False)
    sock, rsock = env.udp_socket(port), env.udp_socket(port + 1)
    ssrc, forged_ssrc = 0x55000000, 0x56000000
    plain = [rtpgen.rtp_packet(2000 + i, 960 * i, ssrc, 111, b'\x48' + bytes([i]) * 50, ext=ext_one(b'0'))
             for i in range(40)]
    tag_len = 10 if 'HMAC' in suite else 16

    # forged (an off-path sender spoofing spub's address): the right mid in clear, but a made-up
    # tag, no tag at all, or a genuine packet (of another SSRC) whose SSRC was rewritten
    fp = rtpgen.rtp_packet(1, 960, forged_ssrc, 111, b'\x48' * 50, ext=ext_one(b'0'))
    genuine_other = bytearray(sess(keys['spub']['send_key'], True).protect(
        rtpgen.rtp_packet(7, 960, 0x57000000, 111, b'\x48' * 50, ext=ext_one(b'0'))))
    genuine_other[8:12] = forged_ssrc.to_bytes(4, 'big')
    forged = [fp + os.urandom(tag_len), fp, bytes(genuine_other)]
    d0 = drops(env)
    learned0 = mmrtest.find_key(env.status(), 'ssrc_learned')
    for pk in forged:
        env.send(sock, pk)
    time.sleep(0.4)
    d1 = drops(env)
    c.eq(d1.get('ssrc_learn_auth', 0) - d0.get('ssrc_learn_auth', 0), len(forged),
         'SRTP (%s): forged packets with the right mid (made-up tag, no tag, a rewritten SSRC) dropped as '
         'ssrc_learn_auth' % tag)
    c.eq(d1.get('ssrc_learning', 0) - d0.get('ssrc_learning', 0), 0, 'SRTP (%s): none of them ssrc_learning' % tag)
    c.eq((first()['learned'], mmrtest.find_key(env.status(), 'ssrc_learned')), (False, learned0),
         'SRTP (%s): a forged packet binds nothing' % tag)

    for pk in plain[:3]:
        env.send(sock, tx.protect(pk))
    end = time.monotonic() + 3
    while time.monotonic() < end:
        p = first()
        if p['learned']:
            break
        time.sleep(0.05)
    c.eq((p['learned'], p['ssrc']), (True, ssrc),
         'SRTP (%s): the SSRC learned from the clear mid of a genuine encrypted packet' % tag)
    d2 = drops(env)
    c.eq(d2.get('srtp_auth', 0) - d0.get('srtp_auth', 0), 0, 'SRTP (%s): no srtp_auth drop while learning' % tag)
    c.eq(d2.get('ssrc_learn_auth', 0) - d1.get('ssrc_learn_auth', 0), 0,
         'SRTP (%s): the genuine packets pass the learning check' % tag)
    env.recv_all(rsock, timeout=0.1)
    for pk in plain[3:]:
        env.send(sock, tx.protect(pk))
        time.sleep(0.002)
    got = []
    for w in env.recv_all(rsock, timeout=0.4):
        if len(w) >= 12 and not 192 <= w[1] <= 223:
            try:
                got.append(rtpgen.parse_rtp(rxs.unprotect(w)))
            except pylibsrtp.Error:
                pass
    c.check(len(got) >= 30 and all(r.ssrc == standin for r in got),
            'SRTP (%s): the receiver decrypts the learned stream\'s audio under the stand-in SSRC' % tag, len(got))
    c.check(got and got[-1].payload[1:] == bytes([39]) * 50, 'SRTP (%s): payloads intact' % tag,
            got[-1].payload[:8] if got else None)


NO_CLAMP = '--no-clamp' in sys.argv


def body(c):
    if NO_CLAMP:
        os.environ['MMR_TEST_NO_LEARN_CLAMP'] = '1'
    env = MmrEnv('ssrc_learning_nc' if NO_CLAMP else 'ssrc_learning')
    with env:
        env.wait_dp_attached(10)
        env.meeting('m')
        env.ctl('participant', 'add', 'm', 'pub', '--addr', CLIENT_IP, '--port', 7401,
                '--ext', 'mid=%d,rid=%d,rrid=%d' % (MID_ID, RID_ID, RRID_ID))
        env.participant('m', 'rx', 7402)
        env.participant('m', 'rx0', 7403)
        env.participant('m', 'other', 7404)
        env.ctl('participant', 'add', 'm', 'nomid', '--addr', CLIENT_IP, '--port', 7405, '--ext', 'mid=4')
        env.stream('m', 'other', OTHER, 'audio')

        # refusals: nothing changes
        vid = ('--kind', 'video', '--codec', 'vp8', '--layers', 3)
        for who, args, what, msg in (
                ('pub', vid, 'neither --ssrc nor --mid', '--mid'),
                ('rx', ('--mid', 1) + vid, '--mid without the participant\'s mid extension id', 'mid header extension'),
                ('nomid', ('--mid', 1, '--rid', 'q,h') + vid, '--rid without its rid extension id', 'rid header'),
                ('pub', ('--mid', 1, '--rid', 'q,q') + vid, 'a rid twice', 'twice'),
                ('pub', ('--mid', 'a b') + vid, 'a bad mid', 'bad mid'),
                ('pub', ('--mid', 1, '--rid', 'q,h', '--rtx-ssrc', 5, '--rtx-pt', 97) + vid, '--rtx-ssrc with --mid',
                 '--rtx-ssrc goes with --ssrc'),
                ('nomid', ('--mid', 1, '--rtx-pt', 97) + vid, 'a learned RTX without rid/rrid', 'repaired-rid')):
            cp = env.ctl('stream', 'add', 'm', who, *args, check=False)
            c.check(cp.returncode != 0 and msg in cp.stderr, 'stream add refused: %s' % what, cp.stderr.strip())

        env.ctl('stream', 'add', 'm', 'pub', '--mid', 1, '--rid', 'q,h,f', '--rtx-pt', 97, *vid)
        cp = env.ctl('stream', 'add', 'm', 'pub', '--mid', 1, '--kind', 'audio', '--codec', 'opus', check=False)
        c.check(cp.returncode != 0 and 'already publishes' in cp.stderr, 'a second stream with mid 1 refused',
                cp.stderr.strip())
        env.ctl('stream', 'add', 'm', 'pub', '--mid', 2, '--kind', 'audio', '--codec', 'opus')
        p = published(env)
        c.eq([(s['mid'], s['rid'], s['learned'], s['rtx_learned'], s['encoding']) for s in p],
             [('1', 'q', False, False, 0), ('1', 'h', False, False, 1), ('1', 'f', False, False, 2),
              ('2', None, False, True, None)],
             'participant show: four streams, not learned, with their mid and rids')
        standin = p[0]['ssrc']
        c.check(standin not in SSRC and standin != 0, 'encoding q has a stand-in SSRC (0x%08x)' % standin)
        text = env.ctl('participant', 'show', 'm', 'pub').stdout
        c.check('ssrc learning (stand-in' in text and 'mid 1, rid q' in text, 'participant show (text) says so',
                text[:300])
        env.ctl('sub', 'set', 'm', 'rx0', '--ssrc', standin, '--encoding', 0)

        sock = env.udp_socket(7401)
        rx = env.udp_socket(7402)
        rx0 = env.udp_socket(7403)
        gens = [rtpgen.Vp8L1T3(SSRC[e], keyframe_interval=0, pkts_per_frame=2, payload_size=SIZES[e],
                               seq=(1000, 30000, 65000)[e], picture_id=(10, 2000, 30000)[e],
                               ext=ext_one(b'1', RIDS[e])) for e in range(3)]
        gens[2].ext = ext_two(b'1', RIDS[2])

        def send(encs, frames, key_first=False):
            for i in range(frames):
                for e in encs:
                    if key_first and i == 0:
                        gens[e].request_keyframe()
                    for pk in gens[e].next_frame().packets:
                        env.send(sock, pk.data)
                time.sleep(0.004)

        # 1. q and h only: learned, f not
        d0 = drops(env)
        send((0, 1), 3)
        p = wait_learned(env, (0, 1))
        c.eq([(s['learned'], s['ssrc'] if s['learned'] else None) for s in p[:3]],
             [(True, SSRC[0]), (True, SSRC[1]), (False, None)], 'q and h learned from their packets, f not')
        d1 = drops(env)
        c.check(d1.get('ssrc_learning', 0) - d0.get('ssrc_learning', 0) >= 2,
                'their first packets dropped as ssrc_learning',
                d1.get('ssrc_learning', 0) - d0.get('ssrc_learning', 0))
        ev = mmrtest.find_key(env.status(), 'ssrc_learned')
        c.eq(ev, 2, 'status: ssrc_learned 2')
        line = 'learned SSRC %u (0x%08x) for participant \'pub\' mid 1 rid q' % (SSRC[0], SSRC[0])
        c.check(line in env.log_text('ctl'), 'the controller logged "learned SSRC ... mid 1 rid q"')
        env.recv_all(rx, timeout=0.2)
        env.recv_all(rx0, timeout=0.1)
        send((0, 1), 12, key_first=True)
        enc, other = sizes_of(env.recv_all(rx, timeout=0.4), standin)
        c.check(enc and set(enc) == {1}, 'rx (ceiling f) gets encoding h while f is not learned', enc[:10])
        c.eq(other, [], 'rx: everything under the stand-in out SSRC')
        enc0, other0 = sizes_of(env.recv_all(rx0, timeout=0.2), standin)
        c.check(enc0 and set(enc0) == {0}, 'rx0 (ceiling q) gets encoding q', enc0[:10])

        # 2. f (two-byte form) learned: rx moves to f at its keyframe
        send((0, 1, 2), 3)
        p = wait_learned(env, (2,))
        c.eq((p[2]['learned'], p[2]['ssrc']), (True, SSRC[2]), 'f learned from two-byte extension packets')
        env.recv_all(rx, timeout=0.2)
        send((0, 1, 2), 12, key_first=True)
        enc, _ = sizes_of(env.recv_all(rx, timeout=0.4), standin)
        c.check(enc and enc[-1] == 2 and set(enc) <= {1, 2}, 'rx now gets encoding f', enc[-10:])
        c.eq(published(env)[0]['ssrc'], SSRC[0], 'the stream keeps the learned SSRC')

        # 3. RTX of q by repaired-rid
        rtx = rtpgen.rtp_packet(7, 90000, RTX_Q, 97, b'\x03\xe8' + b'\x90' * 30, ext=ext_one(b'1', rrid=b'q'))
        for _ in range(3):
            env.send(sock, rtx)
        p = wait_learned(env, (0,), key='rtx_learned')
        c.eq((p[0]['rtx_learned'], p[0]['rtx_ssrc']), (True, RTX_Q), 'q\'s RTX SSRC learned from repaired-rid')
        c.eq([s['rtx_learned'] for s in p[:3]], [True, False, False], 'h and f RTX still learning')

        # 4. spoofs: unknown mid, unknown rid, a new SSRC for a learned encoding, a removed learning
        # stream's mid: unknown_ssrc
        env.ctl('stream', 'add', 'm', 'pub', '--mid', 3, '--kind', 'audio', '--codec', 'opus')
        gone = published(env)[4]
        c.eq((gone['mid'], gone['learned']), ('3', False), 'a learning stream with mid 3 added')
        env.ctl('stream', 'remove', 'm', 'pub', '--ssrc', gone['ssrc'])
        c.eq(len(published(env)), 4, 'and removed by its stand-in SSRC')
        d0 = drops(env)
        learned0 = mmrtest.find_key(env.status(), 'ssrc_learned')
        for ssrc, ext in ((0x53000000, ext_one(b'9', b'q')), (0x53000001, ext_one(b'1', b'x')),
                          (0x53000002, ext_one(b'1', b'q')), (0x53000003, None), (0x53000004, ext_one(b'3'))):
            env.send(sock, rtpgen.rtp_packet(1, 1, ssrc, 96, b'\x90' * 20, ext=ext))
        time.sleep(0.3)
        d1 = drops(env)
        c.eq(d1.get('unknown_ssrc', 0) - d0.get('unknown_ssrc', 0), 5,
             'unknown mid, unknown rid, a learned rid, no extension, a removed stream\'s mid: 5 unknown_ssrc')
        c.eq(d1.get('ssrc_learning', 0) - d0.get('ssrc_learning', 0), 0, 'none of them ssrc_learning')
        c.eq(mmrtest.find_key(env.status(), 'ssrc_learned'), learned0, 'nothing learned from them')

        # 5. a clash: mid 2 (audio) sent under other's SSRC -> refused, then a free one learned
        for i in range(5):      # over 0.6 s: reported again after each 100 ms
            env.send(sock, rtpgen.rtp_packet(100 + i, 960 * i, OTHER, 111, b'\x01' * 40, ext=ext_one(b'2')))
            time.sleep(0.12)
        time.sleep(0.2)
        c.check(mmrtest.find_key(env.status(), 'ssrc_refused') >= 2, 'status: ssrc_refused counted (each report)',
                mmrtest.find_key(env.status(), 'ssrc_refused'))
        c.eq(env.log_text('ctl').count('used in the meeting already'), 1, 'the refusal logged once')
        c.eq(published(env)[3]['learned'], False, 'mid 2 not learned from a clashing SSRC')
        env.send(sock, rtpgen.rtp_packet(1, 1, 0x54000000, 111, b'\x01' * 40, ext=ext_one(b'2')))
        p = wait_learned(env, (3,))
        c.eq((p[3]['learned'], p[3]['ssrc']), (True, 0x54000000), 'then a free SSRC for mid 2 is learned')

        # 6. SRTP: the header extensions are in clear (RFC 3711), but the packet's tag must verify
        # (as a new stream's) before its SSRC is reported; once learned, the stream's packets
        # decrypt and reach the receiver
        if pylibsrtp is None:
            srtp_phase(env, c, None, None, None, None, None)
        else:
            srtp_phase(env, c, 'GCM', 'AEAD_AES_128_GCM', pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 's', 7411)
            srtp_phase(env, c, 'AES-CM', 'AES_CM_128_HMAC_SHA1_80', pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
                       'sc', 7413)

        # 7. a controller kill -9 and restart keeps what was learned (journal), and the forwarding
        env.kill_controller()
        env.start_controller()
        env.wait_dp_attached(10)
        p = published(env)
        c.eq([(s['learned'], s['ssrc']) for s in p], [(True, SSRC[0]), (True, SSRC[1]), (True, SSRC[2]),
                                                       (True, 0x54000000)],
             'after a controller kill -9 and restart every learned SSRC is kept')
        c.eq((p[0]['rtx_ssrc'], p[1]['rtx_learned']), (RTX_Q, False), 'and the RTX state')
        env.recv_all(rx, timeout=0.2)
        send((0, 1, 2), 12, key_first=True)
        enc, _ = sizes_of(env.recv_all(rx, timeout=0.4), standin)
        c.check(enc and enc[-1] == 2, 'rx still gets encoding f after the restart', enc[-10:])

        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])


if __name__ == '__main__':
    mmrtest.run_test('test_ssrc_learning' + ('--no-clamp' if NO_CLAMP else ''), body)
