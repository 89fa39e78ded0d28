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
	libxinerama-dev libxi-dev libxxf86vm-dev xvfb x11-apps x11-utils imagemagick xdotool sqlite3
AGENT_EXE := assets/agent/AdHocSupport.exe
BIN := bin/adhoc-station
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test deps agent build check vet unit fuzz smoke bench screenshots clean FORCE

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
agent: FORCE
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -H windowsgui" -o $(AGENT_EXE) ./agent
	@size=$$(stat -c %s $(AGENT_EXE)); echo "Support Session app: $$size bytes"; \
	if [ $$size -ge 10485760 ]; then echo "the download must stay under 10 MB"; exit 1; fi

build: deps agent
	go build -o $(BIN) .

# vet (which compiles the OpenGL driver once) and the race tests share no
# build work, so they run side by side on two cores.
test: deps agent check
	$(MAKE) --no-print-directory -j2 vet unit
	$(MAKE) --no-print-directory fuzz smoke

check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# staticcheck, pinned here rather than in go.mod so the station's module
# graph stays its own (the download is verified against the Go checksum
# database like any module). Installed into bin/ for this machine, so the
# Windows pass can analyse for Windows without building the tool for it.
STATICCHECK := bin/staticcheck

vet:
	go vet ./...
	go vet .ci/screenshots-seed.go # run by make screenshots only; vetted so it does not rot
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go vet ./agent/...
	GOBIN=$(CURDIR)/bin go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	$(STATICCHECK) ./...
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(STATICCHECK) ./agent/...

unit:
	go test -race -count=1 ./...

fuzz:
	go test -run '^$$' -fuzz '^FuzzDecodePairRequest$$' -fuzztime 10s ./core/pairing

smoke: build
	bash .ci/smoke.sh $(BIN)

# The README's screenshots, from the real station under Xvfb at 1280×720.
screenshots: build
	bash .ci/screenshots.sh $(BIN) docs/screenshots

bench:
	go test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin $(AGENT_EXE)

FORCE:
