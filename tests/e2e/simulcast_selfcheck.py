#!/usr/bin/python3
"""
simulcast_selfcheck.py - shows, without the MMR, that test_simulcast_vp8.py and
test_simulcast_h264.py can fail: each runs with simulcast_session.IdealRelay on 127.0.0.1 in place
of the MMR, once following the switching rules (must PASS) and once per broken rule (must FAIL, for
the stated reason):
  early   switches at the new encoding's next frame, not its keyframe -> corrupt pictures;
  late    passes over the first keyframe after the change               -> switch too late;
  no-pid  VP8 PictureID/TL0PICIDX not rewritten                         -> numbering jumps;
  no-ts   timestamps not rewritten (each encoding's own random offset)  -> timestamp jump;
  flip    one byte flipped in one packet to the encoding-2 receiver     -> corrupt pictures.
Run: /usr/bin/python3 tests/e2e/simulcast_selfcheck.py [vp8|h264 ...]   (about a minute: two scenarios at a time)
"""

import concurrent.futures
import os
import queue
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

EXPECT = {
    "ideal": None,
    "early": "match no reference picture",
    "late": "switched to encoding",
    "no-pid": "PictureID/TL0PICIDX",
    "no-ts": "timestamp",
    "flip": "match no reference picture",
}
TESTS = {"vp8": ("test_simulcast_vp8.py", list(EXPECT)),
         "h264": ("test_simulcast_h264.py", [m for m in EXPECT if m != "no-pid"])}


def run_one(codec, mode, loop_ip):
    script = TESTS[codec][0]
    env = dict(os.environ, MMR_E2E_LOOP_IP=loop_ip)
    cp = subprocess.run([sys.executable, os.path.join(HERE, script), "--relay", mode],
                        capture_output=True, text=True, env=env)
    want = EXPECT[mode]
    if want is None:
        ok = cp.returncode == 0
    else:
        ok = cp.returncode == 1 and want in cp.stdout
    line = "%s %s --relay %s: exit %d, %s" % ("ok" if ok else "FAIL", script, mode, cp.returncode,
                                              "pass expected" if want is None else
                                              "must fail with '%s'" % want)
    return ok, line, "" if ok else cp.stdout[-3000:] + cp.stderr[-1000:]


def main(argv):
    # The scenarios stream in real time and mostly wait: two at once, each on its own loopback
    # address (127.0.0.2, 127.0.0.3), so their fixed ports do not collide.
    runs = [(codec, mode) for codec in (argv or list(TESTS)) for mode in TESTS[codec][1]]
    ips = queue.Queue()
    for ip in ("127.0.0.2", "127.0.0.3"):
        ips.put(ip)

    def job(run):
        ip = ips.get()
        try:
            return run_one(run[0], run[1], ip)
        finally:
            ips.put(ip)

    bad = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for (codec, mode), (ok, line, tail) in zip(runs, pool.map(job, runs)):
            print(line, flush=True)
            if not ok:
                bad.append("%s/%s" % (codec, mode))
                sys.stdout.write(tail)
    print("SELF-CHECK %s" % ("FAILED: " + ", ".join(bad) if bad else "OK"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
