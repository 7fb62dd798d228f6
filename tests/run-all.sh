#!/bin/bash
# run-all.sh - run every mmr test and end with one line "N passed, N failed".
#
# Suites, in order: the cmocka unit binaries (build/tests/test_*, one test each), the same built with
# AddressSanitizer (build-asan/tests/test_*, if built), the controller CLI test, the integration tests
# (tests/integration/test_*.py; test_stress runs the build-asan/ controller and the build-check/
# self-check dataplane) and their negative controls, the end-to-end tests (tests/e2e/test_*.py) and
# the e2e checks' negative controls (tests/e2e/selfcheck_*.py, simulcast_selfcheck.py), and `make fuzz
# FUZZ_SECONDS=5` as one test when clang is installed (`make fuzz` alone: 20 s each).
# Each test runs under a timeout with its output in build/test-logs/<name>.log; the console gets one
# PASS/FAIL line with its duration (and the log's last 40 lines on FAIL). Exit status 1 if any failed.
#
#   tests/run-all.sh                 everything
#   tests/run-all.sh forwarding unit only the tests whose name contains one of the words
#
# Python tests run under /usr/bin/python3 (GStreamer's gi lives there). Needs root for the
# integration tests (network namespaces, DPDK).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LOGS=$ROOT/build/test-logs
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
[ -x "$PY" ] || PY=python3
mkdir -p "$LOGS"

FUZZ_SECONDS=${FUZZ_SECONDS:-5}
passed=0
failed=0
skipped=0
failed_names=()
filters=("$@")

selected() {
	[ ${#filters[@]} -eq 0 ] && return 0
	local f
	for f in "${filters[@]}"; do
		case "$1" in *"$f"*) return 0 ;; esac
	done
	return 1
}

# run_logged NAME TIMEOUT_S CMD...: run CMD under the timeout with its output in NAME's log; sets
# rc, dt (seconds) and log for the caller, which decides what passes.
run_logged() {
	local name=$1 limit=$2
	shift 2
	log=$LOGS/$name.log
	mkdir -p "$(dirname "$log")"
	local t0=$EPOCHREALTIME
	timeout -k 15 "$limit" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
}

# verdict NAME OK NOTE WHY: count and print one PASS or FAIL line (with the log's tail on FAIL).
verdict() {
	if [ "$2" = 1 ]; then
		passed=$((passed + 1))
		printf 'PASS %-44s %6ss%s\n' "$1" "$dt" "$3"
	else
		failed=$((failed + 1))
		failed_names+=("$1")
		printf 'FAIL %-44s %6ss (%s, log %s)\n' "$1" "$dt" "$4" "${log#$ROOT/}"
		tail -n 40 "$log" | sed 's/^/    | /'
	fi
}

# run_test NAME TIMEOUT_S CMD...: passes when CMD exits 0.
run_test() {
	local name=$1 limit=$2
	selected "$name" || return 0
	run_logged "$@"
	local why="exit $rc"
	[ $rc -eq 124 ] || [ $rc -eq 137 ] && why="timed out after ${limit}s"
	verdict "$name" "$([ $rc -eq 0 ] && echo 1)" '' "$why"
}

# run_negative NAME TIMEOUT PATTERN CMD...: a negative control, which PASSES when CMD FAILS the way it
# must: exit 1 with a line matching PATTERN (grep -E) in its output, i.e. the check that catches the
# planted defect failed; a timeout, a crash or a failure elsewhere is a failure.
run_negative() {
	local name=$1 limit=$2 pattern=$3
	shift 3
	selected "$name" || return 0
	run_logged "$name" "$limit" "$@"
	verdict "$name" "$([ $rc -eq 1 ] && grep -Eq -- "$pattern" "$log" && echo 1)" ' (failed as it must)' \
		"a negative control must fail with exit 1 and /$pattern/, got exit $rc"
}

skip() {
	selected "$1" || return 0
	skipped=$((skipped + 1))
	printf 'SKIP %-44s (%s)\n' "$1" "$2"
}

# leftovers of test processes that were killed (netns, shm segments of dead pids)
$PY -c "import sys; sys.path.insert(0, 'tests/lib'); import mmrtest; mmrtest.cleanup_stale()" 2>/dev/null

# ---- unit tests --------------------------------------------------------------------------------
found=0
for t in build/tests/test_*; do
	[ -x "$t" ] || continue
	found=1
	run_test "unit/$(basename "$t")" 120 "$t"
done
[ $found -eq 1 ] || skip unit "no build/tests/test_* (run make)"

for t in build-asan/tests/test_*; do
	[ -x "$t" ] || continue
	run_test "asan-unit/$(basename "$t")" 300 env ASAN_OPTIONS=detect_leaks=1 "$t"
done

# ---- controller CLI ------------------------------------------------------------------------------
if [ -f tests/integration/test_controller_cli.sh ]; then
	run_test integration/test_controller_cli 420 bash tests/integration/test_controller_cli.sh
else
	skip integration/test_controller_cli "tests/integration/test_controller_cli.sh missing"
fi

# ---- integration on DPDK virtual devices --------------------------------------------------------------
# (test_dtls_srtp needs no DPDK: lib/dtls against openssl s_client/s_server on 127.0.0.1)
for t in tests/integration/test_*.py; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .py)
	limit=300
	args=()
	# the stress test's dataplane is the self-check build (make selfcheck)
	[ "$n" = test_stress ] && limit=420 && args=(--selfcheck)
	# the ICE-lite test on the self-check dataplane too (ICE participants without an address share a key)
	[ "$n" = test_ice_lite ] && args=(--selfcheck)
	# receive slots on the self-check dataplane too (the shadow's slot rules checked per batch)
	[ "$n" = test_slots ] && args=(--selfcheck)
	# DTLS too: the DTLS thread and its key installs under ASan and the table self-check
	[ "$n" = test_dtls_ingress ] && args=(--selfcheck)
	run_test "integration/$n" "$limit" "$PY" "$t" "${args[@]}"
