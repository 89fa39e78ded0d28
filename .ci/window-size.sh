#!/usr/bin/env bash
# The real station window fits small screens: start the station under Xvfb
# on a 1024×600 and a 1366×768 screen, wait for its window, read its
# geometry and check that it lies wholly on the screen (and, where the
# screen allows, that it opens at its usual 1100×660). Fyne's test driver
# cannot tell the screen's size, so this is the only check of the driver
# hook in workarea.go. Usage: window-size.sh path/to/adhoc-station
set -euo pipefail
source "$(dirname "$0")/xvfb.sh"
bin=$(realpath "$1")

# size_run SCREEN WANT_W WANT_H: WANT_* empty means "whatever fits".
size_run() {
	local screen=$1 want_w=$2 want_h=$3
	xvfb_start "$screen"
	local data="$XVFB_TMP/data-$screen" log="$XVFB_TMP/station-$screen.log"
	"$bin" --data "$data" >"$log" 2>&1 &
	local pid=$! win
	# --sync waits for the window to be mapped; the timeout bounds the wait.
	win=$(timeout 60 xdotool search --sync --onlyvisible --name 'Ad Hoc Support Station' | head -1) || true
	if [ -z "$win" ]; then
		echo "window-size[$screen]: the station's window did not appear within 60 s:"; cat "$log"; exit 1
	fi
	wait_for 30 "the window stayed blank" window_drawn "$win"
	wait_for 30 "the window kept changing after start" settled "$win"
	local X Y WIDTH HEIGHT SCREEN sw sh
	eval "$(xdotool getwindowgeometry --shell "$win")"
	read -r sw sh < <(xdotool getdisplaygeometry)
	echo "window-size[$screen]: window ${WIDTH}x${HEIGHT} at ${X},${Y} on the ${sw}x${sh} screen"
	if ((X < 0 || Y < 0 || X + WIDTH > sw || Y + HEIGHT > sh)); then
		echo "window-size[$screen]: the window (${WIDTH}x${HEIGHT} at ${X},${Y}) does not fit the ${sw}x${sh} screen"; exit 1
	fi
	if [ -n "$want_w" ] && ((WIDTH != want_w || HEIGHT != want_h)); then
		echo "window-size[$screen]: the window is ${WIDTH}x${HEIGHT}, want ${want_w}x${want_h} where the screen allows it"; exit 1
	fi
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || { echo "window-size[$screen]: the station exited with code $rc"; cat "$log"; exit 1; }
	xvfb_stop
}

export FYNE_SCALE=1 # the sizes below are pixels at scale 1
size_run 1024x600 "" ""
size_run 1366x768 1100 660
