#!/usr/bin/python3
"""
test_install.py - the packaged install (issue 14): `make deb`, `apt-get install ./mmr_*.deb` on this
machine, the installed units checked by `systemd-analyze verify`, the installed programs' --version,
the installed controller started the way its unit starts it (sd_notify READY=1, `mmrctl status`), and
`make install DESTDIR=... PREFIX=/usr` laying out the files. The package is purged at the end.

systemd is not PID 1 in this test machine's container: the units are verified, not started; the
controller runs directly with its unit's ExecStart (the config path swapped for a temporary one) and
NOTIFY_SOCKET pointing at a socket of ours; the installed dataplane runs on the harness's tap device
(tests/lib/mmrtest.py, a test config; run-all.sh holds the DPDK lock) and must send READY=1 too.
Negative checks: a unit with a typo must fail the same verify; a second `make install` must keep an
edited /etc/mmr config.
"""
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
VERSION = open(os.path.join(ROOT, 'VERSION')).read().strip()
UNITS = ['mmr-dataplane.service', 'mmr-controller.service']
CHECKS = mmrtest.Checks('test_install')
check = CHECKS.check


def run(cmd, **kw):
    kw.setdefault('cwd', ROOT)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def verify(paths):
    """systemd-analyze verify, strict: exit 0 and not one line about an mmr unit (a warning such as
    'Failed to parse ..., ignoring' counts as a failure too). Returns (ok, output)."""
    r = run(['systemd-analyze', 'verify'] + paths)
    mine = [l for l in r.stdout.splitlines() if 'mmr' in l]
    return r.returncode == 0 and not mine, r.stdout.strip()


def unit_value(path, key):
    for line in open(path):
        if line.startswith(key + '='):
            return line.split('=', 1)[1].strip()
    return None


