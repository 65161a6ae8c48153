#!/usr/bin/env bash
# Installs dependencies (Debian packages), builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-python --with-notebooks --with-mpi  # MPI: the mpirun sweep test
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DENTANGLE_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure -j"$(nproc)"
