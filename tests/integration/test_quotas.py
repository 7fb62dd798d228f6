#!/usr/bin/python3
"""
test_quotas.py - per-meeting quotas (issue 15) of mmr-controller, offline (no dataplane): with
meeting_max_participants = 3, meeting_max_streams = 3 and meeting_max_subscriptions = 5 in its
config, a change that would take one meeting beyond a quota is refused through mmrctl (exit 1,
"error: meeting 'm1' is at its quota of ...") and through the HTTP API (409, the same text), and
changes nothing (every list and show, and the state file, as before); another meeting is not held
back by the full one, and changes within the quotas pass (the negative check). A bad quota value in
the config stops the controller with the reason. Uses test_http_api.py's controller and client.
"""
import os
import subprocess
import sys
import tempfile
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_http_api as H  # noqa: E402

QUOTAS = ('meeting_max_participants = 3;\nmeeting_max_streams = 3;\nmeeting_max_subscriptions = 5;\n'
          'http_listen = "127.0.0.1:0";\n')


def refused(c, api, what, argv, method, path, body):
    """The same change through mmrctl and HTTP: both refused with the quota's message, nothing changed."""
    before = c.snapshot()
    rc, out, err = c.ctl(*argv)
    H.check(rc == 1 and err.startswith('error: ') and ("is at its quota of %s" % what) in err,
            'mmrctl %s: refused (%s quota)' % (' '.join(argv[:2]), what), '%d %r' % (rc, err))
    st, js, _, text = api.req(method, path, body)
    msg = (js or {}).get('error', '') if isinstance(js, dict) else ''
    H.check(st == 409 and ("is at its quota of %s" % what) in msg and msg == err[len('error: '):].strip(),
            'HTTP %s %s: 409 with the same message' % (method, path), '%s %r / %r' % (st, text[:300], err))
    H.check(c.snapshot() == before, '%s quota: nothing changed (lists, shows, state file)' % what)


def run(tmp, ctls):
    c = H.Controller(tmp, 'quota', QUOTAS)
    ctls.append(c)
    c.start()
    rc, out, _ = c.ctl('token', 'mint', '--secret-file', c.secret_file, '--meeting', '*', '--identity', 'ops',
                       '--role', 'admin', '--ttl', '600')
    api = H.Api(c.port, out.strip())

    def ok(*a):
        rc, _, err = c.ctl(*a)
        H.check(rc == 0, 'mmrctl %s' % ' '.join(map(str, a)), err.strip())
    ok('meeting', 'create', 'm1', '--plain')
    ok('meeting', 'create', 'm2', '--plain')
    for i, n in enumerate(('p1', 'p2', 'p3')):
        ok('participant', 'add', 'm1', n, '--addr', '10.0.0.%d' % (i + 1), '--port', '5000')
    # participants: a fourth in m1
    refused(c, api, 'participants', ['participant', 'add', 'm1', 'p4', '--addr', '10.0.0.4', '--port', '5000'],
            'POST', '/v1/meetings/m1/participants', {'name': 'p4', 'addr': '10.0.0.4', 'port': 5000})
    # subscriptions: p1's and p2's audio make 2 + 2; p3's would make 6 > 5
    ok('stream', 'add', 'm1', 'p1', '--ssrc', '101', '--kind', 'audio', '--codec', 'opus')
    ok('stream', 'add', 'm1', 'p2', '--ssrc', '102', '--kind', 'audio', '--codec', 'opus')
    refused(c, api, 'subscriptions', ['stream', 'add', 'm1', 'p3', '--ssrc', '103', '--kind', 'audio', '--codec', 'opus'],
            'POST', '/v1/meetings/m1/participants/p3/streams', {'ssrc': 103, 'kind': 'audio', 'codec': 'opus'})
    # streams: m2's lone publisher (no receivers: no subscriptions) up to 3 streams, not a fourth
    ok('participant', 'add', 'm2', 'q1', '--addr', '10.0.1.1', '--port', '5000')
    for s in (201, 202, 203):
        ok('stream', 'add', 'm2', 'q1', '--ssrc', s, '--kind', 'audio', '--codec', 'opus')
    refused(c, api, 'streams', ['stream', 'add', 'm2', 'q1', '--ssrc', '204', '--kind', 'audio', '--codec', 'opus'],
            'POST', '/v1/meetings/m2/participants/q1/streams', {'ssrc': 204, 'kind': 'audio', 'codec': 'opus'})
    # the full m1 does not hold m2 back; a removal makes room again
    ok('participant', 'add', 'm2', 'q2', '--addr', '10.0.1.2', '--port', '5000', '--role', 'recvonly')
    ok('participant', 'remove', 'm1', 'p3')
    ok('participant', 'add', 'm1', 'p4', '--addr', '10.0.0.4', '--port', '5000', '--role', 'recvonly')
    c.stop()

    for val, want in (('0', 'meeting_max_participants must be an integer 1..131072'),
                      ('"x"', 'meeting_max_participants must be an integer 1..131072')):
        x = H.Controller(tmp, 'bad' + str(len(ctls)), 'meeting_max_participants = %s;\n' % val)
        ctls.append(x)
        cp = subprocess.run([H.CTL, '-c', x.conf], capture_output=True, text=True, timeout=20)
        H.check(cp.returncode == 2 and want in cp.stderr, 'config meeting_max_participants = %s: refused' % val,
                '%d %s' % (cp.returncode, cp.stderr.strip()[-300:]))
    x = H.Controller(tmp, 'badsubs', 'meeting_max_subscriptions = 2000000;\n')
    ctls.append(x)
    cp = subprocess.run([H.CTL, '-c', x.conf], capture_output=True, text=True, timeout=20)
    H.check(cp.returncode == 2 and 'meeting_max_subscriptions must be an integer 1..1048576' in cp.stderr,
            'config meeting_max_subscriptions beyond the zone: refused', cp.stderr.strip()[-300:])
    print('%d checks, %d failed' % (H.checks, H.failures))
    return 1 if H.failures else 0


def main():
    tmp = tempfile.mkdtemp(prefix='mmr-quota-test.')
    ctls = []
    try:
        return run(tmp, ctls)
    finally:
        for c in ctls:
            c.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
