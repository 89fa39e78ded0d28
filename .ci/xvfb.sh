# Helpers for scripts that drive the real station under Xvfb (sourced by
# smoke.sh and screenshots.sh). Every wait is on a condition with a deadline.

XVFB_TMP=$(mktemp -d)
XVFB_PID=""
xvfb_cleanup() {
	# Stop what this script started (its own children), then the server.
	local p
	for p in $(jobs -p); do [ "$p" = "$XVFB_PID" ] || kill -TERM "$p" 2>/dev/null || true; done
	[ -z "$XVFB_PID" ] || kill -TERM "$XVFB_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$XVFB_TMP"
}
trap xvfb_cleanup EXIT

# wait_for SECONDS MESSAGE COMMAND...: run COMMAND every 0.1 s until it
# succeeds; after SECONDS say MESSAGE and fail.
wait_for() {
	local secs=$1 msg=$2
	shift 2
	local end=$((SECONDS + secs))
	until "$@"; do
		if ((SECONDS >= end)); then
			echo "${0##*/}: $msg within $secs s" >&2
			return 1
		fi
		sleep 0.1
	done
}

# xvfb_start WxH starts a virtual screen and points DISPLAY at it. Xvfb
# chooses a free display number itself and writes it to the -displayfd
# descriptor only once it accepts clients, so nothing races its start.
# -noreset: an X server resets itself when its last client leaves, and a
# client connecting meanwhile is refused ("X11: Failed to open display"):
# a station started right after the previous one exited (or right after
# the xdpyinfo check below) met that in CI.
xvfb_start() {
	local out="$XVFB_TMP/displayfd.$1"
	: >"$out"
	Xvfb -displayfd 3 -screen 0 "$1x24" -nolisten tcp -noreset 3>"$out" >"$XVFB_TMP/xvfb.log" 2>&1 &
	XVFB_PID=$!
	xvfb_ready() {
		if ! kill -0 "$XVFB_PID" 2>/dev/null; then
			echo "${0##*/}: Xvfb exited before it was ready:" >&2
			cat "$XVFB_TMP/xvfb.log" >&2
			exit 1
		fi
		grep -qx '[0-9][0-9]*' "$out"
	}
	wait_for 30 "Xvfb did not come up (no display number on -displayfd); its log:" xvfb_ready ||
		{ cat "$XVFB_TMP/xvfb.log" >&2; exit 1; }
	export DISPLAY=":$(head -1 "$out")"
	# A client must get in before the display is handed on: once in CI a
	# station could not open the display Xvfb had just announced (the
	# second of smoke.sh's servers on the same number, with other tests'
	# servers starting on the machine).
	xvfb_open() { xdpyinfo >/dev/null 2>&1; }
	wait_for 30 "no client could open $DISPLAY; Xvfb's log:" xvfb_open ||
		{ cat "$XVFB_TMP/xvfb.log" >&2; exit 1; }
	echo "${0##*/}: Xvfb $1 on $DISPLAY"
}

xvfb_stop() {
	kill -TERM "$XVFB_PID" 2>/dev/null || true
	wait "$XVFB_PID" 2>/dev/null || true
	XVFB_PID=""
}

# window_geometry WIN prints x y width height of the window on the screen.
window_geometry() {
	LC_ALL=C xwininfo -id "$1" | awk '/Absolute upper-left X/ {x=$NF} /Absolute upper-left Y/ {y=$NF}
		/^ *Width:/ {w=$NF} /^ *Height:/ {h=$NF} END {print x, y, w, h}'
}

# window_drawn WIN succeeds once the window shows more than a plain fill.
window_drawn() {
	local n
	n=$(xwd -id "$1" -silent 2>/dev/null | convert xwd:- -format %k info: 2>/dev/null) && [ "${n:-0}" -gt 16 ]
}

# window_sum WIN is a checksum of what the window shows.
window_sum() { xwd -id "$1" -silent 2>/dev/null | md5sum | cut -d' ' -f1; }

# window_changed WIN SUM succeeds once the window no longer shows SUM.
window_changed() { [ "$(window_sum "$1")" != "$2" ]; }

# settled WIN succeeds when the window shows the same picture twice, 0.3 s
# apart: start-up drawing, a progress bar or a page change is over.
settled() {
	local a
	a=$(window_sum "$1")
	sleep 0.3
	[ "$(window_sum "$1")" = "$a" ]
}

# click_and_wait WIN X Y MESSAGE clicks at X,Y in the window until the
# window shows something else: a click that arrives while the window is
# still busy (start-up, a full-screen switch on a loaded machine) is
# repeated every 5 s, for 30 s. Only idempotent targets (a tab, a page
# change) are clicked this way.
click_and_wait() {
	local before end=$((SECONDS + 30))
	before=$(window_sum "$1")
	while :; do
		xdotool mousemove --sync --window "$1" "$2" "$3" click 1
		wait_for 5 "$4 (retrying)" window_changed "$1" "$before" 2>/dev/null && return 0
		if ((SECONDS >= end)); then
			echo "${0##*/}: $4 within 30 s" >&2
			return 1
		fi
	done
}
