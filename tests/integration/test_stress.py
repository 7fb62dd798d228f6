#!/usr/bin/python3
"""
test_stress.py - table updates under load, with the AddressSanitizer build (build-asan/).

One stream A -> B flows at about 2000 packets/s, each payload carrying a counter, while hammer
processes drive the controller over its socket (lib/contract/ctl_proto.h spoken directly, no mmrctl process
per request) for about 20 s: add and remove participants in the same meeting (so A's stream gains and
loses subscribers, and its output array is republished under RCU thousands of times), add and remove
their streams, set their subscription targets, create and end other meetings. Asserts: B received every
packet of A exactly once and in order (zero loss, none allowed), no "ERROR: AddressSanitizer" in the
logs, both processes alive, every request answered "ok", and the meeting back to A and B at the end.
With --selfcheck (what tests/run-all.sh runs) the dataplane is build-check/mmr-dataplane (`make
selfcheck`: ASan plus cmd_apply_check() after every batch of commands, aborting on the first
inconsistency of its tables), and no "SELF-CHECK FAILED" may be in its log.

    test_stress.py [--seconds N] [--no-asan] [--selfcheck]
                   (MMR_STRESS_SECONDS, MMR_STRESS_NO_ASAN=1 also work)
The dataplane runs with `rtcp = false` (media only toward the receivers' sockets; test_rtcp.py
covers the MMR's RTCP).
"""
import os
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv  # noqa: E402
import rtpgen  # noqa: E402

A_SSRC = 0x57000001
A_PORT, B_PORT = 6001, 6002
RATE = 2000
HAMMERS = 3


def hammer(sock_path, idx, seconds):
    """One hammer process: loops of add/sub/remove for participants h<idx>_<k> (sendonly publishers,
    whose streams A subscribes to) and r<idx>_<k> (a viewer of A's stream, one alive at a time, so
    A's output array changes twice per loop without flooding the tap with copies). Prints a summary
    line 'HAMMER idx requests errors first_error'."""
    n_req, n_err, first_err = 0, 0, ''
    live = []
    viewer = None
    k = 0
    t_end = time.monotonic() + seconds

    def req(*args):
        nonlocal n_req, n_err, first_err
        n_req += 1
        try:
            ok, status, _ = mmrtest.ctl_request(sock_path, *args, timeout=30)
        except Exception as e:   # noqa: report, keep hammering
            ok, status = False, 'exception %s' % e
        if not ok:
            n_err += 1
            if not first_err:
                first_err = '%s -> %s' % (' '.join(map(str, args)), status)
        return ok

    # not our kernel's address: copies to these participants are dropped by the kernel (no forwarding)
    addr = '198.51.100.%d' % (50 + idx)
    while time.monotonic() < t_end:
        name = 'h%d_%d' % (idx, k)
        ssrc = 0x10000000 + (idx << 20) + k
        req('participant', 'add', 'm1', name, '--addr', addr, '--port', 10000 + (k % 20000), '--role', 'sendonly')
        req('stream', 'add', 'm1', name, '--ssrc', ssrc, '--kind', 'video', '--codec', 'vp8', '--layers', '3')
        req('sub', 'set', 'm1', 'A', '--ssrc', ssrc, '--target', k % 3)
        live.append((name, ssrc))
        if len(live) > 8:
            old, old_ssrc = live.pop(0)
            req('stream', 'remove', 'm1', old, '--ssrc', old_ssrc)
            req('participant', 'remove', 'm1', old)
        vname = 'r%d_%d' % (idx, k)
        req('participant', 'add', 'm1', vname, '--addr', addr, '--port', 40000 + (k % 20000), '--role', 'recvonly')
        # an out SSRC of its own: the new viewer also receives the stream of SSRC `ssrc` (the controller
        # refuses two streams under one SSRC toward one receiver)
        req('sub', 'set', 'm1', vname, '--ssrc', A_SSRC, '--target', 0, '--out-ssrc', ssrc + 0x20000000)
        if viewer:
            req('participant', 'remove', 'm1', viewer)
        viewer = vname
        if k % 10 == 0:
            mname = 'x%d_%d' % (idx, k)
            req('meeting', 'create', mname, '--plain')
            req('participant', 'add', mname, 'p', '--addr', addr, '--port', 30000 + idx)
            req('stream', 'add', mname, 'p', '--ssrc', 1, '--kind', 'audio', '--codec', 'opus')
            req('meeting', 'end', mname)
        k += 1
    for name, _ in live:
        req('participant', 'remove', 'm1', name)
    if viewer:
        req('participant', 'remove', 'm1', viewer)
    print('HAMMER %d %d %d %s' % (idx, n_req, n_err, first_err), flush=True)


class Sender(threading.Thread):
    def __init__(self, env, sock, rate):
        super().__init__(daemon=True)
        self.env, self.sock, self.rate = env, sock, rate
        self.count = 0
        self.failed = 0
        self.stop_ev = threading.Event()

    def run(self):
        per_tick = 4
        tick = per_tick / self.rate
        t_next = time.monotonic()
        seq, ts = 0, 0
        while not self.stop_ev.is_set():
            for _ in range(per_tick):
                d = rtpgen.seq_payload(A_SSRC, self.count, seq, ts)
                if not self.env.send(self.sock, d):
                    self.failed += 1
                self.count += 1
                seq = (seq + 1) & 0xffff
                ts += 160
            t_next += tick
            dt = t_next - time.monotonic()
            if dt > 0:
                time.sleep(dt)


