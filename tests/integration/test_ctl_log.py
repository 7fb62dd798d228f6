#!/usr/bin/python3
"""
test_ctl_log.py - the controller's log levels and SIGHUP, on the real mmr-controller alone (no
dataplane, no DPDK): SIGHUP (three times, and with a broken config file) never stops it and it keeps
answering `mmrctl status`; SIGHUP applies the config's log_level (error: an info line is no longer
written; info again: it is); `mmrctl log level debug|info|warning|error` changes the level at run
time and says the old one; a bad level is refused (exit 1); a bad log_level in the file refuses
the start (exit 2); log_target = "syslog" writes nothing on stderr. Negative check: the same info line IS written at level info, so the
suppression check can fail.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
BUILD = os.environ.get('MMR_BUILD', os.path.join(ROOT, 'build'))
CTL = os.path.join(BUILD, 'mmr-controller')
CLI = os.path.join(BUILD, 'mmrctl')

failed = 0


def check(cond, what, detail=''):
    global failed
    print('%s %s%s' % ('ok  ' if cond else 'FAIL', what, (': ' + str(detail)) if not cond and detail != '' else ''),
          flush=True)
    failed += 0 if cond else 1
    return cond


def main():
    tmp = tempfile.mkdtemp(prefix='mmr-ctl-log-')
    sock = os.path.join(tmp, 'mmr.sock')
    conf = os.path.join(tmp, 'controller.conf')
    log = os.path.join(tmp, 'controller.log')
    base = 'socket = "%s";\nstate_file = "%s";\nshm_name = "/mmr-ctl-log-%d";\n' % (
        sock, os.path.join(tmp, 'state'), os.getpid())

    def write_conf(extra=''):
        with open(conf, 'w') as f:
            f.write(base + extra)

    def ctl(*args):
        cp = subprocess.run([CLI, '-S', sock] + list(args), capture_output=True, text=True, timeout=20)
        return cp.returncode, cp.stdout, cp.stderr

    def logged():
        return open(log).read()

    def wait_log(text, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in logged():
                return True
            time.sleep(0.02)
        return False

    # a bad log_level refuses the start
    write_conf('log_level = "loud";\n')
    cp = subprocess.run([CTL, '-c', conf], capture_output=True, text=True, timeout=20)
    check(cp.returncode == 2 and 'log_level must be debug, info, warning or error' in cp.stderr,
          'log_level = "loud": the controller refuses to start (exit 2)', '%d %s' % (cp.returncode, cp.stderr))

    write_conf()
    proc = subprocess.Popen([CTL, '-c', conf], stdin=subprocess.DEVNULL, stdout=open(log, 'wb'),
                            stderr=subprocess.STDOUT)
    try:
        if not check(wait_log('MMR-CONTROLLER READY'), 'the controller is ready', logged()[-2000:]):
            return
        # an info line: a failed request is logged ("-> error: ...")
        ctl('meeting', 'show', 'probe-info-1')
        check(wait_log('meeting show probe-info-1'), 'level info: an info line is written (negative control)')

        for i in range(3):
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.2)
            rc, out, err = ctl('status')
            check(rc == 0 and 'controller' in out and proc.poll() is None,
                  'SIGHUP #%d: still running and answering mmrctl status' % (i + 1), err or proc.poll())
        check(wait_log('SIGHUP: reloaded'), 'SIGHUP is logged as a reload')

        write_conf('log_level = "error";\n')
        proc.send_signal(signal.SIGHUP)
        check(wait_log('log level error (was info)'), 'SIGHUP applies log_level = "error"', logged()[-600:])
        ctl('meeting', 'show', 'probe-hidden')
        rc, out, err = ctl('--json', 'log', 'level', 'info')
        js = json.loads(out) if rc == 0 else {}
        check(js.get('was') == 'error' and js.get('level') == 'info', 'mmrctl log level info: was error', out + err)
        check('probe-hidden' not in logged(), 'level error: the info line is not written')
        ctl('meeting', 'show', 'probe-info-2')
        check(wait_log('meeting show probe-info-2'), 'level info again: the info line is written')

        for lv in ('debug', 'warning', 'error', 'info'):
            rc, out, err = ctl('log', 'level', lv)
            check(rc == 0 and out.startswith('log level %s' % lv), 'mmrctl log level %s' % lv, out + err)
        rc, out, err = ctl('log', 'level', 'loud')
        check(rc == 1 and 'must be debug, info, warning or error' in err, 'mmrctl log level loud: refused', out + err)

        write_conf('bogus_key = 1;\n')
        proc.send_signal(signal.SIGHUP)
        check(wait_log('nothing reloaded'), 'SIGHUP with a broken config: logged, nothing reloaded')
        rc, out, err = ctl('status')
        check(rc == 0 and proc.poll() is None, 'still answering after a broken config', err)
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(10) == 0, 'SIGTERM still stops it cleanly (exit 0)')

        # log_target = "syslog": the lines go to syslog(3), not to stderr
        write_conf('log_target = "syslog";\n')
        proc = subprocess.Popen([CTL, '-c', conf], stdin=subprocess.DEVNULL, stdout=open(log, 'wb'),
                                stderr=subprocess.STDOUT)
        deadline, rc = time.time() + 10, 1
        while time.time() < deadline and rc != 0 and proc.poll() is None:
            time.sleep(0.05)
            rc = ctl('status')[0]
        check(rc == 0, 'log_target = "syslog": the controller answers mmrctl status', logged()[-600:])
        check('MMR-CONTROLLER READY' not in logged(), 'log_target = "syslog": nothing on stderr', logged()[-600:])
        rc, out, err = ctl('log', 'level', 'warning')
        check(rc == 0 and 'goes to syslog' in out, 'mmrctl log level says the log goes to syslog', out + err)
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(10) == 0, 'and stops cleanly')
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    t0 = time.time()
    main()
    print('test_ctl_log: %s (%.1f s)' % ('%d failed' % failed if failed else 'all passed', time.time() - t0))
    sys.exit(1 if failed else 0)
