#!/usr/bin/env bash
# By hand: bash .ci/close-race.sh BIN [ROUNDS] sends the real station SIGTERM
# ROUNDS times while the pointer moves to and fro over its window (a text
# field and a plain area, so Fyne changes the cursor), and counts the runs
# whose log holds a panic. Fyne 2.7.1 panicked here 2 times in 20 before
# windows were hidden before closing (ui/closewin.go, fyne-io/fyne#5981).
set -uo pipefail
source "$(dirname "$0")/xvfb.sh"
bin=$(realpath "$1"); rounds=${2:-20}
data="$XVFB_TMP/data"
"$bin" --data "$data" settings set "pairing.listen=127.0.0.1:0" >/dev/null 2>&1
xvfb_start 1280x720
panics=0; ok=0
for r in $(seq 1 "$rounds"); do
  "$bin" --data "$data" >"$XVFB_TMP/s.log" 2>&1 &
  pid=$!
  rw() { win=$(xdotool search --onlyvisible --name 'Ad Hoc Support Station' 2>/dev/null | head -1); [ -n "$win" ]; }
  wait_for 60 "no window" rw || exit 1
  # pointer to and fro between a text field and a plain area, while the TERM lands
  ( for i in $(seq 40); do xdotool mousemove --window "$win" 400 $((150 + (i % 2) * 200)) 2>/dev/null; xdotool mousemove --window "$win" 200 300 2>/dev/null; done ) &
  mv=$!
  sleep 0.$((RANDOM % 9 + 1)) # the signal lands at a random moment of the movement, not a wait for readiness
  kill -TERM "$pid"
  wait "$pid"; rc=$?
  kill $mv 2>/dev/null; wait $mv 2>/dev/null
  if grep -q "panic" "$XVFB_TMP/s.log"; then panics=$((panics+1)); echo "round $r: PANIC rc=$rc"; grep -m40 ""  "$XVFB_TMP/s.log"; else ok=$((ok+1)); grep -q "Fyne panicked" "$XVFB_TMP/s.log" && echo "round $r: recovered"; fi
done
echo "closerace: $rounds rounds, $panics panics, $ok clean"
