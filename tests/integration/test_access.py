#!/usr/bin/python3
"""
test_access.py - roles, permissions, passcodes, the audit log and the control socket (issue 15:
control/perm.h, passcode.h, audit.h, controller.c) with the real controller and dataplane on net_tap
(tests/lib/mmrtest.py), recorded browser offers (tests/fixtures/sdp), tokens made with hmac (tests/lib/mmrhttp.py).

 1. roles on the REST routes: viewer / participant / co-host / host tokens on routes their role does
    not allow 403 naming the permission; an expired and a forged token 401; a host token with meeting
    "*" 403; a host of another meeting 403; nothing changes after any of them (state file, passcodes,
    participant list). A host reads its meeting (200); only an admin token reads keys (200).
 2. the join endpoints: a viewer's /join offer that sends media 403 ("may not send"), a viewer on
    /whip 403; a viewer's recvonly /join and /whep 201.
 3. passcodes: set by admin (PUT), replaced by a host, refused to a participant (403) and when too
    short (400); joins without it / with a wrong one 403 and nothing changes; with it 201; five wrong
    from one address then 429 with Retry-After (also for the right one: nothing changes), another
    address still joins; five wrong of one identity from several addresses then 429 for it while
    another identity joins; a hundred wrong for one meeting from several identities then 429 for every
    address; a host token's join is a host past the waiting room, a participant's waits; the
    passcode is in no log, no audit entry, and the passcodes file holds a hash only.
 4. the audit log: GET /v1/audit (admin "*": 200; admin of one meeting, host: 403) and `mmrctl audit`
    show the refusals above (who, role, from, what, status), the passcode changes, the key read, the
    socket's changes (uid 0), a refused socket peer; audit.log beside the state file (0600) has them.
 5. the control socket: mode 0660; a peer not root or in the admin group (uid 65534 through a socket
    opened up to it) gets "permission denied" and nothing runs; 70 idle connections held open,
    `mmrctl status` answers in < 1 s (before: no answer until idle ones were closed).

Negative control (tests/run-all.sh): --no-auth runs the controller with MMR_TEST_NO_AUTH=1 (every
request is an admin's): the role checks must FAIL.
"""
import http.client
import json
import os
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, MMR_PORT  # noqa: E402
from mmrhttp import http_conf, http_port, make_token, offer, token_secret  # noqa: E402,F401

PASS1, PASS2 = 'k7-Lq93x', 'Zr4-77pw'


class Http:
    def __init__(self, port):
        self.port = port

    def req(self, method, path, body=None, token=None, ctype=None, headers=None, src='127.0.0.1'):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10, source_address=(src, 0))
        h = dict(headers or {})
        if token:
            h['Authorization'] = 'Bearer ' + token
        if body is not None:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                ctype = ctype or 'application/json'
            h['Content-Type'] = ctype
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        text = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        try:
            js = json.loads(text)
        except ValueError:
            js = None
        return r.status, hdrs, text, js


