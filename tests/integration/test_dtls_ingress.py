#!/usr/bin/python3
"""
test_dtls_ingress.py - DTLS-SRTP on the media port (issue 13, dataplane/dtls_path.c) with the real
controller and dataplane on net_tap: a client joins as a browser does, ICE check then DTLS handshake,
and the keys it exported really carry media both ways through the MMR.

The meeting is SRTP (AEAD_AES_128_GCM). alice is an SDES participant (keys from `participant add`)
with a fixed address; bob is added with `--ice UFRAG:PWD --dtls-fp FP` (FP: the fingerprint of the
certificate build/tests/integration/dtls_peer uses; the MMR is the DTLS server). Checks:
  - `mmrctl status` shows the dataplane's certificate fingerprint (dtls_fingerprint, JSON and text);
    bob's `participant add` prints no keys; `participant keys` refuses him; bad --dtls-fp values,
    --dtls-fp without --ice, and --dtls-role alone are refused; bob shows dtls `waiting`;
  - a Binding request from bob's socket (python3-aioice) is answered, and dtls_peer as DTLS client
    from the same port right after it (before the controller's address may be back: dp_ice_recent)
    completes the handshake against the MMR's fingerprint; bob shows `connected` with the suite,
    the controller logs "DTLS: participant 'bob' ... connected (AEAD_AES_128_GCM)", dtls_connected
    and dtls_keys count it, the lcores' dtls_in / dtls_out the datagrams;
  - bob's audio, protected (pylibsrtp) with the key dtls_peer exported as its own, reaches alice,
    who decrypts it with her SDES recv key: every payload the same; alice's audio reaches bob, who
    decrypts it with the key dtls_peer exported as the MMR's: the keys work both ways;
  - bad input: carol with a wrong fingerprint fails (`failed:fingerprint`, logged, dtls_failed);
    DTLS from a port that is no participant's and sent no check: dtls_unknown; DTLS from alice (an
    SDES participant): dtls_off; garbage DTLS records from bob: ignored (dtls_ignored), bob's media
    still flows, both processes alive;
  - `participant set bob --dtls-fp` with another fingerprint ends the session (dtls_replaced, bob
    `waiting`); the state survives a controller kill -9 (the DTLS token replays).
The MMR as DTLS client: erin (--dtls-role client, an address given) gets our ClientHello without
sending anything first; dtls_peer as server completes the handshake, erin shows connected.
`--no-learn` (run-all.sh): MMR_TEST_ICE_NO_LEARN=1, the controller never learns bob's address: the
handshake still completes (DTLS accepted from the source of bob's latest valid check, dp_ice_recent).
`--selfcheck` (what run-all.sh runs): the dataplane is build-check/mmr-dataplane (ASan, the table
self-check after every batch).
`--wrong-fp` (negative control in run-all.sh): bob is added with a fingerprint that is not
dtls_peer's: the handshake and the media checks must fail.
"""
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, CLIENT_IP, MMR_PORT  # noqa: E402
import rtpgen  # noqa: E402
from aioice import stun  # noqa: E402

try:
    import pylibsrtp
except ImportError:
    pylibsrtp = None

PEER = os.path.join(mmrtest.ROOT, 'build', 'tests', 'integration', 'dtls_peer')
SUITE = 'AEAD_AES_128_GCM'
WRONG_FP = '--wrong-fp' in sys.argv
NO_LEARN = '--no-learn' in sys.argv      # the dataplane never reports addresses: DTLS only via the recent check
SELFCHECK = '--selfcheck' in sys.argv    # the self-check dataplane (make selfcheck: ASan, table checks)
CHECK_DP = os.path.join(mmrtest.ROOT, 'build-check', 'mmr-dataplane')
UFRAG, PWD = 'bobU', 'bobPasswordOf24Chars+/x'
A_AUDIO, B_AUDIO = 0x41000001, 0x42000002
OTHER_FP = ':'.join(['AB'] * 32)


