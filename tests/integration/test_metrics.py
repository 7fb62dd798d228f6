#!/usr/bin/python3
"""
test_metrics.py - GET /metrics of the real mmr-controller driving the real mmr-dataplane (net_tap):
a meeting where alice publishes audio to bob and carol, and a stranger's packets (unknown_sender
drops), over HTTPS on every address. Checks: from loopback no token is needed, from the tap's
address (not loopback) an admin token for "*" (401 without, 403 for one meeting's or a viewer's),
and none once SIGHUP read metrics_public = true; the page is text/plain version=0.0.4 and `promtool check metrics` passes on it;
every lcore counter of stats.h and every drop reason is there; mmr_copies_total and the streams'
rx_pkts match what was sent; a real `prometheus` server scraping the controller every second
returns mmr_copies_total > 0, mmr_drops_total{reason="unknown_sender"} and the stream's series
through its query API; every expr of grafana/mmr-host.json names a metric the page exports.
Negative checks: promtool rejects the page with a broken line planted (a counter without _total,
a sample outside its family), and prometheus returns nothing for a metric the page lacks.
Needs the Debian prometheus package (promtool, prometheus).
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, ROOT  # noqa: E402
import rtpgen  # noqa: E402

ALICE_AUDIO = 0x11110001
PORTS = {'alice': 6101, 'bob': 6102, 'carol': 6103}
N_AUDIO = 50


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE     # the test's own self-signed certificate


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout, context=TLS if url.startswith('https:') else None) as r:
        return r.status, r.headers.get('Content-Type', ''), r.read().decode()


def promtool(text):
    cp = subprocess.run(['promtool', 'check', 'metrics'], input=text, capture_output=True, text=True, timeout=30)
    return cp.returncode, (cp.stdout + cp.stderr).strip()


def samples(text):
    """{(name, frozenset(labels)): value} and the families' TYPE lines."""
    out, types = {}, {}
    for line in text.splitlines():
        if line.startswith('# TYPE '):
            _, _, n, t = line.split(' ', 3)
            types[n] = t
            continue
        if not line or line.startswith('#'):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m:
            raise ValueError('unparsable sample line: %r' % line)
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ''))
        out[(m.group(1), labels)] = float(m.group(4))
    return out, types


def value(s, name, **labels):
    """The sum of name's samples whose labels include these."""
    want = set(labels.items())
    return sum(v for (n, ls), v in s.items() if n == name and want <= set(ls))


