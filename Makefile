# secinbox — see README.md. Needs Go and gcc (cgo for SQLite).
GO ?= go
BIN := bin/secinbox
BENCH_N ?= 2000
BENCH_C ?= 8
# BenchmarkFiling (docs/performance.md): burst sizes, SMTP sessions, junk flood,
# gpg-loop reports, distinct GnuPG-made reports. The figures in docs/performance.md
# come from BENCH_BURSTS=1000,10000 BENCH_FLOOD=10000 BENCH_GPG_LOOP=100 BENCH_POOL=200.
BENCH_BURSTS ?= 1000
BENCH_SESSIONS ?= 16
BENCH_FLOOD ?= 2000
BENCH_GPG_LOOP ?= 30
BENCH_POOL ?= 50
# BENCH_REPORTS: how many reports the board and page benchmarks seed.
BENCH_REPORTS ?= 100000
FUZZTIME ?= 30s

.PHONY: run build test test-browser bench generate check fixtures interop interop-js fuzz clean

## run: start the server with embedded defaults (data in ./data, SMTP :2525, HTTP :8080)
run:
	@echo "make run: building secinbox (the first build compiles SQLite and takes a minute or two)..."
	@$(GO) build -o $(BIN) ./cmd/secinbox
	@echo "make run: starting $(BIN) serve"
	$(BIN) serve

build:
	$(GO) build -o $(BIN) ./cmd/secinbox

## test: the suite, with the race detector, in random order; the browser tests
## (TestBrowser* in web, headless Chromium) are their own target
test:
	$(GO) test -race -shuffle=on -timeout 30m -skip '^TestBrowser' ./...

## test-browser: the UI flows in headless Chromium (skipped without Chromium, failing under CI=true)
test-browser:
	$(GO) test -race -shuffle=on -timeout 30m -run '^TestBrowser' ./web

## bench: SMTP intake and filing under load against a running server process, plus package benchmarks
## (make bench BENCH_REPORTS=1000000: the board, search and report pages over a million reports)
bench:
	BENCH_N=$(BENCH_N) BENCH_C=$(BENCH_C) BENCH_BURSTS=$(BENCH_BURSTS) BENCH_SESSIONS=$(BENCH_SESSIONS) \
	BENCH_FLOOD=$(BENCH_FLOOD) BENCH_GPG_LOOP=$(BENCH_GPG_LOOP) BENCH_POOL=$(BENCH_POOL) BENCH_REPORTS=$(BENCH_REPORTS) \
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 0 ./cmd/secinbox
	BENCH_REPORTS=$(BENCH_REPORTS) $(GO) test -run '^$$' -bench . -timeout 0 ./db ./pgp
	$(GO) test -run '^$$' -bench HallOfFame -benchtime 1x ./web

## generate: regenerate templ components (*_templ.go are committed)
generate:
	$(GO) tool templ generate

## check: formatting, vet, and generated code up to date
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) tool templ generate
	@git diff --exit-code -- '*_templ.go' || { echo "generated templ code is out of date: run make generate and commit"; exit 1; }

## fixtures: regenerate the committed OpenPGP fixtures with the real tools (gpg, sq, node, go)
fixtures: interop-js
	bash pgp/testdata/gen-fixtures.sh
	cd pgp && $(GO) generate # the fuzz seed corpora follow the fixtures
	bash pgp/testdata/interop/gen.sh
	bash cmd/secinbox/testdata/gen-keys.sh

## interop: make the whole OpenPGP interop matrix live with the installed tools, into a
## fresh directory, and run the interop tests against it instead of the committed fixtures
interop: interop-js
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	bash pgp/testdata/interop/gen.sh "$$tmp" && \
	INTEROP_DIR="$$tmp" $(GO) test -count=1 -run 'Interop' ./pgp ./inbox

# interop-js installs the pinned OpenPGP.js (package-lock.json) the generator drives.
interop-js:
	@test -d pgp/testdata/interop/js/node_modules/openpgp || \
	(cd pgp/testdata/interop/js && npm ci --no-audit --no-fund --loglevel=error)

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseMessage$$' -fuzztime $(FUZZTIME) ./pgp
	$(GO) test -run '^$$' -fuzz '^FuzzDecrypt$$' -fuzztime $(FUZZTIME) ./pgp
	$(GO) test -run '^$$' -fuzz '^FuzzParseCVSS$$' -fuzztime $(FUZZTIME) ./triage
	$(GO) test -run '^$$' -fuzz '^FuzzParseSLAPolicy$$' -fuzztime $(FUZZTIME) ./triage

clean:
	rm -rf bin
