#!/usr/bin/python3
"""
test_dp_signals.py - mmr-dataplane's signals (issue 14): SIGHUP reloads the config's run-time settings
(the log level) and never stops forwarding; SIGTERM stops it cleanly and removes its shared segment.

Audio flows the whole time (alice sends 400 packets/s of Opus-like RTP from a kernel socket, bob and
carol receive every packet through the real dataplane on net_tap). Four SIGHUPs: log_level warning
(the info status lines stop), debug (the debug port lines appear), a bad value (refused, nothing
changes), info again (status lines back, debug lines gone), then run-time tunables (rr_ms 1000 ->
200: alice's Receiver Reports come 5 times as often; status_interval_ms 200 -> 700: fewer status lines)
with one setting only a restart takes (mbufs: named in a warning, kept). Zero packets lost over all of it (sent
by alice == received by bob == received by carol, and the dataplane's own rx/tx counters agree),
the process alive after each. Then SIGTERM: exit status 0, /dev/shm/<shm_name> gone.
"""
import os
import re
import signal
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv  # noqa: E402

SSRC = 0x5167AA01
PORTS = {'alice': 6101, 'bob': 6102, 'carol': 6103}
PPS = 400



def set_level(env, level):
    path = os.path.join(env.tmp, 'dataplane.conf')
    text = open(path).read()
    text = re.sub(r'log_level = "[^"]*";', 'log_level = "%s";' % level, text)
    open(path, 'w').write(text)


def log_after(env, marker):
    """The dataplane log after the last line containing marker ('' if the marker is absent)."""
    text = open(env.dp_log, errors='replace').read()
    i = text.rfind(marker)
    return text[i + len(marker):] if i >= 0 else ''


def set_setting(env, name, value):
    path = os.path.join(env.tmp, 'dataplane.conf')
    text = open(path).read()
    if re.search(r'^%s = ' % name, text, re.M):
        text = re.sub(r'^%s = [^;]*;' % name, '%s = %s;' % (name, value), text, flags=re.M)
    else:
        text += '%s = %s;\n' % (name, value)
    open(path, 'w').write(text)


def hup(env, c, level, want, settings=()):
    set_level(env, level)
    for name, value in settings:
        set_setting(env, name, value)
    env.dp.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and want not in open(env.dp_log, errors='replace').read():
        time.sleep(0.05)
    c.check(want in open(env.dp_log, errors='replace').read(), 'SIGHUP (%s): the log says "%s"' % (level, want))
    time.sleep(1.2)       # six status intervals at the new level
    c.check(env.dp.poll() is None, 'SIGHUP (%s): the dataplane is still running' % level)