def request(ufrag, pwd):
    m = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    m.attributes['USERNAME'] = '%s:clientU' % ufrag
    m.attributes['PRIORITY'] = 1853817087
    m.attributes['ICE-CONTROLLING'] = 0x1122334455667788
    m.add_message_integrity(pwd.encode())
    return m


def check(env, sock, ufrag, pwd):
    """One connectivity check from sock: True when answered with a success response."""
    env.send(sock, bytes(request(ufrag, pwd)))
    r, _, _ = select.select([sock], [], [], 1.0)
    if not r:
        return False
    data, _ = sock.recvfrom(2048)
    return stun.parse_message(data).message_class == stun.Class.RESPONSE


def peer_fp(cert):
    out = subprocess.run([PEER, '--cert', cert, '--print-fp'], capture_output=True, text=True, timeout=20).stdout
    return out.split()[1]


def handshake(cert, mmr_fp, port, timeout_ms=4000):
    """dtls_peer as the DTLS client from CLIENT_IP:port to the MMR: {'suite', 'local_key', ...} or
    {'failed': reason}."""
    cp = subprocess.run([PEER, '--role', 'client', '--host', MMR_IP, '--connect', str(MMR_PORT), '--bind',
                         '%s:%d' % (CLIENT_IP, port), '--peer-fp', mmr_fp, '--cert', cert, '--timeout-ms',
                         str(timeout_ms), '--linger-ms', '300', '--no-close'],
                        capture_output=True, text=True, timeout=30)
    out = {}
    for line in cp.stdout.splitlines():
        k, _, v = line.partition(' ')
        out[k] = v
    out['rc'] = cp.returncode
    return out


def session(key_hex_or_bytes, outbound):
    key = bytes.fromhex(key_hex_or_bytes) if isinstance(key_hex_or_bytes, str) else key_hex_or_bytes
    p = pylibsrtp.Policy(key=key, srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
                         ssrc_type=(pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound
                                    else pylibsrtp.Policy.SSRC_ANY_INBOUND))
    return pylibsrtp.Session(p)


def show(env, name):
    return env.ctl('participant', 'show', 'm', name, json=True).stdout


def wait_dtls(env, name, want='connected', timeout=5.0):
    end = time.monotonic() + timeout
    while True:
        st = show(env, name).get('dtls')
        if st == want or time.monotonic() > end:
            return st
        time.sleep(0.05)


def relay(env, src_sock, dst_sock, packets, protect, unprotect):
    """Send the packets protected from src_sock; what dst_sock got and could unprotect, as (SSRC,
    payload) (the MMR numbers its copies per receiver: sequence numbers differ), None for a datagram
    that did not unprotect."""
    for p in packets:
        env.send(src_sock, protect.protect(p.data))
        time.sleep(0.002)
    got = []
    for d in env.recv_all(dst_sock, timeout=0.5):
        if len(d) < 12 or d[0] >> 6 != 2 or 192 <= d[1] <= 223:
            continue
        try:
            got.append(unprotect.unprotect(d)[8:])
        except Exception:   # noqa: BLE001 - pylibsrtp raises its own error type
            got.append(None)
    return got


def same(c, got, want, what):
    """got == want, with a short detail (how many arrived, how many unprotected and matched)."""
    ok = sum(1 for g in got if g is not None and g in want)
    return c.check(got == want, what, 'got %d datagrams, %d unprotected and matched, want %d' %
                   (len(got), ok, len(want)))


