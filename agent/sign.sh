#!/bin/bash
# Signs the Support Session app in place with Authenticode (osslsigncode),
# when the organisation gave a code-signing certificate. `make agent` runs it,
# and so do the signing tests (core/wire/signtest), so what is tested is what
# the build runs. README, "Signing the Support Session app", lists the
# variables. Usage: agent/sign.sh APP.exe
#
# On any failure the unsigned app is deleted: the station must never embed
# it by mistake, where the organisation meant to hand out a signed one.
set -uo pipefail
app=${1:?usage: agent/sign.sh APP.exe}
: "${SIGN_PFX:=}" "${SIGN_CERT:=}" "${SIGN_KEY:=}" "${SIGN_PASS_FILE:=}" "${SIGN_TIMESTAMP:=}"
: "${SIGN_PKCS11_MODULE:=}" "${SIGN_PKCS11_CERT:=}" "${SIGN_PKCS11_KEY:=}" "${SIGN_PKCS11_PIN_FILE:=}"
: "${SIGN_PKCS11_ENGINE:=}" "${OSSLSIGNCODE:=osslsigncode}"

fail() {
	rm -f "$app" "$app.signed"
	echo "signing the Support Session app failed: $*" >&2
	echo "the unsigned app was deleted, so no unsigned download can be embedded; fix the above and run make agent again" >&2
	exit 1
}

if [ -n "$SIGN_PKCS11_MODULE$SIGN_PKCS11_KEY" ]; then
	[ -n "$SIGN_PKCS11_MODULE" ] || fail "SIGN_PKCS11_KEY needs SIGN_PKCS11_MODULE, the token's PKCS#11 library (for example /usr/lib/softhsm/libsofthsm2.so)"
	[ -n "$SIGN_PKCS11_KEY" ] || fail "SIGN_PKCS11_MODULE needs SIGN_PKCS11_KEY, the key's pkcs11: URI (pkcs11-tool -O lists the token's objects)"
	[ -r "$SIGN_PKCS11_MODULE" ] || fail "the PKCS#11 library $SIGN_PKCS11_MODULE cannot be read; install the token's driver or correct SIGN_PKCS11_MODULE"
	# A PIN in a URI would be printed by make and kept in shell history.
	case "$SIGN_PKCS11_KEY$SIGN_PKCS11_CERT" in
	*pin-value=* | *pin-source=*) fail "the pkcs11: URI holds a PIN; remove it and put the PIN in a file named by SIGN_PKCS11_PIN_FILE" ;;
	esac
	with=(-pkcs11module "$SIGN_PKCS11_MODULE" -key "$SIGN_PKCS11_KEY")
	# osslsigncode loads OpenSSL's "pkcs11" engine by name (Debian's 2.5 fails when
	# given its path): a path is only for builds that cannot find it.
	[ -z "$SIGN_PKCS11_ENGINE" ] || with=(-pkcs11engine "$SIGN_PKCS11_ENGINE" "${with[@]}")
	case "$SIGN_PKCS11_CERT" in
	pkcs11:*) with+=(-pkcs11cert "$SIGN_PKCS11_CERT") ;;
	"") [ -n "$SIGN_CERT" ] || fail "a token key needs its certificate: SIGN_PKCS11_CERT (a pkcs11: URI) or SIGN_CERT (a PEM file with the chain)"
		with+=(-certs "$SIGN_CERT") ;;
	*) fail "SIGN_PKCS11_CERT must be a pkcs11: URI; for a certificate in a file use SIGN_CERT" ;;
	esac
	pass=$SIGN_PKCS11_PIN_FILE
	[ -z "$pass" ] || [ -r "$pass" ] || fail "the PIN file $pass (SIGN_PKCS11_PIN_FILE) cannot be read"
elif [ -n "$SIGN_PFX" ]; then
	with=(-pkcs12 "$SIGN_PFX")
	pass=$SIGN_PASS_FILE
elif [ -n "$SIGN_CERT" ]; then
	[ -n "$SIGN_KEY" ] || fail "SIGN_CERT needs SIGN_KEY, the certificate's private key (PEM), or SIGN_PKCS11_KEY for a key on a token"
	with=(-certs "$SIGN_CERT" -key "$SIGN_KEY")
	pass=$SIGN_PASS_FILE
else
	exit 0 # no certificate: the app stays unsigned, as documented
fi

command -v "$OSSLSIGNCODE" >/dev/null || fail "osslsigncode is not installed; run make deps"
# -readpass names a file: the password or PIN is never an argument that
# other users could read in the process list, nor printed by make.
[ -z "$pass" ] || with+=(-readpass "$pass")
[ -z "$SIGN_TIMESTAMP" ] || with+=(-ts "$SIGN_TIMESTAMP")

rm -f "$app.signed"
start=$(date +%s.%N)
if ! out=$("$OSSLSIGNCODE" sign "${with[@]}" -h sha256 -n "Ad Hoc Support Session" -in "$app" -out "$app.signed" 2>&1) ||
	[ ! -s "$app.signed" ]; then
	echo "$out" >&2
	hint="osslsigncode could not sign (its words above)"
	if [ -n "$SIGN_TIMESTAMP" ] && grep -qi "timestamping failed\|curl failure\|http failure" <<<"$out"; then
		hint="the time-stamping server $SIGN_TIMESTAMP did not give a timestamp; check that it is reachable from this computer, or try again later"
	fi
	fail "$hint"
fi
mv "$app.signed" "$app" || fail "could not replace $app with the signed app"
echo "signed $app in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s${SIGN_TIMESTAMP:+, timestamped by $SIGN_TIMESTAMP}"
