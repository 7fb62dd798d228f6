#!/usr/bin/python3
"""
test_owner.py - ownership by meeting (docs/dataplane.md, "Ownership by meeting") with three worker
lcores on net_pcap with one rx FIFO and one tx file per queue, so that the test decides the queue -
the worker - every packet enters on (EAL --lcores maps the four threads onto the machine's CPUs).

Phase spread: three plain meetings (a publisher of VP8 L1T3 video + audio, receivers at temporal
targets 0, 1, 2) are placed on three different lcores (`meeting list` shows 0, 1, 2: least loaded
first); every sender's packets enter on the queue of the NEXT lcore, never its owner's, so every RTP
packet is handed off (handoff_out = handoff_in = RTP packets, nothing dropped as handoff_full;
net_pcap takes no rte_flow rule: logged once, counted as flow_failed, hand-off). The
output, per receiver and SSRC, is byte-exact the output of a single-lcore run of the same input.

Phase move: a plain and an SRTP (AEAD_AES_128_GCM) meeting, two publishers of audio and a receiver
each, senders on several queues (mostly not the owner's). While a feeder thread streams, the meetings
are moved between the three lcores again and again (`mmrctl meeting move`); afterwards, per receiver
and source, merged across the three tx files by their nanosecond timestamps: exactly the packets
sent, in order, no loss, no duplicate (SRTP: every copy decrypts under the receiver's RECV key and its
plaintext is the sent one). `meeting show` gives the last lcore; bad moves are refused (bad lcore
index, unknown meeting).

Run as root: /usr/bin/python3 tests/integration/test_owner.py [--phase spread|move]
The dataplane runs with `rtcp = false` (media only toward the receivers' sockets; test_rtcp.py
covers the MMR's RTCP).
"""
import argparse
import base64
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, udp_frame, parse_udp_frame  # noqa: E402
import rtpgen  # noqa: E402

try:
    import pylibsrtp
except ImportError:
    pylibsrtp = None

WORKERS = 3
N_FRAMES = 48


def meeting_lcores(env):
    return {m['name']: m.get('lcore') for m in env.ctl('meeting', 'list', json=True).stdout['meetings']}


def wait_processed(env, want_rtp, timeout=30):
    """Until the lcores counted want_rtp RTP packets and the copies stopped growing."""
    deadline = time.monotonic() + timeout
    last, still = -1, 0
    while time.monotonic() < deadline:
        st = env.stats()
        rtp, copies = mmrtest.lcore_total(st, 'rtp_pkts'), mmrtest.lcore_total(st, 'copies')
        if rtp >= want_rtp and copies == last:
            still += 1
            if still >= 3:
                return st
        else:
            still = 0
        last = copies
        time.sleep(0.1)
    return env.stats()


def by_receiver(frames):
    """{(dst ip, dst port, ssrc): [udp payload, ...]} in the order given."""
    out = {}
    for fr in frames:
        p = parse_udp_frame(fr)
        if not p or len(p[1]) < 12:
            continue
        info, pl = p
        ssrc = int.from_bytes(pl[8:12], 'big')
        out.setdefault((info['dst_ip'], info['dport'], ssrc), []).append(fr)
    return out


# ---- phase spread -------------------------------------------------------------------------------

SPREAD = [   # meeting: publisher (ip, port), receivers [(ip, port, target)]
    ('m0', ('198.51.100.11', 6011), [('198.51.100.12', 6012, 0), ('198.51.100.13', 6013, 1),
                                     ('198.51.100.14', 6014, 2)]),
    ('m1', ('198.51.100.21', 6021), [('198.51.100.22', 6022, 0), ('198.51.100.23', 6023, 1),
                                     ('198.51.100.24', 6024, 2)]),
    ('m2', ('198.51.100.31', 6031), [('198.51.100.32', 6032, 0), ('198.51.100.33', 6033, 1),
                                     ('198.51.100.34', 6034, 2)]),
]


def spread_setup(env):
    for i, (m, (pip, pport), rx) in enumerate(SPREAD):
        env.meeting(m)
        env.participant(m, 'pub', pport, addr=pip)
        for k, (ip, port, _) in enumerate(rx):
            env.participant(m, 'r%d' % k, port, addr=ip, role='recvonly')
        env.stream(m, 'pub', 0x5EED0100 + i, 'video', layers=3)
        env.stream(m, 'pub', 0x5EED0200 + i, 'audio')
        for k, (_, _, target) in enumerate(rx):
            env.sub(m, 'r%d' % k, 0x5EED0100 + i, target)


