#!/usr/bin/python3
"""
demo_browser.py - a browser joins a demo meeting (issue 13): the real dataplane on a tap device and
the controller with its HTTP API, in a network namespace of their own (tests/lib/mmrjoin.py), an
SRTP meeting `demo`, one headless Chromium participant ("bot": a canvas with a moving pattern and a
tone, VP9 L3T3) already in it, and the URL of the page the controller serves (/demo) with a fresh
token for you. Open it in a browser inside the namespace (the command is printed; X11 and Wayland
sockets are files, so the window shows on your desktop), or pass --headless to have a second
headless Chromium join instead. Live stats every 2 s until Ctrl-C (or --seconds N).

  sudo python3 scripts/demo_browser.py [--headless] [--seconds N]
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
import browser  # noqa: E402
import mmrtest  # noqa: E402
from mmrjoin import JoinEnv, BASE  # noqa: E402

MEETING = 'demo'


def url(token, extra=''):
    return '%s/demo?mode=join&meeting=%s&token=%s&auto=1%s' % (BASE, MEETING, token, extra)


def stats_line(env):
    parts = env.ctl('participant', 'list', MEETING, json=True, check=False)
    names = []
    try:
        rows = parts.stdout if isinstance(parts.stdout, list) else json.loads(parts.stdout)
        for p in rows:
            names.append('%s (DTLS %s)' % (p.get('name'), p.get('dtls', '-')))
    except (ValueError, TypeError, AttributeError):
        pass
    copies = mmrtest.find_key(env.stats(), 'copies')
    return 'participants: %s; copies sent so far: %s' % (', '.join(names) or '-', copies)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    ap.add_argument('--headless', action='store_true', help='a second headless Chromium joins as "you"')
    ap.add_argument('--seconds', type=float, default=0, help='stop after N seconds (0: at Ctrl-C)')
    a = ap.parse_args()
    with JoinEnv('demo-browser') as env:
        env.ctl('meeting', 'create', MEETING, '--srtp', 'AEAD_AES_128_GCM')
        bot = browser.Chromium('demo-bot', env.logdir)
        bot.start()
        pages = [bot.open(url(env.token('bot', 'participant', MEETING),
                              '&codec=vp9&svc=L3T3&width=960&height=540&fps=15&videoSlots=2&audioSlots=1'))]
        you = env.token('you', 'participant', MEETING)
        print('\nThe MMR runs in network namespace %s (dataplane %s:%d on a tap, controller %s).'
              % (env.netns, mmrtest.MMR_IP, mmrtest.MMR_PORT, BASE))
        if a.headless:
            pages.append(bot.open(url(you, '&codec=vp8&width=640&height=360&fps=15&videoSlots=2&audioSlots=1')))
            print('A second headless Chromium joined as "you".')
        else:
            print('Open the demo page in a browser inside that namespace, e.g.:\n\n'
                  '  sudo ip netns exec %s chromium --user-data-dir=%s \'%s\'\n'
                  % (env.netns, tempfile.mkdtemp(prefix='mmr-demo-chromium-'), url(you)))
        t_end = time.monotonic() + a.seconds if a.seconds else None
        try:
            while t_end is None or time.monotonic() < t_end:
                time.sleep(2)
                print(stats_line(env), flush=True)
        except KeyboardInterrupt:
            pass
        for p in pages:
            try:
                p.eval('mmr.leave && mmr.leave()')
            except browser.BrowserError:
                pass
        bot.stop()


if __name__ == '__main__':
    main()
