# PeerPortal: `make run` to try it, `make test` to check everything.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# Tools installed by scripts/setup-tools.sh and end2end's npm packages
# (wasm-opt from npm binaryen: Debian's binaryen breaks the WASM).
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)
# Tool and release builds on 2 cores: the server needs no LTO; the WASM
# bundle has its own size-optimised profile (wasm-release).
export CARGO_PROFILE_RELEASE_LTO := false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS := 16

# Every Rust test of the workspace in one cargo command, so the
# dependencies are compiled once, with one set of features; the server
# binary it builds (target/debug/peerportal) is the one the browser tests
# and the replica tests run. The frontend is the WASM entry point: it is
# built for the browser, not tested natively.
CARGO_TESTS := cargo test --workspace --exclude frontend

.PHONY: run dev test setup node-deps browser smtp build site unit wasm-check postgres e2e bench clean

setup: node-deps
	@bash scripts/setup-tools.sh

node-deps: end2end/node_modules/.package-lock.json
end2end/node_modules/.package-lock.json: end2end/package.json end2end/package-lock.json
	cd end2end && npm ci --no-audit --no-fund

browser:
	@command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

## The SMTP server the tests send mail to (scripts/mailsink.py).
smtp:
	@/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-aiosmtpd; }

## The release build: the bundle with brotli and gzip copies, then the
## server, which carries them all (one self-contained binary).
build: setup
	cargo leptos build --release --precompress

## Starts the portal in demo mode on http://127.0.0.1:3000 (SQLite, demo
## customers, built-in PeeringDB simulator).
run: build
	PEERPORTAL_DEMO=true LEPTOS_ENV=PROD target/release/peerportal serve

## The developer loop: demo mode, rebuilt and reloaded on every save.
dev: setup
	PEERPORTAL_DEMO=true cargo leptos watch

## The release bundle alone (WASM, JS, CSS and their brotli and gzip
## copies): what the browser tests load, served from target/site by the
## debug server the tests built.
site: setup
	cargo leptos build --release --frontend-only --precompress

## Unit tests, the integration suite on SQLite, the simulator and the load
## driver; and the domain crate still builds for the browser.
unit: setup smtp wasm-check
	$(CARGO_TESTS)

wasm-check:
	cargo check -p domain --target wasm32-unknown-unknown

## The whole integration suite again on a throwaway PostgreSQL cluster.
postgres: setup smtp
	@echo "== the integration suite on PostgreSQL =="
	bash scripts/with-postgres.sh $(CARGO_TESTS) --test api

## Playwright in Debian's chromium: the release bundle served by the
## server the integration tests built.
e2e: site browser smtp
	@echo "== first-load bundle size (budget in docs/design.md) =="
	node scripts/bundle.mjs check
	$(CARGO_TESTS) --no-run
	bash scripts/e2e.sh

## Every test: unit, integration (SQLite and PostgreSQL), end-to-end.
test: unit postgres e2e

## Benchmarks (loopback only, bounded): rewrites BENCHMARKS.md.
bench: build
	bash scripts/bench.sh

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results end2end/artifacts
