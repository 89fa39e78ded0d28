#!/usr/bin/env bash
# Wine screen check: the Windows Desktop of the Support Session app (GDI
# capture, SendInput, the clipboard, ServeScreen on it, the banner;
# agent/winsys/*_windows_test.go) under Debian's Wine on an Xvfb screen. The
# test binary is the package's go test, cross-compiled; it shows a window of
# a known colour, finds it in the capture, clicks it and types into it
# through the Desktop.
# Usage: [WINE_SCREEN_SIZE=1920x1080] wine-screen.sh winsys.test.exe [go test flags...]
# Wine is not Windows: no Winlogon desktop, no SendSAS, no UAC, one monitor;
# those are in docs/WINDOWS-VERIFY.md. Every wait has its own deadline.
set -euo pipefail
here=$(dirname "$0")
source "$here/xvfb.sh"
exe=$(realpath "$1")
shift
source "$here/wine-prefix.sh"

xvfb_start "${WINE_SCREEN_SIZE:-1280x720}"
wine_prefix wine-screen
start=$SECONDS
timeout 300 wine "$exe" -test.v -test.count=1 "$@"
echo "wine-screen: the test ran in $((SECONDS - start)) s"
