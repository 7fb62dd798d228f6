#!/usr/bin/python3
"""
test_control_api.py - the meeting controls over the HTTP API (issue 15), on the real mmr-dataplane
and controller (tests/lib/mmrtest.py), tokens made here with hmac (tests/lib/mmrhttp.py):

 1. refusals: every control route (admit, deny, mute, unmute, ask-unmute, eject, mute-all, lock,
    unlock, PATCH controls) with no token, a forged or an expired one (401), a participant's or a
    viewer's token, a host token of another meeting, a co-host's lock (403): nothing changes (the
    state file, the participants, the meeting) and alice's audio still flows (no muted drop); each
    refusal is in the audit log with its status.
 2. the right roles: host mute -> alice's packets are dropped `muted` in the dataplane, unmute ->
    they flow; co-host mute-all; PATCH controls (waiting room on) -> carol waits (not_admitted),
    admit -> her audio flows, deny removes fred; eject by an operator; lock/unlock; the errors 404
    (unknown participant), 400 (bad kind, unknown field), 409 (admit of an admitted participant);
    each action is in the audit log with 200.
 3. self-unmute: hank (joined through /v1/meetings/m3/join, an SRTP meeting) mutes and unmutes himself through his
    session; with self-unmute forbidden a host's mute cannot be lifted by him (403, still muted), his
    own mute can; a host's ask-unmute reaches his session's event stream (event: control,
    action ask_unmute) and lets him unmute once; a later host mute holds again (403).
Negative control (tests/run-all.sh): --no-auth runs the controller with MMR_TEST_NO_AUTH=1 (every
request allowed): the first refusal check must fail.
Run as root: /usr/bin/python3 tests/integration/test_control_api.py [--no-auth]  (under the DPDK flock)
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, MMR_PORT  # noqa: E402
from mmrhttp import Events, Http, http_conf, http_port, make_token, offer, token_secret  # noqa: E402

PORTS = {'alice': 6101, 'bob': 6102, 'carol': 6103, 'dave': 6104, 'fred': 6105}
A_AUD, B_AUD, C_AUD = 0x1101, 0x2101, 0x3101


def body(c):
    secret, secret_file = token_secret('control-api')
    env = MmrEnv('control_api')
    env.extra_ctl_conf = http_conf(secret_file, MMR_IP, MMR_PORT)
    with env:
        env.wait_dp_attached()
        port = http_port(env)
        if not c.check(port, 'the controller listens for HTTP', ''):
            return
        api = Http(port)
        T = lambda sub, role, meeting='m1', **kw: make_token(secret, sub, meeting, role, **kw)  # noqa: E731
        HOST, COHOST, ADMIN = T('hostie', 'host'), T('co', 'co-host'), T('ops', 'admin', '*')
        socks = {n: env.udp_socket(p) for n, p in PORTS.items()}
        seqs = {}

        def drops():
            return mmrtest.drop_counts(env.stats())

        def audio(name, ssrc, n):
            for _ in range(n):
                s = seqs.get(ssrc, 0)
                seqs[ssrc] = s + 1
                env.send(socks[name], mmrtest.audio_rtp(ssrc, s))
                time.sleep(0.002)

        def recv(name, wait=0.4):
            time.sleep(wait)
            out = {}
            for p in env.recv_all(socks[name], timeout=0.1):
                if len(p) >= 12 and not 192 <= p[1] <= 223:
                    ssrc = int.from_bytes(p[8:12], 'big')
                    out[ssrc] = out.get(ssrc, 0) + 1
            return out

        def pshow(name, m='m1'):
            return env.ctl('participant', 'show', m, name, json=True).stdout

        def mshow(m='m1'):
            return env.ctl('meeting', 'show', m, json=True).stdout

        def plist(m='m1'):
            js = env.ctl('participant', 'list', m, json=True).stdout
            return [p['name'] for p in (js.get('participants', []) if isinstance(js, dict) else js)]

        def call(method, path, tok, body=None):
            if body is None:
                s, h, t = api.req(method, path, None, tok)
            else:
                s, h, t = api.req(method, path, json.dumps(body).encode(), tok, 'application/json')
            return s, t

        def audit():
            s, t = call('GET', '/v1/audit', ADMIN)
            return json.loads(t).get('entries', []) if s == 200 else []

        env.meeting('m1')
        env.meeting('m2')
        for n in ('alice', 'bob', 'dave'):
            env.participant('m1', n, PORTS[n])
        env.stream('m1', 'alice', A_AUD, 'audio')
        env.stream('m1', 'bob', B_AUD, 'audio')

        def snapshot():
            out = []
            for p in (env.state_file, env.state_file + '.journal'):
                try:
                    out.append(open(p, 'rb').read())
                except OSError:
                    out.append(None)
            out.append(json.dumps(env.ctl('participant', 'list', 'm1', json=True).stdout, sort_keys=True))
            out.append(json.dumps(mshow(), sort_keys=True))
            return out

        # ---- 1. refusals ---------------------------------------------------------------------------
        P = '/v1/meetings/m1/participants'
        routes = [('POST', P + '/alice/mute', {'kinds': ['audio']}), ('POST', P + '/alice/unmute', None),
                  ('POST', P + '/alice/ask-unmute', None), ('POST', P + '/alice/eject', None),
                  ('POST', P + '/alice/admit', None), ('POST', P + '/alice/deny', None),
                  ('POST', '/v1/meetings/m1/mute-all', {'kinds': 'audio'}), ('POST', '/v1/meetings/m1/lock', None),
                  ('POST', '/v1/meetings/m1/unlock', None),
                  ('PATCH', '/v1/meetings/m1/controls', {'waiting_room': True, 'self_unmute': 'forbidden'})]
        bad_tokens = [('no token', None, 401), ('forged', T('hostie', 'host', key=b'not-the-secret'), 401),
                      ('expired', T('hostie', 'host', exp_in=-60), 401),
                      ('participant', T('pat', 'participant'), 403), ('viewer', T('vic', 'viewer'), 403),
                      ('host of m2', T('h2', 'host', 'm2'), 403)]
        before = snapshot()
        a0 = len(audit())
        n_refused = 0
        for label, tok, want in bad_tokens:
            for method, path, b in routes:
                s, t = call(method, path, tok, b)
                n_refused += 1
                c.eq(s, want, '%s: %s %s' % (label, method, path))
        for method, path in (('POST', '/v1/meetings/m1/lock'), ('POST', '/v1/meetings/m1/unlock')):
            s, t = call(method, path, COHOST)
            n_refused += 1
            c.check(s == 403 and b'lock_end' in t, 'co-host may not %s (403, permission lock_end)' % path, (s, t))
        s, t = call('PATCH', '/v1/meetings/m1/controls', T('pat', 'participant'), {})
        n_refused += 1
        c.eq(s, 403, 'participant: PATCH controls with an empty body is 403 too')
        c.check(snapshot() == before, 'after %d refusals: state file, participants, meeting unchanged' % n_refused)
        d0 = drops()
        audio('alice', A_AUD, 10)
        got = recv('bob')
        c.eq(got.get(A_AUD), 10, 'after the refusals: alice\'s audio still reaches bob')
        c.eq(drops().get('muted', 0) - d0.get('muted', 0), 0, 'after the refusals: no muted drop')
        ents = audit()[a0:]
        refused = [e for e in ents if str(e.get('result', '')).startswith(('401', '403'))]
        c.eq(len(refused), n_refused, 'audit: each refusal recorded (401/403)')
        c.check(any(e['result'].startswith('403') and 'viewer' in e.get('who', '') and
                    e.get('what') == 'POST ' + P + '/alice/mute' for e in refused),
                'audit: the viewer\'s refused mute (who, what, 403)', refused[:3])

        # ---- 2. the right roles ----------------------------------------------------------------------
        a0 = len(audit())
        s, t = call('POST', P + '/alice/mute', HOST, {'kinds': ['audio']})
        c.eq(s, 200, 'host: POST .../alice/mute {kinds: [audio]}')
        d0 = drops()
        audio('alice', A_AUD, 10)
        got = recv('bob')
        c.check(A_AUD not in got, 'muted: bob gets none of alice\'s audio', got)
        c.eq(drops().get('muted', 0) - d0.get('muted', 0), 10, 'drops.muted: her 10 packets')
        c.eq(pshow('alice').get('muted'), 'audio', 'participant show: alice muted audio')
        s, t = call('POST', P + '/alice/unmute', HOST, {'kinds': ['audio']})
        c.eq(s, 200, 'host: POST .../alice/unmute')
        audio('alice', A_AUD, 5)
        c.eq(recv('bob').get(A_AUD), 5, 'unmuted: her audio flows again')
        s, t = call('POST', '/v1/meetings/m1/mute-all', COHOST, {'kinds': ['audio']})
        c.eq(s, 200, 'co-host: POST mute-all {kinds: [audio]}')
        d0 = drops()
        audio('alice', A_AUD, 5)
        audio('bob', B_AUD, 5)
        c.check(not recv('alice') and not recv('bob', 0.05), 'mute-all: nothing flows')
        c.eq(drops().get('muted', 0) - d0.get('muted', 0), 10, 'drops.muted: their 10 packets')
        for n in ('alice', 'bob'):
            s, t = call('POST', P + '/%s/unmute' % n, COHOST)
            c.eq(s, 200, 'co-host: unmute %s (kinds absent: all)' % n)
        s, t = call('POST', P + '/nobody/mute', HOST, {'kinds': ['audio']})
        c.eq(s, 404, 'mute of an unknown participant: 404')
        s, t = call('POST', P + '/alice/mute', HOST, {'kinds': ['smell']})
        c.check(s == 400 and b'bad kind' in t, 'mute of a bad kind: 400', (s, t))
        s, t = call('POST', P + '/alice/mute', HOST, {'volume': 3})
        c.check(s == 400 and b'unknown field' in t, 'an unknown field: 400', (s, t))
        s, t = call('PATCH', '/v1/meetings/m1/controls', HOST, {'waiting_room': 'yes'})
        c.check(s == 400, 'PATCH controls waiting_room "yes": 400', (s, t))
        c.check(pshow('alice').get('muted') != 'audio', 'the bad requests changed nothing (alice not muted)',
                pshow('alice').get('muted'))
        s, t = call('PATCH', '/v1/meetings/m1/controls', HOST, {'waiting_room': True, 'max_sharers': 2})
        c.eq(s, 200, 'host: PATCH controls {waiting_room: true, max_sharers: 2}')
        ms = mshow()
        c.check(ms.get('waiting_room') is True and ms.get('max_sharers') == 2, 'meeting show: the settings',
                (ms.get('waiting_room'), ms.get('max_sharers')))
        env.participant('m1', 'carol', PORTS['carol'])
        env.stream('m1', 'carol', C_AUD, 'audio')
        env.participant('m1', 'fred', PORTS['fred'])
        d0 = drops()
        audio('carol', C_AUD, 10)
        c.check(C_AUD not in recv('bob'), 'carol waits: nothing of hers flows')
        c.check(drops().get('not_admitted', 0) - d0.get('not_admitted', 0) >= 10, 'drops.not_admitted: hers')
        s, t = call('POST', P + '/carol/admit', COHOST)
        c.eq(s, 200, 'co-host: admit carol')
        audio('carol', C_AUD, 10)
        c.eq(recv('bob').get(C_AUD), 10, 'admitted: carol\'s audio reaches bob')
        s, t = call('POST', P + '/carol/admit', COHOST)
        c.eq(s, 409, 'admit of an admitted participant: 409')
        s, t = call('POST', P + '/fred/deny', HOST)
        c.check(s == 200 and 'fred' not in plist(), 'host: deny fred (gone)', (s, t))
        s, t = call('PATCH', '/v1/meetings/m1/controls', HOST, {'waiting_room': False})
        c.eq(s, 200, 'host: waiting room off')
        s, t = call('POST', P + '/dave/eject', ADMIN)
        c.check(s == 200 and 'dave' not in plist(), 'operator: eject dave (gone)', (s, t))
        s, t = call('POST', '/v1/meetings/m1/lock', HOST)
        c.check(s == 200 and mshow().get('locked') is True, 'host: lock', (s, t))
        s, t = call('POST', '/v1/meetings/m1/unlock', HOST)
        c.check(s == 200 and mshow().get('locked') is False, 'host: unlock', (s, t))
        ents = audit()[a0:]
        for what in ('POST %s/alice/mute' % P, 'POST /v1/meetings/m1/mute-all', 'PATCH /v1/meetings/m1/controls',
                     'POST %s/carol/admit' % P, 'POST %s/fred/deny' % P, 'POST %s/dave/eject' % P,
                     'POST /v1/meetings/m1/lock', 'POST /v1/meetings/m1/unlock'):
            c.check(any(e.get('what') == what and e.get('result', '').startswith('200') for e in ents),
                    'audit: %s -> 200' % what, [e.get('what') for e in ents][-5:])
        c.check(any(e.get('what') == 'POST %s/carol/admit' % P and e.get('result', '').startswith('409')
                    for e in ents), 'audit: the 409 admit')

        # ---- 3. self-unmute --------------------------------------------------------------------------
        # browsers join SRTP meetings only: m3
        env.ctl('meeting', 'create', 'm3', '--srtp', 'AEAD_AES_128_GCM')
        env.ctl('participant', 'add', 'm3', 'alice', '--addr', mmrtest.CLIENT_IP, '--port', 6109)
        P = '/v1/meetings/m3/participants'
        HOST = T('hostie', 'host', 'm3')
        HANK = T('hank', 'participant', 'm3')
        s, h, t = api.req('POST', '/v1/meetings/m3/join', offer('aiortc_sendrecv.sdp'), HANK, 'application/sdp')
        if not c.check(s == 201, 'hank joins m1: 201', (s, t[:200])):
            return
        loc = h.get('location', '')
        ev = Events(port, '%s/events?access_token=%s' % (loc, HANK))
        ev.start()
        time.sleep(0.3)
        s, t = call('POST', loc + '/mute', HANK, {'kinds': ['audio']})
        c.check(s == 200 and pshow('hank', 'm3').get('muted') == 'audio', 'hank mutes himself', (s, t))
        s, t = call('POST', loc + '/unmute', HANK, {'kinds': ['audio']})
        c.check(s == 200 and pshow('hank', 'm3').get('muted') != 'audio', 'hank unmutes himself (allowed)', (s, t))
        s, t = call('PATCH', '/v1/meetings/m3/controls', HOST, {'self_unmute': 'forbidden'})
        c.eq(s, 200, 'host: self_unmute forbidden')
        s, t = call('POST', P + '/hank/mute', HOST, {'kinds': ['audio']})
        c.eq(s, 200, 'host mutes hank')
        s, t = call('POST', loc + '/unmute', HANK, {'kinds': ['audio']})
        c.check(s == 403 and b'self-unmute is forbidden' in t, 'hank cannot lift a host\'s mute: 403', (s, t))
        c.eq(pshow('hank', 'm3').get('muted'), 'audio', 'still muted')
        s, t = call('POST', loc + '/unmute', T('bob', 'participant', 'm3'), {'kinds': ['audio']})
        c.eq(s, 404, 'bob\'s token on hank\'s session: 404')
        s, t = call('POST', loc + '/mute', HANK, {'kinds': ['video']})
        s2, t2 = call('POST', loc + '/unmute', HANK, {'kinds': ['video']})
        c.check(s == 200 and s2 == 200, 'his own video mute he may lift even now', (s, t, s2, t2))
        s, t = call('POST', P + '/hank/ask-unmute', T('pat', 'participant', 'm3'), {'kinds': ['audio']})
        c.eq(s, 403, 'a participant may not ask-unmute')
        s, t = call('POST', P + '/hank/ask-unmute', HOST, {'kinds': ['audio']})
        c.eq(s, 200, 'host: ask-unmute hank')
        e = ev.wait_for(lambda e: e[0] == 'control' and isinstance(e[1], dict) and
                        e[1].get('action') == 'ask_unmute' and e[1].get('participant') == 'hank')
        c.check(e and e[1].get('kinds') == ['audio'], 'SSE: event control {action ask_unmute, kinds [audio]}',
                ev.events[-3:])
        s, t = call('POST', loc + '/unmute', HANK, {'kinds': ['audio']})
        c.check(s == 200 and pshow('hank', 'm3').get('muted') != 'audio', 'asked: hank unmutes himself', (s, t))
        s, t = call('POST', P + '/hank/mute', HOST, {'kinds': ['audio']})
        s, t = call('POST', loc + '/unmute', HANK, {'kinds': ['audio']})
        c.eq(s, 403, 'the ask was for once: a new host mute holds (403)')
        s, t = call('POST', P + '/alice/ask-unmute', HOST, {'kinds': ['audio']})
        c.eq(s, 409, 'ask-unmute of someone not muted: 409')
        ev.stop = True
        c.check(all(env.alive()), 'dataplane and controller alive')


if __name__ == '__main__':
    if '--no-auth' in sys.argv[1:]:
        os.environ['MMR_TEST_NO_AUTH'] = '1'
    mmrtest.run_test('test_control_api', body)