def installed_tests(tmp):
    # --version of every installed program
    for prog in ['/usr/sbin/mmr-dataplane', '/usr/sbin/mmr-controller', '/usr/bin/mmrctl', '/usr/bin/mmr-gen']:
        r = run([prog, '--version'])
        want = '%s %s' % (os.path.basename(prog), VERSION)
        check(r.returncode == 0 and r.stdout.strip() == want, '%s --version prints "%s"' % (prog, want),
              'exit %d, %r' % (r.returncode, r.stdout))
    check(os.path.isfile('/etc/mmr/controller.conf') and os.path.isfile('/etc/mmr/dataplane.conf'),
          'the package installed /etc/mmr/controller.conf and dataplane.conf')
    st = os.stat('/var/lib/mmr')
    check(oct(st.st_mode & 0o777) == '0o700', '/var/lib/mmr is 0700', oct(st.st_mode & 0o777))
    for page in ['/usr/share/man/man8/mmr-dataplane.8.gz', '/usr/share/man/man8/mmr-controller.8.gz',
                 '/usr/share/man/man1/mmrctl.1.gz']:
        r = run(['man', '--warnings', '-l', page], env=dict(os.environ, MANWIDTH='100', LC_ALL='C.UTF-8'))
        check(r.returncode == 0 and 'SYNOPSIS' in r.stdout and 'SEE ALSO' in r.stdout
              and 'warning:' not in r.stdout, 'man page %s renders (synopsis, see also, no groff '
              '"warning:" lines)' % page, r.stdout[-300:])

    # the units: systemd is not PID 1 here, so they are verified, not started
    comm = open('/proc/1/comm').read().strip()
    print('note: PID 1 is %r, not systemd: the units are verified with systemd-analyze, not started' % comm
          if comm != 'systemd' else 'note: systemd is PID 1')
    paths = ['/lib/systemd/system/' + u for u in UNITS]
    ok, out = verify(paths)
    check(ok, 'systemd-analyze verify of the installed units', out)
    for u in paths:
        check(unit_value(u, 'Type') == 'notify' and unit_value(u, 'Restart') == 'on-failure'
              and unit_value(u, 'ExecReload') == '/bin/kill -HUP $MAINPID',
              '%s: Type=notify, Restart=on-failure, ExecReload=kill -HUP' % u)
    check('dpdk.service' in (unit_value(paths[0], 'After') or '') and
          'dpdk.service' in (unit_value(paths[0], 'Wants') or ''), 'the dataplane unit wants and follows dpdk.service')
    check('mmr-dataplane.service' in (unit_value(paths[1], 'After') or ''), 'the controller unit follows the dataplane')
    # negative: the same verify must catch a typo (a value and a key); the untouched copy, in the same
    # place, passes (so it is the typo that fails)
    for old, new in [('', ''), ('Type=notify', 'Type=notfy'), ('ExecStart=', 'ExecStrt=')]:
        bad = os.path.join(tmp, 'typo', 'mmr-controller.service')
        os.makedirs(os.path.dirname(bad), exist_ok=True)
        with open(bad, 'w') as f:
            f.write(open(paths[1]).read().replace(old, new, 1) if old else open(paths[1]).read())
        ok, out = verify([bad])
        if not old:
            check(ok, 'systemd-analyze verify passes the untouched copy of the unit', out)
        else:
            check(not ok, 'systemd-analyze verify fails a unit with %r for %r' % (new, old), 'it passed: ' + out)

    # the controller started the way its unit starts it, with a temporary config
    sock = os.path.join(tmp, 'mmr.sock')
    conf = os.path.join(tmp, 'controller.conf')
    with open(conf, 'w') as f:
        f.write('socket = "%s";\nstate_file = "%s";\nshm_name = "/mmr-inst-%d";\n'
                % (sock, os.path.join(tmp, 'state'), os.getpid()))
    argv = shlex.split(unit_value(paths[1], 'ExecStart'))
    check(argv[0] == '/usr/sbin/mmr-controller' and '/etc/mmr/controller.conf' in argv,
          'the controller unit runs /usr/sbin/mmr-controller -c /etc/mmr/controller.conf', ' '.join(argv))
    argv = [conf if a == '/etc/mmr/controller.conf' else a for a in argv]
    nsock_path = os.path.join(tmp, 'notify')
    nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    nsock.bind(nsock_path)
    nsock.settimeout(10)
    log = open(os.path.join(tmp, 'controller.log'), 'w+')
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, NOTIFY_SOCKET=nsock_path))
    try:
        try:
            msg = nsock.recv(4096).decode()
        except socket.timeout:
            msg = ''
        check('READY=1' in msg.split('\n'), 'the installed controller sends sd_notify READY=1', repr(msg))
        check(os.path.exists(sock), 'its socket listens when READY=1 arrives')
        r = run(['/usr/bin/mmrctl', '-S', sock, 'status'])
        check(r.returncode == 0 and 'controller' in r.stdout, 'mmrctl status answers from the installed controller',
              'exit %d: %s' % (r.returncode, r.stdout[-300:]))
        r = run(['/usr/bin/mmrctl', '-S', sock, '--json', 'status'])
        check(r.returncode == 0 and r.stdout.lstrip().startswith('{'), 'mmrctl --json status answers JSON', r.stdout[-300:])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        nsock.close()
    check(rc == 0, 'the controller stops cleanly on SIGTERM (exit 0)', 'exit %s' % rc)
    # the installed dataplane on the harness's tap device (its network namespace; run-all.sh holds the
    # DPDK lock): READY=1 comes with its READY line
    bindir = os.path.join(tmp, 'installed-bin')
    os.makedirs(bindir)
    for prog in ['/usr/sbin/mmr-dataplane', '/usr/sbin/mmr-controller', '/usr/bin/mmrctl']:
        os.symlink(prog, os.path.join(bindir, os.path.basename(prog)))
    dsock_path = os.path.join(tmp, 'notify-dp')
    dsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dsock.bind(dsock_path)
    dsock.settimeout(5)
    os.environ['NOTIFY_SOCKET'] = dsock_path
    try:
        with mmrtest.MmrEnv('install', build=bindir, controller=False):
            try:
                msg = dsock.recv(4096).decode()
            except socket.timeout:
                msg = ''
            check('READY=1' in msg.split('\n'), 'the installed dataplane sends sd_notify READY=1 once ready',
                  repr(msg))
    except mmrtest.HarnessError as e:
        check(False, 'the installed dataplane starts on a tap device and stops cleanly', str(e))
    finally:
        del os.environ['NOTIFY_SOCKET']
        dsock.close()
    # without NOTIFY_SOCKET sd_notify is a no-op: --version and a bad config behave as before
    r = run(['/usr/sbin/mmr-controller', '-c', os.path.join(tmp, 'missing.conf')])
    check(r.returncode == 2 and 'error' in r.stdout, 'a missing config is an error (exit 2)', r.stdout)


