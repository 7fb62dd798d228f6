#!/usr/bin/python3
"""
test_dp_telemetry.py - mmr-dataplane's rte_telemetry endpoints (issue 14), read with Debian's
dpdk-telemetry.py -f <file-prefix> (its socket: /var/run/dpdk/<prefix>/dpdk_telemetry.v2) while
audio flows (alice sends, bob and carol receive): /mmr/status, /mmr/lcores, /mmr/ports, /mmr/drops,
/mmr/meetings, /mmr/streams,ID read twice a second apart, and the counters grow between the reads
(rx, copies, the port's packets, the stream's packets); /mmr/drops names every reason of the one
list (drop_reason.h) and counts the unknown sender's packets as unknown_sender; a bad stream id
gets an error, not counters. The run has EAL's --log-level mmr.ctl:debug: its debug lines appear
though the config says info.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv  # noqa: E402

TOOL = '/usr/bin/dpdk-telemetry.py'
SSRC = 0x7E1E0001
PORTS = {'alice': 6201, 'bob': 6202, 'carol': 6203}
STRANGER = 6299
PPS = 300



def query(prefix, *cmds):
    """{command: reply} of dpdk-telemetry.py for each command (stdin not a tty: one JSON line each)."""
    cp = subprocess.run(['/usr/bin/python3', TOOL, '-f', prefix], input='\n'.join(cmds) + '\n',
                        capture_output=True, text=True, timeout=20)
    replies = []
    for line in cp.stdout.splitlines():
        line = line.strip()
        if not line.startswith('{'):
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        replies.append(list(d.values())[0] if len(d) == 1 else d)
    # one reply per command, in order (a reply's key is the command without its parameter)
    out = dict(zip(cmds, replies)) if len(replies) == len(cmds) else {}
    if not out:
        raise mmrtest.HarnessError('dpdk-telemetry.py answered nothing: %s %s' % (cp.stdout[-300:], cp.stderr[-300:]))
    return out


def body(c):
    if not os.access(TOOL, os.X_OK):
        c.check(False, '%s installed (Debian package dpdk)' % TOOL)
        return
    # EAL's --log-level for one of the dataplane's types wins over the config's log_level (info)
    with MmrEnv('dp_telemetry', extra_eal=['--log-level', 'mmr.ctl:debug'], status_interval_ms=300) as env:
        env.wait_dp_attached(10)
        env.meeting('m1')
        for name, port in PORTS.items():
            env.participant('m1', name, port)
        env.stream('m1', 'alice', SSRC, 'audio')
        sid = (mmrtest.stream_stats(env.stats(), SSRC) or {}).get('id')
        c.check(sid is not None, "mmrctl stats --streams gives alice's stream id (%s)" % sid)
        socks = {n: env.udp_socket(p) for n, p in PORTS.items()}
        stranger = env.udp_socket(STRANGER)
        def send_one(i):
            if i % 10 == 0:
                env.send(stranger, mmrtest.audio_rtp(0x0BAD0BAD, i))    # an unknown sender's
            return env.send(socks['alice'], mmrtest.audio_rtp(SSRC, i))
        stop, th, sent = mmrtest.paced_sender(PPS, send_one)
        prefix = env.shm_name.lstrip('/')
        cmds = ['/', '/mmr/status', '/mmr/lcores', '/mmr/ports', '/mmr/drops', '/mmr/meetings',
                '/mmr/streams,%s' % sid]
        try:
            time.sleep(0.5)
            a = query(prefix, *cmds)
            time.sleep(1.0)
            b = query(prefix, *cmds + ['/mmr/streams,abc', '/mmr/streams'])
        finally:
            stop.set()
            th.join()
        for k in cmds[1:] + ['/']:
            c.check(k in a and k in b, 'dpdk-telemetry.py answers %s' % k, str(a.get(k))[:200])
        listed = b.get('/', [])
        c.check(all(x in listed for x in cmds[1:6] + ['/mmr/streams']), 'the endpoints are listed in /',
                listed)
        sa, sb = a.get('/mmr/status', {}), b.get('/mmr/status', {})
        c.note('status: %s' % sb)
        c.eq((sb.get('ready'), sb.get('participants'), sb.get('streams')), (1, 3, 1),
             '/mmr/status: ready, 3 participants, 1 stream')
        c.check(sb.get('rx_pkts', 0) > sa.get('rx_pkts', 0) + PPS // 2, '/mmr/status: rx_pkts grows',
                (sa.get('rx_pkts'), sb.get('rx_pkts')))
        la, lb = a.get('/mmr/lcores', {}).get('worker0', {}), b.get('/mmr/lcores', {}).get('worker0', {})
        c.check(lb.get('copies', 0) > la.get('copies', 0) + PPS, '/mmr/lcores: worker0 copies grow',
                (la.get('copies'), lb.get('copies')))
        c.check('busy_pct' in lb and 'drops' in lb, '/mmr/lcores: busy_pct and drops', lb)
        pa, pb = a.get('/mmr/ports', {}).get('port0', {}), b.get('/mmr/ports', {}).get('port0', {})
        c.check(pb.get('ipackets', 0) > pa.get('ipackets', 0) and pb.get('opackets', 0) > pa.get('opackets', 0),
                '/mmr/ports: port0 packets in and out grow', (pa, pb))
        da, db = a.get('/mmr/drops', {}), b.get('/mmr/drops', {})
        c.check(len(db) >= 40 and 'none' not in db and 'unknown_sender' in db,
                '/mmr/drops: every reason of the list by name', sorted(db)[:5])
        c.check(db.get('unknown_sender', 0) > da.get('unknown_sender', 0),
                '/mmr/drops: unknown_sender grows (the stranger\'s packets)', (da.get('unknown_sender'),
                                                                                 db.get('unknown_sender')))
        st = mmrtest.drop_counts(env.stats())
        c.check(st.get('unknown_sender', 0) >= db.get('unknown_sender', 0) > 0,
                'mmrctl stats counts at least what telemetry read', (st.get('unknown_sender'),
                                                                    db.get('unknown_sender')))
        mb = b.get('/mmr/meetings', {})
        c.check(mb.get('placed') == 1 and any(k.startswith('meeting') for k in mb),
                '/mmr/meetings: the one meeting placed on a worker', mb)
        ka, kb = a.get('/mmr/streams,%s' % sid, {}), b.get('/mmr/streams,%s' % sid, {})
        c.check(kb.get('rx_pkts', 0) > ka.get('rx_pkts', 0) and kb.get('fwd_copies', 0) > ka.get('fwd_copies', 0),
                '/mmr/streams,%s: rx_pkts and fwd_copies grow' % sid, (ka, kb))
        log = open(env.dp_log, errors='replace').read()
        c.check('[mmr.ctl] debug: status: port 0' in log and '[mmr.dp] info:' in log,
                'EAL --log-level mmr.ctl:debug: the control thread logs at debug, the others at info')
        c.eq(b.get('/mmr/status', {}).get('log_level'), 'debug', "/mmr/status: mmr.ctl's log level")
        c.check('error' in b.get('/mmr/streams,abc', {}) and 'error' in b.get('/mmr/streams', {}),
                '/mmr/streams with a bad or no id: an error', (b.get('/mmr/streams,abc'), b.get('/mmr/streams')))


if __name__ == '__main__':
    mmrtest.run_test('test_dp_telemetry', body)