def body(c):
    if not c.check(pylibsrtp is not None, 'python3-pylibsrtp available'):
        return
    if not c.check(os.access(PEER, os.X_OK), 'dtls_peer built', PEER):
        return
    if NO_LEARN:
        os.environ['MMR_TEST_ICE_NO_LEARN'] = '1'
    env = MmrEnv('dtls_in_neg' if WRONG_FP else 'dtls_in_nl' if NO_LEARN else 'dtls_in')
    if SELFCHECK:
        if not c.check(os.access(CHECK_DP, os.X_OK), 'self-check dataplane present (run `make selfcheck`)', CHECK_DP):
            return
        env.dp_bin = CHECK_DP
    with env:
        cert = os.path.join(env.tmp, 'peer.pem')
        cert2 = os.path.join(env.tmp, 'other.pem')
        fp = peer_fp(cert)
        env.wait_dp_attached(10)
        st = env.status()
        mmr_fp = (st.get('dataplane') or {}).get('dtls_fingerprint')
        c.check(isinstance(mmr_fp, str) and len(mmr_fp) == 95, 'status shows the dataplane\'s DTLS fingerprint',
                mmr_fp)
        c.check(mmr_fp and mmr_fp in env.ctl('status').stdout, 'and the text status too')
        env.meeting('m', srtp=SUITE)
        ka = mmrtest.parse_keys(env.participant('m', 'alice', 7001).stdout)
        env.stream('m', 'alice', A_AUDIO, 'audio')
        for args, what in ((('--ice', 'bobX:' + PWD, '--dtls-fp', 'AB:CD'), 'a short fingerprint'),
                           (('--ice', 'bobX:' + PWD, '--dtls-fp', 'sha-1 ' + fp), 'another hash'),
                           (('--addr', CLIENT_IP, '--port', '7009', '--dtls-fp', fp), '--dtls-fp without --ice'),
                           (('--ice', 'bobX:' + PWD, '--dtls-role', 'client'), '--dtls-role alone'),
                           (('--ice', 'bobX:' + PWD, '--dtls-fp', fp, '--dtls-role', 'both'), 'a bad role')):
            cp = env.ctl('participant', 'add', 'm', 'x', *args, check=False)
            c.check(cp.returncode != 0 and 'error' in cp.stderr, 'participant add refused: %s' % what,
                    cp.stderr.strip())
        cp = env.ctl('participant', 'add', 'm', 'bob', '--ice', '%s:%s' % (UFRAG, PWD), '--dtls-fp',
                     OTHER_FP if WRONG_FP else fp)
        c.check('send_key' not in cp.stdout and 'inline:' not in cp.stdout, 'bob\'s add prints no SDES keys',
                cp.stdout)
        env.stream('m', 'bob', B_AUDIO, 'audio')
        cp = env.ctl('participant', 'keys', 'm', 'bob', check=False)
        c.check(cp.returncode != 0 and 'DTLS' in cp.stderr, '`participant keys` refuses a DTLS participant',
                cp.stderr.strip())
        sh = show(env, 'bob')
        c.eq((sh.get('dtls'), sh.get('dtls_role')), ('waiting', 'server'), 'bob: dtls waiting, MMR role server')

        alice = env.udp_socket(7001)
        b = env.udp_socket(7101)
        c.check(check(env, b, UFRAG, PWD), 'bob\'s check answered')
        b.close()
        st0 = env.stats()
        hs = handshake(cert, mmr_fp, 7101)     # at once: maybe before the controller's address is back
        c.check(hs.get('rc') == 0 and hs.get('suite') == SUITE, 'dtls_peer completed the handshake as client', hs)
        c.eq(wait_dtls(env, 'bob'), 'connected', 'bob: dtls connected (participant show)')
        c.eq(show(env, 'bob').get('dtls_suite'), SUITE, 'bob: the negotiated suite shown')
        c.check("DTLS: participant 'bob' in meeting 'm' connected (%s)" % SUITE in env.log_text('ctl'),
                'the controller logged the connection')
        st = env.stats()
        ctl0, ctl1 = st0.get('control', {}), st.get('control', {})
        c.check(ctl1.get('dtls_connected', 0) - ctl0.get('dtls_connected', 0) == 1 and
                ctl1.get('dtls_keys', 0) - ctl0.get('dtls_keys', 0) == 1, 'dtls_connected and dtls_keys +1',
                (ctl1.get('dtls_connected'), ctl1.get('dtls_keys')))
        c.check(mmrtest.lcore_total(st, 'dtls_in') >= 2 and mmrtest.lcore_total(st, 'dtls_out') >= 2,
                'the lcores handed datagrams to the DTLS thread and sent its flights',
                (mmrtest.lcore_total(st, 'dtls_in'), mmrtest.lcore_total(st, 'dtls_out')))
        if NO_LEARN:
            # the address never came back: the handshake went through the recent-check path alone
            c.eq(show(env, 'bob').get('port'), 0, 'no address learned (MMR_TEST_ICE_NO_LEARN)')
            c.check(all(env.alive()), 'dataplane and controller alive')
            return

        b = env.udp_socket(7101)
        if hs.get('local_key'):
            # bob -> alice: protected with what bob's DTLS exported as its own (client) key
            bob_out = session(hs['local_key'] + hs['local_salt'], True)
            alice_in = session(mmrtest.key_bytes(ka['recv_key']), False)
            pk = rtpgen.OpusLike(B_AUDIO).packets(40)
            got = relay(env, b, alice, pk[:20], bob_out, alice_in)
            same(c, got, [p.data[8:] for p in pk[:20]], 'bob\'s SRTP (DTLS keys) reaches alice, decrypted with her SDES key')
            # alice -> bob: decrypted with what bob's DTLS exported as the MMR's (server) key
            alice_out = session(mmrtest.key_bytes(ka['send_key']), True)
            bob_in = session(hs['remote_key'] + hs['remote_salt'], False)
            pa = rtpgen.OpusLike(A_AUDIO).packets(40)
            got = relay(env, alice, b, pa[:20], alice_out, bob_in)
            same(c, got, [p.data[8:] for p in pa[:20]], 'alice\'s SRTP reaches bob, decrypted with the DTLS keys')

            # garbage DTLS from bob's address: ignored by its session, media goes on
            d0 = env.stats().get('control', {}).get('dtls_ignored', 0)
            env.send(b, b'\x17\xfe\xfd' + bytes(40))      # application data nobody can read
            env.send(b, b'\x16\xfe\xfd\x00\x00' + b'\xff' * 30)   # a handshake record of garbage
            time.sleep(0.3)
            # OpenSSL drops records it cannot read without a word (RFC 6347 4.1.2.7), so the counter
            # may not move: what must hold is that the session stays connected (and the media below)
            d1 = env.stats().get('control', {}).get('dtls_ignored', 0)
            c.check(wait_dtls(env, 'bob', 'connected', 0.1) == 'connected',
                    'garbage DTLS from bob leaves its session connected (dtls_ignored %d -> %d)' % (d0, d1))
            got = relay(env, b, alice, pk[20:30], bob_out, alice_in)
            same(c, got, [p.data[8:] for p in pk[20:30]], 'bob\'s media still flows after the garbage')
        else:
            c.check(False, 'bob\'s media both ways (no keys from the handshake)')

        # bad input
        dr0 = mmrtest.drop_counts(env.stats())
        stranger = env.udp_socket(7199)
        env.send(stranger, b'\x16\xfe\xfd' + bytes(30))
        env.send(alice, b'\x16\xfe\xfd' + bytes(30))
        time.sleep(0.3)
        dr = mmrtest.drop_counts(env.stats())
        c.eq(dr.get('dtls_unknown', 0) - dr0.get('dtls_unknown', 0), 1, 'DTLS from an unknown address: dtls_unknown +1')
        c.eq(dr.get('dtls_off', 0) - dr0.get('dtls_off', 0), 1, 'DTLS from an SDES participant: dtls_off +1')

        env.ctl('participant', 'add', 'm', 'carol', '--ice', 'carolU:%s' % PWD, '--dtls-fp', OTHER_FP)
        cs = env.udp_socket(7102)
        c.check(check(env, cs, 'carolU', PWD), 'carol\'s check answered')
        cs.close()
        f0 = env.stats().get('control', {}).get('dtls_failed', 0)
        hs2 = handshake(cert, mmr_fp, 7102, timeout_ms=2000)
        c.check(hs2.get('rc') != 0 and 'suite' not in hs2, 'carol (fingerprint not hers) gets no keys', hs2)
        c.eq(wait_dtls(env, 'carol', 'failed:fingerprint'), 'failed:fingerprint', 'carol: dtls failed:fingerprint')
        c.check("DTLS: participant 'carol' in meeting 'm' failed: fingerprint" in env.log_text('ctl'),
                'the controller logged the failure')
        c.eq(env.stats().get('control', {}).get('dtls_failed', 0) - f0, 1, 'dtls_failed +1')

        # a new fingerprint: the session ends, a new handshake is awaited
        r0 = env.stats().get('control', {}).get('dtls_replaced', 0)
        env.ctl('participant', 'set', 'm', 'bob', '--dtls-fp', peer_fp(cert2))
        c.eq(show(env, 'bob').get('dtls'), 'waiting', 'a new fingerprint: bob waits for a new handshake')
        time.sleep(0.3)
        c.check(env.stats().get('control', {}).get('dtls_replaced', 0) > r0, 'the old session ended (dtls_replaced)')
        b.close()
        hs3 = handshake(cert2, mmr_fp, 7101)
        b = env.udp_socket(7101)
        c.eq(hs3.get('suite'), SUITE, 'a handshake with the new certificate completes')
        c.eq(wait_dtls(env, 'bob'), 'connected', 'bob connected again')

        # the MMR as DTLS client (a=setup:active): erin has an address, so the dataplane starts the
        # handshake itself (headers made from her address, no datagram from her before)
        srv = subprocess.Popen([PEER, '--role', 'server', '--bind', '%s:7103' % CLIENT_IP, '--peer-fp', mmr_fp,
                                '--cert', cert, '--timeout-ms', '4000', '--linger-ms', '300', '--no-close'],
                               stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
        env.ctl('participant', 'add', 'm', 'erin', '--ice', 'erinU:%s' % PWD, '--addr', CLIENT_IP, '--port', '7103',
                '--dtls-fp', fp, '--dtls-role', 'client')
        try:
            out, _ = srv.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            srv.kill()
            out, _ = srv.communicate()
        c.check('suite %s' % SUITE in out, 'MMR as DTLS client: dtls_peer as server completed the handshake', out)
        c.eq(wait_dtls(env, 'erin'), 'connected', 'erin: dtls connected (MMR role client)')
        c.eq(show(env, 'erin').get('dtls_role'), 'client', 'erin: MMR role client shown')

        env.kill_controller()
        env.start_controller()
        env.wait_dp_attached(10)
        sh = show(env, 'bob')
        c.eq((sh.get('dtls_peer_fingerprint'), sh.get('dtls_role')), (peer_fp(cert2), 'server'),
             'after a controller kill -9 and restart: bob\'s DTLS settings replayed')
        c.eq(wait_dtls(env, 'bob'), 'connected', 'and its state restated by the dataplane\'s snapshot (connected)')
        if hs3.get('local_key') and hs.get('local_key'):
            # the replay's PUTs carry no keys: the dataplane keeps the handshake's (same fingerprint)
            bob_out = session(hs3['local_key'] + hs3['local_salt'], True)
            pk = rtpgen.OpusLike(B_AUDIO, seq=3000).packets(10)
            got = relay(env, b, alice, pk, bob_out, alice_in)
            same(c, got, [p.data[8:] for p in pk], 'after the replay bob\'s media still flows under the DTLS keys')
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])
        if SELFCHECK:
            bad = [ln for ln in env.log_text('dataplane').splitlines() if 'SELF-CHECK FAILED' in ln]
            c.check(not bad, 'table self-check after every batch found nothing wrong', bad[:1])


if __name__ == '__main__':
    mmrtest.run_test('test_dtls_ingress' + ('--wrong-fp' if WRONG_FP else ''), body)
