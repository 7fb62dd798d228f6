#!/bin/bash
# test_controller_cli.sh - mmr-controller and mmrctl alone, no dataplane (no DPDK, no root needed
# except for the permission checks, which are skipped otherwise).
#
# Starts the controller on a temporary config (socket, state file, an shm name nobody creates) and
# drives it with mmrctl: every command's normal path, every error path (exit 1, one "error:" line,
# and the state file plus `meeting list`/`meeting show` unchanged afterwards), --json validity
# (python3 -m json.tool), usage errors, malformed protocol frames and half-sent requests, the
# socket's mode and SO_PEERCRED check, config errors (exit 2 with FILE:LINE), corrupt state files,
# a second controller, persistence across kill -9 and restart (also with requests in flight),
# SRTP meetings and their participants' keys (output format, rekey, refusals, keys nowhere else,
# state file mode 0600), SIGTERM; VP9/AV1/H.264 streams, spatial layers, decode targets and simulcast
# groups (commands, errors, sub list rows and current layers, persistence, version 2 and 3 state
# files), checked on the shm ring by a stand-in dataplane built from lib/contract/cmd_chan.c (needs cc); the
# SRTP ledger id (recorded in the state file, shown by status; a new ledger rekeys every SRTP
# participant before the replay, a failed save keeps the controller detached; version 3 files).
# Prints "PASS" or "FAIL: reason"; exit 0 / 1.
#
#   tests/integration/test_controller_cli.sh          uses build/ (MMR_BUILD=build-asan for ASan)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${MMR_BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CTL=$BUILD/mmr-controller
CLI=$BUILD/mmrctl
PY=python3

TMP=$(mktemp -d /tmp/mmr-cli-test.XXXXXX)
chmod 755 "$TMP"
SOCK=$TMP/run/mmr.sock
STATE=$TMP/lib/state
CONF=$TMP/controller.conf
LOG=$TMP/controller.log
OUT=$TMP/out
ERR=$TMP/err
CPID=
DPID=
CHECKS=0

cleanup() {
	[ -n "$CPID" ] && kill -9 "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -f "/dev/shm/mmr-cli-test-$$"
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	if [ -s "$LOG" ]; then
		echo "    controller log (last 15 lines):"
		tail -n 15 "$LOG" | sed 's/^/    | /'
	fi
	exit 1
}

step() { echo "-- $*"; }

for b in "$CTL" "$CLI"; do
	[ -x "$b" ] || fail "$b not built (run make)"
done
command -v $PY >/dev/null || fail "python3 needed for the JSON and protocol checks"

write_conf() {   # write_conf [socket_group]
	cat >"$CONF" <<EOF
# test_controller_cli.sh
socket = "$SOCK";
socket_group = "${1:-}";
state_file = "$STATE";
shm_name = "/mmr-cli-test-$$";
apply_timeout_ms = 300;
# a snapshot after every change, so that the state file shows each (the journal: test_ctl_journal.py)
journal_max_records = 1;
EOF
}

start_ctl() {
	local before
	before=$(grep -c 'MMR-CONTROLLER READY' "$LOG" 2>/dev/null)
	"$CTL" -c "$CONF" 2>>"$LOG" &
	CPID=$!
	for _ in $(seq 100); do
		[ "$(grep -c 'MMR-CONTROLLER READY' "$LOG" 2>/dev/null)" -gt "${before:-0}" ] && return 0
		kill -0 "$CPID" 2>/dev/null || fail "controller exited at start (see log)"
		sleep 0.05
	done
	fail "controller not ready after 5 s"
}

kill_ctl() {   # kill_ctl SIGNAL -> sets KILL_RC
	kill "-$1" "$CPID"
	wait "$CPID" 2>/dev/null
	KILL_RC=$?
	CPID=
}

# run mmrctl; leaves RC, $OUT, $ERR
cli() {
	"$CLI" -S "$SOCK" "$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# ok ARGS...: must succeed with nothing on stderr
ok() {
	CHECKS=$((CHECKS + 1))
	cli "$@"
	[ $RC -eq 0 ] || fail "mmrctl $* -> exit $RC: $(head -c 300 "$ERR")"
	[ ! -s "$ERR" ] || fail "mmrctl $* wrote to stderr: $(head -c 300 "$ERR")"
}

# json ARGS...: must succeed and print valid JSON
json() {
	ok --json "$@"
	$PY -m json.tool "$OUT" >/dev/null 2>&1 || fail "mmrctl --json $* is not valid JSON: $(head -c 300 "$OUT")"
}

# jq_eq PYEXPR WANT: evaluate PYEXPR on the JSON in $OUT (as j)
jq_eq() {
	local got
	got=$($PY -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$OUT" 2>&1)
	[ "$got" = "$2" ] || fail "JSON check '$1': got '$got', want '$2'"
}

snapshot() {   # what must not change when a request fails
	{
		cat "$STATE" 2>/dev/null
		"$CLI" -S "$SOCK" --json meeting list
		for m in $("$CLI" -S "$SOCK" meeting list | awk '$1 != "MEETING" && $0 != "no meetings" { print $1 }'); do
			"$CLI" -S "$SOCK" meeting show "$m"
			"$CLI" -S "$SOCK" --json meeting show "$m"
		done
	} 2>&1
}

# json_err EXPECT STATUS: $ERR is one JSON object {"error": "...EXPECT...", "code": C, "status": STATUS}
json_err() {
	local got
	got=$($PY -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, "not one line"
j = json.loads(lines[0])
assert isinstance(j, dict) and set(j) >= {"error", "code", "status"}, "keys %s" % sorted(j)
assert sys.argv[2] in j["error"], "error lacks the expected text"
assert not j["error"].startswith("error:"), "error text keeps the error: prefix"
assert j["status"] == int(sys.argv[3]), "status %r" % j["status"]
print("ok")' "$ERR" "$1" "$2" 2>&1 | tail -n 1)
	[ "$got" = ok ] || fail "JSON error: $got: $(head -c 300 "$ERR")"
}

# bad EXPECT ARGS...: must exit 1 with one "error: ...EXPECT..." line on stderr, nothing on stdout,
# and change nothing
bad() {
	CHECKS=$((CHECKS + 1))
	local expect=$1
	shift
	local before after
	before=$(snapshot)
	cli "$@"
	[ $RC -eq 1 ] || fail "mmrctl $* -> exit $RC, want 1 (stdout: $(head -c 200 "$OUT"))"
	[ "$(wc -l <"$ERR")" -eq 1 ] || fail "mmrctl $*: want one error line, got: $(cat "$ERR")"
	case " $* " in
	*" --json "*) json_err "$expect" 1 ;;   # under --json the error is one JSON object
	*)
		grep -q '^error: ' "$ERR" || fail "mmrctl $*: stderr does not start with 'error: ': $(cat "$ERR")"
		grep -qF -- "$expect" "$ERR" || fail "mmrctl $*: error lacks '$expect': $(cat "$ERR")" ;;
	esac
	[ ! -s "$OUT" ] || fail "mmrctl $*: printed on stdout after an error: $(head -c 200 "$OUT")"
	after=$(snapshot)
	[ "$before" = "$after" ] || fail "mmrctl $*: state changed by a failed request"
}

# raw BYTES_PYEXPR: send raw bytes on the socket, print what came back (python repr)
raw() {
	$PY - "$SOCK" "$1" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(eval(sys.argv[2]))
s.shutdown(socket.SHUT_WR)
data = b''
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
except OSError:
    pass
print(repr(data))
EOF
}

# ---------------------------------------------------------------------------------------------
step "config errors"
"$CTL" -c "$TMP/nonexistent.conf" 2>"$ERR"; rc=$?
[ $rc -eq 2 ] && grep -q "nonexistent.conf: cannot open" "$ERR" || fail "missing config: exit $rc, $(cat "$ERR")"
printf 'socket = "/tmp/x";\nstate_file = ;\n' >"$TMP/bad1.conf"
"$CTL" -c "$TMP/bad1.conf" 2>"$ERR"; rc=$?
[ $rc -eq 2 ] && grep -q "bad1.conf:2: " "$ERR" || fail "config syntax error: exit $rc, $(cat "$ERR")"
printf 'socket = "/tmp/x";\n\napply_timeout_ms = "soon";\n' >"$TMP/bad2.conf"
"$CTL" -c "$TMP/bad2.conf" 2>"$ERR"; rc=$?
[ $rc -eq 2 ] && grep -q "bad2.conf:3: apply_timeout_ms" "$ERR" || fail "bad config value: exit $rc, $(cat "$ERR")"
printf 'sockett = "/tmp/x";\n' >"$TMP/bad3.conf"
"$CTL" -c "$TMP/bad3.conf" 2>"$ERR"; rc=$?
[ $rc -eq 2 ] && grep -q "bad3.conf:1: unknown setting 'sockett'" "$ERR" || fail "unknown key: exit $rc, $(cat "$ERR")"
printf 'shm_name = "no-slash";\n' >"$TMP/bad4.conf"
"$CTL" -c "$TMP/bad4.conf" 2>"$ERR"; rc=$?
[ $rc -eq 2 ] && grep -q "bad4.conf:1: shm_name" "$ERR" || fail "bad shm_name: exit $rc, $(cat "$ERR")"
"$CTL" 2>"$ERR"; rc=$?
[ $rc -eq 2 ] || fail "no -c: exit $rc"

step "start with no state file"
write_conf
start_ctl
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK"), want 660"
[ "$(stat -c %a "$TMP/run")" = 755 ] || fail "socket directory mode $(stat -c %a "$TMP/run"), want 755"
ok status
grep -q 'attached       no' "$OUT" || fail "status does not say the dataplane is not attached: $(cat "$OUT")"
json status
jq_eq 'j["dataplane"]["attached"]' False
jq_eq 'j["controller"]["pid"]' "$CPID"
ok help
grep -q 'participant add MEETING NAME' "$OUT" || fail "help lacks participant add"
grep -q 'dt = sid \* T + tid' "$OUT" || fail "help lacks the AV1 decode target numbering"
grep -q 'sub set MEETING SUBSCRIBER --ssrc N \[--target TID\] \[--spatial SID\] \[--dt DT\] \[--encoding E\]' "$OUT" ||
	fail "help lacks the sub set options"

step "normal operation"
ok meeting list
grep -q 'no meetings' "$OUT" || fail "empty meeting list: $(cat "$OUT")"
json meeting list
jq_eq 'len(j["meetings"])' 0
ok meeting create m1 --plain
[ ! -s "$OUT" ] || fail "meeting create printed: $(cat "$OUT")"
ok meeting create m2 --plain
ok participant add m1 alice --addr 203.0.113.1 --port 5000
grep -qx 'note: dataplane offline, will apply on attach' "$OUT" || fail "no offline note: $(cat "$OUT")"
ok participant add m1 bob --addr 203.0.113.2 --port 5000 --role recvonly --mac 02:00:00:00:00:0b
ok participant add m1 carol --addr 2001:db8::3 --port 5002 --role=sendonly --dp-port 1
ok participant add m1 dave --addr ::ffff:203.0.113.4 --port 5004 --role sendrecv
ok participant add m2 erin --addr 203.0.113.1 --port 5001
ok stream add m1 alice --ssrc 0x1234 --kind video --codec vp8 --layers 3
ok stream add m1 alice --ssrc 1111 --kind audio --codec opus
ok stream add m1 carol --ssrc 2222 --kind audio --codec opus --layers 1
ok stream add m1 dave --ssrc 0xABCDEF01 --kind video --codec vp8 --layers 2
ok stream add m2 erin --ssrc 0x1234 --kind video --codec vp8
json meeting list
jq_eq '[(m["name"], m["participants"], m["streams"], m["subscriptions"]) for m in j["meetings"]]' \
	"[('m1', 4, 4, 9), ('m2', 1, 1, 0)]"
json meeting show m1
jq_eq '[p["name"] for p in j["participants"]]' "['alice', 'bob', 'carol', 'dave']"
jq_eq '[p["addr"] for p in j["participants"]]' "['203.0.113.1', '203.0.113.2', '2001:db8::3', '203.0.113.4']"
jq_eq '[p["role"] for p in j["participants"]]' "['sendrecv', 'recvonly', 'sendonly', 'sendrecv']"
jq_eq '(j["participants"][1]["mac"], j["participants"][0]["mac"], j["participants"][2]["dp_port"])' \
	"('02:00:00:00:00:0b', None, 1)"
jq_eq 'sorted((s["subscriber"], s["publisher"], s["ssrc"], s["target"]) for s in j["subscriptions"])' \
	"[('alice', 'carol', 2222, 0), ('alice', 'dave', 2882400001, 1), ('bob', 'alice', 1111, 0), ('bob', 'alice', 4660, 2), ('bob', 'carol', 2222, 0), ('bob', 'dave', 2882400001, 1), ('dave', 'alice', 1111, 0), ('dave', 'alice', 4660, 2), ('dave', 'carol', 2222, 0)]"
ok meeting show m1
grep -q '^meeting m1 (id 0): 4 participants, 4 streams, 9 subscriptions' "$OUT" || fail "meeting show header: $(head -1 "$OUT")"
grep -Eq '^  bob +1 +203\.0\.113\.2 +5000 +recvonly +02:00:00:00:00:0b' "$OUT" || fail "meeting show bob row: $(cat "$OUT")"
ok sub set m1 bob --ssrc 0x1234 --target 1 --out-ssrc 77
ok sub set m1 dave --ssrc=4660 --target=0
json sub list m1
jq_eq '[(s["target"], s["out_ssrc"]) for s in j["subscriptions"] if s["subscriber"] == "bob" and s["ssrc"] == 4660]' "[(1, 77)]"
jq_eq '[s["target"] for s in j["subscriptions"] if s["subscriber"] == "dave" and s["ssrc"] == 4660]' "[0]"
ok sub list m1
grep -Eq '^bob +alice +0x00001234 +video +vp8 +L1T3 +T1 +0x0000004d +- +- +[0-9]+ +unknown$' "$OUT" || fail "sub list text: $(cat "$OUT")"
cli meeting list --json   # --json after the command works too
[ $RC -eq 0 ] && $PY -m json.tool "$OUT" >/dev/null || fail "--json after the command"
# a new receiver is subscribed to every stream; a new stream goes to every receiver
ok participant add m1 frank --addr 203.0.113.6 --port 5006 --role recvonly
ok stream add m1 dave --ssrc 3333 --kind audio --codec opus
json meeting list
jq_eq '[m["subscriptions"] for m in j["meetings"] if m["name"] == "m1"]' "[16]"
ok stream remove m1 dave --ssrc 3333
ok participant remove m1 frank
json meeting list
jq_eq '[m["subscriptions"] for m in j["meetings"] if m["name"] == "m1"]' "[9]"
# stats needs the dataplane
bad "dataplane offline" stats
bad "dataplane offline" stats --streams --json

step "error paths"
bad "meeting 'm1' already exists" meeting create m1
bad "bad meeting name 'bad name'" meeting create "bad name"
bad "bad meeting name" meeting create "$(printf 'x%.0s' $(seq 64))"
bad "bad meeting name" meeting create "semi;colon"
bad "bad meeting name 'two?lines'" meeting create "two
lines"
bad "bad meeting name" meeting create ""
bad "unknown option '-x'" meeting create -x
bad "no meeting 'nosuch'" meeting show nosuch
bad "no meeting 'nosuch'" meeting end nosuch
bad "no meeting 'nosuch'" sub list nosuch
bad "participant 'alice' already exists in meeting 'm1'" participant add m1 alice --addr 203.0.113.9 --port 6000
bad "bad IP address '203.0.113.300'" participant add m1 eve --addr 203.0.113.300 --port 6000
bad "bad IP address 'bob.example'" participant add m1 eve --addr bob.example --port 6000
bad "not a unicast address" participant add m1 eve --addr 0.0.0.0 --port 6000
bad "not a unicast address" participant add m1 eve --addr 239.1.1.1 --port 6000
bad "not a unicast address" participant add m1 eve --addr ff02::1 --port 6000
bad "bad UDP port '70000'" participant add m1 eve --addr 203.0.113.9 --port 70000
bad "bad UDP port '0'" participant add m1 eve --addr 203.0.113.9 --port 0
bad "bad UDP port 'x'" participant add m1 eve --addr 203.0.113.9 --port x
bad "address 203.0.113.1 port 5000 is already used by participant 'alice' in meeting 'm1'" \
	participant add m2 eve --addr 203.0.113.1 --port 5000
bad "already used by participant 'dave'" participant add m2 eve --addr ::ffff:203.0.113.4 --port 5004
bad "bad role 'boss'" participant add m1 eve --addr 203.0.113.9 --port 6000 --role boss
bad "bad MAC address 'zz'" participant add m1 eve --addr 203.0.113.9 --port 6000 --mac zz
bad "not a unicast address" participant add m1 eve --addr 203.0.113.9 --port 6000 --mac 01:00:5e:00:00:01
bad "bad dataplane port '9'" participant add m1 eve --addr 203.0.113.9 --port 6000 --dp-port 9
bad "--addr and --port go together" participant add m1 eve --addr 203.0.113.9
bad "option --port needs a value" participant add m1 eve --addr 203.0.113.9 --port
bad "unknown option '--colour'" participant add m1 eve --addr 203.0.113.9 --port 6000 --colour red
bad "option --port given twice" participant add m1 eve --addr 203.0.113.9 --port 6000 --port 6001
bad "missing argument" participant add m1 --addr 203.0.113.9 --port 6000
bad "no meeting 'nosuch'" participant add nosuch eve --addr 203.0.113.9 --port 6000
bad "no participant 'nosuch' in meeting 'm1'" participant remove m1 nosuch
bad "SSRC 1111 is already used in meeting 'm1' (by 'alice')" stream add m1 carol --ssrc 1111 --kind audio --codec opus
bad "SSRC 0x457 is already used" stream add m1 carol --ssrc 0x457 --kind audio --codec opus
bad "bad SSRC 'xyz'" stream add m1 alice --ssrc xyz --kind audio --codec opus
bad "bad SSRC '0x1ffffffff'" stream add m1 alice --ssrc 0x1ffffffff --kind audio --codec opus
bad "bad SSRC '-5'" stream add m1 alice --ssrc -5 --kind audio --codec opus
bad "bad kind 'smell'" stream add m1 alice --ssrc 5 --kind smell --codec opus
bad "bad codec 'h265'" stream add m1 alice --ssrc 5 --kind video --codec h265
bad "codec vp8 is not an audio codec" stream add m1 alice --ssrc 5 --kind audio --codec vp8
bad "codec opus is not a video codec" stream add m1 alice --ssrc 5 --kind video --codec opus
bad "bad layer count '9'" stream add m1 alice --ssrc 5 --kind video --codec vp8 --layers 9
bad "bad layer count '0'" stream add m1 alice --ssrc 5 --kind video --codec vp8 --layers 0
bad "bad layer count '2' (audio has 1 layer)" stream add m1 alice --ssrc 5 --kind audio --codec opus --layers 2
bad "participant 'bob' is recvonly and may not publish" stream add m1 bob --ssrc 5 --kind audio --codec opus
bad "no participant 'nosuch'" stream add m1 nosuch --ssrc 5 --kind audio --codec opus
bad "missing option --kind" stream add m1 alice --ssrc 5 --codec opus
bad "no stream with SSRC 12345 in meeting 'm1'" stream remove m1 alice --ssrc 12345
bad "the stream with SSRC 0x1234 belongs to 'alice', not 'dave'" stream remove m1 dave --ssrc 0x1234
bad "bad target layer '3' (0-2: the stream has 3 layers)" sub set m1 bob --ssrc 0x1234 --target 3
bad "bad target layer '-1'" sub set m1 bob --ssrc 0x1234 --target -1
bad "bad target layer '1' (the stream has 1 layer: 0)" sub set m1 bob --ssrc 1111 --target 1
bad "bad out SSRC 'q'" sub set m1 bob --ssrc 0x1234 --target 0 --out-ssrc q
bad "no stream with SSRC 999 in meeting 'm1'" sub set m1 bob --ssrc 999 --target 0
bad "no participant 'nosuch'" sub set m1 nosuch --ssrc 0x1234 --target 0
bad "participant 'alice' publishes SSRC 0x1234 itself" sub set m1 alice --ssrc 0x1234 --target 0
bad "participant 'carol' is sendonly and receives nothing" sub set m1 carol --ssrc 0x1234 --target 0
bad "bad SSRC '0x1234x'" sub set m1 bob --ssrc 0x1234x --target 0
bad "unknown command 'frobnicate'" frobnicate
bad "'meeting' needs a subcommand: create, set, end, list, show" meeting
bad "unknown command 'meeting frob'" meeting frob
bad "unexpected argument 'b'" meeting create a b
bad "unknown option '--bogus'" stats --bogus
bad "option --streams takes no value" stats --streams=yes
bad "usage: mmrctl participant add" participant add
bad "no command" --json
CHECKS=$((CHECKS + 1))
"$CLI" -S "$SOCK" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 1 ] && grep -q '^error: no command' "$ERR" || fail "mmrctl with no command: exit $rc, $(cat "$ERR")"
"$CLI" -S "$SOCK" meeting create "$(head -c 5000 /dev/zero | tr '\0' x)" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 1 ] && grep -q '^error: command line too long' "$ERR" || fail "huge argument: exit $rc, $(cat "$ERR")"
"$CLI" -S "$TMP/nonexistent.sock" status >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 2 ] && grep -q "^error: cannot reach controller at $TMP/nonexistent.sock: " "$ERR" ||
	fail "unreachable controller: exit $rc, $(cat "$ERR")"
