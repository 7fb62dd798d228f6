"""
mmrhttp.py - what the HTTP API tests share: access tokens made here with hmac (independent of the
controller's own token code: HS256 JWTs, control/token.h), the recorded SDP offers of
tests/fixtures/sdp, a plain HTTP client and a server-sent events reader.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import tempfile
import threading
import time

from mmrtest import ROOT

FIX = os.path.join(ROOT, 'tests', 'fixtures', 'sdp')
ORIGIN = 'https://meet.example.com'   # the Origin the event reader sends (an allowed one in the tests' configs)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


def make_token(secret, sub, meeting, role, exp_in=600, key=None):
    """An HS256 token for sub in meeting with role, expiring in exp_in s (negative: expired); signed
    with key instead of secret to forge one."""
    now = int(time.time())
    h = b64u(json.dumps({'alg': 'HS256', 'typ': 'JWT'}, separators=(',', ':')).encode())
    p = b64u(json.dumps({'iss': 'test', 'sub': sub, 'meeting': meeting, 'role': role, 'exp': now + exp_in},
                        separators=(',', ':')).encode())
    s = b64u(hmac.new(key or secret, ('%s.%s' % (h, p)).encode(), hashlib.sha256).digest())
    return '%s.%s.%s' % (h, p, s)


def offer(name):
    """A recorded offer without record.py's comment lines, CRLF-terminated."""
    lines = [ln.rstrip('\r\n') for ln in open(os.path.join(FIX, name)) if not ln.startswith('#')]
    return ('\r\n'.join(ln for ln in lines if ln) + '\r\n').encode()

def token_secret(tag):
    """A fresh zone token secret in a file of its own (0600, as the controller requires): (secret
    bytes, path)."""
    d = tempfile.mkdtemp(prefix='mmr-%s-test.' % tag)
    secret = os.urandom(24).hex().encode()
    path = os.path.join(d, 'secret')
    with open(path, 'wb') as f:
        f.write(secret + b'\n')
    os.chmod(path, 0o600)
    return secret, path


def http_conf(secret_file, join_ip, join_port, extra=''):
    """controller.conf lines: the HTTP API on a free loopback port, tokens under secret_file, the
    join candidate (the dataplane's media address)."""
    return ('http_listen = "127.0.0.1:0";\ntoken_secret_file = "%s";\njoin_candidate = "%s:%d";\n%s'
            % (secret_file, join_ip, join_port, extra))


def http_port(env):
    """The port the controller's HTTP API listens on (its log's "HTTP API on ... (port N, ..."), or None."""
    port = None
    for ln in open(env.ctl_log).read().splitlines():
        if 'HTTP API on' in ln:
            port = int(ln.split('(port ')[1].split(',')[0])
    return port


class Http:
    def __init__(self, port):
        self.port = port

    def req(self, method, path, body=None, token=None, ctype=None, headers=None, src='127.0.0.1'):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10, source_address=(src, 0))
        h = dict(headers or {})
        if token:
            h['Authorization'] = 'Bearer ' + token
        if body is not None and ctype:
            h['Content-Type'] = ctype
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        text = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, text


class Events(threading.Thread):
    """An SSE reader: the events (name, data dict) as they come."""

    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.events = []
        self.status = None
        self.ctype = None
        self.stop = False
        self.sock = None

    def run(self):
        try:
            s = socket.create_connection(('127.0.0.1', self.port), timeout=30)
            self.sock = s
            s.sendall(('GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nOrigin: %s\r\n\r\n'
                       % (self.path, ORIGIN)).encode())
            buf = b''
            while b'\r\n\r\n' not in buf:
                d = s.recv(4096)
                if not d:
                    return
                buf += d
            head, buf = buf.split(b'\r\n\r\n', 1)
            lines = head.decode().split('\r\n')
            self.status = int(lines[0].split()[1])
            for ln in lines[1:]:
                k, _, v = ln.partition(':')
                if k.lower() == 'content-type':
                    self.ctype = v.strip()
            chunked = b'chunked' in head.lower()
            text = ''
            raw = buf
            done = False
            while not self.stop:
                if chunked:
                    # de-chunk what is complete
                    while not done:
                        m = re.match(rb'([0-9a-fA-F]+)\r\n', raw)
                        if not m:
                            break
                        n = int(m.group(1), 16)
                        if len(raw) < m.end() + n + 2:
                            break
                        text += raw[m.end():m.end() + n].decode()
                        raw = raw[m.end() + n + 2:]
                        if n == 0:
                            done = True   # (the events before it still parsed, below)
                else:
                    text += raw.decode()
                    raw = b''
                while '\n\n' in text:
                    block, text = text.split('\n\n', 1)
                    name, data = 'message', ''
                    for ln in block.split('\n'):
                        if ln.startswith('event:'):
                            name = ln[6:].strip()
                        elif ln.startswith('data:'):
                            data += ln[5:].strip()
                    if data:
                        try:
                            self.events.append((name, json.loads(data)))
                        except ValueError:
                            self.events.append((name, data))
                if done:
                    return
                try:
                    d = s.recv(4096)
                except socket.timeout:
                    continue
                if not d:
                    return
                raw += d
        except OSError:
            return

    def wait_for(self, pred, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for e in list(self.events):
                if pred(e):
                    return e
            time.sleep(0.05)
        return None

    def close(self):
        self.stop = True
        if self.sock:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