def spread_input(dp_mac):
    """{meeting: [frames]} of each publisher, in its order."""
    out = {}
    for i, (m, (pip, pport), _) in enumerate(SPREAD):
        video = rtpgen.Vp8L1T3(0x5EED0100 + i, keyframe_interval=24, pkts_per_frame=2, payload_size=400,
                               seq=65500 - 7 * i)
        audio = rtpgen.OpusLike(0x5EED0200 + i)
        frs = []
        for f in video.frames(N_FRAMES):
            for p in f.packets:
                frs.append(udp_frame(p.data, src_ip=pip, sport=pport, ip_id=len(frs), dst_mac=dp_mac))
            frs.append(udp_frame(audio.next_packet().data, src_ip=pip, sport=pport, ip_id=len(frs),
                                 dst_mac=dp_mac))
        out[m] = frs
    return out


def phase_spread(c):
    n_rtp = len(SPREAD) * N_FRAMES * 3
    # the reference: one worker, everything on its queue
    with MmrEnv('owner_ref', vdev='pcap', workers=1, rtcp=False) as env:
        env.wait_dp_attached(10)
        spread_setup(env)
        inp = spread_input(env.dp_mac)
        for k in range(N_FRAMES * 3):
            env.pcap_feed([inp[m][k] for m, _, _ in SPREAD])
        env.pcap_close_input()
        wait_processed(env, n_rtp)
        ref = by_receiver(env.pcap_output())
    c.check(len(ref) == 9 * 2 - 0 and all(ref.values()), 'reference run: every receiver got video and audio',
            sorted(ref))

    with MmrEnv('owner_spread', vdev='pcap', workers=WORKERS, pcap_queues=WORKERS, rtcp=False) as env:
        env.wait_dp_attached(10)
        spread_setup(env)
        lc = meeting_lcores(env)
        c.eq(sorted(lc.values()), [0, 1, 2], 'three meetings placed on three lcores (least loaded)')
        shown = env.ctl('meeting', 'show', 'm1').stdout
        c.check(shown.splitlines()[0].endswith('; lcore %s' % lc['m1']), 'meeting show gives the lcore',
                shown.splitlines()[0])
        inp = spread_input(env.dp_mac)
        # every sender on the queue of the next lcore: never its owner's
        wrong = {m: (lc[m] + 1) % WORKERS for m, _, _ in SPREAD}
        for k in range(0, N_FRAMES * 3, 16):
            for m, _, _ in SPREAD:
                env.pcap_feed(inp[m][k:k + 16], queue=wrong[m])
        env.pcap_close_input()
        st = wait_processed(env, n_rtp)
        got = {}
        for q in range(WORKERS):
            for key, frs in by_receiver(env.pcap_output(q)).items():
                c.check(key not in got, 'receiver %s:%d SSRC %08x served by one lcore' % key)
                got[key] = frs
        c.eq(mmrtest.lcore_total(st, 'rtp_pkts'), n_rtp, 'RTP packets processed')
        c.eq(mmrtest.lcore_total(st, 'handoff_out'), n_rtp, 'every RTP packet handed off')
        c.eq(mmrtest.lcore_total(st, 'handoff_in'), n_rtp, 'every hand-off received by the owner')
        drops = mmrtest.drop_counts(st)
        c.eq(drops.get('handoff_full', 0), 0, 'no hand-off ring full')
        c.eq(drops.get('bad_l2', 0), env.pcap_fillers, 'no drops but the harness fillers (bad_l2)')
        c.check('no rte_flow steering: hand-off' in env.log_text('dataplane'),
                'net_pcap has no rte_flow: the log says so, packets go by hand-off')
        ports = st.get('ports', [])
        c.check(ports and ports[0].get('flow_rules') == 0 and ports[0].get('flow_failed') == 1,
                'port counters: no rule installed, one refusal (the port is not tried again)',
                [(p.get('flow_rules'), p.get('flow_failed')) for p in ports])
        c.eq(sorted(got), sorted(ref), 'the same receivers and SSRCs as the single-lcore run')
        for key in sorted(ref):
            g, r = got.get(key, []), ref[key]
            first = next((i for i in range(min(len(g), len(r))) if g[i] != r[i]), None)
            c.check(g == r, 'receiver %s:%d SSRC %08x: %d frames byte-exact as with one lcore' % (key + (len(r),)),
                    'got %d frames, first difference at %s' % (len(g), first))
        c.check(all(env.alive()), 'dataplane and controller alive')


