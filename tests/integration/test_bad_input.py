#!/usr/bin/python3
"""
test_bad_input.py - bad packets and bad commands. While alice sends a good audio stream and a good
VP8 stream to bob, the test sends: RTP from an unknown sender, RTP from alice with an SSRC she does
not own (spoofed), RTCP, malformed RTP (version 1, padding count 0, padding longer than the packet,
truncated header, CSRC list beyond the packet), malformed VP8 descriptors (nothing after the
descriptor, truncated descriptor), garbage, UDP to the wrong port, TCP, and IP fragments. Each must be
counted under its drop reason and never forwarded, the good streams must arrive complete and the
dataplane stay up. The dataplane runs with `rtcp = false` (RTCP counted as drop `rtcp`, nothing
sent: the mode of the end-to-end negative control); test_rtcp.py covers terminated RTCP. Then invalid mmrctl commands must fail with "error:" and leave `meeting show`
unchanged.
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP  # noqa: E402
import rtpgen  # noqa: E402

A_AUDIO, A_VIDEO = 0xA0000001, 0xA0000002
ALICE, BOB, STRANGER = 6001, 6002, 6099
ROUNDS = 20


def bad_packets():
    """(reason, description, sender port, dest port, udp payload) for one round."""
    good_rtp = rtpgen.rtp_packet(1, 1, A_AUDIO, 111, b'\x48' + bytes(40))
    vdesc = rtpgen.vp8_descriptor(s=True, picture_id=5, tl0picidx=1, tid=0, y=True)
    hdr = lambda ssrc, **kw: rtpgen.rtp_packet(7, 7, ssrc, 96, **kw)  # noqa: E731
    return [
        ('unknown_sender', 'RTP from a port nobody has', STRANGER, 5000, good_rtp),
        ('unknown_ssrc', 'alice with an SSRC she does not own', ALICE, 5000,
         rtpgen.rtp_packet(1, 1, 0xDEADBEEF, 111, bytes(40))),
        ('rtcp', 'RTCP receiver report', ALICE, 5000, rtpgen.rtcp_receiver_report(A_AUDIO)),
        ('rtcp', 'RTCP sender report', ALICE, 5000, rtpgen.rtcp_sender_report(A_AUDIO)),
        ('bad_rtp', 'RTP version 1', ALICE, 5000, rtpgen.rtp_packet(1, 1, A_AUDIO, 111, bytes(40), version=1)),
        ('bad_rtp', 'padding count 0', ALICE, 5000,
         bytes([0xa0]) + rtpgen.rtp_packet(1, 1, A_AUDIO, 111, bytes(40) + b'\x00')[1:]),
        ('bad_rtp', 'padding longer than the payload', ALICE, 5000,
         bytes([0xa0]) + rtpgen.rtp_packet(1, 1, A_AUDIO, 111, bytes(10) + b'\xc8')[1:]),
        ('stun_bad', 'garbage (first byte 0: STUN by RFC 7983, not STUN)', ALICE, 5000,
         bytes([0x00, 0x11, 0x22]) + bytes(range(60))),
        ('truncated', 'RTP shorter than its fixed header', ALICE, 5000, good_rtp[:8]),
        ('truncated|bad_rtp', 'CSRC count beyond the packet', ALICE, 5000,
         bytes([0x8f]) + good_rtp[1:12] + bytes(8)),
        ('truncated|bad_rtp', 'extension beyond the packet', ALICE, 5000,
         bytes([0x90]) + good_rtp[1:12] + struct.pack('!HH', 0xBEDE, 50) + bytes(8)),
        ('bad_payload', 'VP8 descriptor with no payload after it', ALICE, 5000, hdr(A_VIDEO, payload=vdesc)),
        ('bad_payload|truncated', 'VP8 descriptor cut inside the PictureID', ALICE, 5000,
         hdr(A_VIDEO, payload=b'\x90\x80\x80')),
        ('bad_payload|truncated', 'VP8 payload of one X byte', ALICE, 5000, hdr(A_VIDEO, payload=b'\x80')),
        ('not_for_us', 'UDP to port 5001', ALICE, 5001, good_rtp),
    ]


def body(c):
    with MmrEnv('bad_input', rtcp=False) as env:
        env.wait_dp_attached(10)
        env.meeting('m1')
        env.participant('m1', 'alice', ALICE)
        env.participant('m1', 'bob', BOB, role='recvonly')
        env.stream('m1', 'alice', A_AUDIO, 'audio')
        env.stream('m1', 'alice', A_VIDEO, 'video', layers=3)

        socks = {p: env.udp_socket(p) for p in (ALICE, BOB, STRANGER)}
        audio = rtpgen.OpusLike(A_AUDIO)
        video = rtpgen.Vp8L1T3(A_VIDEO, keyframe_interval=16, pkts_per_frame=2, payload_size=200)
        bads = bad_packets()
        good_audio, good_video = [], []
        expect = {}
        for rnd in range(ROUNDS):
            for reason, _, sport, dport, payload in bads:
                a = audio.next_packet()
                good_audio.append(a.data)
                env.send(socks[ALICE], a.data)
                env.send(socks[sport], payload, (MMR_IP, dport))
                expect[reason] = expect.get(reason, 0) + 1
            for p in video.next_frame().packets:
                good_video.append(p.data)
                env.send(socks[ALICE], p.data)
            time.sleep(0.003)

        # non-UDP: TCP SYNs (the kernel retries them) and IPv4 fragments (a 3000-byte datagram)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setblocking(False)
        try:
            t.connect((MMR_IP, 80))
        except BlockingIOError:
            pass
        time.sleep(1.2)
        t.close()
        big = rtpgen.rtp_packet(99, 99, A_AUDIO, 111, bytes(3000))
        env.send(socks[ALICE], big)
        frags = 3   # 3008 bytes of UDP over a 1500-byte MTU

        got_bob = env.recv_all(socks[BOB], timeout=1.0, max_wait=10)
        got_alice = env.recv_all(socks[ALICE], timeout=0.2)
        got_stranger = env.recv_all(socks[STRANGER], timeout=0.2)
        parsed = [rtpgen.parse_rtp(d) for d in got_bob]
        rx_audio = [d for d, r in zip(got_bob, parsed) if r.ssrc == A_AUDIO]
        rx_video = [r for r in parsed if r.ssrc == A_VIDEO]
        diff = next((i for i, (x, y) in enumerate(zip(rx_audio, good_audio)) if x != y), None)
        c.check(rx_audio == good_audio, 'good audio delivered complete and unchanged next to the bad packets',
                '%d of %d; first difference at %s: got %s want %s' % (
                    len(rx_audio), len(good_audio), diff,
                    rx_audio[diff][:16].hex() if diff is not None else '-',
                    good_audio[diff][:16].hex() if diff is not None else '-'))
        if diff is not None:
            seqs = [rtpgen.parse_rtp(d).seq for d in rx_audio[diff:diff + 30]]
            c.note('received audio seqs from %d: %s' % (diff, seqs))
        c.eq(len(rx_video), len(good_video), 'good video delivered complete (bob at T2)')
        c.check(all(r.ssrc in (A_AUDIO, A_VIDEO) for r in parsed), 'nothing else reaches bob',
                sorted(set(hex(r.ssrc) for r in parsed)))
        c.check(not got_alice and not got_stranger, 'nothing reaches alice or the unknown sender',
                '%d / %d' % (len(got_alice), len(got_stranger)))

        time.sleep(0.3)
        st = env.stats()
        drops = mmrtest.drop_counts(st)
        c.note('drops: %s' % {k: v for k, v in drops.items() if v})
        for reason, n in sorted(expect.items()):
            if '|' in reason:
                continue
            extra = 0
            for r2, n2 in expect.items():   # reasons that may land here or elsewhere
                if '|' in r2 and reason in r2.split('|'):
                    extra += n2
            got = drops.get(reason, 0)
            if extra:
                c.check(n <= got <= n + extra, 'drops.%s between %d and %d' % (reason, n, n + extra), got)
            else:
                c.eq(got, n, 'drops.%s' % reason)
        # the ambiguous ones must be counted somewhere among their candidates
        cands = {}
        for reason, n in expect.items():
            key = tuple(sorted(set(reason.split('|'))))
            cands[key] = cands.get(key, 0) + n
        names = set(r for k in cands for r in k)
        c.eq(sum(drops.get(r, 0) for r in names), sum(cands.values()),
             'every bad RTP/VP8 packet counted once (%s)' % ', '.join(sorted(names)))
        c.check(drops.get('not_udp', 0) >= 1, 'TCP SYN counted as not_udp', drops.get('not_udp', 0))
        c.eq(drops.get('bad_ip', 0), frags, 'IPv4 fragments counted as bad_ip')
        c.eq(drops.get('layer', 0), 0, 'no layer drops (bob at T2)')
        vs = mmrtest.stream_stats(st, A_VIDEO) or {}
        n_bad_vp8 = sum(1 for r, _, _, _, p in bads if 'bad_payload' in r) * ROUNDS
        c.eq(int(vs.get('fwd_copies', -1)), len(good_video), 'video stream fwd_copies = the good packets')
        c.check(len(good_video) <= int(vs.get('rx_pkts', -1)) <= len(good_video) + n_bad_vp8,
                'video stream rx_pkts = good packets (+ the malformed VP8 ones on its SSRC)', vs)
        c.check(all(env.alive()), 'dataplane and controller alive after the bad input')
        ping = env.ctl('status', check=False)
        c.eq(ping.returncode, 0, 'controller answers status')

        # ---- bad commands ------------------------------------------------------------------------------
        before = env.ctl('meeting', 'show', 'm1', json=True).stdout
        before_txt = env.ctl('meeting', 'show', 'm1').stdout
        bad_cmds = [
            ['meeting', 'create', 'm1'],                                        # exists
            ['meeting', 'create', 'bad name'],
            ['meeting', 'create', 'x' * 64],
            ['meeting', 'create', 'semi;colon'],
            ['meeting', 'show', 'nosuch'],
            ['meeting', 'end', 'nosuch'],
            ['participant', 'add', 'm1', 'alice', '--addr', '198.51.100.1', '--port', '7000'],  # dup name
            ['participant', 'add', 'm1', 'eve', '--addr', '198.51.100.300', '--port', '7000'],
            ['participant', 'add', 'm1', 'eve', '--addr', '198.51.100.1', '--port', '70000'],
            ['participant', 'add', 'm1', 'eve', '--addr', '198.51.100.1', '--port', '0'],
            ['participant', 'add', 'm1', 'eve', '--addr', '198.51.100.1', '--port', 'x'],
            ['participant', 'add', 'm1', 'eve', '--addr', '198.51.100.1', '--port', str(ALICE)],  # same addr+port
            ['participant', 'add', 'm1', 'eve', '--addr', '198.51.100.1', '--port', '7000', '--role', 'boss'],
            ['participant', 'add', 'm1', 'eve', '--addr', '198.51.100.1', '--port', '7000', '--mac', 'zz'],
            ['participant', 'add', 'm1', 'eve', '--addr', '198.51.100.1', '--port', '7000', '--dp-port', '9'],
            ['participant', 'add', 'm1', 'eve', '--addr', '198.51.100.1'],
            ['participant', 'add', 'nosuch', 'eve', '--addr', '198.51.100.1', '--port', '7000'],
            ['participant', 'remove', 'm1', 'nosuch'],
            ['stream', 'add', 'm1', 'alice', '--ssrc', str(A_AUDIO), '--kind', 'audio', '--codec', 'opus'],  # dup
            ['stream', 'add', 'm1', 'alice', '--ssrc', '1', '--kind', 'smell', '--codec', 'opus'],
            ['stream', 'add', 'm1', 'alice', '--ssrc', '1', '--kind', 'video', '--codec', 'h265'],
            ['stream', 'add', 'm1', 'alice', '--ssrc', '1', '--kind', 'video', '--codec', 'vp8', '--layers', '9'],
            ['stream', 'add', 'm1', 'alice', '--ssrc', '0x1ffffffff', '--kind', 'audio', '--codec', 'opus'],
            ['stream', 'add', 'm1', 'alice', '--ssrc', 'abc', '--kind', 'audio', '--codec', 'opus'],
            ['stream', 'add', 'm1', 'bob', '--ssrc', '1', '--kind', 'audio', '--codec', 'opus'],  # recvonly
            ['stream', 'add', 'm1', 'nosuch', '--ssrc', '1', '--kind', 'audio', '--codec', 'opus'],
            ['stream', 'remove', 'm1', 'alice', '--ssrc', '12345'],
            ['sub', 'set', 'm1', 'bob', '--ssrc', str(A_VIDEO), '--target', '7'],
            ['sub', 'set', 'm1', 'bob', '--ssrc', '12345', '--target', '0'],
            ['sub', 'set', 'm1', 'nosuch', '--ssrc', str(A_VIDEO), '--target', '0'],
            ['sub', 'set', 'm1', 'alice', '--ssrc', str(A_VIDEO), '--target', '0'],  # own stream
            ['sub', 'list', 'nosuch'],
            ['frobnicate'],
            [],
            ['meeting'],
            ['participant', 'add'],
        ]
        for args in bad_cmds:
            cp = env.ctl(*args, check=False)
            c.check(cp.returncode == 1 and cp.stderr.startswith('error:'),
                    'mmrctl %s -> exit 1 with "error:"' % ' '.join(args)[:70],
                    'exit %d, stderr %r' % (cp.returncode, cp.stderr.strip()[:100]))
        after = env.ctl('meeting', 'show', 'm1', json=True).stdout
        after_txt = env.ctl('meeting', 'show', 'm1').stdout
        c.check(after == before and after_txt == before_txt, 'meeting show unchanged by the bad commands')
        # the raw protocol: a malformed frame must not take the controller down
        for junk in (b'GARBAGE!', b'MMRQ' + struct.pack('<I', 0xffffffff), b'MMRQ' + struct.pack('<I', 8) +
                     struct.pack('<II', 5, 1000)):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(env.socket_path)
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
                s.recv(4096)
            except OSError:
                pass
            finally:
                s.close()
        c.check(env.ctl('status', check=False).returncode == 0 and env.alive()[1],
                'controller survives malformed protocol frames')
        cp = mmrtest.subprocess.run([env.mmrctl_bin, '-S', '/nonexistent/sock', 'status'], capture_output=True,
                                    text=True)
        c.eq(cp.returncode, 2, 'mmrctl exits 2 when the controller cannot be reached')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])


if __name__ == '__main__':
    mmrtest.run_test('test_bad_input', body)