def body(c):
    env = MmrEnv('dp_signals', status_interval_ms=200)
    env.extra_dp_conf = 'log_level = "info";\n'
    with env:
        env.wait_dp_attached(10)
        env.meeting('m1')
        for name, port in PORTS.items():
            env.participant('m1', name, port)
        env.stream('m1', 'alice', SSRC, 'audio')
        socks = {n: env.udp_socket(p) for n, p in PORTS.items()}
        got = {'bob': 0, 'carol': 0}
        rrs = []          # when alice got a Receiver Report (the MMR's, for her stream)
        stop, sender, sent = mmrtest.paced_sender(
            PPS, lambda i: env.send(socks['alice'], mmrtest.audio_rtp(SSRC, i)))

        def receiver(name):
            while True:
                pk = env.recv_all(socks[name], 0.5 if stop.is_set() else 0.1)
                # alice's RTP only (the MMR's own RTCP reports come to the same socket)
                if name == 'alice':
                    rrs.extend(time.monotonic() for b in pk if len(b) >= 8 and b[1] == 201)
                else:
                    got[name] += sum(1 for b in pk if len(b) >= 12 and b[1] & 0x7f == 111 and
                                     struct.unpack_from('!I', b, 8)[0] == SSRC)
                if stop.is_set() and not pk:
                    return

        ths = [sender] + [threading.Thread(target=receiver, args=(n,)) for n in list(got) + ['alice']]
        for t in ths[1:]:
            t.start()
        time.sleep(1.0)
        hup(env, c, 'warning', 'log level info -> warning')
        c.check('status: rx' not in log_after(env, 'info -> warning').split('\n', 1)[-1],
                'at warning: no info status lines after the reload')
        hup(env, c, 'debug', 'log level warning -> debug')
        after = log_after(env, 'warning -> debug')
        c.check('] debug: status: port' in after, 'at debug: the debug port lines appear')
        hup(env, c, 'loud', 'nothing reloaded')
        c.check('] debug: status: port' in log_after(env, 'nothing reloaded'),
                'a bad log_level changes nothing (still debug)')
        hup(env, c, 'info', 'log level debug -> info')
        after = log_after(env, 'debug -> info').split('\n', 1)[-1]
        c.check('status: rx' in after and '] debug:' not in after,
                'at info again: status lines, no debug lines')
        # run-time tunables: RR interval and status interval taken at once; mbufs needs a restart
        t_hup = time.monotonic()
        rrs_before = sum(1 for t in rrs if t_hup - 3.0 <= t < t_hup)
        hup(env, c, 'info', 'rr_ms 1000 -> 200',
            (('rr_ms', 200), ('status_interval_ms', 700), ('mbufs', env.mbufs + 1024)))
        text = log_after(env, 'log level info -> info')
        c.check('status_interval_ms 200 -> 700' in text, 'the reload line names status_interval_ms 200 -> 700')
        c.check('taken only at a restart (kept as they are): mbufs' in text,
                'mbufs (sized at start) is named as kept until a restart')
        t0 = time.monotonic()
        time.sleep(2.2)
        rrs_after = sum(1 for t in rrs if t0 <= t < t0 + 2.0)
        c.note('Receiver Reports to alice: %d in the 3 s before, %d in the 2 s after rr_ms = 200'
               % (rrs_before, rrs_after))
        c.check(1 <= rrs_before <= 5 and rrs_after >= 7, 'rr_ms = 200 is in effect at once '
                '(%d RRs in 3 s before, %d in 2 s after)' % (rrs_before, rrs_after))
        lines = log_after(env, 'rr_ms 1000 -> 200').count('status: rx')
        c.check(lines <= 7, 'status_interval_ms = 700 in effect: %d status lines in ~3.4 s (at 200 ms: ~17)'
                % lines)
        stop.set()
        for t in ths:
            t.join()
        c.note('alice sent %d, bob got %d, carol got %d' % (sent[0], got['bob'], got['carol']))
        c.check(sent[0] > PPS * 4, 'traffic flowed through the SIGHUPs (%d packets)' % sent[0])
        c.eq(got['bob'], sent[0], 'bob lost nothing over the SIGHUPs')
        c.eq(got['carol'], sent[0], 'carol lost nothing over the SIGHUPs')
        st = env.stats()
        drops = {k: v for k, v in mmrtest.drop_counts(st).items() if v}
        c.note('drops: %s' % drops)
        ss = mmrtest.stream_stats(st, SSRC) or {}
        c.eq((ss.get('rx_pkts'), ss.get('fwd_copies')), (sent[0], 2 * sent[0]),
             "the dataplane's stream counters: every packet in, two copies of each out")
        c.check(env.dp.poll() is None, 'the dataplane is alive after 5 SIGHUPs')

        # ---- SIGTERM: a clean stop, the segment removed -------------------------------------------
        shm = '/dev/shm' + env.shm_name
        c.check(os.path.exists(shm), 'the shared segment %s exists while running' % shm)
        env.dp.send_signal(signal.SIGTERM)
        try:
            rc = env.dp.wait(10)
        except Exception:
            rc = None
        c.eq(rc, 0, 'SIGTERM: the dataplane exits with status 0')
        c.check(not os.path.exists(shm), 'SIGTERM: the shared segment is gone')
        c.check('stopping' in log_after(env, 'debug -> info'), 'SIGTERM: the log says "stopping"')


if __name__ == '__main__':
    mmrtest.run_test('test_dp_signals', body)