# ---- phase move ---------------------------------------------------------------------------------

MOVE_N = 1500       # packets per sender
CHUNK = 25
SUITE = 'AEAD_AES_128_GCM'
MOVE = {   # meeting: (srtp, [(participant, ip, port, queue, ssrc or None (receiver))])
    'pm': (None, [('pa', '198.51.100.41', 6041, 0, 0x0A0A0001), ('pb', '198.51.100.42', 6042, 1, 0x0A0A0002),
                  ('ra', '198.51.100.43', 6043, None, None)]),
    'sm': (SUITE, [('sa', '198.51.100.51', 6051, 2, 0x0B0B0001), ('sb', '198.51.100.52', 6052, 0, 0x0B0B0002),
                   ('sr', '198.51.100.53', 6053, None, None)]),
}


def srtp_session(inline, outbound):
    key = base64.b64decode(inline[7:].split('|')[0])
    p = pylibsrtp.Policy(key=key, srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
                         ssrc_type=(pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound
                                    else pylibsrtp.Policy.SSRC_ANY_INBOUND))
    return pylibsrtp.Session(p)


def phase_move(c):
    if pylibsrtp is None:
        c.check(False, 'pylibsrtp is installed (python3-pylibsrtp)')
        return
    env = MmrEnv('owner_move', vdev='pcap', workers=WORKERS, pcap_queues=WORKERS, status_interval_ms=200, rtcp=False)
    # this test sends each SRTP publisher at thousands of packets/s, and a move releases what the new
    # owner held in one burst: an inbound lease window (default 128 packets) must cover such a burst,
    # or its tail is refused as srtp_lease until the ledger grants more (docs/dataplane.md). The
    # windows stay below the packets sent, so that contexts ask for more (through the lease ring of
    # whichever lcore owns the meeting at that moment) during the moves.
    env.extra_dp_conf += 'srtp_lease_in = 1024;\nsrtp_lease_out = 256;\n'
    with env:
        env.wait_dp_attached(10)
        keys = {}
        for m, (srtp, peers) in MOVE.items():
            env.meeting(m, srtp=srtp)
            for name, ip, port, q, ssrc in peers:
                env.participant(m, name, port, addr=ip, role=None if ssrc else 'recvonly')
                if srtp:
                    keys[name] = env.participant_keys(m, name)
            for name, ip, port, q, ssrc in peers:
                if ssrc:
                    env.stream(m, name, ssrc, 'audio')
        lc = meeting_lcores(env)
        c.check(lc['pm'] != lc['sm'], 'two meetings on two lcores', lc)

        # bad moves: a clear error, nothing changes
        cp = env.ctl('meeting', 'move', 'pm', '--lcore', str(WORKERS), check=False)
        c.check(cp.returncode != 0 and 'bad lcore %d' % WORKERS in (cp.stdout + cp.stderr),
                'move to lcore %d refused (3 workers)' % WORKERS, cp.stdout + cp.stderr)
        cp = env.ctl('meeting', 'move', 'nosuch', '--lcore', '0', check=False)
        c.check(cp.returncode != 0 and "no meeting 'nosuch'" in (cp.stdout + cp.stderr),
                'move of an unknown meeting refused', cp.stdout + cp.stderr)
        c.eq(meeting_lcores(env), lc, 'refused moves changed nothing')

        # the senders' packets (SRTP: protected under their SEND keys)
        sent = {}     # ssrc -> [plain RTP]
        frames = {}   # ssrc -> (queue, [frames])
        for m, (srtp, peers) in MOVE.items():
            for name, ip, port, q, ssrc in peers:
                if not ssrc:
                    continue
                gen = rtpgen.OpusLike(ssrc, seq=65000 + (ssrc & 0xff) * 100)
                plain = [gen.next_packet().data for _ in range(MOVE_N)]
                sess = srtp_session(keys[name]['send_key'], True) if srtp else None
                wire = [sess.protect(p) for p in plain] if sess else plain
                sent[ssrc] = plain
                frames[ssrc] = (q, [udp_frame(w, src_ip=ip, sport=port, ip_id=i & 0xffff, dst_mac=env.dp_mac)
                                    for i, w in enumerate(wire)])

        progress = {'fed': 0, 'done': False}

        def feeder():
            for k in range(0, MOVE_N, CHUNK):
                for ssrc, (q, frs) in frames.items():
                    env.pcap_feed(frs[k:k + CHUNK], queue=q)
                progress['fed'] = k + CHUNK
                time.sleep(0.004)
            progress['done'] = True

        t = threading.Thread(target=feeder, daemon=True)
        t.start()
        moves, under_traffic, refused = 0, 0, []
        cur = dict(lc)
        while not progress['done'] and moves < 40:
            for m, step in (('pm', 1), ('sm', 2)):
                to = (cur[m] + step) % WORKERS
                fed = progress['fed']
                cp = env.ctl('meeting', 'move', m, '--lcore', str(to), check=False)
                if cp.returncode != 0 or 'note:' in cp.stdout:
                    refused.append(cp.stdout + cp.stderr)
                    continue
                cur[m] = to
                moves += 1
                if 0 < fed and not progress['done']:
                    under_traffic += 1
        t.join(60)
        c.check(not refused, 'every move applied', refused[:2])
        c.check(under_traffic >= 6, '%d moves while the traffic flowed (>= 6)' % under_traffic)
        c.eq(meeting_lcores(env), cur, 'meeting list shows where the meetings went')
        env.pcap_close_input()
        st = wait_processed(env, MOVE_N * 4)
        c.eq(mmrtest.lcore_total(st, 'rtp_pkts'), MOVE_N * 4, 'every RTP packet processed once')
        drops = mmrtest.drop_counts(st)
        c.note('drops: %s; handed off %d, held %d' % ({k: v for k, v in drops.items() if v},
                                                       mmrtest.lcore_total(st, 'handoff_out'),
                                                       mmrtest.lcore_total(st, 'held')))
        c.eq({k: v for k, v in drops.items() if v and k != 'bad_l2'}, {}, 'no drops (but the fillers)')
        c.check(mmrtest.lcore_total(st, 'handoff_out') > 0, 'packets were handed off')
        # the SRTP contexts asked for more index (lease requests through the owners' rings) and got it
        reqs = [int(x) for x in re.findall(r'; (\d+) requests, \d+ grants', env.log_text('dataplane'))]
        c.check(reqs and reqs[-1] >= 4, 'SRTP lease requests served during the moves (%s)' % (reqs[-1:] or 'none'))

        # every receiver's copies, merged across the lcores' tx files by time
        out = []
        for q in range(WORKERS):
            out += env.pcap_output_ts(q)
        out.sort(key=lambda x: x[0])
        got = by_receiver([fr for _, fr in out])
        for m, (srtp, peers) in MOVE.items():
            for rname, rip, rport, _, rssrc in peers:
                for pname, _, _, _, ssrc in peers:
                    if not ssrc or pname == rname:
                        continue
                    frs = got.get((rip, rport, ssrc), [])
                    pls = [parse_udp_frame(fr)[1] for fr in frs]
                    if srtp:
                        sess, plain, bad = srtp_session(keys[rname]['recv_key'], False), [], 0
                        for p in pls:
                            try:
                                plain.append(sess.unprotect(p))
                            except pylibsrtp.Error:
                                bad += 1
                        c.eq(bad, 0, '%s: %s copies of %s that fail to decrypt' % (m, rname, pname))
                        # an SRTP copy's sequence number is its outbound context's (consecutive from
                        # where its lease starts): check that it counts up by one, then compare the rest
                        seqs = [int.from_bytes(p[2:4], 'big') for p in plain]
                        steps = sum(1 for a, b in zip(seqs, seqs[1:]) if (b - a) & 0xffff != 1)
                        c.eq(steps, 0, '%s: %s\'s copies of %s: sequence numbers not consecutive' %
                             (m, rname, pname))
                        pls = [p[:2] + p[4:] for p in plain]
                    want = sent[ssrc] if not srtp else [p[:2] + p[4:] for p in sent[ssrc]]
                    first = next((i for i in range(min(len(pls), len(want))) if pls[i] != want[i]), None)
                    c.check(pls == want, '%s: %s got %s\'s %d packets exactly, in order, once' %
                            (m, rname, pname, len(want)),
                            'got %d, first difference at %s' % (len(pls), first))
        c.check(all(env.alive()), 'dataplane and controller alive')


def body(c, phases):
    if 'spread' in phases:
        phase_spread(c)
    if 'move' in phases:
        phase_move(c)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--phase', action='append', choices=('spread', 'move'))
    args = ap.parse_args()
    phases = args.phase or ['spread', 'move']
    mmrtest.run_test('test_owner', lambda c: body(c, phases))
