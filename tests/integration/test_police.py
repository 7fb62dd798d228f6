#!/usr/bin/python3
"""
test_police.py - per-publisher policing (issue 15) with the dataplane's default limits (audio 100
packets/s, burst tolerance 500 ms). Meeting `quiet`: alice and dave each send audio at 50 packets/s
(within the limit) to each other and to bob and carol. Phase 1: nothing else; nothing may be
policed (the negative check) and every copy arrives. Phase 2: in meeting `flood`, flo sends audio
at 20,000 packets/s (200 x its limit; paced, so that the dataplane sees it all on this shared machine:
checked) for 3 s to rx. quiet's copies must still arrive (>= 95 % of what was
sent times its receivers, as in phase 1, within 5 % of phase 1's share); flo's excess must be counted
as `policed` (drop reason and flo's participant counter; nobody else's), and what passed must be
within its limit (100/s plus one burst). Phase 3: SIGHUP with police_audio_pps = 0 and
police_audio_kbps = 0 (no audio limit): a second flood is not policed at all.
"""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv  # noqa: E402

Q_ALICE, Q_DAVE, Q_BOB, Q_CAROL, FLO, RX = 6201, 6202, 6203, 6204, 6211, 6212
A_SSRC, D_SSRC, F_SSRC = 0xA1000001, 0xD1000001, 0xF1000001
PPS = 50            # the quiet meeting's publishers (real audio: 20 ms packets)
FLOOD_PPS = 20000   # flo's flood: 200 x its packet limit
LIMIT, BURST_S = 100, 0.5   # the defaults (dataplane/config.c)
PHASE_S = 3.0


def quiet_phase(env, socks, flood=None):
    """PHASE_S seconds of the quiet meeting's audio (and flood() meanwhile, if given); returns
    (sent per publisher, RTP copies received by its three receivers in all, flood's result)."""
    got = {p: 0 for p in socks}
    stop_rx = threading.Event()

    def receiver(port):
        while True:
            pk = env.recv_all(socks[port], 0.3 if stop_rx.is_set() else 0.05)
            got[port] += sum(1 for b in pk if len(b) >= 12 and b[1] & 0x7f == 111)
            if stop_rx.is_set() and not pk:
                return
    rxs = [threading.Thread(target=receiver, args=(p,)) for p in (Q_ALICE, Q_DAVE, Q_BOB, Q_CAROL, RX)]
    for t in rxs:
        t.start()
    senders = [mmrtest.paced_sender(PPS, lambda i, s=s, ssrc=ssrc: env.send(socks[s], mmrtest.audio_rtp(ssrc, i)))
               for s, ssrc in ((Q_ALICE, A_SSRC), (Q_DAVE, D_SSRC))]
    res = flood() if flood else None
    if not flood:
        time.sleep(PHASE_S)
    for stop, th, _ in senders:
        stop.set()
        th.join()
    stop_rx.set()
    for t in rxs:
        t.join()
    sent = [s[2][0] for s in senders]
    quiet_got = sum(got[p] for p in (Q_ALICE, Q_DAVE, Q_BOB, Q_CAROL))
    return sent, quiet_got, got[RX], res


def flooder(env, sock, seq0):
    """flo's audio at FLOOD_PPS (200 times its limit) for PHASE_S seconds: packets sent. Paced: a flood
    faster than this shared 2-CPU machine's tap and dataplane take is dropped before the dataplane,
    the quiet meeting's packets with it, and says nothing of policing (the check below that the
    dataplane saw the flood keeps it so)."""
    n = 0
    t0 = time.monotonic()
    t_end = t0 + PHASE_S
    pkt = bytearray(mmrtest.audio_rtp(F_SSRC, 0))
    while time.monotonic() < t_end:
        ahead = n / FLOOD_PPS - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
        for _ in range(64):
            s = seq0 + n
            pkt[2:4] = (s & 0xffff).to_bytes(2, 'big')
            try:
                sock.sendto(pkt, (mmrtest.MMR_IP, mmrtest.MMR_PORT))
                n += 1
            except BlockingIOError:
                time.sleep(0.0002)
            except OSError:
                pass
    return n


def counters(env):
    st = env.stats()
    pc = {n: mmrtest.participant_counters(env, m, n).get('policed', 0)
          for m, n in (('quiet', 'alice'), ('quiet', 'dave'), ('quiet', 'bob'), ('quiet', 'carol'),
                       ('flood', 'flo'), ('flood', 'rx'))}
    return mmrtest.drop_counts(st).get('policed', 0), pc


