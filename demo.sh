#!/usr/bin/env bash
# Builds corral, its agent and the phone simulator, then runs `corral demo`.
# Arguments are passed on: ./demo.sh --phones 5 --data-dir /tmp/corral-demo
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --locked -p corral-controller -p corral-agent -p corral-devsim --bins
exec "${CARGO_TARGET_DIR:-target}/release/corral" demo "$@"
