#!/usr/bin/python3
"""
test_browsers.py - issue 13's browser test: headless Chromium (Debian `chromium`, fake camera and
microphone) joins a meeting through the controller's join endpoints and sends and receives media
through the real dataplane, in the test's network namespace (tests/lib/mmrtest.py: dataplane on a
net_tap at 198.51.100.2:5000, the browsers on 198.51.100.1; the controller's HTTP API on
127.0.0.1:8089 plain HTTP, loopback). The pages are web/demo.html served by the controller at /demo
(web/mmr-client.js: window.mmr), driven over the DevTools protocol (tests/lib/browser.py).

SRTP meeting `b` (AEAD_AES_128_GCM; keys from each browser's DTLS handshake). Three receivers join
first with WHEP (viewer tokens; three recvonly video slots and one audio slot each); then three
publishers with WHIP (publisher tokens), fake camera WxH (960x540) at FPS (15) frames/s plus audio:
pvp9 VP9 L3T3, pav1 AV1 L3T3 (Dependency Descriptor), pvp8 VP8 simulcast over rids q h f
(W/4, W/2, W wide). Receivers' ceilings as spatial layer (encoding) index: r0, r1, r2. Checks:
  1. every join answers 201 with a session; the DTLS state of every participant in `mmrctl
     participant show` is connected; the streams (mids, rids) are in `mmrctl`.
  2. every receiver gets a slot event naming each publisher (a publisher joining changes the slot
     events), and its signalling state never leaves stable (no renegotiation, same transceivers).
  3. over a 10 s window sampled every 250 ms, on each receiver and each video slot: frames decoded
     grow (over a fifth of the frame rate: T0 may be all a low estimate allows), the decoded width is the one its ceiling allows (W/4, W/2, W), no stall of frames
     decoded longer than 1 s (and Chromium's own freeze counters reported); audio samples grow.
  4. ceiling changed mid-call (r2 down to spatial 0 through the page's setCeiling, which PATCHes
     /v1/sessions/ID/slots/video/K; each PATCH must succeed):
     the decoded width is W/4 on every slot within 2 s; back up to W after (within 2 s too).
  5. the publishers' availableOutgoingBitrate (Chromium's send-side estimate) grows from its start
     value as the MMR's transport-wide feedback arrives (`twcc_fb_out` / feedback counted for the
     publisher in `mmrctl`).
  6. the MMR's downlink estimate for each receiving browser is in `mmrctl participant show`
     (bwe_bps > 0) and its TWCC feedback counted (twcc_fb_in).
  7. a publisher leaving (DELETE of its session): every receiver gets a slot event for the slot it
     was on, no renegotiation; its participant is gone from `mmrctl`; a receiver (r1) leaving
     (DELETE) 204/200 and gone.

    tests/e2e/test_browsers.py             the test (root; build/ must be built)
    MMR_BROWSERS_FPS=N                     the publishers' frame rate (default 15: 2 CPUs)
    MMR_BROWSERS_SIZE=WxH                  their camera size (default 960x540; L3T3 needs >= 960x540)
    MMR_BROWSERS_ONLY=pvp9,r2              only these pages (by hand, to look into one thing)
Logs: build/test-logs/browsers/ (dataplane, controller, chromium-*.log, console-*.log).
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
import mmrtest  # noqa: E402
import browser  # noqa: E402
from mmrjoin import JoinEnv, HTTP, BASE  # noqa: E402,F401

MEETING = 'b'
FPS = int(os.environ.get('MMR_BROWSERS_FPS', '15'))
# the publishers' picture: L3T3 needs at least 960x540 in Chromium 156 (640x360 falls back to L2T3);
# 960x540 rather than 1280x720 by default: 2 CPUs, one polled by the dataplane
W, H = (int(v) for v in os.environ.get('MMR_BROWSERS_SIZE', '960x540').split('x'))
PUBLISHERS = {           # name -> page parameters
    'pvp9': 'codec=vp9&svc=L3T3',
    'pav1': 'codec=av1&svc=L3T3',
    'pvp8': 'codec=vp8&simulcast=3',
}
RECEIVERS = {'r0': 0, 'r1': 1, 'r2': 2}              # name -> ceiling (spatial layer / encoding)
SETTLE_S = 45                                          # the layers' ramp before the measured window
if os.environ.get('MMR_BROWSERS_ONLY'):                # a subset, to look into one thing: "pvp9,r2"
    _only = os.environ['MMR_BROWSERS_ONLY'].split(',')
    PUBLISHERS = {k: v for k, v in PUBLISHERS.items() if k in _only}
    RECEIVERS = {k: v for k, v in RECEIVERS.items() if k in _only}
WIDTHS = [W // 4, W // 2, W]                           # spatial layer / encoding -> picture width
# (widths, not heights: 540 / 4 = 135 is coded as 136 lines)


class BrowserEnv(JoinEnv):
    def token(self, identity, role, meeting=MEETING):
        return super().token(identity, role, meeting)


def page_url(name, token, mode, extra):
    return ('%s/demo?mode=%s&meeting=%s&token=%s&auto=1&fps=%d&width=%d&height=%d&%s' %
            (BASE, mode, MEETING, token, FPS, W, H, extra))


def join_page(ch, c, name, url, timeout=30):
    p = ch.open(url)
    if not p.eval('typeof MmrClient === "function"'):
        c.check(False, '%s joins' % name, 'the page at %s has no MmrClient (served /demo?): %s' %
                (url.split('?')[0], (p.eval('document.body ? document.body.innerText : ""') or '')[:200]))
        return None
    try:
        p.wait('window.mmrJoined === true || window.mmrError', timeout)
    except browser.BrowserError as e:
        c.check(False, '%s joins' % name, str(e))
        return None
    err = p.eval('window.mmrError || null')
    c.check(err is None, '%s joins (201, session %s)' % (name, p.eval('mmr.session') if err is None else ''), err)
    return p if err is None else None


def vin(st):
    return [x for x in st['inbound'] if x['kind'] == 'video']


def show(env, who):
    try:
        cp = env.ctl('participant', 'show', MEETING, who, json=True, check=False)
    except mmrtest.HarnessError:
        return None
    return cp.stdout if cp.returncode == 0 else None


def slot_of(st, mid):
    """publisher on the receive slot with this mid, from the page's slot map"""
    for s in st['slots']['video']:
        if s['mid'] == mid:
            return s['publisher']
    return None


