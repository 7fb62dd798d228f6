"""
mmrtoken.py - what the HTTP API tests share: access tokens made here with hmac (independent of the
controller's own token code: HS256 JWTs, control/token.h) and the recorded SDP offers of
tests/fixtures/sdp.
"""
import base64
import hashlib
import hmac
import json
import os
import time

from mmrtest import ROOT

FIX = os.path.join(ROOT, 'tests', 'fixtures', 'sdp')


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