MMR_SOCKET=$SOCK "$CLI" status >/dev/null 2>&1 || fail "MMR_SOCKET not honoured"

step "errors as JSON under --json (one object on stderr, same exit status)"
bad "unknown command 'frobnicate'" --json frobnicate
bad "no meeting 'nosuch'" meeting show nosuch --json
bad "unknown option '--bogus'" --json stats --bogus
CHECKS=$((CHECKS + 1))
"$CLI" --json -S "$TMP/nonexistent.sock" status >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 2 ] || fail "--json unreachable controller: exit $rc"
json_err "cannot reach controller at $TMP/nonexistent.sock" 2
"$CLI" -S "$SOCK" --json meeting create "$(head -c 5000 /dev/zero | tr '\0' x)" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 1 ] || fail "--json huge argument: exit $rc"
json_err "command line too long" 1
"$CLI" --json token mint --ttl 5 >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 1 ] || fail "--json token mint: exit $rc"
json_err "missing option --secret-file" 1
"$CLI" --json batch --window 0 </dev/null >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 1 ] || fail "--json batch --window 0: exit $rc"
json_err "--window must be" 1
printf 'meeting show nosuch\nstatus\n' | "$CLI" -S "$SOCK" --json batch >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 1 ] || fail "--json batch with a refused line: exit $rc"
json_err "no meeting 'nosuch'" 1
$PY -c 'import json,sys; j=json.loads(open(sys.argv[1]).read()); assert j["line"] == 1 and j["code"] == "refused" and j["command"] == "meeting show nosuch"' "$ERR" ||
	fail "--json batch error lacks line/command/code: $(cat "$ERR")"
# negative control: the text error is not accepted as a JSON error
"$CLI" -S "$SOCK" frobnicate >"$OUT" 2>"$ERR"
( json_err "unknown command" 1 ) >/dev/null && fail "json_err accepted a text error line"

step "malformed frames and misbehaving clients"
before=$(snapshot)
r=$(raw "b'GARBAGE!'")
case $r in *'error: malformed request'*) ;; *) fail "garbage header: reply $r" ;; esac
r=$(raw "b'MMRQ' + struct.pack('<I', 0xffffffff)")
case $r in *'error: malformed request'*) ;; *) fail "huge length: reply $r" ;; esac
r=$(raw "b'MMRQ' + struct.pack('<I', 8) + struct.pack('<II', 5, 1000)")
case $r in *'error: malformed request'*) ;; *) fail "bad argument lengths: reply $r" ;; esac
r=$(raw "b'MMRQ' + struct.pack('<I', 9) + struct.pack('<II', 1, 1) + b'\\0'")
case $r in *'error: malformed request'*) ;; *) fail "NUL in an argument: reply $r" ;; esac
r=$(raw "b'MMRQ' + struct.pack('<I', 100) + b'short'")     # peer closes half-way
[ "$r" = "b''" ] || fail "half request: reply $r"
r=$(raw "b'MMRQ' + struct.pack('<I', 4) + struct.pack('<I', 0)")
case $r in *'error: no command'*) ;; *) fail "empty argv: reply $r" ;; esac
r=$(raw "b'MMRQ' + struct.pack('<I', 23) + struct.pack('<II', 2, 7) + b'meeting' + struct.pack('<I', 4) + b'list'")
case $r in *'MMRA'*'ok'*) ;; *) fail "raw meeting list: reply $r" ;; esac
# a client that connects and says nothing must not block the others
$PY -c "import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.send(b'MM'); time.sleep(3)" \
	"$SOCK" &
idle=$!
sleep 0.2
ok status
ok meeting list
wait $idle
[ "$before" = "$(snapshot)" ] || fail "state changed by malformed frames"
kill -0 "$CPID" 2>/dev/null || fail "controller died on malformed input"

step "permissions (SO_PEERCRED)"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && getent passwd nobody >/dev/null; then
	# with mode 0660 and root's group, nobody cannot even connect
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CLI" -S "$SOCK" status >"$OUT" 2>"$ERR"; rc=$?
	[ $rc -eq 2 ] && grep -q 'Permission denied' "$ERR" || fail "nobody through a 0660 socket: exit $rc, $(cat "$ERR")"
	# opened up on the file system, the controller itself still refuses
	chmod 666 "$SOCK"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CLI" -S "$SOCK" status >"$OUT" 2>"$ERR"; rc=$?
	[ $rc -eq 1 ] && grep -q '^error: permission denied: only root' "$ERR" || fail "peer check: exit $rc, $(cat "$ERR")"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CLI" -S "$SOCK" meeting create evil >"$OUT" 2>"$ERR"
	ok meeting show m1
	bad "no meeting 'evil'" meeting show evil
	# socket_group: its members may, others may not
	grp=$(getent group 65534 | cut -d: -f1)
	if [ -n "$grp" ]; then
		kill_ctl TERM
		write_conf "$grp"
		start_ctl
		[ "$(stat -c %G "$SOCK")" = "$grp" ] || fail "socket group $(stat -c %G "$SOCK"), want $grp"
		setpriv --reuid=65534 --regid=1 --groups=65534 "$CLI" -S "$SOCK" status >"$OUT" 2>"$ERR" ||
			fail "member of socket_group refused: $(cat "$ERR")"
		chmod 666 "$SOCK"
		setpriv --reuid=65534 --regid=1 --clear-groups "$CLI" -S "$SOCK" status >"$OUT" 2>"$ERR"; rc=$?
		[ $rc -eq 1 ] && grep -q '^error: permission denied: only root' "$ERR" || fail "non-member: exit $rc, $(cat "$ERR")"
		kill_ctl TERM
		write_conf
		start_ctl
	fi
else
	echo "   (skipped: needs root, setpriv and user nobody)"
fi

step "a second controller is refused"
"$CTL" -c "$CONF" 2>"$ERR"; rc=$?
[ $rc -eq 1 ] && grep -q 'another controller' "$ERR" || fail "second controller: exit $rc, $(cat "$ERR")"
ok status

step "SRTP meetings: keys"
ok meeting create sm --srtp AEAD_AES_128_GCM
[ ! -s "$OUT" ] || fail "meeting create --srtp printed: $(cat "$OUT")"
ok meeting create sm5 --srtp=AES_CM_128_HMAC_SHA1_80
ok meeting create pm --plain
# SRTP by default (issue 15): no --plain or --srtp gives AEAD_AES_128_GCM; plain only when asked
ok meeting create sd
ok participant add sd sdx --addr 203.0.113.29 --port 5000
sed -n 1p "$OUT" | grep -qx 'srtp_suite AEAD_AES_128_GCM' || fail "meeting create without --plain/--srtp is not SRTP: $(cat "$OUT")"
ok participant add pm pmx --addr 203.0.113.29 --port 5001
! grep -q 'srtp_suite' "$OUT" || fail "a --plain meeting's participant got keys: $(cat "$OUT")"
ok meeting end sd
ok participant remove pm pmx
ok participant add sm sa --addr 203.0.113.21 --port 5000
# the key lines first (nothing before them), then the offline note
sed -n 1p "$OUT" | grep -qx 'srtp_suite AEAD_AES_128_GCM' || fail "participant add: no suite line first: $(cat "$OUT")"
sed -n 2p "$OUT" | grep -Eqx 'send_key inline:[A-Za-z0-9+/]{38}==' || fail "participant add: send_key line: $(cat "$OUT")"
sed -n 3p "$OUT" | grep -Eqx 'recv_key inline:[A-Za-z0-9+/]{38}==' || fail "participant add: recv_key line: $(cat "$OUT")"
sed -n 4p "$OUT" | grep -qx 'note: dataplane offline, will apply on attach' || fail "participant add: note: $(cat "$OUT")"
[ "$(wc -l <"$OUT")" -eq 4 ] || fail "participant add printed more: $(cat "$OUT")"
head -n 3 "$OUT" >"$TMP/keys_sa"
[ "$(sed -n 2p "$OUT" | cut -d' ' -f2)" != "$(sed -n 3p "$OUT" | cut -d' ' -f2)" ] || fail "send and recv keys are equal"
ok participant keys sm sa
cmp -s "$OUT" "$TMP/keys_sa" || fail "participant keys differs from what add printed: $(cat "$OUT")"
json participant add sm sb --addr 203.0.113.22 --port 5000 --role recvonly --srtp AEAD_AES_128_GCM
jq_eq '(j["srtp_suite"], j["send_key"][:7], len(j["recv_key"]), j["applied"])' "('AEAD_AES_128_GCM', 'inline:', 47, False)"
cp "$OUT" "$TMP/keys_sb.json"
json participant keys sm sb
jq_eq 'sorted(j)' "['recv_key', 'send_key', 'srtp_suite']"
$PY -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(any(a[k] != b[k] for k in b))" \
	"$TMP/keys_sb.json" "$OUT" || fail "participant keys --json differs from participant add --json"
