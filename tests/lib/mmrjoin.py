"""
mmrjoin.py - an MmrEnv (mmrtest.py) with the controller's HTTP API on, for browsers joining through
the join endpoints: a token secret, `http_listen`, `join_candidate` (the dataplane's address and
media port on the tap) and `demo_dir` (the tree's web/ folder, served at /demo), and tokens minted
with `mmrctl token mint`. Used by tests/e2e/test_browsers.py and scripts/demo_browser.py.
"""
import os

from mmrtest import MmrEnv, MMR_IP, MMR_PORT, ROOT

HTTP = '127.0.0.1:8089'
BASE = 'http://' + HTTP


class JoinEnv(MmrEnv):
    """MmrEnv with the controller's HTTP API, join candidate and /demo configured."""

    def _write_configs(self):
        super()._write_configs()
        secret = os.path.join(self.tmp, 'token.secret')
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, os.urandom(32).hex().encode() + b'\n')
        os.close(fd)
        self.secret = secret
        with open(os.path.join(self.tmp, 'controller.conf'), 'a') as f:
            f.write('http_listen = "%s";\ntoken_secret_file = "%s";\njoin_candidate = "%s:%d";\n'
                    'demo_dir = "%s";\n' % (HTTP, secret, MMR_IP, MMR_PORT, os.path.join(ROOT, 'web')))

    def token(self, identity, role, meeting, ttl=3600):
        cp = self.ctl('token', 'mint', '--secret-file', self.secret, '--meeting', meeting,
                      '--identity', identity, '--role', role, '--ttl', str(ttl))
        return cp.stdout.strip()