def body(c):
    env = MmrEnv('police')
    env.police_conf = ''          # the dataplane's default limits
    with env:
        env.wait_dp_attached(10)
        env.meeting('quiet')
        for n, p in (('alice', Q_ALICE), ('dave', Q_DAVE), ('bob', Q_BOB), ('carol', Q_CAROL)):
            env.participant('quiet', n, p)
        env.stream('quiet', 'alice', A_SSRC, 'audio')
        env.stream('quiet', 'dave', D_SSRC, 'audio')
        env.meeting('flood')
        env.participant('flood', 'flo', FLO)
        env.participant('flood', 'rx', RX, role='recvonly')
        env.stream('flood', 'flo', F_SSRC, 'audio')
        socks = {p: env.udp_socket(p) for p in (Q_ALICE, Q_DAVE, Q_BOB, Q_CAROL, FLO, RX)}

        # ---- phase 1: everyone within the limits: nothing policed ------------------------------
        sent1, got1, _, _ = quiet_phase(env, socks)
        pol1, pc1 = counters(env)
        share1 = got1 / max(1, 3 * sum(sent1))
        c.note('phase 1: quiet sent %s, its receivers got %d copies (%.3f of 3 x sent)' % (sent1, got1, share1))
        c.eq(pol1, 0, 'phase 1 (within the limits): nothing policed')
        c.check(share1 >= 0.95, 'phase 1: the quiet meeting forwarded >= 95 % of its copies', share1)

        # ---- phase 2: flo floods its meeting -----------------------------------------------------
        sent2, got2, rx2, n_flood = quiet_phase(env, socks, lambda: flooder(env, socks[FLO], 0))
        time.sleep(0.3)
        pol2, pc2 = counters(env)
        share2 = got2 / max(1, 3 * sum(sent2))
        allowed = LIMIT * PHASE_S + LIMIT * BURST_S + 1
        c.note('phase 2: flo sent %d in %.0f s (%.0f/s), rx got %d; policed %d; quiet sent %s, got %d (%.3f)'
               % (n_flood, PHASE_S, n_flood / PHASE_S, rx2, pol2, sent2, got2, share2))
        c.check(n_flood >= 20 * allowed, 'the flood is well over the limit (%d packets, limit ~%d)' %
                (n_flood, allowed), n_flood)
        c.check(pol2 - pol1 + rx2 >= 0.95 * n_flood, 'the dataplane saw the flood (policed + passed >= 95 %% of '
                'what flo sent: %d + %d of %d)' % (pol2 - pol1, rx2, n_flood), n_flood)
        c.check(share2 >= 0.95 and abs(share2 - share1) <= 0.05,
                'the quiet meeting\'s copies unchanged within 5 %% during the flood (%.3f vs %.3f)' % (share2, share1))
        c.check(pol2 - pol1 >= 10 * rx2 and pol2 - pol1 > 0, 'the flood\'s excess is counted as policed',
                'policed %d, passed %d' % (pol2 - pol1, rx2))
        c.check(0 < rx2 <= allowed * 1.1, 'what passed is within the limit (100/s plus one burst: <= %d)' %
                (allowed * 1.1), rx2)
        c.eq(pc2['flo'], pol2, 'flo\'s participant counter policed = the drop count')
        c.eq(sum(v for k, v in pc2.items() if k != 'flo'), 0, 'nobody else is policed (negative check)')

        # ---- phase 3: SIGHUP lifts the audio limit -----------------------------------------------
        path = os.path.join(env.tmp, 'dataplane.conf')
        text = open(path).read()
        open(path, 'w').write(text + 'police_audio_pps = 0;\npolice_audio_kbps = 0;\n')
        env.dp.send_signal(signal.SIGHUP)
        want = 'police_audio_pps 100 -> 0, police_audio_kbps 256 -> 0'
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and want not in open(env.dp_log, errors='replace').read():
            time.sleep(0.05)
        c.check(want in open(env.dp_log, errors='replace').read(), 'SIGHUP: the log says "%s"' % want)
        sent3, got3, rx3, n3 = quiet_phase(env, socks, lambda: flooder(env, socks[FLO], 1 << 20))
        time.sleep(0.3)
        pol3, _ = counters(env)
        c.note('phase 3: flo sent %d, rx got %d, policed %d more' % (n3, rx3, pol3 - pol2))
        c.eq(pol3 - pol2, 0, 'after the SIGHUP without an audio limit nothing is policed')
        c.check(rx3 > allowed * 2, 'and the flood passes (rx got %d)' % rx3, rx3)
        c.check(all(env.alive()), 'dataplane and controller alive')


if __name__ == '__main__':
    mmrtest.run_test('police', body)
