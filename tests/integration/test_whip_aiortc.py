#!/usr/bin/python3
"""
test_whip_aiortc.py - a real WebRTC stack through the join endpoints (issue 13): python3-aiortc
publishes a VP8 video and an Opus audio track through POST /whip; a second aiortc receives through
POST /whep on one video and one audio slot and decodes the publisher's video. The real controller and
dataplane on net_tap (tests/lib/mmrtest.py); aiortc runs in the test's network namespace, its host
candidate on the tap's address, the MMR's candidate the dataplane's (join_candidate). ICE (aiortc
full, the MMR lite), DTLS (aiortc client, the MMR server), SRTP (AES_CM_128_HMAC_SHA1_80: what
aiortc 1.4 negotiates); the audio is a tone, so that top-N picks it, BUNDLE and rtcp-mux are all the real ones.

Checks: quiet (silent audio + video) publishes, the viewer (one video, one audio slot) joins: its
event stream puts quiet on its video slot; pubby (a tone + video) publishes: it becomes the dominant
speaker (a speaker event) and replaces quiet on the viewer's slot (the slot policy); every join 201,
every peer connection "connected"; the MMR learned every address and finished every DTLS handshake
(`participant show`); the viewer decodes video frames (at least 30 in 10 s) of the sent size
(640x480) and gets audio frames; DELETE of every session: 200, participants gone.
"""
import asyncio
import json
import logging
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, MMR_PORT  # noqa: E402
from mmrhttp import Events, Http, make_token  # noqa: E402

logging.getLogger('asyncio').setLevel(logging.CRITICAL)


def tone_track():
    """An audio track of a 440 Hz tone at about -12 dBov (silence would never be in the top-N)."""
    import math
    import struct
    from aiortc.mediastreams import AudioStreamTrack

    class Tone(AudioStreamTrack):
        async def recv(self):
            frame = await super().recv()
            n = frame.samples
            pcm = struct.pack('<%dh' % n, *(int(8000 * math.sin(2 * math.pi * 440 * (frame.pts + i) / 8000))
                                             for i in range(n)))
            frame.planes[0].update(pcm)
            return frame
    return Tone()


async def http_post(api, path, sdp, token):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, lambda: api.req('POST', path, sdp.encode(), token, 'application/sdp'))


