#!/usr/bin/python3
"""
bench_joins.py - joins_per_s (issue 13): browser joins end to end through the controller's API, from
the offer to media flowing, with a scripted client, against the real controller and dataplane on a
tap device in a network namespace (tests/lib/mmrjoin.py).

One join: a recorded Chromium offer (tests/fixtures/sdp/chromium_sendrecv.sdp, audio + video) with
fresh ice-ufrag/pwd, SSRCs and our certificate's fingerprint, POSTed to /v1/meetings/bench/join with
a participant token; the answer's ICE credentials; a connectivity check with USE-CANDIDATE from a
fresh UDP port (python3-aioice's STUN; the dataplane learns the address); the DTLS handshake as
client from that port (tests/integration/tools/dtls_peer, lib/dtls); one SRTP audio packet protected
with the exported key (python3-pylibsrtp). K clients join at once, N joins in all, into one SRTP
meeting; the rate limits are raised for the run (join_rate_ip etc.). At the end every participant
must show DTLS connected and its audio stream a received packet (`mmrctl stats --streams`): a join
that did not get there is counted failed. Prints one JSON object: joins_per_s (completed joins over
the wall time), the per-join latency (p50, p90, max), failures.

  python3 scripts/bench_joins.py [--joins N] [--concurrency K] [--json FILE]
"""
import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MMR_IP, MMR_PORT, CLIENT_IP  # noqa: E402
from mmrjoin import JoinEnv, BASE  # noqa: E402
from aioice import stun  # noqa: E402
import pylibsrtp  # noqa: E402

MEETING = 'bench'
PEER = os.path.join(ROOT, 'build', 'tests', 'integration', 'dtls_peer')
OFFER = os.path.join(ROOT, 'tests', 'fixtures', 'sdp', 'chromium_sendrecv.sdp')
ICE_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/'


class BenchEnv(JoinEnv):
    def _write_configs(self):
        super()._write_configs()
        with open(os.path.join(self.tmp, 'controller.conf'), 'a') as f:
            f.write('join_rate_ip = 100000.0;\njoin_burst_ip = 100000;\n')


def make_offer(template, fp, rnd):
    ufrag = ''.join(rnd.choice(ICE_CHARS) for _ in range(8))
    pwd = ''.join(rnd.choice(ICE_CHARS) for _ in range(24))
    ssrcs = {}

    def new_ssrc(v):
        if v not in ssrcs:
            ssrcs[v] = str(rnd.randrange(1, 1 << 32))
        return ssrcs[v]
    text = re.sub(r'a=ice-ufrag:\S+', 'a=ice-ufrag:' + ufrag, template)
    text = re.sub(r'a=ice-pwd:\S+', 'a=ice-pwd:' + pwd, text)
    text = re.sub(r'a=fingerprint:sha-256 \S+', 'a=fingerprint:sha-256 ' + fp, text)
    text = re.sub(r'(?<=a=ssrc:)\d+|(?<=FID )\d+ \d+', lambda m: ' '.join(new_ssrc(v) for v in m.group(0).split()), text)
    audio = re.search(r'm=audio.*?a=ssrc:(\d+)', text, re.S)
    return text, ufrag, int(audio.group(1))


