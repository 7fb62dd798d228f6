#!/usr/bin/python3
"""
test_doctor.py - `mmrctl doctor` (issue 14): no controller, no DPDK. Runs it on this host (it must not
crash and must say what it finds, a missing DPDK NIC included), then on fake /proc and /sys trees
(--root): a well set-up host (every check ok, exit 0, a live controller socket) and a broken one
(no hugepages, no hugetlbfs, the allowed NIC on a kernel driver, no IOMMU, an lcore that is not online,
workers not isolated, a stale socket: each a FAIL or warn with its fix, exit 1), a dataplane config
with a syntax error (FAIL with FILE:LINE), --json for both, and usage errors (text and JSON).
"""
import json
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
BUILD = os.environ.get('MMR_BUILD', os.path.join(ROOT, 'build'))
MMRCTL = os.path.join(BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD), 'mmrctl')
CHECKS = mmrtest.Checks('test_doctor')
check = CHECKS.check


def doctor(*args):
    return subprocess.run([MMRCTL] + list(args), capture_output=True, text=True, timeout=30)


def results(out):
    """{check: (level, line)} from the text output (a check seen twice keeps its worst line)."""
    r = {}
    for line in out.splitlines()[:-1]:
        level, rest = line.split(None, 1)
        name = rest.split(': ', 1)[0]
        if name not in r or level == 'FAIL':
            r[name] = (level, line)
    return r


def write(root, path, text):
    p = os.path.join(root, path.lstrip('/'))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'w') as f:
        f.write(text)


def fake_host(root, good):
    write(root, '/proc/meminfo', 'MemTotal: 8000000 kB\nHugePages_Total: %d\nHugePages_Free: %d\n'
          'Hugepagesize: 2048 kB\n' % ((1024, 1000) if good else (0, 0)))
    write(root, '/proc/mounts', 'proc /proc proc rw 0 0\n' +
          ('hugetlbfs /dev/hugepages hugetlbfs rw,pagesize=2M 0 0\n' if good else ''))
    write(root, '/proc/cmdline', 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ' +
          ('intel_iommu=on iommu=pt isolcpus=managed_irq,domain,2-3 nohz_full=2-3 rcu_nocbs=2-3\n' if good
           else 'quiet\n'))
    write(root, '/lib/systemd/system/dpdk.service', '[Unit]\n')
    if good:
        os.makedirs(os.path.join(root, 'etc/systemd/system/multi-user.target.wants'))
        os.symlink('/lib/systemd/system/dpdk.service',
                   os.path.join(root, 'etc/systemd/system/multi-user.target.wants/dpdk.service'))
        os.makedirs(os.path.join(root, 'sys/bus/pci/drivers/vfio-pci'))
        for g in ('0', '1'):
            os.makedirs(os.path.join(root, 'sys/kernel/iommu_groups', g))
        write(root, '/dev/shm/mmr-dp0', '')
    else:
        os.makedirs(os.path.join(root, 'sys/kernel/iommu_groups'))
    write(root, '/sys/devices/system/cpu/online', '0-3\n')
    nic = os.path.join(root, 'sys/bus/pci/devices/0000:01:00.0')
    write(root, '/sys/bus/pci/devices/0000:01:00.0/class', '0x020000\n')
    os.symlink('../../../bus/pci/drivers/' + ('vfio-pci' if good else 'ixgbe'), os.path.join(nic, 'driver'))
    write(root, '/sys/bus/pci/devices/0000:00:1f.0/class', '0x060100\n')   # not a NIC: ignored
    write(root, '/etc/mmr/dataplane.conf', 'shm_name = "/mmr-dp0";\neal = [ "-l", "%s", "-a", "0000:01:00.0" ];\n'
          % ('1-3' if good else '0,1,5'))
    os.makedirs(os.path.join(root, 'run/mmr'))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(root, 'run/mmr/mmr.sock'))
    if good:
        s.listen(1)
        return s
    s.close()   # the file stays: a stale socket
    return None