ok participant add sm5 sc --addr 203.0.113.23 --port 5000
sed -n 1p "$OUT" | grep -qx 'srtp_suite AES_CM_128_HMAC_SHA1_80' || fail "HMAC suite line: $(cat "$OUT")"
sed -n 2p "$OUT" | grep -Eqx 'send_key inline:[A-Za-z0-9+/]{40}' || fail "HMAC send_key line: $(cat "$OUT")"
ok participant add pm pa --addr 203.0.113.24 --port 5000 --plain
grep -q 'key' "$OUT" && fail "a plain participant got keys: $(cat "$OUT")"
ok participant rekey sm sa
head -n 3 "$OUT" >"$TMP/keys_sa2"
sed -n 1p "$OUT" | grep -qx 'srtp_suite AEAD_AES_128_GCM' || fail "rekey output: $(cat "$OUT")"
[ "$(sed -n 2p "$OUT")" != "$(sed -n 2p "$TMP/keys_sa")" ] || fail "rekey kept the send key"
[ "$(sed -n 3p "$OUT")" != "$(sed -n 3p "$TMP/keys_sa")" ] || fail "rekey kept the recv key"
ok participant keys sm sa
cmp -s "$OUT" "$TMP/keys_sa2" || fail "participant keys after rekey: $(cat "$OUT")"
json meeting show sm
jq_eq '(j["srtp_suite"], [p["name"] for p in j["participants"]])' "('AEAD_AES_128_GCM', ['sa', 'sb'])"
json meeting list
jq_eq '[(m["name"], m["srtp_suite"]) for m in j["meetings"] if m["name"] in ("m1", "sm", "sm5")]' \
	"[('m1', None), ('sm', 'AEAD_AES_128_GCM'), ('sm5', 'AES_CM_128_HMAC_SHA1_80')]"
ok meeting show sm
grep -q '^meeting sm (id [0-9]*): 2 participants, 0 streams, 0 subscriptions; SRTP AEAD_AES_128_GCM; lcore .*$' "$OUT" ||
	fail "meeting show sm header: $(head -1 "$OUT")"
bad "meeting 'sm' is SRTP AEAD_AES_128_GCM; a participant cannot be plain RTP" \
	participant add sm sx --addr 203.0.113.25 --port 5000 --plain
bad "a participant cannot be SRTP AEAD_AES_256_GCM" participant add sm sx --addr 203.0.113.25 --port 5000 --srtp AEAD_AES_256_GCM
bad "meeting 'm1' is plain RTP; a participant cannot be SRTP AEAD_AES_128_GCM" \
	participant add m1 sx --addr 203.0.113.25 --port 5000 --srtp AEAD_AES_128_GCM
bad "--plain and --srtp exclude each other" participant add sm sx --addr 203.0.113.25 --port 5000 --plain --srtp AEAD_AES_128_GCM
bad "--plain and --srtp exclude each other" meeting create sz --plain --srtp AEAD_AES_128_GCM
bad "option --srtp needs a value" meeting create sz --srtp
bad "bad SRTP suite 'AES_CM_128_HMAC_SHA1_32'" meeting create sz --srtp AES_CM_128_HMAC_SHA1_32
bad "option --plain takes no value" meeting create sz --plain=yes
bad "meeting 'm1' is plain RTP: its participants have no keys" participant keys m1 alice
bad "meeting 'm1' is plain RTP: its participants have no keys" participant rekey m1 alice
bad "no participant 'nosuch' in meeting 'sm'" participant rekey sm nosuch
bad "missing argument" participant keys sm
# keys go to the key commands only: not to the log, show, list or status
for k in $(grep -h _key "$TMP/keys_sa" "$TMP/keys_sa2" | cut -d: -f2); do
	grep -qF -- "$k" "$LOG" && fail "a key is in the controller log"
	for cmd in "meeting show sm" "meeting list" "status" "sub list sm" "help"; do
		"$CLI" -S "$SOCK" $cmd | grep -qF -- "$k" && fail "a key is in mmrctl $cmd"
		"$CLI" -S "$SOCK" --json $cmd | grep -qF -- "$k" && fail "a key is in mmrctl --json $cmd"
	done
done
[ "$(stat -c %a "$STATE")" = 600 ] || fail "state file mode $(stat -c %a "$STATE"), want 600 (it holds keys)"
# keys survive a restart
kill_ctl 9
start_ctl
ok participant keys sm sa
cmp -s "$OUT" "$TMP/keys_sa2" || fail "keys changed across a restart: $(cat "$OUT")"
[ "$(stat -c %a "$STATE")" = 600 ] || fail "state file mode $(stat -c %a "$STATE") after restart"
ok meeting end sm
ok meeting end sm5
ok meeting end pm

step "layered video: vp9, av1, h264, simulcast"
ok meeting create lv --plain
ok participant add lv pub --addr 203.0.113.31 --port 5000
ok participant add lv v1 --addr 203.0.113.32 --port 5000 --role recvonly
ok participant add lv v2 --addr 203.0.113.33 --port 5000
ok stream add lv pub --ssrc 0x9000 --kind video --codec vp9 --layers 3 --spatial 2
ok stream add lv pub --ssrc 0xa000 --kind video --codec av1 --layers 2 --spatial 3 --dd-ext 12
ok stream add lv pub --ssrc 0x2640 --kind video --codec h264
ok stream add lv pub --ssrc 0x100,0x101,0x102 --kind video --codec vp8 --layers 3
ok stream add lv v2 --ssrc 0x200,0x201 --kind video --codec h264
ok stream add lv v2 --ssrc=0x300,0x301 --kind video --codec vp9 --layers 2 --spatial 2
ok stream add lv v2 --ssrc 0x400 --kind audio --codec opus
ok stream add lv v2 --ssrc 0x500 --kind video --codec av1 --dd-ext=255
json meeting show lv
jq_eq '[(s["ssrc"], s["codec"], s["layers"], s["spatial_layers"], s["dd_ext_id"], s["encoding"]) for p in j["participants"] for s in p["streams"]]' \
	"[(36864, 'vp9', 3, 2, None, None), (40960, 'av1', 2, 3, 12, None), (9792, 'h264', 1, 1, None, None), (256, 'vp8', 3, 1, None, 0), (257, 'vp8', 3, 1, None, 1), (258, 'vp8', 3, 1, None, 2), (512, 'h264', 1, 1, None, 0), (513, 'h264', 1, 1, None, 1), (768, 'vp9', 2, 2, None, 0), (769, 'vp9', 2, 2, None, 1), (1024, 'opus', 1, 1, None, None), (1280, 'av1', 1, 1, 255, None)]"
# a group's members name encoding 0's stream id; other streams have no group
jq_eq '[[s["group"] == (ids[s["ssrc"] - s["encoding"]] if s["encoding"] is not None else None) for p in j["participants"] for s in p["streams"]] for ids in [{s["ssrc"]: s["id"] for p in j["participants"] for s in p["streams"]}]][0].count(False)' 0
jq_eq '[s["subscribers"] for p in j["participants"] for s in p["streams"]]' "[2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]"
# one row per receiver per stream or group, starting at the top (AV1: dt = S*T - 1)
jq_eq 'len(j["subscriptions"])' 16
ok meeting show lv
grep -Eq '^  pub +0x00000100 +video +vp8 +3 +1 +- +[0-9]+ +0 +[0-9]+ +2$' "$OUT" || fail "meeting show lv: group stream row: $(cat "$OUT")"
grep -Eq '^  pub +0x0000a000 +video +av1 +2 +3 +12 +- +- ' "$OUT" || fail "meeting show lv: av1 row: $(cat "$OUT")"
json sub list lv
jq_eq '[(s["publisher"], s["ssrcs"], s["codec"], s["target"], s["target_spatial"], s["target_dt"], s["target_encoding"], s["out_ssrc"], s["current"]) for s in j["subscriptions"] if s["subscriber"] == "v1"]' \
	"[('pub', [36864], 'vp9', 2, 1, None, None, 36864, None), ('pub', [40960], 'av1', None, None, 5, None, 40960, None), ('pub', [9792], 'h264', 0, None, None, None, 9792, None), ('pub', [256, 257, 258], 'vp8', 2, None, None, 2, 256, None), ('v2', [512, 513], 'h264', 0, None, None, 1, 512, None), ('v2', [768, 769], 'vp9', 1, 1, None, 1, 768, None), ('v2', [1024], 'opus', 0, None, None, None, 1024, None), ('v2', [1280], 'av1', None, None, 0, None, 1280, None)]"
jq_eq 'all(s["sel_id"] == s["id"] for s in j["subscriptions"])' True
ok sub list lv
grep -Eq '^v1 +pub +0x00000100,0x00000101,0x00000102 +video +vp8 +3xL1T3 +E2:T2 +0x00000100 +- +- +[0-9]+ +unknown$' "$OUT" ||
	fail "sub list lv: simulcast row: $(cat "$OUT")"
grep -Eq '^v1 +pub +0x00009000 +video +vp9 +L2T3 +S1T2 +0x00009000 ' "$OUT" || fail "sub list lv: vp9 row: $(cat "$OUT")"
grep -Eq '^v1 +pub +0x0000a000 +video +av1 +L3T2 +DT5 ' "$OUT" || fail "sub list lv: av1 row: $(cat "$OUT")"
grep -Eq '^v2 +pub +0x00002640 +video +h264 +L1T1 +- ' "$OUT" || fail "sub list lv: h264 row: $(cat "$OUT")"
grep -Eq '^v1 +v2 +0x00000200,0x00000201 +video +h264 +2xL1T1 +E1 ' "$OUT" || fail "sub list lv: h264 group row: $(cat "$OUT")"
grep -Eq '^v1 +v2 +0x00000400 +audio +opus +- +- +0x00000400 +- +- +[0-9]+ +-$' "$OUT" || fail "sub list lv: audio row: $(cat "$OUT")"
# sub set: per codec; any member's SSRC sets the whole group
ok sub set lv v1 --ssrc 0x9000 --spatial 0 --target 1
ok sub set lv v1 --ssrc 0xa000 --dt 3
ok sub set lv v1 --ssrc 0x102 --encoding 0 --target 1 --out-ssrc 0x7777
ok sub set lv v2 --ssrc 0x101 --encoding 1
ok sub set lv v1 --ssrc 0x301 --spatial 0 --encoding 0
ok sub set lv v1 --ssrc 0x2640 --target 0
ok sub set lv v1 --ssrc 0x200 --out-ssrc 0x8888
json sub list lv
jq_eq '[(s["ssrc"], s["target"], s["target_spatial"], s["target_dt"], s["target_encoding"], s["out_ssrc"]) for s in j["subscriptions"] if s["subscriber"] == "v1"]' \
	"[(36864, 1, 0, None, None, 36864), (40960, None, None, 3, None, 40960), (9792, 0, None, None, None, 9792), (256, 1, None, None, 0, 30583), (512, 0, None, None, 1, 34952), (768, 1, 0, None, 0, 768), (1024, 0, None, None, None, 1024), (1280, None, None, 0, None, 1280)]"
jq_eq '[(s["ssrc"], s["target"], s["target_encoding"], s["out_ssrc"]) for s in j["subscriptions"] if s["subscriber"] == "v2" and s["ssrc"] == 256]' "[(256, 2, 1, 256)]"
# every member's subscription changed, in the state file too
grep -Eq '^sub [0-9]+ [0-9]+ [0-9]+ 1 0x00007777 0 [0-9]+ 0 - - -$' "$STATE" || fail "state file: group subscriptions: $(grep '^sub' "$STATE")"
[ "$(grep -c ' 0x00007777 ' "$STATE")" = 3 ] || fail "state file: want 3 subscriptions with out SSRC 0x7777: $(grep '^sub' "$STATE")"
grep -q '^mmr-state 9$' "$STATE" || fail "state file version: $(head -3 "$STATE")"
grep -Eq '^state_id [0-9a-f]{32} [0-9]+ [0-9]+$' "$STATE" || fail "state file: no state id: $(head -3 "$STATE")"
grep -Eq '^stream [0-9]+ [0-9]+ 0x0000a000 video av1 2 3 - 0 12 - - 90000 - -$' "$STATE" || fail "state file: av1 stream: $(grep '^stream' "$STATE")"
grep -Eq '^stream [0-9]+ [0-9]+ 0x00000102 video vp8 3 1 [0-9]+ 2 - - - 90000 - -$' "$STATE" || fail "state file: group member: $(grep '^stream' "$STATE")"

