#!/usr/bin/python3
"""
browser_loopback.py - checks the Chromium harness (tests/lib/browser.py) and the demo page's sender
setups without the MMR: web/demo.html in mode=loopback makes two RTCPeerConnections in one page, the
first sending (fake camera 1280x720, plus audio) and the second receiving, directly over loopback.

    tests/e2e/browser_loopback.py            every case, then the load run; prints figures
    tests/e2e/browser_loopback.py vp9 av1    only the cases named
    tests/e2e/browser_loopback.py --load N   the load run with N pages (default 3)
    MMR_LOOPBACK_QUERY='fps=15&width=640&height=360' ...   more page parameters for every page

Cases: VP9 L3T3, AV1 L3T3 (scalabilityMode), VP8 simulcast over three rids (q h f, low to high).
Per case: time from join to the first decoded frame, the sender's outbound-rtp per encoding
(scalabilityMode Chromium reports, frame size, fps, encoder), the receiver's frames decoded and size,
freezes. Load: N such pages at once in one browser (N encoders and N decoders), Chromium's CPU use
over 10 s. Runs in a network namespace of its own with only lo up (root), a plain HTTP server on
127.0.0.1 serving web/. Prints "ok"/"FAIL" lines and "figure KEY VALUE" lines; exit 0 if all ok.
Not a test of the MMR: it says what the browser does, for tests/README.md and test_browsers.py.
"""
import ctypes
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
import browser  # noqa: E402

CASES = {
    'vp9': 'codec=vp9&svc=L3T3',
    'av1': 'codec=av1&svc=L3T3',
    'vp8': 'codec=vp8&simulcast=3',
}
fails = 0


def check(cond, what, detail=''):
    global fails
    print('%s %s%s' % ('ok' if cond else 'FAIL', what, (': ' + detail) if detail and not cond else ''))
    sys.stdout.flush()
    fails += not cond
    return cond


def figure(k, v):
    print('figure %s %s' % (k, v))
    sys.stdout.flush()


def enter_netns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    subprocess.run(['ip', 'netns', 'del', name], stderr=subprocess.DEVNULL)
    subprocess.run(['ip', 'netns', 'add', name], check=True)
    fd = os.open('/run/netns/' + name, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:
        raise OSError(ctypes.get_errno(), 'setns')
    os.close(fd)
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)


def serve_web():
    class Quiet(http.server.SimpleHTTPRequestHandler):
        # web/ under /demo/, as the controller serves it
        def translate_path(self, path):
            return super().translate_path(path[5:] if path.startswith('/demo/') else path)

        def log_message(self, *a):
            pass
    h = functools.partial(Quiet, directory=os.path.join(ROOT, 'web'))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def open_case(ch, base, q):
    extra = os.environ.get('MMR_LOOPBACK_QUERY', '')   # e.g. fps=15&width=640&height=360
    p = ch.open('%s/demo/demo.html?mode=loopback&auto=1&%s%s' % (base, q, '&' + extra if extra else ''))
    p.wait('window.mmrJoined === true || window.mmrError', 20)
    err = p.eval('window.mmrError || null')
    if err:
        raise browser.BrowserError('join: ' + err)
    return p


def video_in(st):
    return [x for x in st['inbound'] if x['kind'] == 'video']