def main():
    if not check(os.access(MMRCTL, os.X_OK), 'mmrctl built', MMRCTL):
        return 1

    # this host: whatever it has, doctor reports it line by line and does not crash
    cp = doctor('doctor')
    lines = cp.stdout.splitlines()
    check(cp.returncode in (0, 1) and not cp.stderr, 'doctor on this host exits 0 or 1, nothing on stderr',
          'rc %d, %s' % (cp.returncode, cp.stderr[:200]))
    check(all(l.split()[0] in ('ok', 'warn', 'FAIL') for l in lines[:-1]) and 'checks:' in lines[-1],
          'every line is ok/warn/FAIL, a summary last', cp.stdout[-500:])
    r = results(cp.stdout)
    nic_ok = any(v[0] == 'ok' and 'driver vfio-pci' in v[1] for k, v in r.items() if k.startswith('nic '))
    check(nic_ok or r.get('nics', ('',))[0] == 'FAIL', 'no DPDK NIC here is said clearly (a nics FAIL)',
          cp.stdout)
    check(cp.returncode == (1 if any(v[0] == 'FAIL' for v in r.values()) else 0), 'exit 1 iff a FAIL line')
    print(cp.stdout, end='')
    cp = doctor('--json', 'doctor')
    try:
        j = json.loads(cp.stdout)
        check(len(j['checks']) == len(lines) - 1 and j['fail'] == sum(c['result'] == 'FAIL' for c in j['checks']),
              '--json doctor: the same checks, the fail count')
    except (ValueError, KeyError) as e:
        check(False, '--json doctor is JSON', '%s: %s' % (e, cp.stdout[:300]))

    with tempfile.TemporaryDirectory(prefix='mmr-doctor-') as tmp:
        good, bad = os.path.join(tmp, 'good'), os.path.join(tmp, 'bad')
        lsock = fake_host(good, True)
        fake_host(bad, False)

        cp = doctor('doctor', '--root', good)
        r = results(cp.stdout)
        check(cp.returncode == 0 and all(v[0] == 'ok' for v in r.values()), 'good host: every check ok, exit 0',
              'rc %d\n%s%s' % (cp.returncode, cp.stdout, cp.stderr))
        for name in ('hugepages', 'hugetlbfs', 'dpdk.service', 'dataplane config', 'nic 0000:01:00.0', 'vfio-pci',
                     'iommu', 'lcores', 'cpu isolation', 'shared segment', 'controller socket'):
            check(name in r, 'good host: a %s line' % name, cp.stdout)
        check('nic 0000:00:1f.0' not in r, 'a PCI device that is not a NIC is not listed')
        check('accepts connections' in r.get('controller socket', ('', ''))[1], 'good host: live socket seen')
        lsock.close()

        cp = doctor('doctor', '--root', bad)
        r = results(cp.stdout)
        check(cp.returncode == 1, 'broken host: exit 1', 'rc %d' % cp.returncode)
        for name, level, words in (
                ('hugepages', 'FAIL', 'NR_2M_PAGES'), ('hugetlbfs', 'FAIL', 'mount -t hugetlbfs'),
                ('dpdk.service', 'warn', 'systemctl enable'),
                ('nic 0000:01:00.0', 'FAIL', 'dpdk-devbind.py -b vfio-pci 0000:01:00.0'),
                ('nics', 'FAIL', 'none bound'), ('iommu', 'FAIL', 'intel_iommu=on'),
                ('lcores', 'FAIL', 'CPU(s) 5 not online'), ('cpu isolation', 'warn', 'isolcpus=1,5'),
                ('shared segment', 'warn', 'not running'), ('controller socket', 'FAIL', 'stale')):
            got = r.get(name, ('missing', ''))
            check(got[0] == level and words in got[1], 'broken host: %s is %s and says %r' % (name, level, words),
                  got[1] or cp.stdout)
        cp = doctor('--json', 'doctor', '--root', bad)
        try:
            j = json.loads(cp.stdout)
            fails = [c for c in j['checks'] if c['result'] == 'FAIL']
            check(cp.returncode == 1 and j['fail'] == len(fails) == 7 and all(c.get('fix') for c in fails),
                  '--json broken host: 7 FAIL checks, each with a fix', cp.stdout[:600])
        except (ValueError, KeyError) as e:
            check(False, '--json broken host is JSON', '%s: %s' % (e, cp.stdout[:300]))

        conf = os.path.join(tmp, 'broken.conf')
        with open(conf, 'w') as f:
            f.write('shm_name = "/x";\neal = [ "-l", "0,1" \n')
        cp = doctor('doctor', '--root', good, '--dataplane-config', conf)
        r = results(cp.stdout)
        got = r.get('dataplane config', ('missing', ''))
        check(cp.returncode == 1 and got[0] == 'FAIL' and conf + ':' in got[1],
              'a config syntax error is a FAIL with FILE:LINE', got[1] or cp.stdout)
        cp = doctor('doctor', '--root', good, '--dataplane-config', os.path.join(tmp, 'none.conf'))
        check(cp.returncode == 1 and results(cp.stdout).get('dataplane config', ('',))[0] == 'FAIL',
              'a named config that is missing is a FAIL')

    cp = doctor('doctor', '--bogus')
    check(cp.returncode == 1 and cp.stderr.startswith('error: usage: mmrctl') and not cp.stdout,
          'a bad argument: exit 1, one error line', cp.stderr)
    cp = doctor('--json', 'doctor', '--root', 'relative')
    try:
        e = json.loads(cp.stderr)
        check(cp.returncode == 1 and e['code'] == 'usage' and e['status'] == 1 and 'absolute' in e['error'],
              '--json usage error: one JSON object, exit 1', cp.stderr)
    except ValueError:
        check(False, '--json usage error is JSON', cp.stderr)

    CHECKS.done()


if __name__ == '__main__':
    sys.exit(main())
