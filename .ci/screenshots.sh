#!/usr/bin/env bash
# The README's screenshots: the real station under Xvfb, its window at
# 1280×720, driven with xdotool. The form and the code panel come from a
# fresh station with one profile (light theme); Computers, Activity and
# Settings from a folder seeded through core with sessions in every state
# (.ci/screenshots-seed.go, dark theme). The remote session window comes
# from connecting to the seeded online PC, whose side is the real agent
# code on a live channel with a stand-in Windows PC (.ci/screenshots-pc.go):
# every tab the window has is shot, found by name (ui's
# TestRemoteTabPositions says where each tab is). Closing that window
# seals the session's recording, which the Activity page's Play recording
# opens in the player window, shot last.
# Usage: .ci/screenshots.sh BIN OUTDIR (make screenshots)
set -euo pipefail
source "$(dirname "$0")/xvfb.sh"
bin=$(realpath "$1")
out=$(realpath "$2")
seed=$(realpath "$(dirname "$0")/screenshots-seed.go")
pcprog=$(realpath "$(dirname "$0")/screenshots-pc.go")
pcdesk=$(realpath "$(dirname "$0")/screenshots-desktop.go")
wmclose=$(realpath "$(dirname "$0")/wmclose.go")
repo=$(realpath "$(dirname "$0")/..")
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
	local rc=0
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	if [ "$rc" != 0 ]; then
		echo "${0##*/}: the station exited with status $rc on SIGTERM; its log:" >&2
		cat "$XVFB_TMP/station.log" >&2
		exit 1
	fi
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
# The seed prints the pairing port, the online PC's agent key and its
# session's password (kept in this script's memory only).
read -r port pc_key pc_password < <(cd "$repo" && go run "$seed" "$seeded")
(cd "$repo" && go build -o "$XVFB_TMP/pc" "$pcprog" "$pcdesk" && go build -o "$XVFB_TMP/wmclose" "$wmclose")
start_station "$seeded" dark
ADHOC_PC_KEY=$pc_key ADHOC_PC_PASSWORD=$pc_password "$XVFB_TMP/pc" "$seeded" "$port" >"$XVFB_TMP/pc.log" 2>&1 &
pc_online() { grep -qx 'screenshots-pc: online' "$XVFB_TMP/pc.log"; }
wait_for 60 "the PC stand-in did not reach the station ($(cat "$XVFB_TMP/pc.log"))" pc_online
click 181 23  # Computers
wait_for 30 "the Computers page did not settle" settled "$win" # the PC's channel redraws its row
click 300 229 # the second row: a paired PC
shot computers
click 341 23 # Settings
shot settings
# Further down the page, scrolled with the wheel (25 px a click): the
# Recording group at the top, then the hub's group at the end (the wheel
# scrolls until the page no longer moves).
xdotool mousemove --sync --window "$win" 640 400
before=$(window_sum "$win")
xdotool click --repeat 24 --delay 10 5
wait_for 10 "the Settings page did not scroll" window_changed "$win" "$before"
shot settings-recording
scrolled_to_end() {
	local before
	before=$(window_sum "$win")
	xdotool click --repeat 5 5
	settled "$win" && [ "$(window_sum "$win")" = "$before" ]
}
wait_for 30 "the Settings page did not scroll to its end" scrolled_to_end
shot settings-hub

