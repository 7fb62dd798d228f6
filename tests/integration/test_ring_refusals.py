#!/usr/bin/python3
"""
test_ring_refusals.py - the dataplane's own checks of STREAM_PUT and SUB_PUT (dataplane/cmd_apply.c),
at the ring level: commands the controller never sends, pushed by ring_cmd
(tests/integration/tools/ring_cmd.c) into the command ring of a dataplane running alone (no
controller: the ring has one producer).

Set-up through the ring: a publisher and a receiver; a simulcast group of two VP8 streams (group = the
first one's id, encodings 0 and 1) and a plain VP8 stream; the receiver subscribes to both encodings
(the encoding-1 subscription shares the selection state of the encoding-0 one: sel_id = its id) and to
the plain stream; the publisher subscribes to encoding 0 (a second receiver of the group). All `ok`.
Then every bad command must be refused with its own last_error (seq and op named), `rejected` one
higher each time, and change nothing: sel_id naming another receiver's subscription, the receiver's
subscription to the non-group stream, an unused id, an id out of range; target_sid 3; target_encoding
3; spatial_layers 4; codec 9; audio kind with the VP8 codec; AV1 without dd_ext_id; a simulcast group
on an audio stream; RTCP fields (issue 11): an RTX payload type without an RTX SSRC, one out of range,
an RTX SSRC equal to the media SSRC, a clock rate of 5 Hz, unknown feedback flags, REMB without its abs-send-time extension, an RTX map pair
with the same payload type twice or two pairs for one media payload type, a subscription's RTX SSRC
equal to its out SSRC or to another subscription's out SSRC toward the receiver, a receiver's mmr_ssrc equal to an SSRC it receives, a subscription's out SSRC
equal to the receiver's mmr_ssrc; SSRC learning entries no packet can match (issue 13): an empty mid, a rid
without the rid extension id, an RTX SSRC without the repaired-rid id or without a rid, two entries of
one mid and rid (the publisher's set-up PUT has a valid one). Afterwards the dataplane's status line still counts 2 participants, 3 streams, 4
subscriptions, and real VP8 packets from the publisher reach every valid subscription as before: the
receiver gets exactly encoding 1 under the group's SSRC and the whole plain stream, the publisher
exactly encoding 0.
The dataplane runs with `rtcp = false` (media only toward the receivers' sockets; test_rtcp.py
covers the MMR's RTCP).
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, CLIENT_IP  # noqa: E402
import rtpgen  # noqa: E402
from rtpgen import parse_rtp  # noqa: E402

RING_CMD = os.path.join(mmrtest.ROOT, 'build', 'tests', 'integration', 'ring_cmd')
PUB_PORT, RX_PORT = 7001, 7002
SIM = (0x51000000, 0x51000001)          # the group's encodings 0 and 1 (streams 0 and 1)
PLAIN = 0x52000000                      # stream 2
NEW_SSRC = 0x53000000                   # stream 5, never created
FRAMES = 6
MAX_SUBS = 1 << 20                      # MMR_MAX_SUBS
RX_MMR = 0x5a000001                     # the receiver's mmr_ssrc (the SSRC our RTCP to it comes from)

VP8 = 'kind=2 codec=2 tl=3 sl=1'
PUB = 'participant id=0 meeting=0 addr=%s port=%d dp_port=0 role=1' % (CLIENT_IP, PUB_PORT)
LEARN = ' mid_ext=4 rid_ext=10 rrid_ext=11 n_learn=1 l0_stream=5 l0_mid=1'   # stream 5 by mid 1 (issue 13)
SETUP = [
    PUB + LEARN + ' l0_need=3 l0_rid=q',               # learning its media and RTX SSRCs: valid
    'participant id=1 meeting=0 addr=%s port=%d dp_port=0 role=1 mmr_ssrc=%d' % (CLIENT_IP, RX_PORT, RX_MMR),
    'stream id=0 participant=0 ssrc=%d %s group=0 enc=0' % (SIM[0], VP8),
    'stream id=1 participant=0 ssrc=%d %s group=0 enc=1' % (SIM[1], VP8),
    'stream id=2 participant=0 ssrc=%d %s group=none' % (PLAIN, VP8),
    'sub id=0 stream=0 subscriber=1 out_ssrc=%d tid=2 enc=1 sel=0' % SIM[0],
    'sub id=1 stream=1 subscriber=1 out_ssrc=%d tid=2 enc=1 sel=0' % SIM[0],   # shares sub 0's state
    'sub id=2 stream=2 subscriber=1 out_ssrc=%d tid=2 sel=2' % PLAIN,
    'sub id=3 stream=0 subscriber=0 out_ssrc=%d tid=2 enc=0 sel=3' % SIM[0],   # the other receiver
]
SUB1 = 'sub id=1 stream=1 subscriber=1 out_ssrc=%d tid=2 enc=1' % SIM[0]
NOT_GROUP = 'is not the same receiver\'s subscription to its simulcast group'
BAD = [
    ('sel_id = another receiver\'s subscription', SUB1 + ' sel=3', 'SUB_PUT',
     'subscription 1: selection state 3 ' + NOT_GROUP),
    ('sel_id = the receiver\'s subscription to the non-group stream', SUB1 + ' sel=2', 'SUB_PUT',
     'subscription 1: selection state 2 ' + NOT_GROUP),
    ('sel_id = an unused id', 'sub id=4 stream=1 subscriber=1 out_ssrc=%d tid=2 enc=1 sel=7' % SIM[0],
     'SUB_PUT', 'subscription 4: selection state 7 ' + NOT_GROUP),
    ('sel_id out of range', SUB1 + ' sel=%d' % MAX_SUBS, 'SUB_PUT',
     'subscription 1: selection state %d out of range (< %d)' % (MAX_SUBS, MAX_SUBS)),
    ('target_sid 3', 'sub id=2 stream=2 subscriber=1 out_ssrc=%d tid=2 sid=3' % PLAIN, 'SUB_PUT',
     'subscription 2: target spatial layer 3 out of range (< 3)'),
    ('target_encoding 3', 'sub id=0 stream=0 subscriber=1 out_ssrc=%d tid=2 enc=3 sel=0' % SIM[0], 'SUB_PUT',
     'subscription 0: target encoding 3 out of range (< 3)'),
    ('stream spatial_layers 4', 'stream id=2 participant=0 ssrc=%d kind=2 codec=2 tl=3 sl=4' % PLAIN,
     'STREAM_PUT', 'stream 2: spatial layers 4 out of range 1..3'),
    ('stream codec 9', 'stream id=5 participant=0 ssrc=%d kind=2 codec=9 tl=1' % NEW_SSRC, 'STREAM_PUT',
     'stream 5: unknown codec 9'),
    ('audio kind with the VP8 codec', 'stream id=5 participant=0 ssrc=%d kind=1 codec=2 tl=1' % NEW_SSRC,
     'STREAM_PUT', 'stream 5: codec 2 does not go with kind 1'),
    ('AV1 without dd_ext_id', 'stream id=2 participant=0 ssrc=%d kind=2 codec=4 tl=3 sl=3 dd=0' % PLAIN,
     'STREAM_PUT', 'stream 2: AV1 needs the Dependency Descriptor\'s extension id'),
    ('simulcast group on an audio stream',
     'stream id=5 participant=0 ssrc=%d kind=1 codec=1 tl=1 group=0 enc=2' % NEW_SSRC, 'STREAM_PUT',
     'stream 5: bad simulcast group 0 encoding 2'),
    # RTCP fields (issue 11)
    ('RTX payload type without an RTX SSRC', 'stream id=2 participant=0 ssrc=%d %s group=none rtx_pt=97' % (PLAIN, VP8),
     'STREAM_PUT', 'stream 2: RTX payload type 97 without an RTX SSRC'),
    ('RTX payload type 128', 'stream id=2 participant=0 ssrc=%d %s group=none rtx_ssrc=7 rtx_pt=128' % (PLAIN, VP8),
     'STREAM_PUT', 'stream 2: RTX payload type 128 out of range 1..127'),
    ('RTX SSRC = media SSRC', 'stream id=2 participant=0 ssrc=%d %s group=none rtx_ssrc=%d rtx_pt=97' % (PLAIN, VP8, PLAIN),
     'STREAM_PUT', 'stream 2: RTX SSRC %d is its media SSRC' % PLAIN),
    ('clock rate 5 Hz', 'stream id=2 participant=0 ssrc=%d %s group=none clock=5' % (PLAIN, VP8),
     'STREAM_PUT', 'stream 2: clock rate 5 Hz out of range 1000..1000000'),
    ('unknown feedback flags', 'participant id=1 meeting=0 addr=%s port=%d dp_port=0 role=1 fb=128' % (CLIENT_IP, RX_PORT),
     'PARTICIPANT_PUT', 'participant 1: unknown feedback flags 0x80'),
    ('REMB without abs-send-time', 'participant id=1 meeting=0 addr=%s port=%d dp_port=0 role=1 fb=64' % (CLIENT_IP, RX_PORT),
     'PARTICIPANT_PUT', 'participant 1: REMB without the abs-send-time extension id'),
    ('RTX pair 96:96', 'participant id=1 meeting=0 addr=%s port=%d dp_port=0 role=1 rtx0_apt=96 rtx0_pt=96' % (CLIENT_IP, RX_PORT),
     'PARTICIPANT_PUT', 'participant 1: bad RTX payload types 96:96 (media 0..127, RTX 1..127, different)'),
    ('two RTX pairs for one payload type',
     'participant id=1 meeting=0 addr=%s port=%d dp_port=0 role=1 rtx0_apt=96 rtx0_pt=97 rtx1_apt=96 rtx1_pt=98' % (CLIENT_IP, RX_PORT),
     'PARTICIPANT_PUT', 'participant 1: RTX payload types 96:97 and 96:98 overlap'),
    ('sub RTX SSRC = out SSRC', 'sub id=2 stream=2 subscriber=1 out_ssrc=%d tid=2 sel=2 rtx_ssrc=%d' % (PLAIN, PLAIN),
     'SUB_PUT', 'subscription 2: RTX SSRC 0x%08x is its out SSRC' % PLAIN),
    ('sub RTX SSRC = another subscription\'s out SSRC',
     'sub id=2 stream=2 subscriber=1 out_ssrc=%d tid=2 sel=2 rtx_ssrc=%d' % (PLAIN, SIM[0]), 'SUB_PUT',
     'subscription 2: RTX SSRC 0x%08x is subscription 0\'s out SSRC toward receiver 1' % SIM[0]),
    ('mmr_ssrc = an SSRC it receives',
     'participant id=1 meeting=0 addr=%s port=%d dp_port=0 role=1 mmr_ssrc=%d' % (CLIENT_IP, RX_PORT, PLAIN),
     'PARTICIPANT_PUT', 'participant 1: mmr_ssrc 0x%08x is subscription 2\'s SSRC toward it' % PLAIN),
    ('out SSRC = the receiver\'s mmr_ssrc', 'sub id=2 stream=2 subscriber=1 out_ssrc=%d tid=2 sel=2' % RX_MMR,
     'SUB_PUT', 'subscription 2: SSRC 0x%08x is the MMR\'s own RTCP SSRC toward receiver 1' % RX_MMR),
    # SSRC learning entries no packet can match (issue 13)
    ('a stream to learn with an empty mid', PUB + ' mid_ext=4 n_learn=1 l0_stream=5 l0_need=1', 'PARTICIPANT_PUT',
     'participant 0: bad stream 5 to learn (need 1, mid 0 bytes: 1..16, rid 0: 0..16)'),
    ('a stream to learn by rid without the rid extension', PUB + ' mid_ext=4 n_learn=1 l0_stream=5 l0_need=1 '
     'l0_mid=1 l0_rid=q', 'PARTICIPANT_PUT',
     'participant 0: stream 5 to learn by rid \'q\' without the rid extension id'),
    ('an RTX SSRC to learn without repaired-rid', PUB + ' mid_ext=4 rid_ext=10 n_learn=1 l0_stream=5 l0_need=2 '
     'l0_mid=1 l0_rid=q', 'PARTICIPANT_PUT',
     'participant 0: stream 5\'s RTX SSRC to learn needs the repaired-rid extension id'),
    ('an RTX SSRC to learn without a rid', PUB + LEARN + ' l0_need=2', 'PARTICIPANT_PUT',
     'participant 0: stream 5\'s RTX SSRC to learn needs a rid (repaired-rid names one)'),
    ('two streams to learn by one mid and rid', PUB + LEARN.replace('n_learn=1', 'n_learn=2') +
     ' l0_need=1 l0_rid=q l1_stream=6 l1_need=1 l1_mid=1 l1_rid=q', 'PARTICIPANT_PUT',
     'participant 0: streams 5 and 6 to learn both by mid \'1\' rid \'q\''),
]
REFUSED_RE = re.compile(r'^refused: seq (\d+) (\w+): (.*)$')
COUNTERS_RE = re.compile(r'^rejected=(\d+) head=(\d+) tail=(\d+) applied_seq=(\d+)$')


def ring(env, lines, timeout=20):
    cp = subprocess.run([RING_CMD, env.shm_name], input=''.join(l + '\n' for l in lines),
                        capture_output=True, text=True, timeout=timeout)
    return cp.returncode, cp.stdout.splitlines(), cp.stderr.strip()


def counters(line):
    m = COUNTERS_RE.match(line or '')
    return tuple(int(x) for x in m.groups()) if m else None


def wait_status(env, want, timeout=5.0):
    """The dataplane's last status line once it says `want` (status_interval_ms is short)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        lines = [l for l in env.log_text('dataplane').splitlines() if 'status: ' in l]
        if lines:
            last = lines[-1]
            if want in last:
                return True, last
        time.sleep(0.1)
    return False, last