def one_join(env, name, template, cert, fp, mmr_fp, port, rnd, out):
    t0 = time.monotonic()
    offer, ufrag, audio_ssrc = make_offer(template, fp, rnd)
    tok = env.token(name, 'participant', MEETING)
    req = urllib.request.Request(BASE + '/v1/meetings/%s/join' % MEETING, data=offer.encode(), method='POST',
                                 headers={'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + tok})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            answer = r.read().decode()
    except Exception as e:       # noqa: BLE001 - an HTTP error is a failed join, with its reason
        out.append({'name': name, 'ok': False, 'why': 'POST: %s' % e})
        return
    t_answer = time.monotonic()
    m_ufrag = re.search(r'a=ice-ufrag:(\S+)', answer).group(1)
    m_pwd = re.search(r'a=ice-pwd:(\S+)', answer).group(1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((CLIENT_IP, port))
    s.settimeout(2.0)
    msg = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    msg.attributes['USERNAME'] = '%s:%s' % (m_ufrag, ufrag)
    msg.attributes['PRIORITY'] = 1853817087
    msg.attributes['ICE-CONTROLLING'] = rnd.randrange(1 << 63)
    msg.attributes['USE-CANDIDATE'] = None
    msg.add_message_integrity(m_pwd.encode())
    ok = False
    for _ in range(3):
        s.sendto(bytes(msg), (MMR_IP, MMR_PORT))
        try:
            data, _src = s.recvfrom(2048)
            ok = stun.parse_message(data).message_class == stun.Class.RESPONSE
            break
        except socket.timeout:
            continue
    s.close()
    if not ok:
        out.append({'name': name, 'ok': False, 'why': 'no STUN answer'})
        return
    cp = subprocess.run([PEER, '--role', 'client', '--host', MMR_IP, '--connect', str(MMR_PORT), '--bind',
                         '%s:%d' % (CLIENT_IP, port), '--peer-fp', mmr_fp, '--cert', cert, '--timeout-ms', '5000',
                         '--linger-ms', '0', '--no-close'], capture_output=True, text=True, timeout=30)
    keys = dict(line.partition(' ')[::2] for line in cp.stdout.splitlines())
    if cp.returncode != 0 or 'local_key' not in keys:
        out.append({'name': name, 'ok': False, 'why': 'DTLS: %s' % keys.get('failed', cp.returncode)})
        return
    key = bytes.fromhex(keys['local_key']) + bytes.fromhex(keys['local_salt'])
    sess = pylibsrtp.Session(pylibsrtp.Policy(key=key, srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
                                              ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND))
    t1 = time.monotonic()
    out.append({'name': name, 'ok': True, 'ssrc': audio_ssrc, 's': t1 - t0, 'answer_s': t_answer - t0,
                'port': port, 'srtp': sess})


class AudioSender(threading.Thread):
    """Every joined client's audio: one SRTP packet each 20 ms from its port (as a browser keeps sending;
    the handshake's keys reach the worker's contexts a moment after the handshake ends)."""

    def __init__(self, results):
        super().__init__(daemon=True)
        self.results = results
        self.stop = False
        self.sock = {}
        self.seq = 1

    def run(self):
        while not self.stop:
            for r in list(self.results):
                if not r['ok']:
                    continue
                s = self.sock.get(r['port'])
                if s is None:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind((CLIENT_IP, r['port']))
                    self.sock[r['port']] = s
                rtp = (bytes([0x80, 111]) + (self.seq & 0xffff).to_bytes(2, 'big') + (960 * self.seq).to_bytes(4, 'big')
                       + r['ssrc'].to_bytes(4, 'big') + b'\x78' + bytes(60))
                s.sendto(r['srtp'].protect(rtp), (MMR_IP, MMR_PORT))
            self.seq += 1
            time.sleep(0.02)
        for s in self.sock.values():
            s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    ap.add_argument('--joins', type=int, default=40)
    ap.add_argument('--concurrency', type=int, default=4)
    ap.add_argument('--json', default='')
    a = ap.parse_args()
    template = ''.join(ln for ln in open(OFFER) if not ln.startswith('#'))
    template = '\r\n'.join(ln.rstrip('\r\n') for ln in template.splitlines() if ln.strip()) + '\r\n'
    with BenchEnv('bench-joins') as env:
        cert = os.path.join(env.tmp, 'client.pem')
        fp = subprocess.run([PEER, '--cert', cert, '--print-fp'], capture_output=True, text=True,
                            timeout=20).stdout.split()[1]
        env.ctl('meeting', 'create', MEETING, '--srtp', 'AEAD_AES_128_GCM')
        mmr_fp = mmrtest.find_key(env.status(), 'dtls_fingerprint')
        results, lock, next_i = [], threading.Lock(), [0]

        def worker(w):
            rnd = random.Random(w * 7919 + 1)
            while True:
                with lock:
                    i = next_i[0]
                    if i >= a.joins:
                        return
                    next_i[0] += 1
                one_join(env, 'j%03d' % i, template, cert, fp, mmr_fp, 20000 + i, rnd, results)
        sender = AudioSender(results)
        sender.start()
        t0 = time.monotonic()
        ths = [threading.Thread(target=worker, args=(w,)) for w in range(a.concurrency)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        wall = time.monotonic() - t0
        # media flowing: each joined participant's audio stream received its packet
        deadline = time.monotonic() + 5
        flowing = set()
        while time.monotonic() < deadline:
            st = env.ctl('stats', '--streams', json=True, check=False).stdout
            st = st if isinstance(st, dict) else json.loads(st)
            flowing = {x.get('ssrc') for x in mmrtest.find_key(st, 'streams') or [] if x.get('rx_pkts', 0) > 0}
            if all(r['ssrc'] in flowing for r in results if r['ok']):
                break
            time.sleep(0.2)
        sender.stop = True
        done = [r for r in results if r['ok'] and r['ssrc'] in flowing]
        lat = sorted(r['s'] for r in done)
        res = {'joins': a.joins, 'concurrency': a.concurrency, 'completed': len(done),
               'failed': a.joins - len(done), 'wall_s': round(wall, 3),
               'joins_per_s': round(len(done) / wall, 2) if wall > 0 else 0,
               'latency_p50_s': round(statistics.median(lat), 4) if lat else None,
               'latency_p90_s': round(lat[int(0.9 * (len(lat) - 1))], 4) if lat else None,
               'latency_max_s': round(lat[-1], 4) if lat else None,
               'answer_p50_s': round(statistics.median(r['answer_s'] for r in done), 4) if done else None,
               'why_failed': sorted({r.get('why', 'no media') for r in results if r not in done})[:5]}
        text = json.dumps(res)
        print(text)
        if a.json:
            with open(a.json, 'w') as f:
                f.write(text + '\n')
        return 0 if done else 1


if __name__ == '__main__':
    sys.exit(main())
