#!/usr/bin/env bash
# The README's screenshots: the real station under Xvfb, its window at
# 1280×720, driven with xdotool. The form and the code panel come from a
# fresh station with one profile (light theme); Computers, Activity and
# Settings from a folder seeded through core with sessions in every state
# (.ci/screenshots-seed.go, dark theme).
# Usage: .ci/screenshots.sh BIN OUTDIR (make screenshots)
set -euo pipefail
source "$(dirname "$0")/xvfb.sh"
bin=$(realpath "$1")
out=$(realpath "$2")
seed=$(realpath "$(dirname "$0")/screenshots-seed.go")
mkdir -p "$out"
export FYNE_SCALE=1 LANG=en_US.UTF-8

# start_station DATA THEME starts the station and sizes its window to
# 1280×720; it sets pid and win.
start_station() {
	FYNE_THEME=$2 "$bin" --data "$1" >"$XVFB_TMP/station.log" 2>&1 &
	pid=$!
	found() {
		kill -0 "$pid" 2>/dev/null || { cat "$XVFB_TMP/station.log"; exit 1; }
		win=$(xdotool search --onlyvisible --name 'Ad Hoc Support Station' 2>/dev/null | head -1) && [ -n "$win" ]
	}
	wait_for 60 "the station's window did not appear" found
	wait_for 30 "the window stayed blank" window_drawn "$win"
	xdotool windowsize --sync "$win" 1280 720
	sized() { [ "$(window_geometry "$win" | cut -d' ' -f3,4)" = "1280 720" ]; }
	wait_for 20 "the window did not take 1280x720" sized
}

stop_station() {
	kill -TERM "$pid"
	wait "$pid"
}

# shot NAME saves the window once it has settled.
shot() {
	wait_for 30 "the window did not settle for $1" settled "$win"
	xwd -id "$win" -silent | convert xwd:- "$out/$1.png"
	echo "screenshots: $out/$1.png ($(identify -format %wx%h "$out/$1.png"))"
}

# click X Y clicks in the window and waits until it shows something else.
click() { click_and_wait "$win" "$1" "$2" "clicking at $1,$2 changed nothing"; }

xvfb_start 1280x720

# Positions in the 1280×720 window at scale 1 (Fyne's embedded fonts).
form=$XVFB_TMP/form
"$bin" --data "$form" profiles add "Ann Keller" ann.keller@example.com
start_station "$form" light
click 712 229 # the end user's email
xdotool type --delay 20 maria.rossi@example.com
click 238 386 # Generate password
shot adhoc-form
click 140 695 # Send email and prepare session
prepared() { "$bin" --data "$form" sessions list | grep -q prepared; }
wait_for 60 "no session was prepared" prepared
shot code-panel
stop_station

seeded=$XVFB_TMP/seeded
(cd "$(dirname "$seed")/.." && go run "$seed" "$seeded")
start_station "$seeded" dark
click 181 23  # Computers
click 300 229 # the second row: a paired PC
shot computers
click 266 23   # Activity
click 1205 699 # Verify integrity
click 600 230  # the newest entry
shot activity
click 341 23 # Settings
shot settings
stop_station
