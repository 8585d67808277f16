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

.PHONY: run test setup node-deps browser build unit postgres e2e bench clean

setup: node-deps
	@bash scripts/setup-tools.sh

node-deps: end2end/node_modules/.package-lock.json
end2end/node_modules/.package-lock.json: end2end/package.json end2end/package-lock.json
	cd end2end && npm ci --no-audit --no-fund

browser:
	@command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

build: setup
	cargo leptos build --release
	node scripts/bundle.mjs compress

## Starts the portal in demo mode on http://127.0.0.1:3000 (SQLite, demo
## customers, built-in PeeringDB simulator).
run: build
	PEERPORTAL_DEMO=true LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD target/release/peerportal serve

unit: setup
	cargo test -p app --features ssr
	@echo "== server unit tests and the integration suite on SQLite =="
	cargo test -p peerportal -- --test-threads=1
	cargo test -p peeringdb-sim
	cargo test -p peerportal-load

## The whole integration suite again on a throwaway PostgreSQL cluster.
## Integration tests run one at a time (here and in `unit`): in parallel, a
## console page rendered on the server sometimes never finished (2 runs in
## 6); the cause is not found yet.
postgres: setup
	@echo "== the integration suite on PostgreSQL =="
	bash scripts/with-postgres.sh cargo test -p peerportal --test api -- --test-threads=1

e2e: build browser
	@echo "== first-load bundle size (DESIGN §9) =="
	node scripts/bundle.mjs check
	bash scripts/e2e.sh

## Every test: unit, integration (SQLite and PostgreSQL), end-to-end.
test: unit postgres e2e

## Benchmarks (loopback only, bounded): rewrites BENCHMARKS.md.
bench: build
	bash scripts/bench.sh

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results end2end/artifacts