def make_install_tests(tmp):
    dest = os.path.join(tmp, 'dest')
    r = run(['make', '-s', 'install', 'DESTDIR=' + dest, 'PREFIX=/usr'])
    if not check(r.returncode == 0, 'make install DESTDIR=... PREFIX=/usr', r.stdout[-500:]):
        return
    want = ['usr/sbin/mmr-dataplane', 'usr/sbin/mmr-controller', 'usr/bin/mmrctl', 'usr/bin/mmr-gen',
            'usr/share/man/man8/mmr-dataplane.8', 'usr/share/man/man8/mmr-controller.8',
            'usr/share/man/man1/mmrctl.1', 'etc/mmr/dataplane.conf', 'etc/mmr/controller.conf',
            'lib/systemd/system/mmr-dataplane.service', 'lib/systemd/system/mmr-controller.service']
    missing = [w for w in want if not os.path.isfile(os.path.join(dest, w))]
    check(not missing, 'make install lays out binaries, man pages, configs, units', 'missing %s' % missing)
    for b in want[:4]:
        check(os.access(os.path.join(dest, b), os.X_OK), '%s is executable' % b)
    st = os.stat(os.path.join(dest, 'var/lib/mmr'))
    check(oct(st.st_mode & 0o777) == '0o700', 'make install makes var/lib/mmr 0700', oct(st.st_mode & 0o777))
    check(unit_value(os.path.join(dest, 'lib/systemd/system/mmr-controller.service'), 'ExecStart')
          .startswith('/usr/sbin/mmr-controller '), 'the installed unit runs PREFIX/sbin/mmr-controller')
    # an existing config is never overwritten
    edited = os.path.join(dest, 'etc/mmr/controller.conf')
    with open(edited, 'a') as f:
        f.write('# edited by the operator\n')
    r = run(['make', '-s', 'install', 'DESTDIR=' + dest, 'PREFIX=/usr'])
    check(r.returncode == 0 and open(edited).read().endswith('# edited by the operator\n'),
          'a second make install keeps the edited /etc/mmr/controller.conf', r.stdout[-300:])
    # PREFIX moves the binaries and the units' ExecStart, not /etc
    dest2 = os.path.join(tmp, 'dest2')
    r = run(['make', '-s', 'install', 'DESTDIR=' + dest2])
    check(r.returncode == 0 and os.path.isfile(os.path.join(dest2, 'usr/local/sbin/mmr-dataplane'))
          and os.path.isfile(os.path.join(dest2, 'etc/mmr/dataplane.conf'))
          and unit_value(os.path.join(dest2, 'lib/systemd/system/mmr-dataplane.service'), 'ExecStart')
          .startswith('/usr/local/sbin/mmr-dataplane '), 'default PREFIX=/usr/local: sbin and ExecStart there',
          r.stdout[-300:])


def main():
    if os.geteuid() != 0:
        print('FAIL test_install needs root (apt-get install)')
        return 1
    for tool in ['systemd-analyze', 'dpkg-deb', 'dpkg-shlibdeps', 'apt-get']:
        if not shutil.which(tool):
            print('FAIL %s is missing (scripts/install-deps.sh installs it)' % tool)
            return 1
    tmp = tempfile.mkdtemp(prefix='mmr-install-')
    installed = False
    try:
        t0 = time.time()
        r = run(['make', '-s', 'deb', 'DEB_DIR=' + tmp])
        debs = [f for f in os.listdir(tmp) if f.endswith('.deb')]
        want = 'mmr_%s_amd64.deb' % VERSION
        if not check(r.returncode == 0 and debs == [want], 'make deb builds %s (%.0f s)' % (want, time.time() - t0),
                     'exit %d, %s: %s' % (r.returncode, debs, r.stdout[-800:])):
            return 1
        deb = os.path.join(tmp, want)
        deps = run(['dpkg-deb', '-f', deb, 'Depends']).stdout
        for lib in ['libc6', 'librte-eal', 'librte-ethdev', 'librte-mempool-ring', 'liburcu8', 'libconfig9',
                    'libssl3', 'libmicrohttpd12', 'libjansson4', 'libsystemd0']:
            check(lib in deps, 'Depends names %s' % lib, deps)
        conff = run(['dpkg-deb', '-I', deb, 'conffiles']).stdout.split()
        check(sorted(conff) == ['/etc/mmr/controller.conf', '/etc/mmr/dataplane.conf'],
              'conffiles are /etc/mmr/*.conf', str(conff))

        if run(['dpkg-query', '-W', 'mmr']).returncode == 0:
            print('note: an earlier mmr package is installed: purged first')
            run(['apt-get', 'purge', '-y', 'mmr'])
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        r = run(['apt-get', 'install', '-y', '--no-install-recommends', deb], env=env)
        installed = run(['dpkg-query', '-W', '-f=${Status} ${Version}', 'mmr']).stdout == \
            'install ok installed ' + VERSION
        if check(r.returncode == 0 and installed, 'apt-get install ./%s (dependencies resolved)' % want,
                 r.stdout[-800:]):
            installed_tests(tmp)
        make_install_tests(tmp)
    finally:
        if installed:
            r = run(['apt-get', 'purge', '-y', 'mmr'], env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))
            check(r.returncode == 0 and not os.path.exists('/usr/sbin/mmr-controller'),
                  'apt-get purge mmr removes the package', r.stdout[-300:])
        shutil.rmtree(tmp, ignore_errors=True)
    CHECKS.done()


if __name__ == '__main__':
    sys.exit(main())