done
# DTLS accepted from a recent ICE check's source alone (the controller never learns the address)
[ -f tests/integration/test_dtls_ingress.py ] &&
	run_test integration/test_dtls_ingress--no-learn 300 "$PY" tests/integration/test_dtls_ingress.py --no-learn
# negative controls: a test run with a planted defect must fail
[ -f tests/integration/test_srtp_keystream.py ] &&
	run_negative integration/test_srtp_keystream--forget-ledger 300 '^FAIL .*no \(key, SSRC, index\) sent twice' \
		"$PY" tests/integration/test_srtp_keystream.py --forget-ledger
[ -f tests/integration/test_ctl_fencing.py ] &&
	run_negative integration/test_ctl_fencing--negative-wipe 300 '^FAIL 1: the tables keep their 2 participants: got 0, want 2$' \
		"$PY" tests/integration/test_ctl_fencing.py --negative-wipe
[ -f tests/integration/test_http_api.py ] &&
	run_negative integration/test_http_api--no-auth 300 '^FAIL 401 for forged signature' \
		"$PY" tests/integration/test_http_api.py --no-auth
[ -f tests/integration/test_access.py ] &&
	run_negative integration/test_access--no-auth 300 '^FAIL viewer reads the meeting: 403 \(permission view\): 200 ' \
		"$PY" tests/integration/test_access.py --no-auth
[ -f tests/integration/test_control_api.py ] &&
	run_negative integration/test_control_api--no-auth 300 '^FAIL no token: POST /v1/meetings/m1/participants/alice/mute: got 200, want 401$' \
		"$PY" tests/integration/test_control_api.py --no-auth
# cascading: trunks without RTCP feedback, so the loss on the trunk is not repaired
[ -f tests/integration/test_cascade.py ] &&
	run_negative integration/test_cascade--rtcp-off 300 '^FAIL carol \(B\): every video packet of alice, the ones lost' \
		"$PY" tests/integration/test_cascade.py --rtcp-off
# ... and hosts with different zone secrets: the SRTP trunk keys differ, nothing crosses
[ -f tests/integration/test_cascade.py ] &&
	run_negative integration/test_cascade--split-secret 300 "^FAIL the trunks' SRTP keys mirror each other" \
		"$PY" tests/integration/test_cascade.py --split-secret
# the zone in etcd: registration without a lease, so a killed host never leaves the zone
[ -f tests/integration/test_zone.py ] &&
	run_negative integration/test_zone--no-lease 300 '^FAIL host mmr-c left the zone after SIGKILL of its controller' \
		"$PY" tests/integration/test_zone.py --no-lease
# failover: nothing placed again, so a killed host's meetings stay lost
[ -f tests/integration/test_zone_failover.py ] &&
	run_negative integration/test_zone_failover--no-failover 300 '^FAIL meeting .* of the killed host placed again after SIGKILL of mmr-c' \
		"$PY" tests/integration/test_zone_failover.py --no-failover
# a meeting's controls: not written to the zone, so an ejected identity joins the moved meeting
[ -f tests/integration/test_zone_controls.py ] &&
	run_negative integration/test_zone_controls--no-controls 300 '^FAIL the ejected identity mallory refused on the new host' \
		"$PY" tests/integration/test_zone_controls.py --no-controls
[ -f tests/integration/test_ctl_journal.py ] &&
	run_negative integration/test_ctl_journal--ack-early 300 '^FAIL .*acknowledged change lost' \
		"$PY" tests/integration/test_ctl_journal.py --ack-early
[ -f tests/integration/test_nack.py ] &&
	run_negative integration/test_nack--rtcp-off 300 '^FAIL bob: NACK of .* exactly those bytes again' \
		"$PY" tests/integration/test_nack.py --rtcp-off
[ -f tests/integration/test_audio.py ] &&
	run_negative integration/test_audio--no-levels 300 '^FAIL dominant speaker: alice talking' \
		"$PY" tests/integration/test_audio.py --no-levels
[ -f tests/integration/test_ice_lite.py ] &&
	run_negative integration/test_ice_lite--no-learn 300 "^FAIL bob's address learned from the check" \
		"$PY" tests/integration/test_ice_lite.py --no-learn
