#!/usr/bin/python3
"""
test_controls.py - meeting controls (issue 15) enforced by the real mmr-dataplane, driven through
mmrctl, with RTP and SRTP sent from Python (tests/lib/mmrtest.py) and tokens made here with hmac:

 1. waiting room: `meeting set --waiting-room on`; carol added after waits: her packets are dropped
    (not_admitted, counted), she receives nothing (copies toward her counted not_admitted too);
    `participant admit` -> both ways flow; `participant deny` removes a waiting participant.
 2. mute: `participant mute alice audio` stops alice's audio at the next packet (muted) while her
    video still flows; `unmute` -> it flows again; `meeting mute-all m1 audio`.
 3. screen share: `--share host_only`: bob's screen stream is not forwarded (share_denied) until
    `participant host m1 bob on`; `--max-sharers 1`: carol's screen beyond the limit is denied while
    bob's flows.
 4. eject (SRTP meeting): dave's SRTP flows to erin; `participant eject` -> his further packets
    (valid SRTP under his old keys) are dropped (unknown_sender) and erin gets nothing; his token is
    refused by the HTTP API (403 revoked); the ban survives a controller restart (state file).
 5. lock: a join to a locked meeting is 403 naming the lock; unlock -> the lock refusal is gone.
 6. disk full (the controller's journal held at its size by a file-size limit): eject and mute still
    take effect in the dataplane at once (replies say NOT SAVED; status shows the alarm); once the
    limit is lifted they are saved (the alarm clears, a restarted controller keeps them).
Negative checks: the flows before each action (so a drop counted or a copy missing is the action's).
Negative control (--no-mute, in tests/run-all.sh): the mute is not asked for: its first check must
fail, and the test stops there.
Run as root: /usr/bin/python3 tests/integration/test_controls.py [--no-mute]  (under the DPDK flock)
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, MMR_PORT  # noqa: E402
import rtpgen  # noqa: E402
from mmrhttp import make_token, Http, Events, offer, http_conf, http_port, token_secret  # noqa: E402
from test_srtp import session, unprotect  # noqa: E402

PORTS = {'alice': 6001, 'bob': 6002, 'carol': 6003, 'dave': 6004, 'erin': 6005, 'fred': 6006}
A_AUD, A_VID, B_AUD, B_SCR, C_AUD, C_SCR, D_AUD, F_AUD = (0x1001, 0x1002, 0x2001, 0x2003, 0x3001, 0x3003,
                                                          0x4001, 0x6001)
SUITE = 'AEAD_AES_128_GCM'
NO_MUTE = '--no-mute' in sys.argv    # negative control (above)


def body(c):
    secret, secret_file = token_secret('controls')
    env = MmrEnv('controls')
    env.extra_ctl_conf = http_conf(secret_file, MMR_IP, MMR_PORT)
    with env:
        env.wait_dp_attached()
        socks = {n: env.udp_socket(p) for n, p in PORTS.items()}
        seqs = {}

        def drops():
            return mmrtest.drop_counts(env.stats())

        def audio(name, ssrc, n):
            for _ in range(n):
                s = seqs.get(ssrc, 0)
                seqs[ssrc] = s + 1
                env.send(socks[name], mmrtest.audio_rtp(ssrc, s))
                time.sleep(0.002)

        vgen = {}

        def video(name, ssrc, n):
            g = vgen.setdefault(ssrc, rtpgen.Vp8L1T3(ssrc, keyframe_interval=8, pkts_per_frame=1, payload_size=100))
            for _ in range(n):
                for p in g.next_frame().packets:
                    env.send(socks[name], p.data)
                time.sleep(0.002)

        def recv(names, wait=0.4):
            time.sleep(wait)
            out = {}
            for n in names:
                pk = env.recv_all(socks[n], timeout=0.1)
                out[n] = {}
                for p in pk:
                    if len(p) >= 12 and not 192 <= p[1] <= 223:   # RTP (not the MMR's RTCP)
                        ssrc = int.from_bytes(p[8:12], 'big')
                        out[n][ssrc] = out[n].get(ssrc, 0) + 1
            return out

        def plist(m):
            js = env.ctl('participant', 'list', m, json=True).stdout
            return [p['name'] for p in (js.get('participants', []) if isinstance(js, dict) else js)]

        def pshow(m, name):
            return env.ctl('participant', 'show', m, name, json=True).stdout

        # ---- 1. waiting room ---------------------------------------------------------------------
        env.meeting('m1')
        env.participant('m1', 'alice', PORTS['alice'])
        env.participant('m1', 'bob', PORTS['bob'])
        env.ctl('meeting', 'set', 'm1', '--waiting-room', 'on')
        cp = env.ctl('participant', 'add', 'm1', 'carol', '--addr', mmrtest.CLIENT_IP, '--port', PORTS['carol'])
        c.check('waits until admitted' in cp.stdout, 'participant add in a waiting-room meeting says it waits',
                cp.stdout)
        env.stream('m1', 'alice', A_AUD, 'audio')
        env.stream('m1', 'alice', A_VID, 'video', layers=3)
        env.stream('m1', 'bob', B_AUD, 'audio')
        env.stream('m1', 'carol', C_AUD, 'audio')
        c.check(pshow('m1', 'carol').get('waiting') is True and pshow('m1', 'alice').get('waiting') is False,
                'carol waiting, alice admitted (participant show)')
        recv(list(PORTS), 0.05)
        d0 = drops()
        audio('carol', C_AUD, 10)
        audio('alice', A_AUD, 10)
        got = recv(['alice', 'bob', 'carol'])
        d1 = drops()
        na = d1.get('not_admitted', 0) - d0.get('not_admitted', 0)
        c.check(got['bob'].get(A_AUD) == 10, 'bob gets alice\'s 10 audio packets (the meeting works)', got)
        c.check(not got['carol'], 'waiting carol receives nothing', got['carol'])
        c.check(C_AUD not in got['alice'] and C_AUD not in got['bob'], 'nobody receives waiting carol\'s audio', got)
        c.eq(na, 20, 'not_admitted: 10 of carol\'s packets + 10 copies toward her')
        env.ctl('participant', 'admit', 'm1', 'carol')
        audio('carol', C_AUD, 10)
        audio('alice', A_AUD, 10)
        got = recv(['alice', 'bob', 'carol'])
        c.check(got['alice'].get(C_AUD) == 10 and got['bob'].get(C_AUD) == 10 and got['carol'].get(A_AUD) == 10,
                'after admit: carol\'s audio reaches alice and bob, alice\'s reaches carol', got)
        cp = env.ctl('participant', 'admit', 'm1', 'carol', check=False)
        c.check(cp.returncode != 0 and 'not waiting' in cp.stderr, 'admit of an admitted participant: error',
                cp.stderr)
        env.participant('m1', 'fred', PORTS['fred'])
        env.ctl('participant', 'deny', 'm1', 'fred')
        names = plist('m1')
        c.check('fred' not in names, 'deny removes the waiting participant', names)
        env.ctl('meeting', 'set', 'm1', '--waiting-room', 'off')

        # ---- 2. mute -----------------------------------------------------------------------------
        d0 = drops()
        if not NO_MUTE:
            env.ctl('participant', 'mute', 'm1', 'alice', 'audio')
        audio('alice', A_AUD, 10)
        video('alice', A_VID, 8)
        got = recv(['bob', 'carol'])
        d1 = drops()
        if not c.check(A_AUD not in got['bob'] and A_AUD not in got['carol'],
                       'muted audio: no copy at all (next packet)', got) and NO_MUTE:
            return
        c.check(got['bob'].get(A_VID) == 8 and got['carol'].get(A_VID) == 8, 'her video still flows (8 frames)', got)
        c.eq(d1.get('muted', 0) - d0.get('muted', 0), 10, 'drops.muted: her 10 audio packets')
        c.check(pshow('m1', 'alice').get('muted') == 'audio', 'participant show: muted audio')
        env.ctl('participant', 'unmute', 'm1', 'alice', 'audio')
        audio('alice', A_AUD, 5)
        got = recv(['bob'])
        c.eq(got['bob'].get(A_AUD), 5, 'after unmute: her audio flows again')
        env.ctl('meeting', 'mute-all', 'm1', 'audio')
        d0 = drops()
        audio('bob', B_AUD, 5)
        audio('carol', C_AUD, 5)
        got = recv(['alice'])
        c.check(not got['alice'], 'mute-all audio: nothing from bob and carol', got)
        c.eq(drops().get('muted', 0) - d0.get('muted', 0), 10, 'drops.muted: their 10 packets')
        env.ctl('participant', 'unmute', 'm1', 'bob', 'all')
        env.ctl('participant', 'unmute', 'm1', 'carol', 'all')
        env.ctl('participant', 'unmute', 'm1', 'alice', 'all')
        cp = env.ctl('participant', 'mute', 'm1', 'alice', 'smell', check=False)
        c.check(cp.returncode != 0 and 'bad kind' in cp.stderr, 'mute of an unknown kind: error', cp.stderr)

        # ---- 3. screen share policy --------------------------------------------------------------
        env.ctl('meeting', 'set', 'm1', '--share', 'host_only')
        env.ctl('stream', 'add', 'm1', 'bob', '--ssrc', B_SCR, '--kind', 'video', '--codec', 'vp8', '--layers', 3,
                '--screen')
        d0 = drops()
        video('bob', B_SCR, 8)
        got = recv(['alice'])
        c.check(B_SCR not in got['alice'], 'host_only: bob (no host) shares nothing', got)
        c.eq(drops().get('share_denied', 0) - d0.get('share_denied', 0), 8, 'drops.share_denied: his 8 packets')
        env.ctl('participant', 'host', 'm1', 'bob', 'on')
        video('bob', B_SCR, 8)
        got = recv(['alice'])
        c.eq(got['alice'].get(B_SCR), 8, 'bob made host: his screen flows')
        env.ctl('meeting', 'set', 'm1', '--share', 'everyone', '--max-sharers', 1)
        env.ctl('stream', 'add', 'm1', 'carol', '--ssrc', C_SCR, '--kind', 'video', '--codec', 'vp8', '--layers',
                3, '--screen')
        d0 = drops()
        video('carol', C_SCR, 8)
        video('bob', B_SCR, 8)
        got = recv(['alice'])
        c.check(C_SCR not in got['alice'] and got['alice'].get(B_SCR) == 8,
                'max-sharers 1: carol (second sharer) denied, bob flows', got)
        c.eq(drops().get('share_denied', 0) - d0.get('share_denied', 0), 8, 'drops.share_denied: carol\'s 8')
        env.ctl('stream', 'remove', 'm1', 'bob', '--ssrc', B_SCR)
        video('carol', C_SCR, 8)
        got = recv(['alice'])
        c.eq(got['alice'].get(C_SCR), 8, 'bob stops sharing: carol\'s screen flows')

        # ---- 4. eject (SRTP) ---------------------------------------------------------------------
        env.meeting('m2', srtp=SUITE)
        kd = mmrtest.parse_keys(env.participant('m2', 'dave', PORTS['dave']).stdout)
        ke = mmrtest.parse_keys(env.participant('m2', 'erin', PORTS['erin']).stdout)
        env.stream('m2', 'dave', D_AUD, 'audio')
        tx = session(SUITE, mmrtest.key_bytes(kd['send_key']), True)
        rx = session(SUITE, mmrtest.key_bytes(ke['recv_key']), False)

        def dave_send(n):
            for _ in range(n):
                s = seqs.get(D_AUD, 0)
                seqs[D_AUD] = s + 1
                env.send(socks['dave'], tx.protect(mmrtest.audio_rtp(D_AUD, s)))
                time.sleep(0.002)
        dave_send(10)
        time.sleep(0.4)
        pk = env.recv_all(socks['erin'], timeout=0.1)
        ok = sum(1 for p in pk if not 192 <= p[1] <= 223 and unprotect(rx, p))
        c.eq(ok, 10, 'SRTP: erin decrypts dave\'s 10 packets')
        api = Http(http_port(env))
        tok = make_token(secret, 'dave', 'm2', 'participant')
        s, h, t = api.req('POST', '/v1/meetings/m2/join', body=b'v=0\r\n', token=tok, ctype='application/sdp')
        c.check(s != 403 or b'revoked' not in t, 'before eject: dave\'s token is not revoked', (s, t))
        d0 = drops()
        env.ctl('participant', 'eject', 'm2', 'dave')
        dave_send(10)
        time.sleep(0.4)
        pk = [p for p in env.recv_all(socks['erin'], timeout=0.1) if not 192 <= p[1] <= 223]
        c.check(not pk, 'after eject: erin gets no RTP of dave', len(pk))
        c.eq(drops().get('unknown_sender', 0) - d0.get('unknown_sender', 0), 10,
             'his further valid SRTP packets: drops.unknown_sender 10')
        s, h, t = api.req('POST', '/v1/meetings/m2/join', body=b'v=0\r\n', token=tok, ctype='application/sdp')
        c.check(s == 403 and b'revoked' in t and b'ejected' in t, 'his token: 403 revoked (ejected)', (s, t))
        tok_f = make_token(secret, 'fred', 'm2', 'participant')
        s, h, t = api.req('POST', '/v1/meetings/m2/join', body=b'v=0\r\n', token=tok_f, ctype='application/sdp')
        c.check(s != 403, 'another identity\'s token is not refused as ejected', (s, t))

        # ---- 7. events: a joined session's event stream learns each change -----------------------
        tok_h = make_token(secret, 'hank', 'm2', 'participant')
        s, h, t = api.req('POST', '/v1/meetings/m2/join', offer('aiortc_sendrecv.sdp'), tok_h, 'application/sdp')
        ev = None
        if c.check(s == 201, 'hank joins m2 (aiortc offer): 201', (s, t[:200])):
            ev = Events(api.port, '%s/events?access_token=%s' % (h.get('location', ''), tok_h))
            ev.start()
            time.sleep(0.3)
            env.ctl('participant', 'mute', 'm2', 'hank', 'audio')
            e = ev.wait_for(lambda e: e[0] == 'control' and isinstance(e[1], dict) and
                            e[1].get('action') == 'muted' and e[1].get('participant') == 'hank' and
                            e[1].get('kinds') == ['audio'])
            c.check(e, 'SSE: event control {action muted, participant hank, kinds [audio]}', ev.events[-3:])

        # ---- 5. lock -----------------------------------------------------------------------------
        env.ctl('meeting', 'lock', 'm2')
        if ev:
            e = ev.wait_for(lambda e: e[0] == 'control' and isinstance(e[1], dict) and e[1].get('action') == 'locked'
                            and (e[1].get('settings') or {}).get('locked') is True)
            c.check(e, 'SSE: event control {action locked}', ev.events[-3:])
            ev.stop = True
        s, h, t = api.req('POST', '/v1/meetings/m2/join', body=b'v=0\r\n', token=tok_f, ctype='application/sdp')
        c.check(s == 403 and b'locked' in t, 'locked meeting: join 403 naming the lock', (s, t))
        env.ctl('meeting', 'unlock', 'm2')
        s, h, t = api.req('POST', '/v1/meetings/m2/join', body=b'v=0\r\n', token=tok_f, ctype='application/sdp')
        c.check(not (s == 403 and b'locked' in t), 'unlocked: no lock refusal', (s, t))
        env.ctl('meeting', 'lock', 'm2')

        # ---- 6. disk full: safety actions still take effect --------------------------------------
        env.participant('m1', 'gus', PORTS['fred'])
        env.ctl('meeting', 'set', 'm1', '--waiting-room', 'on')
        env.participant('m1', 'ida', 6007)
        c.check(pshow('m1', 'ida').get('waiting') is True, 'ida waits (m1 has its waiting room on)')
        jsize = os.path.getsize(env.state_file + '.journal')
        cp = subprocess.run(['prlimit', '--pid', str(env.ctl_proc.pid), '--fsize=%d:' % jsize],
                            capture_output=True, text=True)
        if c.check(cp.returncode == 0, 'the controller\'s journal held at its size (prlimit --fsize)', cp.stderr):
            try:
                recv(list(PORTS), 0.05)     # what is left from before
                d0 = drops()
                m = env.ctl('participant', 'mute', 'm1', 'alice', 'audio', check=False)
                c.check(m.returncode == 0 and 'NOT SAVED' in m.stdout, 'disk full: mute answers ok, NOT SAVED',
                        (m.returncode, m.stdout, m.stderr))
                e = env.ctl('participant', 'eject', 'm1', 'gus', check=False)
                c.check(e.returncode == 0 and 'NOT SAVED' in e.stdout, 'disk full: eject answers ok, NOT SAVED',
                        (e.returncode, e.stdout, e.stderr))
                r = env.ctl('participant', 'remove', 'm1', 'bob', check=False)
                c.check(r.returncode != 0, 'disk full: a plain remove still fails (nothing changed)', r.stdout)
                u = env.ctl('participant', 'unmute', 'm1', 'alice', 'audio', check=False)
                c.check(u.returncode != 0, 'disk full: an unmute is no safety action: it fails (nothing changed)',
                        (u.returncode, u.stdout))
                # an admit (a plain change, fails) and a mute of the same participant in one batch:
                # the mute stays in force, the admit must not come back with it
                b = subprocess.run([env.mmrctl_bin, '-S', env.socket_path, 'batch'], capture_output=True,
                                   text=True, timeout=20, env=env._env(),
                                   input='participant admit m1 ida\nparticipant mute m1 ida video\n')
                c.check('NOT SAVED' in b.stdout and 'error' in b.stdout + b.stderr,
                        'disk full, one batch: admit ida fails, mute ida video answers NOT SAVED',
                        (b.returncode, b.stdout, b.stderr))
                audio('alice', A_AUD, 10)
                env.send(socks['fred'], mmrtest.audio_rtp(0x5555, 1))
                got = recv(['bob', 'carol'])
                d1 = drops()
                c.check(A_AUD not in got['bob'] and A_AUD not in got['carol'], 'disk full: the mute is in force', got)
                c.eq(d1.get('muted', 0) - d0.get('muted', 0), 10, 'disk full: drops.muted 10')
                c.check(d1.get('unknown_sender', 0) - d0.get('unknown_sender', 0) >= 1,
                        'disk full: the ejected gus is unknown to the dataplane', d1)
                st = env.status()
                c.check(int(mmrtest.find_key(st, 'unsaved_safety_actions') or 0) >= 2,
                        'status: unsaved_safety_actions (the alarm)', mmrtest.find_key(st, 'unsaved_safety_actions'))
            finally:
                subprocess.run(['prlimit', '--pid', str(env.ctl_proc.pid), '--fsize=unlimited:'], check=True)
            env.ctl('meeting', 'create', 'poke')    # a change: the batch (and the unsaved ones) commit
            time.sleep(0.3)
            st = env.status()
            c.eq(int(mmrtest.find_key(st, 'unsaved_safety_actions') or 0), 0, 'disk back: the alarm clears')
            pi = pshow('m1', 'ida')
            c.check(pi.get('waiting') is True and 'video' in str(pi.get('muted')),
                    'disk back: ida still waiting (the failed admit did not come back with the mute), video muted',
                    pi)

        # ---- persistence: a restarted controller keeps every control -----------------------------
        env.kill_controller()
        env.start_controller()
        env.wait_dp_attached()
        c.check(pshow('m1', 'alice').get('muted') == 'audio', 'after a restart: alice still muted')
        names = plist('m1')
        c.check('gus' not in names and 'bob' in names, 'after a restart: gus ejected, bob there', names)
        ms = env.ctl('meeting', 'show', 'm2', json=True).stdout
        c.check(ms.get('locked') is True, 'after a restart: m2 locked', ms.get('locked'))
        ms1 = env.ctl('meeting', 'show', 'm1', json=True).stdout
        c.check(ms1.get('max_sharers') == 1 and pshow('m1', 'bob').get('host') is True,
                'after a restart: max_sharers 1, bob host', (ms1.get('max_sharers'), pshow('m1', 'bob').get('host')))
        api = Http(http_port(env))   # (the restarted controller's: the log's last line)
        s, h, t = api.req('POST', '/v1/meetings/m2/join', body=b'v=0\r\n', token=tok, ctype='application/sdp')
        c.check(s == 403 and b'revoked' in t, 'after a restart: dave\'s token still revoked', (s, t))
        d0 = drops()
        audio('alice', A_AUD, 5)
        recv(['bob'])
        c.eq(drops().get('muted', 0) - d0.get('muted', 0), 5, 'after a restart: the dataplane still drops her audio')
        # ---- end: every participant removed, the meeting gone -----------------------------------
        env.ctl('meeting', 'end', 'm2')
        cp = env.ctl('meeting', 'show', 'm2', check=False)
        c.check(cp.returncode != 0 and 'no meeting' in cp.stderr, 'meeting end: m2 gone', cp.stderr)
        d0 = drops()
        env.send(socks['erin'], mmrtest.audio_rtp(0x7777, 1))
        time.sleep(0.3)
        c.eq(drops().get('unknown_sender', 0) - d0.get('unknown_sender', 0), 1,
             'meeting end: its participant erin is unknown to the dataplane')
        c.check(all(env.alive()), 'dataplane and controller alive')


if __name__ == '__main__':
    mmrtest.run_test('test_controls', body)
