#!/usr/bin/env bash
# Runs everything CI runs: installs what the tests need (Debian packages, idempotently),
# then the quality gates and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests drive for real (chromium + chromium-driver: the console's browser
# tests). Checked first, so a machine that has them
# installs nothing and needs no network.
packages=(adb postgresql chromium chromium-driver)
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

# CI builds from a fresh clone once: incremental artefacts would only double the target
# directory (CI once ran out of disk with them).
export CARGO_INCREMENTAL=0

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# USB without an adb server is an optional feature (libusb, built from source): no test
# can drive it here (no USB phones), so at least hold it to the same lints.
cargo clippy --workspace --all-targets --locked --features corral-controller/usb -- -D warnings
# A private, throwaway PostgreSQL server for the controller's storage suite
# (controller/tests/store_*.rs runs every behaviour on SQLite and on PostgreSQL). Trust
# auth on 127.0.0.1 only, no fsync (the data dies with this script), stopped on exit.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/corral-pg.XXXXXX")
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$pg_dir"
  as_pg=(runuser -u postgres --)
fi
pg_port=55432
while (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; do pg_port=$((pg_port + 1)); done
stop_pg() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U corral -A trust -E UTF8 --no-sync >"$pg_dir/initdb.log" 2>&1 \
  || { cat "$pg_dir/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null || { cat "$pg_dir/server.log" >&2; exit 1; }
export CORRAL_TEST_PG_URL="postgres://corral@127.0.0.1:$pg_port/postgres"

cargo test --workspace --locked
