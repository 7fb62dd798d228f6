#!/usr/bin/python3
"""
test_join_api.py - the join endpoints of the controller's HTTP API (issue 13: control/join.h,
docs/openapi.yaml "join") with the real controller and dataplane on net_tap (tests/lib/mmrtest.py),
recorded browser offers (tests/fixtures/sdp) and python's http.client; tokens made here with hmac
(independent of control/token.c).

 1. POST /whip (Chromium sendrecv offer, publisher token), /whep (Chromium viewer, viewer token),
    /join (aiortc, participant token): 201, application/sdp, Location /v1/sessions/<32 hex>, ETag,
    CORS exposing them; the answer parses (python check: ice-lite, our ufrag/pwd, the dataplane's
    fingerprint from `mmrctl status`, a=setup:passive, BUNDLE, the configured candidate); the
    participant in `mmrctl` with its ICE ufrag, its streams (one per published m-section), the viewer
    with its video slots; slots hold publishers (`slot list`).
 2. refusals, each with a clear body and nothing changed (`mmrctl participant list`): wrong content
    type 415, malformed offer 400 (the parser's reason), no body 400, expired / forged token 401, a
    token of another meeting 403, a viewer on /whip 403, a publisher on /join 403, an unknown meeting
    404, a plain meeting 409, a simulcast rid longer than 16 bytes 400 naming it; a second join of
    the same identity replaces its session (the first one 404), one
    with the name of a participant added by mmrctl 409 (and its participant untouched).
 3. rate limits: 12 joins at once from one address -> 429 with Retry-After after the burst (10); 4
    from one token identity -> the 4th 429; counted in GET /v1/sessions.
 4. sessions: PATCH wrong type 415, If-Match mismatch 412, candidates only 204, new ufrag/pwd 200 with
    a fragment carrying a new ufrag (the participant's in mmrctl) and a new ETag; DELETE with another
    identity's token 404; a DELETE whose participant remove fails (the journal held at its size by a
    file-size limit on the controller: the commit fails) is an error naming the session and keeps both
    the participant and the session (PATCH 204 after); with its own token 200 (the participant gone,
    the resource 404 after).
 5. events: GET /v1/sessions/ID/events (token in ?access_token=): text/event-stream, the slot map at
    once; a publisher joining gives a slot event naming it; it leaving gives one with another
    publisher or null. A session whose participant `mmrctl` removed is 404.
 6. /demo: the page (text/html), no traversal (404), POST 405; OPTIONS of a join URL: Allow POST and
    Accept-Post application/sdp.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, MMR_PORT  # noqa: E402
from mmrhttp import Events, Http, ORIGIN, make_token, offer  # noqa: E402,F401



def answer_ok(c, text, fp, what):
    """A python check of an answer: the facts a browser needs."""
    a = text.decode(errors='replace')
    ok = (a.startswith('v=0\r\n') and 'a=ice-lite' in a and re.search(r'a=group:BUNDLE \S+', a) is not None and
          ('a=fingerprint:sha-256 %s' % fp) in a and 'a=setup:passive' in a and
          ('a=candidate:1 1 udp 2130706431 %s %d typ host' % (MMR_IP, MMR_PORT)) in a and
          re.search(r'a=ice-ufrag:[A-Za-z0-9+/]{4,}', a) is not None and
          re.search(r'a=ice-pwd:[A-Za-z0-9+/]{22,}', a) is not None and 'a=rtcp-mux' in a)
    return c.check(ok, what + ': the answer has ice-lite, BUNDLE, our fingerprint, setup:passive, the candidate',
                   a[:600])


def body(c):
    sec_dir = tempfile.mkdtemp(prefix='mmr-join-test.')
    secret = os.urandom(24).hex().encode()
    secret_file = os.path.join(sec_dir, 'secret')
    with open(secret_file, 'wb') as f:
        f.write(secret + b'\n')
    os.chmod(secret_file, 0o600)
    web = os.path.join(sec_dir, 'web')
    os.makedirs(web)
    with open(os.path.join(web, 'demo.html'), 'w') as f:
        f.write('<!doctype html><title>mmr demo</title>\n')
    with open(os.path.join(sec_dir, 'secret-outside'), 'w') as f:
        f.write('outside\n')

    env = MmrEnv('join_api', asan=os.environ.get('MMR_TEST_ASAN') == '1')   # MMR_TEST_ASAN=1: the ASan build
    env.extra_ctl_conf = ('http_listen = "127.0.0.1:0";\ntoken_secret_file = "%s";\nhttp_cors_origins = [ "%s" ];\n'
                          'join_candidate = "%s:%d";\ndemo_dir = "%s";\n'
                          % (secret_file, ORIGIN, MMR_IP, MMR_PORT, web))
    with env:
        env.wait_dp_attached()
        port = None
        for ln in open(env.ctl_log).read().splitlines():
            if 'HTTP API on' in ln:
                port = int(ln.split('(port ')[1].split(',')[0])
        if not c.check(port, 'the controller listens for HTTP', ''):
            return
        api = Http(port)
        st = env.ctl('status', json=True).stdout
        fp = mmrtest.find_key(st, 'dtls_fingerprint') or ''
        c.check(re.fullmatch(r'([0-9A-F]{2}:){31}[0-9A-F]{2}', fp or '') is not None,
                'mmrctl status: the dataplane\'s dtls_fingerprint', str(fp))
        env.ctl('meeting', 'create', 'web', '--srtp', 'AEAD_AES_128_GCM')
        env.ctl('meeting', 'create', 'other', '--srtp', 'AEAD_AES_128_GCM')
        env.ctl('meeting', 'create', 'plainm', '--plain')
        T = lambda sub, role, meeting='web', **kw: make_token(secret, sub, meeting, role, **kw)  # noqa: E731

        def parts(meeting='web'):
            js = env.ctl('participant', 'list', meeting, json=True).stdout
            lst = js.get('participants', []) if isinstance(js, dict) else js
            return sorted(p['name'] for p in lst)

        def pshow(name):
            cp = env.ctl('participant', 'show', 'web', name, json=True, check=False)
            return cp.stdout if cp.returncode == 0 else {}

        # -- 2. refusals first (nothing there yet) ---------------------------------------------------
        chrome = offer('chromium_sendrecv.sdp')
        no_ufrag = b''.join(ln for ln in chrome.splitlines(True) if not ln.startswith(b'a=ice-ufrag'))
        # a rid simulcast publisher whose rid f is 17 bytes: longer than the dataplane learns SSRCs by
        long_rid = offer('chromium_vp8_simulcast.sdp').replace(b'a=rid:f send', b'a=rid:f2345678901234567 send') \
            .replace(b'a=simulcast:send q;h;f', b'a=simulcast:send q;h;f2345678901234567')
        cases = [
            ('text/plain', chrome, T('r1', 'publisher'), '/v1/meetings/web/whip', 415, 'application/sdp'),
            ('application/sdp', no_ufrag, T('r2', 'publisher'), '/v1/meetings/web/whip', 400, 'bad SDP offer'),
            ('application/sdp', b'', T('r3', 'publisher'), '/v1/meetings/web/whip', 400, 'no SDP offer'),
            ('application/sdp', chrome, T('r4', 'publisher', exp_in=-5), '/v1/meetings/web/whip', 401, 'expired'),
            ('application/sdp', chrome, T('r5', 'publisher', key=b'x' * 40), '/v1/meetings/web/whip', 401,
             'signature'),
            ('application/sdp', chrome, T('r6', 'publisher', meeting='other'), '/v1/meetings/web/whip', 403,
             "meeting 'other'"),
            ('application/sdp', chrome, T('r7', 'viewer'), '/v1/meetings/web/whip', 403, "role 'viewer'"),
            ('application/sdp', chrome, T('r8', 'publisher'), '/v1/meetings/web/join', 403, "role 'publisher'"),
            ('application/sdp', chrome, T('r9', 'publisher', meeting='nope'), '/v1/meetings/nope/whip', 404,
             "no meeting 'nope'"),
            ('application/sdp', chrome, T('r10', 'publisher', meeting='plainm'), '/v1/meetings/plainm/whip', 409,
             'plain RTP'),
            ('application/sdp', long_rid, T('r11', 'publisher'), '/v1/meetings/web/whip', 400,
             "rid 'f2345678901234567' is longer than the 16 characters"),
        ]
        # (each case with its own identity and address: the rate limits are section 3's)
        for i, (ctype, data, tok, path, want, why) in enumerate(cases):
            before = (parts('web'), parts('plainm'))
            s, h, text = api.req('POST', path, data, tok, ctype, src='127.0.1.%d' % (i + 1))
            c.check(s == want and why in text.decode(errors='replace'), 'refused %d: %s' % (want, why),
                    '%s %s' % (s, text[:300]))
            c.check((parts('web'), parts('plainm')) == before, '  ... and nothing changed')

        # -- 1. joins ---------------------------------------------------------------------------------
        s, h, text = api.req('POST', '/v1/meetings/web/whip', chrome, T('pat', 'publisher'), 'application/sdp',
                             headers={'Origin': ORIGIN}, src='127.0.2.1')
        loc = h.get('location', '')
        c.check(s == 201 and h.get('content-type', '').startswith('application/sdp') and
                re.fullmatch(r'/v1/sessions/[0-9a-f]{32}', loc) and h.get('etag'),
                'POST /whip (Chromium sendrecv, publisher): 201 application/sdp, Location, ETag', '%s %s %s' %
                (s, h, text[:300]))
        c.check('Location' in h.get('access-control-expose-headers', '') and
                'ETag' in h.get('access-control-expose-headers', ''), '  ... CORS exposes Location and ETag',
                str(h))
        pub_loc, pub_etag = loc, h.get('etag')
        if s == 201:
            answer_ok(c, text, fp, '/whip')
            show = pshow('pat')
            uf = re.search(r'a=ice-ufrag:(\S+)', text.decode()).group(1)
            c.check(show.get('ice_ufrag') == uf, '  ... participant pat in mmrctl with the answer\'s ufrag',
                    str(show)[:300])
            ns = show.get('streams', 0)
            c.check((ns if isinstance(ns, int) else len(ns)) == 2, '  ... with 2 streams (audio and video m-sections)',
                    str(show)[:300])

        viewer = offer('chromium_viewer.sdp')
        s, h, text = api.req('POST', '/v1/meetings/web/whep', viewer, T('vic', 'viewer'), 'application/sdp',
                             src='127.0.2.2')
        view_loc = h.get('location', '')
        c.check(s == 201 and view_loc.startswith('/v1/sessions/'), 'POST /whep (Chromium viewer): 201', '%s %s' %
                (s, text[:300]))
        if s == 201:
            answer_ok(c, text, fp, '/whep')
            a = text.decode()
            c.check(a.count('a=sendonly') >= 3, '  ... its 3 receive m-sections sendonly (slots)', a[:400])
            show = pshow('vic')
            c.check(show.get('role') == 'recvonly' and show.get('dtls') == 'waiting',
                    '  ... vic in mmrctl: recvonly, DTLS waiting for its handshake', str(show)[:400])
            time.sleep(0.5)
            cp = env.ctl('slot', 'list', 'web', check=False)
            c.check(cp.returncode == 0 and 'pat' in cp.stdout, '  ... slot list: pat is on one of vic\'s slots',
                    cp.stdout[:400] + cp.stderr)

        ev = None
        if view_loc:
            ev = Events(port, '%s/events?access_token=%s' % (view_loc, T('vic', 'viewer')))
            ev.start()
            e = ev.wait_for(lambda e: e[0] == 'slot')
            c.check(ev.status == 200 and ev.ctype and ev.ctype.startswith('text/event-stream') and e is not None,
                    'GET events (token in the query): 200 text/event-stream, the slot map at once',
                    '%s %s %s' % (ev.status, ev.ctype, ev.events[:3]))
            c.check(any(x[0] == 'slot' and x[1].get('publisher') == 'pat' for x in ev.events),
                    '  ... pat on a slot', str(ev.events[:4]))

        if view_loc:
            s, h, text = api.req('PATCH', view_loc + '/slots/video/0', b'{"target": 0}', T('vic', 'viewer'),
                                 'application/json')
            cp = env.ctl('slot', 'list', 'web', json=True, check=False)
            c.check(s == 200 and b'"applied_now": true' in text, 'PATCH .../slots/video/0 {"target": 0}: 200, '
                    'slot set with the ceiling', '%s %s %s' % (s, text, str(cp.stdout)[:300]))
            s, h, text = api.req('PATCH', view_loc + '/slots/video/7', b'{"target": 1}', T('vic', 'viewer'),
                                 'application/json')
            c.check(s == 404, '  ... a slot the session does not have: 404', '%s %s' % (s, text))
            s, h, text = api.req('PATCH', view_loc + '/slots/video/0', b'{"colour": 1}', T('vic', 'viewer'),
                                 'application/json')
            c.check(s == 400 and b'unknown field' in text, '  ... an unknown field: 400', '%s %s' % (s, text))
        s, h, text = api.req('POST', '/v1/meetings/web/join', offer('aiortc_sendrecv.sdp'), T('ann', 'participant'),
                             'application/sdp', src='127.0.2.3')
        join_loc = h.get('location', '')
        c.check(s == 201, 'POST /join (aiortc sendrecv, participant): 201', '%s %s' % (s, text[:300]))
        if s == 201:
            answer_ok(c, text, fp, '/join')
        if ev:
            e = ev.wait_for(lambda e: e[0] == 'slot' and e[1].get('publisher') == 'ann')
            c.check(e is not None and e[1].get('kind') == 'video' and isinstance(e[1].get('slot'), int) and
                    e[1].get('mid'), 'events: a slot event names ann when it joins', str(ev.events[-4:]))

        s, h, text = api.req('POST', '/v1/meetings/web/whip', chrome, T('pat', 'publisher'), 'application/sdp',
                             src='127.0.2.4')
        c.check(s == 201, 'a second join of pat replaces its first session: 201', '%s %s' % (s, text[:200]))
        if s == 201 and pub_loc:
            s2, _, _ = api.req('PATCH', pub_loc, b'a=candidate:1 1 udp 1 10.0.0.1 9 typ host\r\n',
                               T('pat', 'publisher'), 'application/trickle-ice-sdpfrag')
            c.check(s2 == 404, '  ... its first session is gone: 404', str(s2))
            pub_loc, pub_etag = h.get('location', ''), h.get('etag')
        env.ctl('participant', 'add', 'web', 'mo', '--addr', '203.0.113.77', '--port', '7777')
        before = parts()
        s, h, text = api.req('POST', '/v1/meetings/web/whip', chrome, T('mo', 'publisher'), 'application/sdp',
                             src='127.0.2.5')
        c.check(s == 409 and "already exists" in text.decode(), 'a join with the name of a participant added by '
                'mmrctl: 409', '%s %s' % (s, text))
        c.check(parts() == before, '  ... and nothing changed')

        # -- 3. rate limits -----------------------------------------------------------------------------
        sts = []
        for i in range(12):
            s, h, _ = api.req('POST', '/v1/meetings/web/whip', b'x', T('flood%d' % i, 'publisher'), 'text/plain',
                              src='127.0.3.1')
            sts.append((s, h.get('retry-after')))
        c.check([x[0] for x in sts[:10]] == [415] * 10 and all(x[0] == 429 and x[1] for x in sts[10:]),
                '12 joins at once from one address: 10 answered (415 here), then 429 with Retry-After', str(sts))
        sts = []
        for i in range(4):
            s, h, _ = api.req('POST', '/v1/meetings/web/whip', b'x', T('same', 'publisher'), 'text/plain',
                              src='127.0.3.%d' % (i + 2))
            sts.append((s, h.get('retry-after')))
        c.check([x[0] for x in sts[:3]] == [415] * 3 and sts[3][0] == 429 and sts[3][1],
                '4 joins at once with one token identity: the 4th 429 with Retry-After', str(sts))
        c.check(parts() == before, '  ... and nothing changed')
        s, h, text = api.req('GET', '/v1/sessions', token=make_token(secret, 'ops', '*', 'admin'))
        js = json.loads(text) if s == 200 else {}
        cnt = js.get('counters', {})
        c.check(s == 200 and cnt.get('join_rate_ip', 0) >= 2 and cnt.get('join_rate_token', 0) >= 1 and
                len(js.get('sessions', [])) == len([x for x in (pub_loc, view_loc, join_loc) if x]),
                'GET /v1/sessions: the sessions and the rate-limit counters', str(js)[:500])

        # -- 4. PATCH and DELETE ------------------------------------------------------------------------
        if pub_loc:
            tok = T('pat', 'publisher')
            s, h, text = api.req('PATCH', pub_loc, b'a=candidate:1 1 udp 1 10.0.0.1 9 typ host\r\n', tok,
                                 'application/sdp')
            c.check(s == 415, 'PATCH with application/sdp: 415', '%s %s' % (s, text))
            s, h, text = api.req('PATCH', pub_loc, b'a=candidate:1 1 udp 1 10.0.0.1 9 typ host\r\n', tok,
                                 'application/trickle-ice-sdpfrag', headers={'If-Match': '"nope"'})
            c.check(s == 412, 'PATCH with a stale If-Match: 412', '%s %s' % (s, text))
            frag = b'a=ice-ufrag:%s\r\na=ice-pwd:%s\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n' \
                   b'a=candidate:1 1 udp 2130706431 198.51.100.1 40000 typ host\r\n'
            remote_uf = re.search(rb'a=ice-ufrag:(\S+)', chrome).group(1)
            remote_pw = re.search(rb'a=ice-pwd:(\S+)', chrome).group(1)
            s, h, text = api.req('PATCH', pub_loc, frag % (remote_uf, remote_pw), tok,
                                 'application/trickle-ice-sdpfrag', headers={'If-Match': pub_etag})
            c.check(s == 204, 'PATCH with candidates (same credentials): 204', '%s %s' % (s, text))
            uf0 = pshow('pat').get('ice_ufrag')
            s, h, text = api.req('PATCH', pub_loc, frag % (b'newU', b'abcdefghijklmnopqrstuvwx'), tok,
                                 'application/trickle-ice-sdpfrag', headers={'If-Match': '*'})
            m = re.search(r'a=ice-ufrag:(\S+)', text.decode(errors='replace'))
            uf1 = pshow('pat').get('ice_ufrag')
            c.check(s == 200 and m and m.group(1) == uf1 and uf1 != uf0 and h.get('etag') and
                    h.get('etag') != pub_etag and 'a=ice-pwd:' in text.decode() and
                    ('%s %d typ host' % (MMR_IP, MMR_PORT)) in text.decode(),
                    'PATCH with new ufrag/pwd (ICE restart): 200, our new ufrag (mmrctl shows it), new ETag',
                    '%s %s %s %s' % (s, h, text[:300], (uf0, uf1)))
            s, h, text = api.req('DELETE', pub_loc, token=T('vic', 'viewer'))
            c.check(s == 404, 'DELETE with another identity\'s token: 404', '%s %s' % (s, text))
            # the remove fails: the journal may not grow (a soft RLIMIT_FSIZE at its size; the controller
            # ignores SIGXFSZ, so the write fails with EFBIG; its log lines in between are lost too)
            jsize = os.path.getsize(env.state_file + '.journal')
            cp = subprocess.run(['prlimit', '--pid', str(env.ctl_proc.pid), '--fsize=%d:' % jsize],
                                capture_output=True, text=True)
            if c.check(cp.returncode == 0, 'the controller\'s journal held at its size (prlimit --fsize)', cp.stderr):
                try:
                    s, h, text = api.req('DELETE', pub_loc, token=tok)
                finally:
                    subprocess.run(['prlimit', '--pid', str(env.ctl_proc.pid), '--fsize=unlimited:'], check=True)
                t = text.decode(errors='replace')
                c.check((s >= 500 or s == 409) and 'cannot save the state' in t and 'not ended' in t and
                        'pat' in parts(), 'DELETE whose participant remove fails: %s naming why, pat still there'
                        % s, '%s %s %s' % (s, t, parts()))
                s, h, text = api.req('PATCH', pub_loc, frag % (b'newU', b'abcdefghijklmnopqrstuvwx'), tok,
                                     'application/trickle-ice-sdpfrag', headers={'If-Match': '*'})
                c.check(s == 204, '  ... and the session stays (PATCH 204)', '%s %s' % (s, text))
            s, h, text = api.req('DELETE', pub_loc, token=tok)
            c.check(s == 200 and 'pat' not in parts(), 'DELETE with its own token: 200, pat gone', '%s %s' %
                    (s, text))
            s, h, text = api.req('PATCH', pub_loc, frag % (remote_uf, remote_pw), tok,
                                 'application/trickle-ice-sdpfrag')
            c.check(s == 404, '  ... the session is 404 after', str(s))
            if ev:
                e = ev.wait_for(lambda e: e[0] == 'slot' and e[1].get('publisher') != 'pat' and
                                any(x[0] == 'slot' and x[1].get('publisher') == 'pat' and
                                    x[1].get('slot') == e[1].get('slot') for x in ev.events[:ev.events.index(e)]))
                c.check(e is not None, 'events: pat\'s slot given to another publisher or emptied when it left',
                        str(ev.events[-4:]))
        if join_loc:
            env.ctl('participant', 'remove', 'web', 'ann')
            s, h, text = api.req('DELETE', join_loc, token=T('ann', 'participant'))
            c.check(s == 404, 'a session whose participant mmrctl removed: 404', '%s %s' % (s, text))
        if ev:
            ev.close()

        # -- 6. /demo and OPTIONS ------------------------------------------------------------------------
        s, h, text = api.req('GET', '/demo')
        c.check(s == 200 and h.get('content-type', '').startswith('text/html') and b'mmr demo' in text,
                'GET /demo: the page, text/html, no token', '%s %s' % (s, h))
        for bad in ('/demo/../secret-outside', '/demo/..%2fsecret-outside', '/demo/.hidden', '/demo/x/y'):
            s, h, text = api.req('GET', bad)
            c.check(s == 404, 'GET %s: 404' % bad, '%s %s' % (s, text[:100]))
        s, h, text = api.req('POST', '/demo', b'x', ctype='text/plain')
        c.check(s == 405, 'POST /demo: 405', str(s))
        s, h, text = api.req('OPTIONS', '/v1/meetings/web/whip', headers={'Origin': ORIGIN,
                                                                          'Access-Control-Request-Method': 'POST'})
        c.check(s == 204 and h.get('allow') == 'POST, OPTIONS' and h.get('accept-post') == 'application/sdp' and
                'If-Match' in h.get('access-control-allow-headers', ''),
                'OPTIONS of /whip: 204, Allow POST, Accept-Post application/sdp', str((s, h)))
        c.check(all(env.alive()), 'dataplane and controller alive')


if __name__ == '__main__':
    mmrtest.run_test('test_join_api', body)
