#!/usr/bin/env bash
# Installs dependencies (Debian packages), builds, and runs the bundled baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target entangle
build/entangle run "$@"