class Receiver(threading.Thread):
    def __init__(self, env, sock):
        super().__init__(daemon=True)
        self.env, self.sock = env, sock
        self.counters = []
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            for d in self.env.recv_all(self.sock, timeout=0.05, max_wait=0.2):
                try:
                    r = rtpgen.parse_rtp(d)
                except ValueError:
                    continue
                if r.ssrc == A_SSRC and len(r.payload) >= 4:
                    self.counters.append(struct.unpack_from('!I', r.payload, 0)[0])


CHECK_DP = os.path.join(mmrtest.ROOT, 'build-check', 'mmr-dataplane')


def body(c, seconds, asan, selfcheck):
    if asan and not os.access(os.path.join(mmrtest.ROOT, 'build-asan', 'mmr-dataplane'), os.X_OK):
        c.check(False, 'ASan build present (run `make asan`, or --no-asan)')
        return
    if selfcheck and not os.access(CHECK_DP, os.X_OK):
        c.check(False, 'self-check dataplane present (run `make selfcheck`)', CHECK_DP)
        return
    env = MmrEnv('stress', asan=asan, rtcp=False)
    if selfcheck:
        env.dp_bin = CHECK_DP
    with env:
        env.wait_dp_attached(20)
        env.meeting('m1')
        env.participant('m1', 'A', A_PORT)
        env.participant('m1', 'B', B_PORT, role='recvonly')
        env.stream('m1', 'A', A_SSRC, 'audio')
        show0 = env.ctl('meeting', 'show', 'm1', json=True).stdout

        a = env.udp_socket(A_PORT)
        b = env.udp_socket(B_PORT, rcvbuf=16 << 20)
        rcv = Receiver(env, b)
        snd = Sender(env, a, RATE)
        rcv.start()
        snd.start()
        time.sleep(1.0)

        procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), '--hammer', env.socket_path,
                                   str(i), str(seconds)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True) for i in range(HAMMERS)]
        outs = []
        for p in procs:
            try:
                out, _ = p.communicate(timeout=seconds + 120)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
            outs.append(out)
        time.sleep(1.0)
        snd.stop_ev.set()
        snd.join(5)
        time.sleep(1.5)
        rcv.stop_ev.set()
        rcv.join(5)

        total_req = total_err = 0
        for i, out in enumerate(outs):
            line = next((l for l in out.splitlines() if l.startswith('HAMMER ')), None)
            if line is None:
                c.check(False, 'hammer %d finished' % i, out[-500:])
                continue
            parts = line.split(' ', 4)
            total_req += int(parts[2])
            total_err += int(parts[3])
            if int(parts[3]):
                c.note('hammer %d: first error: %s' % (i, parts[4] if len(parts) > 4 else ''))
        c.note('%d control requests in %d s (%.0f/s), %d packets sent' %
               (total_req, seconds, total_req / max(seconds, 1), snd.count))
        c.check(total_req >= 1000, 'thousands of control requests (%d)' % total_req)
        c.eq(total_err, 0, 'every control request answered ok')
        c.eq(snd.failed, 0, 'every packet handed to the kernel')
        got = rcv.counters
        want = list(range(snd.count))
        missing = len(set(want) - set(got))
        dup = len(got) - len(set(got))
        c.check(got == want, 'B received every packet of A exactly once, in order (zero loss)',
                '%d sent, %d received, %d missing, %d duplicated' % (snd.count, len(got), missing, dup))
        alive = env.alive()
        c.check(alive[0], 'dataplane alive')
        c.check(alive[1], 'controller alive')
        if alive[1]:
            show1 = env.ctl('meeting', 'show', 'm1', json=True).stdout
            c.check(show1 == show0, 'meeting m1 back to A and B only', show1)
            meetings = env.ctl('meeting', 'list', json=True).stdout
            c.check('x0_0' not in str(meetings), 'churn meetings ended', meetings)
            st = env.stats()
            drops = {k: v for k, v in mmrtest.drop_counts(st).items() if v}
            c.note('drops: %s' % drops)
            c.eq(drops.get('no_mbuf', 0) + drops.get('tx_full', 0), 0, 'no mbuf/TX drops')
        errs = env.sanitizer_errors()
        c.check(not errs, 'no AddressSanitizer report in the dataplane/controller logs', errs[:3])
        if selfcheck:
            bad = [l for l in env.log_text('dataplane').splitlines() if 'SELF-CHECK FAILED' in l]
            c.check(not bad, 'table self-check after every batch found nothing wrong', bad[:1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--hammer':
        hammer(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
        return
    seconds = int(os.environ.get('MMR_STRESS_SECONDS', '20'))
    asan = os.environ.get('MMR_STRESS_NO_ASAN', '') != '1'
    args = sys.argv[1:]
    if '--seconds' in args:
        seconds = int(args[args.index('--seconds') + 1])
    if '--no-asan' in args:
        asan = False
    selfcheck = '--selfcheck' in args
    mmrtest.run_test('test_stress', lambda c: body(c, seconds, asan, selfcheck))


if __name__ == '__main__':
    main()
