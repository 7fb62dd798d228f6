#!/bin/bash
# test_bench_smoke.sh - `scripts/bench.sh --smoke`: every benchmark scenario of `make bench` runs once,
# briefly (mmr-gen, dataplane, controller, dpdk-testpmd over memif), and the JSON it writes has every
# key of the benchmark as a number. The figures are not judged here (they depend on the machine).
# Exit 0 on success, 1 on failure. Needs root, hugepages and a build (make progs build/mmr-gen).
set -u
cd "$(dirname "$0")/../.."
OUT=build/test-logs/bench-smoke.json
mkdir -p build/test-logs
rm -f "$OUT"
if [ ! -x build/mmr-gen ]; then
	echo "FAIL: build/mmr-gen not built (make progs build/mmr-gen)"
	exit 1
fi
start=$SECONDS
if ! timeout -k 10 210 scripts/bench.sh --smoke --out "$OUT"; then
	echo "FAIL: scripts/bench.sh --smoke failed"
	exit 1
fi
took=$((SECONDS - start))
/usr/bin/python3 - "$OUT" <<'PY' || exit 1
import json, math, sys
# the keys are bench.py's own list (importing it runs nothing: its main() is behind __name__)
sys.dont_write_bytecode = True   # no scripts/__pycache__ left by a root run
sys.path.insert(0, 'scripts')
import bench
keys = [k[0] for k in bench.KEYS]
d = json.load(open(sys.argv[1]))
bad = [k for k in keys if not isinstance(d.get(k), (int, float)) or isinstance(d.get(k), bool)
       or math.isnan(d[k])]
if bad:
    print('FAIL: missing or not numbers in %s: %s' % (sys.argv[1], ', '.join(bad)))
    sys.exit(1)
# handoff_cycles_per_pkt is a difference of two noisy figures: a number, of either sign
pos = [k for k in keys if k not in ('update_lost_packets', 'handoff_cycles_per_pkt') and d[k] <= 0]
if pos:
    print('FAIL: not positive: ' + ', '.join(pos))
    sys.exit(1)
print('all %d keys present' % len(keys))
PY
echo "PASS: bench smoke in ${took}s"
[ "$took" -lt 120 ] || echo "note: the smoke run took ${took}s (aim: under 120 s)"
exit 0