# The remote session window, 1000×640, with each of its tabs: the Command
# tab runs a command, the Files tab opens a Downloads folder made here
# (the stand-in's files are this machine's), the Chat tab sends a line,
# the Screen tab starts viewing the stand-in's made-up desktop (on an Xvfb
# display of its own).
remote_size=1000x640
tabs=$(cd "$repo" && ADHOC_REMOTE_TABS=$remote_size go test -count=1 -run '^TestRemoteTabPositions$' -v ./ui/ | grep -E '^(TAB|ENTRY|ACTION) ')
downloads=$XVFB_TMP/C/Users/anna/Downloads
mkdir -p "$downloads" "$XVFB_TMP/C/Users/anna/Documents" "$XVFB_TMP/C/Users/anna/Desktop"
truncate -s 84213760 "$downloads/PrinterDriver_x64_v3.2.1.exe"
truncate -s 412877 "$downloads/invoice-2026-11.pdf"
truncate -s 2311042 "$downloads/scan_0012.jpg"
printf 'Printer stops after the first page since Monday.\r\n' >"$downloads/what-happens.txt"
click 181 23 # Computers
before=$(window_sum "$win")
xdotool mousemove --sync --window "$win" 300 229 click --repeat 2 --delay 100 1 # double click the online PC's row
wait_for 10 "no password dialog" window_changed "$win" "$before"
wait_for 10 "the password dialog did not settle" settled "$win"
xdotool type --delay 20 "$pc_password"
xdotool key Tab Tab space # from the password past Cancel to Connect
remote_window() { rwin=$(xdotool search --onlyvisible --name '^DESKTOP-7QK2 ' 2>/dev/null | head -1) && [ -n "$rwin" ]; }
wait_for 30 "no remote session window opened" remote_window
main_win=$win
win=$rwin
xdotool windowsize --sync "$win" ${remote_size%x*} ${remote_size#*x}
wait_for 30 "the remote window stayed blank" window_drawn "$win"
logged() { grep -q "$1" "$XVFB_TMP/pc.log"; }
wait_for 30 "the PC was never asked for its System tab" logged 'screenshots-pc: system information'
# many_colours WIN N succeeds once the window shows more than N colours:
# the desktop's wallpaper, scaled, has thousands; the tab without it has
# a few hundred.
many_colours() {
	local n
	n=$(xwd -id "$1" -silent 2>/dev/null | convert xwd:- -format %k info: 2>/dev/null) && [ "${n:-0}" -gt "$2" ]
}
# type_into TAB TEXT types TEXT and Return into the tab's first text field.
type_into() {
	local ex ey before
	read -r _ ex ey _ < <(echo "$tabs" | grep "^ENTRY .* $1\$")
	xdotool mousemove --sync --window "$win" "$ex" "$ey" click 1 key ctrl+a
	before=$(window_sum "$win")
	xdotool type --delay 20 "$2"
	xdotool key Return
	wait_for 30 "the $1 tab showed nothing new" window_changed "$win" "$before"
}
while read -r kind x y name; do
	[ "$kind" = TAB ] || continue
	xdotool mousemove --sync --window "$win" "$x" "$y" click 1
	case $name in
	Command)
		type_into Command 'Get-Service Spooler, WSearch, wuauserv'
		wait_for 30 "the command's output was never sent" logged 'screenshots-pc: command output sent'
		;;
	Files)
		wait_for 30 "the Files tab did not settle" settled "$win" # the first drive's listing
		type_into Files "$downloads"
		;;
	Chat)
		type_into Chat "Hi Anna, I'm looking at the print spooler now. Which printer is it?"
		wait_for 30 "the user's answer did not come" settled "$win"
		;;
	Screen)
		read -r _ ax ay _ < <(echo "$tabs" | grep "^ACTION .* Screen\$")
		xdotool mousemove --sync --window "$win" "$ax" "$ay" click 1
		wait_for 30 "the PC was never asked for its screen" logged 'screenshots-pc: screen viewed'
		wait_for 30 "the PC's desktop never appeared in the Screen tab" many_colours "$win" 3000
		;;
	esac
	shot "remote-$(echo "$name" | tr 'A-Z ' 'a-z-')"
done <<<"$tabs"

# Closing the remote window as a window manager's close button does
# (.ci/wmclose.go; xdotool's windowclose destroys the X window, which GLFW
# does not survive) ends the connection; the station seals its recording
# and enters "recording saved" in the audit log.
"$XVFB_TMP/wmclose" "$rwin"
no_remote_window() { ! xdotool search --name '^DESKTOP-7QK2 ' >/dev/null 2>&1; }
wait_for 30 "the remote window did not close" no_remote_window
db="file:$seeded/station.db?mode=ro"
saved() { [ "$(sqlite3 -readonly "$db" "SELECT count(*) FROM audit WHERE event = 'recording saved'")" -ge 1 ]; }
wait_for 30 "the recording was never saved" saved
win=$main_win

# The Activity page with the recording's entry selected (newest first,
# rows 39 px apart from 229), its log and recordings verified.
click 266 23 # Activity
row=$(sqlite3 -readonly "$db" "SELECT count(*) FROM audit WHERE id > (SELECT max(id) FROM audit WHERE event = 'recording saved')")
((row < 10)) || { echo "${0##*/}: the recording's entry is row $row, below the visible ones" >&2; exit 1; }
click 600 $((229 + 39 * row)) # the "recording saved" entry
click 1205 699                # Verify integrity
shot activity

# The player (1100×680), opened from Play recording as a technician
# would: it opens at the start, before the screen was viewed; a click late
# on the timeline shows the desktop the Screen tab was viewing, and
# Verify integrity checks the recording against its audit entry.
xdotool mousemove --sync --window "$win" 1055 699 click 1 # Play recording
player_window() { pwin=$(xdotool search --onlyvisible --name '^Recording of session #' 2>/dev/null | head -1) && [ -n "$pwin" ]; }
wait_for 30 "Play recording opened no player window" player_window
win=$pwin
wait_for 30 "the player window stayed blank" window_drawn "$win"
wait_for 30 "the player window did not settle" settled "$win"
click 517 617 # 80 % along the timeline: after Screen viewing on, before off
wait_for 30 "the recorded desktop never appeared in the player" many_colours "$win" 3000
click 1022 657 # Verify integrity
shot player
"$XVFB_TMP/wmclose" "$win"
no_player_window() { ! xdotool search --name '^Recording of session #' >/dev/null 2>&1; }
wait_for 30 "the player window did not close" no_player_window
win=$main_win
stop_station
