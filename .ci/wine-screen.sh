#!/usr/bin/env bash
# Wine screen check: the Windows Desktop of the Support Session app (GDI
# capture, SendInput, the clipboard; agent/winsys/desktop_windows_test.go)
# under Debian's Wine on an Xvfb screen. The test binary is the package's
# go test, cross-compiled; it shows a window of a known colour, finds it in
# the capture, clicks it and types into it through the Desktop.
# Usage: [WINE_SCREEN_SIZE=1920x1080] wine-screen.sh winsys.test.exe [go test flags...]
# Wine is not Windows: no Winlogon desktop, no SendSAS, no UAC; those are
# in docs/WINDOWS-VERIFY.md. Every wait has its own deadline.
set -euo pipefail
here=$(dirname "$0")
source "$here/xvfb.sh"
exe=$(realpath "$1")
shift

x86_64-w64-mingw32-gcc -O2 -shared -s -o "$XVFB_TMP/bcryptprimitives.dll" "$here/wine/bcryptprimitives.c" -ladvapi32
export WINEPREFIX="$XVFB_TMP/wine" WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree=;mshtml="
wine_cleanup() {
	timeout 30 wineserver -k 2>/dev/null || true
	xvfb_cleanup
}
trap wine_cleanup EXIT

xvfb_start "${WINE_SCREEN_SIZE:-1280x720}"
start=$SECONDS
timeout 300 wineboot -i >"$XVFB_TMP/wineboot.log" 2>&1 ||
	{ echo "wine-screen: wineboot -i did not make the Wine prefix within 300 s:"; cat "$XVFB_TMP/wineboot.log"; exit 1; }
timeout 300 wineserver -w || { echo "wine-screen: the new Wine prefix did not settle within 300 s"; exit 1; }
echo "wine-screen: Wine prefix ready after $((SECONDS - start)) s"
cp "$XVFB_TMP/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
start=$SECONDS
timeout 300 wine "$exe" -test.v -test.count=1 "$@"
echo "wine-screen: the test ran in $((SECONDS - start)) s"