step "layered video: errors"
bad "--spatial is for vp9 and av1: vp8 has no spatial layers" stream add lv pub --ssrc 1 --kind video --codec vp8 --spatial 2
bad "--spatial is for vp9 and av1: h264 has no spatial layers" stream add lv pub --ssrc 1 --kind video --codec h264 --spatial 1
bad "bad spatial layer count '4' (1-3 for vp9)" stream add lv pub --ssrc 1 --kind video --codec vp9 --spatial 4
bad "bad spatial layer count '0' (1-3 for av1)" stream add lv pub --ssrc 1 --kind video --codec av1 --spatial 0 --dd-ext 3
bad "bad layer count '5' (1-4 temporal layers for vp9)" stream add lv pub --ssrc 1 --kind video --codec vp9 --layers 5
bad "bad layer count '2' (h264 has 1 layer)" stream add lv pub --ssrc 1 --kind video --codec h264 --layers 2
bad "av1 needs --dd-ext ID" stream add lv pub --ssrc 1 --kind video --codec av1
bad "bad Dependency Descriptor extension id '0' (1-255)" stream add lv pub --ssrc 1 --kind video --codec av1 --dd-ext 0
bad "bad Dependency Descriptor extension id '256' (1-255)" stream add lv pub --ssrc 1 --kind video --codec av1 --dd-ext 256
bad "--dd-ext is for av1 only (vp9 has no Dependency Descriptor)" stream add lv pub --ssrc 1 --kind video --codec vp9 --dd-ext 3
bad "--dd-ext is for av1 only (opus" stream add lv pub --ssrc 1 --kind audio --codec opus --dd-ext 3
bad "codec h264 is not an audio codec" stream add lv pub --ssrc 1 --kind audio --codec h264
bad "codec opus is not a video codec (video: vp8, vp9, av1, h264)" stream add lv pub --ssrc 1 --kind video --codec opus
bad "bad codec 'h265' (opus, vp8, vp9, av1 or h264)" stream add lv pub --ssrc 1 --kind video --codec h265
bad "audio cannot be simulcast" stream add lv pub --ssrc 1,2 --kind audio --codec opus
bad "SSRC 2 appears twice in '1,2,2'" stream add lv pub --ssrc 1,2,2 --kind video --codec vp8
bad "too many SSRCs in '1,2,3,4'" stream add lv pub --ssrc 1,2,3,4 --kind video --codec vp8
bad "SSRC 0x101 is already used in meeting 'lv' (by 'pub')" stream add lv v2 --ssrc 7,0x101 --kind video --codec vp8
bad "bad SSRC ''" stream add lv pub --ssrc 1, --kind video --codec vp8
bad "bad SSRC ''" stream add lv pub --ssrc ,1 --kind video --codec vp8
bad "bad SSRC 'x'" stream add lv pub --ssrc 1,x --kind video --codec vp8
bad "bad SSRC '1111111111111111111111111111111111'" stream add lv pub --ssrc 1,1111111111111111111111111111111111 --kind video --codec vp8
bad "participant 'v1' is recvonly and may not publish" stream add lv v1 --ssrc 1,2 --kind video --codec vp8
bad "nothing to set: give --target, --spatial, --dt, --encoding, --out-ssrc, --rtx-ssrc, --pin or --unpin" sub set lv v1 --ssrc 0x9000
bad "--spatial is for vp9: SSRC 0x100 is vp8 and has no spatial layers" sub set lv v1 --ssrc 0x100 --spatial 0
bad "--spatial is for vp9: SSRC 0x2640 is h264" sub set lv v1 --ssrc 0x2640 --spatial 0
bad "bad spatial layer '2' (0-1: the stream has 2 spatial layers)" sub set lv v1 --ssrc 0x9000 --spatial 2
bad "bad target layer '3' (0-2: the stream has 3 layers)" sub set lv v1 --ssrc 0x9000 --target 3
bad "bad target layer '1' (the stream has 1 layer: 0)" sub set lv v1 --ssrc 0x2640 --target 1
bad "--dt is for av1: SSRC 0x9000 is vp9 and has no decode targets" sub set lv v1 --ssrc 0x9000 --dt 0
bad "--dt is for av1: SSRC 0x100 is vp8" sub set lv v1 --ssrc 0x100 --dt 0
bad "bad decode target '6' (0-5: the stream has 6 decode targets)" sub set lv v1 --ssrc 0xa000 --dt 6
bad "bad decode target '1' (the stream has 1 decode target: 0)" sub set lv v1 --ssrc 0x500 --dt 1
bad "SSRC 0xa000 is av1: give its decode target with --dt (dt = spatial * 2 + temporal)" sub set lv v1 --ssrc 0xa000 --target 1
bad "SSRC 0xa000 is av1: give its decode target with --dt" sub set lv v1 --ssrc 0xa000 --spatial 1
bad "--encoding is for simulcast: SSRC 0x9000 is not in a simulcast group" sub set lv v1 --ssrc 0x9000 --encoding 0
bad "--encoding is for simulcast: SSRC 0x400 is not" sub set lv v1 --ssrc 0x400 --encoding 0
bad "bad encoding '3' (0-2: the stream has 3 encodings)" sub set lv v1 --ssrc 0x101 --encoding 3
bad "bad encoding '2' (0-1: the stream has 2 encodings)" sub set lv v1 --ssrc 0x201 --encoding 2
bad "participant 'pub' publishes SSRC 0x102 itself" sub set lv pub --ssrc 0x102 --encoding 0
bad "bad out SSRC 'z'" sub set lv v1 --ssrc 0x101 --encoding 0 --out-ssrc z
bad "the stream with SSRC 0x101 belongs to 'pub', not 'v2'" stream remove lv v2 --ssrc 0x101

step "layered video: SRTP meetings take simulcast too; removing a member removes its group"
ok meeting create ls --srtp AEAD_AES_256_GCM
ok participant add ls a --addr 203.0.113.41 --port 5000
ok participant add ls b --addr 203.0.113.42 --port 5000
ok stream add ls a --ssrc 5,6,7 --kind video --codec av1 --layers 3 --spatial 1 --dd-ext 4
json sub list ls
jq_eq '[(s["ssrcs"], s["target_dt"], s["target_encoding"], s["out_ssrc"]) for s in j["subscriptions"]]' "[([5, 6, 7], 2, 2, 5)]"
ok stream remove ls a --ssrc 6
json meeting show ls
jq_eq '(j["participants"][0]["streams"], j["subscriptions"])' "([], [])"
grep -q ' 0x0000000[567] ' "$STATE" && fail "state file keeps a removed group: $(grep '^stream' "$STATE")"
ok meeting end ls

step "layered video: persistence across kill -9"
json meeting show lv; lv_show=$(cat "$OUT")
json sub list lv; lv_subs=$(cat "$OUT")
ok sub list lv; lv_subs_txt=$(cat "$OUT")
lv_state=$(cat "$STATE")
kill_ctl 9
start_ctl
json meeting show lv; [ "$(cat "$OUT")" = "$lv_show" ] || fail "meeting show lv --json differs after restart"
json sub list lv; [ "$(cat "$OUT")" = "$lv_subs" ] || fail "sub list lv --json differs after restart"
ok sub list lv; [ "$(cat "$OUT")" = "$lv_subs_txt" ] || fail "sub list lv differs after restart"
[ "$(cat "$STATE")" = "$lv_state" ] || fail "state file changed by the restart"
# the groups still act as groups after loading (sel_id rebuilt)
ok sub set lv v1 --ssrc 0x101 --encoding 2
grep -Eq '^sub [0-9]+ [0-9]+ [0-9]+ 1 0x00007777 0 [0-9]+ 2 - - -$' "$STATE" || fail "sub set after restart: $(grep 7777 "$STATE")"
[ "$(grep -c ' 0x00007777 0 [0-9]* 2 - - -$' "$STATE")" = 3 ] || fail "sub set after restart did not reach every member: $(grep 7777 "$STATE")"

step "layered video: what goes to the dataplane (a stand-in dataplane on the shm segment)"
# A stand-in for mmr-dataplane built from lib/contract/cmd_chan.c (and lib/util): creates the segment, publishes the SRTP
# ledger id it is given, keeps its heartbeat, applies nothing but logs every command's fields (an
# SRTP participant's keys as hex: this is a test), and tells the current layers it is given as the
# dataplane does (events with versions, lib/contract/event_ring.h; a snapshot when the controller asks).
FAKE_DP=
SHM_NAME=/mmr-cli-test-$$
if command -v cc >/dev/null; then
	cat >"$TMP/fake_dp.c" <<'CEOF'
/* fake_dp.c - test_controller_cli.sh's stand-in dataplane: logs the controller's commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd_chan.h"

static void key_hex(FILE *log, const struct srtp_master *k)
{
	fputc(' ', log);
	if (!k->key_len)
		fputc('-', log);
	for (unsigned i = 0; i < k->key_len; i++)
		fprintf(log, "%02x", k->key[i]);
	for (unsigned i = 0; i < k->salt_len; i++)
		fprintf(log, "%02x", k->salt[i]);
}

/* current layers as the dataplane keeps them (dataplane/dp_events.h): version << 32 | value */
static uint64_t *words;
static unsigned char *live;    /* subscriptions with selection state of their own */

static void report(struct ev_producer *p, uint32_t sel, uint32_t v)
{
	uint32_t ver = (uint32_t)(words[sel] >> 32) + 1u;
	words[sel] = (uint64_t)ver << 32 | v;
	ev_push(p, MMR_EV_LAYERS, sel, v, ver);
}

