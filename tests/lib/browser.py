"""
browser.py - headless Chromium (Debian package `chromium`) for the end-to-end tests, driven over the
DevTools protocol on a pipe (--remote-debugging-pipe: requests on fd 3, replies and events on fd 4,
one JSON message each, ended by a NUL byte).

    with Chromium('pub', logdir) as ch:        # one browser process, a fresh profile
        page = ch.open('http://127.0.0.1:8080/demo?...')
        page.wait('window.mmrJoined === true', 20)
        st = page.eval('mmr.stats()')          # promises are awaited, the value comes back as JSON

Why the pipe and not a WebSocket client (python3-websocket, or puppeteer-core from npm): it needs
nothing beyond the Python standard library and Chromium itself, no port to find or open (the tests
run inside network namespaces where only the test's own addresses exist), and the browser cannot
outlive the pipe's owner by accident; the protocol on it is the same CDP. One Chromium can hold
several pages (targets); each page is its own renderer with its own RTCPeerConnections.

Flags: --headless=new, the fake camera and microphone (--use-fake-device-for-media-stream: a 30 fps
moving test pattern with a frame counter and a beeping tone, at the size asked for, up to 1280x720
here), the permission prompt answered yes (--use-fake-ui-for-media-stream), autoplay without a user
gesture, mDNS hiding of host candidates off (the MMR must see real addresses), loopback candidates
allowed, no background throttling (pages share a browser and are not all "visible"), no GPU, no
sandbox (root in a test namespace). Chromium's stderr goes to LOGDIR/chromium-NAME.log and every
page's console messages and exceptions to LOGDIR/console-NAME.log.

Run as root under /usr/bin/python3; the process that creates a Chromium should already be in the
test's network namespace (tests/lib/mmrtest.py's MmrEnv enters it), so the browser lives there too.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import ctypes
import fcntl

CHROMIUM = os.environ.get('MMR_CHROMIUM', '/usr/bin/chromium')

FLAGS = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    '--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints,Translate',
    '--allow-loopback-in-peer-connection',
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-extensions', '--mute-audio',
    '--password-store=basic', '--use-mock-keychain', '--disable-dev-shm-usage',
]

_libc = ctypes.CDLL(None, use_errno=True)


class BrowserError(Exception):
    pass


def chromium_version():
    out = subprocess.run([CHROMIUM, '--version'], capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1].split(' built')[0] if out.strip() else 'unknown'


class Chromium:
    """One headless Chromium process with a fresh profile, and its DevTools connection."""

    def __init__(self, name, logdir, extra_flags=(), window='1280,800'):
        self.name = name
        self.logdir = logdir
        self.extra = list(extra_flags)
        self.window = window
        self.proc = None
        self.profile = None
        self._id = 0
        self._lock = threading.Lock()
        self._waiting = {}      # id -> [event, reply]
        self._events = []       # (sessionId, method, params) not consumed
        self._ev_cond = threading.Condition()
        self._reader = None
        self._wfd = None
        self._rfd = None
        self.console = None
        self.pages = []

    # -- lifecycle --
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        os.makedirs(self.logdir, exist_ok=True)
        self.profile = tempfile.mkdtemp(prefix='mmr-chromium-%s-' % self.name)
        # our side: write requests into to_ch[1] (its fd 3), read from from_ch[0] (its fd 4)
        to_ch = os.pipe()
        from_ch = os.pipe()
        cmd = [CHROMIUM] + FLAGS + self.extra + ['--window-size=' + self.window,
                                                  '--user-data-dir=' + self.profile,
                                                  '--remote-debugging-pipe', 'about:blank']
        log = open(os.path.join(self.logdir, 'chromium-%s.log' % self.name), 'ab')
        self.console = open(os.path.join(self.logdir, 'console-%s.log' % self.name), 'a')

        def child():
            # via fds >= 10 first: a pipe end may itself be fd 3 or 4
            r = fcntl.fcntl(to_ch[0], fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_ch[1], fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)
            _libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG: die with the test
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     preexec_fn=child,
                                     close_fds=False)
        log.close()
        os.close(to_ch[0])
        os.close(from_ch[1])
        self._wfd = to_ch[1]
        self._rfd = from_ch[0]
        os.set_inheritable(self._wfd, False)
        os.set_inheritable(self._rfd, False)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        v = self.call('Browser.getVersion', timeout=30)
        self.version = v.get('product', '?')
        self.call('Target.setDiscoverTargets', {'discover': True})
        return self

    def stop(self):
        for p in self.pages:
            p.closed = True
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.call('Browser.close', timeout=3)
            except BrowserError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for fd in (self._wfd, self._rfd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._wfd = self._rfd = None
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None
        if self.console:
            self.console.close()
            self.console = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- the protocol --
    def _read_loop(self):
        buf = b''
        while True:
            try:
                chunk = os.read(self._rfd, 1 << 16)
            except (OSError, TypeError):
                chunk = b''
            if not chunk:
                break
            buf += chunk
            while b'\0' in buf:
                raw, buf = buf.split(b'\0', 1)
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if 'id' in msg:
                    with self._lock:
                        w = self._waiting.get(msg['id'])
                    if w:
                        w[1] = msg
                        w[0].set()
                else:
                    self._on_event(msg.get('sessionId'), msg.get('method'), msg.get('params', {}))
        with self._lock:               # wake everyone: the browser is gone
            for w in self._waiting.values():
                w[0].set()

    def _on_event(self, sid, method, params):
        if method == 'Runtime.consoleAPICalled' and self.console:
            args = ' '.join(str(a.get('value', a.get('description', ''))) for a in params.get('args', []))
            self.console.write('%.3f %s %s: %s\n' % (time.time(), sid and sid[:8], params.get('type'), args))
            self.console.flush()
            return
        if method == 'Runtime.exceptionThrown' and self.console:
            d = params.get('exceptionDetails', {})
            self.console.write('%.3f %s EXCEPTION: %s %s\n' % (time.time(), sid and sid[:8], d.get('text'),
                                                              d.get('exception', {}).get('description', '')))
            self.console.flush()
            return
        with self._ev_cond:
            self._events.append((sid, method, params))
            del self._events[:-1000]
            self._ev_cond.notify_all()

    def call(self, method, params=None, session=None, timeout=20):
        with self._lock:
            self._id += 1
            mid = self._id
            w = self._waiting[mid] = [threading.Event(), None]
        msg = {'id': mid, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        data = json.dumps(msg).encode() + b'\0'
        try:
            while data:
                n = os.write(self._wfd, data)
                data = data[n:]
        except (OSError, TypeError) as e:
            raise BrowserError('%s: chromium pipe closed (%s)' % (method, e))
        ok = w[0].wait(timeout)
        with self._lock:
            self._waiting.pop(mid, None)
        if not ok:
            raise BrowserError('%s: no reply within %.0f s' % (method, timeout))
        if w[1] is None:
            raise BrowserError('%s: chromium exited (rc %s)' % (method, self.proc.poll()))
        if 'error' in w[1]:
            raise BrowserError('%s: %s' % (method, w[1]['error'].get('message')))
        return w[1].get('result', {})

    def wait_event(self, method, session=None, timeout=20, pred=None):
        deadline = time.monotonic() + timeout
        with self._ev_cond:
            while True:
                for i, (sid, m, p) in enumerate(self._events):
                    if m == method and (session is None or sid == session) and (pred is None or pred(p)):
                        del self._events[i]
                        return p
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError('no %s within %.0f s' % (method, timeout))
                self._ev_cond.wait(left)

    # -- pages --
    def open(self, url, timeout=30):
        """A new page (tab) loading url; returns a Page once its load event fired."""
        t = self.call('Target.createTarget', {'url': 'about:blank'})
        sid = self.call('Target.attachToTarget', {'targetId': t['targetId'], 'flatten': True})['sessionId']
        page = Page(self, t['targetId'], sid)
        self.call('Runtime.enable', session=sid)
        self.call('Page.enable', session=sid)
        page.goto(url, timeout)
        self.pages.append(page)
        return page


class Page:
    """One tab: navigate, evaluate JavaScript, wait for a condition."""

    def __init__(self, browser, target, session):
        self.b = browser
        self.target = target
        self.session = session
        self.closed = False

    def goto(self, url, timeout=30):
        self.b.call('Page.navigate', {'url': url}, session=self.session)
        self.b.wait_event('Page.loadEventFired', session=self.session, timeout=timeout)

    def eval(self, expr, timeout=20):
        """Evaluates expr (promises awaited) and returns its value as JSON; a thrown error raises
        BrowserError with the page's message."""
        r = self.b.call('Runtime.evaluate', {'expression': expr, 'awaitPromise': True,
                                              'returnByValue': True, 'timeout': int(timeout * 1000)},
                        session=self.session, timeout=timeout + 5)
        if 'exceptionDetails' in r:
            d = r['exceptionDetails']
            raise BrowserError('page: %s' % (d.get('exception', {}).get('description') or d.get('text')))
        return r.get('result', {}).get('value')

    def wait(self, expr, timeout=20, interval=0.2):
        """Polls expr until it is truthy; returns its value or raises BrowserError at timeout."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = self.eval(expr)
            except BrowserError as e:
                last = e
            if last and not isinstance(last, BrowserError):
                return last
            if time.monotonic() > deadline:
                raise BrowserError('waited %.0f s for %s: last %r' % (timeout, expr, last))
            time.sleep(interval)

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.b.call('Target.closeTarget', {'targetId': self.target})
            except BrowserError:
                pass


def _children():
    kids = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/stat' % d) as f:
                    st = f.read()
            except OSError:
                continue
            f = st[st.rindex(')') + 2:].split()
            kids.setdefault(int(f[1]), []).append((int(d), f))
    return kids


def cpu_seconds(browsers):
    """User+system CPU seconds used so far by these browsers' process trees (the processes alive
    now, with their reaped children's time), for load figures."""
    tick = os.sysconf('SC_CLK_TCK')
    kids = _children()
    total = 0.0
    todo = [b.proc.pid for b in browsers if b.alive()]
    seen = set()
    for pid in todo:
        try:
            with open('/proc/%d/stat' % pid) as f:
                st = f.read()
            f = st[st.rindex(')') + 2:].split()
            total += (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / tick
        except OSError:
            pass
        for k, _ in kids.get(pid, []):
            if k not in seen:
                seen.add(k)
                todo.append(k)
    return total
