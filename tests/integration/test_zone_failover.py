#!/usr/bin/env python3
"""test_zone_failover.py - failover in the zone (issue 16; control/zone_failover.c), no DPDK: a
three-member etcd cluster on loopback and three mmr-controllers, each with a stand-in dataplane
(standin_dp: no packets, a DTLS fingerprint so joins are answered), tokens on (one zone secret).

Checks, each waiting on its condition (no fixed sleeps):
  - a participant joins a meeting X on mmr-c and holds its event stream;
  - SIGKILL of mmr-c's controller: the stream breaks; within lease_s + 2 s X runs on the host the
    placement rule picks (etcd: moved_from mmr-c), exactly once; the zone being full, mmr-c's other
    meeting Y waits (no host past capacity) and goes to the first host with room once a meeting ends;
  - a client following the protocol from the SIGKILL on (its stream asked again of a surviving host,
    307, `moved`, the join): 201 on the new host (the time is printed);
  - the client's event stream reconnected to a surviving host that does not carry X: 307 to X's new
    host (the token kept); there: `event: moved` {"meeting", "host", "http_url", "rejoin": true};
    the join again through a surviving host: 307 to the new host, which answers 201;
  - the waiting meeting (its host gone): GET 503 "... left the zone", join 503 Retry-After 1;
  - mmr-c restarted: it runs none of its old meetings (they are elsewhere) and takes none back;
  - mmr-a SIGSTOPped past its lease (as if cut off): its meetings go to mmr-c; SIGCONT: its session's
    event stream gets `moved` (to mmr-c) then `end`, and it runs none of them;
  - one etcd member SIGKILLed together with mmr-b's controller: all of mmr-b's meetings are placed
    again on the live hosts, each exactly once, no host past capacity, no acknowledged meeting lost.

  --no-failover   negative control (MMR_TEST_ZONE_NO_FAILOVER=1: nothing is placed again): this test
                  must FAIL ("... placed again after SIGKILL of mmr-c").
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from mmrzone import CLI, CTL, STANDIN, Controller, Etcd, checks, fail, ok, stop_zone, wait_until  # noqa: E402
from mmrhttp import ORIGIN, Events, Http, make_token, offer  # noqa: E402

NO_FAILOVER = '--no-failover' in sys.argv[1:]
LEASE_S = 3
HOSTS = [('mmr-a', 3), ('mmr-b', 3), ('mmr-c', 3)]    # name, max_meetings
ENV = {'MMR_TEST_ZONE_NO_FAILOVER': '1'} if NO_FAILOVER else {}


def placements(etcd):
    """meeting -> (host, value) from etcd's meetings/ keys."""
    out = {}
    for k, v in etcd.prefix('/mmr/zone/meetings/').items():
        out[k.rsplit('/', 1)[1]] = json.loads(v)
    return out


def per_host(pl):
    n = {}
    for v in pl.values():
        n[v['host']] = n.get(v['host'], 0) + 1
    return n


def rejoin(ctl_any, dead_url, ev_path, join_path, tok, t0, out, deadline):
    """A client whose event stream broke, as docs/interfaces.md "Failover" says: its stream asked again
    of a surviving host (every 0.25 s here, to measure; EventSource waits its retry: 3000), following
    307 (one to the dead host fails: again), `moved` there, the offer POSTed to its http_url. out:
    'rejoin_s' (SIGKILL to the 201), 'seen' (the answers on the way)."""
    seen = []
    while time.monotonic() < deadline:
        try:
            s, h, _ = Http(ctl_any.port).req('GET', ev_path)
            seen.append(s)
            loc = h.get('location', '')
            if s == 307 and not loc.startswith(dead_url):
                port = int(loc.split('//', 1)[1].split('/', 1)[0].split(':')[1])
                evm = Events(port, ev_path)
                evm.start()
                e = evm.wait_for(lambda e: e[0] == 'moved', timeout=2)
                if e:
                    url = e[1]['http_url']
                    s, h, t = Http(int(url.rsplit(':', 1)[1])).req('POST', join_path, offer('aiortc_sendrecv.sdp'),
                                                                   tok, 'application/sdp')
                    seen.append(s)
                    if s == 201:
                        out['rejoin_s'] = time.monotonic() - t0
                        out['moved'] = e[1]
                        break
        except OSError as e:
            seen.append(str(e))
        time.sleep(0.25)
    out['seen'] = seen


