# The two commands: `make run` starts the station, `make test` runs every check.
# Both install what is missing first (Debian packages need root or sudo).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
export LANG := en_US.UTF-8
# Link Debian's SQLite instead of compiling the 9 MB amalgamation once per
# build mode (normal, race, fuzz): about 50 s of CPU each on a cold cache.
# One set of tags everywhere, so every target shares the build cache.
export GOFLAGS := -tags=libsqlite3

APT_PACKAGES := gcc pkg-config libsqlite3-dev libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
	libxinerama-dev libxi-dev libxxf86vm-dev xvfb x11-apps x11-utils imagemagick xdotool sqlite3 \
	gcc-mingw-w64-x86-64-win32 wine wine64 osslsigncode \
	softhsm2 libengine-pkcs11-openssl opensc faketime
AGENT_EXE := assets/agent/AdHocSupport.exe
BIN := bin/adhoc-station
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test deps agent build check vet unit fuzz smoke bench screenshots clean FORCE \
	station-windows wine-smoke wine-screen package-linux package-windows load faults hub hub-load

run: build
	./$(BIN) $(ARGS)

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@command -v go >/dev/null || { echo "Go 1.26 is needed: https://go.dev/dl/ (expected in /usr/local/go)"; exit 1; }
	go mod download

# The Windows Support Session app, embedded in the station for the download:
# a GUI-subsystem program (no console window flashes; --console attaches to
# the one it was started from), under 10 MB.
#
# With the organisation's code-signing certificate it is Authenticode-signed
# by agent/sign.sh, which the signing tests run too (README,
# "Signing the Support Session app"): SIGN_PFX (PKCS#12), or SIGN_CERT and
# SIGN_KEY (PEM); SIGN_PASS_FILE holds the key's password; or a key on a
# token: SIGN_PKCS11_MODULE, SIGN_PKCS11_KEY and SIGN_PKCS11_CERT (pkcs11:
# URIs), SIGN_PKCS11_PIN_FILE. SIGN_TIMESTAMP is an RFC 3161 time-stamping
# URL. Each download then keeps this one signature, with the session's
# details inside its padding. make hands SIGN_* given as its arguments or in
# the environment to the script's environment.

agent: FORCE
	@# go build leaves a file whose build ID matches alone, so a signed app
	@# would outlive a build without the certificate.
	rm -f $(AGENT_EXE)
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -H windowsgui" -o $(AGENT_EXE) ./agent
	agent/sign.sh $(AGENT_EXE)
	@size=$$(stat -c %s $(AGENT_EXE)); echo "Support Session app: $$size bytes"; \
	if [ $$size -ge 10485760 ]; then echo "the download must stay under 10 MB"; exit 1; fi

build: deps agent
	go build -o $(BIN) .

# The relay hub (docs/HUB.md): headless, static, no cgo, for any Linux host.
hub:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/adhoc-hub ./hub
	@file bin/adhoc-hub 2>/dev/null || true

# The real adhoc-hub carrying 1,000 idle relays from another process for an
# idle minute: its RSS and CPU from /proc (docs/PERFORMANCE.md "Relay hub").
# ADHOC_LOAD_PCS and ADHOC_LOAD_IDLE (seconds) change the load.
hub-load:
	ADHOC_LOAD=1 go test -count=1 -v -timeout 15m -run 'TestHub' ./hub/hubload/

# vet (which compiles the OpenGL driver once) and the race tests share no
# build work, so they run side by side on two cores.
test: deps agent check
	$(MAKE) --no-print-directory -j2 vet unit
	$(MAKE) --no-print-directory fuzz smoke wine-smoke wine-screen

check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# staticcheck, pinned here rather than in go.mod so the station's module
# graph stays its own (the download is verified against the Go checksum
# database like any module). Installed into bin/ for this machine, so the
# Windows pass can analyse for Windows without building the tool for it.
STATICCHECK := bin/staticcheck

vet:
	go vet ./...
	go vet .ci/screenshots-seed.go # run by make screenshots only; vetted so they do not rot
	go vet .ci/screenshots-pc.go .ci/screenshots-desktop.go
	go vet .ci/wmclose.go # remote-close.sh's helper, run by hand
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go vet ./agent/...
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 go vet ./core/... # the core builds for macOS without cgo
	GOBIN=$(CURDIR)/bin go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	$(STATICCHECK) ./...
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(STATICCHECK) ./agent/...

unit:
	go test -race -count=1 -timeout 25m ./...

