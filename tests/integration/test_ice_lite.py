#!/usr/bin/python3
"""
test_ice_lite.py - the dataplane's ICE-lite agent (issue 13, dataplane/ice.c) with the real
controller and dataplane on net_tap, the client side made with python3-aioice's STUN.

alice is an ordinary participant (address given) publishing audio; bob is added with `--ice
UFRAG:PWD` and no address. Checks: nothing reaches bob before a check (drop no_address); a Binding
request from bob's socket is answered from the MMR's address and port with bob's XOR-MAPPED-ADDRESS,
verifiable with the pwd (aioice parse_message with integrity_key); bob's address is learned (`mmrctl
participant show`) and alice's audio then reaches it; a wrong pwd gets a 401 (stun_auth), an unknown
ufrag no answer (stun_ufrag), ICE-CONTROLLED a 487 (stun_role), a request without FINGERPRINT a 400
(stun_bad), a Binding indication nothing (stun_other); a check from another port without
USE-CANDIDATE is answered and moves nothing, one with USE-CANDIDATE moves bob (NAT rebinding) and the
audio follows; with ice_consent_s = 2 and no checks the address is cleared (ice_consent_lost, the
controller's log, the audio stops) and a new check brings it back; a controller kill -9 and restart
keeps the learned address and the audio flowing (journal, replay). The pwd never appears in what
mmrctl prints or the controller logs. Bad --ice values and a duplicate ufrag are refused.
`--selfcheck` (what run-all.sh runs): the dataplane is build-check/mmr-dataplane (ASan and the table
self-check after every batch: ICE participants without an address share the key 0.0.0.0 port 0).
`--no-learn` (negative control in run-all.sh): the dataplane runs with MMR_TEST_ICE_NO_LEARN=1 (it
answers checks but never reports an address): the address and audio checks must fail.
"""
import os
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, CLIENT_IP, MMR_PORT  # noqa: E402
import rtpgen  # noqa: E402
from aioice import stun  # noqa: E402

UFRAG, PWD = 'bobU', 'bobPasswordOf24Chars+/x'
AUDIO = 0x41000001
NO_LEARN = '--no-learn' in sys.argv
SELFCHECK = '--selfcheck' in sys.argv     # the self-check dataplane (make selfcheck): what run-all.sh runs
CHECK_DP = os.path.join(mmrtest.ROOT, 'build-check', 'mmr-dataplane')


def request(ufrag=UFRAG, pwd=PWD, use_candidate=False, controlled=False, fingerprint=True,
            cls=stun.Class.REQUEST):
    m = stun.Message(message_method=stun.Method.BINDING, message_class=cls)
    m.attributes['USERNAME'] = '%s:clientU' % ufrag
    m.attributes['PRIORITY'] = 1853817087
    if controlled:
        m.attributes['ICE-CONTROLLED'] = 0x1122334455667788
    else:
        m.attributes['ICE-CONTROLLING'] = 0x1122334455667788
    if use_candidate:
        m.attributes['USE-CANDIDATE'] = None
    m.add_message_integrity(pwd.encode())     # MESSAGE-INTEGRITY, then FINGERPRINT
    if not fingerprint:
        del m.attributes['FINGERPRINT']
    return m


def exchange(env, sock, msg, timeout=1.0):
    """Send msg, return (answer Message or None, source address). Verified with PWD when it can be."""
    env.send(sock, bytes(msg))
    r, _, _ = select.select([sock], [], [], timeout)
    if not r:
        return None, None
    data, src = sock.recvfrom(2048)
    try:
        return stun.parse_message(data, integrity_key=PWD.encode()), src
    except ValueError:
        return stun.parse_message(data), src


def show(env, name='bob'):
    return env.ctl('participant', 'show', 'm', name, json=True).stdout


def wait_port(env, port, timeout=4.0):
    end = time.monotonic() + timeout
    while True:
        p = show(env)['port']
        if p == port or time.monotonic() > end:
            return p
        time.sleep(0.05)


def audio_reaches(env, alice, sock, packets, seq0):
    """Send 10 audio packets from alice; the seqs the socket got."""
    for p in packets[seq0:seq0 + 10]:
        env.send(alice, p.data)
        time.sleep(0.002)
    got = env.recv_all(sock, timeout=0.4)
    return [rtpgen.parse_rtp(d).seq for d in got if len(d) >= 12 and d[0] >> 6 == 2 and not 192 <= d[1] <= 223]


def body(c):
    if NO_LEARN:
        os.environ['MMR_TEST_ICE_NO_LEARN'] = '1'
    env = MmrEnv('ice_lite_nl' if NO_LEARN else 'ice_lite')
    env.extra_dp_conf += 'ice_consent_s = 2;\n'
    if SELFCHECK:
        if not c.check(os.access(CHECK_DP, os.X_OK), 'self-check dataplane present (run `make selfcheck`)', CHECK_DP):
            return
        env.dp_bin = CHECK_DP
    with env:
        env.wait_dp_attached(10)
        env.meeting('m')
        env.participant('m', 'alice', 7001)
        env.stream('m', 'alice', AUDIO, 'audio')
        # refusals first: nothing changes
        for args, what in ((('--ice', 'bo:' + PWD), 'a 2-character ufrag'),
                           (('--ice', UFRAG + ':short'), 'a short pwd'),
                           (('--ice', 'b*bU:' + PWD), 'a ufrag with a non-ICE character'),
                           (('--ice', UFRAG), 'no pwd'),
                           ((), 'neither --addr/--port nor --ice'),
                           (('--addr', CLIENT_IP), '--addr without --port')):
            cp = env.ctl('participant', 'add', 'm', 'x', *args, check=False)
            c.check(cp.returncode != 0 and 'error' in cp.stderr, 'participant add refused: %s' % what,
                    cp.stderr.strip())
        env.ctl('participant', 'add', 'm', 'bob', '--ice', '%s:%s' % (UFRAG, PWD))
        cp = env.ctl('participant', 'add', 'm', 'carol', '--ice', '%s:%s' % (UFRAG, 'x' * 22), check=False)
        c.check(cp.returncode != 0 and 'already used' in cp.stderr, 'a duplicate ufrag is refused', cp.stderr)
        env.ctl('participant', 'add', 'm', 'dave', '--ice', 'daveU:%s' % ('d' * 22))   # no address either
        sh = show(env)
        c.eq((sh['ice_ufrag'], sh['port']), (UFRAG, 0), 'bob: ufrag shown, no address yet')

        alice = env.udp_socket(7001)
        b1 = env.udp_socket(7101)
        b2 = env.udp_socket(7102)
        b3 = env.udp_socket(7103)
        packets = rtpgen.OpusLike(AUDIO).packets(200)
        d0 = mmrtest.drop_counts(env.stats()).get('no_address', 0)
        got = audio_reaches(env, alice, b1, packets, 0)
        c.eq(got, [], 'before any check: nothing reaches bob')
        c.check(mmrtest.drop_counts(env.stats()).get('no_address', 0) >= d0 + 10,
                'copies to bob counted as no_address')

        # a valid check (no USE-CANDIDATE: bob has no address yet, so it is learned)
        ans, src = exchange(env, b1, request())
        c.check(ans is not None and ans.message_class == stun.Class.RESPONSE,
                'valid check answered with a Binding success response', ans)
        c.eq(src, (MMR_IP, MMR_PORT), 'answered from the MMR address and media port')
        if ans is not None:
            c.eq(ans.attributes.get('XOR-MAPPED-ADDRESS'), (CLIENT_IP, 7101), 'XOR-MAPPED-ADDRESS is the source')
            c.check('MESSAGE-INTEGRITY' in ans.attributes and 'FINGERPRINT' in ans.attributes,
                    'the answer carries MESSAGE-INTEGRITY (verified with the pwd) and FINGERPRINT')
        c.eq(wait_port(env, 7101), 7101, 'bob\'s address learned from the check (participant show)')
        got = audio_reaches(env, alice, b1, packets, 10)
        c.eq(got, [p.seq for p in packets[10:20]], 'alice\'s audio reaches bob\'s learned address')

        st0 = env.stats()
        dr0 = mmrtest.drop_counts(st0)
        ans, _ = exchange(env, b1, request(pwd='wrongPasswordOf24Chars+'))
        c.check(ans is not None and ans.message_class == stun.Class.ERROR and
                ans.attributes.get('ERROR-CODE', (0,))[0] == 401, 'wrong pwd: 401', ans)
        ans, _ = exchange(env, b1, request(ufrag='nobodyU'), timeout=0.5)
        c.check(ans is None, 'unknown ufrag: no answer')
        ans, _ = exchange(env, b1, request(controlled=True))
        c.check(ans is not None and ans.attributes.get('ERROR-CODE', (0,))[0] == 487, 'ICE-CONTROLLED peer: 487', ans)
        ans, _ = exchange(env, b1, request(fingerprint=False))
        c.check(ans is not None and ans.attributes.get('ERROR-CODE', (0,))[0] == 400, 'no FINGERPRINT: 400', ans)
        ans, _ = exchange(env, b1, request(cls=stun.Class.INDICATION), timeout=0.5)
        c.check(ans is None, 'a Binding indication: no answer')
        env.send(b1, b'\x00\x01\x00\x00garbage-not-stun-at-all')
        dr = mmrtest.drop_counts(env.stats())
        for k in ('stun_auth', 'stun_ufrag', 'stun_role', 'stun_other'):
            c.eq(dr.get(k, 0) - dr0.get(k, 0), 1, 'drops.%s +1' % k)
        c.eq(dr.get('stun_bad', 0) - dr0.get('stun_bad', 0), 2, 'drops.stun_bad +2 (no FINGERPRINT, garbage)')
        c.eq(dr.get('bad_rtp', 0), 0, 'nothing counted as bad_rtp')
        st = env.stats()
        c.eq(mmrtest.lcore_total(st, 'stun_errors') - mmrtest.lcore_total(st0, 'stun_errors'), 3,
             'stun_errors +3 (401, 487, 400)')
        c.eq(wait_port(env, 7101, 0.2), 7101, 'bad checks moved nothing')

        # another port without USE-CANDIDATE: answered, not moved; with it: moved (NAT rebinding)
        ans, _ = exchange(env, b3, request())
        c.eq(ans.attributes.get('XOR-MAPPED-ADDRESS') if ans else None, (CLIENT_IP, 7103),
             'a check from another port is answered with that port')
        c.eq(wait_port(env, 7103, 0.5), 7101, 'without USE-CANDIDATE the address stays')
        ans, _ = exchange(env, b2, request(use_candidate=True))
        c.check(ans is not None and ans.message_class == stun.Class.RESPONSE, 'nominating check answered')
        c.eq(wait_port(env, 7102), 7102, 'USE-CANDIDATE from a new port moves bob (participant show)')
        got2 = audio_reaches(env, alice, b2, packets, 20)
        got1 = env.recv_all(b1, timeout=0.1)
        c.eq(got2, [p.seq for p in packets[20:30]], 'the audio follows to the new port')
        c.eq([d for d in got1 if d[0] >> 6 == 2 and not 192 <= d[1] <= 223], [], 'and no longer goes to the old one')

        # consent: no checks for ice_consent_s = 2 s -> cleared; a check brings it back
        t0 = time.monotonic()
        p = wait_port(env, 0, 6.0)
        c.eq(p, 0, 'consent expired: bob\'s address cleared (after %.1f s)' % (time.monotonic() - t0))
        c.check(env.stats().get('control', {}).get('ice_consent_lost', 0) >= 1, 'ice_consent_lost counted')
        c.check('lost consent' in env.log_text('ctl'), 'the controller logged the lost consent')
        got = audio_reaches(env, alice, b2, packets, 30)
        c.eq(got, [], 'after consent expired nothing is sent to bob')
        exchange(env, b2, request())
        c.eq(wait_port(env, 7102), 7102, 'a new valid check brings the address back')
        got = audio_reaches(env, alice, b2, packets, 40)
        c.eq(got, [p.seq for p in packets[40:50]], 'and the audio with it')

        # the learned address is the controller's state: a kill -9 and restart keeps it, and the
        # replay to the dataplane keeps bob's credentials (checks still answered, audio still there)
        env.kill_controller()
        env.start_controller()
        env.wait_dp_attached(10)
        c.eq(show(env)['port'], 7102, 'after a controller kill -9 and restart bob is still at the learned port')
        ans, _ = exchange(env, b2, request())
        c.check(ans is not None and ans.message_class == stun.Class.RESPONSE, 'checks answered after the replay', ans)
        got = audio_reaches(env, alice, b2, packets, 50)
        c.eq(got, [p.seq for p in packets[50:60]], 'the audio still reaches bob after the replay')

        text = ''.join(str(env.ctl(*a).stdout) for a in (('participant', 'show', 'm', 'bob'),
                                                          ('participant', 'list', 'm'),
                                                          ('meeting', 'show', 'm')))
        text += str(show(env)) + env.log_text('both')
        c.check(PWD not in text, 'the pwd appears in no mmrctl output and no log')
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])
        if SELFCHECK:
            bad = [ln for ln in env.log_text('dataplane').splitlines() if 'SELF-CHECK FAILED' in ln]
            c.check(not bad, 'table self-check after every batch found nothing wrong', bad[:1])


if __name__ == '__main__':
    mmrtest.run_test('test_ice_lite' + ('--no-learn' if NO_LEARN else ''), body)
