#!/usr/bin/python3
"""
bench.py - `make bench`: the MMR's capacity figures on one machine, written to build/bench.json.

Layout on a 2-core machine: CPU 0 runs the traffic generator (build/mmr-gen, one lcore), the
dataplane's main lcore (its control thread, which sleeps when the command ring is idle) and the
controller; CPU 1 runs the dataplane's only worker lcore. The generator and the dataplane talk over
memif (net_memif, the dataplane is the server); the dataplane has a second port, net_null, standing
in for a NIC: the copies of most receivers leave through it, the copies of "probe" receivers come
back over memif to the generator, which measures their loss and latency. Every figure of the
dataplane comes from its own counters (busy_cycles / copies in shared memory), read by the
generator at the exact edges of its measurement window; on a shared machine the worker thread may
be descheduled, so the time it waited for the CPU (/proc schedstat) is taken out of its busy
cycles, and that stolen fraction is reported with every figure.

Scenarios (each run starts a fresh dataplane; each figure is the median of --runs runs, the
table shows min and max):
  testpmd   dpdk-testpmd io forwarding memif -> null with the same generator: the I/O floor.
  plain     16 meetings x 8 (4 video publishers, 8 audio), as fast as possible, set up with the
            controller: plain_copies_per_s, plain_cycles_per_copy.
  latency   the same at half the plain maximum (paced): latency_p50_us, latency_p99_us (generator
            to generator, two memif hops included), and testpmd in a memif loop at the same packet
            rate as the baseline of those hops.
  srtp      AEAD_AES_128_GCM meetings (keys from the controller), video only, 1200-byte RTP
            packets: srtp_gcm_copies_per_s; openssl_gcm_pkts_per_s is one core's raw AES-128-GCM
            rate on 1200-byte packets (mmr-gen --gcm-bench, on the dataplane's core), same run.
  scale     200 meetings x 500 (100,000 participants) set up through the controller (mmr-gen's
            pipelined set-up connection: every change journaled and durable like any other),
            against 1 meeting of 100: scale_cost_ratio, scale_bytes_per_participant, and the set-up
            time of the big one, scale_setup_s.
  ctl       changes through the controller's socket, durable and live: 4 `mmrctl batch` clients
            (one pipelined connection each) change out SSRCs of 4 meetings at once, dataplane
            attached (net_null ports, no traffic): ctl_changes_per_s = changes answered / wall time.
  svc       the plain set-up with VP8 L1T3, VP9 L3T3 and AV1 L3T3 (Dependency Descriptor) video
            (mmr-gen --video), one after the other in every run (vp8 vp9 av1 x runs): copies/s and
            cycles per copy of each, and the cost of layered video against VP8 (svc_vp9_vs_vp8,
            svc_av1_vs_vp8: cycles per copy, per run, median).
  rtcp      the plain set-up three times in every run (the order alternating between runs): RTCP
            off (rtcp = false: today's path), on with every packet kept for resends (video 512,
            audio 128 packets per stream) and reports generated, and on with the defaults (video
            kept, audio not): rtcp_cost_ratio = cycles per copy on / off (goal <= 1.10), extra
            rtcp_cost_ratio_default_config; rtx_buffer_bytes_per_stream, what one video stream's
            ring of 512 kept packets holds (whole mbufs, slots, uplink NACK state: from the sizes).
  rtx       the plain set-up as fast as possible (RTCP on, defaults) while receivers of the sink
            port send 50,000 NACKs a second (mmr-gen --nack-per-s, 17 recent packets each):
            rtx_resends_per_s, the resends one worker lcore sends while forwarding (what it sent
            beyond copies, RTCP and replies), with the copies/s it still forwards (extra).
  handoff   the plain mix at 10 % of the plain maximum with two workers on the worker CPU, all
            traffic entering worker 0 while worker 1 owns every meeting (moved there with mmrctl):
            handoff_cycles_per_pkt, the extra cycles of a packet handed between lcores, against a
            one-worker run at the same rate next to it.
  updates   out-SSRC changes of subscriptions while forwarding as fast as possible: through the
            command ring (updates_per_s: what the dataplane applies) and through the controller
            (update_effect_p99_us: request to the first copy showing it, at 50/s one at a time);
            at 1,000/s through the controller, update_apply_p99_us: request to the controller's
            answer, which comes once the change is durable and live in the dataplane;
            update_lost_packets: packets lost on the streams the updates did not touch, all runs.

  twcc      (issue 12) the plain mix with every participant taking transport-wide feedback, the
            dataplane's bwe on (every copy stamped and logged) and off, in one run (order
            alternating): twcc_cost_ratio = cycles per copy on / off (goal <= 1.05).
  police    (issue 15) the plain mix with per-publisher policing on (every packet metered; the
            limits, as in every scenario here, out of the generator's reach) and off, in one run,
            A B B A: police_cost_ratio = cycles per copy on / off (goal <= 1.03).
  slots     (issue 13) the plain mix with every video copy going out through a receiver's receive slot
            (mmr-gen --video-slots: a slot subscription plus the stream on it, the slot's assignment
            number checked and every timestamp written per copy) against per-pair subscriptions, in one
            run (order alternating): slot_cost_ratio = cycles per copy slots / pairs.
  bwe       500 receivers (50 meetings of 10, real time, all back to the generator) with bwe on,
            sending 10 TWCC feedbacks a second each (built from what they received) and sending
            none, in one run: cycles per feedback, and bwe_receivers_per_lcore = the lcore's spare
            cycles per second (without feedback) / (10 x cycles per feedback).
  topn      one meeting of 500: 25 VP8 publishers, 500 Opus publishers with audio levels, top-3
            audio, as fast as possible: topn_meeting_copies_per_s.
  meetings  ten-person SRTP meetings at real time (VP9 L3T3 1 Mbit/s + Opus with levels per
            participant, bwe on, RTCP on, feedback from two probes per meeting): a run at 8 gives
            the cost of a meeting, then a ramp down from the 90 %-busy estimate until a run has no
            loss and the worker under 95 % busy: meetings_per_lcore.
  dtls      (issue 13) DTLS-SRTP handshakes on the slow path (mmr-gen --dtls-bench, no DPDK, on the
            worker's core): lib/dtls server and client sessions (ECDSA P-256, AEAD_AES_128_GCM
            profile) in memory on one thread: dtls_handshakes_per_s = 1 / the server side's time
            per handshake (what the dataplane's DTLS thread spends per joining browser); extra
            dtls_pair_handshakes_per_s (both sides on the thread), dtls_client_us.
  stun      (issue 13) ICE-lite checks answered by the worker while forwarding the plain mix:
            stun_answers_per_s (see docs/bench.md).
  browserext (issue 13) the plain mix with a browser's header extension set on every packet against
            today's: plain_browser_ext_cycles_per_copy, browser_ext_cost_ratio; and with the
            participants negotiating that mid (mmr-gen --mid-ext: the dataplane blanks it in every
            packet): mid_blank_cost_ratio = cycles per copy with / without the blanking.
  udpcsum   (issue 15) the plain mix with UDP checksums on every packet (mmr-gen --udp-csum), verified
            by the dataplane (verify_udp_checksum = true, the default) and not, in one run (A B B A):
            udp_csum_cost_ratio = cycles per copy on / off.
  neigh     (issue 14) the plain mix with every copy's next hop read from the neighbour table (the
            ports' gateway_ipv4 with a static `neighbours` entry for it: the word load and check per
            copy, neigh.h) and from the static gateway_mac (the output's own dst_mac), in one run
            (A B B A): neigh_cost_ratio = cycles per copy table / static.
  joins     (issue 13) joins end to end through the HTTP API, offer to media flowing, with a scripted
            client (scripts/bench_joins.py: 80 joins by 8 clients at once): joins_per_s.

Usage: scripts/bench.py [--smoke] [--runs N] [--only NAME,...] [--out FILE] [--keep-logs]
--smoke runs every scenario once, briefly (well under 90 s), and checks that the JSON has every key.
Needs root (hugepages, DPDK) and a build (make progs build/mmr-gen). Python standard library only.
"""

import argparse
import ctypes
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
BUILD = os.path.join(ROOT, 'build')
GEN = os.path.join(BUILD, 'mmr-gen')
DP = os.path.join(BUILD, 'mmr-dataplane')
CTL = os.path.join(BUILD, 'mmr-controller')
MMRCTL = os.path.join(BUILD, 'mmrctl')

MMR_IP = '198.18.0.2'
SINK_IP = '198.18.0.3'
GEN_MAC = '02:00:00:00:00:01'
MMR_MAC = '02:00:00:00:00:02'
SINK_GW = '02:00:00:00:00:09'
GEN_GW_IP = '198.18.0.1'    # the ports' gateways in the neigh scenario
SINK_GW_IP = '198.18.0.9'
GEN_CPU = 0
RING_UPDATE_RATE = 100000  # the goal: updates/s applied while forwarding, with no packet lost
CTL_UPDATE_RATE = 50       # updates/s offered to the controller (one at a time) while measuring request-to-effect time
CTL_APPLY_RATE = 1000      # updates/s offered to the controller while measuring request-to-live time
CTL_CLIENTS = 4            # ctl scenario: concurrent `mmrctl batch` clients
# testpmd's stdout goes to a file: line-buffer it so its progress can be waited for
TESTPMD = ['stdbuf', '-oL', '-eL', 'dpdk-testpmd']
WORKER_CPU = 1