# The screen codec's seeds are kilobytes of JPEG and zstd: minimizing each
# new input took its whole run (1,700 inputs tried in 10 s instead of ~200,000).
#
# Budgets are counts of inputs, not seconds: Go 1.26's fuzzing coordinator
# can fail a run whose -fuzztime duration ends while a worker is busy
# ("context deadline exceeded", no input written; go.dev/issue/75804,
# fixed in Go 1.27), which a loaded CI machine hit. A count has no
# deadline to race. Each is about what the old seconds gave at load 2–4.
FUZZ_WIRE = FuzzReadDetails:100000 FuzzReceiveChunks:20000 FuzzReadLine:80000 FuzzCleanChat:40000 FuzzStreamLines:50000
fuzz:
	go test -run '^$$' -fuzz '^FuzzDecodePairRequest$$' -fuzztime 40000x ./core/pairing
	go test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 300000x -fuzzminimizetime 0 ./core/wire/frame
	for fn in $(FUZZ_WIRE); do f=$${fn%%:*}; n=$${fn##*:}; \
		go test -run '^$$' -fuzz "^$$f\$$" -fuzztime $${n}x ./core/wire || exit 1; done

smoke: build
	bash .ci/smoke.sh $(BIN)
	bash .ci/window-size.sh $(BIN)
	bash .ci/stop.sh $(BIN)

# The README's screenshots, from the real station under Xvfb at 1280×720.
screenshots: build
	bash .ci/screenshots.sh $(BIN) docs/screenshots

# The station for Windows amd64, cross-compiled with cgo through mingw-w64
# by the fyne tool, which puts FyneApp.toml's icon, name and version in the
# exe. SQLite is the amalgamation: the libsqlite3 tag links Debian's Linux
# library, so GOFLAGS is emptied here.
FYNE := bin/fyne
WIN_EXE := bin/adhoc-station.exe
WIN_ENV := GOFLAGS= GOARCH=amd64 CC=x86_64-w64-mingw32-gcc

# fyne package counts FyneApp.toml's Build up after each package; the file
# is put back so a build leaves the work tree as it was.
fyne_package = cp FyneApp.toml bin/FyneApp.toml.keep; $(1); st=$$?; mv bin/FyneApp.toml.keep FyneApp.toml; exit $$st

$(FYNE):
	GOBIN=$(CURDIR)/bin go install fyne.io/tools/cmd/fyne@v1.7.4

station-windows: deps agent $(FYNE)
	rm -f "Ad Hoc Support Station.exe" adhoc-station.exe
	$(call fyne_package,$(WIN_ENV) $(FYNE) package --os windows --release --executable adhoc-station.exe)
	mkdir -p bin && mv "Ad Hoc Support Station.exe" $(WIN_EXE)
	@echo "station for Windows: $$(stat -c %s $(WIN_EXE)) bytes"

package-windows: station-windows

# The station under Wine on a virtual screen: the window draws and the
# command line answers JSON (.ci/wine-smoke.sh).
wine-smoke: station-windows
	bash .ci/wine-smoke.sh $(WIN_EXE)

# The Support Session app's Windows Desktop under Wine on a virtual screen:
# GDI capture, SendInput, the clipboard, ServeScreen on it, the banner, the
# activity window and the pipe's caller facts (.ci/wine-screen.sh runs agent/winsys's tests
# cross-compiled).
wine-screen:
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o bin/winsys.test.exe ./agent/winsys
	bash .ci/wine-screen.sh bin/winsys.test.exe -test.run 'TestDesktop|TestServeScreen|TestBanner|TestPipeCaller|TestPipeDescriptor|TestPipeSDDL|TestDialPastSquatter|TestCallMissingExport|TestVirtualKey|TestKeeper|TestActivityWindow'

# The Linux desktop bundle: a .tar.xz with the binary, the .desktop entry
# and the icon; `sudo make -C <unpacked folder> install` installs it.
package-linux: deps agent $(FYNE)
	rm -rf adhoc-station "Ad Hoc Support Station.tar.xz"
	$(call fyne_package,GOFLAGS= $(FYNE) package --os linux --release --executable adhoc-station)
	@ls -l *.tar.xz

# The station under load (issue 18, docs/RELIABILITY.md): 1,000 PCs on live
# channels, a wrong-code flood, 5 remote sessions with screen and transfers,
# while PCs pair; then the station's memory a live channel. Not in make test:
# about two minutes of both cores. ADHOC_PCS, ADHOC_LOAD_* tune it.
load:
	ADHOC_LOAD=1 go test -count=1 -timeout 20m -run '^(TestLoad|TestChannelLoad)$$' -v ./core/pairing/

# The station under faults (issue 18, docs/RELIABILITY.md "## Faults"):
# SIGKILLed at named moments in a child process, SMTP gone and back, the
# PC's network cut, full disks, clock jumps. Each is fast and
# deterministic, so make test runs them too; this runs them alone, with
# what the user is shown.
FAULTS_CORE := ^(TestFault.*|TestCrashLosesNothing|TestOutboxKilledMidSend|TestOutboxStopJustAfterServerAccepted|TestInvitationServerDownThenUp|TestRestartReloadsAndExpires)$$
FAULTS_AGENT := ^(TestFault.*|TestFilesConnectionCut|TestFilesDiskFull|TestChannelOnlineAndCut|TestChannelStationRestart|TestChannelTellsExpiredSession)$$
faults:
	set -o pipefail; go test -race -count=1 -v -run '$(FAULTS_CORE)' ./core/ 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT)'
	set -o pipefail; go test -race -count=1 -v -run '$(FAULTS_AGENT)' ./agent/support/ 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT)'

bench:
	go test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin $(AGENT_EXE) *.tar.xz

FORCE:
