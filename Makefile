# superguard build, test and CI entry points. `make help` lists the targets.
#
# `make test` is what CI runs (.ci/run): on a fresh Debian/Ubuntu machine with Go
# installed it first makes a real supervisord 4.x available
# (scripts/install-supervisor.sh), then runs every unit test and every
# integration scenario with the race detector. The Go supervisord backend used
# by some integration tests is built by the harness from go.mod's tool block.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

GO ?= go
BIN := bin

# Explicit timeouts: a hung test must fail the run, never stall CI.
UNIT_TIMEOUT ?= 10m
INTEGRATION_TIMEOUT ?= 15m
BENCH_TIMEOUT ?= 20m
# Integration scenarios mostly wait on supervisord, so run more of them at once
# than the default (GOMAXPROCS); each has its own supervisord.
INTEGRATION_PARALLEL ?= 8
FUZZTIME ?= 20s
# Listeners are built without cgo: every dependency is pure Go (modernc
# sqlite included), and package net would otherwise link libc dynamically,
# which costs about 3.5 ms from exec to READY and 1.8 MB of RSS per listener
# (BenchmarkStartup in listeners/eventlog). Tests keep cgo:
# -race needs it.
BUILD_ENV ?= CGO_ENABLED=0
# What --version prints: set in package listener at link time.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/superguard/superguard/pkg/listener.version=$(VERSION) \
	-X github.com/superguard/superguard/pkg/listener.commit=$(COMMIT)

# The supervisord every test uses: the last line printed by the install script.
SUPERVISORD = $$(scripts/install-supervisor.sh | tail -n 1)
# Prometheus and promtool for the exporter's rules and scenarios: Debian's
# prometheus package (scripts/install-prometheus.sh), installed before the
# tests so that no two tests run apt-get at once.
PROMETHEUS = $$(scripts/install-prometheus.sh | tail -n 1)

.PHONY: help build test unit integration bench fuzz lint check clean supervisord alertmanager demo demo-up demo-bin install uninstall

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-12s %s\n", $$1, $$2 }'

build: ## build every listener into bin/ (and compile everything else)
	@mkdir -p $(BIN)
	@if [ -n "$$($(GO) list ./listeners/... 2>/dev/null)" ]; then \
		$(BUILD_ENV) $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./listeners/...; \
	fi
	$(GO) build ./...
	@ls $(BIN)

# The demo's extra flags (e.g. DEMO_FLAGS=-keep to keep its logs and state).
DEMO_FLAGS ?=

demo-bin: build
	@$(BUILD_ENV) $(GO) build -o $(BIN)/ ./integration/cmd/fakestrategy ./scripts/demo

demo: demo-bin ## a guarded trading stack and a narrated scenario, in under two minutes (no network; SUPERGUARD_DEMO_SINKS=FILE opts in to real sinks)
	@sup=$(SUPERVISORD); exec $(BIN)/demo -bin $(BIN) -supervisord "$$sup" $(DEMO_FLAGS)

demo-up: demo-bin ## the demo stack, kept running until Ctrl-C, with how to reach supervisorctl, the web UI, logs and commands
	@sup=$(SUPERVISORD); exec $(BIN)/demo -up -bin $(BIN) -supervisord "$$sup" $(DEMO_FLAGS)

# Where make install puts things (scripts/install.sh): binaries in
# $(DESTDIR)$(PREFIX)/bin, confs in $(DESTDIR)/etc/superguard, the systemd
# unit in $(DESTDIR)$(UNITDIR).
PREFIX ?= /usr/local
DESTDIR ?=
UNITDIR ?= /etc/systemd/system

install: build ## the listeners, confs and systemd unit (DESTDIR, PREFIX); an edited config is kept, the new one written beside it as .new
	@DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' UNITDIR='$(UNITDIR)' BIN='$(abspath $(BIN))' scripts/install.sh install

uninstall: ## remove what make install put in place, except /etc/superguard (your confs and secrets)
	@DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' UNITDIR='$(UNITDIR)' scripts/install.sh uninstall

supervisord: ## make a real supervisord 4.x available and print its path
	@scripts/install-supervisor.sh

alertmanager: ## install Debian's prometheus-alertmanager (optional, for alert tests)
	@scripts/install-alertmanager.sh

test: ## unit + integration tests with -race (installs supervisord, prometheus and promtool if needed)
	@sup=$(SUPERVISORD); echo "make test: supervisord $$sup ($$($$sup --version))"; \
	prom=$(PROMETHEUS); echo "make test: prometheus $$prom ($$($$prom --version 2>&1 | head -n 1))"; \
	$(GO) test -race -timeout $(UNIT_TIMEOUT) $$($(GO) list ./... | grep -v '/integration\(/\|$$\)'); \
	SUPERGUARD_SUPERVISORD=$$sup SUPERGUARD_PROMETHEUS=$$prom $(GO) test -race -timeout $(INTEGRATION_TIMEOUT) \
		-parallel $(INTEGRATION_PARALLEL) ./integration/...

unit: ## unit tests only (no integration/), with -race
	$(GO) test -race -timeout $(UNIT_TIMEOUT) $$($(GO) list ./... | grep -v '/integration\(/\|$$\)')

integration: ## integration tests only, with -race
	@sup=$(SUPERVISORD); prom=$(PROMETHEUS); SUPERGUARD_SUPERVISORD=$$sup SUPERGUARD_PROMETHEUS=$$prom $(GO) test -race \
		-timeout $(INTEGRATION_TIMEOUT) -parallel $(INTEGRATION_PARALLEL) ./integration/...

# bench: -v, or go test prints no line for a skipped benchmark and the report
# could not say why it did not run. The goals and comparisons are lines in
# each benchmark's doc comment (scripts/benchreport/main.go says how). A
# failing benchmark fails `make bench`, after the report of what ran is written.
bench: ## every benchmark, one package at a time (they time real processes); writes BENCHMARKS.md from the output (raw: bin/bench.txt)
	@mkdir -p $(BIN); \
	$(GO) build -o /dev/null ./scripts/benchreport; \
	pkgs=$$(grep -rl --include='*_test.go' --exclude-dir=.git --exclude-dir='.venv*' --exclude-dir=testdata '^func Benchmark' . \
		| xargs -r -n1 dirname | sort -u); \
	if [ -z "$$pkgs" ]; then echo "no benchmarks"; exit 0; fi; \
	sup=$(SUPERVISORD); load=$$(cat /proc/loadavg 2>/dev/null || true); status=0; \
	SUPERGUARD_SUPERVISORD=$$sup $(GO) test -v -p 1 -run '^$$' -bench . -benchmem -timeout $(BENCH_TIMEOUT) $$pkgs \
		2>&1 | tee $(BIN)/bench.txt || status=$$?; \
	$(GO) run ./scripts/benchreport -in $(BIN)/bench.txt -out BENCHMARKS.md -src . -supervisord "$$sup" -load-before "$$load"; \
	exit $$status

fuzz: ## each fuzz target for FUZZTIME (default 20s)
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

lint: ## gofmt, go vet + staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

check: lint test ## lint, then test

clean: ## remove build output
	rm -rf $(BIN)
