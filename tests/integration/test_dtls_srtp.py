#!/usr/bin/python3
"""
test_dtls_srtp.py - lib/dtls (DTLS-SRTP key export, issue 13) against another implementation over
real UDP on 127.0.0.1: OpenSSL's own `openssl s_client` / `s_server` (the command-line tools, their
own DTLS state machine driving and sockets) talking to build/tests/integration/dtls_peer, which
drives the module over a socket and prints what it exported. No DPDK, no root.

  server role (the MMR answers a=setup:passive), s_client as the browser, once per profile
            (AEAD_AES_128_GCM 56 bytes, AEAD_AES_256_GCM 88, AES_CM_128_HMAC_SHA1_80 60): the
            handshake completes, both name the same profile, the keying material s_client prints
            (-keymatexport EXTRACTOR-dtls_srtp) is exactly client_key|server_key|client_salt|
            server_salt as dtls_peer printed it, dtls_peer's local key is the server half and its
            remote key the client half; the certificate s_client received has the fingerprint
            dtls_peer printed (what SDP would carry); s_client's close_notify closes the session;
  preference s_client offering all three (CM first): the MMR picks AEAD_AES_256_GCM;
  after     s_client sends a line of application data (ignored and counted) and asks to
            renegotiate ("R"): refused (SSL_OP_NO_RENEGOTIATION), the keys are exported once;
  refusals  s_client offering only SRTP_AES128_CM_SHA1_32 (lib/srtp lacks it): the session fails
            with no_srtp_profile and no keys; a client certificate whose fingerprint is not the one
            given (as from the SDP): the session fails with `fingerprint`, s_client gets a
            bad_certificate alert; a client with no certificate fails the same way;
  aiortc    python3-aiortc 1.4's RTCDtlsTransport (its own DTLS driver on pyOpenSSL, the key split
            of a WebRTC stack, AES_CM_128_HMAC_SHA1_80 only) over UDP, with dtls_peer as server and
            as client: both connect; our close_notify closes aiortc's transport; SRTP (pylibsrtp) protected by aiortc unprotects under our
            remote key, and ours under our local key unprotects in aiortc;
  client role (a=setup:active), s_server as the peer (requiring our certificate, -Verify 1):
            s_server's keying material equals ours, the mirrored halves; a server certificate that
            is not the pinned one fails with `fingerprint`.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
import mmrtest  # noqa: E402

PEER = os.path.join(ROOT, 'build', 'tests', 'integration', 'dtls_peer')
PROFILES = {  # s_client name -> (our suite name, keying material length)
    'SRTP_AEAD_AES_128_GCM': ('AEAD_AES_128_GCM', 56),
    'SRTP_AEAD_AES_256_GCM': ('AEAD_AES_256_GCM', 88),
    'SRTP_AES128_CM_SHA1_80': ('AES_CM_128_HMAC_SHA1_80', 60),
}


def make_cert(d, name):
    key, crt = os.path.join(d, name + '.key'), os.path.join(d, name + '.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                    '-nodes', '-keyout', key, '-out', crt, '-days', '2', '-subj', '/CN=' + name],
                   check=True, capture_output=True)
    return key, crt, fingerprint_of(open(crt).read())


def fingerprint_of(pem):
    out = subprocess.run(['openssl', 'x509', '-noout', '-fingerprint', '-sha256'], input=pem,
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split('=', 1)[1]


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse_peer(text):
    kv = {}
    for line in text.splitlines():
        parts = line.split(' ', 1)
        if len(parts) == 2:
            kv.setdefault(parts[0], parts[1])
    return kv


def keymat_of(text):
    m = re.search(r'Keying material: ([0-9A-Fa-f]+)', text)
    return m.group(1).upper() if m else None


def profile_of(text):
    m = re.search(r'SRTP Extension negotiated, profile=(\S+)', text)
    return m.group(1) if m else None


def run_server_case(d, offer, keylen, peer_fp, cli_key, cli_crt):
    """dtls_peer as server, s_client connecting; returns (peer output dict, peer text, s_client text)."""
    p = subprocess.Popen([PEER, '--role', 'server', '--port', '0', '--peer-fp', peer_fp,
                          '--timeout-ms', '8000', '--linger-ms', '2000'],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = [p.stdout.readline(), p.stdout.readline()]
    port = int(first[1].split()[1])
    cli = subprocess.run(['openssl', 's_client', '-dtls1_2', '-use_srtp', offer,
                          '-keymatexport', 'EXTRACTOR-dtls_srtp', '-keymatexportlen', str(keylen),
                          '-connect', '127.0.0.1:%d' % port, '-cert', cli_crt, '-key', cli_key],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    rest, _ = p.communicate(timeout=20)
    text = ''.join(first) + rest
    return parse_peer(text), text, cli.stdout + cli.stderr, p.returncode


def run_client_case(d, offer, keylen, pinned_fp, srv_key, srv_crt):
    port = free_udp_port()
    srv = subprocess.Popen(['openssl', 's_server', '-dtls1_2', '-use_srtp', offer,
                            '-keymatexport', 'EXTRACTOR-dtls_srtp', '-keymatexportlen', str(keylen),
                            '-accept', str(port), '-cert', srv_crt, '-key', srv_key, '-Verify', '1',
                            '-naccept', '1'],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    time.sleep(0.5)
    p = subprocess.run([PEER, '--role', 'client', '--connect', str(port), '--peer-fp', pinned_fp,
                        '--timeout-ms', '8000', '--linger-ms', '500'],
                       capture_output=True, text=True, timeout=20)
    time.sleep(0.3)
    try:
        srv_out, _ = srv.communicate(input='', timeout=5)
    except subprocess.TimeoutExpired:
        srv.kill()
        srv_out, _ = srv.communicate()
    return parse_peer(p.stdout), p.stdout + p.stderr, srv_out, p.returncode


class UdpIce:
    """What aiortc's RTCDtlsTransport uses of an RTCIceTransport (role, _send, _recv), on a UDP socket:
    connected to `port`, or (port None) bound and connected to whoever sends first."""

    def __init__(self, role, port=None):
        self.role = role
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.setblocking(False)
        self.connected = port is not None
        if port is not None:
            self.sock.connect(('127.0.0.1', port))

    async def _send(self, data):
        self.sock.send(data)

    async def _recv(self):
        import asyncio
        loop = asyncio.get_running_loop()
        data, addr = await loop.sock_recvfrom(self.sock, 4096)
        if not self.connected:
            self.sock.connect(addr)
            self.connected = True
        return data


def aiortc_case(c, our_role):
    """aiortc 1.4 (python3-aiortc: pyOpenSSL for DTLS, pylibsrtp for SRTP, AES_CM_128_HMAC_SHA1_80
    only) against dtls_peer; then SRTP both ways with the keys each side exported: a packet aiortc
    protects unprotects under our remote key, one protected under our local key unprotects in
    aiortc."""
    import asyncio
    from aiortc.rtcdtlstransport import (RTCCertificate, RTCDtlsFingerprint, RTCDtlsParameters,
                                         RTCDtlsTransport)
    import pylibsrtp

    tag = 'aiortc, dtls_peer as %s' % our_role
    cert = RTCCertificate.generateCertificate()
    their_fp = [f.value for f in cert.getFingerprints() if f.algorithm == 'sha-256'][0]

    async def run():
        if our_role == 'server':
            p = await asyncio.create_subprocess_exec(
                PEER, '--role', 'server', '--port', '0', '--peer-fp', their_fp, '--timeout-ms', '8000',
                '--linger-ms', '1500', stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            our_fp = (await p.stdout.readline()).decode().split()[1]
            port = int((await p.stdout.readline()).decode().split()[1])
            ice = UdpIce('controlled', port)              # ICE controlled -> aiortc is the DTLS client
        else:
            ice = UdpIce('controlling')                   # aiortc the DTLS server
            port = ice.sock.getsockname()[1]
            p = await asyncio.create_subprocess_exec(
                PEER, '--role', 'client', '--connect', str(port), '--peer-fp', their_fp,
                '--timeout-ms', '8000', '--linger-ms', '1500',
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            our_fp = (await p.stdout.readline()).decode().split()[1]
        dtls = RTCDtlsTransport(ice, [cert])
        await asyncio.wait_for(dtls.start(RTCDtlsParameters(
            fingerprints=[RTCDtlsFingerprint(algorithm='sha-256', value=our_fp)])), 10)
        state = dtls.state
        out, _ = await asyncio.wait_for(p.communicate(), 15)
        return dtls, state, out.decode(), p.returncode

    dtls, state, out, rc = asyncio.run(run())
    kv = parse_peer(out)
    c.check(rc == 0 and state == 'connected', '%s: both completed the handshake' % tag,
            'aiortc %s; %s' % (state, out))
    # dtls_peer sends close_notify when it ends: aiortc's transport closes on it
    c.eq(dtls.state, 'closed', '%s: our close_notify closed aiortc\'s transport' % tag)
    c.eq(kv.get('suite'), 'AES_CM_128_HMAC_SHA1_80', '%s: suite (aiortc offers only this)' % tag)
    if rc != 0 or state != 'connected':
        return
    rtp = bytes([0x80, 96, 0x12, 0x34, 0, 0, 0x10, 0, 0xca, 0xfe, 0xba, 0xbe]) + bytes(range(100))
    remote = pylibsrtp.Session(pylibsrtp.Policy(
        key=bytes.fromhex(kv['remote_key'] + kv['remote_salt']), ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND))
    local = pylibsrtp.Session(pylibsrtp.Policy(
        key=bytes.fromhex(kv['local_key'] + kv['local_salt']), ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND))
    try:
        got = remote.unprotect(dtls._tx_srtp.protect(rtp))
    except pylibsrtp.Error as e:
        got = e
    c.eq(got, rtp, '%s: aiortc\'s SRTP unprotects under our remote key' % tag)
    wrong = pylibsrtp.Session(pylibsrtp.Policy(   # the check's negative control: the other half
        key=bytes.fromhex(kv['local_key'] + kv['local_salt']), ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND))
    rtp2 = rtp[:3] + b'\x35' + rtp[4:]
    try:
        wrong.unprotect(dtls._tx_srtp.protect(rtp2))
        refused = False
    except pylibsrtp.Error:
        refused = True
    c.check(refused, '%s: ... and not under our local key (negative control)' % tag)
    try:
        got = dtls._rx_srtp.unprotect(local.protect(rtp))
    except pylibsrtp.Error as e:
        got = e
    c.eq(got, rtp, '%s: SRTP under our local key unprotects in aiortc' % tag)


def body(c):
    if not os.access(PEER, os.X_OK):
        c.check(False, 'build/tests/integration/dtls_peer is built (make)')
        return
    with tempfile.TemporaryDirectory() as d:
        cli_key, cli_crt, cli_fp = make_cert(d, 'browser')
        bad_key, bad_crt, bad_fp = make_cert(d, 'stranger')
        c.note('browser certificate %s' % cli_fp)

        # ---- server role, one profile at a time ----
        for offer, (suite, keylen) in PROFILES.items():
            kv, ptext, ctext, rc = run_server_case(d, offer, keylen, cli_fp, cli_key, cli_crt)
            tag = 'server %s' % suite
            c.eq(rc, 0, '%s: dtls_peer completed the handshake' % tag) or c.note(ptext)
            c.eq(kv.get('suite'), suite, '%s: negotiated suite' % tag)
            c.eq(profile_of(ctext), offer, '%s: s_client negotiated the same profile' % tag)
            km = kv.get('keying_material')
            c.check(km is not None and len(km) == 2 * keylen and km == keymat_of(ctext),
                    '%s: s_client\'s exported keying material is ours' % tag,
                    'ours %s, s_client %s' % (km, keymat_of(ctext)))
            if km:
                kl = {56: 16, 88: 32, 60: 16}[keylen] * 2
                sl = (len(km) - 2 * kl) // 2
                ck, sk = km[:kl], km[kl:2 * kl]
                cs, ss = km[2 * kl:2 * kl + sl], km[2 * kl + sl:]
                c.check(kv.get('local_key') == sk and kv.get('local_salt') == ss and
                        kv.get('remote_key') == ck and kv.get('remote_salt') == cs,
                        '%s: local = server_key|server_salt, remote = client_key|client_salt' % tag)
            m = re.search(r'-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----', ctext, re.S)
            c.check(m is not None and fingerprint_of(m.group(0)) == kv.get('fingerprint'),
                    '%s: the certificate s_client got has the fingerprint dtls_peer announced' % tag)
            c.check('closed' in ptext.splitlines(), '%s: s_client\'s close_notify closed the session' % tag,
                    ptext)

        # ---- after the handshake: application data ignored and counted, renegotiation refused ----
        p = subprocess.Popen([PEER, '--role', 'server', '--port', '0', '--peer-fp', cli_fp,
                              '--timeout-ms', '8000', '--linger-ms', '4000'],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = [p.stdout.readline(), p.stdout.readline()]
        port = int(first[1].split()[1])
        cli = subprocess.Popen(['openssl', 's_client', '-dtls1_2', '-use_srtp', 'SRTP_AEAD_AES_128_GCM',
                                '-connect', '127.0.0.1:%d' % port, '-cert', cli_crt, '-key', cli_key],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
        for line in ('hello\n', 'R\n'):   # s_client: a line of data, then "R" = renegotiate
            time.sleep(0.7)
            try:
                cli.stdin.write(line)
                cli.stdin.flush()
            except BrokenPipeError:
                pass
        time.sleep(0.7)
        ctext, _ = cli.communicate(timeout=10)   # closes its stdin: s_client ends
        rest, _ = p.communicate(timeout=20)
        ptext = ''.join(first) + rest
        kv = parse_peer(ptext)
        stats = dict(zip(kv.get('stats', '').split()[::2], kv.get('stats', '').split()[1::2]))
        c.check(int(stats.get('app_data_ignored', 0)) >= 1, 'application data after the handshake ignored and counted',
                ptext)
        c.check('RENEGOTIATING' in ctext and ptext.count('keying_material') == 1 and
                (kv.get('failed') is None or kv['failed'].startswith('handshake')),
                's_client\'s renegotiation refused: one key export, the peer\'s alert at most fails the session',
                ptext)

        # ---- our preference among the offered ----
        offer = 'SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM'
        kv, ptext, ctext, rc = run_server_case(d, offer, 88, cli_fp, cli_key, cli_crt)
        c.check(rc == 0 and kv.get('suite') == 'AEAD_AES_256_GCM' and
                profile_of(ctext) == 'SRTP_AEAD_AES_256_GCM' and kv.get('keying_material') == keymat_of(ctext),
                'all three offered (CM first): AEAD_AES_256_GCM chosen, same keys', ptext)

        # ---- refusals ----
        kv, ptext, ctext, rc = run_server_case(d, 'SRTP_AES128_CM_SHA1_32', 60, cli_fp, cli_key, cli_crt)
        c.check(rc == 1 and (kv.get('failed') or '').startswith('no_srtp_profile') and
                'keying_material' not in kv,
                'only SRTP_AES128_CM_SHA1_32 offered: fails no_srtp_profile, no keys', ptext)
        kv, ptext, ctext, rc = run_server_case(d, 'SRTP_AEAD_AES_128_GCM', 56, cli_fp, bad_key, bad_crt)
        c.check(rc == 1 and (kv.get('failed') or '').startswith('fingerprint') and 'keying_material' not in kv,
                'server: a client certificate other than the SDP\'s fails with `fingerprint`', ptext)
        c.check('alert bad certificate' in ctext,
                'server: s_client with the wrong certificate gets a bad_certificate alert', ctext[-400:])

        # ---- a WebRTC stack: aiortc, with SRTP on the exported keys ----
        try:
            import aiortc  # noqa: F401
        except ImportError:
            c.check(False, 'python3-aiortc is installed (scripts/install-deps.sh)')
        else:
            aiortc_case(c, 'server')
            aiortc_case(c, 'client')

        # ---- a client without a certificate ----
        p = subprocess.Popen([PEER, '--role', 'server', '--port', '0', '--peer-fp', cli_fp,
                              '--timeout-ms', '8000', '--linger-ms', '500'],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = [p.stdout.readline(), p.stdout.readline()]
        port = int(first[1].split()[1])
        subprocess.run(['openssl', 's_client', '-dtls1_2', '-use_srtp', 'SRTP_AEAD_AES_128_GCM',
                        '-connect', '127.0.0.1:%d' % port], stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=20)
        rest, _ = p.communicate(timeout=20)
        kv = parse_peer(''.join(first) + rest)
        c.check(p.returncode == 1 and (kv.get('failed') or '').startswith('fingerprint'),
                'server: a client without a certificate fails with `fingerprint`', ''.join(first) + rest)

        # ---- client role against s_server ----
        srv_key, srv_crt, srv_fp = make_cert(d, 'peer-server')
        kv, ptext, stext, rc = run_client_case(d, 'SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80', 56,
                                               srv_fp, srv_key, srv_crt)
        c.eq(rc, 0, 'client: dtls_peer completed the handshake with s_server') or c.note(ptext)
        c.eq(kv.get('suite'), 'AEAD_AES_128_GCM', 'client: negotiated suite (s_server\'s preference)')
        km = kv.get('keying_material')
        c.check(km is not None and km == keymat_of(stext), 'client: s_server\'s keying material is ours',
                'ours %s, s_server %s' % (km, keymat_of(stext)))
        if km:
            c.check(kv.get('local_key') == km[:32] and kv.get('remote_key') == km[32:64] and
                    kv.get('local_salt') == km[64:88] and kv.get('remote_salt') == km[88:112],
                    'client: local = client_key|client_salt, remote = server halves')
        kv, ptext, stext, rc = run_client_case(d, 'SRTP_AEAD_AES_128_GCM', 56, bad_fp, srv_key, srv_crt)
        c.check(rc == 1 and (kv.get('failed') or '').startswith('fingerprint') and 'keying_material' not in kv,
                'client: a server certificate other than the pinned one fails with `fingerprint`', ptext)


if __name__ == '__main__':
    mmrtest.run_test('test_dtls_srtp', body)