def sample(pages, seconds, every=0.25):
    """{name: [stats, ...]} every `every` s for `seconds`."""
    out = {n: [] for n in pages}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for n, p in pages.items():
            try:
                out[n].append(p.eval('mmr.stats()'))
            except browser.BrowserError:
                pass
        time.sleep(every)
    return out


def longest_stall(series, ssrc):
    """Longest time (s) frames decoded did not grow on this inbound SSRC, after its first frame."""
    last_t = None
    last_n = None
    worst = 0.0
    for st in series:
        x = next((i for i in vin(st) if i['ssrc'] == ssrc), None)
        if x is None or not x.get('framesDecoded'):
            continue
        n = x['framesDecoded']
        t = st['t'] / 1000.0
        if last_n is None or n > last_n:
            last_n, last_t = n, t
        else:
            worst = max(worst, t - last_t)
    return worst


def set_ceiling(env, c, page, who, spatial):
    """The receiver's ceiling on all its video slots through the page's API call (PATCH
    /v1/sessions/ID/slots/video/K): 'api', or None with the error noted."""
    try:
        page.eval('Promise.all(mmr.slots.video.map((s, k) => mmr.setCeiling(k, %d)))' % spatial)
        return 'api'
    except browser.BrowserError as e:
        c.note('setCeiling through the API failed: %s' % str(e)[:240])
        return None