int main(int argc, char **argv)
{
	struct cmd_chan ch;
	struct ev_producer worker_ev, ctl_ev;
	uint64_t snap_served = 0;
	words = calloc(MMR_MAX_SUBS, sizeof(*words));
	live = calloc(MMR_MAX_SUBS, 1);
	if (!words || !live)
		return 1;
	if (argc != 5 || strlen(argv[4]) != 2 * MMR_SRTP_LEDGER_ID_LEN || cmd_chan_create(&ch, argv[1], 1, 1) < 0)
		return 1;
	FILE *log = fopen(argv[2], "a");   /* append: the test empties it between checks */
	if (!log)
		return 1;
	setvbuf(log, NULL, _IOLBF, 0);
	char rpath[512];   /* the RTCP fields of the PUTs (version 10), a line each, in LOG.rtcp */
	snprintf(rpath, sizeof(rpath), "%s.rtcp", argv[2]);
	FILE *rlog = fopen(rpath, "a");
	if (!rlog)
		return 1;
	setvbuf(rlog, NULL, _IOLBF, 0);
	char qpath[512];   /* the QoS fields (version 11), a line each, in LOG.qos */
	snprintf(qpath, sizeof(qpath), "%s.qos", argv[2]);
	FILE *qlog = fopen(qpath, "a");
	if (!qlog)
		return 1;
	setvbuf(qlog, NULL, _IOLBF, 0);
	for (int i = 0; i < MMR_SRTP_LEDGER_ID_LEN; i++)   /* before dp_ready, as the dataplane does */
		if (sscanf(argv[4] + 2 * i, "%2hhx", &ch.shm->srtp_ledger_id[i]) != 1)
			return 1;
	atomic_store(&ch.shm->dp_pid, (uint32_t)getpid());
	ev_producer_init(&worker_ev, &ch.shm->events[0]);
	ev_producer_init(&ctl_ev, &ch.shm->events[MMR_EV_RING_CTL]);
	atomic_store(&ch.shm->dp_ready, 1);
	for (;;) {
		atomic_store(&ch.shm->dp_heartbeat_ns, mmr_now_ns());
		const struct mmr_cmd *c;
		while ((c = cmd_chan_peek(&ch))) {
			const struct mmr_cmd_stream *s = &c->u.stream;
			const struct mmr_cmd_sub *b = &c->u.sub;
			if (c->op == MMR_CMD_STREAM_PUT) {
				fprintf(log, "STREAM_PUT %u %u %u %u %u %u %u %d %u %u\n", s->id, s->participant_id, s->ssrc,
					s->kind, s->codec, s->temporal_layers, s->spatial_layers, (int)s->group_id,
					s->encoding, s->dd_ext_id);
				fprintf(rlog, "STREAM %u %u %u %u\n", s->ssrc, s->rtx_ssrc, s->rtx_pt, s->clock_hz);
				fprintf(qlog, "QSTREAM %u %u\n", s->ssrc, s->screen);
			} else if (c->op == MMR_CMD_SUB_PUT) {
				fprintf(rlog, "SUB %u %u %u %u\n", b->subscriber_id, b->stream_id, b->out_ssrc, b->rtx_ssrc);
				fprintf(qlog, "QSUB %u %d %u %u %u %u\n", b->id, (int)b->stream_id, b->subscriber_id, b->out_ssrc,
					b->priority, b->topn_slot);
				fprintf(log, "SUB_PUT %u %u %u %u %u %u %u %u %u\n", b->id, b->stream_id, b->subscriber_id,
					b->out_ssrc, b->target_tid, b->target_sid, b->target_dt, b->target_encoding, b->sel_id);
				if (b->id < MMR_MAX_SUBS && b->sel_id == b->id && !live[b->id]) {
					live[b->id] = 1;
					report(&ctl_ev, b->id, 0);   /* a new selection state: nothing yet */
				}
			} else if (c->op == MMR_CMD_STREAM_DEL || c->op == MMR_CMD_SUB_DEL || c->op == MMR_CMD_PARTICIPANT_DEL) {
				fprintf(log, "DEL %u %u\n", c->op, c->u.del.id);
				if (c->op == MMR_CMD_SUB_DEL)
					fprintf(qlog, "QDEL %u\n", c->u.del.id);
				if (c->op == MMR_CMD_SUB_DEL && c->u.del.id < MMR_MAX_SUBS)
					live[c->u.del.id] = 0;
			}
			else if (c->op == MMR_CMD_PARTICIPANT_PUT) {
				const struct mmr_cmd_participant *pc = &c->u.participant;
				fprintf(qlog, "QPART %u %u %u %u %u\n", pc->id, pc->fb, pc->twcc_ext_id, pc->abs_ext_id,
					pc->level_ext_id);
				fprintf(rlog, "PARTICIPANT %u %u %u", pc->id, pc->fb, pc->mmr_ssrc);
				for (int i = 0; i < MMR_RTX_MAP_MAX; i++)
					fprintf(rlog, " %u:%u", pc->rtx_map[i].apt, pc->rtx_map[i].pt);
				fputc('\n', rlog);
				fprintf(log, "PARTICIPANT_PUT %u %u", c->u.participant.id, c->u.participant.srtp_suite);
				key_hex(log, &c->u.participant.send_key);
				key_hex(log, &c->u.participant.recv_key);
				fputc('\n', log);
			}
			else {
				if (c->op == MMR_CMD_MEETING_PUT)
					fprintf(qlog, "MEETING %u %u\n", c->u.meeting.meeting_id, c->u.meeting.top_n);
				if (c->op == MMR_CMD_MEETING_DEL)
					fprintf(qlog, "MEETING %u 0\n", c->u.del.id);
				fprintf(log, "OP %u\n", c->op);
			}
			cmd_chan_done(&ch, c);
		}
		FILE *f = fopen(argv[3], "r");   /* "SEL_ID VALUE" lines: current layers, as a worker tells them */
		if (f) {
			unsigned sel, v;
			while (fscanf(f, "%u %u", &sel, &v) == 2)
				if (sel < MMR_MAX_SUBS)
					report(&worker_ev, sel, v);
			fclose(f);
			unlink(argv[3]);
		}
		uint64_t req = atomic_load(&ch.shm->ev_snap_req);
		if (req != snap_served) {   /* a snapshot (the ring is big enough for this test) */
			for (uint32_t i = 0; i < MMR_MAX_SUBS; i++)
				if (live[i])
					ev_push(&ctl_ev, MMR_EV_LAYERS, i, (uint32_t)words[i], (uint32_t)(words[i] >> 32));
			atomic_store(&ch.shm->ev_snap_done, req);
			snap_served = req;
		}
		usleep(5000);
	}
}
CEOF
	cc -std=gnu11 -O1 -I"$ROOT/lib/contract" -I"$ROOT/lib/util" -o "$TMP/fake_dp" "$TMP/fake_dp.c" "$ROOT"/lib/contract/*.c "$ROOT"/lib/util/*.c \
		-lcrypto -lrt 2>"$ERR" ||
		fail "cannot build the stand-in dataplane: $(cat "$ERR")"
	FAKE_DP=$TMP/fake_dp
fi
LEDGER1=00112233445566778899aabbccddeeff   # the stand-in's SRTP ledger ids
LEDGER2=fedcba98765432100123456789abcdef
start_fake_dp() {   # start_fake_dp [LEDGER_ID [nowait]]
	rm -f "/dev/shm${SHM_NAME}" "$TMP/dp.log" "$TMP/dp.log.rtcp" "$TMP/dp.log.qos"
	"$FAKE_DP" "$SHM_NAME" "$TMP/dp.log" "$TMP/dp.layers" "${1:-$LEDGER1}" &
	DPID=$!
	[ "${2:-}" = nowait ] && return 0
	wait_fake_dp_attached
}
wait_fake_dp_attached() {
	for _ in $(seq 100); do
		"$CLI" -S "$SOCK" --json status 2>/dev/null | grep -q '"attached": true' &&
			grep -q '^OP 2$' "$TMP/dp.log" 2>/dev/null && return 0   # SYNC_END
		sleep 0.05
	done
	fail "the controller did not attach to the stand-in dataplane"
}
stop_fake_dp() {
	kill "$DPID"; wait "$DPID" 2>/dev/null
	DPID=
	rm -f "/dev/shm${SHM_NAME}"
	for _ in $(seq 100); do   # the controller notices within its heartbeat timeout
		"$CLI" -S "$SOCK" --json status 2>/dev/null | grep -q '"attached": false' && return 0
		sleep 0.05
	done
	fail "the controller did not notice the stand-in dataplane stopped"
}
# the dataplane's rules (cmd_chan.h): a member's group_id and a subscription's sel_id name objects
# PUT before it since the last SYNC_BEGIN, and agree with the model
check_dp_log() {   # check_dp_log WHAT [MEETING]
	json meeting show "${2:-lv}"
	$PY - "$TMP/dp.log" "$OUT" "$1" <<'PYEOF' || fail "$(cat "$TMP/dp.check")"
import json, sys
log, show, what = open(sys.argv[1]).read().split('\n'), json.load(open(sys.argv[2])), sys.argv[3]
out = open(sys.argv[2].rsplit('/', 1)[0] + '/dp.check', 'w')
streams, subs = set(), set()
def bad(msg):
    out.write('%s: %s\n' % (what, msg)); sys.exit(1)
model = {s['id']: s for p in show['participants'] for s in p['streams']}
for line in log:
    f = line.split()
    if not f:
        continue
    if f[0] == 'OP' and f[1] == '1':
        streams, subs = set(), set()
    elif f[0] == 'STREAM_PUT':
        i, group, enc = int(f[1]), int(f[8]), int(f[9])
        if group != -1 and group != i and group not in streams:
            bad('stream %d (encoding %d) sent before its group %d' % (i, enc, group))
        streams.add(i)
        s = model.get(i)
        if s and (int(f[3]), int(f[6]), int(f[7]), group if group != -1 else None, int(f[10]) or None) != \
                 (s['ssrc'], s['layers'], s['spatial_layers'], s['group'], s['dd_ext_id']):
            bad('STREAM_PUT does not match the model: %s vs %s' % (line, s))
    elif f[0] == 'SUB_PUT':
        i, sel = int(f[1]), int(f[9])
        if sel != i and sel not in subs:
            bad('subscription %d sent before %d, its sel_id' % (i, sel))
        subs.add(i)
    elif f[0] == 'DEL' and f[1] == '6':
        streams.discard(int(f[2]))
PYEOF
}
if [ -n "$FAKE_DP" ]; then
	start_fake_dp
	check_dp_log "full sync"
	[ "$(grep -c '^STREAM_PUT' "$TMP/dp.log")" -ge 12 ] || fail "full sync: too few STREAM_PUTs: $(cat "$TMP/dp.log")"
	grep -Eq '^STREAM_PUT [0-9]+ [0-9]+ 40960 2 4 2 3 -1 0 12$' "$TMP/dp.log" || fail "av1 STREAM_PUT: $(grep 40960 "$TMP/dp.log")"
	# current layers: as the stand-in tells them (events, a snapshot at the attach)
	json sub list lv
	jq_eq '[s["current"] for s in j["subscriptions"] if s["subscriber"] == "v1" and s["ssrc"] in (256, 1024)]' "[{'started': False}, None]"
	sel=$($PY -c "import json,sys; print([s['sel_id'] for s in json.load(open(sys.argv[1]))['subscriptions'] if s['subscriber'] == 'v1' and s['ssrc'] == 256][0])" "$OUT")
	selav1=$($PY -c "import json,sys; print([s['sel_id'] for s in json.load(open(sys.argv[1]))['subscriptions'] if s['subscriber'] == 'v1' and s['ssrc'] == 40960][0])" "$OUT")
	ok sub list lv
	grep -Eq '^v1 +pub +0x00000100,0x00000101,0x00000102 .* waiting for keyframe$' "$OUT" || fail "sub list: no 'waiting for keyframe': $(cat "$OUT")"
	# started, encoding 1, temporal 2 (0x81000002); av1: started, dt 3, spatial 1, temporal 1 (0x80030101)
	printf '%s 2164260866\n%s 2147680513\n' "$sel" "$selav1" >"$TMP/dp.layers.tmp" && mv "$TMP/dp.layers.tmp" "$TMP/dp.layers"
	for _ in $(seq 100); do [ -e "$TMP/dp.layers" ] || break; sleep 0.02; done
	ok sub list lv
	grep -Eq '^v1 +pub +0x00000100,0x00000101,0x00000102 .* E1:T2$' "$OUT" || fail "sub list: current layers: $(cat "$OUT")"
	grep -Eq '^v1 +pub +0x0000a000 .* DT3$' "$OUT" || fail "sub list: current AV1 decode target: $(cat "$OUT")"
	json sub list lv
	jq_eq '[s["current"] for s in j["subscriptions"] if s["subscriber"] == "v1" and s["ssrc"] in (256, 40960)]' \
		"[{'started': True, 'encoding': None, 'spatial': 1, 'temporal': 1, 'dt': 3}, {'started': True, 'encoding': 1, 'spatial': None, 'temporal': 2, 'dt': None}]"
	# new objects in the same order; every member's subscription gets the change
	: >"$TMP/dp.log"
	ok stream add lv pub --ssrc 0x600,0x601,0x602 --kind video --codec vp9 --layers 2 --spatial 3
	grep -q '^note' "$OUT" && fail "stream add with a dataplane: $(cat "$OUT")"
	check_dp_log "stream add"
	[ "$(grep -c '^STREAM_PUT [0-9]* [0-9]* 153[6-8] 2 3 2 3 ' "$TMP/dp.log")" = 3 ] || fail "stream add: STREAM_PUTs: $(cat "$TMP/dp.log")"
	[ "$(grep -c '^SUB_PUT .* 1 2 5 2 ' "$TMP/dp.log")" = 6 ] || fail "stream add: SUB_PUTs (targets T1 S2 DT5 E2): $(cat "$TMP/dp.log")"
	: >"$TMP/dp.log"
	ok sub set lv v2 --ssrc 0x602 --spatial 1 --encoding 0 --out-ssrc 99
	[ "$(grep -c '^SUB_PUT [0-9]* [0-9]* [0-9]* 99 1 1 5 0 ' "$TMP/dp.log")" = 3 ] || fail "sub set on a group: $(cat "$TMP/dp.log")"
	[ "$(awk '{print $10}' "$TMP/dp.log" | sort -u | wc -l)" = 1 ] || fail "sub set on a group: sel_id differs: $(cat "$TMP/dp.log")"
	: >"$TMP/dp.log"
	ok stream remove lv pub --ssrc 0x600
	[ "$(grep -c '^DEL 6 ' "$TMP/dp.log")" = 3 ] || fail "stream remove of a group: $(cat "$TMP/dp.log")"
	stop_fake_dp
else
	echo "   (skipped: needs a C compiler)"
fi
ok meeting end lv

step "RTCP: feedback, RTX and mmr_ssrc (participant add, stream add, sub set), errors, the dataplane's commands, persistence"
ok meeting create rt --plain
ok participant add rt pub --addr 203.0.113.90 --port 7000
ok participant add rt rx --addr 203.0.113.91 --port 7000 --rtcp nack,pli,rsize --rtx 96:97,111:112
ok participant add rt prx --addr 203.0.113.92 --port 7000 --rtcp none --role recvonly
ok stream add rt pub --ssrc 0x7000 --kind video --codec vp8 --rtx-ssrc 0x7001 --rtx-pt 97
ok stream add rt pub --ssrc 0x7100 --kind audio --codec opus --clock 48000
ok stream add rt pub --ssrc 0x7200,0x7201 --kind video --codec vp8 --rtx-ssrc 0x7210,0x7211 --rtx-pt 97 --clock 90000
json participant show rt rx
jq_eq '(j["rtcp"], j["rsize"], j["rtx"], j["mmr_ssrc"] != 0, j["rtt_us"])' "('nack,pli,rsize', True, '96:97,111:112', True, None)"
rx_mmr=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['mmr_ssrc'])" "$OUT")
ok participant show rt rx
grep -Eq '^rtcp: nack,pli,rsize; rtx: 96:97,111:112; mmr_ssrc 0x[0-9a-f]{8}; rtt -; loss - \(dataplane offline' "$OUT" ||
	fail "participant show: $(cat "$OUT")"
json participant list rt
jq_eq '[(p["name"], p["rtcp"], p["rtx"], p["mmr_ssrc"] != 0) for p in j]' \
	"[('pub', 'nack,pli,fir', None, True), ('rx', 'nack,pli,rsize', '96:97,111:112', True), ('prx', 'none', None, True)]"
jq_eq 'len(set(p["mmr_ssrc"] for p in j))' 3
ok participant list rt
grep -Eq '^rx +[0-9]+ +203\.0\.113\.91 +7000 +sendrecv +nack,pli,rsize +96:97,111:112 +0x[0-9a-f]{8} +- +- +-$' "$OUT" ||
	fail "participant list: $(cat "$OUT")"
grep -Eq '^prx +[0-9]+ +203\.0\.113\.92 +7000 +recvonly +none +- +0x[0-9a-f]{8} ' "$OUT" || fail "participant list: $(cat "$OUT")"
json meeting show rt
jq_eq '[s["ssrc"] for p in j["participants"] for s in p["streams"]]' "[28672, 28928, 29184, 29185]"
# the receiver with RTX payload types gets an RTX SSRC per view (one per simulcast group), the other none
json sub list rt
jq_eq '[(s["subscriber"], s["ssrc"], s["rtx_ssrc"] is not None) for s in j["subscriptions"]]' \
	"[('rx', 28672, True), ('rx', 28928, True), ('rx', 29184, True), ('prx', 28672, False), ('prx', 28928, False), ('prx', 29184, False)]"
jq_eq 'len(set([s["rtx_ssrc"] for s in j["subscriptions"] if s["rtx_ssrc"]] + [s["out_ssrc"] for s in j["subscriptions"]]))' 6
rx_rtx2=$($PY -c "import json,sys; print([s['rtx_ssrc'] for s in json.load(open(sys.argv[1]))['subscriptions'] if s['subscriber'] == 'rx' and s['ssrc'] == 28928][0])" "$OUT")
ok sub list rt
grep -Eq '^rx +pub +0x00007000 +video +vp8 +L1T1 +T0 +0x00007000 +0x[0-9a-f]{8} +- +[0-9]+ +unknown$' "$OUT" || fail "sub list rt: $(cat "$OUT")"
grep -Eq '^prx +pub +0x00007000 +video +vp8 +L1T1 +T0 +0x00007000 +- +- +[0-9]+ +unknown$' "$OUT" || fail "sub list rt: $(cat "$OUT")"
grep -Eq '^participant [0-9]+ [0-9]+ rx 203\.0\.113\.91 7000 sendrecv - 0 - - nack,pli,rsize 0x[0-9a-f]{8} 96:97,111:112 - - -$' "$STATE" ||
	fail "state file: rx: $(grep ' rx ' "$STATE")"
grep -Eq '^stream [0-9]+ [0-9]+ 0x00007000 video vp8 1 1 - 0 - 0x00007001 97 90000 - -$' "$STATE" || fail "state file: stream: $(grep 0x00007000 "$STATE")"
grep -Eq '^stream [0-9]+ [0-9]+ 0x00007100 audio opus 1 1 - 0 - - - 48000 - -$' "$STATE" || fail "state file: audio stream: $(grep 0x00007100 "$STATE")"
# sub set --rtx-ssrc: the whole group; 0 = none
ok sub set rt rx --ssrc 0x7201 --rtx-ssrc 0x9999
[ "$(grep -c ' 0x00009999 - -$' "$STATE")" = 2 ] || fail "sub set --rtx-ssrc on a group: $(grep 9999 "$STATE")"
ok sub set rt rx --ssrc 0x7100 --rtx-ssrc 0
json sub list rt
jq_eq '[(s["ssrc"], s["rtx_ssrc"]) for s in j["subscriptions"] if s["subscriber"] == "rx" and s["ssrc"] != 28672]' "[(28928, None), (29184, 39321)]"
step "RTCP: errors"
bad "bad RTCP feedback 'nack,bogus'" participant add rt e1 --addr 203.0.113.93 --port 7000 --rtcp nack,bogus
bad "bad RTCP feedback 'nack,nack'" participant add rt e1 --addr 203.0.113.93 --port 7000 --rtcp nack,nack
bad "bad RTX payload types '96'" participant add rt e1 --addr 203.0.113.93 --port 7000 --rtx 96
bad "bad RTX payload types '96:96'" participant add rt e1 --addr 203.0.113.93 --port 7000 --rtx 96:96
bad "bad RTX payload types '96:128'" participant add rt e1 --addr 203.0.113.93 --port 7000 --rtx 96:128
bad "too many RTX payload types" participant add rt e1 --addr 203.0.113.93 --port 7000 --rtx 96:97,98:99,100:101,102:103,104:105
bad "a payload type appears twice" participant add rt e1 --addr 203.0.113.93 --port 7000 --rtx 96:97,96:98
bad "--rtx is for participants that receive" participant add rt e1 --addr 203.0.113.93 --port 7000 --role sendonly --rtx 96:97
bad "--rtx-ssrc and --rtx-pt go together" stream add rt pub --ssrc 0x7300 --kind video --codec vp8 --rtx-ssrc 0x7301
bad "--rtx-ssrc and --rtx-pt go together" stream add rt pub --ssrc 0x7300 --kind video --codec vp8 --rtx-pt 97
bad "bad RTX payload type '0'" stream add rt pub --ssrc 0x7300 --kind video --codec vp8 --rtx-ssrc 0x7301 --rtx-pt 0
bad "one RTX SSRC per SSRC" stream add rt pub --ssrc 0x7300,0x7302 --kind video --codec vp8 --rtx-ssrc 0x7301 --rtx-pt 97
bad "RTX SSRC 0x00007300 is also a media SSRC" stream add rt pub --ssrc 0x7300 --kind video --codec vp8 --rtx-ssrc 0x7300 --rtx-pt 97
bad "SSRC 0x7001 is already used in meeting 'rt'" stream add rt pub --ssrc 0x7001 --kind video --codec vp8
bad "SSRC 0x7001 is already used in meeting 'rt'" stream add rt pub --ssrc 0x7300 --kind video --codec vp8 --rtx-ssrc 0x7001 --rtx-pt 97
bad "is the MMR's own RTCP SSRC toward 'rx'" stream add rt pub --ssrc "$rx_mmr" --kind video --codec vp8
bad "bad clock rate '5'" stream add rt pub --ssrc 0x7300 --kind video --codec vp8 --clock 5
bad "bad clock rate '2000000'" stream add rt pub --ssrc 0x7300 --kind video --codec vp8 --clock 2000000
bad "participant 'prx' takes no RTX" sub set rt prx --ssrc 0x7000 --rtx-ssrc 0x5555
bad "the RTX SSRC and the out SSRC are both 0x00007000" sub set rt rx --ssrc 0x7000 --rtx-ssrc 0x7000
bad "RTX SSRC 0x00009999 is already one 'rx' receives" sub set rt rx --ssrc 0x7000 --rtx-ssrc 0x9999
bad "RTX SSRC 0x00007200 is already one 'rx' receives, a stream's" sub set rt rx --ssrc 0x7000 --rtx-ssrc 0x7200
bad "out SSRC" sub set rt rx --ssrc 0x7100 --out-ssrc "$rx_mmr"
bad "bad RTX SSRC 'x'" sub set rt rx --ssrc 0x7000 --rtx-ssrc x
bad "no participant 'nobody'" participant show rt nobody
bad "no meeting 'nosuch'" participant list nosuch
step "RTCP: persistence across kill -9"
json participant list rt; rt_parts=$(cat "$OUT")
json sub list rt; rt_subs=$(cat "$OUT")
rt_state=$(cat "$STATE")
kill_ctl 9
start_ctl
json participant list rt; [ "$(cat "$OUT")" = "$rt_parts" ] || fail "participant list rt differs after restart"
json sub list rt; [ "$(cat "$OUT")" = "$rt_subs" ] || fail "sub list rt differs after restart"
[ "$(cat "$STATE")" = "$rt_state" ] || fail "state file changed by the restart"
if [ -n "$FAKE_DP" ]; then
	step "RTCP: what goes to the dataplane"
	start_fake_dp
	rx_id=$($PY -c "import json,sys; print([p['id'] for p in json.load(open(sys.argv[1])) if p['name'] == 'rx'][0])" <(echo "$rt_parts"))
	# rx: NACK 1 | PLI 2 | RSIZE 8 | RTX 16 = 27
	grep -Eq "^PARTICIPANT $rx_id 27 $rx_mmr 96:97 111:112 0:0 0:0\$" "$TMP/dp.log.rtcp" || fail "PARTICIPANT_PUT rx: $(cat "$TMP/dp.log.rtcp")"
	grep -Eq '^PARTICIPANT [0-9]+ 0 [1-9][0-9]* 0:0 0:0 0:0 0:0$' "$TMP/dp.log.rtcp" || fail "PARTICIPANT_PUT prx: $(cat "$TMP/dp.log.rtcp")"
	grep -q '^STREAM 28672 28673 97 90000$' "$TMP/dp.log.rtcp" || fail "STREAM_PUT rtx: $(cat "$TMP/dp.log.rtcp")"
	grep -q '^STREAM 28928 0 0 48000$' "$TMP/dp.log.rtcp" || fail "STREAM_PUT audio: $(cat "$TMP/dp.log.rtcp")"
	grep -q '^STREAM 29185 29201 97 90000$' "$TMP/dp.log.rtcp" || fail "STREAM_PUT group member: $(cat "$TMP/dp.log.rtcp")"
	[ "$(grep -c "^SUB $rx_id [0-9]* 29184 39321\$" "$TMP/dp.log.rtcp")" = 2 ] || fail "SUB_PUT group rtx: $(cat "$TMP/dp.log.rtcp")"
	grep -q "^SUB $rx_id [0-9]* 28928 0\$" "$TMP/dp.log.rtcp" || fail "SUB_PUT rtx none: $(cat "$TMP/dp.log.rtcp")"
	: >"$TMP/dp.log.rtcp"
	ok sub set rt rx --ssrc 0x7000 --rtx-ssrc 0x4242
	grep -q "^SUB $rx_id [0-9]* 28672 16962\$" "$TMP/dp.log.rtcp" || fail "sub set --rtx-ssrc: $(cat "$TMP/dp.log.rtcp")"
	stop_fake_dp
fi
ok meeting end rt

step "QoS: top-N audio, header extensions, TWCC/REMB, screen, pin: commands, JSON, state file"
ok meeting create qn --top-n 2 --plain
ok participant add qn a --addr 203.0.113.120 --port 7000 --rtcp nack,pli,twcc --ext twcc=3,audio-level=1
ok participant add qn b --addr 203.0.113.121 --port 7000 --rtcp remb --ext abs-send-time=2
ok participant add qn c --addr 203.0.113.122 --port 7000 --role recvonly
ok stream add qn a --ssrc 0x8000 --kind audio --codec opus
! grep -q warning "$OUT" || fail "stream add qn a (with audio-level): $(cat "$OUT")"
ok stream add qn a --ssrc 0x8001 --kind video --codec vp8 --layers 3 --screen
ok stream add qn b --ssrc 0x8100 --kind audio --codec opus
grep -q "^warning: participant 'b' sends audio without the audio level extension" "$OUT" ||
	fail "stream add qn b (no audio-level in a top-N meeting): no warning: $(cat "$OUT")"
ok stream add qn b --ssrc 0x8101 --kind video --codec vp9 --layers 3 --spatial 3
json meeting show qn
jq_eq '(j["top_n"], j["dominant_speaker"])' "(2, None)"
ok meeting show qn
grep -q '^top-n: 2 ' "$OUT" && grep -q '^dominant speaker: none$' "$OUT" || fail "meeting show qn: $(head -3 "$OUT")"
json sub list qn
# every receiver has 2 slots and no per-pair audio; video per pair
jq_eq 'sorted((s["subscriber"], s["topn_slot"]) for s in j["subscriptions"] if s["kind"] == "audio")' \
	"[('a', 0), ('a', 1), ('b', 0), ('b', 1), ('c', 0), ('c', 1)]"
jq_eq 'all(len(set(s["out_ssrc"] for s in j["subscriptions"] if s["subscriber"] == r)) == len([s for s in j["subscriptions"] if s["subscriber"] == r]) for r in "abc")' True
jq_eq '[(s["subscriber"], s["screen"], s["pinned"]) for s in j["subscriptions"] if s["ssrc"] == 32769]' "[('b', True, False), ('c', True, False)]"
ok sub list qn
grep -Eq '^c +top-N slot 1 +- +audio +opus +- +- +0x[0-9a-f]{8} +- +- +[0-9]+ +-$' "$OUT" || fail "sub list qn: slot row: $(cat "$OUT")"
ok sub set qn c --ssrc 0x8101 --pin
json sub list qn
jq_eq '[s["pinned"] for s in j["subscriptions"] if s["subscriber"] == "c" and s["ssrc"] == 33025]' "[True]"
json participant show qn a
jq_eq '(j["rtcp"], j["ext"])' "('nack,pli,twcc', {'twcc': 3, 'audio-level': 1})"
ok participant show qn b
grep -q '^ext: abs-send-time=2$' "$OUT" || fail "participant show qn b: $(cat "$OUT")"
grep -Eq '^meeting [0-9]+ qn plain 2$' "$STATE" || fail "state file: meeting qn: $(grep qn "$STATE")"
grep -Eq '^participant [0-9]+ [0-9]+ a .* nack,pli,twcc 0x[0-9a-f]{8} - twcc=3,audio-level=1 - -$' "$STATE" ||
	fail "state file: participant a: $(grep ' a ' "$STATE")"
grep -Eq '^stream [0-9]+ [0-9]+ 0x00008001 video vp8 3 1 - 0 - - - 90000 screen -$' "$STATE" || fail "state file: screen: $(grep 0x00008001 "$STATE")"
[ "$(grep -Ec '^sub [0-9]+ - [0-9]+ 0 0x[0-9a-f]{8} 0 0 0 - - [01]$' "$STATE")" = 6 ] || fail "state file: slots: $(grep '^sub' "$STATE")"
grep -Eq '^sub [0-9]+ [0-9]+ [0-9]+ 2 0x00008101 2 8 0 - pinned -$' "$STATE" || fail "state file: pinned: $(grep 0x00008101 "$STATE")"
# top-n off: per-pair audio again; on: slots again, no per-pair audio
ok meeting set qn --top-n 0
json sub list qn
jq_eq 'sorted((s["subscriber"], s["ssrc"]) for s in j["subscriptions"] if s["kind"] == "audio")' \
	"[('a', 33024), ('b', 32768), ('c', 32768), ('c', 33024)]"
bad "--pin/--unpin are for video" sub set qn c --ssrc 0x8000 --pin
bad "--pin and --unpin exclude each other" sub set qn c --ssrc 0x8101 --pin --unpin
ok meeting set qn --top-n 3
[ "$(grep -c '^warning: participant ' "$OUT")" = 1 ] && grep -q "'b'.*top-3 meeting" "$OUT" ||
	fail "meeting set qn --top-n 3: want one warning (b): $(cat "$OUT")"
json sub list qn
jq_eq '(len([s for s in j["subscriptions"] if s["topn_slot"] is not None]), len([s for s in j["subscriptions"] if s["kind"] == "audio" and s["topn_slot"] is None]))' "(9, 0)"
ok meeting set qn --top-n 1
json sub list qn
jq_eq 'sorted((s["subscriber"], s["topn_slot"]) for s in j["subscriptions"] if s["kind"] == "audio")' "[('a', 0), ('b', 0), ('c', 0)]"
step "QoS: errors"
bad "bad top-n '9'" meeting create qx --top-n 9
bad "bad top-n 'x'" meeting set qn --top-n x
bad "no meeting 'nosuch'" meeting set nosuch --top-n 1
bad "missing option --top-n" meeting set qn
bad "header extension id out of range in 'twcc=15'" participant add qn e --addr 203.0.113.125 --port 7000 --ext twcc=15
bad "header extension id out of range in 'twcc=0'" participant add qn e --addr 203.0.113.125 --port 7000 --ext twcc=0
bad "header extension id out of range in 'twcc=256'" participant add qn e --addr 203.0.113.125 --port 7000 --ext twcc=256 --ext-two-byte
bad "two header extensions share an id" participant add qn e --addr 203.0.113.125 --port 7000 --ext twcc=3,audio-level=3
bad "a header extension appears twice" participant add qn e --addr 203.0.113.125 --port 7000 --ext twcc=3,twcc=4
bad "bad header extensions 'foo=3'" participant add qn e --addr 203.0.113.125 --port 7000 --ext foo=3
bad "--rtcp twcc needs --ext twcc=ID" participant add qn e --addr 203.0.113.125 --port 7000 --rtcp nack,twcc
bad "--rtcp remb needs --ext abs-send-time=ID" participant add qn e --addr 203.0.113.125 --port 7000 --rtcp remb --ext twcc=3
bad "--ext-two-byte goes with --ext" participant add qn e --addr 203.0.113.125 --port 7000 --ext-two-byte
bad "bad RTCP feedback 'twcc,bogus'" participant add qn e --addr 203.0.113.125 --port 7000 --rtcp twcc,bogus
bad "--screen is for video" stream add qn a --ssrc 0x8002 --kind audio --codec opus --screen
bad "its audio reaches 'c' through top-N slots" sub set qn c --ssrc 0x8000 --target 0
ok participant add qn e --addr 203.0.113.125 --port 7000 --rtcp twcc --ext twcc=200 --ext-two-byte
json participant show qn e
jq_eq 'j["ext"]' "{'twcc': 200}"
step "ICE credentials (issue 13)"
ok meeting create icem --plain
ok participant add icem i1 --ice iceUfrag1:0123456789abcdefABCDEF+/
bad "already used by participant 'i1'" participant add icem i2 --ice iceUfrag1:0123456789abcdefABCDEF+/
bad "bad ICE pwd" participant add icem i2 --ice iceUfrag2:short
bad "bad ICE ufrag" participant add icem i2 --ice abc:0123456789abcdefABCDEF+/
bad "--addr and --port are needed" participant add icem i2
ok participant add icem i2 --ice iceUfrag2:0123456789abcdefABCDEF+/ --addr 203.0.113.140 --port 7140
bad "already used by participant 'i2'" participant set icem i1 --addr 203.0.113.140 --port 7140
bad "nothing to set" participant set icem i1
bad "needs an address" participant set icem i1 --ice -
ok participant set icem i1 --addr 203.0.113.141 --port 7141
ok participant set icem i2 --no-addr --ice newUfrag2:0123456789abcdefABCDEF+/
json participant show icem i1
jq_eq '(j["ice_ufrag"], j["addr"], j["port"])' "('iceUfrag1', '203.0.113.141', 7141)"
json participant show icem i2
jq_eq '(j["ice_ufrag"], j["addr"], j["port"])' "('newUfrag2', '0.0.0.0', 0)"
ok participant show icem i2
grep -q 'ice: ufrag newUfrag2, no address yet' "$OUT" || fail "participant show: no ice line: $(cat "$OUT")"
ok participant set icem i1 --ice -
json participant show icem i1
jq_eq 'j["ice_ufrag"]' "None"
ok participant add icem i3 --ice iceUfrag1:0123456789abcdefABCDEF+/
grep -q '0123456789abcdefABCDEF+/' "$LOG" && fail "the ICE pwd is in the controller log"
kill_ctl 9
start_ctl
json participant show icem i2
jq_eq '(j["ice_ufrag"], j["port"])' "('newUfrag2', 0)"
json participant show icem i3
jq_eq '(j["ice_ufrag"], j["port"])' "('iceUfrag1', 0)"
json participant show icem i1
jq_eq '(j["ice_ufrag"], j["port"])' "(None, 7141)"
ok meeting end icem
step "SSRC learning (issue 13): --ext mid/rid/rrid, stream add --mid/--rid, participant set --ext"
ok meeting create slm --plain
ok participant add slm lp --addr 203.0.113.150 --port 7150 --ext mid=4,rid=10,rrid=11
ok participant add slm lr --addr 203.0.113.151 --port 7151
bad "give --ssrc" stream add slm lp --kind video --codec vp8
bad "has no mid header extension id" stream add slm lr --mid 1 --kind video --codec vp8
bad "bad rid" stream add slm lp --mid 1 --rid q,,f --kind video --codec vp8
bad "too many rids" stream add slm lp --mid 1 --rid a,b,c,d --kind video --codec vp8
bad "--rid has 2 rids, --ssrc 1" stream add slm lp --ssrc 0x7150 --mid 1 --rid q,h --kind video --codec vp8
bad "header extension id out of range" participant add slm lx --addr 203.0.113.152 --port 7152 --ext mid=15
ok stream add slm lp --mid 1 --rid q,h,f --rtx-pt 97 --kind video --codec vp8 --layers 3
bad "already publishes a stream with mid '1'" stream add slm lp --mid 1 --kind audio --codec opus
ok stream add slm lp --ssrc 0x7777 --mid 0 --kind audio --codec opus
json participant show slm lp
jq_eq '[(s["mid"], s["rid"], s["learned"], s["rtx_learned"]) for s in j["published"]]' "[('1', 'q', False, False), ('1', 'h', False, False), ('1', 'f', False, False), ('0', None, True, True)]"
jq_eq 'j["ext"]' "{'mid': 4, 'rid': 10, 'rrid': 11}"
jq_eq 'j["published"][3]["ssrc"]' "30583"
bad "still being learned" participant set slm lp --ext mid=4
ok participant set slm lp --ext twcc=3,mid=5,rid=10,rrid=11
grep -Eq '^stream [0-9]+ [0-9]+ 0x[0-9a-f]{8} video vp8 3 1 [0-9]+ 1 - - - 90000 - 1:h:3:97$' "$STATE" ||
	fail "state file: learning stream: $(grep '^stream' "$STATE")"
grep -Eq ' 0x00007777 audio opus 1 1 - 0 - - - 48000 - 0::0:0$' "$STATE" || fail "state file: mid of an SSRC stream: $(grep 0x00007777 "$STATE")"
kill_ctl 9
start_ctl
json participant show slm lp
jq_eq '[(s["mid"], s["rid"], s["learned"]) for s in j["published"]]' "[('1', 'q', False), ('1', 'h', False), ('1', 'f', False), ('0', None, True)]"
jq_eq 'j["ext"]' "{'twcc': 3, 'mid': 5, 'rid': 10, 'rrid': 11}"
ok participant show slm lp
grep -q 'ssrc learning (stand-in 0x' "$OUT" && grep -q 'mid 1, rid f, rtx learning (pt 97)' "$OUT" ||
	fail "participant show text: $(cat "$OUT")"
ok meeting end slm

step "DTLS participants (issue 13)"
FP1=$(printf 'A%X:' $(seq 0 15) | sed 's/:$//'):$(printf 'B%X:' $(seq 0 15) | sed 's/:$//')
FP2=$(printf 'C%X:' $(seq 0 15) | sed 's/:$//'):$(printf 'D%X:' $(seq 0 15) | sed 's/:$//')
ok meeting create dtm --srtp AEAD_AES_128_GCM
ok meeting create dtp --plain
bad "DTLS needs ICE credentials" participant add dtm d0 --addr 203.0.113.160 --port 7160 --dtls-fp "$FP1"
bad "bad DTLS fingerprint" participant add dtm d0 --ice dtlsU0:0123456789abcdefABCDEF+/ --dtls-fp AB:CD
bad "bad DTLS role" participant add dtm d0 --ice dtlsU0:0123456789abcdefABCDEF+/ --dtls-fp "$FP1" --dtls-role both
bad "--dtls-role goes with --dtls-fp" participant add dtm d0 --ice dtlsU0:0123456789abcdefABCDEF+/ --dtls-role client
bad "DTLS-SRTP needs an SRTP meeting" participant add dtp d0 --ice dtlsU0:0123456789abcdefABCDEF+/ --dtls-fp "$FP1"
ok participant add dtm d1 --ice dtlsU1:0123456789abcdefABCDEF+/ --dtls-fp "sha-256 $FP1"
grep -q 'inline:' "$OUT" && fail "a DTLS participant's add printed keys: $(cat "$OUT")"
ok participant add dtm s1 --addr 203.0.113.161 --port 7161
grep -q 'send_key inline:' "$OUT" || fail "an SDES participant's add printed no keys"
bad "gets its keys from its DTLS handshake" participant keys dtm d1
bad "gets its keys from its DTLS handshake" participant rekey dtm d1
bad "has SDES keys" participant set dtm s1 --dtls-fp "$FP1"
bad "keeps ICE credentials" participant set dtm d1 --ice -
json participant show dtm d1
jq_eq '(j["dtls"], j["dtls_role"], j["dtls_peer_fingerprint"], j["dtls_suite"])' "('waiting', 'server', '$FP1', None)"
ok participant set dtm d1 --dtls-fp "$FP2" --dtls-role client
json participant show dtm d1
jq_eq '(j["dtls"], j["dtls_role"], j["dtls_peer_fingerprint"])' "('waiting', 'client', '$FP2')"
ok participant show dtm d1
grep -q "dtls: waiting, MMR role client, peer fingerprint sha-256 $FP2" "$OUT" || fail "participant show: no dtls line: $(cat "$OUT")"
json participant list dtm
jq_eq '[(p["name"], p["dtls"]) for p in j]' "[('d1', 'waiting'), ('s1', 'none')]"
kill_ctl 9
start_ctl
json participant show dtm d1
jq_eq '(j["dtls"], j["dtls_role"], j["dtls_peer_fingerprint"])' "('waiting', 'client', '$FP2')"
grep -q "^pdtls \|^participant .* client:$FP2\$" "$STATE" "$STATE".journal* 2>/dev/null || true
ok meeting end dtm
ok meeting end dtp
step "QoS: persistence across kill -9"
json sub list qn; qn_subs=$(cat "$OUT")
json participant list qn; qn_parts=$(cat "$OUT")
kill_ctl 9
start_ctl
json sub list qn; [ "$(cat "$OUT")" = "$qn_subs" ] || fail "sub list qn differs after restart"
json participant list qn; [ "$(cat "$OUT")" = "$qn_parts" ] || fail "participant list qn differs after restart"
if [ -n "$FAKE_DP" ]; then
	step "QoS: what goes to the dataplane"
	start_fake_dp
	qn_id=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['id'])" <("$CLI" -S "$SOCK" --json meeting show qn))
	a_id=$($PY -c "import json,sys; print([p['id'] for p in json.load(open(sys.argv[1])) if p['name'] == 'a'][0])" <(echo "$qn_parts"))
	grep -q "^MEETING $qn_id 1\$" "$TMP/dp.log.qos" || fail "MEETING_PUT in the replay: $(cat "$TMP/dp.log.qos")"
	# a: NACK 1 | PLI 2 | TWCC 0x20 = 35, twcc 3, abs 0, level 1
	grep -q "^QPART $a_id 35 3 0 1\$" "$TMP/dp.log.qos" || fail "PARTICIPANT_PUT a: $(cat "$TMP/dp.log.qos")"
	grep -q '^QSTREAM 32769 1$' "$TMP/dp.log.qos" || fail "STREAM_PUT screen: $(cat "$TMP/dp.log.qos")"
	[ "$(grep -c '^QSUB [0-9]* -1 [0-9]* [0-9]* 0 1$' "$TMP/dp.log.qos")" = 4 ] || fail "SUB_PUT slots: $(cat "$TMP/dp.log.qos")"
	grep -q '^QSUB [0-9]* [0-9]* [0-9]* 33025 1 0$' "$TMP/dp.log.qos" || fail "SUB_PUT pinned: $(cat "$TMP/dp.log.qos")"
	: >"$TMP/dp.log.qos"
	ok meeting set qn --top-n 2
	head -1 "$TMP/dp.log.qos" | grep -q "^MEETING $qn_id 2\$" || fail "meeting set 2: MEETING_PUT first: $(cat "$TMP/dp.log.qos")"
	[ "$(grep -c '^QSUB [0-9]* -1 [0-9]* [0-9]* 0 2$' "$TMP/dp.log.qos")" = 4 ] || fail "meeting set 2: slot SUB_PUTs: $(cat "$TMP/dp.log.qos")"
	: >"$TMP/dp.log.qos"
	ok meeting set qn --top-n 0
	tail -1 "$TMP/dp.log.qos" | grep -q "^MEETING $qn_id 0\$" || fail "meeting set 0: MEETING_PUT last: $(cat "$TMP/dp.log.qos")"
	[ "$(grep -c '^QDEL ' "$TMP/dp.log.qos")" = 8 ] || fail "meeting set 0: slot SUB_DELs: $(cat "$TMP/dp.log.qos")"
	[ "$(grep -Ec '^QSUB [0-9]+ [0-9]+ [0-9]+ (32768|33024) 0 0$' "$TMP/dp.log.qos")" = 6 ] || fail "meeting set 0: audio SUB_PUTs: $(cat "$TMP/dp.log.qos")"
	ok meeting set qn --top-n 1
	: >"$TMP/dp.log.qos"
	ok meeting end qn
	grep -q "^MEETING $qn_id 0\$" "$TMP/dp.log.qos" || fail "meeting end: MEETING_DEL: $(cat "$TMP/dp.log.qos")"
	stop_fake_dp
else
	ok meeting end qn
fi

step "persistence across kill -9"
ok meeting show m1; show_txt=$(cat "$OUT")
json meeting show m1; show_json=$(cat "$OUT")
json meeting list; list_json=$(cat "$OUT")
json sub list m1; subs_json=$(cat "$OUT")
state_before=$(cat "$STATE")
kill_ctl 9
[ ! -e "$STATE.tmp" ] || fail "temporary state file left behind"
cli status
[ $RC -eq 2 ] || fail "mmrctl with the controller dead: exit $RC, want 2"
start_ctl
ok meeting show m1; [ "$(cat "$OUT")" = "$show_txt" ] || fail "meeting show differs after restart"
json meeting show m1; [ "$(cat "$OUT")" = "$show_json" ] || fail "meeting show --json differs after restart"
json meeting list; [ "$(cat "$OUT")" = "$list_json" ] || fail "meeting list differs after restart"
json sub list m1; [ "$(cat "$OUT")" = "$subs_json" ] || fail "sub list differs after restart"
[ "$(cat "$STATE")" = "$state_before" ] || fail "state file changed by the restart"
# ids stay dense: a new participant reuses a freed id (alice..erin are 0-4, frank had 5)
ok participant remove m1 bob
ok participant add m1 bob2 --addr 203.0.113.12 --port 5000 --role recvonly
json meeting show m1
jq_eq '[p["id"] < 6 for p in j["participants"] if p["name"] == "bob2"]' "[True]"

step "kill -9 with requests in flight leaves a valid state file"
for round in 1 2 3; do
	( for i in $(seq 40); do
		"$CLI" -S "$SOCK" participant add m2 "k$i" --addr 10.1.0.$i --port 7000 >/dev/null 2>&1
		"$CLI" -S "$SOCK" stream add m2 "k$i" --ssrc $((9000 + i)) --kind audio --codec opus >/dev/null 2>&1
	  done ) &
	loop=$!
	sleep 0.$((2 + round))
	kill_ctl 9
	wait $loop
	start_ctl
	json meeting show m2
	n=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["participants"]))' "$OUT")
	[ "$n" -ge 1 ] || fail "round $round: meeting m2 lost its participants"
	for i in $(seq 40); do "$CLI" -S "$SOCK" participant remove m2 "k$i" >/dev/null 2>&1; done
done
json meeting show m2
jq_eq '[p["name"] for p in j["participants"]]' "['erin']"

step "corrupt state files are refused"
kill_ctl TERM
[ "$KILL_RC" -eq 0 ] || fail "SIGTERM: exit status $KILL_RC, want 0"
[ ! -e "$SOCK" ] || fail "socket left behind after SIGTERM"
cp "$STATE" "$TMP/state.good"
corrupt() {   # corrupt WHAT EXPECT: the controller must refuse to start
	"$CTL" -c "$CONF" 2>"$ERR" & local pid=$!
	local i
	for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
	if kill -0 $pid 2>/dev/null; then
		kill -9 $pid; wait $pid 2>/dev/null
		fail "controller started on a corrupt state file ($1)"
	fi
	wait $pid; local rc=$?
	[ $rc -ne 0 ] || fail "corrupt state ($1): exit 0"
	grep -q "cannot load state file: .*$2" "$ERR" || fail "corrupt state ($1): $(cat "$ERR")"
}
head -n 5 "$TMP/state.good" >"$STATE"; corrupt truncated "no end line"
: >"$STATE"; corrupt empty "not an mmr state file"
printf 'hello\n' >"$STATE"; corrupt garbage "not an mmr state file"
sed 's/^end .*/end 9 9 9 9/' "$TMP/state.good" >"$STATE"; corrupt counts "do not match"
grep -v '^sub ' "$TMP/state.good" | sed 's/^end \([0-9]*\) \([0-9]*\) \([0-9]*\) [0-9]*/end \1 \2 \3 0/' >"$STATE"
corrupt "missing subscriptions" "subscriptions, the meeting's receivers need"
sed '0,/^participant /s/203\.0\.113\.1 /203.0.113.999 /' "$TMP/state.good" >"$STATE"; corrupt "bad address" "bad address"
cp "$TMP/state.good" "$STATE"
start_ctl
json meeting list
[ "$(cat "$OUT")" != "" ] || fail "no meeting list after restoring the state"