def body(c):
    for tool in ('promtool', 'prometheus'):
        if not c.check(shutil.which(tool), '%s installed (Debian package prometheus)' % tool):
            return
    tmp = tempfile.mkdtemp(prefix='mmr-metrics-')
    env = MmrEnv('metrics', asan='--asan' in sys.argv)   # --asan: the ASan build (make asan)
    secret = os.path.join(tmp, 'secret')
    with open(secret, 'w') as f:
        f.write(os.urandom(24).hex() + '\n')
    os.chmod(secret, 0o600)
    # HTTPS on every address: from loopback no token is needed, from the tap's address (not loopback) one is
    cert, key = os.path.join(tmp, 'api.crt'), os.path.join(tmp, 'api.key')
    cp = subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                         '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=mmr-test'],
                        capture_output=True, text=True)
    if not c.check(cp.returncode == 0, 'openssl made a self-signed certificate', cp.stderr[-300:]):
        return
    env.extra_ctl_conf = ('http_listen = "0.0.0.0:0";\nhttp_tls_cert = "%s";\nhttp_tls_key = "%s";\n'
                          'token_secret_file = "%s";\n' % (cert, key, secret))
    prom = None
    try:
        env.start()
        env.wait_dp_attached(10)
        port = None
        for line in open(env.ctl_log).read().splitlines():
            if 'HTTP API on' in line:
                port = int(line.split('(port ')[1].split(',')[0])
        if not c.check(port, 'the controller serves its HTTP API', env.tail(env.ctl_log)):
            return
        url = 'https://127.0.0.1:%d/metrics' % port
        far = 'https://%s:%d/metrics' % (mmrtest.CLIENT_IP, port)

        def mint(meeting, role):
            cp = subprocess.run([env.mmrctl_bin, 'token', 'mint', '--secret-file', secret, '--meeting', meeting,
                                 '--identity', 'ops', '--role', role, '--ttl', '600'], capture_output=True, text=True)
            return cp.stdout.strip()

        def status_of(u, token=None):
            req = urllib.request.Request(u, headers={'Authorization': 'Bearer ' + token} if token else {})
            try:
                with urllib.request.urlopen(req, timeout=5, context=TLS) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code
        c.eq(status_of(url), 200, 'GET /metrics from loopback without a token: 200')
        c.eq(status_of(far), 401, 'GET /metrics from %s (not loopback) without a token: 401' % mmrtest.CLIENT_IP)
        c.eq(status_of(far, mint('*', 'admin')), 200, 'from %s with an admin token for "*": 200' % mmrtest.CLIENT_IP)
        c.eq(status_of(far, mint('m1', 'admin')), 403, 'with an admin token for one meeting: 403')
        c.eq(status_of(far, mint('*', 'viewer')), 403, 'with a viewer token: 403')
        with open(os.path.join(env.tmp, 'controller.conf'), 'a') as f:
            f.write('metrics_public = true;\n')
        env.ctl_proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and status_of(far) != 200:
            time.sleep(0.1)
        c.eq(status_of(far), 200, 'SIGHUP with metrics_public = true: 200 without a token from %s' % mmrtest.CLIENT_IP)
        c.check(env.ctl_proc.poll() is None, 'the controller is still running after SIGHUP')

        env.meeting('m1')
        for name, p in PORTS.items():
            env.participant('m1', name, p)
        env.stream('m1', 'alice', ALICE_AUDIO, 'audio')
        socks = {n: env.udp_socket(p) for n, p in PORTS.items()}
        stranger = env.udp_socket(6199)
        audio = rtpgen.OpusLike(ALICE_AUDIO).packets(N_AUDIO)
        for pkt in audio:
            env.send(socks['alice'], pkt.data)
        for i in range(5):
            env.send(stranger, audio[i].data)
        got = {n: len(env.recv_all(socks[n], timeout=0.3, max_wait=5)) for n in ('bob', 'carol')}
        c.check(got['bob'] >= N_AUDIO and got['carol'] >= N_AUDIO, 'alice\'s audio reached bob and carol', got)
        st = env.stats()
        copies = mmrtest.lcore_total(st, 'copies')

        # ---- the page --------------------------------------------------------------------------
        code, ctype, text = get(url)
        c.check(code == 200 and ctype.startswith('text/plain; version=0.0.4'), 'GET /metrics: 200 text/plain 0.0.4',
                '%s %s' % (code, ctype))
        rc, out = promtool(text)
        c.check(rc == 0, 'promtool check metrics passes on the page', out[:2000])
        s, types = samples(text)
        dp_lists = json.loads(subprocess.run([env.mmrctl_bin, '--json', 'stats'], capture_output=True, text=True,
                                             env=env._env()).stdout)
        lc_names = [k for k in dp_lists['lcores'][0] if k not in ('lcore', 'drops', 'layer_drops', 'busy_pct',
                                                                 'events_dropped')]
        missing = [n for n in lc_names if 'mmr_%s_total' % n not in types]
        c.check(not missing and len(lc_names) > 20, 'every lcore counter (%d) is a family' % len(lc_names), missing)
        reasons = [r for r in dp_lists['drops']]
        missing = [r for r in reasons if not any(n == 'mmr_drops_total' and ('reason', r) in ls for (n, ls) in s)]
        c.check(not missing and len(reasons) > 30, 'mmr_drops_total has every reason (%d)' % len(reasons), missing)
        c.eq(value(s, 'mmr_copies_total'), float(copies), 'mmr_copies_total = mmrctl stats copies')
        c.check(copies >= 2 * N_AUDIO, 'copies >= %d' % (2 * N_AUDIO), copies)
        c.eq(value(s, 'mmr_drops_total', reason='unknown_sender'), float(st['drops']['unknown_sender']),
             'mmr_drops_total{reason="unknown_sender"} = mmrctl stats')
        c.check(value(s, 'mmr_drops_total', reason='unknown_sender') >= 5, 'the stranger\'s 5 packets dropped')
        c.eq(value(s, 'mmr_stream_rx_pkts_total', participant='alice', ssrc=str(ALICE_AUDIO)), float(N_AUDIO),
             'mmr_stream_rx_pkts_total of alice\'s audio')
        c.eq(value(s, 'mmr_meetings'), 1.0, 'mmr_meetings')
        c.eq(value(s, 'mmr_meeting_participants', meeting='m1'), 3.0, 'mmr_meeting_participants{meeting="m1"}')
        c.eq(value(s, 'mmr_dataplane_attached'), 1.0, 'mmr_dataplane_attached')
        c.check(types.get('mmr_participant_rtt_seconds') == 'gauge' and types.get('mmr_stream_level') == 'gauge',
                'values (rtt_us, level) are gauges', [types.get('mmr_participant_rtt_seconds'), types.get('mmr_stream_level')])
        s2, _ = samples(get(url)[2])
        c.check(value(s2, 'mmr_http_requests_total', code='200') >= 1, 'the first scrape is counted (code 200)')

        # ---- negative: promtool must reject broken pages -----------------------------------------
        broken = text + '# HELP mmr_bogus_total x\n# TYPE mmr_bogus_total counter\nmmr_bogus_total{a="1"} 1 2 3\n'
        rc, out = promtool(broken)
        c.check(rc != 0, 'promtool rejects a page with a malformed sample line', out[:300])
        broken = text + '# HELP mmr_bogus x\n# TYPE mmr_bogus counter\nmmr_bogus 1\n'
        rc, out = promtool(broken)
        c.check(rc != 0, 'promtool rejects a counter without _total', out[:300])

        # ---- a real prometheus -----------------------------------------------------------------------
        pport = free_port()
        pdir = os.path.join(tmp, 'prom')
        os.makedirs(pdir)
        pconf = os.path.join(tmp, 'prometheus.yml')
        with open(pconf, 'w') as f:
            f.write('global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
                    'scrape_configs:\n  - job_name: mmr\n    metrics_path: /metrics\n    scheme: https\n'
                    '    tls_config:\n      insecure_skip_verify: true\n'
                    '    static_configs:\n      - targets: ["127.0.0.1:%d"]\n' % port)
        plog = open(os.path.join(env.logdir, 'prometheus.log'), 'w')
        prom = subprocess.Popen(['prometheus', '--config.file=' + pconf, '--storage.tsdb.path=' + pdir,
                                 '--web.listen-address=127.0.0.1:%d' % pport, '--log.level=warn'],
                                stdout=plog, stderr=subprocess.STDOUT, cwd=tmp)

        def query(q):
            u = 'http://127.0.0.1:%d/api/v1/query?%s' % (pport, urllib.parse.urlencode({'query': q}))
            try:
                _, _, t = get(u, timeout=2)
            except OSError:
                return None
            js = json.loads(t)
            return js['data']['result'] if js.get('status') == 'success' else None

        want = {
            'mmr_copies_total > 0': lambda r: r and sum(float(x['value'][1]) for x in r) >= copies,
            'mmr_drops_total{reason="unknown_sender"} > 0': lambda r: r and float(r[0]['value'][1]) >= 5,
            'mmr_stream_rx_pkts_total{participant="alice"}': lambda r: r and float(r[0]['value'][1]) == N_AUDIO,
            'up{job="mmr"} == 1': lambda r: bool(r),
        }
        res = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(res) < len(want):
            for q, ok in want.items():
                if q not in res:
                    r = query(q)
                    if ok(r):
                        res[q] = r
            time.sleep(0.5)
        for q in want:
            c.check(q in res, 'prometheus: %s' % q, query(q))
        r = query('mmr_no_such_metric_total')
        c.check(r == [], 'prometheus: a metric the page lacks has no series (negative)', r)

        # ---- the Grafana dashboard names only exported metrics -------------------------------------
        dash_path = os.path.join(ROOT, 'grafana', 'mmr-host.json')
        if c.check(os.path.exists(dash_path), 'grafana/mmr-host.json exists'):
            dash = json.load(open(dash_path))
            exprs = [t['expr'] for p in dash.get('panels', []) for t in p.get('targets', []) if 'expr' in t]

            def unknown_names(exprs):
                names = set()
                for e in exprs:
                    names |= {n for n in re.findall(r'\b(mmr_[a-z0-9_]+)', e)}
                return names, sorted(n for n in names if n not in types)
            names, unknown = unknown_names(exprs)
            c.eq(unknown_names(exprs + ['rate(mmr_bogus_total[1m])'])[1], unknown + ['mmr_bogus_total'],
                 'dashboard check flags a planted unknown metric (negative)')
            c.check(len(exprs) >= 6 and not unknown, 'dashboard: its %d exprs name only exported metrics (%d names)'
                    % (len(exprs), len(names)), unknown)
            for e in exprs:
                r = query(re.sub(r'\$\w+', '1m', e))
                c.check(r is not None, 'prometheus evaluates the dashboard expr %s' % e, r)
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])
    finally:
        if prom is not None:
            prom.terminate()
            try:
                prom.wait(10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        env.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    mmrtest.run_test('test_metrics', body)