async def wait_event(ev, pred, timeout):
    """Events.wait_for without blocking the event loop (aiortc sends from it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for e in list(ev.events):
            if pred(e):
                return e
        await asyncio.sleep(0.05)
    return None


async def wait_state(pc, want, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pc.connectionState == want:
            return True
        if pc.connectionState == 'failed':
            return False
        await asyncio.sleep(0.1)
    return False


async def scenario(c, env, api, secret, port):
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

    async def publish(name, audio_track):
        pc = RTCPeerConnection()
        pc.addTransceiver(audio_track, direction='sendonly')
        pc.addTransceiver(VideoStreamTrack(), direction='sendonly')
        await pc.setLocalDescription(await pc.createOffer())
        st, h, text = await http_post(api, '/v1/meetings/live/whip', pc.localDescription.sdp,
                                      make_token(secret, name, 'live', 'publisher'))
        if not c.check(st == 201, 'aiortc publisher %s: POST /whip 201' % name, '%s %s' % (st, text[:300])):
            await pc.close()
            return None, ''
        await pc.setRemoteDescription(RTCSessionDescription(text.decode(), 'answer'))
        return pc, h.get('location', '')

    # quiet (silence) first: it takes the viewer's one video slot; pubby (a tone) later: as the
    # dominant speaker it replaces quiet there
    quiet, quiet_loc = await publish('quiet', AudioStreamTrack())
    if not quiet:
        return
    view = RTCPeerConnection()
    view.addTransceiver('audio', direction='recvonly')
    view.addTransceiver('video', direction='recvonly')
    got = {'video': [], 'audio': 0}

    async def consume(track):
        while True:
            try:
                f = await track.recv()
            except Exception:
                return
            if track.kind == 'video':
                got['video'].append((f.width, f.height))
            else:
                got['audio'] += 1

    tasks = []
    view.on('track', lambda t: tasks.append(asyncio.ensure_future(consume(t))))
    await view.setLocalDescription(await view.createOffer())
    vtok = make_token(secret, 'viewy', 'live', 'viewer')
    st, h, text = await http_post(api, '/v1/meetings/live/whep', view.localDescription.sdp, vtok)
    view_loc = h.get('location', '')
    if not c.check(st == 201, 'aiortc viewer: POST /whep 201', '%s %s' % (st, text[:300])):
        await quiet.close()
        await view.close()
        return
    ev = Events(port, '%s/events?access_token=%s' % (view_loc, vtok))
    ev.start()
    await view.setRemoteDescription(RTCSessionDescription(text.decode(), 'answer'))
    e = await wait_event(ev, lambda e: e[0] == 'slot' and e[1].get('publisher') == 'quiet', 5)
    c.check(e is not None, 'viewer\'s events: quiet on its one video slot', str(ev.events[:5]))
    pub, pub_loc = await publish('pubby', tone_track())
    if not pub:
        return

    c.check(await wait_state(quiet, 'connected', 15), 'quiet connected (ICE + DTLS with the MMR)',
            quiet.connectionState)
    c.check(await wait_state(pub, 'connected', 15), 'publisher connected (ICE + DTLS with the MMR)',
            pub.connectionState)
    c.check(await wait_state(view, 'connected', 15), 'viewer connected', view.connectionState)
    for name in ('quiet', 'pubby', 'viewy'):
        cp = env.ctl('participant', 'show', 'live', name, json=True, check=False)
        show = cp.stdout if cp.returncode == 0 else {}
        c.check(show.get('port', 0) != 0 and 'connected' in json.dumps(show.get('dtls', '')),
                '%s: address learned and DTLS connected in mmrctl' % name, str(show)[:400])
    e = await wait_event(ev, lambda e: e[0] == 'speaker' and e[1].get('participant') == 'pubby', 10)
    if not c.check(e is not None, 'viewer\'s events: pubby (the tone) is the dominant speaker', str(ev.events[-5:])):
        c.note('meeting show: %s' % env.ctl('meeting', 'show', 'live', json=True).stdout)
        c.note('stats drops: %s' % mmrtest.find_key(env.ctl('stats', '--streams', json=True, check=False).stdout or {},
                                                   'drops'))
        c.note('streams: %s' % str(env.ctl('stats', '--streams', json=True, check=False).stdout)[-3000:])
    e = await wait_event(ev, lambda e: e[0] == 'slot' and e[1].get('publisher') == 'pubby' and e[1].get('slot') == 0,
                         5)
    c.check(e is not None, 'viewer\'s events: pubby replaces quiet on its video slot (the speaker policy)',
            str(ev.events[-5:]))

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(got['video']) < 30:
        await asyncio.sleep(0.2)
    sizes = set(got['video'])
    c.check(len(got['video']) >= 30 and sizes == {(640, 480)},
            'viewer decodes pubby\'s video: %d frames, sizes %s' % (len(got['video']), sorted(sizes)), '')
    c.check(got['audio'] > 0, 'viewer gets audio frames (%d)' % got['audio'])
    ev.close()

    for loc, tok, name in ((pub_loc, make_token(secret, 'pubby', 'live', 'publisher'), 'pubby'),
                           (quiet_loc, make_token(secret, 'quiet', 'live', 'publisher'), 'quiet'),
                           (view_loc, vtok, 'viewy')):
        loop = asyncio.get_running_loop()
        st, h, text = await loop.run_in_executor(None, lambda: api.req('DELETE', loc, token=tok))
        c.check(st == 200, 'DELETE %s\'s session: 200' % name, '%s %s' % (st, text))
    cp = env.ctl('participant', 'list', 'live', json=True)
    js = cp.stdout
    lst = js.get('participants', []) if isinstance(js, dict) else js
    c.check(not lst, 'both participants gone', str(lst))
    for t in tasks:
        t.cancel()
    await pub.close()
    await quiet.close()
    await view.close()


def body(c):
    try:
        import aiortc  # noqa: F401
    except ImportError:
        c.check(False, 'python3-aiortc installed (scripts/install-deps.sh)')
        return
    d = tempfile.mkdtemp(prefix='mmr-whip-aiortc.')
    secret = os.urandom(24).hex().encode()
    sf = os.path.join(d, 'secret')
    with open(sf, 'wb') as f:
        f.write(secret + b'\n')
    os.chmod(sf, 0o600)
    env = MmrEnv('whip_aiortc', asan=os.environ.get('MMR_TEST_ASAN') == '1')   # MMR_TEST_ASAN=1: the ASan build
    env.extra_ctl_conf = ('http_listen = "127.0.0.1:0";\ntoken_secret_file = "%s";\njoin_candidate = "%s:%d";\n'
                          % (sf, MMR_IP, MMR_PORT))
    with env:
        env.wait_dp_attached()
        port = None
        for ln in open(env.ctl_log).read().splitlines():
            if 'HTTP API on' in ln:
                port = int(ln.split('(port ')[1].split(',')[0])
        env.ctl('meeting', 'create', 'live', '--srtp', 'AES_CM_128_HMAC_SHA1_80')
        asyncio.run(asyncio.wait_for(scenario(c, env, Http(port), secret, port), 90))
        c.check(all(env.alive()), 'dataplane and controller alive')


if __name__ == '__main__':
    mmrtest.run_test('test_whip_aiortc', body)