step "meeting end"
ok meeting end m1
json meeting list
jq_eq '[m["name"] for m in j["meetings"]]' "['m2']"
ok participant add m2 alice --addr 203.0.113.1 --port 5000   # its address is free again
kill_ctl TERM
start_ctl
json meeting list
jq_eq '[(m["name"], m["participants"]) for m in j["meetings"]]' "[('m2', 2)]"

step "state files: the previous version loads; version 3 groups are checked"
kill_ctl TERM
cat >"$STATE" <<'SEOF'
mmr-state 2
meeting 0 old plain
participant 0 0 a 203.0.113.51 5000 sendrecv - 0 - -
participant 1 0 b 203.0.113.52 5000 recvonly - 0 - -
stream 0 0 0x00000010 video vp8 3
stream 1 0 0x00000011 audio opus 1
sub 0 0 1 1 0x00000077
sub 1 1 1 0 0x00000011
end 1 2 2 2
SEOF
start_ctl
json meeting show old
jq_eq '[(s["ssrc"], s["layers"], s["spatial_layers"], s["group"], s["encoding"], s["dd_ext_id"]) for s in j["participants"][0]["streams"]]' \
	"[(16, 3, 1, None, None, None), (17, 1, 1, None, None, None)]"
json sub list old
jq_eq '[(s["ssrc"], s["target"], s["target_encoding"], s["out_ssrc"], s["sel_id"] == s["id"]) for s in j["subscriptions"]]' \
	"[(16, 1, None, 119, True), (17, 0, None, 17, True)]"
