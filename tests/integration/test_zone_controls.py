#!/usr/bin/env python3
"""test_zone_controls.py - a meeting's access controls follow it across the zone (issue 16;
control/zone_controls.c, zone_seal.c), no DPDK: a three-member etcd cluster and three controllers with
stand-in dataplanes (as test_zone_failover.py), tokens on.

Run twice, each with its own etcd and controllers:
  1. zone secret_file on every host: meeting X on its host H gets a passcode, its waiting room and lock
     off, and an ejected identity (mallory); etcd then holds controls/X (the passcode record sealed:
     neither the passcode nor its salted hash in hex anywhere in the value) and bans/X/mallory.
     A carrier of X (zone cascade): the passcode asked there too (403 without, 201 with), the waiting
     room off; lock there refused (mmrctl names the home; HTTP 307 to it); eve ejected there.
     SIGKILL of H: on the host X moves to, mallory and eve are refused (403), a join without the
     passcode 403, a wrong one 403, with it 201, the waiting room as it was (off, not forced on).
  2. no secret_file: the same meeting's record says "passcode": true only; the moved copy comes up
     closed (waiting room on).
  3. a different secret_file on each host: the record cannot be unsealed there: closed too.

  --no-controls   negative control (MMR_TEST_ZONE_NO_CONTROLS=1: no controls or bans written): this test
                  must FAIL ("the ejected identity mallory refused on the new host").
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from mmrzone import CLI, CTL, STANDIN, Controller, Etcd, checks, fail, ok, stop_zone, wait_until  # noqa: E402
from mmrhttp import ORIGIN, Http, make_token, offer  # noqa: E402

NO_CONTROLS = '--no-controls' in sys.argv[1:]
LEASE_S = 3
ENV = {'MMR_TEST_ZONE_NO_CONTROLS': '1'} if NO_CONTROLS else {}
CODE = 'Pz-7391-kq'


def offer_n(k):
    """The recorded offer with its SSRCs moved by k (each joiner of one meeting publishes its own)."""
    return re.sub(rb'(?m)^(a=ssrc[^\r\n]*)', lambda m: re.sub(rb'\b\d{6,}\b', lambda d: str(
        (int(d.group(0)) + 1000 * k) % 0xfffffff0 + 1).encode(), m.group(1)), offer('aiortc_sendrecv.sdp'))


def run(with_secret, split=False):
    """with_secret: a zone secret_file on every host; split: each host its own (the record cannot be
    unsealed elsewhere)."""
    tmp = tempfile.mkdtemp(prefix='mmr-zone-ctl-test.')
    secret = os.urandom(24).hex().encode()
    etcd = None
    ctls, standins = {}, []
    try:
        etcd = Etcd(tmp)
        wait_until('the etcd cluster answers on every member',
                   lambda: all(etcd.call('/v3/kv/range', {'key': 'eA=='}, m['url']) for m in etcd.members),
                   timeout=20)
        urls = [m['url'] for m in etcd.members]
        zsec = os.path.join(tmp, 'zone-secret')
        with open(zsec, 'wb') as f:
            f.write(os.urandom(32))
        os.chmod(zsec, 0o600)
        for name in ('mmr-a', 'mmr-b', 'mmr-c'):
            sp = subprocess.Popen([STANDIN, '/mmr-zone-test-%d-%s' % (os.getpid(), name)], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
            sp.stdout.readline()
            standins.append(sp)
        extra = 'join_candidate = "127.0.0.1:40000";\nhttp_cors_origins = [ "%s" ];\n' % ORIGIN
        for name in ('mmr-a', 'mmr-b', 'mmr-c'):
            zs = zsec
            if split:
                zs = zsec + '.' + name
                with open(zs, 'wb') as f:
                    f.write(os.urandom(32))
                os.chmod(zs, 0o600)
            ctls[name] = Controller(tmp, name, 3, urls, LEASE_S, 100, ENV, secret, extra,
                                    '  secret_file = "%s";\n' % zs if with_secret else '')
        a = ctls['mmr-a']
        t_reg = wait_until('all three hosts registered', lambda: (
            time.monotonic() if sum(x['alive'] for x in a.ctl_json('zone', 'status')['hosts']) == 3 else None))
        x = 'ctl1'
        rc, out, err = a.ctl('meeting', 'create', x)
        if rc != 0:
            fail('meeting create %s: %s' % (x, err or out))
        home = json.loads(etcd.prefix('/mmr/zone/meetings/')['/mmr/zone/meetings/' + x])['host']
        h = ctls[home]
        wait_until('%s runs %s' % (home, x), lambda: x in h.meetings() or None)
        for args in (('meeting', 'passcode', x, '--passcode', CODE), ('meeting', 'set', x, '--waiting-room', 'off'),
                     ('meeting', 'unlock', x)):
            rc, out, err = h.ctl(*args)
            if rc != 0:
                fail('%s: %s' % (' '.join(args[:2]), err or out))
        mal = make_token(secret, 'mallory', x, 'participant')
        s, hd, t = Http(h.port).req('POST', '/v1/meetings/%s/join' % x, offer('aiortc_sendrecv.sdp'), mal,
                                    'application/sdp', {'MMR-Passcode': CODE})
        if s != 201:
            fail('mallory joins %s on %s: %d %s' % (x, home, s, t[:200]))
        rc, out, err = h.ctl('participant', 'eject', x, 'mallory')
        if rc != 0:
            fail('participant eject: %s' % (err or out))
        ok('%s on %s: passcode set, waiting room off, unlocked; mallory joined (201) and was ejected' % (x, home))
        if not NO_CONTROLS:
            want_pc = (lambda v: isinstance(v, str)) if with_secret else (lambda v: v is True)
            rec = wait_until('controls/%s and bans/%s/mallory in etcd' % (x, x), lambda: (
                lambda c, b: c if c and want_pc(json.loads(c).get('passcode')) and b else None)(
                    etcd.prefix('/mmr/zone/controls/').get('/mmr/zone/controls/' + x),
                    etcd.prefix('/mmr/zone/bans/').get('/mmr/zone/bans/%s/mallory' % x)), timeout=5)
            line = [ln.split() for ln in open(os.path.join(h.dir, 'passcodes')) if ln.startswith(x + ' ')][0]
            salt, hsh = line[1], line[2]
            if CODE in rec or hsh in rec or salt in rec or hsh.upper() in rec:
                fail('controls/%s holds the passcode or its hash in clear: %s' % (x, rec))
            r = json.loads(rec)
            if r['waiting_room'] is not False or r['locked'] is not False:
                fail('controls/%s: %s' % (x, rec))
            ok('etcd controls/%s: %s (passcode %s; neither the passcode nor its salt or hash in hex in it); '
               'bans/%s/mallory there' % (x, {k: v for k, v in r.items() if k != 'passcode'},
                                          'sealed, %d hex digits' % len(r['passcode']) if with_secret else 'true',
                                          x))
        if with_secret and not split and not NO_CONTROLS:
            # a carrier (zone cascade): the home's controls applied there; changes refused there (the home
            # named, HTTP 307 to it); an eject there counts zone-wide (bans/ from the carrier)
            car = [nm for nm in ('mmr-a', 'mmr-b', 'mmr-c') if nm != home][0]
            cr = ctls[car]
            rc, out, err = a.ctl('zone', 'cascade', x, car)
            if rc != 0:
                fail('zone cascade %s %s: %s' % (x, car, err or out))
            wait_until('%s carries %s with its home\'s controls (waiting room off)' % (car, x), lambda: (
                x in cr.meetings() and cr.ctl_json('meeting', 'show', x).get('waiting_room') is False) or None)
            eve = make_token(secret, 'eve', x, 'participant')
            s0, _, _ = Http(cr.port).req('POST', '/v1/meetings/%s/join' % x, offer_n(2), eve,
                                         'application/sdp')
            s1, _, t1 = Http(cr.port).req('POST', '/v1/meetings/%s/join' % x, offer_n(2), eve,
                                          'application/sdp', {'MMR-Passcode': CODE})
            if s0 != 403 or s1 != 201:
                fail('joins on the carrier %s: without the passcode %d, with it %d %s' % (car, s0, s1, t1[:200]))
            # trent on both the home and the carrier; ejected at home: ejected on the carrier too
            trent = make_token(secret, 'trent', x, 'participant')
            for k, hh in ((3, h), (4, cr)):
                s3, _, t3 = Http(hh.port).req('POST', '/v1/meetings/%s/join' % x, offer_n(k), trent,
                                              'application/sdp', {'MMR-Passcode': CODE})
                if s3 != 201:
                    fail('trent joins %s on %s: %d %s' % (x, hh.name, s3, t3[:200]))
            rc, out, err = h.ctl('participant', 'eject', x, 'trent')
            if rc != 0:
                fail('participant eject trent at home: %s' % (err or out))
            wait_until('trent (ejected at home) ejected on the carrier %s too' % car, lambda: cr.ctl(
                'participant', 'show', x, 'trent')[0] != 0 or None)
            # locked at home: locked on the carrier
            rc, out, err = h.ctl('meeting', 'lock', x)
            if rc != 0:
                fail('meeting lock at home: %s' % (err or out))
            wait_until('%s locked on the carrier %s after a lock at home' % (x, car),
                       lambda: cr.ctl_json('meeting', 'show', x).get('locked') is True or None)
            h.ctl('meeting', 'unlock', x)
            wait_until('%s unlocked on the carrier %s after an unlock at home' % (x, car),
                       lambda: cr.ctl_json('meeting', 'show', x).get('locked') is False or None)
            ok('trent on home and carrier, ejected at home: ejected on the carrier too; lock and unlock at home '
               'followed on the carrier')
            rc, out, lock_err = cr.ctl('meeting', 'lock', x)
            admin = make_token(secret, 'op', '*', 'admin')
            s2, h2, _ = Http(cr.port).req('POST', '/v1/meetings/%s/lock' % x, None, admin)
            if rc == 0 or home not in lock_err or s2 != 307 or h2.get('location') != h.url + '/v1/meetings/%s/lock' % x:
                fail('lock on the carrier: mmrctl rc %d %s; HTTP %d %s' % (rc, lock_err.strip(), s2, h2.get('location')))
            rc, out, err = cr.ctl('participant', 'eject', x, 'eve')
            if rc != 0:
                fail('participant eject on the carrier: %s' % (err or out))
            wait_until('bans/%s/eve in etcd (ejected on the carrier)' % x,
                       lambda: etcd.prefix('/mmr/zone/bans/').get('/mmr/zone/bans/%s/eve' % x))
            ok('carrier %s: home\'s controls applied (join without the passcode 403, with it 201; waiting room off); '
               'lock there refused (mmrctl: "%s"; HTTP 307 to %s); eve ejected there: bans/%s/eve in etcd'
               % (car, lock_err.strip()[:100], home, x))
        wait_until('a lease time since registration', lambda: time.monotonic() - t_reg >= LEASE_S, timeout=LEASE_S + 1)
        h.kill()
        t0 = time.monotonic()

        def moved():
            v = json.loads(etcd.prefix('/mmr/zone/meetings/').get('/mmr/zone/meetings/' + x, '{}'))
            return v['host'] if v.get('host', home) != home and x in ctls[v['host']].meetings() else None
        new = wait_until('%s placed again after SIGKILL of %s' % (x, home), moved, timeout=LEASE_S + 3)
        n = ctls[new]
        ok('SIGKILL of %s: %s runs on %s %.1f s later' % (home, x, new, time.monotonic() - t0))
        jp = '/v1/meetings/%s/join' % x
        if split:
            wr = wait_until('%s on %s closed (another secret_file: the passcode cannot be unsealed)' % (x, new),
                            lambda: n.ctl_json('meeting', 'show', x).get('waiting_room') is True or None, timeout=3)
            ok('secret_file differing between hosts: %s came up on %s closed (waiting room on: %s)' % (x, new, wr))
        elif with_secret:
            def refused():
                s, _, t = Http(n.port).req('POST', jp, offer('aiortc_sendrecv.sdp'), mal, 'application/sdp',
                                           {'MMR-Passcode': CODE})
                return (s, t) if s == 403 else None
            st = wait_until('the ejected identity mallory refused on the new host', refused, timeout=3)
            ok('mallory (ejected on %s, with the passcode) at %s: %d %s' % (home, new, st[0], st[1].decode()[:80]))
            if not NO_CONTROLS:
                evt = make_token(secret, 'eve', x, 'participant')
                s, _, t = Http(n.port).req('POST', jp, offer('aiortc_sendrecv.sdp'), evt, 'application/sdp',
                                           {'MMR-Passcode': CODE})
                if s != 403:
                    fail('eve (ejected on the carrier) at %s: %d %s (want 403)' % (new, s, t[:200]))
                ok('eve (ejected on the carrier) at %s: 403' % new)
            bob = make_token(secret, 'bob', x, 'participant')
            s, _, t = Http(n.port).req('POST', jp, offer('aiortc_sendrecv.sdp'), bob, 'application/sdp')
            if s != 403:
                fail('a join without the passcode on the new host: %d %s (want 403)' % (s, t[:200]))
            s2, _, t2 = Http(n.port).req('POST', jp, offer('aiortc_sendrecv.sdp'), bob, 'application/sdp',
                                         {'MMR-Passcode': CODE + 'x'})
            s3, _, t3 = Http(n.port).req('POST', jp, offer('aiortc_sendrecv.sdp'), bob, 'application/sdp',
                                         {'MMR-Passcode': CODE})
            if s2 != 403 or s3 != 201:
                fail('joins on the new host: a wrong passcode %d, the passcode %d %s' % (s2, s3, t3[:200]))
            ok('on %s: a join without the passcode 403, a wrong one 403, with it 201' % new)
            show = n.ctl_json('meeting', 'show', x)
            if show.get('waiting_room') is not False or show.get('locked'):
                fail('%s on %s: waiting_room %s locked %s (want as it was: off, off)'
                     % (x, new, show.get('waiting_room'), show.get('locked')))
            ok('%s on %s: waiting room off and unlocked, as on %s (not forced on)' % (x, new, home))
            # the passcode and its hash are in no controller's log or audit file
            for nm, cc in ctls.items():
                for fn in os.listdir(cc.dir):
                    if fn in ('passcodes', 'secret'):
                        continue
                    pth = os.path.join(cc.dir, fn)
                    if os.path.isfile(pth):
                        data = open(pth, 'rb').read()
                        if CODE.encode() in data or hsh.encode() in data:
                            fail('%s/%s holds the passcode or its hash' % (nm, fn))
            ok('the passcode and its hash are in no file of any controller but %s\'s passcodes (logs, state, audit)'
               % new)
            rc, out, err = n.ctl('meeting', 'end', x)
            if rc != 0:
                fail('meeting end: %s' % (err or out))
            left = lambda: [k for k in etcd.prefix('/mmr/zone/') if k == '/mmr/zone/controls/' + x or
                            k.startswith('/mmr/zone/bans/%s/' % x)]
            t_end = time.monotonic()
            while left() and time.monotonic() - t_end < 5:
                time.sleep(0.1)
            if left():
                fail('controls/%s and bans/%s/ deleted once %s ended: left %s' % (x, x, x, left()))
            ok('%s ended: controls/%s and bans/%s/* gone from etcd' % (x, x, x))
        else:
            wr = wait_until('%s on %s closed (no secret_file: the passcode cannot follow)' % (x, new),
                            lambda: n.ctl_json('meeting', 'show', x).get('waiting_room') is True or None, timeout=3)
            ok('no secret_file: %s came up on %s closed (waiting room on: %s)' % (x, new, wr))
    finally:
        stop_zone(ctls, standins, etcd, tmp)


def main():
    for b in (CTL, CLI, STANDIN):
        if not os.access(b, os.X_OK):
            fail('%s not built (make)' % b)
    if not shutil.which('etcd'):
        fail('etcd not installed (scripts/install-deps.sh: etcd-server)')
    run(True)
    if not NO_CONTROLS:
        run(False)
        run(True, split=True)
    print('PASS test_zone_controls (%d checks)' % checks())


if __name__ == '__main__':
    main()