def diagnostics(env, c, tx, rx):
    """What the MMR saw, for whoever reads a failure: drops by reason, each publisher's streams
    (SSRC, codec, layers, packets) and the slots; also saved as build/test-logs/browsers/mmr-*.json."""
    try:
        st = env.ctl('stats', '--streams', '--participants', json=True, check=False).stdout
        drops = {k: v for k, v in mmrtest.drop_counts(st).items() if v} if isinstance(st, dict) else {}
        c.note('drops: %s' % drops)
        with open(os.path.join(env.logdir, 'mmr-stats.json'), 'w') as f:
            f.write(json.dumps(st, indent=1))
        for s in (st.get('streams', []) if isinstance(st, dict) else []):
            c.note('stream %s' % json.dumps({k: v for k, v in s.items() if not isinstance(v, (list, dict))})[:400])
        sl = env.ctl('slot', 'list', MEETING, json=True, check=False).stdout
        with open(os.path.join(env.logdir, 'mmr-slots.json'), 'w') as f:
            f.write(json.dumps(sl, indent=1) if not isinstance(sl, str) else sl)
        for name in list(tx) + list(rx):
            with open(os.path.join(env.logdir, 'mmr-participant-%s.json' % name), 'w') as f:
                d = show(env, name)
                f.write(json.dumps(d, indent=1))
    except (mmrtest.HarnessError, OSError, ValueError) as e:
        c.note('diagnostics: %s' % e)


def body(c):
    env = BrowserEnv('browsers')
    with env:
        env.ctl('meeting', 'create', MEETING, '--srtp', 'AEAD_AES_128_GCM')
        st = env.status()
        fp = mmrtest.find_key(st, 'dtls_fingerprint')
        c.check(isinstance(fp, str) and len(fp) == 95, 'the dataplane publishes its DTLS fingerprint in status', fp)
        logdir = env.logdir
        c.note('%s, %d fps publishers' % (browser.chromium_version(), FPS))
        with browser.Chromium('receivers', logdir) as chr_, browser.Chromium('publishers', logdir) as chp:
            run(env, c, chr_, chp)
        errs = env.sanitizer_errors()
        c.check(not errs, 'no sanitizer report', errs[:1])
        c.check(all(env.alive()), 'dataplane and controller still running')