ok sub set old b --ssrc 0x10 --target 2
grep -q '^mmr-state 9$' "$STATE" || fail "not rewritten as version 9: $(head -3 "$STATE")"
grep -Eq '^state_id [0-9a-f]{32} [0-9]+ [0-9]+$' "$STATE" || fail "a version 2 file got no state id: $(head -3 "$STATE")"
grep -qx 'stream 0 0 0x00000010 video vp8 3 1 - 0 - - - 90000 - -' "$STATE" || fail "v2 stream as v3: $(grep '^stream' "$STATE")"
grep -qx 'sub 0 0 1 2 0x00000077 0 0 0 - - -' "$STATE" || fail "v2 subscription as v3: $(grep '^sub' "$STATE")"
kill_ctl TERM
# a group whose members have lower ids than its encoding 0 (ids are reused), as a restart finds it
cat >"$TMP/state.rev" <<'SEOF'
mmr-state 3
meeting 0 rev plain
participant 0 0 a 203.0.113.51 5000 sendrecv - 0 - -
participant 1 0 b 203.0.113.52 5000 recvonly - 0 - -
stream 5 0 0x00000020 video vp8 2 1 5 0 -
stream 2 0 0x00000021 video vp8 2 1 5 1 -
stream 1 0 0x00000022 video vp8 2 1 5 2 -
stream 0 0 0x00000023 video av1 2 2 - 0 7
sub 7 5 1 1 0x00000020 0 1 2
sub 3 2 1 1 0x00000020 0 1 2
sub 0 1 1 1 0x00000020 0 1 2
sub 1 0 1 0 0x00000023 1 3 0
end 1 2 4 4
SEOF
variant() {   # variant SED_SCRIPT WHAT EXPECT
	sed "$1" "$TMP/state.rev" >"$STATE"
	corrupt "$2" "$3"
}
variant '/^stream 2 /d; /^stream 1 /d; /^sub 3 /d; /^sub 0 /d; s/ 0x00000020 0 1 2$/ 0x00000020 0 1 0/; s/^end .*/end 1 2 2 2/' "group of one" "a simulcast group of one"
variant '/^stream 2 /d; /^sub 3 /d; s/^end .*/end 1 2 3 3/' "missing encoding" "encoding 2 of group 5 does not follow encoding 1"
variant 's/^stream 2 0 0x00000021 video vp8 2/stream 2 0 0x00000021 video vp8 3/' "layers differ in a group" "not the same codec and layers"
variant 's/^stream 0 0 0x00000023 video av1 2 2 - 0 7/stream 0 0 0x00000023 video av1 2 2 - 0 -/' "av1 without dd-ext" "av1 needs a Dependency Descriptor extension id"
variant 's/^stream 5 0 0x00000020 video vp8 2 1 5 0 -/stream 5 0 0x00000020 video vp8 2 1 5 0 9/' "dd-ext on vp8" "a Dependency Descriptor extension id for vp8"
variant 's/^stream 5 0 0x00000020 video vp8 2 1 5 0/stream 5 0 0x00000020 video vp8 2 2 5 0/' "spatial layers on vp8" "bad spatial layer count '2' for vp8"
variant 's/^sub 3 2 1 1 0x00000020 0 1 2/sub 3 2 1 0 0x00000020 0 1 2/' "targets differ in a group" "targets differ from subscription 7"
variant 's/^sub 1 0 1 0 0x00000023 1 3 0/sub 1 0 1 0 0x00000023 1 2 0/; s/^sub 1 0 1 0 0x00000023 1 2 0/sub 1 0 1 0 0x00000023 2 1 0/' "spatial target too high" "bad spatial target '2'"
variant 's/^sub 1 0 1 0 0x00000023 1 3 0/sub 1 0 1 0 0x00000023 1 2 1/' "encoding outside a group" "bad target encoding '1'"
variant 's/^sub 7 5 1 1 0x00000020 0 1 2/sub 7 5 1 1 0x00000020 0 2 2/' "decode target too high" "bad decode target '2'"
variant 's/^stream 5 0 0x00000020 video vp8 2 1 5 0 -/stream 5 0 0x00000020 video vp8 2/' "v2 stream line in v3" "stream: expected"
variant 's/^mmr-state 3/mmr-state 10/' "a newer version" "unsupported state file version '10'"
variant "s/^mmr-state 3/mmr-state 4\nstate_id $LEDGER1 1 1/" "a state id in version 4" "unknown record 'state_id' in a version 4 file"
variant "s/^mmr-state 3/mmr-state 5\nstate_id $LEDGER1 1 1\nstate_id $LEDGER1 1 1/" "two state ids" "state_id appears twice"
variant "s/^mmr-state 3/mmr-state 5\nstate_id ${LEDGER1}0 1 1/" "a bad state id" "state_id: bad id"
variant "s/^mmr-state 3/mmr-state 5\nstate_id $LEDGER1 1/" "a state id without its counts" "state_id: expected 'state_id ID TOKEN CHANGES'"
variant "s/^mmr-state 3/mmr-state 5\nstate_id $LEDGER1 1 x/" "a bad change count" "state_id: bad change count 'x'"
variant "s/^end /state_id $LEDGER1 1 1\nend /; s/^mmr-state 3/mmr-state 5/" "a state id after the meetings" "state_id after the first meeting"
variant "s/^mmr-state 3/mmr-state 3\nsrtp_ledger $LEDGER1 -/" "a ledger line in version 3" "unknown record 'srtp_ledger' in a version 3 file"
variant "s/^mmr-state 3/mmr-state 4\nsrtp_ledger $LEDGER1 -\nsrtp_ledger $LEDGER1 -/" "two ledger lines" "srtp_ledger appears twice"
variant "s/^mmr-state 3/mmr-state 4\nsrtp_ledger ${LEDGER1}0 -/" "a bad ledger id" "srtp_ledger: bad id"
variant "s/^mmr-state 3/mmr-state 4\nsrtp_ledger $LEDGER1 yesterday/" "a bad rekey time" "srtp_ledger: bad rekey time 'yesterday'"
variant "s/^end /srtp_ledger $LEDGER1 -\nend /; s/^mmr-state 3/mmr-state 4/" "a ledger line after the meetings" "srtp_ledger after the first meeting"
cp "$TMP/state.rev" "$STATE"
start_ctl
json sub list rev
jq_eq '[(s["ssrcs"], s["id"], s["sel_id"], s["target_encoding"]) for s in j["subscriptions"]]' "[([32, 33, 34], 7, 7, 2), ([35], 1, 1, None)]"
if [ -n "$FAKE_DP" ]; then
	start_fake_dp
	check_dp_log "full sync with reused ids" rev
	grep -q '^SUB_PUT 3 2 1 32 1 0 1 2 7$' "$TMP/dp.log" || fail "replay: member subscription: $(grep '^SUB_PUT' "$TMP/dp.log")"
	grep -q '^SUB_PUT 1 0 1 35 0 1 3 0 1$' "$TMP/dp.log" || fail "replay: av1 subscription: $(grep '^SUB_PUT' "$TMP/dp.log")"
	stop_fake_dp
