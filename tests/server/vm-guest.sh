#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Inside the VM (busybox sh), through tnpu.ko: two tnpu-server processes
# share the NPU, one serving an API key on a low-priority queue, the other
# on a high-priority one. Each answers greedy chats, streamed and not, with
# the text the host's in-process server gave (WANT), counts its NPU time
# from the device's fdinfo, and exits 0 on SIGTERM.
#
# Usage (tests/server/run.sh, part vm): vm-guest.sh SERVER CURL MODEL WANT-FILE
# WANT-FILE: the answer's "content":"..." as the server's JSON writes it.
set -u
server=$1
curl=$2
model=$3
want=$(cat "$4")
body='{"messages":[{"role":"user","content":"Hello"}],"max_tokens":12,"temperature":0}'
stream='{"messages":[{"role":"user","content":"Hello"}],"max_tokens":12,"temperature":0,"stream":true}'

fail() {
	echo "server-vm: FAILED: $*"
	for f in /tmp/server-*.log; do sed "s|^|  $f: |" "$f"; done
	exit 1
}

ifconfig lo 127.0.0.1 up 2>/dev/null || ip link set lo up

start() {
	"$server" -m "$model" --backend kernel --slots 2 --port "$1" --api-key "$2" \
		--priority "$2=$3" 2>"/tmp/server-$1.log" &
	pids="$pids $1:$!"
	i=0
	while ! grep -q 'listening on' "/tmp/server-$1.log"; do
		i=$((i + 1))
		[ $i -lt 600 ] || fail "server on port $1 did not start"
		sleep 0.1
	done
}

# content PORT KEY BODY: the answer's text (streamed or not), its status in the file.
ask() {
	"$curl" -s -o "/tmp/answer-$1" -w '%{http_code}' -H "Authorization: Bearer $2" \
		-H 'Content-Type: application/json' --data-binary "$3" \
		"http://127.0.0.1:$1/v1/chat/completions"
}

pids=""
start 18080 low-key low
start 18081 high-key high

# Both at once, four requests each, sharing the NPU.
clients=""
for port in 18080 18081; do
	key=low-key
	[ $port = 18081 ] && key=high-key
	(
		for _ in 1 2 3 4; do
			status=$(ask $port $key "$body")
			[ "$status" = 200 ] || { echo "status $status" >"/tmp/bad-$port"; exit 1; }
			grep -qF "$want" "/tmp/answer-$port" ||
				{ cp "/tmp/answer-$port" "/tmp/bad-$port"; exit 1; }
		done
	) &
	clients="$clients $!"
done
for c in $clients; do
	wait "$c"
done
for port in 18080 18081; do
	[ -e "/tmp/bad-$port" ] && fail "port $port: $(cat "/tmp/bad-$port")"
done

# Streamed: the events' texts joined are the same answer, [DONE] last.
status=$(ask 18081 high-key "$stream")
[ "$status" = 200 ] || fail "stream: status $status"
tail -n 2 /tmp/answer-18081 | grep -q '^data: \[DONE\]' || fail "stream without [DONE]"
[ "$(grep -c '^data: ' /tmp/answer-18081)" -ge 5 ] || fail "stream of too few events"

# A key of the other server: 401.
status=$(ask 18080 high-key "$body")
[ "$status" = 401 ] || fail "a key of the other server gave $status"

for port in 18080 18081; do
	"$curl" -s "http://127.0.0.1:$port/metrics" >/tmp/metrics
	busy=$(sed -n 's/^tnpu_npu_busy_seconds_total{source="fdinfo"} //p' /tmp/metrics)
	[ -n "$busy" ] || fail "port $port: no NPU busy time from fdinfo"
	case $busy in 0.000000000) fail "port $port: no NPU time counted" ;; esac
	grep -q '^tnpu_requests_total{endpoint="/v1/chat/completions",status="200"}' /tmp/metrics ||
		fail "port $port: no requests counted"
	echo "server-vm: port $port: NPU busy ${busy} s (fdinfo)"
done

for level in 18080:low 18081:high; do
	port=${level%:*}
	grep -q "on /dev/accel/accel[0-9]*: .* at each priority level in use (${level#*:})" \
		"/tmp/server-$port.log" ||
		fail "port $port: not served through tnpu.ko on a ${level#*:} priority queue"
done
for p in $pids; do
	kill -TERM "${p#*:}"
	wait "${p#*:}" || fail "port ${p%:*}: exit status $? on SIGTERM"
done
echo "server-vm: ok: two servers on low and high priority queues, 8 greedy answers as in process, a stream, 401, fdinfo busy time, exit 0"