def run(env, c, chr_, chp):
    # 1. receivers first: empty slots, then the publishers fill them (events, no renegotiation)
    rx = {}
    for name, sp in RECEIVERS.items():
        p = join_page(chr_, c, name, page_url(name, env.token(name, 'viewer'), 'whep',
                                              'videoSlots=3&audioSlots=1&maxSpatial=%d' % sp))
        if p:
            rx[name] = p
    tx = {}
    t_pub = {}
    for name, q in PUBLISHERS.items():
        p = join_page(chp, c, name, page_url(name, env.token(name, 'publisher'), 'whip', q))
        if p:
            tx[name] = p
            t_pub[name] = time.monotonic()
    if not rx or not tx:
        c.check(False, 'enough pages joined to go on', 'receivers %s publishers %s' % (list(rx), list(tx)))
        return
    # the ceilings: the page asked them at join (maxHeight); ask again now that slots are filled
    time.sleep(2)
    for name, p in rx.items():
        how = set_ceiling(env, c, p, name, RECEIVERS[name])
        c.check(how is not None, '%s: ceiling spatial %d set (%s)' % (name, RECEIVERS[name], how))

    for name in list(rx) + list(tx):
        d = show(env, name)
        state = mmrtest.find_key(d, 'dtls') if d else None
        c.check(isinstance(state, str) and state.startswith('connected'),
                '%s: DTLS connected in mmrctl participant show' % name, state)

    for name in tx:
        d = show(env, name)
        mids = set()

        def walk(o):
            if isinstance(o, dict):
                if o.get('mid') is not None and o.get('kind', 'video') in ('video', 'audio'):
                    mids.add((o.get('kind'), str(o.get('mid'))))
                for v in o.values():
                    walk(v)
            elif isinstance(o, list):
                for v in o:
                    walk(v)
        walk(d)
        c.check(len(mids) >= 2, '%s: its audio and video streams with their mids in mmrctl' % name, d)

    # 2. slot events name every publisher; no renegotiation
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done = all(set(PUBLISHERS) <= {e['data'].get('publisher') for e in p.eval('mmr.eventLog')
                                       if e['type'] == 'slot'} for p in rx.values())
        if done:
            break
        time.sleep(0.5)
    for name, p in rx.items():
        ev = p.eval('mmr.eventLog')
        named = {e['data'].get('publisher') for e in ev if e['type'] == 'slot'}
        c.check(set(tx) <= named, '%s: slot events name every publisher' % name,
                'events %s' % [e['data'] for e in ev][:12])
        st = p.eval('mmr.stats()')
        c.check(st['sdpChanges'] == 0 and p.eval('mmr.pc.signalingState') == 'stable' and
                p.eval('mmr.pc.getTransceivers().length') == 4,
                '%s: no renegotiation (stable, 4 transceivers)' % name,
                (st['sdpChanges'], p.eval('mmr.pc.signalingState')))

    # 3. media: wait for the estimate to ramp (the publishers' own estimates start at 300 kbit/s;
    # 15-25 s on a quiet 2-CPU machine), then a 10 s window
    t_wait = time.monotonic() + SETTLE_S
    while time.monotonic() < t_wait:
        ok = True
        for name, p in rx.items():
            st = p.eval('mmr.stats()')
            want = WIDTHS[RECEIVERS[name]]
            hs = [x.get('frameWidth') for x in vin(st) if slot_of(st, x['mid'])]
            ok = ok and len(hs) == len(tx) and all(h == want for h in hs)
        if ok:
            break
        time.sleep(1)
    c.note('waited %.1f s for the layers to settle' % (time.monotonic() - (t_wait - SETTLE_S)))
    c.check(ok, 'every receiver decodes every publisher at its ceiling\'s width within %d s' % SETTLE_S)
    cpu0 = browser.cpu_seconds([chr_, chp])
    w0 = time.monotonic()
    ser = sample(rx, 10)
    cpu = (browser.cpu_seconds([chr_, chp]) - cpu0) / (time.monotonic() - w0)
    c.note('Chromium CPU: %.2f cores for %d publishers + %d receivers' % (cpu, len(tx), len(rx)))
    for name, series in ser.items():
        if len(series) < 2:
            c.check(False, '%s: stats sampled' % name)
            continue
        a, b = series[0], series[-1]
        want = WIDTHS[RECEIVERS[name]]
        # every publisher's video is decoded on one of the receiver's slots (a publication the
        # MMR never forwards, e.g. AV1 without its structure, has no decoded stats at all)
        seen = {slot_of(b, x['mid']) for x in vin(b) if slot_of(b, x['mid'])}
        c.check(seen == set(tx), '%s: video from every publisher on its slots' % name,
                'decoded from %s, publishers %s' % (sorted(seen), sorted(tx)))
        for x in vin(b):
            pub = slot_of(b, x['mid'])
            if not pub:
                continue
            x0 = next((i for i in vin(a) if i['ssrc'] == x['ssrc']), {})
            d = (x.get('framesDecoded') or 0) - (x0.get('framesDecoded') or 0)
            stall = longest_stall(series, x['ssrc'])
            c.note('%s slot mid %s <- %s: %s %sx%s, %d frames in 10 s, longest stall %.2f s, Chromium '
                   'freezes %s (%.2f s), nack %s pli %s' % (
                       name, x['mid'], pub, x.get('codec'), x.get('frameWidth'), x.get('frameHeight'), d, stall,
                       x.get('freezeCount'), x.get('totalFreezesDuration') or 0, x.get('nackCount'), x.get('pliCount')))
            # at least a fifth of the frame rate: a receiver on a low estimate may get T0 of L1T3/L3T3
            c.check(d > FPS * 10 * 0.2, '%s <- %s: frames decoded grow (%d in 10 s)' % (name, pub, d))
            c.eq(x.get('frameWidth'), want, '%s <- %s: decoded width under its ceiling: %d' % (name, pub, want))
            c.check(stall <= 1.0, '%s <- %s: no stall over 1 s' % (name, pub), '%.2f s' % stall)
        aud = [x for x in b['inbound'] if x['kind'] == 'audio']
        a_aud = {x['ssrc']: x for x in a['inbound'] if x['kind'] == 'audio'}
        c.check(any((x.get('totalSamplesReceived') or 0) > (a_aud.get(x['ssrc'], {}).get('totalSamplesReceived') or 0)
                    for x in aud), '%s: audio samples grow on its audio slot' % name)

    # 4. a ceiling changed mid-call: r2 down to spatial 0, then back
    if 'r2' in rx:
        p = rx['r2']
        for spatial in (0, 2):
            want = WIDTHS[spatial]
            t0 = time.monotonic()
            how = set_ceiling(env, c, p, 'r2', spatial)
            took = None
            while time.monotonic() - t0 < 6:
                st = p.eval('mmr.stats()')
                hs = [x.get('frameWidth') for x in vin(st) if slot_of(st, x['mid'])]
                if hs and all(h == want for h in hs):
                    took = time.monotonic() - t0
                    break
                time.sleep(0.1)
            c.check(took is not None and took <= 2.0,
                    'r2: ceiling spatial %d (%s) gives width %d on every slot within 2 s' % (spatial, how, want),
                    'took %s, widths %s' % (took and '%.2f s' % took, hs))

    # 5. the publishers' send-side estimate follows the MMR's feedback
    for name, p in tx.items():
        st = p.eval('mmr.stats()')
        tr = st.get('transport') or {}
        aob = tr.get('availableOutgoingBitrate') or 0
        sent = sum((o.get('targetBitrate') or 0) for o in st['outbound'] if o['kind'] == 'video' and o.get('active', True))
        pc = mmrtest.participant_counters(env, MEETING, name)
        fb = pc.get('twcc_fb_out') or pc.get('fb_count') or 0
        c.note('%s: availableOutgoingBitrate %d, video target %d, MMR feedback to it %s, RTT %s' % (
            name, aob, sent, fb, tr.get('currentRoundTripTime')))
        c.check(aob > 600000, '%s: availableOutgoingBitrate rose above the start (300 kbit/s) to %d' % (name, aob))
        c.check(int(fb) > 10, '%s: the MMR sends it transport-wide feedback (%s)' % (name, fb))

    # 6. the MMR's estimate for each receiving browser
    for name in rx:
        pc = mmrtest.participant_counters(env, MEETING, name)
        probes = {k: int(pc.get(k) or 0) for k in ('probe_pkts', 'probes_ok', 'probes_failed', 'pli_in', 'nack_in')}
        c.note('%s: bwe_bps %s alloc_bps %s twcc_fb_in %s rtt_us %s %s' % (
            name, pc.get('bwe_bps'), pc.get('alloc_bps'), pc.get('twcc_fb_in'), pc.get('rtt_us'), probes))
        c.check(int(pc.get('bwe_bps') or 0) > 0, '%s: the MMR\'s estimate is in mmrctl (bwe_bps)' % name)
        c.check(int(pc.get('twcc_fb_in') or 0) > 10, '%s: its TWCC feedback counted' % name)
        # its receiver reports (SRTCP from another sender SSRC than its feedback) authenticate
        c.check(int(pc.get('rtt_us') or 0) > 0, '%s: the MMR knows its RTT (its RRs are taken)' % name,
                pc.get('rtt_us'))
        # probes go on a video slot's RTX (SRTP: never on the audio slot); a cluster asked for
        # must reach the wire, whichever output's copy came first
        c.check(probes['probe_pkts'] > 0 or probes['probes_ok'] + probes['probes_failed'] == 0,
                '%s: the probes it was due were sent' % name, probes)

    diagnostics(env, c, tx, rx)

    # 7. a publisher leaves: slot events, no renegotiation; a receiver leaves
    if 'pvp8' in tx:
        before = {n: len(p.eval('mmr.eventLog')) for n, p in rx.items()}
        status = tx['pvp8'].eval('mmr.leave()')
        c.check(status in (200, 204), 'pvp8 leaves (DELETE %s)' % status)
        time.sleep(3)
        for name, p in rx.items():
            ev = p.eval('mmr.eventLog')[before[name]:]
            c.check(any(e['type'] == 'slot' and e['data'].get('kind') == 'video' for e in ev),
                    '%s: a slot event when pvp8 left' % name, ev)
            c.check(p.eval('mmr.sdpChanges') == 0 and p.eval('mmr.pc.signalingState') == 'stable',
                    '%s: no renegotiation when pvp8 left' % name)
            st = p.eval('mmr.stats()')
            c.check('pvp8' not in [s['publisher'] for s in st['slots']['video']],
                    '%s: pvp8 on no slot' % name, st['slots']['video'])
        c.check(show(env, 'pvp8') is None, 'pvp8 gone from mmrctl')
    if 'r1' in rx:
        status = rx['r1'].eval('mmr.leave()')
        c.check(status in (200, 204), 'r1 leaves (DELETE %s)' % status)
        time.sleep(1)
        c.check(show(env, 'r1') is None, 'r1 gone from mmrctl')


if __name__ == '__main__':
    mmrtest.run_test('test_browsers', body)
