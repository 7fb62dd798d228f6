#!/usr/bin/python3
"""
test_http_api.py - the controller's HTTP API (issue 13, part 1: docs/interfaces.md "HTTP API",
docs/openapi.yaml) against the real mmr-controller, offline (no dataplane, no DPDK, no root), with
python's http.client, its own HS256 tokens (hmac + base64url, independent of control/token.c) and
`mmrctl` on the same controller as the reference:

 1. every route: meetings (create plain/SRTP/top-N, list, show, set, end), participants (add with
    every option, list, show, keys, rekey, remove), streams (add, simulcast from a JSON array,
    remove), subscriptions (list, set), stats (query flags), status; 50 changes in a row answered
    without waiting for the loop's heartbeat (< 4 s, 5 s if each waited for it); every GET's JSON equals
    `mmrctl --json` of the same command; changes answer 202 {"applied": false, "note": "dataplane
    offline ..."} (or 200 when nothing goes to the dataplane) and show in `mmrctl`; SRTP keys: the
    add reply, `keys` and `rekey` agree with `mmrctl participant keys`, and no key is in the log.
 2. the same bad commands through HTTP and mmrctl give the same error text (HTTP status by class:
    400, 404, 409, 503), and the state (`mmrctl --json` of every list and show, and the state file)
    is unchanged after each.
 3. authentication: no token, another scheme, a forged signature, alg "none", RS256, expired,
    not yet valid, malformed, oversized: 401 with a clear body and WWW-Authenticate; a viewer token
    and an admin token of another meeting: 403; an admin token for one meeting reaches that meeting
    only. None of them changes anything (a POST that would create a meeting is tried with each).
 4. bad requests: not JSON, not an object, unknown field, wrong type (400), a body on GET (400),
    another Content-Type (415), a body over 64 KiB (413), a method a path does not take (405 with
    Allow), an unknown path (404); state unchanged after each.
 5. CORS: a preflight from the configured origin gets Allow-Origin/Methods/Headers; from another
    origin none; a GET from the configured origin carries Allow-Origin.
 6. HTTPS: a second controller with a self-signed certificate made here by openssl answers over
    TLS (verified against that certificate) and not in plain HTTP; config errors: plain HTTP on a
    non-loopback address, a secret file readable by others, TLS files without http_listen (exit 2 or
    1 with the reason).
 7. `mmrctl token mint` makes a token this test verifies with its own HMAC; bad options refused.
 8. docs/openapi.yaml's operations are exactly the routes the server answers.
 9. with a stand-in dataplane attached (tests/integration/tools/standin_dp.c: takes commands off the
    ring, applies none): a change waits for it and answers 200 applied; 16 concurrent changes (16
    suspended connections) all do; the stand-in stopped (SIGSTOP), a change answers 202 "not applied
    within 300 ms" after the timeout while a GET meanwhile is answered at once.

Prints "ok ..." / "FAIL ..." per check; exit 0 only if all passed.
Negative control (tests/run-all.sh): --no-auth runs the controller with MMR_TEST_NO_AUTH=1 (no token
check): the 401/403 checks must FAIL.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
BUILD = os.environ.get('MMR_BUILD', os.path.join(ROOT, 'build'))
CTL = os.path.join(BUILD, 'mmr-controller')
CLI = os.path.join(BUILD, 'mmrctl')
NO_AUTH = '--no-auth' in sys.argv[1:]
ORIGIN = 'https://meet.example.com'

failures = 0
checks = 0


def check(cond, what, detail=''):
    global failures, checks
    checks += 1
    if cond:
        print('ok %s' % what)
    else:
        failures += 1
        print('FAIL %s%s' % (what, (': ' + detail) if detail else ''))
    sys.stdout.flush()
    return cond


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


def make_token(secret, claims, header=None, sign=True, key=None):
    h = b64u(json.dumps(header or {'alg': 'HS256', 'typ': 'JWT'}, separators=(',', ':')).encode())
    p = b64u(json.dumps(claims, separators=(',', ':')).encode())
    s = ''
    if sign:
        s = b64u(hmac.new(key or secret, ('%s.%s' % (h, p)).encode(), hashlib.sha256).digest())
    return '%s.%s.%s' % (h, p, s)


def claims(role='admin', meeting='*', sub='ops', exp_in=600, nbf_in=None):
    now = int(time.time())
    c = {'iss': 'test', 'sub': sub, 'meeting': meeting, 'role': role, 'exp': now + exp_in}
    if nbf_in is not None:
        c['nbf'] = now + nbf_in
    return c


class Controller:
    def __init__(self, tmp, name, extra_conf='', env=None):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, 'mmr.sock')
        self.state = os.path.join(self.dir, 'state')
        self.secret_file = os.path.join(self.dir, 'secret')
        self.secret = os.urandom(24).hex().encode()      # 48 bytes
        with open(self.secret_file, 'wb') as f:
            f.write(self.secret + b'\n')
        os.chmod(self.secret_file, 0o600)
        self.conf = os.path.join(self.dir, 'controller.conf')
        self.shm = '/mmr-http-test-%d-%s' % (os.getpid(), name)
        with open(self.conf, 'w') as f:
            f.write('socket = "%s";\nstate_file = "%s";\nshm_name = "%s";\n'
                    'apply_timeout_ms = 300;\njournal_max_records = 1;\n'
                    'token_secret_file = "%s";\n%s'
                    % (self.sock, self.state, self.shm, self.secret_file, extra_conf))
        self.log = os.path.join(self.dir, 'controller.log')
        self.env = dict(os.environ)
        self.env.pop('MMR_TEST_NO_AUTH', None)
        self.env.update(env or {})
        self.proc = None
        self.port = None

    def start(self):
        with open(self.log, 'ab') as lf:
            self.proc = subprocess.Popen([CTL, '-c', self.conf], stdin=subprocess.DEVNULL, stdout=lf,
                                         stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + 10
        while time.time() < deadline:
            text = open(self.log).read()
            if 'MMR-CONTROLLER READY' in text:
                for line in text.splitlines():
                    if 'HTTP API on' in line:
                        self.port = int(line.split('(port ')[1].split(',')[0])
                return
            if self.proc.poll() is not None:
                raise RuntimeError('controller exited %d: %s' % (self.proc.returncode, text[-2000:]))
            time.sleep(0.02)
        raise RuntimeError('controller not ready: ' + open(self.log).read()[-2000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)

    def ctl(self, *args):
        cp = subprocess.run([CLI, '-S', self.sock] + [str(a) for a in args], capture_output=True, text=True,
                            timeout=20)
        return cp.returncode, cp.stdout, cp.stderr

    def ctl_json(self, *args):
        rc, out, err = self.ctl('--json', *args)
        if rc != 0:
            raise RuntimeError('mmrctl %s: %s' % (' '.join(map(str, args)), err))
        return json.loads(out)

    def snapshot(self):
        """Everything mmrctl shows of the model, and the state file."""
        snap = {'meetings': self.ctl_json('meeting', 'list')}
        for m in snap['meetings']['meetings']:
            name = m['name']
            snap['show ' + name] = self.ctl_json('meeting', 'show', name)
            snap['subs ' + name] = self.ctl_json('sub', 'list', name)
            snap['parts ' + name] = self.ctl_json('participant', 'list', name)
        with open(self.state, 'rb') as f:
            snap['state_file'] = f.read()
        return snap


class Api:
    def __init__(self, port, token, tls_ctx=None):
        self.port, self.token, self.tls_ctx = port, token, tls_ctx

    def req(self, method, path, body=None, token='default', headers=None, raw=None, ctype='application/json'):
        if self.tls_ctx:
            c = http.client.HTTPSConnection('127.0.0.1', self.port, timeout=10, context=self.tls_ctx)
        else:
            c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        h = dict(headers or {})
        tok = self.token if token == 'default' else token
        if tok is not None:
            h['Authorization'] = 'Bearer ' + tok
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and ctype:
            h['Content-Type'] = ctype
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        try:
            js = json.loads(text) if text else None
        except ValueError:
            js = None
        return r.status, js, hdrs, text


def main():
    for b in (CTL, CLI):
        if not os.access(b, os.X_OK):
            print('FAIL %s not built (run make)' % b)
            return 1
    tmp = tempfile.mkdtemp(prefix='mmr-http-test.')
    ctls = []
    try:
        return run(tmp, ctls)
    finally:
        for c in ctls:
            c.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp, ctls):
    env = {'MMR_TEST_NO_AUTH': '1'} if NO_AUTH else {}
    c = Controller(tmp, 'plain', 'http_listen = "127.0.0.1:0";\nhttp_cors_origins = [ "%s" ];\n' % ORIGIN, env)
    ctls.append(c)
    c.start()
    check(c.port and c.port > 0, 'the controller logs the HTTP port it listens on', str(c.port))

    # -- 7. mmrctl token mint --------------------------------------------------------------------
    rc, out, err = c.ctl('token', 'mint', '--secret-file', c.secret_file, '--meeting', '*', '--identity', 'ops',
                         '--role', 'admin', '--ttl', '600')
    tok = out.strip()
    parts = tok.split('.')
    ok = rc == 0 and len(parts) == 3
    if ok:
        mac = b64u(hmac.new(c.secret, ('%s.%s' % (parts[0], parts[1])).encode(), hashlib.sha256).digest())
        pl = json.loads(base64.urlsafe_b64decode(parts[1] + '=' * (-len(parts[1]) % 4)))
        hd = json.loads(base64.urlsafe_b64decode(parts[0] + '=' * (-len(parts[0]) % 4)))
        ok = mac == parts[2] and pl['role'] == 'admin' and pl['meeting'] == '*' and pl['sub'] == 'ops' and \
            abs(pl['exp'] - time.time() - 600) < 5 and hd['alg'] == 'HS256'
    check(ok, 'mmrctl token mint: an HS256 JWT this test verifies with its own HMAC', out + err)
    for bad, why in ((['--role', 'root'], "bad --role 'root'"), (['--ttl', '0'], "bad --ttl '0'"),
                     (['--ttl', '10', '--ttl', '11'], 'given twice'), (['--colour', 'x'], "unknown option '--colour'")):
        base = {'--secret-file': c.secret_file, '--meeting': 'm1', '--identity': 'x', '--role': 'viewer',
                '--ttl': '60'}
        args = []
        for k, v in base.items():
            if k not in bad:
                args += [k, v]
        rc, out, err = c.ctl('token', 'mint', *(args + bad))
        check(rc == 1 and why in err and not out, 'mmrctl token mint %s: refused (%s)' % (' '.join(bad), why), err)

    api = Api(c.port, tok)

    # -- 1. every route ------------------------------------------------------------------------------
    st, js, h, _ = api.req('GET', '/v1/status')
    check(st == 200 and isinstance(js, dict) and h.get('content-type') == 'application/json' and
          h.get('cache-control') == 'no-store', 'GET /v1/status: 200 JSON, no-store', str((st, js)))
    st, js, _, _ = api.req('POST', '/v1/meetings', {'name': 'm1', 'plain': True})
    check(st == 200 and js == {'applied': True}, 'POST /v1/meetings m1 (plain): 200 applied (no dataplane command)',
          str((st, js)))
    check(c.ctl_json('meeting', 'show', 'm1')['srtp_suite'] is None, 'm1 asked plain: plain RTP')
    st, js, _, _ = api.req('POST', '/v1/meetings', {'name': 's1'})
    check(st == 200, 'POST /v1/meetings s1 (nothing said: SRTP by default)', str((st, js)))
    check(c.ctl_json('meeting', 'show', 's1')['srtp_suite'] == 'AEAD_AES_128_GCM', 's1 is SRTP AEAD_AES_128_GCM',
          str(c.ctl_json('meeting', 'show', 's1').get('srtp_suite')))
    st, js, _, _ = api.req('POST', '/v1/meetings', {'name': 't1', 'plain': True, 'top_n': 2})
    check(st in (200, 202) and c.ctl_json('meeting', 'show', 't1')['top_n'] == 2, 'POST /v1/meetings t1 with top_n 2',
          str((st, js)))
    names = sorted(m['name'] for m in c.ctl_json('meeting', 'list')['meetings'])
    check(names == ['m1', 's1', 't1'], 'mmrctl meeting list shows the three meetings', str(names))
    st, js, _, _ = api.req('PATCH', '/v1/meetings/t1', {'top_n': 0})
    check(st in (200, 202) and c.ctl_json('meeting', 'show', 't1')['top_n'] == 0, 'PATCH /v1/meetings/t1 top_n 0',
          str((st, js)))

    st, js, _, _ = api.req('POST', '/v1/meetings/m1/participants',
                           {'name': 'alice', 'addr': '10.0.0.1', 'port': 5000, 'role': 'sendrecv',
                            'rtcp': 'nack,pli,twcc', 'ext': 'twcc=3,audio-level=1', 'rtx': '96:97',
                            'mac': '02:00:00:00:00:0a', 'dp_port': 0})
    check(st == 202 and js.get('applied') is False and 'offline' in js.get('note', ''),
          'POST participants alice (every option): 202 applied false, dataplane offline', str((st, js)))
    st, js, _, _ = api.req('POST', '/v1/meetings/m1/participants', {'name': 'bob', 'addr': '10.0.0.2', 'port': 5000})
    check(st == 202, 'POST participants bob', str((st, js)))
    st, js, _, _ = api.req('POST', '/v1/meetings/m1/participants/alice/streams',
                           {'ssrc': 256, 'kind': 'video', 'codec': 'vp8', 'layers': 3})
    check(st == 202, 'POST streams: alice vp8 L1T3 SSRC 256', str((st, js)))
    st, js, _, _ = api.req('POST', '/v1/meetings/m1/participants/alice/streams',
                           {'ssrc': ['0x300', 769, '0x302'], 'kind': 'video', 'codec': 'vp8'})
    check(st == 202, 'POST streams: a simulcast group from a JSON array', str((st, js)))
    st, js, _, _ = api.req('POST', '/v1/meetings/m1/participants/alice/streams',
                           {'ssrc': 1000, 'kind': 'audio', 'codec': 'opus'})
    check(st == 202, 'POST streams: audio', str((st, js)))
    show = c.ctl_json('meeting', 'show', 'm1')
    alice = [p for p in show['participants'] if p['name'] == 'alice'][0]
    check(len(alice['streams']) == 5, 'mmrctl meeting show: alice has 5 streams', str(alice['streams'])[:300])
    st, js, _, _ = api.req('PATCH', '/v1/meetings/m1/participants/bob/subs/256', {'target': 0, 'out_ssrc': 4096})
    subs = c.ctl_json('sub', 'list', 'm1')
    check(st == 202 and '4096' in json.dumps(subs) or '0x00001000' in json.dumps(subs),
          'PATCH subs bob/256 target 0 out_ssrc 4096: in mmrctl sub list', str((st, js)))
    st, js, _, _ = api.req('PATCH', '/v1/meetings/m1/participants/bob/subs/0x301', {'encoding': 0, 'pin': True})
    check(st == 202, 'PATCH subs bob/0x301 encoding 0 pin', str((st, js)))

    # GETs equal mmrctl --json
    for path, cmd in (('/v1/meetings', ['meeting', 'list']), ('/v1/meetings/m1', ['meeting', 'show', 'm1']),
                      ('/v1/meetings/m1/participants', ['participant', 'list', 'm1']),
                      ('/v1/meetings/m1/participants/alice', ['participant', 'show', 'm1', 'alice']),
                      ('/v1/meetings/m1/subs', ['sub', 'list', 'm1'])):
        st, js, _, _ = api.req('GET', path)
        ref = c.ctl_json(*cmd)
        check(st == 200 and js == ref, 'GET %s equals mmrctl --json %s' % (path, ' '.join(cmd)),
              '%s %s vs %s' % (st, str(js)[:200], str(ref)[:200]))
    # offline, stats has no counters: the same error, 503
    st, js, _, _ = api.req('GET', '/v1/stats?streams=true&participants=true')
    rc, out, err = c.ctl('stats', '--streams', '--participants')
    check(st == 503 and rc == 1 and err.strip() == 'error: ' + js.get('error', ''),
          'GET /v1/stats?streams=true&participants=true offline: 503, the error of mmrctl stats', str((st, js, err)))

    # SRTP keys
    st, js, _, _ = api.req('POST', '/v1/meetings/s1/participants', {'name': 'carol', 'addr': '10.0.0.3', 'port': 5000})
    keys = c.ctl_json('participant', 'keys', 's1', 'carol')
    check(st == 202 and js.get('send_key') == keys['send_key'] and js.get('recv_key') == keys['recv_key'] and
          js['send_key'].startswith('inline:'), 'POST participants carol (SRTP): the keys mmrctl shows',
          str((st, list(js or {}))))
    st, js, _, _ = api.req('GET', '/v1/meetings/s1/participants/carol/keys')
    check(st == 200 and js == keys, 'GET .../carol/keys equals mmrctl participant keys', str(st))
    st, js, _, _ = api.req('POST', '/v1/meetings/s1/participants/carol/rekey')
    keys2 = c.ctl_json('participant', 'keys', 's1', 'carol')
    check(st == 202 and js.get('send_key') == keys2['send_key'] and keys2['send_key'] != keys['send_key'],
          'POST .../carol/rekey: new keys, those mmrctl shows', str(st))

    # removals
    st, js, _, _ = api.req('DELETE', '/v1/meetings/m1/participants/alice/streams/1000')
    check(st == 202 and '1000' not in json.dumps(c.ctl_json('meeting', 'show', 'm1')) and
          '0x000003e8' not in json.dumps(c.ctl_json('meeting', 'show', 'm1')), 'DELETE stream 1000', str((st, js)))
    st, js, _, _ = api.req('DELETE', '/v1/meetings/m1/participants/bob')
    parts = [p['name'] for p in c.ctl_json('participant', 'list', 'm1')]
    check(st == 202 and parts == ['alice'], 'DELETE participant bob', str((st, js, parts)))
    st, js, _, _ = api.req('DELETE', '/v1/meetings/t1')
    names = sorted(m['name'] for m in c.ctl_json('meeting', 'list')['meetings'])
    check(st == 200 and names == ['m1', 's1'], 'DELETE meeting t1', str((st, js, names)))

    # a change is answered as soon as its batch is durable, not at the loop's next heartbeat (a resumed
    # connection once waited ~100 ms for it)
    t0 = time.monotonic()
    sts = []
    for i in range(25):
        sts.append(api.req('POST', '/v1/meetings', {'name': 'q%d' % i})[0])
        sts.append(api.req('DELETE', '/v1/meetings/q%d' % i)[0])
    dt = time.monotonic() - t0
    check(all(x == 200 for x in sts) and dt < 4.0,
          '50 changes one after the other in %.2f s (< 4 s; ~5 s when each waited for the heartbeat)' % dt,
          str(sts[:4]))

    # -- 2. the same errors as mmrctl, nothing changed ------------------------------------------------
    cases = [
        ('POST', '/v1/meetings', {'name': 'm1'}, ['meeting', 'create', 'm1'], 409),
        ('GET', '/v1/meetings/nope', None, ['meeting', 'show', 'nope'], 404),
        ('DELETE', '/v1/meetings/nope', None, ['meeting', 'end', 'nope'], 404),
        ('POST', '/v1/meetings', {'name': 'x1', 'srtp': 'ROT13'}, ['meeting', 'create', 'x1', '--srtp', 'ROT13'], 400),
        ('POST', '/v1/meetings', {'name': 'x1', 'srtp': 'AEAD_AES_128_GCM', 'plain': True},
         ['meeting', 'create', 'x1', '--srtp', 'AEAD_AES_128_GCM', '--plain'], 400),
        ('POST', '/v1/meetings', {}, ['meeting', 'create'], 400),
        ('POST', '/v1/meetings', {'name': 'bad name'}, ['meeting', 'create', 'bad name'], 400),
        ('PATCH', '/v1/meetings/m1', {'top_n': 99}, ['meeting', 'set', 'm1', '--top-n', '99'], 400),
        ('PATCH', '/v1/meetings/m1', {}, ['meeting', 'set', 'm1'], 400),
        ('POST', '/v1/meetings/m1/move', {'lcore': 0}, ['meeting', 'move', 'm1', '--lcore', '0'], None),
        ('POST', '/v1/meetings/m1/participants', {'name': 'alice', 'addr': '10.0.0.9', 'port': 5000},
         ['participant', 'add', 'm1', 'alice', '--addr', '10.0.0.9', '--port', '5000'], 409),
        ('POST', '/v1/meetings/m1/participants', {'name': 'dave', 'addr': '10.0.0.1', 'port': 5000},
         ['participant', 'add', 'm1', 'dave', '--addr', '10.0.0.1', '--port', '5000'], 409),
        ('POST', '/v1/meetings/m1/participants', {'name': 'dave', 'addr': '10.0.0.9', 'port': 99999},
         ['participant', 'add', 'm1', 'dave', '--addr', '10.0.0.9', '--port', '99999'], 400),
        ('POST', '/v1/meetings/m1/participants', {'name': 'dave', 'port': 5000},
         ['participant', 'add', 'm1', 'dave', '--port', '5000'], 400),
        ('POST', '/v1/meetings/m1/participants', {'name': 'dave', 'addr': '224.0.0.1', 'port': 5000},
         ['participant', 'add', 'm1', 'dave', '--addr', '224.0.0.1', '--port', '5000'], 400),
        ('POST', '/v1/meetings/nope/participants', {'name': 'dave', 'addr': '10.0.0.9', 'port': 5000},
         ['participant', 'add', 'nope', 'dave', '--addr', '10.0.0.9', '--port', '5000'], 404),
        ('GET', '/v1/meetings/m1/participants/zed', None, ['participant', 'show', 'm1', 'zed'], 404),
        ('GET', '/v1/meetings/m1/participants/alice/keys', None, ['participant', 'keys', 'm1', 'alice'], 400),
        ('POST', '/v1/meetings/m1/participants/alice/streams', {'ssrc': 'zz', 'kind': 'video', 'codec': 'vp8'},
         ['stream', 'add', 'm1', 'alice', '--ssrc', 'zz', '--kind', 'video', '--codec', 'vp8'], 400),
        ('POST', '/v1/meetings/m1/participants/alice/streams', {'ssrc': 256, 'kind': 'video', 'codec': 'vp8'},
         ['stream', 'add', 'm1', 'alice', '--ssrc', '256', '--kind', 'video', '--codec', 'vp8'], 409),
        ('POST', '/v1/meetings/m1/participants/alice/streams', {'ssrc': 9, 'kind': 'video', 'codec': 'vp8',
                                                                 'spatial': 2},
         ['stream', 'add', 'm1', 'alice', '--ssrc', '9', '--kind', 'video', '--codec', 'vp8', '--spatial', '2'], 400),
        ('DELETE', '/v1/meetings/m1/participants/alice/streams/4242', None,
         ['stream', 'remove', 'm1', 'alice', '--ssrc', '4242'], 404),
        ('PATCH', '/v1/meetings/s1/participants/carol/subs/256', {},
         ['sub', 'set', 's1', 'carol', '--ssrc', '256'], None),
        ('PATCH', '/v1/meetings/m1/participants/alice/subs/256', {'target': 1},
         ['sub', 'set', 'm1', 'alice', '--ssrc', '256', '--target', '1'], None),
        ('POST', '/v1/dataplane/reset', {'yes_wipe': True}, ['dataplane', 'reset', '--yes-wipe'], 409),
        ('POST', '/v1/dataplane/reset', {}, ['dataplane', 'reset'], 400),
    ]
    for method, path, body, cmd, want in cases:
        before = c.snapshot()
        st, js, _, _ = api.req(method, path, body)
        rc, out, err = c.ctl(*cmd)
        after = c.snapshot()
        same = js is not None and rc == 1 and err.strip() == 'error: ' + js.get('error', '')
        check(same and (want is None or st == want) and st >= 400,
              '%s %s %s: %s, the error mmrctl %s gives' % (method, path, json.dumps(body) if body else '', st,
                                                           ' '.join(cmd)),
              'http %s %s / mmrctl rc %d %r' % (st, js, rc, err.strip()))
        check(before == after, '  ... and nothing changed')

    # -- 3. authentication -----------------------------------------------------------------------------
    forged_key = b'not-the-zone-secret-not-the-zone-secret'
    bad_tokens = [
        ('no token', None, 'missing bearer token'),
        ('Basic scheme', 'BASIC', "must be 'Bearer TOKEN'"),
        ('forged signature', make_token(c.secret, claims(), key=forged_key), 'signature is invalid'),
        ('alg none', make_token(c.secret, claims(), header={'alg': 'none'}, sign=False), "algorithm 'none'"),
        ('alg none, signed', make_token(c.secret, claims(), header={'alg': 'none', 'typ': 'JWT'}), "algorithm 'none'"),
        ('alg RS256', make_token(c.secret, claims(), header={'alg': 'RS256'}), "algorithm 'RS256'"),
        ('expired', make_token(c.secret, claims(exp_in=-5)), 'token expired at'),
        ('not yet valid', make_token(c.secret, claims(nbf_in=300)), 'not valid before'),
        ('malformed', 'abc.def', 'not three base64url parts'),
        ('bad base64', make_token(c.secret, claims())[:-3] + '*!*', 'not base64url'),
        ('oversized', 'e' * 5000 + '.x.y', 'token is too long'),
        ('unknown claim', make_token(c.secret, dict(claims(), admin=True)), "unknown claim 'admin'"),
    ]
    for what, t, why in bad_tokens:
        before = c.snapshot()
        if t == 'BASIC':
            st, js, h, _ = api.req('POST', '/v1/meetings', {'name': 'evil'}, token=None,
                                   headers={'Authorization': 'Basic b3BzOm9wcw=='})
        else:
            st, js, h, _ = api.req('POST', '/v1/meetings', {'name': 'evil'}, token=t)
        check(st == 401 and js and why in js.get('error', '') and 'Bearer' in h.get('www-authenticate', ''),
              '401 for %s (%s)' % (what, why), '%s %s' % (st, js))
        check(before == c.snapshot(), '  ... and nothing changed')
    for what, t, path, body in (
            ('viewer token', make_token(c.secret, claims(role='viewer')), '/v1/meetings', {'name': 'evil'}),
            ('publisher token', make_token(c.secret, claims(role='publisher', meeting='m1')),
             '/v1/meetings/m1/participants', {'name': 'evil', 'addr': '10.9.9.9', 'port': 1}),
            ('admin of meeting s1 on the zone', make_token(c.secret, claims(meeting='s1')), '/v1/meetings',
             {'name': 'evil'}),
            ('admin of meeting s1 on m1', make_token(c.secret, claims(meeting='s1')),
             '/v1/meetings/m1/participants', {'name': 'evil', 'addr': '10.9.9.9', 'port': 1})):
        before = c.snapshot()
        st, js, _, _ = api.req('POST', path, body, token=t)
        check(st == 403 and js and js.get('error'), '403 for a %s' % what, '%s %s' % (st, js))
        check(before == c.snapshot(), '  ... and nothing changed')
    s1tok = make_token(c.secret, claims(meeting='s1'))
    st, js, _, _ = api.req('GET', '/v1/meetings/s1', token=s1tok)
    check(st == 200 and js.get('name') == 's1', 'an admin token of meeting s1 reads s1', str(st))
    st, js, _, _ = api.req('POST', '/v1/meetings/s1/participants', {'name': 'erin', 'addr': '10.0.0.5', 'port': 5000},
                           token=s1tok)
    check(st == 202 and 'erin' in json.dumps(c.ctl_json('participant', 'list', 's1')),
          'an admin token of meeting s1 adds a participant to s1', str((st, js)))

    # -- 4. bad requests --------------------------------------------------------------------------------
    bad_reqs = [
        ('not JSON', 'POST', '/v1/meetings', b'{"name": ', 'application/json', 400, 'not JSON'),
        ('not an object', 'POST', '/v1/meetings', b'["m9"]', 'application/json', 400, 'must be a JSON object'),
        ('unknown field', 'POST', '/v1/meetings', b'{"name": "m9", "colour": "red"}', 'application/json', 400,
         "unknown field 'colour'"),
        ('duplicate field', 'POST', '/v1/meetings', b'{"name": "m9", "name": "m8"}', 'application/json', 400,
         'not JSON'),
        ('wrong type', 'POST', '/v1/meetings', b'{"name": "m9", "plain": "yes"}', 'application/json', 400,
         "'plain' must be true or false"),
        ('a leading dash', 'POST', '/v1/meetings', b'{"name": "--json"}', 'application/json', 400,
         "bad meeting name '--json'"),
        ('body on GET', 'GET', '/v1/meetings', b'{}', 'application/json', 400, 'takes no request body'),
        ('text/plain', 'POST', '/v1/meetings', b'{"name": "m9"}', 'text/plain', 415, 'must be JSON'),
        ('no Content-Type', 'POST', '/v1/meetings', b'{"name": "m9"}', None, 415, 'must be JSON'),
        ('100 KB body', 'POST', '/v1/meetings', b'{"name": "m9", "x": "' + b'a' * 100000 + b'"}', 'application/json',
         413, 'too large'),
        ('PUT', 'PUT', '/v1/meetings', b'{"name": "m9"}', 'application/json', 405, 'not allowed'),
        ('unknown path', 'POST', '/v1/rooms', b'{"name": "m9"}', 'application/json', 404, 'no such resource'),
        ('unknown query parameter', 'GET', '/v1/stats?all=1', None, None, 400, "unknown query parameter 'all'"),
        ('escaped name', 'GET', '/v1/meetings/m%31', None, None, 400, "bad meeting name 'm%31'"),
    ]
    for what, method, path, raw, ctype, want, why in bad_reqs:
        before = c.snapshot()
        st, js, h, _ = api.req(method, path, raw=raw, ctype=ctype)
        check(st == want and js and why in js.get('error', ''), '%d for %s' % (want, what), '%s %s' % (st, js))
        if want == 405:
            check(h.get('allow') == 'GET, POST, OPTIONS', '  ... with Allow: GET, POST, OPTIONS', str(h.get('allow')))
        check(before == c.snapshot(), '  ... and nothing changed')
    st, js, _, _ = api.req('GET', '/v1/meetings')
    check(st == 200, 'the server still answers after the bad requests', str(st))

    # -- 5. CORS -----------------------------------------------------------------------------------------
    st, js, h, _ = api.req('OPTIONS', '/v1/meetings/m1', token=None,
                           headers={'Origin': ORIGIN, 'Access-Control-Request-Method': 'DELETE',
                                    'Access-Control-Request-Headers': 'authorization'})
    check(st == 204 and h.get('access-control-allow-origin') == ORIGIN and
          'DELETE' in h.get('access-control-allow-methods', '') and
          'Authorization' in h.get('access-control-allow-headers', ''),
          'CORS preflight from %s: 204 with Allow-Origin/Methods/Headers' % ORIGIN, str((st, h)))
    st, js, h, _ = api.req('OPTIONS', '/v1/meetings/m1', token=None, headers={'Origin': 'https://evil.example'})
    check(st == 204 and 'access-control-allow-origin' not in h, 'CORS preflight from another origin: no Allow-Origin',
          str((st, h)))
    st, js, h, _ = api.req('GET', '/v1/meetings', headers={'Origin': ORIGIN})
    check(st == 200 and h.get('access-control-allow-origin') == ORIGIN, 'GET from %s carries Allow-Origin' % ORIGIN,
          str(h))
    st, js, h, _ = api.req('OPTIONS', '/v1/nothing', token=None, headers={'Origin': ORIGIN})
    check(st == 404, 'preflight of an unknown path: 404', str(st))

    # docs/openapi.yaml names exactly the server's routes (each answered by a route: not "no such
    # resource", not 405; and no route the server takes is missing from it)
    try:
        import yaml
        spec = yaml.safe_load(open(os.path.join(ROOT, 'docs', 'openapi.yaml')))
    except ImportError:
        spec = None
    if check(spec is not None, 'docs/openapi.yaml loads (python3-yaml)'):
        bad = []
        n = 0
        for path, item in spec['paths'].items():
            concrete = path.replace('{meeting}', 'nomeeting').replace('{participant}', 'nobody').replace('{ssrc}', '1') \
                .replace('{session}', '0' * 32).replace('{file}', 'nofile.html') \
                .replace('{slot}', '0').replace('{k}', '0').replace('{host}', 'nohost')
            for method in ('get', 'post', 'patch', 'delete', 'put'):
                st, js, _, _ = api.req(method.upper(), concrete, {} if method in ('post', 'patch', 'put') else None)
                routed = st != 405 and not (st == 404 and 'no such resource' in (js or {}).get('error', ''))
                n += method in item
                if routed != (method in item):
                    bad.append('%s %s: %s %s' % (method.upper(), path, st, js))
        check(not bad and n == 50, 'docs/openapi.yaml: its %d operations are exactly the routes the server takes' % n,
              '; '.join(bad))

    # -- 9. with a (stand-in) dataplane attached: changes wait for it, suspended -----------------------------
    standin = os.path.join(BUILD, 'tests', 'integration', 'standin_dp')
    if check(os.access(standin, os.X_OK), 'the stand-in dataplane is built (%s)' % standin):
        dp = subprocess.Popen([standin, c.shm], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            dp.stdout.readline()
            attached = False
            for _ in range(200):
                if c.ctl_json('status').get('dataplane', {}).get('attached') or \
                        '"attached": true' in c.ctl('--json', 'status')[1]:
                    attached = True
                    break
                time.sleep(0.05)
            check(attached, 'the controller attached to the stand-in dataplane')
            st, js, _, _ = api.req('POST', '/v1/meetings/m1/participants', {'name': 'gina', 'addr': '10.0.1.1',
                                                                              'port': 5000})
            check(st == 200 and js == {'applied': True}, 'attached: a change waits for the dataplane, 200 applied',
                  str((st, js)))
            results = []

            def add(i):
                results.append(api.req('POST', '/v1/meetings/m1/participants',
                                       {'name': 'p%d' % i, 'addr': '10.0.2.%d' % (i + 1), 'port': 5000})[:2])
            threads = [threading.Thread(target=add, args=(i,)) for i in range(16)]
            for t_ in threads:
                t_.start()
            for t_ in threads:
                t_.join()
            names = {p['name'] for p in c.ctl_json('participant', 'list', 'm1')}
            check(len(results) == 16 and all(r == (200, {'applied': True}) for r in results) and
                  all('p%d' % i in names for i in range(16)),
                  '16 concurrent changes (16 suspended connections): all 200 applied, all in mmrctl',
                  str(results[:3]))
            os.kill(dp.pid, signal.SIGSTOP)
            out = {}

            def slow():
                t0 = time.monotonic()
                out['r'] = api.req('POST', '/v1/meetings/m1/participants', {'name': 'hank', 'addr': '10.0.1.2',
                                                                             'port': 5000})[:2]
                out['dt'] = time.monotonic() - t0
            th = threading.Thread(target=slow)
            th.start()
            time.sleep(0.05)
            t0 = time.monotonic()
            st, _, _, _ = api.req('GET', '/v1/meetings/m1/participants/gina')
            dt_get = time.monotonic() - t0
            th.join()
            st2, js2 = out['r']
            check(st2 == 202 and js2.get('applied') is False and 'within 300 ms' in js2.get('note', '') and
                  out['dt'] >= 0.29, 'dataplane stopped: the change answers 202 after apply_timeout_ms (%.0f ms)' %
                  (out['dt'] * 1000), str((st2, js2)))
            check(st == 200 and dt_get < 0.25, 'meanwhile a GET is answered at once (%.0f ms): the loop never blocks' %
                  (dt_get * 1000), str(st))
            os.kill(dp.pid, signal.SIGCONT)
        finally:
            os.kill(dp.pid, signal.SIGCONT)
            dp.terminate()
            dp.wait(10)

    # keys never in the log
    log = open(c.log).read()
    check('inline:' not in log and c.secret.decode() not in log and tok not in log,
          'no SRTP key, token or secret in the controller log')

    # -- 6. HTTPS and config errors --------------------------------------------------------------------------
    d = os.path.join(tmp, 'certs')
    os.makedirs(d)
    cert, key = os.path.join(d, 'cert.pem'), os.path.join(d, 'key.pem')
    cp = subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                         '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
                         '-addext', 'subjectAltName=IP:127.0.0.1'], capture_output=True, text=True)
    check(cp.returncode == 0, 'openssl made a self-signed certificate', cp.stderr[-300:])
    t = Controller(tmp, 'tls', 'http_listen = "127.0.0.1:0";\nhttp_tls_cert = "%s";\nhttp_tls_key = "%s";\n'
                   % (cert, key), env)
    ctls.append(t)
    t.start()
    ctx = ssl.create_default_context(cafile=cert)
    ttok = make_token(t.secret, claims())
    st, js, _, _ = Api(t.port, ttok, ctx).req('POST', '/v1/meetings', {'name': 'sec'})
    check(st == 200 and [m['name'] for m in t.ctl_json('meeting', 'list')['meetings']] == ['sec'],
          'HTTPS (certificate verified): POST /v1/meetings', str((st, js)))
    st, js, _, _ = Api(t.port, ttok, ctx).req('GET', '/v1/meetings/sec')
    check(st == 200 and js == t.ctl_json('meeting', 'show', 'sec'), 'HTTPS: GET equals mmrctl', str(st))
    try:
        st, js, _, _ = Api(t.port, ttok).req('GET', '/v1/meetings')
        plain_ok = True
    except (OSError, http.client.HTTPException):
        plain_ok = False
    check(not plain_ok, 'the HTTPS port does not answer plain HTTP')
    st, js, _, _ = Api(t.port, make_token(c.secret, claims()), ctx).req('GET', '/v1/meetings')
    check(st == 401, "a token signed with another zone's secret: 401", str(st))

    for name, conf, want_rc, why in (
            ('public', 'http_listen = "0.0.0.0:0";\n', 2, 'plain HTTP is allowed on loopback only'),
            ('public6', 'http_listen = "[::]:0";\n', 2, 'plain HTTP is allowed on loopback only'),
            ('halftls', 'http_listen = "127.0.0.1:0";\nhttp_tls_cert = "%s";\n' % cert, 2, 'go together'),
            ('badaddr', 'http_listen = "localhost:80";\n', 2, 'is not an IPv4 address'),
            ('cors', 'http_listen = "127.0.0.1:0";\nhttp_cors_origins = [ "meet.example.com" ];\n', 2,
             'http_cors_origins'),
            ('opensecret', 'http_listen = "127.0.0.1:0";\n', 1, 'must not be readable by group or others'),
            ('badkey', 'http_listen = "127.0.0.1:0";\nhttp_tls_cert = "%s";\nhttp_tls_key = "%s";\n' % (cert, cert), 1,
             'cannot listen')):
        x = Controller(tmp, 'cfg-' + name, conf)
        if name == 'opensecret':
            os.chmod(x.secret_file, 0o644)
        cp = subprocess.run([CTL, '-c', x.conf], capture_output=True, text=True, timeout=20)
        check(cp.returncode == want_rc and why in cp.stderr, 'config %s: exit %d, "%s"' % (name, want_rc, why),
              'exit %d: %s' % (cp.returncode, cp.stderr.strip()[-300:]))
    x = Controller(tmp, 'cfg-notoken', '')
    with open(x.conf) as f:
        text = f.read().replace('token_secret_file', '# token_secret_file')
    with open(x.conf, 'w') as f:
        f.write(text + 'http_listen = "127.0.0.1:0";\n')
    cp = subprocess.run([CTL, '-c', x.conf], capture_output=True, text=True, timeout=20)
    check(cp.returncode == 2 and 'http_listen needs token_secret_file' in cp.stderr,
          'config: http_listen without token_secret_file: exit 2', cp.stderr.strip())

    c.stop()
    t.stop()
    check(c.proc.returncode == 0 and t.proc.returncode == 0, 'both controllers stop cleanly on SIGTERM',
          '%s %s' % (c.proc.returncode, t.proc.returncode))
    print('%d checks, %d failed' % (checks, failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
