# Sourced after xvfb.sh by the Wine checks (wine-smoke.sh, wine-screen.sh):
# wine_prefix NAME makes a fresh 64-bit Wine prefix in $XVFB_TMP/wine with
# the bcryptprimitives.dll shim and stops its processes at exit. NAME
# prefixes the messages.
#
# Debian's Wine 8 lacks bcryptprimitives.dll's ProcessPrng, which Go 1.24 and
# later need to start; a small shim built here with mingw goes into the
# prefix's system32 (the Go runtime loads it from there only).
wine_prefix() {
	local name=$1 here start
	here=$(dirname "${BASH_SOURCE[0]}")
	x86_64-w64-mingw32-gcc -O2 -shared -s -o "$XVFB_TMP/bcryptprimitives.dll" "$here/wine/bcryptprimitives.c" -ladvapi32
	export WINEPREFIX="$XVFB_TMP/wine" WINEARCH=win64 WINEDEBUG=-all
	# The shim before any built-in copy; no Mono or Gecko install prompts.
	export WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree=;mshtml="
	start=$SECONDS
	# wineboot returns once the prefix is made; wineserver -w waits until the
	# processes it started (services, explorer) have finished their first run.
	timeout 300 wineboot -i >"$XVFB_TMP/wineboot.log" 2>&1 ||
		{ echo "$name: wineboot -i did not make the Wine prefix within 300 s:"; cat "$XVFB_TMP/wineboot.log"; exit 1; }
	timeout 300 wineserver -w || { echo "$name: the new Wine prefix did not settle within 300 s"; exit 1; }
	echo "$name: Wine prefix ready after $((SECONDS - start)) s"
	cp "$XVFB_TMP/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
}

wine_cleanup() {
	# Only this prefix's Wine processes: the prefix is ours alone.
	timeout 30 wineserver -k 2>/dev/null || true
	xvfb_cleanup
}
trap wine_cleanup EXIT