def body(c):
    if not os.access(RING_CMD, os.X_OK):
        raise mmrtest.HarnessError('%s not built (run make)' % RING_CMD)
    with MmrEnv('ring_refusals', controller=False, status_interval_ms=200, rtcp=False) as env:
        # ---- valid set-up ----
        rc, out, err = ring(env, SETUP + ['counters'])
        c.eq(rc, 0, 'set-up: ring_cmd exit status (stderr: %s)' % err)
        for k, line in enumerate(SETUP):
            c.eq(out[k] if k < len(out) else None, 'ok', 'set-up: %s' % line)
        base = counters(out[len(SETUP)] if len(out) > len(SETUP) else None)
        c.check(base is not None and base[0] == 0 and base[1] == base[2] == len(SETUP),
                'set-up: nothing rejected, head == tail == %d' % len(SETUP), base)
        if base is None:
            return

        # ---- refusals: one command at a time, counters around each ----
        lines = ['counters']
        for _, cmd, _, _ in BAD:
            lines += [cmd, 'counters']
        lines += [SUB1 + ' sel=0', 'counters']          # the valid member again: still ok
        rc, out, err = ring(env, lines)
        c.eq(rc, 0, 'refusals: ring_cmd exit status (stderr: %s)' % err)
        prev = counters(out[0] if out else None)
        for k, (what, cmd, op, reason) in enumerate(BAD):
            res = out[1 + 2 * k] if 1 + 2 * k < len(out) else None
            now = counters(out[2 + 2 * k] if 2 + 2 * k < len(out) else None)
            seq = prev[2] if prev else -1
            m = REFUSED_RE.match(res or '')
            c.eq(m and m.group(3), reason, 'refused: %s' % what)
            c.eq(m and (int(m.group(1)), m.group(2)), (seq, op), 'refused: %s: last_error names seq and op' % what)
            c.check(prev and now and now[0] == prev[0] + 1 and now[1] == now[2] == seq + 1,
                    'refused: %s: rejected +1, the ring moved past it' % what, (prev, now))
            prev = now
        n = len(BAD)
        res = out[1 + 2 * n] if 1 + 2 * n < len(out) else None
        now = counters(out[2 + 2 * n] if 2 + 2 * n < len(out) else None)
        c.check(res == 'ok' and prev and now and now[0] == prev[0],
                'after the refusals the valid simulcast member (sel_id 0) is still ok, rejected unchanged',
                (res, prev, now))
        logged = len(re.findall(r'command seq \d+ \(\w+\) refused: ',
                                env.log_text('dataplane')))
        c.eq(logged, len(BAD), 'one dataplane log line per refused command')
        total = len(SETUP) + len(BAD) + 1
        ok, last = wait_status(env, '2 participants, 3 streams, 4 subscriptions; %d commands, %d refused' %
                               (total, len(BAD)))
        c.check(ok, 'status line: 2 participants, 3 streams, 4 subscriptions, %d refused' % len(BAD), last)

        # ---- the valid subscriptions still forward ----
        pub = env.udp_socket(PUB_PORT)
        rx = env.udp_socket(RX_PORT)
        gens = [rtpgen.Vp8L1T3(SIM[e], keyframe_interval=0, pkts_per_frame=2, payload_size=150 + 100 * e,
                               seq=(1000, 40000)[e], ts=(10000, 2 ** 31)[e], picture_id=(100, 20000)[e])
                for e in range(2)]
        gens.append(rtpgen.Vp8L1T3(PLAIN, keyframe_interval=0, pkts_per_frame=2, seq=30000, ts=5 * 10 ** 6))
        sent = {s: [] for s in SIM + (PLAIN,)}
        unsent = 0
        for _ in range(FRAMES):
            for g in gens:
                for p in g.next_frame().packets:
                    unsent += not env.send(pub, p.data)
                    sent[p.ssrc].append(p)
            time.sleep(0.005)
        c.eq(unsent, 0, 'publisher: %d VP8 packets sent (3 streams, %d frames each)' %
             (sum(len(v) for v in sent.values()), FRAMES))
        got_rx = [parse_rtp(d) for d in env.recv_all(rx, timeout=0.5, max_wait=5)]
        got_pub = [parse_rtp(d) for d in env.recv_all(pub, timeout=0.3, max_wait=3)]
        want = 2 * FRAMES

        rx_sim = [r for r in got_rx if r.ssrc == SIM[0]]
        c.check([r.ts for r in rx_sim] == [p.ts for p in sent[SIM[1]]],
                'receiver: exactly encoding 1 (%d packets, its timestamps) under SSRC 0x%08x' % (want, SIM[0]),
                '%d packets, ts %s' % (len(rx_sim), [r.ts for r in rx_sim][:4]))
        c.check([len(r.payload) for r in rx_sim] == [len(parse_rtp(p.data).payload) for p in sent[SIM[1]]],
                'receiver: the encoding-1 payloads (sizes as sent)')
        rx_plain = [r for r in got_rx if r.ssrc == PLAIN]
        c.check([(r.ts, len(r.payload)) for r in rx_plain] ==
                [(p.ts, len(parse_rtp(p.data).payload)) for p in sent[PLAIN]],
                'receiver: the whole plain stream (%d packets, timestamps and sizes as sent)' % want,
                '%d packets' % len(rx_plain))
        others = sorted({r.ssrc for r in got_rx} - {SIM[0], PLAIN})
        c.check(not others, 'receiver: no other SSRC', others)
        pub_sim = [r for r in got_pub if r.ssrc == SIM[0]]
        c.check([r.ts for r in pub_sim] == [p.ts for p in sent[SIM[0]]] and len(pub_sim) == len(got_pub),
                'publisher (sub 3): exactly encoding 0 (%d packets), nothing else' % want,
                '%d of %d packets' % (len(pub_sim), len(got_pub)))
        c.check(env.alive()[0], 'dataplane still running')


if __name__ == '__main__':
    mmrtest.run_test('test_ring_refusals', body)