# (key, unit, goal text, goal test or None, lower-is-better)
KEYS = [
    ('plain_copies_per_s', 'copies/s', '>= 15 M', lambda v: v >= 15e6),
    ('plain_cycles_per_copy', 'cycles', '', None),
    ('handoff_cycles_per_pkt', 'cycles', '', None),
    ('testpmd_io_pps', 'pkts/s', '', None),
    ('srtp_gcm_copies_per_s', 'copies/s', '>= 80 % of openssl', None),
    ('openssl_gcm_pkts_per_s', 'pkts/s', '', None),
    ('srtp_lease_cost_ratio', '', '<= 1.05', lambda v: v <= 1.05),
    ('latency_p50_us', 'us', '', None),
    ('latency_p99_us', 'us', '<= 20', lambda v: v <= 20),
    ('scale_participants', '', '>= 100000', lambda v: v >= 100000),
    ('scale_cost_ratio', '', '<= 1.25', lambda v: v <= 1.25),
    ('scale_bytes_per_participant', 'B', '', None),
    ('updates_per_s', '/s', '>= 100000', lambda v: v >= 100000),
    ('update_effect_p99_us', 'us', '', None),
    ('update_lost_packets', 'pkts', '0', lambda v: v == 0),
    ('update_apply_p99_us', 'us', '<= 1000', lambda v: v <= 1000),
    ('ctl_changes_per_s', '/s', '>= 20000', lambda v: v >= 20000),
    ('scale_setup_s', 's', '', None),
    ('svc_vp8_copies_per_s', 'copies/s', '', None),
    ('svc_vp8_cycles_per_copy', 'cycles', '', None),
    ('svc_vp9_copies_per_s', 'copies/s', '', None),
    ('svc_vp9_cycles_per_copy', 'cycles', '', None),
    ('svc_av1_copies_per_s', 'copies/s', '', None),
    ('svc_av1_cycles_per_copy', 'cycles', '', None),
    ('svc_vp9_vs_vp8', '', '', None),
    ('svc_av1_vs_vp8', '', '', None),
    ('rtcp_cost_ratio', '', '<= 1.10', lambda v: v <= 1.10),
    ('rtx_buffer_bytes_per_stream', 'B', '', None),
    ('rtx_resends_per_s', '/s', '', None),
    ('twcc_cost_ratio', '', '<= 1.05', lambda v: v <= 1.05),
    ('udp_csum_cost_ratio', '', '', None),
    ('slot_cost_ratio', '', '', None),
    ('police_cost_ratio', '', '<= 1.03', lambda v: v <= 1.03),
    ('neigh_cost_ratio', '', '', None),
    ('bwe_receivers_per_lcore', 'receivers', '', None),
    ('topn_meeting_copies_per_s', 'copies/s', '', None),
    ('meetings_per_lcore', 'meetings', '', None),
    ('stun_answers_per_s', 'answers/s', '', None),
    ('plain_browser_ext_cycles_per_copy', 'cycles', '', None),
    ('browser_ext_cost_ratio', '', '', None),
    ('mid_blank_cost_ratio', '', '', None),
    ('dtls_handshakes_per_s', '/s', '', None),
    ('joins_per_s', '/s', '', None),
]
SVC_CODECS = ('vp8', 'vp9', 'av1')

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG


class BenchError(Exception):
    pass


def log(msg):
    print('bench: ' + msg, file=sys.stderr, flush=True)