[ -f tests/integration/test_dtls_ingress.py ] &&
	run_negative integration/test_dtls_ingress--wrong-fp 300 "^FAIL bob's media both ways" \
		"$PY" tests/integration/test_dtls_ingress.py --wrong-fp
[ -f tests/integration/test_ssrc_learning.py ] &&
	run_negative integration/test_ssrc_learning--no-clamp 300 '^FAIL rx \(ceiling f\) gets encoding h while f is not learned' \
		"$PY" tests/integration/test_ssrc_learning.py --no-clamp
[ -f tests/integration/test_slots.py ] &&
	run_negative integration/test_slots--no-kf-request 300 '^FAIL plain: R got video on its slot' \
		"$PY" tests/integration/test_slots.py --no-kf-request
[ -f tests/integration/test_controls.py ] &&
	run_negative integration/test_controls--no-mute 300 '^FAIL muted audio: no copy at all' \
		"$PY" tests/integration/test_controls.py --no-mute
[ -f tests/integration/test_wire_checks.py ] &&
	run_negative integration/test_wire_checks--no-verify 300 '^FAIL drops.udp_checksum: got 0, want 12$' \
		"$PY" tests/integration/test_wire_checks.py --no-verify
[ -f tests/integration/test_bwe.py ] &&
	run_negative integration/test_bwe--bwe-off 300 '^FAIL bob: its transport-wide seqs are consecutive' \
		"$PY" tests/integration/test_bwe.py --bwe-off
# the dataplane's table self-check must catch a shadow list corrupted once (self-check build only)
[ -f tests/integration/test_selfcheck.py ] &&
	run_negative integration/test_selfcheck--corrupt 300 '^FAIL table self-check.*SELF-CHECK FAILED' \
		"$PY" tests/integration/test_selfcheck.py --corrupt

# ---- a short smoke run of make bench (every scenario briefly; bench.json has every key) -----------------
if [ -f tests/integration/test_bench_smoke.sh ]; then
	run_test integration/test_bench_smoke 300 bash tests/integration/test_bench_smoke.sh
fi

# ---- end to end with real GStreamer clients ------------------------------------------------------------
for t in tests/e2e/test_*.py; do
	[ -f "$t" ] || continue
	run_test "e2e/$(basename "$t" .py)" 420 "$PY" "$t"
done
# issue 11's negative control: the same lossy run with the dataplane's RTCP off must fail the checks
[ -f tests/e2e/test_rtcp_loss.py ] &&
	run_negative e2e/test_rtcp_loss--rtcp-off 420 '^ +- (decoded [0-9]+ of [0-9]+ frames .*want >= 95 %|froze .*want <= 1\.0 s)' \
		"$PY" tests/e2e/test_rtcp_loss.py --rtcp-off
# and the same with the live VP9 SVC publisher and receivers at S2, S1 and S0 -> S2
[ -f tests/e2e/test_vp9_loss.py ] &&
	run_negative e2e/test_vp9_loss--rtcp-off 300 '^ +- (decoded [0-9]+ of [0-9]+ frames .*want >= 95 %|froze .*want <= 1\.0 s)' \
		"$PY" tests/e2e/test_vp9_loss.py --rtcp-off
[ -f tests/e2e/test_bwe_svc.py ] &&
	run_negative e2e/test_bwe_svc--bwe-off 300 '^FAIL r300: settled on the highest layers that fit' \
		"$PY" tests/e2e/test_bwe_svc.py --bwe-off
# issue 12's audio negative control: participants without `--ext audio-level` (the same packets): the
# dominant speaker must not follow the talker
[ -f tests/e2e/test_speaker.py ] &&
	run_negative e2e/test_speaker--no-level-ext 300 '^FAIL dominant speaker follows the talker' \
		"$PY" tests/e2e/test_speaker.py --no-level-ext
# issue 15's negative control: the same call without `participant mute`: alice's Opus keeps arriving
[ -f tests/e2e/test_controls_e2e.py ] &&
	run_negative e2e/test_controls_e2e--no-mute 300 '^FAIL \(b\) muted audio: no copy of alice' \
		"$PY" tests/e2e/test_controls_e2e.py --no-mute
# the e2e checks' own negative controls: the same senders, receivers and checks without the MMR
# (a Python relay on 127.0.0.1), ideal (must pass) and with planted defects (each must fail for its
# reason); each exits 0 only if every scenario came out as stated
for t in tests/e2e/selfcheck_*.py tests/e2e/simulcast_selfcheck.py; do
	[ -f "$t" ] || continue
	run_test "e2e/$(basename "$t" .py)" 420 "$PY" "$t"
done

# ---- fuzzing ----------------------------------------------------------------------------------------------
if command -v clang >/dev/null 2>&1; then
	if ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
		run_test fuzz 900 make --no-print-directory fuzz FUZZ_SECONDS="$FUZZ_SECONDS"
	else
		skip fuzz "no tests/fuzz/fuzz_*.c"
	fi
else
	skip fuzz "clang not installed"
fi

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
[ $skipped -gt 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
