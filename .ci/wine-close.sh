#!/usr/bin/env bash
# By hand: bash .ci/wine-close.sh bin/adhoc-station.exe [ROUNDS] repeats
# wine-smoke.sh's polite close (taskkill without /f) ROUNDS times on one Wine
# prefix and reports each outcome, with the log of any close ignored.
set -uo pipefail
here=$(dirname "$0")
source "$here/xvfb.sh"
exe=$(realpath "$1"); rounds=${2:-10}
app="$XVFB_TMP/app"; mkdir -p "$app"; cp "$exe" "$app/adhoc-station.exe"
unset ADHOCSTATION_KEYRING
source "$here/wine-prefix.sh"
xvfb_start 1280x720
wine_prefix wineclose
data='C:\adhoc-data'
timeout 120 wine "$app/adhoc-station.exe" --data "$data" profiles add "Anna Tech" anna@example.com >/dev/null 2>&1
timeout 120 wine "$app/adhoc-station.exe" --data "$data" sessions prepare --profile anna@example.com --email user@example.org --generate-password --json >/dev/null 2>&1
for r in $(seq 1 "$rounds"); do
  log="$XVFB_TMP/station.$r.log"
  wine "$app/adhoc-station.exe" --data "$data" >"$log" 2>&1 </dev/null &
  pid=$!
  win=""
  sw() { win=$(xdotool search --onlyvisible --name '^Ad Hoc Support Station$' 2>/dev/null | head -1) && [ -n "$win" ]; }
  wait_for 120 "no window" sw || { echo "round $r: no window"; cat "$log"; continue; }
  wait_for 60 "blank" window_drawn "$win"
  wait_for 60 "changing" settled "$win"
  t0=$SECONDS
  tk=$(timeout 60 wine taskkill /im adhoc-station.exe 2>&1); tkrc=$?
  exited() { ! kill -0 "$pid" 2>/dev/null; }
  if wait_for 30 "not closed" exited 2>/dev/null; then
    echo "round $r: closed after $((SECONDS-t0)) s (taskkill rc=$tkrc: $tk)"
  else
    echo "round $r: NOT CLOSED in 30 s; taskkill rc=$tkrc: $tk"
    echo "--- log:"; cat "$log"; echo "--- windows:"; xdotool search --name . 2>/dev/null | while read w; do echo "$w $(xdotool getwindowname $w 2>/dev/null)"; done
    tk=$(timeout 60 wine taskkill /im adhoc-station.exe 2>&1); echo "second taskkill rc=$?: $tk"
    if wait_for 30 "not closed" exited 2>/dev/null; then echo "round $r: second close worked"; else echo "round $r: second close ignored too"; timeout 60 wine taskkill /f /im adhoc-station.exe >/dev/null 2>&1; fi
    cat "$log" | tail -5
  fi
  wait "$pid" 2>/dev/null; echo "  exit code $?"
done
