"""
mmrzone.py - what the zone tests share (tests/integration/test_zone.py, test_zone_failover.py): a
three-member etcd cluster on loopback and mmr-controllers with zone blocks (dataplane detached, or a
stand-in), each waiting on its condition (no fixed sleeps), and the tests' ok/fail lines.
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get('MMR_BUILD', os.path.join(ROOT, 'build'))
CTL = os.path.join(BUILD, 'mmr-controller')
CLI = os.path.join(BUILD, 'mmrctl')
STANDIN = os.path.join(BUILD, 'tests', 'integration', 'standin_dp')

_checks = [0]


def checks():
    return _checks[0]


def fail(msg):
    print('FAIL ' + msg, flush=True)
    raise SystemExit(1)


def ok(msg):
    _checks[0] += 1
    print('ok   ' + msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(what, cond, timeout=10.0, step=0.05):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = cond()
        except Exception as e:   # noqa: BLE001 - the condition may not hold yet in many ways
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(step)
    fail('%s (within %.1f s; last: %r)' % (what, timeout, last))


class Etcd:
    def __init__(self, tmp, n=3):
        self.tmp = tmp
        self.members = []
        ports = [(free_port(), free_port()) for _ in range(n)]
        cluster = ','.join('e%d=http://127.0.0.1:%d' % (i, p[1]) for i, p in enumerate(ports))
        for i, (cp, pp) in enumerate(ports):
            self.members.append({'name': 'e%d' % i, 'client': cp, 'peer': pp,
                                 'url': 'http://127.0.0.1:%d' % cp, 'cluster': cluster, 'proc': None})
        for m in self.members:
            self.start(m)

    def start(self, m):
        log = open(os.path.join(self.tmp, m['name'] + '.log'), 'a')
        m['proc'] = subprocess.Popen(
            ['etcd', '--name', m['name'], '--data-dir', os.path.join(self.tmp, m['name']),
             '--listen-client-urls', m['url'], '--advertise-client-urls', m['url'],
             '--listen-peer-urls', 'http://127.0.0.1:%d' % m['peer'],
             '--initial-advertise-peer-urls', 'http://127.0.0.1:%d' % m['peer'],
             '--initial-cluster', m['cluster'], '--initial-cluster-state', 'new',
             '--initial-cluster-token', 'mmr-zone-test-%d' % os.getpid(),
             '--heartbeat-interval', '50', '--election-timeout', '500'],
            stdout=log, stderr=log)

    def kill(self, i):
        p = self.members[i]['proc']
        p.send_signal(signal.SIGKILL)
        p.wait()

    def alive(self):
        return [m for m in self.members if m['proc'] and m['proc'].poll() is None]

    def call(self, path, body, url=None):
        urls = [url] if url else [m['url'] for m in self.alive()]
        err = None
        for u in urls:
            try:
                c = http.client.HTTPConnection(u[7:], timeout=2)
                c.request('POST', path, json.dumps(body), {'Content-Type': 'application/json'})
                r = c.getresponse()
                d = r.read()
                c.close()
                if r.status == 200:
                    return json.loads(d)
                err = '%s %d %s' % (u, r.status, d[:200])
            except OSError as e:
                err = '%s: %s' % (u, e)
        raise RuntimeError(err)

    def prefix(self, p):
        b64 = lambda s: base64.b64encode(s.encode()).decode()
        end = p[:-1] + chr(ord(p[-1]) + 1)
        r = self.call('/v3/kv/range', {'key': b64(p), 'range_end': b64(end)})
        out = {}
        for kv in r.get('kvs', []):
            out[base64.b64decode(kv['key']).decode()] = base64.b64decode(kv.get('value', '')).decode()
        return out

    def stop(self):
        for m in self.members:
            if m['proc'] and m['proc'].poll() is None:
                m['proc'].kill()
                m['proc'].wait()


class Controller:
    def __init__(self, tmp, name, max_meetings, etcd_urls, lease_s=3, max_parts=100, env=None, secret=None,
                 extra='', zone_extra=''):
        """env: extra environment (e.g. MMR_TEST_NO_AUTH=1); secret: the zone's token secret (bytes;
        default a random one of its own); extra: more configuration lines; zone_extra: more lines in the zone block."""
        self.name = name
        self.env = env or {}
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, 'mmr.sock')
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.log = os.path.join(self.dir, 'controller.log')
        self.secret_file = os.path.join(self.dir, 'secret')
        with open(self.secret_file, 'wb') as f:
            f.write(secret or os.urandom(32))
        os.chmod(self.secret_file, 0o600)
        self.conf = os.path.join(self.dir, 'controller.conf')
        with open(self.conf, 'w') as f:
            f.write('socket = "%s";\nsocket_group = "";\nstate_file = "%s/state";\n'
                    'shm_name = "/mmr-zone-test-%d-%s";\napply_timeout_ms = 200;\n'
                    'http_listen = "127.0.0.1:%d";\ntoken_secret_file = "%s";\n%s'
                    'zone = {\n  etcd = [ %s ];\n  host = "%s";\n  address = "198.51.100.%d";\n'
                    '  http_url = "%s";\n  max_meetings = %d;\n  max_participants = %d;\n  lease_s = %d;\n%s};\n'
                    % (self.sock, self.dir, os.getpid(), name, self.port, self.secret_file, extra,
                       ', '.join('"%s"' % u for u in etcd_urls), name, len(name), self.url, max_meetings,
                       max_parts, lease_s, zone_extra))
        self.proc = None
        self.start()

    def start(self):
        env = dict(os.environ, **self.env)
        logf = open(self.log, 'a')
        self.proc = subprocess.Popen([CTL, '-c', self.conf], stdout=logf, stderr=logf, env=env)
        wait_until('%s ready' % self.name,
                   lambda: 'MMR-CONTROLLER READY' in open(self.log).read() or self.proc.poll() is not None)
        if self.proc.poll() is not None:
            fail('%s exited at start: %s' % (self.name, open(self.log).read()[-800:]))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def ctl(self, *args, timeout=10):
        r = subprocess.run([CLI, '-S', self.sock] + list(args), capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def ctl_json(self, *args):
        rc, out, err = self.ctl('--json', *args)
        if rc != 0:
            raise RuntimeError('mmrctl %s: rc %d: %s' % (' '.join(args), rc, err.strip() or out.strip()))
        return json.loads(out)

    def http(self, method, path, body=None, timeout=10, ctype='application/json'):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        hdrs = {'Content-Type': ctype} if body is not None else {}
        c.request(method, path, (body if isinstance(body, str) else json.dumps(body)) if body is not None else None,
                  hdrs)
        r = c.getresponse()
        d = r.read()
        loc = r.getheader('Location')
        c.close()
        try:
            j = json.loads(d) if d else {}
        except ValueError:
            j = d.decode(errors='replace')
        return r.status, j, loc

    def meetings(self):
        return sorted(m['name'] for m in self.ctl_json('meeting', 'list').get('meetings', []))


def stop_zone(ctls, standins, etcd, tmp):
    """A test's zone down: the controllers (SIGTERM, then SIGKILL after 10 s), the stand-in
    dataplanes, etcd; tmp removed unless MMR_TEST_KEEP is set."""
    for cc in ctls.values():
        if cc.proc and cc.proc.poll() is None:
            cc.proc.send_signal(signal.SIGTERM)
            try:
                cc.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                cc.proc.kill()
    for sp in standins:
        sp.send_signal(signal.SIGTERM)
        sp.wait()
    if etcd:
        etcd.stop()
    if os.environ.get('MMR_TEST_KEEP'):
        print('kept %s' % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
