# secinbox — see README.md. Needs Go and gcc (cgo for SQLite).
GO ?= go
BIN := bin/secinbox
BENCH_N ?= 2000
BENCH_C ?= 8
FUZZTIME ?= 30s
# SQLite full-text search (FTS5) is compiled into go-sqlite3 only with this tag.
export GOFLAGS := -tags=sqlite_fts5 $(GOFLAGS)

.PHONY: run build test bench generate check fixtures fuzz clean

## run: start the server with embedded defaults (data in ./data, SMTP :2525, HTTP :8080)
run:
	$(GO) run ./cmd/secinbox serve

build:
	$(GO) build -o $(BIN) ./cmd/secinbox

## test: the whole suite, with the race detector, in random order
test:
	$(GO) test -race -shuffle=on ./...

## bench: SMTP intake under load against a running server process, plus package benchmarks
bench:
	BENCH_N=$(BENCH_N) BENCH_C=$(BENCH_C) $(GO) test -run '^$$' -bench . -benchtime 1x ./cmd/secinbox
	$(GO) test -run '^$$' -bench . ./db ./pgp

## generate: regenerate templ components (*_templ.go are committed)
generate:
	$(GO) tool templ generate

## check: formatting, vet, and generated code up to date
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) tool templ generate
	@git diff --exit-code -- '*_templ.go' || { echo "generated templ code is out of date: run make generate and commit"; exit 1; }

## fixtures: regenerate the OpenPGP fixtures with GnuPG (needs gpg)
fixtures:
	bash pgp/testdata/gen-fixtures.sh

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseMessage$$' -fuzztime $(FUZZTIME) ./pgp
	$(GO) test -run '^$$' -fuzz '^FuzzDecrypt$$' -fuzztime $(FUZZTIME) ./pgp

clean:
	rm -rf bin