class Proc:
    """A child process with its log file; killed (TERM, then KILL) by stop()."""

    def __init__(self, argv, logpath, cpus=None, stdin=subprocess.DEVNULL, env=None):
        if cpus is not None:
            argv = ['taskset', '-c', cpus] + argv
        self.logpath = logpath
        self.log = open(logpath, 'ab')
        self.log.write(('=== %s\n' % ' '.join(argv)).encode())
        self.log.flush()
        self.p = subprocess.Popen(argv, stdin=stdin, stdout=self.log, stderr=subprocess.STDOUT,
                                  preexec_fn=_die_with_parent, env=env)

    def wait_line(self, text, timeout):
        deadline = time.monotonic() + timeout
        while True:
            with open(self.logpath, 'rb') as f:
                if text.encode() in f.read():
                    return
            if self.p.poll() is not None:
                raise BenchError('%s exited (%s) before "%s"; see %s' % (os.path.basename(self.logpath),
                                                                       self.p.returncode, text, self.logpath))
            if time.monotonic() > deadline:
                raise BenchError('no "%s" within %d s; see %s' % (text, timeout, self.logpath))
            time.sleep(0.05)

    def send(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode


class Bench:
    def __init__(self, args):
        self.args = args
        self.smoke = args.smoke
        self.tag = 'mmr-bench-%d' % os.getpid()
        self.tmp = tempfile.mkdtemp(prefix=self.tag + '-')
        self.logdir = os.path.join(BUILD, 'bench')
        shutil.rmtree(self.logdir, ignore_errors=True)
        os.makedirs(self.logdir, exist_ok=True)
        self.shm = '/' + self.tag
        self.procs = []
        self.pending_gen = None
        self.nrun = 0
        self.dp_extra = ""    # more dataplane.conf lines for the next start_dataplane (rtcp scenario)
        self.next_hop = 'static'   # the ports' next hop: gateway_mac, or 'table' (neigh scenario)
        self.runs = {}        # key -> [values]
        self.extra = {}       # name -> [values]
        self.notes = []
        self.hz = None

    # ---- plumbing ---------------------------------------------------------------------------
    def path(self, name):
        return os.path.join(self.tmp, name)

    def logpath(self, name):
        return os.path.join(self.logdir, '%02d-%s.log' % (self.nrun, name))

    def add(self, key, value, extra=False):
        (self.extra if extra else self.runs).setdefault(key, []).append(value)

    def cleanup(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs = []
        for n in os.listdir('/dev/shm'):
            if n.startswith(self.tag):
                try:
                    os.unlink('/dev/shm/' + n)
                except OSError:
                    pass
        for n in os.listdir(self.tmp):
            if n.endswith('.sock'):
                try:
                    os.unlink(self.path(n))
                except OSError:
                    pass

    def memif(self, side, sock):
        """The generator is the memif server (it copies); the dataplane and testpmd are zero-copy
        clients, so their receive path takes the frames in place, as from a NIC's DMA."""
        if side == 'gen':
            return '--vdev=net_memif0,role=server,socket=%s,socket-abstract=no,rsize=14,mac=%s' % (
                self.path(sock), GEN_MAC)
        return '--vdev=net_memif0,role=client,zero-copy=yes,socket=%s,socket-abstract=no,rsize=14,mac=%s' % (
            self.path(sock), MMR_MAC)

    def eal_common(self, prefix, zero_copy=False):
        return ['--no-pci', '--in-memory', '--log-level', 'lib.eal:notice', '--file-prefix', prefix] + \
            (['--single-file-segments'] if zero_copy else [])

    def start_dataplane(self, name, mbufs=65535, null_only=False, workers=1):
        """null_only: two net_null ports (no generator, no traffic: the ctl scenario); workers > 1
        share the worker CPU (EAL --lcores: lcore@cpu)"""
        conf = self.path('dp.conf')
        lcores = ['-l', '%d,%d' % (GEN_CPU, WORKER_CPU)] if workers == 1 else \
            ['--lcores', ','.join(['0@%d' % GEN_CPU] + ['%d@%d' % (i + 1, WORKER_CPU) for i in range(workers)])]
        eal = lcores + self.eal_common(self.tag + '-dp', True) + \
            (['--vdev=net_null1,no-rx=1'] if null_only else [self.memif('dp', 'memif.sock')]) + \
            ['--vdev=net_null0,no-rx=1']
        def next_hop(gw_ip, mac):
            if self.next_hop == 'table':   # resolved through the neighbour table (a static entry)
                return 'gateway_ipv4 = "%s"; neighbours = ( { ip = "%s"; mac = "%s"; } );' % (gw_ip, gw_ip, mac)
            return 'gateway_mac = "%s";' % mac
        with open(conf, 'w') as f:
            f.write('# written by scripts/bench.py\nshm_name = "%s";\neal = [ %s ];\nmbufs = %d;\n'
                    'udp_port = 5000;\nports = (\n  { ipv4 = "%s"; %s },\n'
                    '  { ipv4 = "%s"; %s tx_multiseg = "on"; }\n);\n'
                    'status_interval_ms = 1000;\nsrtp_ledger = "%s";\n%s%s'
                    % (self.shm, ', '.join('"%s"' % a for a in eal), mbufs, MMR_IP, next_hop(GEN_GW_IP, GEN_MAC),
                       SINK_IP, next_hop(SINK_GW_IP, SINK_GW), self.path('srtp-ledger'), self.POLICE_LIMITS,
                       self.dp_extra))
        p = Proc([DP, '-c', conf], self.logpath(name + '-dataplane'))
        self.procs.append(p)
        p.wait_line('MMR-DATAPLANE READY', 60)
        return p

    def start_controller(self, name):
        conf = self.path('ctl.conf')
        for f in ('state', 'state.lock', 'state.tmp', 'state.journal', 'state.journal.tmp'):
            try:
                os.unlink(self.path(f))
            except OSError:
                pass
        with open(conf, 'w') as f:
            f.write('socket = "%s";\nstate_file = "%s";\nshm_name = "%s";\napply_timeout_ms = 5000;\n' %
                    (self.path('mmr.sock'), self.path('state'), self.shm))
        p = Proc([CTL, '-c', conf], self.logpath(name + '-controller'), cpus=str(GEN_CPU))
        self.procs.append(p)
        p.wait_line('MMR-CONTROLLER READY', 30)
        # wait for the first sync with the dataplane
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cp = subprocess.run([MMRCTL, '-S', self.path('mmr.sock'), '--json', 'status'],
                                capture_output=True, text=True)
            if cp.returncode == 0 and json.loads(cp.stdout).get('dataplane', {}).get('attached'):
                return p
            time.sleep(0.1)
        raise BenchError('the controller did not attach to the dataplane')

    def gen_start(self, name, args, sock='memif.sock'):
        """Start mmr-gen (the memif server) in the background; returns once its socket listens.
        The peer (dataplane or testpmd) is started next; the generator waits for the link."""
        out = self.path('gen.json')
        try:
            os.unlink(out)
        except OSError:
            pass
        # nice 19: on the generator's core, the dataplane's control thread and the controller
        # (mostly asleep) must get the CPU as soon as they wake, as they would on their own core
        argv = ['nice', '-n', os.environ.get('BENCH_GEN_NICE', '19'), GEN, '--quiet', '--json', out, '--mmr-ip', MMR_IP,
                '--socket', self.path('mmr.sock'), '--shm', self.shm] + args + \
            ['--', '-l', str(GEN_CPU)] + self.eal_common(self.tag + '-gen') + [self.memif('gen', sock)]
        lp = self.logpath(name + '-gen')
        p = Proc(argv, lp)
        self.procs.append(p)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.path(sock)):
            if p.p.poll() is not None or time.monotonic() > deadline:
                raise BenchError('mmr-gen did not open its memif socket; see %s' % lp)
            time.sleep(0.02)
        self.pending_gen = (p, out, lp)
        return p

    def gen_finish(self, timeout=300):
        """Wait for the generator started by gen_start; its JSON result."""
        p, out, lp = self.pending_gen
        try:
            rc = p.p.wait(timeout)
        except subprocess.TimeoutExpired:
            raise BenchError('mmr-gen did not finish within %d s; see %s' % (timeout, lp))
        if rc != 0 or not os.path.exists(out):
            raise BenchError('mmr-gen failed (exit %s); see %s' % (rc, lp))
        shutil.copy(out, lp[:-4] + '.json')
        with open(out) as f:
            return json.load(f)

    def run_gen(self, name, args, controller=False):
        """The usual sequence: generator, dataplane, (controller), wait for the result."""
        self.gen_start(name, args)
        self.start_dataplane(name)
        if controller:
            self.start_controller(name)
        return self.gen_finish()

    def timing(self):
        """warm-up and measured seconds of one generator run"""
        return ['--warmup', '0.3' if self.smoke else '1', '--duration', '0.7' if self.smoke else '3']

    def run_once(self, name, fn):
        self.nrun += 1
        try:
            return fn(name)
        finally:
            self.cleanup()

    def nruns(self, full):
        return 1 if self.smoke else (self.args.runs or full)

    # ---- dataplane figures from a generator result ------------------------------------------------
    @staticmethod
    def dp_cpc(r):
        """cycles per copy: busy cycles less the time the worker waited for the CPU"""
        d = r['dp']
        return d['cycles_per_copy_cpu'] if d.get('sched_ok') else d['cycles_per_copy']

    def dp_note(self, name, r):
        d = r.get('dp', {})
        self.add(name + '_stolen_frac', d.get('stolen_frac', 0.0), extra=True)
        self.add(name + '_busy_frac', d.get('busy_frac', 0.0), extra=True)
        if d.get('stolen_frac', 0) > 0.05:
            log('  (%s: the worker lcore waited %.0f %% of the window for its CPU: the machine is shared; '
                'busy cycles corrected)' % (name, 100 * d['stolen_frac']))
        self.hz = d.get('tsc_hz', self.hz)

    # ---- scenarios ----------------------------------------------------------------------------------
    PLAIN_MIX = ['--meetings', '16', '--participants', '8', '--video-pubs', '4', '--audio-pubs', '8',
                 '--sink-port', '1', '--probe-stride', '8']

    def sc_testpmd(self, name):
        """dpdk-testpmd io forwarding memif -> net_null, fed by mmr-gen as fast as it can."""
        sock = 'tp.sock'
        self.gen_start(name, ['--setup', 'none', '--mmr-mac', MMR_MAC, '--max'] + self.PLAIN_MIX[:8] +
                       self.timing(), sock=sock)
        argv = TESTPMD + ['-l', '%d,%d' % (GEN_CPU, WORKER_CPU)] + self.eal_common(self.tag + '-tp', True) + \
            [self.memif('testpmd', sock), '--vdev=net_null0,no-rx=1', '--', '--forward-mode=io',
             '--record-core-cycles', '--auto-start', '--rxd=4096', '--txd=4096']
        # non-interactive testpmd exits on end of stdin: keep a pipe open
        p = Proc(argv, self.logpath(name + '-testpmd'), stdin=subprocess.PIPE)
        self.procs.append(p)
        p.wait_line('Press enter to exit', 60)
        tid = find_thread(p.p.pid, 'rte-worker')
        s0 = schedstat(p.p.pid, tid)
        r = self.gen_finish()
        s1 = schedstat(p.p.pid, tid)
        # "Press enter to exit": a newline stops forwarding and prints the statistics; SIGINT only if
        # that does not end it (a signal can land while the forwarding lcore is descheduled).
        try:
            p.p.stdin.write(b'\n')
            p.p.stdin.flush()
            p.p.wait(30)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            p.send(signal.SIGINT)
            try:
                p.p.wait(15)
            except subprocess.TimeoutExpired:
                pass
        with open(p.logpath) as f:
            text = f.read()
        m = re.search(r'total cycles=(\d+)', text)
        tx = re.findall(r'TX-packets:\s+(\d+)', text)
        if not m or len(tx) < 2:
            raise BenchError('cannot read testpmd statistics; see ' + p.logpath)
        cycles, fwd = int(m.group(1)), int(tx[1])     # port 1 (net_null): what was forwarded
        hz = r.get('dp', {}).get('tsc_hz') or self.hz or tsc_hz_guess()
        # time testpmd's lcore waited for its CPU, in the proportion of its time it was busy
        if s0 and s1:
            run_c, wait_c = (s1[0] - s0[0]) * hz / 1e9, (s1[1] - s0[1]) * hz / 1e9
            busy = cycles - wait_c * min(1.0, cycles / max(1.0, run_c + wait_c))
        else:
            busy = cycles
        if fwd == 0:
            raise BenchError('testpmd forwarded nothing; see ' + p.logpath)
        cpp = busy / fwd
        self.add('testpmd_io_pps', hz / cpp)
        self.add('testpmd_cycles_per_pkt', cpp, extra=True)
        self.add('testpmd_gen_pps', r['tx_pps'], extra=True)
        stolen = (s1[1] - s0[1]) / max(1, (s1[0] - s0[0]) + (s1[1] - s0[1])) if s0 and s1 else 0
        self.add('testpmd_stolen_frac', stolen, extra=True)
        return r

    def sc_plain(self, name):
        r = self.run_gen(name, ['--setup', 'ctl', '--max'] + self.PLAIN_MIX + self.timing(), controller=True)
        self.dp_note(name, r)
        cpc = self.dp_cpc(r)
        self.add('plain_cycles_per_copy', cpc)
        self.add('plain_copies_per_s', r['dp']['tsc_hz'] / cpc)
        self.add('plain_copies_per_s_uncorrected', r['dp']['copies_per_s_busy'], extra=True)
        self.add('plain_copies_per_rtp_pkt', r['dp']['copies'] / max(1, r['dp']['rtp_pkts']), extra=True)
        self.add('plain_gen_pps', r['tx_pps'], extra=True)
        self.add('plain_probe_loss', r['lost'], extra=True)
        self.add('ctl_setup_requests_per_s', r['setup']['requests'] / max(1e-9, r['setup']['seconds']), extra=True)
        return r

    def mmrctl(self, *args):
        cp = subprocess.run([MMRCTL, '-S', self.path('mmr.sock')] + list(args), capture_output=True, text=True)
        if cp.returncode != 0:
            raise BenchError('mmrctl %s: %s' % (' '.join(args), (cp.stdout + cp.stderr).strip()))
        return cp.stdout

    def move_all(self, lcore, meetings, participants, timeout=60):
        """Once the generator has set up its meetings, move every one of them to worker `lcore`."""
        deadline = time.monotonic() + timeout
        while True:
            ms = json.loads(self.mmrctl('--json', 'meeting', 'list'))['meetings']
            if len(ms) >= meetings and all(m['participants'] >= participants and m.get('lcore') is not None
                                           for m in ms):
                break
            if time.monotonic() > deadline:
                raise BenchError('the generator did not set up its %d meetings' % meetings)
            time.sleep(0.05)
        for m in ms:
            if m['lcore'] != lcore:
                out = self.mmrctl('meeting', 'move', m['name'], '--lcore', str(lcore))
                if 'note:' in out:
                    raise BenchError('meeting move %s: %s' % (m['name'], out.strip()))

    def sc_handoff(self, name):
        """The plain mix paced at 10 % of the plain maximum (the hand-off rings never fill), twice: one
        worker (the plain counterpart), then two workers sharing the worker CPU, with the generator's
        traffic entering worker 0's queue (memif: it sends on the first ring) and every meeting moved
        to worker 1 before the window, so every RTP packet is handed off. Two polling threads on one
        CPU are descheduled in turn for milliseconds: iterations longer than 1 ms (slow_cycles,
        slow_copies) are taken out of both runs. Per run:
        handoff_cycles_per_pkt = (cycles per copy with hand-off - without) x copies / hand-offs."""
        copies = statistics.median(self.runs.get('plain_copies_per_s', [2e6]))
        per_pkt = statistics.median(self.extra.get('plain_copies_per_rtp_pkt', [6.0]))
        pace = ['--setup', 'ctl', '--pps', '%.0f' % (0.1 * copies / per_pkt)] + self.PLAIN_MIX + self.timing()

        def cpc(r):
            d = r['dp']
            return (d['busy_cycles'] - d.get('slow_cycles', 0)) / max(1, d['copies'] - d.get('slow_copies', 0))

        rp = self.run_once(name + '-plain', lambda n: self.run_gen(n, pace, controller=True))
        plain_cpc = cpc(rp)
        self.add('handoff_plain_cycles_per_copy', plain_cpc, extra=True)
        self.gen_start(name, pace + ['--queues', '2'])
        self.start_dataplane(name, workers=2)
        self.start_controller(name)
        self.move_all(1, int(self.PLAIN_MIX[1]), int(self.PLAIN_MIX[3]))
        r = self.gen_finish()
        self.dp_note(name, r)
        d = r['dp']
        if not d.get('handoffs'):
            raise BenchError('nothing was handed off (is the traffic entering worker 0 only?)')
        h_cpc = cpc(r)
        self.add('handoff_cycles_per_pkt', (h_cpc - plain_cpc) * d['copies'] / d['handoffs'])
        self.add('handoff_frac', d['handoffs'] / max(1, d['rtp_pkts']), extra=True)
        self.add('handoff_cycles_per_copy', h_cpc, extra=True)
        self.add('handoff_slow_frac', d.get('slow_cycles', 0) / max(1, d['busy_cycles']), extra=True)
        self.add('handoff_ring_full', d.get('drops', {}).get('handoff_full', 0), extra=True)
        return r

    def sc_latency(self, name):
        copies = statistics.median(self.runs.get('plain_copies_per_s', [2e6]))
        per_pkt = statistics.median(self.extra.get('plain_copies_per_rtp_pkt', [5.0]))
        pps = 0.5 * copies / per_pkt
        r = self.run_gen(name, ['--setup', 'ctl', '--pps', '%.0f' % pps] + self.PLAIN_MIX + self.timing(),
                         controller=True)
        self.dp_note(name, r)
        self.add('latency_p50_us', r['lat_p50_us'])
        self.add('latency_p99_us', r['lat_p99_us'])
        self.add('latency_p999_us', r['lat_p999_us'], extra=True)
        self.add('latency_target_pps', pps, extra=True)
        self.add('latency_gen_pps', r['tx_pps'], extra=True)
        self.add('latency_dp_copies_per_s', r['dp']['copies_per_s_wall'], extra=True)
        self.add('latency_probe_loss', r['lost'], extra=True)
        self.add('latency_gen_stolen_frac', r['dp'].get('gen_stolen_frac', 0), extra=True)
        self.cleanup()
        # baseline: the two memif hops alone (testpmd io forwarding in a loop, same packet rate)
        sock = 'tpl.sock'
        self.gen_start(name + '-baseline', ['--setup', 'none', '--mmr-mac', MMR_MAC, '--pps', '%.0f' % pps] +
                       self.PLAIN_MIX[:8] + self.timing(), sock=sock)
        argv = TESTPMD + ['-l', '%d,%d' % (GEN_CPU, WORKER_CPU)] + self.eal_common(self.tag + '-tpl', True) + \
            [self.memif('testpmd', sock), '--', '--forward-mode=io', '--port-topology=loop', '--auto-start',
             '--rxd=4096', '--txd=4096']
        p = Proc(argv, self.logpath(name + '-testpmd-loop'), stdin=subprocess.PIPE)
        self.procs.append(p)
        b = self.gen_finish()
        self.add('latency_memif_loop_p50_us', b['lat_p50_us'], extra=True)
        self.add('latency_memif_loop_p99_us', b['lat_p99_us'], extra=True)
        return r

    def sc_dtls(self, name):
        # the slow path's handshake rate: lib/dtls server and client sessions in memory on the
        # worker's core (no DPDK); the server side's rate is the DTLS thread's capacity
        cp = subprocess.run(['taskset', '-c', str(WORKER_CPU), GEN, '--dtls-bench', '0.5' if self.smoke else '3'],
                            capture_output=True, text=True, timeout=120)
        if cp.returncode != 0:
            raise BenchError('mmr-gen --dtls-bench failed: ' + cp.stderr.strip())
        d = json.loads(cp.stdout)
        self.add('dtls_handshakes_per_s', d['dtls_handshakes_per_s'])
        self.add('dtls_pair_handshakes_per_s', d['dtls_pair_handshakes_per_s'], extra=True)
        self.add('dtls_client_us', d['dtls_client_us'], extra=True)

    def sc_srtp(self, name):
        # the reference: one core's raw AES-128-GCM rate, on the core the worker uses
        cp = subprocess.run(['taskset', '-c', str(WORKER_CPU), GEN, '--gcm-bench', '0.5' if self.smoke else '2'],
                            capture_output=True, text=True, timeout=60)
        if cp.returncode != 0:
            raise BenchError('mmr-gen --gcm-bench failed: ' + cp.stderr.strip())
        g = json.loads(cp.stdout)
        self.add('openssl_gcm_pkts_per_s', g['openssl_gcm_pkts_per_s'])
        # SRTP index leases on the packet path: protect by a leased context against an unleased one,
        # alternating in one run on the worker's core (issue 9's cost ratio)
        self.add('srtp_lease_cost_ratio', g['srtp_lease_cost_ratio'])
        self.add('srtp_protect_leased_ns', g['srtp_protect_leased_ns'], extra=True)
        self.add('srtp_protect_unleased_ns', g['srtp_protect_unleased_ns'], extra=True)
        r = self.run_gen(name, ['--setup', 'ctl', '--srtp', 'AEAD_AES_128_GCM', '--max', '--meetings', '16',
                                '--participants', '8', '--video-pubs', '4', '--audio-pubs', '0',
                                '--fixed-rtp-bytes', '1200', '--sink-port', '1', '--probe-stride', '8',
                                '--srtp-rx-every', '4'] + self.timing(), controller=True)
        self.dp_note(name, r)
        if r['dp']['copies'] == 0:
            raise BenchError('no SRTP copies (drops: %s)' % r['dp'].get('drops'))
        cpc = self.dp_cpc(r)
        self.add('srtp_gcm_copies_per_s', r['dp']['tsc_hz'] / cpc)
        self.add('srtp_cycles_per_copy', cpc, extra=True)
        self.add('srtp_rx_auth_failures', r['srtp_fail'], extra=True)
        self.add('srtp_probe_loss', r['lost'], extra=True)
        self.add('srtp_dp_drops_auth', r['dp']['drops'].get('srtp_auth', 0), extra=True)
        return r

    def scale_run(self, name, meetings, per_meeting):
        self.gen_start(name, ['--setup', 'ctl', '--max', '--meetings', str(meetings),
                              '--participants', str(per_meeting), '--video-pubs', '4', '--audio-pubs', '4',
                              '--sink-port', '1', '--probe-stride', '50', '--setup-delay', '1'] + self.timing())
        dp = self.start_dataplane(name)
        mem0 = proc_memory(dp.p.pid)       # before the controller programs the tables (--setup-delay)
        self.start_controller(name)
        r = self.gen_finish(timeout=600)
        mem1 = proc_memory(dp.p.pid)
        self.dp_note(name, r)
        return r, mem1 - mem0

    def sc_scale(self, name):
        big_m, big_n = (20, 500) if self.smoke else (200, 500)
        small, _ = self.scale_run(name + '-100', 1, 100)
        self.cleanup()
        big, mem = self.scale_run(name + '-big', big_m, big_n)
        parts = big_m * big_n
        c_small, c_big = self.dp_cpc(small), self.dp_cpc(big)
        self.add('scale_participants', parts)
        self.add('scale_cost_ratio', c_big / c_small)
        self.add('scale_bytes_per_participant', mem / parts)
        self.add('scale_cycles_per_copy_100', c_small, extra=True)
        self.add('scale_cycles_per_copy_big', c_big, extra=True)
        self.add('scale_setup_s', big['setup']['seconds'])
        self.add('scale_setup_requests', big['setup']['requests'], extra=True)
        self.add('scale_setup_requests_per_s', big['setup']['requests'] / max(1e-9, big['setup']['seconds']),
                 extra=True)
        return big

    def sc_updates(self, name):
        mix = self.PLAIN_MIX
        # through the command ring, as fast as it takes them: what the dataplane applies while
        # forwarding as fast as it can
        r = self.run_gen(name + '-ring', ['--setup', 'ring', '--max', '--updates', 'ring', '--update-rate', '0',
                                          '--update-flows', '4096', '--update-bulk'] + mix + self.timing())
        self.dp_note(name, r)
        u = r['updates']
        self.add('updates_per_s', r['dp']['commands_per_s'])
        self.add('update_effect_ring_p50_us', u['effect_p50_us'], extra=True)
        self.add('update_effect_ring_p99_us', u['effect_p99_us'], extra=True)
        self.add('update_ring_timeouts', u['timeouts'], extra=True)
        # at that rate the control thread takes most of CPU 0 from the generator, which then
        # cannot drain its copies in time: losses here are the layout's, kept apart
        self.add('update_ring_max_lost', r['untouched_lost'], extra=True)
        self.add('update_ring_max_gen_stolen_frac', r['dp'].get('gen_stolen_frac', 0), extra=True)
        self.add('update_ring_copies_per_s', r['dp']['copies_per_s_wall'], extra=True)
        self.add('update_ring_arrays_per_s', r['dp'].get('arrays_published', 0) / max(r['dp']['window_s'], 1e-9),
                 extra=True)
        self.cleanup()
        # target changes (what a bandwidth allocator makes): a word stored per SUB_PUT, no output array
        # published, no grace period waited for
        rt = self.run_gen(name + '-ring-targets', ['--setup', 'ring', '--max', '--updates', 'ring', '--update-rate',
                                                   '0', '--update-flows', '4096', '--update-bulk',
                                                   '--update-targets'] + mix + self.timing())
        self.add('updates_target_per_s', rt['dp']['commands_per_s'], extra=True)
        self.add('update_target_arrays_published', rt['dp'].get('arrays_published', -1), extra=True)
        self.add('update_target_grace_periods', rt['dp'].get('grace_periods', -1), extra=True)
        self.cleanup()
        # the same at the goal's rate: losses on the streams the updates do not touch
        r2 = self.run_gen(name + '-ring-goal', ['--setup', 'ring', '--max', '--updates', 'ring', '--update-rate',
                                                str(RING_UPDATE_RATE), '--update-flows', '4096', '--update-bulk'] +
                          mix + self.timing())
        self.add('update_ring_goal_per_s', r2['dp']['commands_per_s'], extra=True)
        self.add('update_ring_goal_lost', r2['untouched_lost'], extra=True)
        self.add('update_ring_goal_effect_p99_us', r2['updates']['effect_p99_us'], extra=True)
        lost = r2['untouched_lost']
        self.cleanup()
        # through the controller: request to effect on the wire
        # (paced: each change costs the controller a state-file rewrite and an fsync on the generator's core)
        c = self.run_gen(name + '-ctl', ['--setup', 'ctl', '--max', '--updates', 'ctl', '--update-rate',
                                         str(CTL_UPDATE_RATE), '--update-inflight', '1', '--update-flows', '4096'] +
                         mix + self.timing(), controller=True)
        u = c['updates']
        if u['effects'] == 0:
            # the controller did not answer within the window (its state-file fsync stalled): no
            # figure rather than a zero
            self.notes.append('updates run %d: no update through the controller took effect within the '
                              'window (%d issued, %d answered)' % (self.nrun, u['issued'], u['answers']))
            log('  (no controller update took effect within the window; this run has no effect time)')
        else:
            self.add('update_effect_p99_us', u['effect_p99_us'])
        self.add('update_effect_p50_us', u['effect_p50_us'], extra=True)
        self.add('updates_ctl_per_s', u['effects_per_s'], extra=True)
        self.add('update_ctl_answer_p99_us', u['answer_p99_us'], extra=True)
        self.add('update_ctl_errors', u['errors'] + u['timeouts'], extra=True)
        self.add('update_ctl_lost', c['untouched_lost'], extra=True)
        self.cleanup()
        # through the controller at 1,000/s: request to answer (the answer comes once the change is
        # durable in the journal and applied by the dataplane); the disk's own fdatasync latency
        # where the journal lives, just before, bounds it from below
        fs = fdatasync_latency(self.path('fdatasync-probe'))
        self.add('fdatasync_p50_us', fs[0], extra=True)
        self.add('fdatasync_p99_us', fs[1], extra=True)
        a = self.run_gen(name + '-ctl-apply', ['--setup', 'ctl', '--max', '--updates', 'ctl', '--update-rate',
                                               str(CTL_APPLY_RATE), '--update-inflight', '8', '--update-flows',
                                               '4096'] + mix + self.timing(), controller=True)
        ua = a['updates']
        if ua['answers'] == 0:
            self.notes.append('updates run %d: no answer from the controller at %d/s' % (self.nrun, CTL_APPLY_RATE))
        else:
            self.add('update_apply_p99_us', ua['answer_p99_us'])
        self.add('update_apply_p50_us', ua.get('answer_p50_us', 0), extra=True)
        self.add('update_apply_issued_per_s', ua['issued_per_s'], extra=True)
        self.add('update_apply_errors', ua['errors'] + ua['timeouts'], extra=True)
        self.add('update_apply_lost', a['untouched_lost'], extra=True)
        self.add('update_lost_packets', lost + c['untouched_lost'] + a['untouched_lost'])
        return r

    def sc_ctl(self, name):
        """Changes through the controller's socket: CTL_CLIENTS `mmrctl batch` clients at once, each on
        its own meeting (2 publishers of video, 18 receivers), each change a `sub set --out-ssrc`."""
        self.start_dataplane(name, null_only=True)
        self.start_controller(name)
        n = 1000 if self.smoke else 25000
        setup = []
        for c in range(CTL_CLIENTS):
            setup.append('meeting create c%d --plain' % c)
            for p in range(20):
                setup.append('participant add c%d p%d --addr 10.%d.0.%d --port 5000 --role %s' %
                             (c, p, c + 1, p + 1, 'sendrecv' if p < 2 else 'recvonly'))
            for p in range(2):
                setup.append('stream add c%d p%d --ssrc %d --kind video --codec vp8 --layers 3' % (c, p, 100 + p))
        sock = self.path('mmr.sock')
        cp = subprocess.run([MMRCTL, '-S', sock, 'batch'], input='\n'.join(setup) + '\n', capture_output=True,
                            text=True, timeout=60)
        if cp.returncode != 0:
            raise BenchError('ctl set-up failed: %s' % cp.stderr[:300])
        files = []
        for c in range(CTL_CLIENTS):
            path = self.path('ctl-%d.txt' % c)
            with open(path, 'w') as f:
                for i in range(n):
                    f.write('sub set c%d p%d --ssrc %d --out-ssrc %d\n' % (c, 2 + i % 18, 100 + (i // 18) % 2,
                                                                         0x10000 * (c + 1) + i))
            files.append(path)
        t0 = time.monotonic()
        procs = [subprocess.Popen([MMRCTL, '-S', sock, 'batch'], stdin=open(f), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE) for f in files]
        errs = [p.communicate(timeout=120)[1] for p in procs]
        dt = time.monotonic() - t0
        bad = [(p.returncode, e[:200]) for p, e in zip(procs, errs) if p.returncode != 0]
        if bad:
            raise BenchError('mmrctl batch failed: %s' % bad)
        st = json.loads(subprocess.run([MMRCTL, '-S', sock, '--json', 'status'], capture_output=True,
                                       text=True).stdout)
        if not st.get('dataplane', {}).get('attached'):
            raise BenchError('the dataplane detached during the ctl run')
        self.add('ctl_changes_per_s', CTL_CLIENTS * n / dt)
        self.add('ctl_changes', CTL_CLIENTS * n, extra=True)
        return None

    # the rtcp scenario's two dataplanes: RTCP off (today's path: RTCP counted and dropped, nothing
    # kept), and on with every packet kept for resends (video 512 packets per stream, audio 128: 2.5 s
    # of 20 ms packets) and SRs/RRs generated; the budget covers every ring of the plain mix (64 video
    # x 512 + 128 audio x 128 = 49,152 mbufs), so nothing is left unkept
    RTCP_CONF = {'off': 'rtcp = false;\n',
                 'on': 'rtcp = true;\nrtx_video_packets = 512;\nrtx_audio_packets = 128;\nrtx_max_mbufs = 65536;\n',
                 'default': 'rtcp = true;\n'}    # the defaults: video kept (512), audio not
    # memory one video stream's ring holds (dataplane/repair.c, lib/repair): 512 whole mbufs of the
    # packet pool (struct rte_mbuf 128 B + RTE_MBUF_DEFAULT_BUF_SIZE 2176 B; the mempool's 64-byte
    # object header on top), the ring's slots (24 B each), the uplink NACK state (struct nack_gen:
    # 256 x 24 B + 64 B) and struct stream_repair (64 B)
    RTX_STREAM_BYTES = 512 * (128 + 2176 + 64) + 8 + 512 * 24 + 256 * 24 + 64 + 64

    def sc_rtcp(self, name):
        """The plain mix with RTCP off and on in the same run (the order alternates between runs):
        rtcp_cost_ratio = cycles per copy on / off."""
        cpc = {}
        modes = ('off', 'on', 'default') if self.nrun % 2 else ('default', 'on', 'off')
        for i, mode in enumerate(modes):
            if i:
                self.cleanup()
            n = '%s_%s' % (name, mode)
            self.dp_extra = self.RTCP_CONF[mode]
            try:
                r = self.run_gen(n, ['--setup', 'ctl', '--max'] + self.PLAIN_MIX + self.timing(), controller=True)
            finally:
                self.dp_extra = ''
            self.dp_note(n, r)
            d = r['dp']
            if d['copies'] == 0:
                raise BenchError('rtcp %s: no copies (drops: %s)' % (mode, d.get('drops')))
            cpc[mode] = self.dp_cpc(r)
            self.add(n + '_cycles_per_copy', cpc[mode], extra=True)
            self.add(n + '_copies_per_s', d['tsc_hz'] / cpc[mode], extra=True)
            self.add(n + '_probe_loss', r['lost'], extra=True)
        self.add('rtcp_cost_ratio', cpc['on'] / cpc['off'])
        self.add('rtcp_cost_ratio_default_config', cpc['default'] / cpc['off'], extra=True)
        self.add('rtx_buffer_bytes_per_stream', self.RTX_STREAM_BYTES)
        return r

    RTX_NACKS_PER_S = 50000    # rtx scenario: NACKs a second offered (17 packets asked each)

    def sc_rtx(self, name):
        """The plain set-up as fast as possible with the default config (RTCP on, video kept) while
        receivers NACK (mmr-gen --nack-per-s): rtx_resends_per_s = what the dataplane sent beyond the
        copies, its RTCP and its ARP/ICMP replies, per second of the window."""
        r = self.run_gen(name, ['--setup', 'ctl', '--max', '--nack-per-s', str(self.RTX_NACKS_PER_S)] +
                         self.PLAIN_MIX + self.timing(), controller=True)
        self.dp_note(name, r)
        d = r['dp']
        if d['copies'] == 0 or 'rtcp_pkts' not in d:
            raise BenchError('rtx: no copies or no RTCP counters (drops: %s)' % d.get('drops'))
        resent = d['tx_pkts'] - d['copies'] - d['rtcp_out_pkts'] - d['replies']
        self.add('rtx_resends_per_s', resent / d['window_s'])
        self.add('rtx_copies_per_s', d['copies'] / d['window_s'], extra=True)
        self.add('rtx_nacks_in_per_s', d['rtcp_pkts'] / d['window_s'], extra=True)
        self.add('rtx_nacks_sent_per_s', d['nacks_sent'] / d['window_s'], extra=True)
        self.add('rtx_cycles_per_copy', self.dp_cpc(r), extra=True)
        return r

    def sc_svc(self, name):
        """The plain scenario with each video codec in turn, in the same run, so that the machine's
        state (other load, frequency) is as alike as it gets for the three."""
        cpc = {}
        for i, codec in enumerate(SVC_CODECS):
            if i:
                self.cleanup()
            n = '%s_%s' % (name, codec)
            r = self.run_gen(n, ['--setup', 'ctl', '--max', '--video', codec] + self.PLAIN_MIX + self.timing(),
                             controller=True)
            self.dp_note(n, r)
            d = r['dp']
            if d['copies'] == 0:
                raise BenchError('%s: no copies (drops: %s)' % (codec, d.get('drops')))
            cpc[codec] = self.dp_cpc(r)
            self.add(n + '_cycles_per_copy', cpc[codec])
            self.add(n + '_copies_per_s', d['tsc_hz'] / cpc[codec])
            self.add(n + '_copies_per_rtp_pkt', d['copies'] / max(1, d['rtp_pkts']), extra=True)
            self.add(n + '_cycles_per_rtp_pkt', cpc[codec] * d['copies'] / max(1, d['rtp_pkts']), extra=True)
            self.add(n + '_gen_pps', r['tx_pps'], extra=True)
            self.add(n + '_probe_loss', r['lost'], extra=True)
            drops = d.get('drops', {})
            self.add(n + '_withheld', drops.get('layer', 0), extra=True)     # layer selection
            self.add(n + '_dp_drops_other', sum(v for k, v in drops.items() if k != 'layer'), extra=True)
        for codec in SVC_CODECS[1:]:
            self.add('%s_%s_vs_vp8' % (name, codec), cpc[codec] / cpc['vp8'])
        return r

    # ---- issue 12: bandwidth estimation, top-N audio, meetings per lcore ------------------------------
    BWE_CONF = {'on': 'bwe = true;\n', 'off': 'bwe = false;\n'}

    @staticmethod
    def fast_cpc(d):
        """cycles per copy of the iterations under 1 ms (a descheduled worker's iterations left out)"""
        return (d['busy_cycles'] - d.get('slow_cycles', 0)) / max(1, d['copies'] - d.get('slow_copies', 0))

    @staticmethod
    def lc(r, name):
        """an lcore counter of the window (mmr-gen's "lcore" object: every counter of stats.h)"""
        return r.get('lcore', {}).get(name, 0)

    def abba(self, name, a, b, setup, check=None):
        """Cycles per copy of the plain mix in two modes a and b, in one run as A B B A (B A A B in the
        next run; the smoke run: the first two): setup(mode) -> (dataplane config lines, extra mmr-gen
        arguments); check(mode, r), if given, after each; each mode's cycles per copy noted as an extra.
        Returns (the mean of b / the mean of a, the last run's result): a load that drifts linearly
        during the run cancels."""
        cpc = {a: [], b: []}
        modes = (a, b, b, a) if self.nrun % 2 else (b, a, a, b)
        r = None
        for i, mode in enumerate(modes[:2] if self.smoke else modes):
            if i:
                self.cleanup()
            n = '%s_%s' % (name, mode)
            self.dp_extra, gen_args = setup(mode)
            try:
                r = self.run_gen(n, ['--setup', 'ring', '--max'] + gen_args + self.PLAIN_MIX + self.timing())
            finally:
                self.dp_extra = ''
            self.dp_note(n, r)
            d = r['dp']
            if d['copies'] == 0:
                raise BenchError('%s %s: no copies (drops: %s)' % (name, mode, d.get('drops')))
            if check:
                check(mode, r)
            cpc[mode].append(self.dp_cpc(r))
            self.add(n + '_cycles_per_copy', cpc[mode][-1], extra=True)
        return statistics.mean(cpc[b]) / statistics.mean(cpc[a]), r

    def sc_twcc(self, name):
        """The plain mix with every participant taking transport-wide feedback (mmr-gen --twcc: the
        set-up gives them `--rtcp nack,pli,fir,twcc --ext twcc=1`, every generated packet carries a
        transport-cc element) with the dataplane's bwe on (each copy stamped with the receiver's
        transport-wide sequence number and logged) and off, in one run, as A B B A (off on on off,
        then on off off on in the next run; the smoke run: A B): twcc_cost_ratio = the mean cycles
        per copy on / the mean off, which cancels a load that drifts linearly during the run. No receiver sends feedback here (the cost of
        feedback is the bwe scenario's): with bwe_no_feedback = "ceiling" both runs forward the same."""

        def stamped(mode, r):
            n = '%s_%s' % (name, mode)
            self.add(n + '_stamped_frac', self.lc(r, 'twcc_stamped') / r['dp']['copies'], extra=True)
            self.add(n + '_unstamped', self.lc(r, 'twcc_unstamped'), extra=True)
        ratio, r = self.abba(name, 'off', 'on', lambda mode: (self.BWE_CONF[mode], ['--twcc']), stamped)
        if not self.extra.get(name + '_on_stamped_frac', [0])[-1]:
            self.notes.append('twcc: no copy was stamped with bwe on (lcore twcc_stamped 0): the ratio '
                              'measures nothing')
            log('  (twcc: no copy stamped with bwe on)')
        self.add('twcc_cost_ratio', ratio)
        return r

    # issue 15: every scenario's publishers send far beyond real media (--max): policing stays on
    # (the default), its limits out of their reach, so every packet is metered and none policed
    POLICE_LIMITS = ''.join('police_%s_pps = 100000000;\npolice_%s_kbps = 1000000000;\n' % (k, k)
                            for k in ('audio', 'video', 'screen', 'rtcp'))
    POLICE_CONF = {'on': 'police = true;\n', 'off': 'police = false;\n'}

    def sc_police(self, name):
        """The plain mix with per-publisher policing on (every packet metered against its publisher's
        limits; POLICE_LIMITS: none exceeded) and off, in one run, as A B B A (off on on off, then on
        off off on in the next run; the smoke run: A B): police_cost_ratio = the mean cycles per copy
        on / the mean off. Both forward the same copies: a packet policed with it on is a fault."""

        def none_policed(mode, r):
            policed = r['dp'].get('drops', {}).get('policed', 0)
            if policed:
                raise BenchError('police %s: %d packets policed under limits out of reach' % (mode, policed))
        ratio, r = self.abba(name, 'off', 'on', lambda mode: (self.POLICE_CONF[mode], []), none_policed)
        self.add('police_cost_ratio', ratio)
        return r

    CSUM_CONF = {'on': 'verify_udp_checksum = true;\n', 'off': 'verify_udp_checksum = false;\n'}

    def sc_udpcsum(self, name):
        """(issue 15) The plain mix with UDP checksums on every generated packet (mmr-gen --udp-csum: real
        clients send them; mmr-gen's default 0 means "none" and is never summed) and the dataplane
        verifying them (`verify_udp_checksum = true`, the default: memif says UNKNOWN, so every datagram
        is summed in software) and not, in one run as A B B A (the smoke run: A B):
        udp_csum_cost_ratio = the mean cycles per copy on / the mean off."""

        def none_bad(mode, r):
            bad = r['dp'].get('drops', {}).get('udp_checksum', 0)
            if bad:
                raise BenchError('udpcsum %s: %d packets dropped as udp_checksum (mmr-gen --udp-csum wrong?)'
                                 % (mode, bad))
        ratio, r = self.abba(name, 'off', 'on', lambda mode: (self.CSUM_CONF[mode], ['--udp-csum']), none_bad)
        self.add('udp_csum_cost_ratio', ratio)
        return r

    def sc_neigh(self, name):
        """(issue 14) The plain mix with every copy's next-hop MAC read from the neighbour table (each
        port's gateway_ipv4, its MAC a static `neighbours` entry: every output holds the entry's index,
        and each copy loads and checks its published word, neigh.h) and from the port's static
        gateway_mac (the output's dst_mac, as before), in one run as A B B A (the smoke run: A B):
        neigh_cost_ratio = the mean cycles per copy table / static."""

        def setup(mode):
            self.next_hop = mode
            return '', []

        def none_unresolved(mode, r):
            n = r['dp'].get('drops', {}).get('neigh_unresolved', 0)
            if n:
                raise BenchError('neigh %s: %d copies dropped as neigh_unresolved (a static entry?)' % (mode, n))
        try:
            ratio, r = self.abba(name, 'static', 'table', setup, none_unresolved)
        finally:
            self.next_hop = 'static'
        self.add('neigh_cost_ratio', ratio)
        return r

    def sc_slots(self, name):
        """The plain mix with every video subscription a receive slot (issue 13; mmr-gen --video-slots:
        the receiver's slot subscription owns the selection state, the stream's subscription on it
        carries the slot's assignment number) against per-pair subscriptions, in one run as A B B A
        (pairs slots slots pairs, the next run slots pairs pairs slots; the smoke run: A B):
        slot_cost_ratio = the mean cycles per copy with slots / the mean with pairs. The copies are
        the same (the slot's SSRC is the stream's); the slot path adds the assignment check per copy
        and writes every copy's timestamp (a plain VP8 stream's copies otherwise keep it as it came)."""
        ratio, r = self.abba(name, 'pairs', 'slots',
                             lambda mode: ('', ['--video-slots'] if mode == 'slots' else []))
        self.add('slot_cost_ratio', ratio)
        return r

    BWE_FB_PER_S = 10          # feedbacks per receiver per second (what libwebrtc sends, about)
    BWE_MIX = ['--meetings', '50', '--participants', '10', '--video-pubs', '2', '--audio-pubs', '3']

    def sc_bwe(self, name):
        """The cost of receivers' transport-wide feedback while forwarding: meetings of 10 (2 VP8
        publishers at 1 Mbit/s, 3 Opus), real time, every receiver reached through port 0 (its copies
        come back to mmr-generator, which notes their transport-wide sequence numbers), bwe on; twice in
        one run (order alternating): receivers sending BWE_FB_PER_S feedbacks a second each (RR + TWCC
        built from what they received, mmr-gen --twcc-fb-per-s) and sending none.
        cycles per feedback = (busy cycles with feedback - cycles per copy without x copies with) /
        feedbacks; bwe_receivers_per_lcore = (TSC Hz - busy cycles per second without feedback) /
        (BWE_FB_PER_S x cycles per feedback): the receivers whose feedback the lcore's spare cycles
        at this forwarding load could take."""
        mix = ['--meetings', '6'] + self.BWE_MIX[2:] if self.smoke else self.BWE_MIX
        res = {}
        # the estimate starts above what a receiver gets (about 2.5 Mbit/s): the allocator keeps every
        # layer, so both runs forward the same copies and the difference is the feedback's
        conf = self.BWE_CONF['on'] + 'bwe_start_kbps = 20000;\nbwe_max_kbps = 50000;\n'
        modes = ('nofb', 'fb') if self.nrun % 2 else ('fb', 'nofb')
        for i, mode in enumerate(modes):
            if i:
                self.cleanup()
            n = '%s_%s' % (name, mode)
            self.dp_extra = conf
            fb = ['--twcc-fb-per-s', str(self.BWE_FB_PER_S)] if mode == 'fb' else ['--twcc']
            try:
                r = self.run_gen(n, ['--setup', 'ring', '--scale', '1'] + fb + mix + self.timing())
            finally:
                self.dp_extra = ''
            self.dp_note(n, r)
            d = r['dp']
            if d['copies'] == 0:
                raise BenchError('bwe %s: no copies (drops: %s)' % (mode, d.get('drops')))
            res[mode] = r
            self.add(n + '_cycles_per_copy', self.dp_cpc(r), extra=True)
            self.add(n + '_probe_loss', r['lost'], extra=True)
        a, b = res['nofb'], res['fb']
        da, db = a['dp'], b['dp']
        # iterations longer than 1 ms (the worker descheduled inside one) are left out of both runs,
        # as in the handoff scenario: at this light load one such iteration weighs more than the
        # feedback of a second
        busy = lambda d: d['busy_cycles'] - d.get('slow_cycles', 0)
        cpc_a = busy(da) / max(1, da['copies'] - da.get('slow_copies', 0))
        fbs = b.get('twcc_fb', {}).get('window_sent', 0)
        used = self.lc(b, 'bwe_feedback')
        if fbs == 0:
            raise BenchError('bwe: the receivers sent no feedback (see the generator log)')
        extra_cycles = busy(db) - cpc_a * (db['copies'] - db.get('slow_copies', 0))
        cpf = max(1.0, extra_cycles / fbs)
        hz = da['tsc_hz']
        spare = hz - busy(da) / da['window_s']
        self.add('bwe_cycles_per_feedback', cpf, extra=True)
        self.add('bwe_feedback_per_s', fbs / db['window_s'], extra=True)
        self.add('bwe_feedback_used_per_s', used / db['window_s'], extra=True)
        self.add('bwe_statuses_per_feedback', b['twcc_fb'].get('window_statuses', 0) / fbs, extra=True)
        self.add('bwe_alloc_runs_per_s', self.lc(b, 'alloc_runs') / db['window_s'], extra=True)
        self.add('bwe_busy_frac_nofb', busy(da) / (hz * da['window_s']), extra=True)
        self.add('bwe_paused_drops', db.get('drops', {}).get('paused', 0), extra=True)
        self.add('bwe_probe_pkts', self.lc(b, 'probe_pkts'), extra=True)
        self.add('bwe_slow_frac', (db.get('slow_cycles', 0) + da.get('slow_cycles', 0)) /
                 max(1, db['busy_cycles'] + da['busy_cycles']), extra=True)
        self.add('bwe_receivers_per_lcore', spare / (self.BWE_FB_PER_S * cpf))
        # the whole cost of a receiver like these (its copies and its feedback) on an lcore of its own
        copies_per_rx = da['copies'] / da['window_s'] / max(1, b['twcc_fb']['receivers'])
        self.add('bwe_receivers_per_lcore_with_copies',
                 hz / (copies_per_rx * cpc_a + self.BWE_FB_PER_S * cpf), extra=True)
        if used == 0:
            self.notes.append('bwe: the dataplane used no feedback (lcore bwe_feedback 0)')
        return b

    TOPN_MIX = ['--meetings', '1', '--participants', '500', '--video-pubs', '25', '--audio-pubs', '500',
                '--level-ext', '4', '--top-n', '3', '--sink-port', '1', '--probe-stride', '8']

    def sc_topn(self, name):
        """One meeting of 500: 25 VP8 publishers, every participant publishing Opus with the audio level
        extension (one talker at a time, mmr-gen --level-ext), top-3 audio (meeting create --top-n 3),
        as fast as possible: topn_meeting_copies_per_s from busy cycles."""
        r = self.run_gen(name, ['--setup', 'ring', '--max'] + self.TOPN_MIX + self.timing())
        self.dp_note(name, r)
        d = r['dp']
        if d['copies'] == 0:
            raise BenchError('topn: no copies (drops: %s)' % d.get('drops'))
        cpc = self.dp_cpc(r)
        self.add('topn_meeting_copies_per_s', d['tsc_hz'] / cpc)
        self.add('topn_cycles_per_copy', cpc, extra=True)
        self.add('topn_copies_per_rtp_pkt', d['copies'] / max(1, d['rtp_pkts']), extra=True)
        self.add('topn_speaker_runs', self.lc(r, 'speaker_runs'), extra=True)
        self.add('topn_gen_pps', r['tx_pps'], extra=True)
        # without top-N every receiver would get 499 audio streams: copies per audio packet say it
        self.add('topn_setup_s', r['setup']['seconds'], extra=True)
        return r

    MEET_PARTS = 10

    def meetings_args(self, n):
        return ['--setup', 'ctl', '--scale', '1', '--srtp', 'AEAD_AES_128_GCM', '--video', 'vp9',
                '--video-kbps', '1000', '--meetings', str(n), '--participants', str(self.MEET_PARTS),
                '--level-ext', '4', '--twcc-fb-per-s', str(self.BWE_FB_PER_S), '--sink-port', '1',
                '--probe-stride', '5', '--srtp-rx-every', '8'] + self.timing()

    def meetings_ok(self, r):
        """a run the lcore carried: the generator sent the nominal rate (the memif ring never stayed
        full), no loss on the probes, the worker under 95 % busy (from its short iterations)"""
        d = r['dp']
        busy = self.fast_cpc(d) * d['copies'] / d['window_s'] / d['tsc_hz']
        return r['lost'] == 0 and r['tx_pps'] >= 0.97 * r['nominal_pps'] and busy < 0.95

    def sc_meetings(self, name):
        """Ten-person SRTP meetings at real time: every participant publishes VP9 L3T3 at 1 Mbit/s and
        Opus with audio levels, receivers at mixed layer ceilings (the model's) with the allocator
        under them (bwe on), RTCP on (defaults), two receivers per meeting (probes, back to the
        generator) sending transport-wide feedback 10 times a second. A first run at 8 meetings gives
        the cycles one meeting costs (from the worker's iterations under 1 ms); then the lcore's
        estimate (90 % busy) is run, and on failure a bisection between the last carried and the
        first failed count, 4 runs at most. A run is carried when the generator sent the nominal
        rate (97 %: the MMR took everything), the probes lost nothing and the worker was under 95 %
        busy. meetings_per_lcore = the most meetings of a carried run."""
        self.dp_extra = self.BWE_CONF['on']
        try:
            n0 = 2 if self.smoke else 8
            r = self.run_gen(name + '_%d' % n0, self.meetings_args(n0), controller=True)
            self.dp_note(name, r)
            d = r['dp']
            # the cost of a copy from the iterations that were not descheduled (under 1 ms, as in
            # the bwe and handoff scenarios; at this load most iterations are short), times the
            # copies a meeting makes a second
            per_meeting = self.fast_cpc(d) * d['copies'] / d['window_s'] / n0
            self.add('meetings_cycles_per_s_per_meeting', per_meeting, extra=True)
            self.add('meetings_copies_per_s_per_meeting', d['copies'] / d['window_s'] / n0, extra=True)
            est = max(1, int(0.9 * d['tsc_hz'] / per_meeting))
            self.add('meetings_per_lcore_estimate', est, extra=True)
            best = n0 if self.meetings_ok(r) else 0
            lo, hi, n = best, None, est
            for step in range(0 if self.smoke else 4):      # the smoke run: the first run only
                self.cleanup()
                r = self.run_gen(name + '_%d' % n, self.meetings_args(n), controller=True)
                d = r['dp']
                ok = self.meetings_ok(r)
                busy = self.fast_cpc(d) * d['copies'] / d['window_s'] / d['tsc_hz']
                log('  meetings %d: sent %.0f %% of the nominal rate, probe loss %d, busy %.0f %% (%.0f %% with '
                    'descheduled iterations), stolen %.0f %%: %s' %
                    (n, 100 * r['tx_pps'] / max(1, r['nominal_pps']), r['lost'], 100 * busy, 100 * d['busy_frac'],
                     100 * d.get('stolen_frac', 0), 'ok' if ok else 'over'))
                self.notes.append('meetings run %d: %d meetings, sent %.3f of nominal, probe loss %d, busy %.3f '
                                  '(%.3f with descheduled iterations), stolen %.3f, paused copies %d' %
                                  (self.nrun, n, r['tx_pps'] / max(1, r['nominal_pps']), r['lost'], busy,
                                   d['busy_frac'], d.get('stolen_frac', 0), d.get('drops', {}).get('paused', 0)))
                if ok:
                    lo = best = max(best, n)
                else:
                    hi = n
                if hi is None:
                    break                     # the estimate holds
                n = (lo + hi) // 2            # bisection between the last good and the first bad
                if n <= lo:
                    break
            if best == 0 and self.smoke:
                best = est        # the smoke run checks the scenario runs, not the figure
                self.notes.append('meetings (smoke): the first run was not carried; the estimate stands in')
            self.add('meetings_per_lcore', best)
        finally:
            self.dp_extra = ''
        return r

    STUN_PER_S = 100000   # stun scenario: connectivity checks a second offered while forwarding

    def sc_stun(self, name):
        """Issue 13: ICE-lite checks answered by the worker lcore while it forwards. The plain mix as
        fast as possible with every participant holding ICE credentials, once without checks (A) and
        once with STUN_PER_S Binding requests a second from the participants' addresses (B: mmr-gen
        --stun-per-s, USERNAME, PRIORITY, ICE-CONTROLLING, MESSAGE-INTEGRITY, FINGERPRINT, as a browser
        sends them for consent), in one run. The lcore's cycles in B less B's copies at A's cost per
        copy are the checks' cost: stun_answers_per_s = TSC Hz / (those cycles / checks answered), what
        one worker lcore could answer if it did nothing else."""
        base = ['--setup', 'ctl', '--max'] + self.PLAIN_MIX + self.timing()
        # A: the credentials without checks (a rate under one check per run sends none)
        a = self.run_gen(name + '_off', base + ['--stun-per-s', '0.001'], controller=True)
        self.dp_note(name + '_off', a)
        self.cleanup()
        b = self.run_gen(name + '_on', base + ['--stun-per-s', str(self.STUN_PER_S)], controller=True)
        self.dp_note(name + '_on', b)
        da, db = a['dp'], b['dp']
        answered = self.lc(b, 'stun_answered')
        if da['copies'] == 0 or db['copies'] == 0 or answered == 0:
            raise BenchError('stun: no copies or no answers (drops: %s / %s, stun %s)'
                             % (da.get('drops'), db.get('drops'), b.get('stun')))
        cpc_a = self.dp_cpc(a)
        busy_b = db['busy_cycles_cpu'] if db.get('sched_ok') else db['busy_cycles']
        per_answer = (busy_b - db['copies'] * cpc_a) / answered
        if per_answer <= 0:
            raise BenchError('stun: the checks cost nothing measurable (%.0f cycles)' % per_answer)
        self.add('stun_answers_per_s', db['tsc_hz'] / per_answer)
        self.add('stun_cycles_per_answer', per_answer, extra=True)
        self.add('stun_answered_per_s_wall', answered / db['window_s'], extra=True)
        st = b.get('stun', {})
        self.add('stun_unanswered', st.get('sent', 0) - st.get('answered', 0), extra=True)
        self.add('stun_errors', st.get('window_errors', 0), extra=True)
        self.add('stun_plain_cycles_per_copy_off', cpc_a, extra=True)
        self.add('stun_forwarding_copies_per_s_on', db['copies'] / db['window_s'], extra=True)
        return b

    def sc_browserext(self, name):
        """Issue 13: the plain mix with today's extension block (transport-cc, abs-send-time: 12 bytes)
        and with a browser's set on every packet (mmr-gen --browser-ext: + mid, playout-delay,
        video-content-type, 20 bytes, what libwebrtc sends until the MMR's receiver reports name
        the SSRC), and the same with the participants negotiating that mid (--mid-ext: the
        dataplane blanks it, rtp_blank_ext, before the copies), in one run, the order reversed
        between runs: browser_ext_cost_ratio = cycles per copy with the browser set / without;
        mid_blank_cost_ratio = with the blanking / without."""
        cpc = {}
        modes = {'plain': [], 'browser': ['--browser-ext'], 'blank': ['--browser-ext', '--mid-ext']}
        order = ('plain', 'browser', 'blank') if self.nrun % 2 else ('blank', 'browser', 'plain')
        for i, mode in enumerate(order):
            if i:
                self.cleanup()
            n = '%s_%s' % (name, mode)
            r = self.run_gen(n, ['--setup', 'ctl', '--max'] + modes[mode] + self.PLAIN_MIX + self.timing(),
                             controller=True)
            self.dp_note(n, r)
            if r['dp']['copies'] == 0:
                raise BenchError('%s: no copies (drops: %s)' % (n, r['dp'].get('drops')))
            cpc[mode] = self.dp_cpc(r)
        self.add('plain_browser_ext_cycles_per_copy', cpc['browser'])
        self.add('browser_ext_plain_cycles_per_copy', cpc['plain'], extra=True)
        self.add('browser_ext_cost_ratio', cpc['browser'] / cpc['plain'])
        self.add('mid_blank_cost_ratio', cpc['blank'] / cpc['browser'])
        self.add('browser_ext_blank_cycles_per_copy', cpc['blank'], extra=True)
        return r

    def sc_joins(self, name):
        """Issue 13: joins end to end through the HTTP API (offer to media flowing) with a scripted
        client: scripts/bench_joins.py (its own controller and dataplane on a tap in a namespace), 80
        joins by 8 clients at once (the smoke run: 8 by 2)."""
        out = self.path(name + '.json')
        n, k = ('8', '2') if self.smoke else ('80', '8')
        cp = subprocess.run(['/usr/bin/python3', os.path.join(ROOT, 'scripts', 'bench_joins.py'), '--joins', n,
                             '--concurrency', k, '--json', out], capture_output=True, text=True, timeout=300)
        with open(self.logpath(name + '-joins'), 'w') as f:
            f.write(cp.stdout + cp.stderr)
        if cp.returncode != 0 or not os.path.exists(out):
            raise BenchError('joins: bench_joins.py failed (%d): %s' % (cp.returncode, (cp.stdout + cp.stderr)[-300:]))
        with open(out) as f:
            r = json.load(f)
        if r['failed']:
            raise BenchError('joins: %d of %d joins did not get media flowing: %s' % (r['failed'], r['joins'],
                                                                                      r['why_failed']))
        self.add('joins_per_s', r['joins_per_s'])
        for k2 in ('latency_p50_s', 'latency_p90_s', 'latency_max_s', 'answer_p50_s'):
            self.add('joins_' + k2, r[k2], extra=True)
        return r

    SCENARIOS = [('testpmd', 'sc_testpmd', 5), ('plain', 'sc_plain', 5), ('latency', 'sc_latency', 5),
                 ('srtp', 'sc_srtp', 5), ('scale', 'sc_scale', 3), ('updates', 'sc_updates', 5),
                 ('ctl', 'sc_ctl', 5),
                 ('svc', 'sc_svc', 5), ('handoff', 'sc_handoff', 3), ('rtcp', 'sc_rtcp', 5),
                 ('rtx', 'sc_rtx', 3), ('twcc', 'sc_twcc', 3), ('slots', 'sc_slots', 3), ('bwe', 'sc_bwe', 3),
                 ('topn', 'sc_topn', 3), ('meetings', 'sc_meetings', 1), ('stun', 'sc_stun', 3),
                 ('browserext', 'sc_browserext', 3), ('dtls', 'sc_dtls', 3),
                 ('joins', 'sc_joins', 3), ('police', 'sc_police', 5), ('udpcsum', 'sc_udpcsum', 3),
                 ('neigh', 'sc_neigh', 3)]

    def run(self):
        only = set(self.args.only.split(',')) if self.args.only else None
        failures = []
        for name, meth, full in self.SCENARIOS:
            # a scenario by its name or by one of its figures' (police_cost_ratio: police)
            if only and name not in only and not any(o.startswith(name + '_') for o in only):
                continue
            n = self.nruns(full)
            for i in range(n):
                log('%s run %d/%d' % (name, i + 1, n))
                t0 = time.monotonic()
                try:
                    self.run_once(name, getattr(self, meth))
                except (BenchError, subprocess.TimeoutExpired, OSError, KeyError, ValueError) as e:
                    failures.append('%s: %s' % (name, e))
                    log('  FAILED: %s' % e)
                    break
                log('  %.1f s' % (time.monotonic() - t0))
        return failures

    # ---- results ----------------------------------------------------------------------------------
    def result(self, failures):
        out = {}
        mins, maxs = {}, {}
        for k, vals in self.runs.items():
            out[k] = statistics.median(vals)
            mins[k], maxs[k] = min(vals), max(vals)
        extra = {k: statistics.median(v) for k, v in self.extra.items()}
        srtp, ossl = out.get('srtp_gcm_copies_per_s'), out.get('openssl_gcm_pkts_per_s')
        if srtp and ossl:
            extra['srtp_vs_openssl'] = srtp / ossl
        out['min'] = mins
        out['max'] = maxs
        out['runs'] = self.runs
        out['extra'] = extra
        out['extra_runs'] = self.extra
        out['meta'] = {
            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
            'smoke': self.smoke, 'commit': git_head(), 'cpus': os.cpu_count(),
            'cpu': cpu_model(), 'tsc_hz': self.hz, 'failures': failures,
            'layout': 'CPU %d: mmr-gen, dataplane main lcore, controller; CPU %d: dataplane worker lcore' %
                      (GEN_CPU, WORKER_CPU),
            'notes': self.notes,
        }
        return out

    def table(self, out):
        lines = ['', '%-30s %14s %14s %14s  %-9s %s' % ('figure (median of runs)', 'median', 'min', 'max', 'unit',
                                                        'goal')]
        for key, unit, goal, test in KEYS:
            if key not in out:
                lines.append('%-30s %14s' % (key, 'MISSING'))
                continue
            v = out[key]
            ok = ''
            if key == 'srtp_gcm_copies_per_s' and 'openssl_gcm_pkts_per_s' in out:
                ratio = v / out['openssl_gcm_pkts_per_s']
                goal = '%s (%.0f %%)' % (goal, 100 * ratio)
                ok = 'met' if ratio >= 0.8 else 'missed'
            elif test:
                ok = 'met' if test(v) else 'missed'
            lines.append('%-30s %14s %14s %14s  %-9s %s %s' % (key, fmt(v), fmt(out['min'][key]),
                                                             fmt(out['max'][key]), unit, goal, ok))
        ex = out['extra']
        lines.append('')
        lines.append('context: worker lcore stolen by other processes (median): %s; testpmd io %s cycles/pkt; '
                     'memif loop alone p50/p99 %s/%s us; controller updates %s/s' %
                     (', '.join('%s %.0f%%' % (k[:-12], 100 * v) for k, v in sorted(ex.items())
                                if k.endswith('_stolen_frac')),
                      fmt(ex.get('testpmd_cycles_per_pkt')), fmt(ex.get('latency_memif_loop_p50_us')),
                      fmt(ex.get('latency_memif_loop_p99_us')), fmt(ex.get('updates_ctl_per_s'))))
        return '\n'.join(lines)


def fmt(v):
    if v is None:
        return '-'
    if isinstance(v, float) and abs(v) >= 1e6:
        return '%.3g M' % (v / 1e6)
    if isinstance(v, float) and abs(v) >= 1e4:
        return '%.0f' % v
    if isinstance(v, float):
        return '%.3g' % v
    return str(v)


def find_thread(pid, prefix):
    for _ in range(50):
        try:
            for t in os.listdir('/proc/%d/task' % pid):
                with open('/proc/%d/task/%s/comm' % (pid, t)) as f:
                    if f.read().startswith(prefix):
                        return int(t)
        except OSError:
            pass
        time.sleep(0.1)
    return None


def schedstat(pid, tid):
    if tid is None:
        return None
    try:
        with open('/proc/%d/task/%d/schedstat' % (pid, tid)) as f:
            run, wait, _ = (int(x) for x in f.read().split())
            return run, wait
    except (OSError, ValueError):
        return None


def proc_memory(pid):
    """Bytes the process uses: resident memory plus its hugepages."""
    total = 0
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(('VmRSS:', 'HugetlbPages:')):
                total += int(line.split()[1]) * 1024
    return total


def fdatasync_latency(path, n=200):
    """(p50, p99) microseconds of a 100-byte append + fdatasync at path, one per millisecond."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    ts = []
    try:
        for _ in range(n):
            os.write(fd, b'x' * 100)
            t = time.perf_counter()
            os.fdatasync(fd)
            ts.append((time.perf_counter() - t) * 1e6)
            time.sleep(0.001)
    finally:
        os.close(fd)
        os.unlink(path)
    ts.sort()
    return ts[n // 2], ts[int(n * 0.99)]


def tsc_hz_guess():
    with open('/proc/cpuinfo') as f:
        m = re.search(r'cpu MHz\s*:\s*([\d.]+)', f.read())
    return float(m.group(1)) * 1e6 if m else 2.6e9


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            m = re.search(r'model name\s*:\s*(.*)', f.read())
        return m.group(1).strip() if m else ''
    except OSError:
        return ''


def git_head():
    cp = subprocess.run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True)
    return cp.stdout.strip() if cp.returncode == 0 else ''


def preflight():
    if os.geteuid() != 0:
        raise BenchError('needs root (hugepages, DPDK)')
    for b in (GEN, DP, CTL, MMRCTL):
        if not os.access(b, os.X_OK):
            raise BenchError('%s not built (make progs)' % b)
    if not shutil.which('dpdk-testpmd'):
        raise BenchError('dpdk-testpmd not found (apt-get install dpdk)')
    if (os.cpu_count() or 1) < 2:
        raise BenchError('needs 2 CPUs (generator and dataplane worker on different cores)')
    subprocess.run([os.path.join(ROOT, 'scripts', 'hugepages.sh')], stdout=subprocess.DEVNULL)
    with open('/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages') as f:
        free = int(f.read())
    if free < 400:
        raise BenchError('only %d free 2 MiB hugepages (need about 400)' % free)


def main():
    ap = argparse.ArgumentParser(description='MMR benchmarks (see the module comment)')
    ap.add_argument('--smoke', action='store_true', help='each scenario once, briefly; check the keys')
    ap.add_argument('--runs', type=int, default=0, help='runs per scenario (default 5, scale 3)')
    ap.add_argument('--only', default='', help='comma-separated scenarios: ' +
                    ','.join(s[0] for s in Bench.SCENARIOS))
    ap.add_argument('--out', default=os.path.join(BUILD, 'bench.json'))
    args = ap.parse_args()
    t0 = time.monotonic()
    try:
        preflight()
    except BenchError as e:
        log(str(e))
        return 2
    b = Bench(args)

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        failures = b.run()
    except KeyboardInterrupt:
        b.cleanup()
        log('interrupted')
        return 130
    finally:
        b.cleanup()
        shutil.rmtree(b.tmp, ignore_errors=True)
    out = b.result(failures)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1, sort_keys=False)
        f.write('\n')
    print(b.table(out))
    print('\n%s written in %.0f s (logs in %s)' % (os.path.relpath(args.out), time.monotonic() - t0,
                                                   os.path.relpath(b.logdir)))
    missing = [k for k, _, _, _ in KEYS if k not in out]
    if failures:
        print('failed: ' + '; '.join(failures))
    if missing:
        print('missing keys: ' + ', '.join(missing))
    return 1 if (failures or missing) else 0


if __name__ == '__main__':
    sys.exit(main())
