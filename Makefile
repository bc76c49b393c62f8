# Shopfloor: the two commands are `make run` and `make test`; the rest are for developers.
SHELL := /bin/bash
SWIFT ?= swift
CONFIG ?= debug

.PHONY: setup build test run certs bench fuzz generate schemas format clean

# make run builds release; make test reuses its debug build for the plant smoke test
RUN_CONFIG ?= release

## setup: install the Debian packages (mosquitto, PostgreSQL 15, libpq, sqlite3, protobuf-c, pkg-config)
setup:
	@scripts/setup.sh

## build: build every executable and library
build: setup
	$(SWIFT) build -c $(CONFIG)

## test: unit and integration tests against a real mosquitto and PostgreSQL 15 started on 127.0.0.1, then
## schemathesis against the api, the dashboard in headless chromium, and a `make run` smoke test
test: setup
	$(SWIFT) build --build-tests
	@bin=$$($(SWIFT) build --show-bin-path); deps=$$(mktemp -d /tmp/shopfloor-test.XXXXXX); \
	trap 'scripts/test-deps.sh stop '"$$deps"'' EXIT; \
	scripts/test-deps.sh start "$$deps" && source "$$deps/env" && \
	timeout -k 10 1500 $(SWIFT) test --skip-build && \
	Tests/APITests/schemathesis.sh "$$bin/api" && \
	Tests/DashboardTests/dashboard-test.sh "$$bin"
	scripts/smoke-run.sh "$$($(SWIFT) build --show-bin-path)"

## run: start a test plant on this machine (secured local mosquitto, SQLite stores); Ctrl-C stops it
run: setup
	@CONFIG=$(RUN_CONFIG) scripts/run-plant.sh

## certs: a local CA and certificates for the broker's TLS listener and nginx (deploy/certs)
certs:
	@scripts/certs.sh

## bench: benchmarks, each next to its reference in the same run (see docs/benchmarks.md)
bench: setup
	@scripts/bench.sh

## fuzz: run the Sparkplug payload decoder under libFuzzer (FUZZ_SECONDS, default 600)
fuzz: setup
	@scripts/fuzz-sparkplug.sh $${FUZZ_SECONDS:-600}

## generate: regenerate the protobuf-c code from Shared/CSparkplugB/sparkplug_b.proto
generate: setup
	@scripts/generate-sparkplug.sh

## schemas: write one JSON Schema per event type into docs/schemas/
schemas:
	$(SWIFT) run schema-export docs/schemas

## format: format the Swift sources in place
format:
	$(SWIFT) format --in-place --recursive Package.swift Shared Services Tests Benchmarks

clean:
	rm -rf .build .build-*
