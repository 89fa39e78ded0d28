#!/usr/bin/env bash
# The real station always stops, and the next start gets its pairing port
# (issue 17):
#  1. SIGTERM while the window's goroutine is stuck (the X server is stopped
#     with SIGSTOP, so the station's next X call waits forever): the station
#     exits within 5 s all the same.
#  2. SIGKILL, then a new start at once on the same data folder: the new
#     station listens on the pairing port.
#  3. A start while a killed station still holds the port (a frozen one,
#     killed 2 s later, stands in for one whose memory is still being freed):
#     the new station waits for the port and gets it.
# Every wait has a deadline and fails with a sentence.
set -euo pipefail
source "$(dirname "$0")/xvfb.sh"
bin=$(realpath "$1")

# A free pairing port, so that this does not meet another station here.
port=""
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 40000))
	if [ -z "$(ss -Htln "sport = :$p")" ]; then port=$p; break; fi
done
[ -n "$port" ] || { echo "stop: no free port found"; exit 1; }
data="$XVFB_TMP/data"
"$bin" --data "$data" settings set "pairing.listen=127.0.0.1:$port" >/dev/null

# listening PID: PID has the pairing port open for connections.
listening() { ss -Htlnp "sport = :$port" | grep -q "pid=$1,"; }

# start NAME: a station on $data, its PID in $pid, its log in $XVFB_TMP/NAME.log.
start() {
	"$bin" --data "$data" >"$XVFB_TMP/$1.log" 2>&1 &
	pid=$!
}

# running_window: the station's window is on screen.
running_window() {
	kill -0 "$pid" 2>/dev/null || { echo "stop: the station exited early:"; cat "$XVFB_TMP/$name.log"; exit 1; }
	[ -n "$(xdotool search --onlyvisible --name 'Ad Hoc Support Station' 2>/dev/null | head -1)" ]
}

xvfb_start 1280x720

# 1. SIGTERM with the window stuck.
name=stuck
start $name
wait_for 60 "the station's window did not appear" running_window
wait_for 30 "the station did not listen on port $port" listening "$pid"
kill -STOP "$XVFB_PID"
t0=$(date +%s%N)
kill -TERM "$pid"
gone() { ! kill -0 "$pid" 2>/dev/null; }
if ! wait_for 5 "the station did not exit after SIGTERM with its window stuck" gone; then
	kill -CONT "$XVFB_PID"
	kill -KILL "$pid" 2>/dev/null || true
	cat "$XVFB_TMP/$name.log"
	exit 1
fi
took=$((($(date +%s%N) - t0) / 1000000))
rc=0
wait "$pid" || rc=$?
kill -CONT "$XVFB_PID"
echo "stop[stuck]: SIGTERM with the X server stopped: exited after $took ms with code $rc"
((took < 5000)) || { echo "stop[stuck]: $took ms is more than 5 s"; exit 1; }
grep -q "did not stop within 4 s" "$XVFB_TMP/$name.log" ||
	{ echo "stop[stuck]: the log does not say why the station exited:"; cat "$XVFB_TMP/$name.log"; exit 1; }

# The X server, stopped and continued, must take clients again before the
# next station starts: in a cold CI run it refused the next one at once
# ("X11: Failed to open display").
wait_for 30 "the X server did not take clients again after SIGCONT" xvfb_open

# 2. SIGKILL, then a start at once.
name=killed
start $name
wait_for 60 "the station's window did not appear" running_window
wait_for 30 "the station did not listen on port $port" listening "$pid"
kill -KILL "$pid"
old=$pid
name=after-kill
start $name
wait_for 30 "the station started right after a SIGKILL did not get port $port" listening "$pid"
wait_for 60 "the station's window did not appear" running_window
wait "$old" 2>/dev/null || true
echo "stop[after-kill]: the station started right after a SIGKILL listens on port $port"
kill -TERM "$pid"
wait "$pid" || { echo "stop[after-kill]: the station did not exit cleanly:"; cat "$XVFB_TMP/$name.log"; exit 1; }

# 3. A start while a station being killed still holds the port.
name=frozen
start $name
wait_for 60 "the station's window did not appear" running_window
wait_for 30 "the station did not listen on port $port" listening "$pid"
kill -STOP "$pid"
frozen=$pid
name=waiting
start $name
waits() { grep -q "the pairing port is in use" "$XVFB_TMP/waiting.log"; }
wait_for 30 "the new station did not say it waits for the port" waits ||
	{ cat "$XVFB_TMP/waiting.log"; kill -KILL "$frozen"; exit 1; }
sleep 2 # the port stays held for a while, as by a large process being freed
kill -KILL "$frozen"
wait "$frozen" 2>/dev/null || true
wait_for 30 "the new station did not get port $port once it was free" listening "$pid" ||
	{ cat "$XVFB_TMP/waiting.log"; exit 1; }
wait_for 60 "the station's window did not appear" running_window
echo "stop[waiting]: a station started while the port was held waited and got it"
kill -TERM "$pid"
wait "$pid" || { echo "stop[waiting]: the station did not exit cleanly:"; cat "$XVFB_TMP/waiting.log"; exit 1; }
xvfb_stop
