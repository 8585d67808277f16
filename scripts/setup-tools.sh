#!/usr/bin/env bash
# Installs the build tools PeerPortal needs, each only when it is missing or
# at the wrong version, so a second run takes seconds.
#
# Why the detours: the build machines reach only the package registries,
# so cargo-leptos runs with `no_downloads` (it then looks every external tool
# up on PATH instead of downloading it). Both cargo-leptos 0.3.11 and
# wasm-bindgen-cli publish lockfiles that cannot be used as they are on Rust
# 1.95 here: cargo-leptos pins cargo-util-schemas 0.14.2, which needs Rust
# 1.96, and wasm-bindgen-cli pins a webpki-roots the registry does not
# offer. So we install both from their crate source with one lockfile pin
# each. The wasm-bindgen CLI must be exactly the version of the crate in
# Cargo.lock; `wasm-opt` comes from npm's binaryen (Debian's binaryen 108
# writes WASM that browsers refuse to instantiate).
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
# Must equal the `wasm-bindgen` version pinned in the workspace Cargo.toml.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' "$(dirname "$0")/../Cargo.toml")
: "${WASM_BINDGEN_VERSION:?wasm-bindgen is not pinned in Cargo.toml}"

export PATH="$HOME/.cargo/bin:$PATH"
# Tools are not hot code: build them fast rather than small.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1

log() { printf '==> %s\n' "$*"; }

# Finds (or fetches into cargo's registry) the source of a published crate.
crate_source() {
  local name=$1 version=$2 dir
  dir=$(ls -d "$HOME"/.cargo/registry/src/*/"$name-$version" 2>/dev/null | head -n1 || true)
  if [ -z "$dir" ]; then
    # A throwaway manifest makes cargo download the crate without building it.
    local tmp; tmp=$(mktemp -d)
    mkdir -p "$tmp/src" && : > "$tmp/src/lib.rs"
    printf '[package]\nname = "fetch-%s"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n%s = "=%s"\n' \
      "$name" "$name" "$version" > "$tmp/Cargo.toml"
    (cd "$tmp" && cargo fetch -q) >/dev/null 2>&1 || true
    rm -rf "$tmp"
    dir=$(ls -d "$HOME"/.cargo/registry/src/*/"$name-$version" 2>/dev/null | head -n1 || true)
    if [ -z "$dir" ]; then
      # cargo fetch only downloads .crate files; unpacking happens on build, so unpack by hand.
      local crate; crate=$(ls "$HOME"/.cargo/registry/cache/*/"$name-$version.crate" 2>/dev/null | head -n1 || true)
      [ -n "$crate" ] || { echo "could not fetch $name $version from the registry" >&2; return 1; }
      dir="$(dirname "${crate/\/cache\//\/src\/}")/$name-$version"
      mkdir -p "$(dirname "$dir")" && tar -xzf "$crate" -C "$(dirname "$dir")"
    fi
  fi
  echo "$dir"
}

# Installs a crate from its source after pinning one lockfile entry.
install_pinned() {
  local name=$1 version=$2 pin_pkg=$3 pin_version=$4; shift 4
  local src work
  src=$(crate_source "$name" "$version")
  work=$(mktemp -d)
  cp -r "$src"/. "$work"/
  (cd "$work" && cargo update -q -p "$pin_pkg" --precise "$pin_version" && cargo install -q --path . --locked "$@")
  rm -rf "$work"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads; takes ~13 minutes once)"
  install_pinned cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1 --features no_downloads
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes ~4 minutes once)"
  install_pinned wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots 1.0.10
fi