def main():
    for b in (CTL, CLI, STANDIN):
        if not os.access(b, os.X_OK):
            fail('%s not built (make)' % b)
    if not shutil.which('etcd'):
        fail('etcd not installed (scripts/install-deps.sh: etcd-server)')
    tmp = tempfile.mkdtemp(prefix='mmr-zone-fo-test.')
    secret = os.urandom(24).hex().encode()
    etcd = None
    ctls, standins = {}, []
    try:
        etcd = Etcd(tmp)
        wait_until('the etcd cluster answers on every member',
                   lambda: all(etcd.call('/v3/kv/range', {'key': 'eA=='}, m['url']) for m in etcd.members),
                   timeout=20)
        urls = [m['url'] for m in etcd.members]
        for name, _ in HOSTS:
            sp = subprocess.Popen([STANDIN, '/mmr-zone-test-%d-%s' % (os.getpid(), name)], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
            sp.stdout.readline()
            standins.append(sp)
        extra = 'join_candidate = "127.0.0.1:40000";\nhttp_cors_origins = [ "%s" ];\n' % ORIGIN
        for name, cap in HOSTS:
            ctls[name] = Controller(tmp, name, cap, urls, LEASE_S, 100, ENV, secret, extra)
        a, b, c = ctls['mmr-a'], ctls['mmr-b'], ctls['mmr-c']
        t_reg = wait_until('all three hosts registered', lambda: (
            time.monotonic() if sum(x['alive'] for x in a.ctl_json('zone', 'status')['hosts']) == 3 else None))
        ok('etcd: three members; three controllers with stand-in dataplanes registered')

        # meetings until one place is left: a 3, b 2, c 2 (the placement rule, test_zone.py)
        for i in range(7):
            rc, out, err = a.ctl('meeting', 'create', 'f%d' % i)
            if rc != 0:
                fail('meeting create f%d: %s' % (i, err or out))
        pl = placements(etcd)
        if per_host(pl) != {'mmr-a': 3, 'mmr-b': 2, 'mmr-c': 2}:
            fail('7 meetings placed: %s' % per_host(pl))
        on_c = sorted(m for m, v in pl.items() if v['host'] == 'mmr-c')
        x, y = on_c   # x moves first (etcd's key order), y waits for room
        wait_until('mmr-c runs %s' % on_c, lambda: c.meetings() == on_c)
        ok('7 meetings placed: a 3/3, b 2/3, c 2/3 (%s on mmr-c)' % ', '.join(on_c))

        # a participant of x on mmr-c, its event stream open
        tok = make_token(secret, 'alice', x, 'participant')
        s, h, t = Http(c.port).req('POST', '/v1/meetings/%s/join' % x, offer('aiortc_sendrecv.sdp'), tok,
                                   'application/sdp')
        if s != 201:
            fail('join of %s on mmr-c: %d %s' % (x, s, t[:200]))
        sess = h['location']
        ev_path = '%s/events?access_token=%s' % (sess, tok)
        ev = Events(c.port, ev_path)
        ev.start()
        wait_until('the event stream on mmr-c open', lambda: ev.status == 200 and ev.events)
        ok('alice joined %s on mmr-c (201, %s) and holds its event stream' % (x, sess))
        # a controller starting waits a lease time before moving anybody's meetings
        wait_until('a lease time since registration', lambda: time.monotonic() - t_reg >= LEASE_S, timeout=LEASE_S + 1)

        # SIGKILL of mmr-c's controller
        c.kill()
        t0 = time.monotonic()
        rj = {}
        rjt = threading.Thread(target=rejoin, args=(a, c.url, ev_path, '/v1/meetings/%s/join' % x, tok, t0, rj,
                                                    t0 + LEASE_S + 4), daemon=True)
        rjt.start()
        wait_until('the event stream broke with mmr-c', lambda: not ev.is_alive(), timeout=5)

        def x_moved():
            p = placements(etcd)
            return p if p[x]['host'] != 'mmr-c' and x in ctls[p[x]['host']].meetings() else None
        pl = wait_until('meeting %s of the killed host placed again after SIGKILL of mmr-c' % x, x_moved,
                        timeout=LEASE_S + 2)
        dt = time.monotonic() - t0
        new = pl[x]['host']
        if new != 'mmr-b' or pl[x].get('moved_from') != 'mmr-c' or pl[y]['host'] != 'mmr-c':
            fail('after SIGKILL of mmr-c: %s' % pl)
        if per_host(pl) != {'mmr-a': 3, 'mmr-b': 3, 'mmr-c': 1} or a.meetings().count(x) or len(pl) != 7:
            fail('past capacity or twice: %s' % per_host(pl))
        ok('SIGKILL of mmr-c: %s runs on %s %.1f s later (lease_s %d; moved_from mmr-c), once; %s waits '
           '(the zone is full: a 3/3, b 3/3)' % (x, new, dt, LEASE_S, y))
        wait_until('meeting %s on %s with its waiting room off, as on mmr-c (its controls in etcd)' % (x, new),
                        lambda: (ctls[new].ctl_json('meeting', 'show', x) or {}).get('waiting_room') is False or None,
                        timeout=3)
        ok('the moved meeting %s came up with its controls from etcd: waiting room off as on mmr-c; '
           'test_zone_controls.py checks passcode, bans and the closed fallback' % x)
        rjt.join()
        if 'rejoin_s' not in rj or rj['moved']['host'] != new:
            fail('the client rejoining through mmr-a: %s' % rj)
        ok('the client (stream again at mmr-a every 0.25 s, 307, moved, join): 201 on %s %.2f s after the SIGKILL '
           '(answers on the way: %s)' % (new, rj['rejoin_s'], sorted(set(map(str, rj['seen'])))))
        n = {}
        for name in ('mmr-a', 'mmr-b'):
            for ln in Http(ctls[name].port).req('GET', '/metrics', None, make_token(secret, 'op', '*', 'admin'))[2] \
                    .decode().splitlines():
                if ln.startswith('mmr_zone_failover_moved_total '):
                    n[name] = int(float(ln.split()[1]))
        if sum(n.values()) != 1:
            fail('mmr_zone_failover_moved_total: %s (want 1 in all)' % n)
        ok('mmr_zone_failover_moved_total: %s' % n)
        admin = make_token(secret, 'op', '*', 'admin')
        s, h, t = Http(a.port).req('GET', '/v1/meetings/%s' % y, None, admin)
        s2, h2, t2 = Http(a.port).req('POST', '/v1/meetings/%s/join' % y, offer('aiortc_sendrecv.sdp'),
                                      make_token(secret, 'carl', y, 'participant'), 'application/sdp')
        if s != 503 or b'left the zone' not in t or s2 != 503 or h2.get('retry-after') != '1':
            fail('%s (waiting, its host gone) at mmr-a: GET %d %s, join %d %s' % (y, s, t[:120], s2, t2[:120]))
        ok('%s waiting: GET at mmr-a 503 ("%s"), join 503 Retry-After 1' % (y, t.decode().strip()[:90]))

        # the client: its stream again at a surviving host that does not carry x: 307 to the new host
        s, h, t = Http(a.port).req('GET', ev_path)
        want = b.url + ev_path
        if s != 307 or h.get('location') != want:
            fail('events of the lost session at mmr-a: %d %s (want 307 to %s)' % (s, h.get('location'), want))
        ev2 = Events(b.port, ev_path)
        ev2.start()
        e = ev2.wait_for(lambda e: e[0] == 'moved')
        if not e or e[1] != {'meeting': x, 'host': 'mmr-b', 'http_url': b.url, 'from': 'mmr-c', 'rejoin': True}:
            fail('the event stream at mmr-b: %s %s' % (ev2.status, ev2.events))
        ok('the event stream at mmr-a: 307 to mmr-b; there: event moved %s' % e[1])
        s, h, t = Http(a.port).req('POST', '/v1/meetings/%s/join' % x, offer('aiortc_sendrecv.sdp'), tok,
                                   'application/sdp')
        if s != 307 or h.get('location') != b.url + '/v1/meetings/%s/join' % x:
            fail('join again at mmr-a: %d %s' % (s, h.get('location')))
        s, h, t = Http(b.port).req('POST', '/v1/meetings/%s/join' % x, offer('aiortc_sendrecv.sdp'), tok,
                                   'application/sdp')
        if s != 201:
            fail('join again at mmr-b: %d %s' % (s, t[:200]))
        ok('join again through mmr-a: 307 to mmr-b, which answers 201 (%s)' % h['location'])

        # room on mmr-a: y goes there
        a_own = sorted(m for m, v in placements(etcd).items() if v['host'] == 'mmr-a')
        rc, out, err = a.ctl('meeting', 'end', a_own[0])
        if rc != 0:
            fail('meeting end %s: %s' % (a_own[0], err))
        pl = wait_until('%s placed on mmr-a once it has room' % y, lambda: (
            lambda p: p if p[y]['host'] == 'mmr-a' and y in a.meetings() else None)(placements(etcd)))
        ok('a meeting ended on mmr-a: the waiting %s goes there; %s' % (y, per_host(pl)))

        # mmr-c restarted: its old meetings stay where they are
        c.start()
        wait_until('mmr-c registered again', lambda: any(
            h['name'] == 'mmr-c' and h['alive'] for h in a.ctl_json('zone', 'status')['hosts']))
        wait_until('mmr-c runs none of its old meetings', lambda: c.meetings() == [] or None)
        pl2 = placements(etcd)
        if pl2 != pl:
            fail('mmr-c restarted changed the placements: %s -> %s' % (pl, pl2))
        ok('mmr-c restarted: it runs none of %s, takes none back (placements unchanged)' % ', '.join(on_c))

        # mmr-a stopped beyond its lease (as if cut off): its meetings go to mmr-c; continued, it tells
        # its sessions' event streams where their meeting went (moved, then end) and runs none of them
        on_a = sorted(m for m, v in pl2.items() if v['host'] == 'mmr-a')
        z = on_a[0]
        tok2 = make_token(secret, 'bob', z, 'participant')
        s, h, t = Http(a.port).req('POST', '/v1/meetings/%s/join' % z, offer('aiortc_sendrecv.sdp'), tok2,
                                   'application/sdp')
        if s != 201:
            fail('join of %s on mmr-a: %d %s' % (z, s, t[:200]))
        ev3 = Events(a.port, '%s/events?access_token=%s' % (h['location'], tok2))
        ev3.start()
        wait_until('the event stream on mmr-a open', lambda: ev3.status == 200 and ev3.events)
        a.proc.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            pl3 = wait_until('mmr-a\'s meetings %s placed on mmr-c while mmr-a is stopped' % on_a, lambda: (
                lambda p: p if all(p[m]['host'] == 'mmr-c' for m in on_a) and c.meetings() == on_a else None)(
                    placements(etcd)), timeout=LEASE_S + 3)
            dt = time.monotonic() - t0
        finally:
            a.proc.send_signal(signal.SIGCONT)
        e = ev3.wait_for(lambda e: e[0] == 'moved', timeout=5)
        if not e or e[1] != {'meeting': z, 'host': 'mmr-c', 'http_url': c.url, 'from': 'mmr-a', 'rejoin': True}:
            fail('mmr-a continued: its event stream got %s' % ev3.events)
        if not ev3.wait_for(lambda e: e[0] == 'end', timeout=5):
            fail('mmr-a continued: no end after moved: %s' % ev3.events)
        wait_until('mmr-a runs none of its old meetings', lambda: a.meetings() == [] or None)
        wait_until('mmr-a registered again', lambda: any(
            h['name'] == 'mmr-a' and h['alive'] for h in b.ctl_json('zone', 'status')['hosts']))
        if placements(etcd) != pl3:
            fail('mmr-a continued changed the placements')
        ok('mmr-a stopped: %s on mmr-c %.1f s later; continued: its stream got moved %s then end, it runs none'
           % (', '.join(on_a), dt, e[1]))
        pl2 = pl3

        # one etcd member and mmr-b's controller killed together: every meeting of b placed again
        acked = set(pl2)
        on_b = sorted(m for m, v in pl2.items() if v['host'] == 'mmr-b')
        etcd.kill(0)
        b.kill()
        t0 = time.monotonic()

        def b_moved():
            p = placements(etcd)
            if any(v['host'] == 'mmr-b' for v in p.values()):
                return None
            return p if all(m in ctls[p[m]['host']].meetings() for m in on_b) else None
        # (a new etcd leader renews every lease for its TTL: mmr-b's may last up to twice lease_s)
        pl = wait_until('meetings %s of mmr-b placed again with one etcd member down' % on_b, b_moved,
                        timeout=2 * LEASE_S + 3)
        dt = time.monotonic() - t0
        if set(pl) != acked:
            fail('meetings lost or added: %s -> %s' % (sorted(acked), sorted(pl)))
        cnt = per_host(pl)
        if cnt.get('mmr-a', 0) > 3 or cnt.get('mmr-c', 0) > 3:
            fail('past capacity: %s' % cnt)
        for name in ('mmr-a', 'mmr-c'):
            want = sorted(m for m, v in pl.items() if v['host'] == name)
            wait_until('%s runs exactly %s' % (name, want), lambda: ctls[name].meetings() == want or None)
        ok('etcd member e0 and mmr-b killed: %s placed again in %.1f s, each once, %s, none lost'
           % (', '.join(on_b), dt, cnt))
        print('PASS test_zone_failover (%d checks)' % checks())
    finally:
        stop_zone(ctls, standins, etcd, tmp)


if __name__ == '__main__':
    main()