fi
ok sub set rev b --ssrc 0x21 --encoding 0
[ "$(grep -c '^sub [0-9]* [0-9]* 1 1 0x00000020 0 1 0 - - -$' "$STATE")" = 3 ] || fail "sub set on a loaded group: $(grep '^sub' "$STATE")"
kill_ctl TERM
[ "$KILL_RC" -eq 0 ] || fail "SIGTERM: exit status $KILL_RC, want 0"

# dp_keys_check WHAT KEYS_FILE...: every SRTP PARTICIPANT_PUT the stand-in got carries keys printed
# in these files (`participant keys` outputs), and there is at least one
dp_keys_check() {
	local what=$1
	shift
	$PY - "$TMP/dp.log" "$@" 2>"$ERR" <<'PYEOF' || fail "$what: $(cat "$ERR")"
import base64, sys
want = set()
for name in sys.argv[2:]:
    for line in open(name):
        k, _, v = line.strip().partition(' ')
        if k in ('send_key', 'recv_key'):
            want.add(base64.b64decode(v.split(':', 1)[1]).hex())
n = 0
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] == 'PARTICIPANT_PUT' and f[2] != '0':
        n += 1
        if f[3] not in want or f[4] not in want:
            sys.exit('participant %s was sent keys other than the ones printed' % f[1])
if n == 0:
    sys.exit('no SRTP PARTICIPANT_PUT in the replay')
PYEOF
}
step "SRTP ledger: recorded in the state file; a new ledger gets every SRTP participant new keys before the replay"
if [ -n "$FAKE_DP" ]; then
	# the rev state was saved after the stand-in's attach (no SRTP participants: its id just recorded)
	grep -qx "srtp_ledger $LEDGER1 -" "$STATE" || fail "no ledger line: $(head -3 "$STATE")"
	grep -q 'SRTP ledger 00112233\.\. recorded' "$LOG" || fail "the recorded ledger is not logged"
	start_ctl
	json status
	jq_eq '(j["controller"]["srtp_ledger"], j["controller"]["srtp_ledger_rekeyed"])' "('00112233', None)"
	ok status
	grep -qx '  srtp ledger    00112233\.\.' "$OUT" || fail "status: no ledger line: $(cat "$OUT")"
	grep -q 'ledger rekey' "$OUT" && fail "status: a forced rekey that did not happen: $(cat "$OUT")"
	ok meeting create lk --srtp AEAD_AES_128_GCM
	ok participant add lk ka --addr 203.0.113.61 --port 5000
	head -n 3 "$OUT" >"$TMP/keys_ka"
	ok participant add lk kb --addr 203.0.113.62 --port 5000 --role recvonly
	head -n 3 "$OUT" >"$TMP/keys_kb"
	# the same ledger again: the keys stay
	start_fake_dp "$LEDGER1"
	dp_keys_check "same ledger" "$TMP/keys_ka" "$TMP/keys_kb"
	ok participant keys lk ka; cmp -s "$OUT" "$TMP/keys_ka" || fail "keys changed on an attach to the same ledger"
	grep -q 'SRTP ledger changed' "$LOG" && fail "a rekey on the same ledger: $(grep 'SRTP ledger' "$LOG")"
	stop_fake_dp
	# another ledger (the ledger file lost or replaced): new keys, saved with the new id, logged,
	# and only then the replay
	start_fake_dp "$LEDGER2"
	ok participant keys lk ka; cp "$OUT" "$TMP/keys_ka2"
	ok participant keys lk kb; cp "$OUT" "$TMP/keys_kb2"
	cmp -s "$TMP/keys_ka" "$TMP/keys_ka2" && fail "ka kept its keys across a ledger change"
	cmp -s "$TMP/keys_kb" "$TMP/keys_kb2" && fail "kb kept its keys across a ledger change"
	dp_keys_check "new ledger" "$TMP/keys_ka2" "$TMP/keys_kb2"
	grep -Eq "^srtp_ledger $LEDGER2 [0-9]+$" "$STATE" || fail "ledger line after the change: $(head -3 "$STATE")"
	grep -Fq 'SRTP ledger changed (old id 00112233.. -> new id fedcba98..): the 2 SRTP participants got new keys; their clients must fetch them with `mmrctl participant keys`' "$LOG" ||
		fail "no log line for the ledger change: $(grep 'SRTP ledger' "$LOG")"
	json status
	jq_eq '(j["controller"]["srtp_ledger"], len(j["controller"]["srtp_ledger_rekeyed"]))' "('fedcba98', 20)"
	ok status
	grep -Eq '^  ledger rekey   [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC ' "$OUT" || fail "status: no forced rekey line: $(cat "$OUT")"
	for k in $(grep -h _key "$TMP/keys_ka2" "$TMP/keys_kb2" | cut -d: -f2); do
		grep -qF -- "$k" "$LOG" && fail "a key is in the controller log"
	done
	# the new keys cannot be saved: the old keys are not replayed onto the new ledger; the controller
	# stays detached and attaches once the save works
	stop_fake_dp
	mkdir "$STATE.tmp"   # the save's temporary file cannot be made
	state_before=$(cat "$STATE")
	start_fake_dp "$LEDGER1" nowait
	for _ in $(seq 100); do
		"$CLI" -S "$SOCK" --json status 2>/dev/null | grep -q 'keys cannot be saved' && break
		sleep 0.05
	done
	json status
	jq_eq '(j["dataplane"]["attached"], "cannot be saved, so their old keys are not replayed" in j["dataplane"]["why"])' "(False, True)"
	sleep 1.2   # a retry or two
	grep -q '^OP 1$' "$TMP/dp.log" 2>/dev/null && fail "a replay while the new keys could not be saved: $(cat "$TMP/dp.log")"
	ok participant keys lk ka; cmp -s "$OUT" "$TMP/keys_ka2" || fail "keys changed although they could not be saved"
	[ "$(cat "$STATE")" = "$state_before" ] || fail "state file changed although the save failed"
	rmdir "$STATE.tmp"
	wait_fake_dp_attached
	ok participant keys lk ka; cp "$OUT" "$TMP/keys_ka3"
	cmp -s "$TMP/keys_ka2" "$TMP/keys_ka3" && fail "ka kept its keys after the save worked again"
	ok participant keys lk kb; cp "$OUT" "$TMP/keys_kb3"
	dp_keys_check "new ledger after a failed save" "$TMP/keys_ka3" "$TMP/keys_kb3"
	grep -Eq "^srtp_ledger $LEDGER1 [0-9]+$" "$STATE" || fail "ledger line after the retry: $(head -3 "$STATE")"
	stop_fake_dp
	# a state file from before ledgers (version 3) with SRTP participants: rekeyed at the first attach
	kill_ctl TERM
	sed -e '/^srtp_ledger /d' -e '/^state_id /d' -e '/^journal /d' -e 's/^mmr-state 9$/mmr-state 3/' \
		-e 's/^\(participant .*\) [^ ]* [^ ]* [^ ]* [^ ]* [^ ]* [^ ]*$/\1/' -e 's/^\(stream .*\) [^ ]* [^ ]* [^ ]* [^ ]* [^ ]*$/\1/' \
		-e 's/^\(sub .*\) [^ ]* [^ ]* [^ ]*$/\1/' -e 's/^\(meeting .*\) [^ ]*$/\1/' "$STATE" >"$TMP/state.v3"
	cp "$TMP/state.v3" "$STATE"
	start_ctl
	json status
	jq_eq '(j["controller"]["srtp_ledger"], j["controller"]["srtp_ledger_rekeyed"])' "(None, None)"
	ok status
	grep -qx '  srtp ledger    none recorded' "$OUT" || fail "status: ledger line: $(cat "$OUT")"
	ok participant keys lk ka; cmp -s "$OUT" "$TMP/keys_ka3" || fail "a version 3 file's keys changed at load"
	start_fake_dp "$LEDGER1"
	ok participant keys lk ka; cp "$OUT" "$TMP/keys_ka4"
	ok participant keys lk kb; cp "$OUT" "$TMP/keys_kb4"
	cmp -s "$TMP/keys_ka3" "$TMP/keys_ka4" && fail "a version 3 file's participant kept its keys at the first attach"
	dp_keys_check "version 3 file" "$TMP/keys_ka4" "$TMP/keys_kb4"
	grep -Fq 'SRTP ledger changed (old id none -> new id 00112233..): the 2 SRTP participants got new keys' "$LOG" ||
		fail "no log line for the version 3 file: $(grep 'SRTP ledger' "$LOG")"
	grep -q '^mmr-state 9$' "$STATE" && grep -Eq "^srtp_ledger $LEDGER1 [0-9]+$" "$STATE" ||
		fail "version 3 file not rewritten with the ledger: $(head -3 "$STATE")"
	stop_fake_dp
	# a version 4 file without the line was never attached (the line is written from the first
	# attach on): none of its keys was used, so the first attach records the ledger, keys unchanged
	kill_ctl TERM
	sed -e '/^srtp_ledger /d' "$STATE" >"$TMP/state.never"
	cp "$TMP/state.never" "$STATE"
	start_ctl
	start_fake_dp "$LEDGER2"
	ok participant keys lk ka; cmp -s "$OUT" "$TMP/keys_ka4" || fail "a never-attached state's keys changed at its first attach"
	dp_keys_check "never attached" "$TMP/keys_ka4" "$TMP/keys_kb4"
	grep -Eq "^srtp_ledger $LEDGER2 -$" "$STATE" || fail "ledger line after the first attach: $(head -3 "$STATE")"
	grep -q 'SRTP ledger fedcba98\.\. recorded' "$LOG" || fail "the recorded ledger is not logged: $(grep 'SRTP ledger' "$LOG")"
	stop_fake_dp
	ok meeting end lk
	kill_ctl TERM
	[ "$KILL_RC" -eq 0 ] || fail "SIGTERM: exit status $KILL_RC, want 0"
else
	echo "   (skipped: needs a C compiler)"
fi
if grep -Eq 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$LOG"; then
	fail "sanitizer report in the controller log: $(grep -Em3 'Sanitizer|runtime error:' "$LOG")"
fi

echo "($CHECKS mmrctl checks)"
echo PASS
exit 0
