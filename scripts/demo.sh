#!/usr/bin/env bash
# demo.sh - run the demo meeting (scripts/demo.py) on virtual devices; argument: duration in seconds
# (empty or 0 = until Ctrl-C). Needs root (network namespace, DPDK) and a build (make progs).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "demo: needs root (DPDK, network namespaces)" >&2; exit 1; fi
exec /usr/bin/python3 scripts/demo.py "${1:-0}"