def run_case(ch, base, name, q):
    t0 = time.monotonic()
    p = open_case(ch, base, q)
    first = None
    while time.monotonic() - t0 < 20:
        st = p.eval('mmr.stats()')
        if any((x.get('framesDecoded') or 0) > 0 for x in video_in(st)):
            first = time.monotonic() - t0
            break
        time.sleep(0.1)
    check(first is not None, '%s: the receiver decodes frames' % name)
    figure('%s_first_frame_s' % name, '%.2f' % first if first else 'none')
    time.sleep(8)       # let the encoder ramp up (bandwidth estimate, layers switched on)
    a = p.eval('mmr.stats()')
    time.sleep(2)
    b = p.eval('mmr.stats()')
    for o in sorted((x for x in b['outbound'] if x['kind'] == 'video'), key=lambda x: x.get('rid') or ''):
        figure('%s_out%s' % (name, ('_' + o['rid']) if o.get('rid') else ''),
               '%s %sx%s %sfps mode=%s enc=%s q=%s %skbps' % (
                   o['codec'], o.get('frameWidth'), o.get('frameHeight'), o.get('framesPerSecond'),
                   o.get('scalabilityMode'), o.get('encoderImplementation'), o.get('qualityLimitationReason'),
                   (o.get('targetBitrate') or 0) // 1000))
    vin = video_in(b)
    vin_a = {x['ssrc']: x for x in video_in(a)}
    for x in vin:
        d = (x.get('framesDecoded') or 0) - (vin_a.get(x['ssrc'], {}).get('framesDecoded') or 0)
        figure('%s_in' % name, '%s %sx%s decoded/2s=%d freezes=%s (%ss) dec=%s' % (
            x['codec'], x.get('frameWidth'), x.get('frameHeight'), d, x.get('freezeCount'),
            x.get('totalFreezesDuration'), x.get('decoderImplementation')))
        # VP8 simulcast: the receiving pc knows no rids and gets three SSRCs on one mid; it decodes
        # the first frames and then stalls, as Chromium does with unsignalled SSRCs. Only the sender
        # matters here (the MMR path picks one encoding per receiver)
        if name != 'vp8':
            check(d > 10, '%s: frames decoded grow (%d in 2 s)' % (name, d))
    outs = [o for o in b['outbound'] if o['kind'] == 'video']
    if name in ('vp9', 'av1'):
        check(len(outs) == 1 and outs[0].get('scalabilityMode') in ('L3T3', 'L2T3'),
              '%s: sender reports scalabilityMode L3T3 (or L2T3)' % name,
              'got %s' % [o.get('scalabilityMode') for o in outs])
        check(bool(outs) and outs[0].get('frameWidth') == 1280, '%s: top layer 1280 wide' % name,
              'got %s' % [o.get('frameWidth') for o in outs])
    else:
        rids = sorted(o.get('rid') for o in outs)
        check(rids == ['f', 'h', 'q'], 'vp8: three rids sent', 'got %s' % rids)
        sizes = {o.get('rid'): o.get('frameWidth') or 0 for o in outs}
        check(sizes.get('q', 0) < sizes.get('h', 0) < sizes.get('f', 0),
              'vp8: rid sizes grow q < h < f', 'got %s' % sizes)
        active = [o.get('rid') for o in outs if (o.get('framesEncoded') or 0) > 0]
        figure('vp8_rids_encoding', ','.join(sorted(active)))
    figure('%s_transport' % name, json.dumps(b.get('transport')))
    p.eval('mmr.leave()')
    p.close()


def load_run(ch, base, n):
    qs = list(CASES.values())
    pages = []
    t0 = time.monotonic()
    for i in range(n):
        pages.append(open_case(ch, base, qs[i % len(qs)]))
    figure('load_pages', n)
    figure('load_join_s', '%.1f' % (time.monotonic() - t0))
    time.sleep(6)
    c0 = browser.cpu_seconds([ch])
    s0 = [p.eval('mmr.stats()') for p in pages]
    w0 = time.monotonic()
    time.sleep(10)
    c1 = browser.cpu_seconds([ch])
    s1 = [p.eval('mmr.stats()') for p in pages]
    dt = time.monotonic() - w0
    figure('load_cpu_cores', '%.2f' % ((c1 - c0) / dt))
    for i, (a, b) in enumerate(zip(s0, s1)):
        fa = sum((x.get('framesDecoded') or 0) for x in video_in(a))
        fb = sum((x.get('framesDecoded') or 0) for x in video_in(b))
        enc = sorted('%s:%sx%s@%s' % (o.get('rid') or '-', o.get('frameWidth'), o.get('frameHeight'),
                                      o.get('framesPerSecond')) for o in b['outbound'] if o['kind'] == 'video')
        fz = sum((x.get('freezeCount') or 0) for x in video_in(b))
        figure('load_page%d' % i, '%s decoded_fps=%.1f out=%s freezes=%d q=%s' % (
            qs[i % len(qs)], (fb - fa) / dt, ' '.join(enc), fz,
            ','.join(sorted(set(str(o.get('qualityLimitationReason')) for o in b['outbound'] if o['kind'] == 'video')))))
        if 'simulcast' not in qs[i % len(qs)]:      # see run_case: the loopback receiver stalls
            check(fb > fa, 'load page %d: frames decoded grow' % i)
    for p in pages:
        p.eval('mmr.leave()')
        p.close()


def main():
    args = sys.argv[1:]
    n_load = 3
    if '--load' in args:
        i = args.index('--load')
        n_load = int(args[i + 1])
        del args[i:i + 2]
        names = args
    else:
        names = args or list(CASES)
    ns = 'mmrb-%d' % os.getpid()
    enter_netns(ns)
    logdir = os.path.join(ROOT, 'build', 'test-logs', 'browser_loopback')
    try:
        srv = serve_web()
        base = 'http://127.0.0.1:%d' % srv.server_address[1]
        figure('chromium', browser.chromium_version().replace(' ', '_'))
        with browser.Chromium('loopback', logdir) as ch:
            for name in names:
                if name in CASES:
                    try:
                        run_case(ch, base, name, CASES[name])
                    except browser.BrowserError as e:
                        check(False, name, str(e))
            if n_load and ('--load' in sys.argv or not sys.argv[1:]):
                try:
                    load_run(ch, base, n_load)
                except browser.BrowserError as e:
                    check(False, 'load', str(e))
        srv.shutdown()
    finally:
        subprocess.run(['ip', 'netns', 'del', ns], stderr=subprocess.DEVNULL)
    print('%s: %d failed' % ('browser_loopback', fails))
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
