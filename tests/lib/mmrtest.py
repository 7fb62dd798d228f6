"""
mmrtest.py - the integration-test harness: runs the real mmr-dataplane and mmr-controller on a DPDK
virtual device inside a network namespace of the test's own, and gives the test mmrctl, counters,
UDP sockets on the "client" side and process kill/restart.

    with MmrEnv('fwd') as env:            # netns mmrt-fwd-<pid>, dataplane on net_tap0 (iface mmr0)
        env.ctl('meeting', 'create', 'm1', '--plain')
        s = env.udp_socket(6000)          # bound to CLIENT_IP:6000 inside the namespace
        env.send(s, rtp_bytes)            # to MMR_IP:MMR_PORT
        got = env.recv_all(s, 0.5)

Layout on the wire: the kernel side of the tap is CLIENT_IP (198.51.100.1, MAC TAP_MAC), the
dataplane is MMR_IP (198.51.100.2, MAC DP_MAC) on UDP port MMR_PORT; every participant of a test is
198.51.100.1 with a port of its own. Only 198.51.100.0/24 and 2001:db8::/32 are used, inside the
namespace only.

The process enters the namespace itself (setns through ctypes, as Python 3.11 has no os.setns), so
every socket and subprocess made after start() lives there. Run under /usr/bin/python3 as root.
Python standard library only.

Virtual devices: vdev='tap' (default) or vdev='pcap'. With pcap the dataplane reads rx_pcap from a
FIFO the harness owns: the pcap PMD opens it while the EAL probes (the harness writes the pcap file
header then), and gets the test's packets only when the test calls pcap_feed(); pcap_close_input()
gives it end-of-file. So a test starts everything, programs the tables, then feeds the packets: no
sleeps, no race with the controller's sync. Until then the harness keeps the RX burst returning with
filler frames the dataplane drops as bad_l2 (see _PcapFeeder; counted in env.pcap_fillers). Output
goes to a plain pcap file, read with pcap_output().
"""

import ctypes
import errno
import json as jsonlib
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

MMR_IP = '198.51.100.2'
CLIENT_IP = '198.51.100.1'
MMR_IP6 = '2001:db8:100::2'
CLIENT_IP6 = '2001:db8:100::1'
MMR_PORT = 5000
TAP_MAC = '02:00:00:00:01:01'   # kernel side of the tap; the dataplane's gateway_mac
DP_MAC = '02:00:00:00:01:02'    # the dataplane's port (tap; set through its config)
PCAP_DP_MAC = '02:70:63:61:70:00'  # net_pcap0's own MAC (the PMD cannot change it): env.dp_mac
TAP_IFACE = 'mmr0'

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, 'setns: ' + os.strerror(e))


def _die_with_parent():
    # runs in the child between fork and exec: if the test process dies, take the daemons with it
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def fixture_realtime(prio):
    """The calling thread (and the threads it starts after) on SCHED_FIFO at prio, not passed on to
    processes it forks: for a test's own network (a shaper's clock) and clients (a sender's pacing),
    whose timing a busy 2-CPU machine would otherwise bend: the dataplane's lcore polls one CPU
    flat out. They sleep between packets, so the MMR keeps the CPU they leave. Returns False where
    the kernel refuses (no CAP_SYS_NICE): the test then runs at normal priority."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, os.sched_param(prio))
        return True
    except (PermissionError, OSError, AttributeError):
        return False


def hugepages_usable(need=256):
    """Enough free 2 MiB hugepages (and hugetlbfs mounted) for an --in-memory EAL?"""
    try:
        with open('/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages') as f:
            free = int(f.read())
        with open('/proc/mounts') as f:
            mounted = any(l.split()[2] == 'hugetlbfs' for l in f if len(l.split()) > 2)
    except OSError:
        return False
    return free >= need and mounted


def cleanup_stale():
    """Remove netns and shm segments left by test processes that died without cleaning up."""
    try:
        names = os.listdir('/run/netns')
    except OSError:
        names = []
    for n in names:
        if n.startswith('mmrt-'):
            try:
                pid = int(n.rsplit('-', 1)[1])
            except ValueError:
                continue
            if not _pid_alive(pid):
                subprocess.run(['ip', 'netns', 'del', n], stderr=subprocess.DEVNULL)
    try:
        names = os.listdir('/dev/shm')
    except OSError:
        names = []
    for n in names:
        if n.startswith('mmrt-'):
            try:
                pid = int(n.rsplit('-', 1)[1])
            except ValueError:
                continue
            if not _pid_alive(pid):
                try:
                    os.unlink('/dev/shm/' + n)
                except OSError:
                    pass
    try:
        names = os.listdir('/var/run/dpdk')
    except OSError:
        names = []
    for n in names:     # EAL runtime dirs of our --file-prefix
        if n.startswith('mmrt-'):
            try:
                pid = int(n.rsplit('-', 1)[1])
            except ValueError:
                continue
            if not _pid_alive(pid):
                shutil.rmtree('/var/run/dpdk/' + n, ignore_errors=True)
                remove_hugepage_files(n)
    for m in ('/dev/hugepages',):   # hugepage files whose runtime dir went already
        try:
            names = os.listdir(m)
        except OSError:
            names = []
        for n in names:
            if n.startswith('mmrt-') and 'map_' in n:
                try:
                    pid = int(n.split('map_')[0].rsplit('-', 1)[1])
                except ValueError:
                    continue
                if not _pid_alive(pid):
                    try:
                        os.unlink(os.path.join(m, n))
                    except OSError:
                        pass


def remove_hugepage_files(prefix):
    """A primary EAL's hugepage files (<prefix>map_N in every hugetlbfs mount): they stay after it
    exits unless --in-memory."""
    try:
        with open('/proc/mounts') as f:
            mounts = [l.split()[1] for l in f if len(l.split()) > 2 and l.split()[2] == 'hugetlbfs']
    except OSError:
        mounts = []
    for m in mounts:
        try:
            names = os.listdir(m)
        except OSError:
            continue
        for n in names:
            if n.startswith(prefix + 'map_'):
                try:
                    os.unlink(os.path.join(m, n))
                except OSError:
                    pass


class HarnessError(Exception):
    pass


class CtlError(HarnessError):
    def __init__(self, args, cp):
        self.cp = cp
        super().__init__('mmrctl %s: exit %d: %s' % (' '.join(args), cp.returncode,
                                                     (cp.stderr or '').strip()))


# ---- pcap files (classic libpcap format, Ethernet) -----------------------------------------------

PCAP_GLOBAL_HDR = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)


def pcap_record(frame, t=0.0):
    sec = int(t)
    usec = int((t - sec) * 1e6)
    return struct.pack('<IIII', sec, usec, len(frame), len(frame)) + bytes(frame)


def write_pcap(path, frames):
    with open(path, 'wb') as f:
        f.write(PCAP_GLOBAL_HDR)
        for i, fr in enumerate(frames):
            f.write(pcap_record(fr, i * 0.001))


def read_pcap(path, with_ts=False):
    """Frames of a classic pcap file (either byte order, us or ns). A truncated last record is ignored.
    with_ts: (timestamp in ns, frame) pairs."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack_from('<I', data, 0)[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = '<'
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        e = '>'
    else:
        raise HarnessError('%s: not a pcap file' % path)
    sub = 1 if magic in (0xa1b23c4d, 0x4d3cb2a1) else 1000    # ns or us
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from(e + 'IIII', data, off)
        off += 16
        if off + incl > len(data):
            break
        fr = data[off:off + incl]
        out.append((sec * 1000000000 + frac * sub, fr) if with_ts else fr)
        off += incl
    return out


