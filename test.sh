#!/usr/bin/env bash
# Runs everything CI runs: installs what the tests need (Debian packages, idempotently),
# then the quality gates and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests drive for real. Checked first, so a machine that has them
# installs nothing and needs no network.
packages=(adb)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "test.sh: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
