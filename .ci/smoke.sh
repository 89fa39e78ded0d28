#!/usr/bin/env bash
# Smoke test: start the real station under Xvfb with a temporary data folder,
# wait for its window, take a screenshot, check it is not blank, then stop it
# with SIGTERM and expect exit code 0. SCREENSHOT_DIR=dir keeps the picture.
set -euo pipefail
bin=$(realpath "$1")
tmp=$(mktemp -d)
display=:$((90 + RANDOM % 100))
Xvfb "$display" -screen 0 1280x860x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb=$!
cleanup() { kill "$xvfb" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
export DISPLAY=$display LANG=en_US.UTF-8
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

start=$(date +%s%N)
"$bin" --data "$tmp/data" >"$tmp/station.log" 2>&1 &
pid=$!
win=""
for _ in $(seq 600); do
	win=$(xdotool search --onlyvisible --name 'Ad Hoc Support Station' 2>/dev/null | head -1) && [ -n "$win" ] && break
	kill -0 "$pid" 2>/dev/null || { echo "smoke: the station exited early:"; cat "$tmp/station.log"; exit 1; }
	sleep 0.05
done
[ -n "$win" ] || { echo "smoke: no window after 30 s"; cat "$tmp/station.log"; exit 1; }
echo "smoke: window visible after $(( ($(date +%s%N) - start) / 1000000 )) ms"
sleep 2 # let it draw before the picture and settle before measuring memory
xwd -root -silent | convert xwd:- "$tmp/shot.png"
colors=$(convert "$tmp/shot.png" -format %k info:)
echo "smoke: screenshot has $colors colours; station RSS $(ps -o rss= -p "$pid" | tr -d ' ') KiB"
[ "$colors" -gt 16 ] || { echo "smoke: the screenshot is blank"; exit 1; }
if [ -n "${SCREENSHOT_DIR:-}" ]; then mkdir -p "$SCREENSHOT_DIR" && cp "$tmp/shot.png" "$SCREENSHOT_DIR/station.png"; fi
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { echo "smoke: the station exited with code $rc"; cat "$tmp/station.log"; exit 1; }
echo "smoke: closed cleanly"
