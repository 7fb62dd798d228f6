#!/usr/bin/python3
"""
test_selfcheck.py - the dataplane's table self-check (docs/dataplane.md, "Self-check build") under a
randomized sequence of control requests. The dataplane is build-check/mmr-dataplane (`make
selfcheck`: AddressSanitizer, and cmd_apply_check() after every batch of commands, which aborts it on
the first disagreement between its shadow, its lists and counts, and the published tables); the
controller is the ASan build. Requests (lib/contract/ctl_proto.h, one at a time, each acknowledged
once live): meetings created and ended (plain, AEAD_AES_128_GCM and AES_CM_128_HMAC_SHA1_80), participants of
every role added and removed, streams of every codec added and removed (simulcast groups of 2 and 3
encodings, VP9/AV1 spatial layers, some with the publisher's RTX SSRCs), subscription targets,
encodings, out SSRCs and RTX SSRCs set, receivers with RTX payload types and other RTCP feedback,
SRTP participants rekeyed; issue 12: meetings with top-N audio (created with it, set on, changed and
off: slot subscriptions in place of per-pair audio), receivers taking TWCC or REMB with header
extension ids (their BWE state), screen shares, subscriptions pinned and unpinned. A Python model of the meetings keeps every request valid.
Checks: every request answered ok, the dataplane alive, no "SELF-CHECK FAILED" in its log, no
sanitizer report, and the meetings and their subscription counts (`meeting list`) equal the model's.

    test_selfcheck.py [--steps N] [--seed S] [--corrupt]

--corrupt is the negative control (tests/run-all.sh runs it and passes only if it FAILS on the
self-check): MMR_DP_SELFCHECK_CORRUPT=1 makes the dataplane unlink one subscription from a stream's
shadow list once (cmd_apply.c, self-check builds only), which the check must catch and abort on.
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv  # noqa: E402

CHECK_DP = os.path.join(mmrtest.ROOT, 'build-check', 'mmr-dataplane')
SUITES = (None, 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80')
CODECS = ('opus', 'vp8', 'vp9', 'av1', 'h264')


class Model:
    """What the test has created: meetings -> participants (role) -> streams (ssrcs, codec, ...)."""

    def __init__(self, rnd):
        self.rnd = rnd
        self.meetings = {}        # name -> {'srtp': suite, 'parts': {name: part}}
        self.k = 0

    def fresh(self):
        self.k += 1
        return self.k

    def n_subs(self, mname):
        """Subscriptions the controller's rule gives meeting mname: every receiving participant to
        every stream (group member) of every other participant."""
        mt = self.meetings[mname]
        parts = mt['parts']
        n = 0
        for r, rp in parts.items():
            if rp['role'] == 'sendonly':
                continue
            n += mt['top_n']      # its slot subscriptions
            for p, pp in parts.items():
                if p != r:
                    n += sum(len(s['ssrcs']) for s in pp['streams']
                             if not (mt['top_n'] and s['codec'] == 'opus'))
        return n


def step(env, m, req):
    """One random request that must succeed; returns (ok, what)."""
    rnd = m.rnd
    r = rnd.random()
    if not m.meetings or (r < 0.04 and len(m.meetings) < 4):
        name = 'm%d' % m.fresh()
        suite = rnd.choice(SUITES)
        top_n = rnd.choice((0, 0, 1, 3))
        m.meetings[name] = {'srtp': suite, 'parts': {}, 'top_n': top_n}
        return req('meeting', 'create', name, *(('--srtp', suite) if suite else ('--plain',)),
                   *(('--top-n', top_n) if top_n else ()))
    mname = rnd.choice(sorted(m.meetings))
    mt = m.meetings[mname]
    parts = mt['parts']
    if r < 0.06 and len(m.meetings) > 1:
        del m.meetings[mname]
        return req('meeting', 'end', mname)
    if r < 0.09:
        # top-N audio on, changed or off: slot subscriptions replace per-pair audio or the reverse
        mt['top_n'] = rnd.choice([n for n in (0, 1, 2, 3) if n != mt['top_n']])
        return req('meeting', 'set', mname, '--top-n', mt['top_n'])
    if r < 0.30 or not parts:
        k = m.fresh()
        name = 'p%d' % k
        role = rnd.choice(('sendrecv', 'sendrecv', 'recvonly', 'sendonly'))
        rtx = role != 'sendonly' and rnd.random() < 0.5
        parts[name] = {'role': role, 'streams': [], 'rtx': rtx}
        # RTCP (issue 11): RTX payload types (subscriptions with RTX SSRCs and contexts), feedback
        fb = rnd.choice(('', '', 'nack,pli,rsize', 'nack,pli,twcc', 'remb', 'twcc,remb'))
        extra = (('--rtx', '96:97,111:112') if rtx else ()) + (('--rtcp', fb) if fb else ())
        # issue 12: header extension ids (transport-wide seq, abs-send-time, audio level)
        if 'twcc' in fb or 'remb' in fb or rnd.random() < 0.3:
            extra += ('--ext', 'twcc=3,abs-send-time=2,audio-level=1')
        return req('participant', 'add', mname, name, '--addr', '198.51.100.%d' % (50 + k % 150),
                   '--port', 10000 + k, '--role', role, *extra)
    pname = rnd.choice(sorted(parts))
    p = parts[pname]
    if r < 0.40:
        del parts[pname]
        return req('participant', 'remove', mname, pname)
    if r < 0.65 and p['role'] != 'recvonly':
        codec = rnd.choice(CODECS)
        n = 1 if codec == 'opus' or rnd.random() < 0.6 else rnd.choice((2, 3))
        ssrcs = [0x10000000 + m.fresh() for _ in range(n)]
        args = ['stream', 'add', mname, pname, '--ssrc', ','.join(str(s) for s in ssrcs),
                '--kind', 'audio' if codec == 'opus' else 'video', '--codec', codec]
        layers = spatial = 1
        if codec in ('vp8', 'vp9', 'av1'):
            layers = rnd.randint(1, 4)
            args += ['--layers', layers]
        if codec in ('vp9', 'av1'):
            spatial = rnd.randint(1, 3)
            args += ['--spatial', spatial]
        if codec == 'av1':
            args += ['--dd-ext', rnd.randint(1, 14)]
        if rnd.random() < 0.4:     # the publisher's RTX (its own RTX nodes and inbound contexts)
            args += ['--rtx-ssrc', ','.join(str(0x30000000 + m.fresh()) for _ in ssrcs), '--rtx-pt', 97]
        if codec != 'opus' and rnd.random() < 0.2:
            args += ['--screen']
        p['streams'].append({'ssrcs': ssrcs, 'codec': codec, 'layers': layers, 'spatial': spatial})
        return req(*args)
    if r < 0.75 and p['streams']:
        s = p['streams'].pop(rnd.randrange(len(p['streams'])))
        return req('stream', 'remove', mname, pname, '--ssrc', rnd.choice(s['ssrcs']))
    if r < 0.95:
        # a subscription of a receiver to another participant's stream
        subs = [(rn, pn, s) for rn, rp in parts.items() if rp['role'] != 'sendonly'
                for pn, pp in parts.items() if pn != rn for s in pp['streams']
                if not (mt['top_n'] and s['codec'] == 'opus')]
        if not subs:
            return req('meeting', 'show', mname)
        rn, pn, s = rnd.choice(subs)
        args = ['sub', 'set', mname, rn, '--ssrc', s['ssrcs'][0]]
        if s['codec'] in ('vp8', 'vp9'):
            args += ['--target', rnd.randrange(s['layers'])]
        if s['codec'] == 'vp9':
            args += ['--spatial', rnd.randrange(s['spatial'])]
        if s['codec'] == 'av1':
            args += ['--dt', rnd.randrange(s['layers'] * s['spatial'])]
        if len(s['ssrcs']) > 1:
            args += ['--encoding', rnd.randrange(len(s['ssrcs']))]
        if parts[rn]['rtx'] and rnd.random() < 0.3:
            args += ['--rtx-ssrc', 0 if rnd.random() < 0.3 else 0x40000000 + m.fresh()]
        if s['codec'] != 'opus' and rnd.random() < 0.3:
            args += [rnd.choice(('--pin', '--unpin'))]
        if len(args) == 6 or rnd.random() < 0.3:     # nothing else to set (opus, h264)
            args += ['--out-ssrc', 0x20000000 + m.fresh()]
        return req(*args)
    if mt['srtp']:
        return req('participant', 'rekey', mname, pname)
    return req('meeting', 'show', mname)


def body(c, steps, seed, corrupt):
    if not os.access(CHECK_DP, os.X_OK):
        c.check(False, 'self-check dataplane present (run `make selfcheck`)', CHECK_DP)
        return
    if corrupt:
        os.environ['MMR_DP_SELFCHECK_CORRUPT'] = '1'
    env = MmrEnv('selfcheck' + ('-corrupt' if corrupt else ''), asan=True)
    env.dp_bin = CHECK_DP
    with env:
        env.wait_dp_attached(20)
        m = Model(random.Random(seed))
        n_req, failed = 0, None

        def req(*args):
            nonlocal n_req
            n_req += 1
            ok, status, _ = env.ctl_request(*args, timeout=30)
            return ok, '%s -> %s' % (' '.join(map(str, args)), status)

        for _ in range(steps):
            ok, what = step(env, m, req)
            if not ok:
                failed = what
                break
        c.note('%d requests (seed %d), %d meetings at the end' % (n_req, seed, len(m.meetings)))
        c.check(failed is None, 'every request answered ok', failed)
        alive = env.alive()
        c.check(alive[0], 'dataplane alive')
        log = env.log_text()
        bad = [l for l in log.splitlines() if 'SELF-CHECK FAILED' in l]
        c.check(not bad, 'table self-check: shadow, lists, counts and tables agreed after every batch',
                bad[:1])
        if alive[0] and failed is None:
            listed = env.ctl('meeting', 'list', json=True).stdout
            listed = listed.get('meetings', listed) if isinstance(listed, dict) else listed
            got = {x.get('name'): x.get('subscriptions') for x in listed}
            c.eq(sorted(got), sorted(m.meetings), 'the meetings the model has')
            for name in sorted(m.meetings):
                c.eq(got.get(name), m.n_subs(name), 'meeting %s: subscriptions as the rule gives' % name)
        errs = env.sanitizer_errors()
        c.check(not errs, 'no sanitizer report in the logs', errs[:3])


def main():
    args = sys.argv[1:]
    steps = int(args[args.index('--steps') + 1]) if '--steps' in args else 400
    seed = int(args[args.index('--seed') + 1]) if '--seed' in args else 10
    corrupt = '--corrupt' in args
    mmrtest.run_test('test_selfcheck' + (' --corrupt' if corrupt else ''),
                     lambda c: body(c, steps, seed, corrupt))


if __name__ == '__main__':
    main()