def body(c):
    secret, secret_file = token_secret('access')
    env = MmrEnv('access', asan=os.environ.get('MMR_TEST_ASAN') == '1')
    env.extra_ctl_conf = http_conf(secret_file, MMR_IP, MMR_PORT)
    with env:
        env.wait_dp_attached()
        port = http_port(env)
        if not c.check(port, 'the controller listens for HTTP', ''):
            return
        api = Http(port)
        T = lambda sub, role, meeting='web', **kw: make_token(secret, sub, meeting, role, **kw)  # noqa: E731
        ADMIN = T('ops', 'admin', '*')
        env.ctl('meeting', 'create', 'web', '--srtp', 'AEAD_AES_128_GCM')
        env.ctl('meeting', 'create', 'other', '--srtp', 'AEAD_AES_128_GCM')
        env.ctl('participant', 'add', 'web', 'alice', '--addr', '10.0.0.9', '--port', '7000')
        sdir = os.path.dirname(env.state_file)
        pc_file = os.path.join(sdir, 'passcodes')
        audit_file = os.path.join(sdir, 'audit.log')

        def snapshot():
            out = []
            for p in (env.state_file, env.state_file + '.journal', pc_file):
                try:
                    out.append(open(p, 'rb').read())
                except OSError:
                    out.append(None)
            for m in ('web', 'other'):
                out.append(json.dumps(env.ctl('participant', 'list', m, json=True).stdout, sort_keys=True))
            return out

        # -- 1. roles on the REST routes ------------------------------------------------------------------
        cases = [
            ('viewer reads the meeting', T('v1', 'viewer'), 'GET', '/v1/meetings/web', None, 403, 'permission view'),
            ('participant adds a participant', T('p1', 'participant'), 'POST', '/v1/meetings/web/participants',
             {'name': 'evil', 'addr': '10.9.9.9', 'port': 1}, 403, 'permission manage'),
            ('host adds a participant', T('h1', 'host'), 'POST', '/v1/meetings/web/participants',
             {'name': 'evil', 'addr': '10.9.9.9', 'port': 1}, 403, 'permission manage'),
            ('host reads keys', T('h1', 'host'), 'GET', '/v1/meetings/web/participants/alice/keys', None, 403,
             'permission read_keys'),
            ('host rekeys', T('h1', 'host'), 'POST', '/v1/meetings/web/participants/alice/rekey', {}, 403,
             'permission read_keys'),
            ('co-host ends the meeting', T('c1', 'co-host'), 'DELETE', '/v1/meetings/web', None, 403,
             'permission lock_end'),
            ('host reads the zone status', T('h1', 'host'), 'GET', '/v1/status', None, 403, 'permission operate'),
            ('host with meeting "*"', T('h1', 'host', '*'), 'DELETE', '/v1/meetings/web', None, 403,
             'for admin (operator) tokens only'),
            ('host of another meeting', T('h2', 'host', 'other'), 'DELETE', '/v1/meetings/web', None, 403,
             "for meeting 'other' only"),
            ('viewer sets the passcode', T('v1', 'viewer'), 'PUT', '/v1/meetings/web/passcode', {'passcode': '12345'},
             403, 'permission passcode'),
            ('participant reads the audit log', T('p1', 'participant'), 'GET', '/v1/audit', None, 403,
             'permission operate'),
            ('expired admin token', T('ops', 'admin', '*', exp_in=-5), 'DELETE', '/v1/meetings/web', None, 401,
             'token expired'),
            ('forged admin token', T('ops', 'admin', '*', key=b'y' * 48), 'DELETE', '/v1/meetings/web', None, 401,
             'signature is invalid'),
        ]
        for what, tok, method, path, b, want, why in cases:
            before = snapshot()
            st, h, text, js = api.req(method, path, b, token=tok)
            c.check(st == want and js and why in js.get('error', ''), '%s: %d (%s)' % (what, want, why),
                    '%s %s' % (st, text[:300]))
            c.check(before == snapshot(), '  ... and nothing changed')
        st, _, _, js = api.req('GET', '/v1/meetings/web', token=T('h1', 'host'))
        c.check(st == 200 and js and js.get('name') == 'web', 'a host reads its meeting: 200', str(st))
        st, _, _, js = api.req('GET', '/v1/meetings/web/participants/alice/keys', token=T('ops2', 'admin'))
        c.check(st == 200 and js and 'inline:' in json.dumps(js), 'an admin of the meeting reads keys: 200', str(st))

        # -- 2. the join endpoints ------------------------------------------------------------------------
        chrome, viewer = offer('chromium_sendrecv.sdp'), offer('chromium_viewer.sdp')
        before = snapshot()
        st, h, text, js = api.req('POST', '/v1/meetings/web/join', chrome, token=T('v2', 'viewer'), ctype='application/sdp')
        c.check(st == 403 and js and "role 'viewer' may not send" in js.get('error', ''),
                "a viewer's /join offer that sends media: 403 may not send", '%s %s' % (st, text[:300]))
        st, h, text, js = api.req('POST', '/v1/meetings/web/whip', chrome, token=T('v3', 'viewer'), ctype='application/sdp')
        c.check(st == 403 and js and "role 'viewer'" in js.get('error', ''), 'a viewer on /whip: 403', str(st))
        c.check(before == snapshot(), '  ... and nothing changed')
        st, h, text, js = api.req('POST', '/v1/meetings/web/join', viewer, token=T('v4', 'viewer'), ctype='application/sdp')
        c.check(st == 201, "a viewer's recvonly /join: 201", '%s %s' % (st, text[:300]))
        st, h, text, js = api.req('POST', '/v1/meetings/web/whep', viewer, token=T('v5', 'viewer'), ctype='application/sdp')
        c.check(st == 201, 'a viewer on /whep: 201', '%s %s' % (st, text[:300]))

        # -- 3. passcodes -----------------------------------------------------------------------------------
        st, _, text, js = api.req('PUT', '/v1/meetings/web/passcode', {'passcode': 'x' * 20}, token=ADMIN)
        c.check(st == 200 and js and js.get('passcode') is True, 'admin sets the passcode: 200', '%s %s' % (st, text))
        st, _, text, js = api.req('PUT', '/v1/meetings/web/passcode', {'passcode': PASS1}, token=T('h1', 'host'))
        c.check(st == 200, 'the host replaces it: 200', '%s %s' % (st, text))
        before = snapshot()
        st, _, text, js = api.req('PUT', '/v1/meetings/web/passcode', {'passcode': 'zzzz'}, token=T('p1', 'participant'))
        c.check(st == 403, 'a participant sets it: 403', str(st))
        st, _, text, js = api.req('PUT', '/v1/meetings/web/passcode', {'passcode': '12'}, token=ADMIN)
        c.check(st == 400 and js and '4-64 characters' in js.get('error', ''), 'a 2-character passcode: 400', text)
        cp = env.ctl('meeting', 'passcode', 'web', '--passcode', 'a b c d', check=False)
        c.check(cp.returncode != 0 and 'without spaces' in cp.stderr, 'mmrctl meeting passcode with spaces: refused',
                cp.stderr)
        c.check(before == snapshot(), '  ... and nothing changed')
        pcs = open(pc_file).read() if os.path.exists(pc_file) else ''
        c.check(pcs.startswith('web ') and PASS1 not in pcs and oct(os.stat(pc_file).st_mode & 0o777) == '0o600',
                'the passcodes file: 0600, web with a hash, not the passcode', pcs[:200])

        def join(sub, src='127.0.0.1', pc=None, meeting='web'):
            hd = {'MMR-Passcode': pc} if pc is not None else {}
            return api.req('POST', '/v1/meetings/%s/whip' % meeting, chrome, token=T(sub, 'participant', meeting),
                           ctype='application/sdp', headers=hd, src=src)

        before = snapshot()
        st, _, text, js = join('q1', src='127.0.0.2')
        c.check(st == 403 and js and 'needs a passcode (header MMR-Passcode)' in js.get('error', ''),
                'a join without the passcode: 403 needs a passcode', '%s %s' % (st, text[:200]))
        st, _, text, js = join('q2', src='127.0.0.2', pc='wrong-one')
        c.check(st == 403 and js and "wrong passcode for meeting 'web'" in js.get('error', ''),
                'a join with a wrong passcode: 403 wrong passcode', '%s %s' % (st, text[:200]))
        c.check(before == snapshot(), '  ... and nothing changed')
        st, _, text, js = join('q3', src='127.0.0.3', pc=PASS1)
        c.check(st == 201, 'a join with the passcode: 201', '%s %s' % (st, text[:200]))
        # per address: 5 wrong (2 above), then 429 even with the right one
        for i in range(3):
            join('w%d' % i, src='127.0.0.2', pc='bad%d' % i)
        before = snapshot()
        st, h, text, js = join('w9', src='127.0.0.2', pc=PASS1)
        c.check(st == 429 and h.get('retry-after', '').isdigit() and int(h['retry-after']) >= 1,
                'after 5 wrong passcodes from one address: 429 with Retry-After, even the right one',
                '%s %s %s' % (st, h.get('retry-after'), text[:200]))
        c.check(before == snapshot(), '  ... and nothing changed')
        env.ctl('participant', 'remove', 'web', 'q3')    # (the same offer again: its SSRCs)
        st, _, text, js = join('q4', src='127.0.0.4', pc=PASS1)
        c.check(st == 201, 'another address still joins with the passcode: 201', '%s %s' % (st, text[:200]))
        # per identity: one token holder guessing from ever new addresses is stopped after about 5,
        # and does not lock the meeting's other invitees out
        # `--passcode -`: from stdin, not the command line (ps shows that to every user)
        cp = subprocess.run([env.mmrctl_bin, '-S', env.socket_path, 'meeting', 'passcode', 'other', '--passcode', '-'],
                            input=PASS2 + '\n', capture_output=True, text=True, timeout=20, env=env._env())
        c.check(cp.returncode == 0 and 'passcode set' in cp.stdout, 'mmrctl meeting passcode --passcode - (stdin)',
                (cp.returncode, cp.stdout, cp.stderr))
        cp = subprocess.run([env.mmrctl_bin, '-S', env.socket_path, 'meeting', 'passcode', 'other', '--passcode', '-'],
                            input='', capture_output=True, text=True, timeout=20, env=env._env())
        c.check(cp.returncode == 1 and 'no line on stdin' in cp.stderr, 'mmrctl --passcode - with nothing on stdin: '
                'a usage error', (cp.returncode, cp.stderr))
        got = []
        for i in range(30):
            st, h, text, js = join('mallory', src='127.0.3.%d' % (i + 1), pc='nope%d' % i, meeting='other')
            got.append(st)
            if st == 429:
                break
        c.check(got[-1] == 429 and 5 <= len(got) - 1 <= 8 and set(got[:-1]) == {403} and
                h.get('retry-after', '').isdigit(),
                'wrong passcodes of one identity from ever new addresses: 429 (Retry-After) after about 5',
                str(got))
        st, _, text, js = join('olga', src='127.0.4.1', pc=PASS2, meeting='other')
        c.check(st == 201, 'another identity still joins with the passcode (no lockout by one guesser): 201',
                '%s %s' % (st, text[:200]))
        env.ctl('participant', 'remove', 'other', 'olga')
        # per meeting: wrong ones from ever new addresses and identities (each far under its own
        # limits) until the meeting's last cap (burst 100, 5/s; mallory's wrong ones above counted) refuses
        # a fresh one
        got = []
        for i in range(200):
            st, h, text, js = join('m%d' % i, src='127.1.%d.%d' % (i // 200, i % 200 + 1), pc='nope%d' % i,
                                   meeting='other')
            got.append(st)
            if st == 429:
                break
        c.check(got[-1] == 429 and 90 <= len(got) - 1 <= 180 and set(got[:-1]) == {403} and
                h.get('retry-after', '').isdigit(),
                'wrong passcodes for one meeting from ever new addresses and identities: 429 (Retry-After) '
                'after about 100', '%d: %s' % (len(got), got[-3:]))
        env.ctl('participant', 'remove', 'web', 'q4')
        # a host's token joins as a host, past the waiting room; a participant's waits
        env.ctl('meeting', 'set', 'web', '--waiting-room', 'on')
        st, _, text, js = api.req('POST', '/v1/meetings/web/whip', chrome, token=T('hana', 'host'),
                                  ctype='application/sdp', src='127.0.5.1')
        ps = env.ctl('participant', 'show', 'web', 'hana', json=True, check=False).stdout if st == 201 else {}
        c.check(st == 201 and isinstance(ps, dict) and ps.get('host') is True and ps.get('waiting') is False,
                'a host token\'s join: 201, the participant a host and admitted (waiting room on)',
                '%s %s' % (st, ps if st == 201 else text[:200]))
        if st == 201:
            env.ctl('participant', 'remove', 'web', 'hana')
        st, _, text, js = join('pat', src='127.0.5.2', pc=PASS1)
        ps = env.ctl('participant', 'show', 'web', 'pat', json=True, check=False).stdout if st == 201 else {}
        c.check(st == 201 and isinstance(ps, dict) and ps.get('host') is False and ps.get('waiting') is True,
                'a participant token\'s join: 201, not a host, waiting', '%s %s' % (st, ps if st == 201 else text[:200]))
        if st == 201:
            env.ctl('participant', 'remove', 'web', 'pat')
        env.ctl('meeting', 'set', 'web', '--waiting-room', 'off')
        st, _, text, js = join('m10', src='127.0.2.2', pc=PASS1)
        c.check(st == 201, 'another meeting is not limited by it: 201', '%s %s' % (st, text[:200]))
        logs = env.log_text('both')
        c.check(PASS1 not in logs and PASS2 not in logs, 'no passcode in the controller or dataplane log')

        # -- 4. the audit log -----------------------------------------------------------------------------
        st, _, text, js = api.req('GET', '/v1/audit', token=ADMIN)
        ents = js.get('entries', []) if st == 200 and js else []
        c.check(st == 200 and len(ents) > 20, 'GET /v1/audit with an admin token for every meeting: 200',
                '%s %d' % (st, len(ents)))
        for tok, what in ((T('ops2', 'admin'), 'an admin of one meeting'), (T('h1', 'host'), 'a host')):
            st, _, text, _ = api.req('GET', '/v1/audit', token=tok)
            c.check(st == 403, 'GET /v1/audit by %s: 403' % what, str(st))

        def has(pred, what):
            hit = [e for e in ents if pred(e)]
            return c.check(hit, 'audit: %s' % what, json.dumps(ents[-5:])[:600])
        has(lambda e: e['who'] == 'v1 (viewer, meeting web)' and e['from'] == '127.0.0.1' and
            e['what'] == 'GET /v1/meetings/web' and e['result'].startswith('403 '), 'the viewer\'s 403 with who/from/what')
        has(lambda e: e['who'] == '(no token)' or 'token expired' in e['result'], 'the expired token\'s 401')
        has(lambda e: e['what'] == 'PUT /v1/meetings/web/passcode' and e['result'].startswith('200') and
            e['who'].startswith('h1 (host'), 'the host\'s passcode change')
        has(lambda e: e['what'] == 'GET /v1/meetings/web/participants/alice/keys' and e['result'].startswith('200'),
            'the key read')
        has(lambda e: e['from'] == '127.0.0.2' and 'wrong passcode' in e['result'], 'the wrong passcode (403)')
        has(lambda e: e['from'] == '127.0.0.2' and e['result'].startswith('429'), 'the passcode rate limit (429)')
        has(lambda e: e['what'] == 'POST /v1/meetings/web/whip' and e['result'].startswith('201') and
            e['who'].startswith('q3 (participant'), 'the join (201)')
        has(lambda e: e['who'] == 'uid 0' and e['from'] == 'unix' and e['what'] == 'meeting create web --srtp '
            'AEAD_AES_128_GCM' and e['result'] == 'ok', 'the socket\'s meeting create (uid 0)')
        has(lambda e: e['what'].startswith('meeting passcode other --passcode') and '(secret)' in e['what'],
            'the socket\'s passcode change, its value hidden')
        c.check(all(PASS1 not in json.dumps(e) and PASS2 not in json.dumps(e) for e in ents),
                'no passcode in any audit entry')
        cp = env.ctl('audit', '--limit', '3', json=True)
        c.check(len(cp.stdout.get('entries', [])) == 3 and cp.stdout.get('file') == audit_file,
                'mmrctl audit --limit 3: 3 entries and the file', str(cp.stdout)[:300])
        cp = env.ctl('audit', '--limit', '0', check=False)
        c.check(cp.returncode != 0 and 'bad --limit' in cp.stderr, 'mmrctl audit --limit 0: refused', cp.stderr)
        lines = open(audit_file).read().splitlines() if os.path.exists(audit_file) else []
        c.check(len(lines) >= len(ents) and oct(os.stat(audit_file).st_mode & 0o777) == '0o600' and
                all(json.loads(ln).get('seq') for ln in lines) and PASS1 not in ''.join(lines),
                'audit.log beside the state file: 0600, one JSON entry a line, no passcode',
                '%d lines, %d entries' % (len(lines), len(ents)))

        # -- 5. the control socket --------------------------------------------------------------------------
        mode = stat.S_IMODE(os.stat(env.socket_path).st_mode)
        c.check(mode == 0o660, 'the control socket is mode 0660', oct(mode))
        # a peer that is neither root nor in the admin group, let through the file mode on purpose: the
        # SO_PEERCRED check refuses it
        os.chmod(env.socket_path, 0o666)
        d = os.path.dirname(env.socket_path)
        dmode = stat.S_IMODE(os.stat(d).st_mode)
        os.chmod(d, dmode | 0o011)
        before = snapshot()
        cp = subprocess.run([env.mmrctl_bin, '-S', env.socket_path, 'meeting', 'create', 'nobodys'],
                            capture_output=True, text=True, timeout=20,
                            preexec_fn=lambda: (os.setgroups([]), os.setgid(65534), os.setuid(65534)))
        os.chmod(env.socket_path, 0o660)
        os.chmod(d, dmode)
        c.check(cp.returncode != 0 and 'permission denied' in cp.stderr and 'admin group' in cp.stderr,
                'uid 65534 (not root, not in the admin group): permission denied', cp.stdout + cp.stderr)
        c.check(before == snapshot(), '  ... and nothing changed')
        ents = env.ctl('audit', json=True).stdout.get('entries', [])
        c.check(any(e['who'] == 'uid 65534' and 'permission denied' in e['result'] for e in ents),
                'audit: the refused socket peer', json.dumps(ents[-3:])[:400])
        # idle connections cannot keep mmrctl out
        idle = []
        for i in range(70):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(env.socket_path)
            idle.append(s)
        time.sleep(0.3)
        t0 = time.monotonic()
        cp = env.ctl('status', check=False, timeout=30)
        dt = time.monotonic() - t0
        c.check(cp.returncode == 0 and dt < 1.0, '70 idle connections open: mmrctl status answers in < 1 s',
                '%.3f s rc %d %s' % (dt, cp.returncode, cp.stderr[:200]))
        # and again, with the newest idle ones still open
        t0 = time.monotonic()
        cp = env.ctl('meeting', 'list', check=False, timeout=30)
        dt = time.monotonic() - t0
        c.check(cp.returncode == 0 and dt < 1.0, '... and a second command too', '%.3f s' % dt)
        for s in idle:
            s.close()
        c.check('connection closed for a new one' in open(env.ctl_log).read(),
                'the controller logged dropping the least recently heard idle connection')
        c.check(all(env.alive()), 'dataplane and controller alive')


if __name__ == '__main__':
    if '--no-auth' in sys.argv[1:]:
        os.environ['MMR_TEST_NO_AUTH'] = '1'
    mmrtest.run_test('test_access', body)