# ---- Ethernet/IP/UDP frames (for pcap tests and raw checks) -----------------------------------------

def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(':'))


def ip_checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def udp_frame(payload, src_ip=CLIENT_IP, dst_ip=MMR_IP, sport=6000, dport=MMR_PORT,
              src_mac=TAP_MAC, dst_mac=DP_MAC, ttl=64, ip_id=0, udp_csum=True):
    """An Ethernet + IPv4 + UDP frame with correct checksums."""
    payload = bytes(payload)
    ulen = 8 + len(payload)
    sip, dip = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    iph = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + ulen, ip_id, 0x4000, ttl, 17, 0, sip, dip)
    iph = iph[:10] + struct.pack('!H', ip_checksum(iph)) + iph[12:]
    udph = struct.pack('!HHHH', sport, dport, ulen, 0)
    if udp_csum:
        pseudo = sip + dip + struct.pack('!BBH', 0, 17, ulen)
        c = ip_checksum(pseudo + udph + payload) or 0xffff
        udph = udph[:6] + struct.pack('!H', c)
    eth = mac_bytes(dst_mac) + mac_bytes(src_mac) + b'\x08\x00'
    return eth + iph + udph + payload


def parse_udp_frame(frame):
    """(dict of L2/L3/L4 fields, payload) of an Ethernet/IPv4/UDP frame, or None if it is not one.
    Checks the IPv4 header checksum and the UDP checksum (0 allowed) and reports them."""
    if len(frame) < 42:
        return None
    dst, src, et = frame[0:6], frame[6:12], struct.unpack_from('!H', frame, 12)[0]
    off = 14
    while et in (0x8100, 0x88a8) and len(frame) >= off + 4:
        et = struct.unpack_from('!H', frame, off + 2)[0]
        off += 4
    if et != 0x0800:
        return None
    vihl = frame[off]
    ihl = (vihl & 0x0f) * 4
    if vihl >> 4 != 4 or len(frame) < off + ihl + 8:
        return None
    total, ttl, proto = struct.unpack_from('!H', frame, off + 2)[0], frame[off + 8], frame[off + 9]
    if proto != 17:
        return None
    iph = frame[off:off + ihl]
    sip, dip = frame[off + 12:off + 16], frame[off + 16:off + 20]
    u = off + ihl
    sport, dport, ulen, ucsum = struct.unpack_from('!HHHH', frame, u)
    payload = frame[u + 8:u + ulen]
    ok_udp = True
    if ucsum:
        pseudo = sip + dip + struct.pack('!BBH', 0, 17, ulen)
        ok_udp = ip_checksum(pseudo + frame[u:u + ulen]) == 0
    info = {
        'dst_mac': ':'.join('%02x' % b for b in dst), 'src_mac': ':'.join('%02x' % b for b in src),
        'src_ip': socket.inet_ntoa(sip), 'dst_ip': socket.inet_ntoa(dip), 'sport': sport,
        'dport': dport, 'ttl': ttl, 'ip_total_len': total, 'udp_len': ulen,
        'ip_csum_ok': ip_checksum(bytes(iph)) == 0, 'udp_csum_ok': ok_udp, 'udp_csum': ucsum,
    }
    return info, bytes(payload)


# ---- the environment --------------------------------------------------------------------------------

