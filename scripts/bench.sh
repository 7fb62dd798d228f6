#!/usr/bin/env bash
# bench.sh - `make bench`: the MMR's capacity benchmarks on this machine (scripts/bench.py, described
# in docs/bench.md); prints a table and writes build/bench.json. `--smoke` runs every scenario once,
# briefly, and fails if a key is missing. Needs root and a build (make progs build/mmr-gen).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "bench: needs root (DPDK, hugepages)" >&2; exit 2; fi
exec /usr/bin/python3 scripts/bench.py "$@"
