#!/usr/bin/env bash
# Smoke test: start the real station under Xvfb on a 1280×720 screen with a
# temporary data folder; check that its window fits the screen and asks for
# at most 800×600; click the Settings tab and its Save button and see the
# save reach the audit log; take a screenshot and check it is not blank; stop
# it with SIGTERM and expect exit code 0. Then the same in kiosk mode, full
# screen on 1280×800 and 1920×1080 touch screens, through the PIN gate.
# SCREENSHOT_DIR=dir keeps the pictures.
#
# Every wait is on a condition with its own deadline, generous enough for a
# loaded machine; a deadline that passes fails with a sentence saying what
# did not happen.
set -euo pipefail
source "$(dirname "$0")/xvfb.sh"
bin=$(realpath "$1")

# settings_saves counts the audit log's "settings saved" entries.
settings_saves() {
	sqlite3 -readonly "file:$1/station.db?mode=ro" "SELECT count(*) FROM audit WHERE event = 'settings saved'"
}

# smoke_run NAME SCREEN TAB_X TAB_Y SAVE_RIGHT SAVE_BOTTOM PIN [station flags...]
# The Settings tab is at (TAB_X, TAB_Y) in the window (tabs are left-aligned,
# their size follows the theme's type), Save at SAVE_RIGHT / SAVE_BOTTOM
# pixels from the window's bottom-right corner.
smoke_run() {
	local name=$1 screen=$2 tab_x=$3 tab_y=$4 save_r=$5 save_b=$6 pin=$7
	shift 7
	xvfb_start "$screen"
	local data="$XVFB_TMP/data-$name" log="$XVFB_TMP/station-$name.log"
	ADHOC_STATION_PIN=$pin "$bin" --data "$data" "$@" >"$log" 2>&1 &
	local pid=$! start
	start=$(date +%s%N)
	local win
	station_window() {
		kill -0 "$pid" 2>/dev/null || { echo "smoke[$name]: the station exited early:"; cat "$log"; exit 1; }
		win=$(xdotool search --onlyvisible --name 'Ad Hoc Support Station' 2>/dev/null | head -1) && [ -n "$win" ]
	}
	wait_for 60 "the station's window did not appear" station_window || { cat "$log"; exit 1; }
	echo "smoke[$name]: window visible after $(( ($(date +%s%N) - start) / 1000000 )) ms"
	wait_for 30 "the window stayed blank" window_drawn "$win"
	wait_for 30 "the window kept changing after start" settled "$win"

	# The window fits the screen and may be made as small as 800×600.
	local x y w h sw sh
	read -r x y w h < <(window_geometry "$win")
	read -r sw sh < <(xdotool getdisplaygeometry)
	local minw="" minh=""
	read -r minw minh < <(xprop -id "$win" WM_NORMAL_HINTS | sed -n 's/.*minimum size: \([0-9]*\) by \([0-9]*\).*/\1 \2/p') || true
	echo "smoke[$name]: screen ${sw}x${sh}, window ${w}x${h} at ${x},${y}, minimum size ${minw:-(none set)}${minh:+x$minh}"
	if (( x < 0 || y < 0 || x + w > sw || y + h > sh )); then
		echo "smoke[$name]: the window (${w}x${h} at ${x},${y}) does not fit the ${sw}x${sh} screen"; exit 1
	fi
	if [ -n "$minw" ] && (( minw > 800 || minh > 600 )); then
		echo "smoke[$name]: the window asks for at least ${minw}x${minh}, more than 800x600"; exit 1
	fi

	# Settings' Save, reached with the mouse, is recorded in the audit log.
	local before
	before=$(settings_saves "$data")
	click_and_wait "$win" "$tab_x" "$tab_y" "the Settings tab did not open"
	if [ -n "$pin" ]; then
		local shot
		shot=$(window_sum "$win")
		xdotool type --delay 50 "$pin"
		xdotool key Return
		wait_for 20 "typing the PIN did not unlock the settings" window_changed "$win" "$shot"
	fi
	local sx=$((w - save_r)) sy=$((h - save_b))
	# A click lost to a busy window is repeated; another save is harmless.
	saved() { [ "$(settings_saves "$data")" -gt "$before" ]; }
	local end=$((SECONDS + 30))
	until xdotool mousemove --sync --window "$win" "$sx" "$sy" click 1 && wait_for 5 "no save yet" saved 2>/dev/null; do
		if ((SECONDS >= end)); then
			echo "smoke[$name]: clicking Save at ${sx},${sy} in the window saved nothing (no new \"settings saved\" audit entry) within 30 s"
			cat "$log"; exit 1
		fi
	done
	echo "smoke[$name]: Settings' Save at ${sx},${sy} in the window was recorded in the audit log"

	local shot_file="$XVFB_TMP/shot-$name.png" colors
	xwd -root -silent | convert xwd:- "$shot_file"
	colors=$(convert "$shot_file" -format %k info:)
	echo "smoke[$name]: screenshot has $colors colours; station RSS $(ps -o rss= -p "$pid" | tr -d ' ') KiB"
	[ "$colors" -gt 16 ] || { echo "smoke[$name]: the screenshot is blank"; exit 1; }
	if [ -n "${SCREENSHOT_DIR:-}" ]; then mkdir -p "$SCREENSHOT_DIR" && cp "$shot_file" "$SCREENSHOT_DIR/station-$name.png"; fi

	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || { echo "smoke[$name]: the station exited with code $rc"; cat "$log"; exit 1; }
	echo "smoke[$name]: closed cleanly"
	xvfb_stop
}

# Positions measured in the real window (Fyne's embedded fonts, scale 1).
export FYNE_SCALE=1
smoke_run normal-1280x720 1280x720 341 23 45 25 ""
smoke_run kiosk-1280x800 1280x800 454 29 55 32 4821 --kiosk
smoke_run kiosk-1920x1080 1920x1080 454 29 55 32 4821 --kiosk