class MmrEnv:
    """One dataplane + one controller in a network namespace of their own. See the module comment."""

    def __init__(self, name, build='build', workers=1, extra_eal=(), asan=False, vdev='tap',
                 ipv6=False, static_neigh=False, mbufs=8191, status_interval_ms=1000,
                 apply_timeout_ms=None, ready_timeout=30.0, controller=True, pcap_queues=1, rtcp=True,
                 attachable=True):
        self.name = name
        self.pid = os.getpid()
        self.build = os.path.join(ROOT, 'build-asan' if asan else build)
        self.asan = asan
        self.workers = workers
        self.extra_eal = list(extra_eal)
        self.vdev = vdev
        self.pcap_queues = pcap_queues   # vdev='pcap': one rx FIFO and one tx file per queue
        self.ipv6 = ipv6
        self.static_neigh = static_neigh
        self.mbufs = mbufs
        self.status_interval_ms = status_interval_ms
        self.apply_timeout_ms = apply_timeout_ms or (3000 if asan else 1000)
        self.ready_timeout = ready_timeout * (2 if asan else 1)
        self.netns = 'mmrt-%s-%d' % (name, self.pid)
        self.shm_name = '/mmrt-%s-%d' % (name, self.pid)
        self.logdir = os.path.join(ROOT, 'build', 'test-logs', name)
        self.tmp = None
        self.ledger_path = None      # the SRTP ledger (in tmp unless set before start)
        self.extra_dp_conf = ''       # more dataplane.conf lines (set before start)
        # policing (issue 15) stays on, its limits out of reach of the tests' synthetic streams (audio
        # at 300-400 packets/s, bursts as fast as Python sends); '' for the dataplane's defaults
        self.police_conf = POLICE_TEST_LIMITS
        self.vlan = None              # a VLAN id: the port's `vlan` (set before start). The kernel side
                                      # stays untagged (this kernel may lack 8021q): such a test talks
                                      # to the dataplane with raw tagged frames only
        self.extra_ctl_conf = ''      # more controller.conf lines (set before start)
        # the port's next hop (set before start): the static gateway_mac, or e.g. gateway_ipv4 =
        # "..."; (the dataplane resolves it: test_neigh.py)
        self.gateway_conf = 'gateway_mac = "%s";' % TAP_MAC
        if not rtcp:                  # the dataplane counts RTCP as drop `rtcp` and sends none
            self.extra_dp_conf = 'rtcp = false;\n'
        self.dp = None
        self.ctl_proc = None
        self.dp_starts = 0
        self.ctl_starts = 0
        self._orig_ns = None
        self._in_ns = False
        self._fifo_fd = None
        self._fifo_fds = {}              # queue -> fd (pcap_queues > 1: every queue's FIFO)
        self._feeders = {}
        self._fillers_done = 0
        self.stop_problems = []          # what stop() found wrong: unclean exits, sanitizer reports
        self.stop_problems_checked = False
        # MMR_TEST_NO_HUGE=1 forces the --no-huge fallback (what a machine without hugepages gets)
        self.use_huge = hugepages_usable() and os.environ.get('MMR_TEST_NO_HUGE', '') != '1'
        self.dp_mac = PCAP_DP_MAC if vdev == 'pcap' else DP_MAC
        self.with_controller = controller
        # attachable (the default where hugepages are usable): the dataplane is a primary process with its --file-prefix (the shm name) and
        # no --in-memory, so dpdk-proc-info and dpdk-dumpcap attach; its hugepage files
        # (/dev/hugepages/<prefix>map_*) are removed by stop() and cleanup_stale()
        self.attachable = attachable and self.use_huge
        for b in ('mmr-dataplane', 'mmr-controller', 'mmrctl') if controller else ('mmr-dataplane',):
            if not os.access(os.path.join(self.build, b), os.X_OK):
                raise HarnessError('%s not built (run make%s)' % (os.path.join(self.build, b),
                                                                  ' asan' if asan else ''))
        self.dp_bin = os.path.join(self.build, 'mmr-dataplane')
        self.ctl_bin = os.path.join(self.build, 'mmr-controller')
        self.mmrctl_bin = os.path.join(self.build, 'mmrctl')

    # -- context manager --
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        if exc_type is None and self.stop_problems:
            raise HarnessError('at stop: ' + '; '.join(self.stop_problems))
        return False

    # -- paths --
    @property
    def dp_log(self):
        return os.path.join(self.logdir, 'dataplane.log')

    @property
    def ctl_log(self):
        return os.path.join(self.logdir, 'controller.log')

    @property
    def socket_path(self):
        return os.path.join(self.tmp, 'mmr.sock')

    @property
    def state_file(self):
        return os.path.join(self.tmp, 'state')

    @property
    def pcap_in(self):
        return os.path.join(self.tmp, 'in.pcap')

    @property
    def pcap_out(self):
        return os.path.join(self.tmp, 'out.pcap')

    def pcap_in_q(self, q):
        """Queue q's rx FIFO (queue 0: pcap_in)."""
        return self.pcap_in if q == 0 else os.path.join(self.tmp, 'in_q%d.pcap' % q)

    def pcap_out_q(self, q):
        """What queue q sent (queue 0: pcap_out)."""
        return self.pcap_out if q == 0 else os.path.join(self.tmp, 'out_q%d.pcap' % q)

    # -- lifecycle --
    def start(self):
        if os.geteuid() != 0:
            raise HarnessError('the integration tests need root (network namespaces, DPDK)')
        cleanup_stale()
        shutil.rmtree(self.logdir, ignore_errors=True)
        os.makedirs(self.logdir, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix='mmrt-%s-' % self.name)
        if not self.ledger_path:
            self.ledger_path = os.path.join(self.tmp, 'srtp-ledger')
        self._enter_netns()
        self._write_configs()
        self.start_dataplane()
        if self.with_controller:
            self.start_controller()
        return self

    def stop(self):
        """Stop both processes (TERM, then KILL), leave the namespace and delete it, remove the
        temp dir and the shm segment. Logs stay in build/test-logs/<name>/. Safe to call twice."""
        self.pcap_close_input()
        for attr, what in (('ctl_proc', 'mmr-controller'), ('dp', 'mmr-dataplane')):
            p = getattr(self, attr)
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    rc = p.wait(10 if self.asan else 5)
                    if rc != 0:
                        self.stop_problems.append('%s exited with status %d on SIGTERM' % (what, rc))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                    self.stop_problems.append('%s did not stop within %d s of SIGTERM' %
                                              (what, 10 if self.asan else 5))
        errs = self.sanitizer_errors()
        if errs and not self.stop_problems_checked:
            self.stop_problems.append('sanitizer report: ' + errs[0])
        self.stop_problems_checked = True
        for q in range(self.pcap_queues if self.vdev == 'pcap' and self.tmp else 0):
            if os.path.exists(self.pcap_out_q(q)):
                try:
                    shutil.copy(self.pcap_out_q(q), os.path.join(self.logdir, os.path.basename(self.pcap_out_q(q))))
                except OSError:
                    pass
        try:
            os.unlink('/dev/shm' + self.shm_name)
        except OSError:
            pass
        shutil.rmtree('/var/run/dpdk/' + self.shm_name.lstrip('/'), ignore_errors=True)
        remove_hugepage_files(self.shm_name.lstrip('/'))
        self._leave_netns()
        if self.tmp:
            for f in ('dataplane.conf', 'controller.conf', 'state', 'state.journal'):
                try:
                    shutil.copy(os.path.join(self.tmp, f), os.path.join(self.logdir, f))
                except OSError:
                    pass
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def _enter_netns(self):
        subprocess.run(['ip', 'netns', 'del', self.netns], stderr=subprocess.DEVNULL)
        self._run(['ip', 'netns', 'add', self.netns])
        self._orig_ns = os.open('/proc/thread-self/ns/net', os.O_RDONLY)
        fd = os.open('/run/netns/' + self.netns, os.O_RDONLY)
        try:
            _setns(fd)
        finally:
            os.close(fd)
        self._in_ns = True
        self._run(['ip', 'link', 'set', 'lo', 'up'])
        # no IPv6 on new interfaces unless asked: no router solicitations or NDP noise on the tap
        v6off = '0' if self.ipv6 else '1'
        for k in ('all', 'default'):
            self._sysctl('net/ipv6/conf/%s/disable_ipv6' % k, v6off)

    def _leave_netns(self):
        if self._in_ns and self._orig_ns is not None:
            try:
                _setns(self._orig_ns)
            except OSError:
                pass
            self._in_ns = False
        if self._orig_ns is not None:
            os.close(self._orig_ns)
            self._orig_ns = None
            subprocess.run(['ip', 'netns', 'del', self.netns], stderr=subprocess.DEVNULL)

    # -- configs --
    def eal_args(self):
        ncpu = os.cpu_count() or 1
        if self.workers + 1 <= ncpu:
            lc = ['-l', ','.join(str(i) for i in range(self.workers + 1))]
        else:
            # more lcores than CPUs (tests on a small machine): map them onto the CPUs we have
            lc = ['--lcores', ','.join('%d@%d' % (i, i % ncpu) for i in range(self.workers + 1))]
        if self.attachable:
            mem = []
        else:
            mem = ['--in-memory'] if self.use_huge else ['--no-huge', '-m', '1024', '--no-shconf']
        if self.vdev == 'tap':
            vdev = '--vdev=net_tap0,iface=%s' % TAP_IFACE
        elif self.vdev == 'pcap':
            # one RX and one TX queue per rx_pcap / tx_pcap pair: queue q reads FIFO q
            vdev = '--vdev=net_pcap0,' + ','.join(
                ['rx_pcap=%s' % self.pcap_in_q(q) for q in range(self.pcap_queues)] +
                ['tx_pcap=%s' % self.pcap_out_q(q) for q in range(self.pcap_queues)])
        else:
            vdev = self.vdev   # a full --vdev=... argument of the caller's
        return lc + ['--no-pci', '--file-prefix', self.shm_name.lstrip('/')] + mem + [vdev] + \
            ['--log-level', 'lib.eal:notice'] + self.extra_eal

    def _write_configs(self):
        eal = ', '.join('"%s"' % a for a in self.eal_args())
        v6 = '\n    ipv6 = "%s";' % MMR_IP6 if self.ipv6 else ''
        mac = '' if self.vdev == 'pcap' else '\n    mac = "%s";' % self.dp_mac
        if self.vlan:
            mac += '\n    vlan = %d;' % self.vlan
        dp = ('# written by tests/lib/mmrtest.py for test %s\n'
              'shm_name = "%s";\neal = [ %s ];\nmbufs = %d;\nudp_port = %d;\n'
              'ports = (\n  { ipv4 = "%s";%s\n    %s%s\n  }\n);\n'
              'status_interval_ms = %d;\nsrtp_ledger = "%s";\n'
              % (self.name, self.shm_name, eal, self.mbufs, MMR_PORT, MMR_IP, v6, self.gateway_conf, mac,
                 self.status_interval_ms, self.ledger_path))
        dp += self.police_conf + self.extra_dp_conf
        with open(os.path.join(self.tmp, 'dataplane.conf'), 'w') as f:
            f.write(dp)
        ctl = ('# written by tests/lib/mmrtest.py for test %s\n'
               'socket = "%s";\nsocket_group = "";\nstate_file = "%s";\nshm_name = "%s";\n'
               'apply_timeout_ms = %d;\n' % (self.name, self.socket_path, self.state_file,
                                             self.shm_name, self.apply_timeout_ms))
        ctl += self.extra_ctl_conf
        with open(os.path.join(self.tmp, 'controller.conf'), 'w') as f:
            f.write(ctl)

    def _env(self, leaks=False):
        env = dict(os.environ)
        env['MMR_SOCKET'] = self.socket_path
        # the dataplane's EAL keeps memory at exit that LSan would report; the controller (and mmrctl)
        # must free everything. A real ASan error aborts either way.
        env['ASAN_OPTIONS'] = 'detect_leaks=%d:abort_on_error=0:halt_on_error=1:print_summary=1' % leaks
        return env

    def _spawn(self, argv, log_path, banner, leaks=False):
        with open(log_path, 'ab') as log:
            log.write(('=== mmrtest: %s: %s (t=%.3f)\n' % (banner, ' '.join(argv), time.time())).encode())
            log.flush()
            offset = log.tell()
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 env=self._env(leaks), preexec_fn=_die_with_parent, cwd=self.tmp)
        return p, offset

    def _wait_line(self, proc, log_path, offset, text, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            with open(log_path, 'rb') as f:
                f.seek(offset)
                if text.encode() in f.read():
                    return
            if proc.poll() is not None:
                raise HarnessError('%s exited (status %s) before "%s"; last log lines:\n%s' %
                                   (what, proc.returncode, text, self.tail(log_path)))
            if time.monotonic() > deadline:
                raise HarnessError('%s: no "%s" within %.0f s; last log lines:\n%s' %
                                   (what, text, timeout, self.tail(log_path)))
            if self.vdev == 'pcap' and self._fifo_fd is None:
                self._open_pcap_fifo()
            time.sleep(0.02)

    @staticmethod
    def tail(path, n=30):
        try:
            with open(path, 'rb') as f:
                lines = f.read().decode(errors='replace').splitlines()
        except OSError:
            return '(no log)'
        return '\n'.join('    ' + l for l in lines[-n:])

    # -- dataplane --
    def start_dataplane(self):
        if self.dp is not None and self.dp.poll() is None:
            raise HarnessError('dataplane already running')
        if self.vdev == 'pcap':
            self._make_pcap_fifo()
        self.dp_starts += 1
        self.dp, off = self._spawn([self.dp_bin, '-c', os.path.join(self.tmp, 'dataplane.conf')],
                                   self.dp_log, 'dataplane start #%d' % self.dp_starts)
        self._wait_line(self.dp, self.dp_log, off, 'MMR-DATAPLANE READY', self.ready_timeout,
                        'mmr-dataplane')
        if self.vdev == 'tap':
            self.configure_tap()

    def kill_dataplane(self, sig=signal.SIGKILL):
        if self.dp is not None and self.dp.poll() is None:
            self.dp.send_signal(sig)
            try:
                self.dp.wait(15)
            except subprocess.TimeoutExpired:
                self.dp.kill()
                self.dp.wait()
        self.pcap_close_input()

    def configure_tap(self):
        """Kernel side of the tap: TAP_MAC, CLIENT_IP/24 (and CLIENT_IP6/64), up, deep TX queue."""
        ifc = TAP_IFACE
        if not self.ipv6:
            self._sysctl('net/ipv6/conf/%s/disable_ipv6' % ifc, '1')
        self._run(['ip', 'link', 'set', ifc, 'address', TAP_MAC])
        self._run(['ip', 'link', 'set', ifc, 'txqueuelen', '10000'])
        self._run(['ip', 'addr', 'replace', CLIENT_IP + '/24', 'dev', ifc])
        if self.ipv6:
            self._sysctl('net/ipv6/conf/%s/accept_dad' % ifc, '0')
            self._run(['ip', '-6', 'addr', 'replace', CLIENT_IP6 + '/64', 'dev', ifc, 'nodad'])
        self._run(['ip', 'link', 'set', ifc, 'up'])
        if self.static_neigh:
            self._run(['ip', 'neigh', 'replace', MMR_IP, 'lladdr', DP_MAC, 'dev', ifc, 'nud',
                       'permanent'])
            if self.ipv6:
                self._run(['ip', '-6', 'neigh', 'replace', MMR_IP6, 'lladdr', DP_MAC, 'dev', ifc,
                           'nud', 'permanent'])
        if self.vlan:
            time.sleep(1.5)   # no untagged ping to wait for (the port takes VLAN self.vlan only): linkwatch
            return
        self.wait_tap_usable()

    def wait_tap_usable(self, timeout=10.0):
        """Ping the dataplane until it answers. A new tap's kernel side may hold its qdisc
        deactivated for up to a second after it comes up (linkwatch): packets sent then sit behind
        an unresolved ARP entry whose queue keeps only the last ~100 of them. Tests must not start
        before the path works, so start_dataplane() waits here (ARP resolved, ICMP echo answered)."""
        deadline = time.monotonic() + timeout
        while True:
            cp = subprocess.run(['ping', '-n', '-q', '-c', '1', '-W', '0.3', MMR_IP],
                                capture_output=True, text=True)
            if cp.returncode == 0:
                return
            if self.dp is not None and self.dp.poll() is not None:
                raise HarnessError('mmr-dataplane died while the tap came up; last log lines:\n%s' %
                                   self.tail(self.dp_log))
            if time.monotonic() > deadline:
                raise HarnessError('the dataplane does not answer ping %s within %.0f s (ARP/ICMP or '
                                   'the tap are broken): %s; last log lines:\n%s' %
                                   (MMR_IP, timeout, (cp.stdout + cp.stderr).strip()[-200:],
                                    self.tail(self.dp_log)))

    # -- controller --
    def start_controller(self, *extra_args):
        """Start mmr-controller (extra_args: more command-line options, e.g. '--take-over')."""
        if self.ctl_proc is not None and self.ctl_proc.poll() is None:
            raise HarnessError('controller already running')
        self.ctl_starts += 1
        self.ctl_proc, off = self._spawn([self.ctl_bin, '-c', os.path.join(self.tmp, 'controller.conf')] +
                                         list(extra_args),
                                         self.ctl_log, 'controller start #%d' % self.ctl_starts, leaks=True)
        self._wait_line(self.ctl_proc, self.ctl_log, off, 'MMR-CONTROLLER READY', self.ready_timeout,
                        'mmr-controller')

    def kill_controller(self, sig=signal.SIGKILL):
        if self.ctl_proc is not None and self.ctl_proc.poll() is None:
            self.ctl_proc.send_signal(sig)
            try:
                self.ctl_proc.wait(15)
            except subprocess.TimeoutExpired:
                self.ctl_proc.kill()
                self.ctl_proc.wait()

    def alive(self):
        """(dataplane running, controller running)"""
        return (self.dp is not None and self.dp.poll() is None,
                self.ctl_proc is not None and self.ctl_proc.poll() is None)

    # -- mmrctl --
    def ctl(self, *args, json=False, check=True, timeout=20):
        """Run mmrctl. Returns the CompletedProcess; with json=True its stdout is the parsed JSON
        (raw text in .raw_stdout). check=True raises CtlError (with stderr) on a non-zero exit."""
        argv = [self.mmrctl_bin, '-S', self.socket_path] + (['--json'] if json else []) + \
            [str(a) for a in args]
        cp = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=timeout, env=self._env())
        cp.raw_stdout = cp.stdout
        if check and cp.returncode != 0:
            raise CtlError([str(a) for a in args], cp)
        if json and cp.returncode == 0:
            try:
                cp.stdout = jsonlib.loads(cp.stdout)
            except ValueError as e:
                raise HarnessError('mmrctl --json %s: not JSON (%s): %r' %
                                   (' '.join(map(str, args)), e, cp.stdout[:500]))
        return cp

    def ctl_request(self, *args, timeout=20):
        """Speak lib/contract/ctl_proto.h to the controller directly (no mmrctl process): returns
        (ok, status_line, body). Raises OSError when the controller cannot be reached."""
        return ctl_request(self.socket_path, *args, timeout=timeout)

    def stats(self):
        """`mmrctl --json stats --streams` as a dict."""
        return self.ctl('stats', '--streams', json=True).stdout

    def status(self):
        return self.ctl('status', json=True).stdout

    def wait_dp_attached(self, timeout=10.0):
        """Wait until `mmrctl --json status` says the dataplane this harness started is attached and
        synced; returns the status dict. Raises HarnessError on timeout (with the last status seen)."""
        deadline = time.monotonic() + timeout * (2 if self.asan else 1)
        last = None
        # After a dataplane restart the controller may still be attached to the dead one's segment
        # for a moment: insist on the pid of the dataplane this harness runs.
        want_pid = self.dp.pid if self.dp is not None and self.dp.poll() is None else None
        while True:
            try:
                cp = self.ctl('status', json=True, check=False, timeout=5)
                if cp.returncode == 0:
                    last = cp.stdout
                    if dp_attached(last) and (want_pid is None or
                                              (last.get('dataplane') or {}).get('pid') == want_pid):
                        return last
                else:
                    last = cp.stderr
            except (subprocess.TimeoutExpired, HarnessError) as e:
                last = str(e)
            if time.monotonic() > deadline:
                raise HarnessError('dataplane not attached+synced after %.0f s: %s' % (timeout, last))
            time.sleep(0.1)

    # -- meeting set-up shorthands (mmrctl underneath) --
    def meeting(self, name, srtp=None):
        """Create a meeting: plain RTP (asked for explicitly: the controller's default is SRTP), or
        SRTP with suite srtp ('AEAD_AES_128_GCM', 'AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'). In an
        SRTP meeting participant() returns the participant's keys in its stdout (parse_keys() reads
        them)."""
        return self.ctl('meeting', 'create', name, *(('--srtp', srtp) if srtp else ('--plain',)))

    def participant_keys(self, meeting, name):
        """An SRTP participant's keys: {'srtp_suite', 'send_key', 'recv_key'} ('inline:...' values;
        key_bytes() gives master key || salt)."""
        return self.ctl('participant', 'keys', meeting, name, json=True).stdout

    def rekey(self, meeting, name):
        """New SRTP keys for a participant (returns once the dataplane has them), as participant_keys()."""
        cp = self.ctl('participant', 'rekey', meeting, name, json=True).stdout
        return {k: cp[k] for k in ('srtp_suite', 'send_key', 'recv_key')}

    def participant(self, meeting, name, port, role=None, addr=CLIENT_IP, mac=None):
        args = ['participant', 'add', meeting, name, '--addr', addr, '--port', port]
        if role:
            args += ['--role', role]
        if mac:
            args += ['--mac', mac]
        return self.ctl(*args)

    def stream(self, meeting, participant, ssrc, kind='video', codec=None, layers=None):
        codec = codec or ('vp8' if kind == 'video' else 'opus')
        args = ['stream', 'add', meeting, participant, '--ssrc', ssrc, '--kind', kind, '--codec', codec]
        if layers is not None:
            args += ['--layers', layers]
        return self.ctl(*args)

    def sub(self, meeting, subscriber, ssrc, target, out_ssrc=None):
        args = ['sub', 'set', meeting, subscriber, '--ssrc', ssrc, '--target', target]
        if out_ssrc is not None:
            args += ['--out-ssrc', out_ssrc]
        return self.ctl(*args)

    # -- client-side sockets --
    def udp_socket(self, port, ip=None, rcvbuf=4 << 20):
        family = socket.AF_INET6 if ip and ':' in ip else socket.AF_INET
        s = socket.socket(family, socket.SOCK_DGRAM)
        try:  # root may exceed net.core.rmem_max: a test may read its datagrams well after they came
            s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), rcvbuf)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip or CLIENT_IP, port))
        s.setblocking(False)
        return s

    def send(self, sock, data, addr=None):
        """Send one datagram to the MMR (MMR_IP:MMR_PORT or MMR_IP6 for an IPv6 socket).
        Returns False instead of raising when the route is gone (dataplane restarting)."""
        if addr is None:
            addr = (MMR_IP6 if sock.family == socket.AF_INET6 else MMR_IP, MMR_PORT)
        try:
            sock.sendto(data, addr)
            return True
        except BlockingIOError:
            select.select([], [sock], [], 0.5)
            try:
                sock.sendto(data, addr)
                return True
            except OSError:
                return False
        except OSError as e:
            if e.errno in (errno.ENETUNREACH, errno.EINVAL, errno.EADDRNOTAVAIL, errno.ENOBUFS,
                           errno.EHOSTUNREACH, errno.ENODEV, errno.ECONNREFUSED):
                return False
            raise

    @staticmethod
    def recv_all(sock, timeout=0.5, max_wait=None):
        """Datagrams arriving on sock until none came for `timeout` seconds (and at most `max_wait`
        seconds in all). Returns a list of bytes."""
        out = []
        deadline = None if max_wait is None else time.monotonic() + max_wait
        while True:
            wait = timeout
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    break
            r, _, _ = select.select([sock], [], [], wait)
            if not r:
                break
            while True:
                try:
                    out.append(sock.recv(65536))
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionRefusedError:
                    continue
        return out

    @staticmethod
    def recv_from_all(sock, timeout=0.5, max_wait=None):
        """Like recv_all but returns (data, (addr, port)) pairs, to check the source."""
        out = []
        deadline = None if max_wait is None else time.monotonic() + max_wait
        while True:
            wait = timeout
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    break
            r, _, _ = select.select([sock], [], [], wait)
            if not r:
                break
            while True:
                try:
                    d, a = sock.recvfrom(65536)
                    out.append((d, a[:2]))
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionRefusedError:
                    continue
        return out

    # -- pcap vdev --
    def _make_pcap_fifo(self):
        for p in [self.pcap_in_q(q) for q in range(self.pcap_queues)]:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
            os.mkfifo(p, 0o600)

    def _open_pcap_fifo(self):
        # the dataplane opens each FIFO for reading while its EAL probes net_pcap; until then
        # an O_NONBLOCK open for writing fails with ENXIO
        for q in range(self.pcap_queues):
            if q in self._fifo_fds:
                continue
            try:
                fd = os.open(self.pcap_in_q(q), os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    return
                raise
            os.set_blocking(fd, True)
            os.write(fd, PCAP_GLOBAL_HDR)
            self._fifo_fds[q] = fd
            self._feeders[q] = _PcapFeeder(fd)
            self._feeders[q].start()
        self._fifo_fd = self._fifo_fds[0]

    @property
    def pcap_fillers(self):
        """Filler frames written so far (each one a bad_l2 drop in the dataplane's counters)."""
        return sum(f.fillers for f in self._feeders.values()) if self._feeders else self._fillers_done

    def pcap_feed(self, frames, queue=0):
        """Hand Ethernet frames to the dataplane's net_pcap RX queue `queue` (in order)."""
        if queue not in self._feeders:
            raise HarnessError('pcap input is not open (vdev=pcap and dataplane started?)')
        self._feeders[queue].feed(frames)

    def pcap_close_input(self):
        """End of the input: the PMD's reader sees end-of-file and returns the last partial burst."""
        if self._feeders:
            for f in self._feeders.values():
                f.stop()
            self._fillers_done = sum(f.fillers for f in self._feeders.values())
            self._feeders = {}
        for fd in self._fifo_fds.values():
            os.close(fd)
        self._fifo_fds = {}
        self._fifo_fd = None

    def pcap_output(self, queue=0):
        return read_pcap(self.pcap_out_q(queue))

    def pcap_output_ts(self, queue=0):
        """(ns timestamp, frame) pairs of what queue sent: net_pcap stamps each frame as it writes it."""
        return read_pcap(self.pcap_out_q(queue), with_ts=True)

    # -- logs --
    def log_text(self, which='both'):
        out = ''
        for p in ((self.dp_log, self.ctl_log) if which == 'both' else
                  (self.dp_log,) if which == 'dataplane' else (self.ctl_log,)):
            try:
                with open(p, 'rb') as f:
                    out += f.read().decode(errors='replace')
            except OSError:
                pass
        return out

    def sanitizer_errors(self):
        """Lines of the dataplane/controller logs that report an ASan/UBSan error."""
        keys = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:')
        return [l for l in self.log_text().splitlines() if any(k in l for k in keys)]

    # -- helpers --
    def _run(self, argv):
        cp = subprocess.run(argv, capture_output=True, text=True)
        if cp.returncode != 0:
            raise HarnessError('%s: exit %d: %s' % (' '.join(argv), cp.returncode, cp.stderr.strip()))
        return cp

    @staticmethod
    def _sysctl(key, value):
        try:
            with open('/proc/sys/' + key, 'w') as f:
                f.write(value)
        except OSError:
            pass


def ctl_request(socket_path, *args, timeout=20):
    """One request/response on the controller's socket in the format of lib/contract/ctl_proto.h:
    "MMRQ" u32 len | u32 argc | argc x (u32 len | bytes), answered by "MMRA" u32 len | text whose
    first line is "ok" or "error: ...". Returns (ok, status_line, body)."""
    argv = [str(a).encode() for a in args]
    payload = struct.pack('<I', len(argv)) + b''.join(struct.pack('<I', len(a)) + a for a in argv)
    frame = b'MMRQ' + struct.pack('<I', len(payload)) + payload
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(socket_path)
        s.sendall(frame)
        hdr = _recv_exact(s, 8)
        if hdr[:4] != b'MMRA':
            raise HarnessError('bad response magic %r' % hdr[:4])
        n = struct.unpack('<I', hdr[4:])[0]
        body = _recv_exact(s, n).decode(errors='replace')
    finally:
        s.close()
    status, _, rest = body.partition('\n')
    return status == 'ok', status, rest


class _PcapFeeder(threading.Thread):
    """Writes pcap records into the dataplane's rx_pcap FIFO.

    net_pcap's RX burst reads with blocking stdio until it has a full burst (32) or end-of-file, so a
    worker lcore sitting on an idle FIFO would never come back to its poll loop, never report an RCU
    quiescent state, and the control thread (synchronize_rcu) would hang. So while the test feeds
    nothing, this thread writes a batch of FILLER frames every few ms: EtherType 0x88B5 (IEEE local
    experimental), which the dataplane drops as bad_l2. Their number is counted (fillers), so a test
    can account for them; they never produce output."""

    BATCH = 32
    PERIOD = 0.01
    FILLER = (b'\x02\x00\x00\x00\x01\x02' + b'\x02\x00\x00\x00\x01\x01' + b'\x88\xb5' +
              b'mmrtest filler'.ljust(46, b'.'))

    def __init__(self, fd):
        super().__init__(daemon=True)
        self.fd = fd
        self.fillers = 0
        self.pending = []
        self.cv = threading.Condition()
        self.stopping = False
        self.error = None

    def _write(self, buf):
        view = memoryview(buf)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def run(self):
        filler_batch = b''.join(pcap_record(self.FILLER) for _ in range(self.BATCH))
        try:
            while True:
                with self.cv:
                    if self.stopping:
                        return
                    work = self.pending
                    self.pending = []
                if work:
                    self._write(b''.join(work))
                    with self.cv:
                        self.cv.notify_all()
                else:
                    self._write(filler_batch)
                    self.fillers += self.BATCH
                with self.cv:
                    if not self.pending and not self.stopping:
                        self.cv.wait(self.PERIOD)
        except OSError as e:     # the dataplane went away
            self.error = e

    def feed(self, frames, t0=0.0):
        recs = [pcap_record(fr, t0 + i * 0.0001) for i, fr in enumerate(frames)]
        with self.cv:
            self.pending.extend(recs)
            self.cv.notify_all()
            while self.pending and self.is_alive():
                self.cv.wait(0.1)

    def stop(self):
        with self.cv:
            self.stopping = True
            self.cv.notify_all()
        self.join(5)


def _recv_exact(s, n):
    buf = b''
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise HarnessError('controller closed the connection early')
        buf += chunk
    return buf


# ---- reading the controller's JSON -----------------------------------------------------------------

def find_key(obj, *names):
    """First value found for any of names, searching dicts depth-first."""
    if isinstance(obj, dict):
        for n in names:
            if n in obj:
                return obj[n]
        for v in obj.values():
            r = find_key(v, *names)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find_key(v, *names)
            if r is not None:
                return r
    return None


def _find_holder(obj, name):
    """The first dict (depth-first) that has key name, or None."""
    if isinstance(obj, dict):
        if name in obj:
            return obj
        obj = list(obj.values())
    if isinstance(obj, list):
        for v in obj:
            r = _find_holder(v, name)
            if r is not None:
                return r
    return None


def participant_counters(env, meeting, name):
    """The per-participant counters of `mmrctl --json participant show MEETING NAME` (the object
    holding rtt_us, twcc_in, ...; null values as 0), or {}."""
    try:
        cp = env.ctl('participant', 'show', meeting, name, json=True, check=False)
    except HarnessError:
        return {}
    found = _find_holder(cp.stdout, 'rtt_us') if cp.returncode == 0 else None
    return {k: (v or 0) for k, v in found.items()} if found else {}


def dp_attached(status):
    """Does a `mmrctl --json status` object say the dataplane is attached and synced? That is:
    attached, ready, at least one full sync done, and every command the controller has is applied
    (ring head == tail, nothing queued in the controller)."""
    if not isinstance(status, dict):
        return False
    dp = status.get('dataplane')
    if not isinstance(dp, dict) or not dp.get('attached') or not dp.get('ready', True):
        return False
    if int(dp.get('syncs', 1)) < 1:
        return False
    ring = dp.get('ring') or {}
    if ring and (ring.get('head') != ring.get('tail') or int(ring.get('queued_in_controller', 0))):
        return False
    return True


def parse_keys(text):
    """The keys in the text output of `mmrctl participant add|keys|rekey` (lines 'srtp_suite S',
    'send_key inline:...', 'recv_key inline:...'): a dict of those three."""
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(' ')
        if k in ('srtp_suite', 'send_key', 'recv_key'):
            out[k] = v
    return out


def key_bytes(inline):
    """Master key || master salt of an SDES 'inline:BASE64' key."""
    import base64
    return base64.b64decode(inline.split(':', 1)[1] if inline.startswith('inline:') else inline)


POLICE_TEST_LIMITS = ''.join('police_%s_pps = 1000000;\npolice_%s_kbps = 10000000;\n' % (k, k)
                             for k in ('audio', 'video', 'screen', 'rtcp'))


def drop_counts(stats):
    """{reason: count} summed over the lcores of a `stats` object."""
    drops = stats.get('drops')
    if isinstance(drops, dict):
        return {k: int(v) for k, v in drops.items()}
    total = {}
    for lc in stats.get('lcores', []):
        for k, v in (lc.get('drops') or {}).items():
            total[k] = total.get(k, 0) + int(v)
    return total


def lcore_total(stats, key):
    return sum(int(lc.get(key, 0)) for lc in stats.get('lcores', []))


def audio_rtp(ssrc, seq, pt=111):
    """A minimal RTP packet (Opus-like: 960 ticks per packet, 60 zero bytes) of ssrc, number seq."""
    return struct.pack('!BBHII', 0x80, pt, seq & 0xffff, seq * 960 & 0xffffffff, ssrc) + bytes(60)


def paced_sender(pps, send_one):
    """Start a thread calling send_one(i) pps times a second (i counts the calls that returned
    true, e.g. env.send's result) until the returned event is set. Returns (stop event, thread,
    [count])."""
    stop, sent = threading.Event(), [0]

    def run():
        t0 = time.monotonic()
        while not stop.is_set():
            if send_one(sent[0]):
                sent[0] += 1
            d = t0 + sent[0] / pps - time.monotonic()
            if d > 0:
                time.sleep(d)
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return stop, th, sent


def stream_stats(stats, ssrc):
    """The per-stream counters of the stream with this SSRC (None if absent)."""
    for s in stats.get('streams', []):
        if int(s.get('ssrc', -1)) == ssrc:
            return s
    return None


def srtp_match(got_plain, want_plain, max_lead=0, ctx=None):
    """Are the plaintexts one receiver decrypted the ones expected, given what the SRTP index leases
    do (docs/design.md, "Keys")? Returns (ok, detail) like the tests' _diff helpers: detail says
    what differs ('' if all came exactly, else which leading packets were missing).

    got_plain: the receiver's copies decrypted, in arrival order (None: one that did not decrypt).
    want_plain: the plaintexts expected, in sending order; or a list of segments (lists), one per
      inbound stream the MMR sees as new (e.g. the sender's packets before and after its rekey).
    Rules, per SSRC:
    - rebased sequence numbers: each outbound context (receiver, out SSRC) adds one constant (mod
      2^16) to every sequence number it encrypts; every other byte is as expected. ctx is a dict
      {ssrc: that constant} of ONE receiver context, kept by the caller across calls: an SSRC in it
      must go on with its constant; one not in it is a new context, whose first copy must have
      sequence number 0 (its floor); the constants found are stored in it. None: all new.
    - new inbound streams: up to max_lead LEADING packets of each segment may be missing (refused as
      srtp_lease until the stream's lease covers them), none after the first one received of it,
      and nothing extra; the order is the sending order, also across SSRCs. max_lead may be a
      list: one value per segment."""
    segs = want_plain if want_plain and isinstance(want_plain[0], (list, tuple)) else [want_plain]
    leads = list(max_lead) if isinstance(max_lead, (list, tuple)) else [max_lead] * len(segs)
    if len(leads) != len(segs):
        raise ValueError('srtp_match: %d max_lead values for %d segments' % (len(leads), len(segs)))
    ctx = {} if ctx is None else ctx

    def ssrc(p):
        return struct.unpack_from('!I', p, 8)[0]

    def seq(p):
        return struct.unpack_from('!H', p, 2)[0]

    def same(g, w):     # equal but for the sequence number
        return g is not None and len(g) == len(w) and g[:2] == w[:2] and g[4:] == w[4:]

    def show(p):
        return p[:16].hex()

    n_want = sum(len(s) for s in segs)
    problems, missing = [], {}          # (segment, ssrc) -> leading packets missing
    bad = [i for i, p in enumerate(got_plain) if p is None]
    if bad:
        problems.append('%d of %d copies did not decrypt, the first at #%d' % (len(bad), len(got_plain),
                                                                              bad[0]))
        got_plain = [p for p in got_plain if p is not None]
    received = set()                    # (segment, ssrc) of which a packet came
    pairs, g, stop = [], 0, False       # (got, want) matched, in order
    for k, seg in enumerate(segs):
        for w in seg:
            if g < len(got_plain) and same(got_plain[g], w):
                pairs.append((got_plain[g], w))
                received.add((k, ssrc(w)))
                g += 1
                continue
            key = (k, ssrc(w))
            if key not in received and missing.get(key, 0) < leads[k]:
                missing[key] = missing.get(key, 0) + 1     # a leading packet the MMR refused
                continue
            what = ('more than %d leading packets missing' % leads[k] if key not in received
                    else 'past its leading packets, where nothing may be missing')
            problems.append('got %d, want %d; first difference at #%d (segment %d, ssrc 0x%08x: %s): '
                            'got %s, want %s' % (len(got_plain), n_want, g, k, ssrc(w), what,
                                                 show(got_plain[g]) if g < len(got_plain) else '-',
                                                 w[:16].hex()))
            stop = True
            break
        if stop:
            break
    if not stop and g < len(got_plain):
        problems.append('got %d, want %d: %d more than expected, the first at #%d: %s'
                        % (len(got_plain), n_want, len(got_plain) - g, g, show(got_plain[g])))
    first_of = {}
    for k, (gp, w) in enumerate(pairs):
        s, off = ssrc(w), (seq(gp) - seq(w)) & 0xffff
        if s not in ctx:
            if seq(gp) != 0:
                problems.append('ssrc 0x%08x: a new context\'s first copy has seq %d, want 0 (its floor)'
                                % (s, seq(gp)))
                break
            ctx[s] = off
            first_of[s] = k
        elif off != ctx[s]:
            problems.append('ssrc 0x%08x: copy #%d has seq %d for %d: rebased by %d, want %d (one '
                            'constant per receiver context)%s' % (s, k, seq(gp), seq(w), off, ctx[s],
                                                                  ', set by copy #%d' % first_of[s]
                                                                  if s in first_of else ''))
            break
    lost = ', '.join('ssrc 0x%08x%s: %d' % (s, ' (segment %d)' % k if len(segs) > 1 else '', n)
                     for (k, s), n in sorted(missing.items()))
    if problems:
        return False, '; '.join(problems) + ('; leading packets missing: ' + lost if lost else '')
    return True, ('leading packets missing: ' + lost) if lost else ''


# ---- checks and reporting ---------------------------------------------------------------------------

class Checks:
    """Prints one line per check; exit code 0 iff all passed."""

    def __init__(self, name):
        self.name = name
        self.failed = 0
        self.passed = 0
        self.t0 = time.monotonic()

    def check(self, cond, what, detail=''):
        if cond:
            self.passed += 1
            print('ok   %s' % what, flush=True)
        else:
            self.failed += 1
            print('FAIL %s%s' % (what, (': ' + str(detail)) if detail != '' else ''), flush=True)
        return bool(cond)

    def eq(self, got, want, what):
        return self.check(got == want, what, 'got %r, want %r' % (got, want))

    def note(self, msg):
        print('     %s' % msg, flush=True)

    def done(self):
        dt = time.monotonic() - self.t0
        print('%s: %d checks passed, %d failed (%.1f s)' % (self.name, self.passed, self.failed, dt),
              flush=True)
        sys.exit(1 if self.failed else 0)


def run_test(name, body):
    """Run body(checks) and exit with its result; an exception counts as a failed check."""
    c = Checks(name)
    try:
        body(c)
    except Exception as e:  # noqa: a test must report, not crash
        import traceback
        traceback.print_exc()
        c.check(False, 'test ran to the end', '%s: %s' % (type(e).__name__, e))
    c.done()
