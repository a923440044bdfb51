#!/usr/bin/env bash
# Install what is missing, build with warnings as errors, run the whole test suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" -DVIRTKIT_WERROR=ON -DVIRTKIT_BUILD_TESTS=ON
cd "${VIRTKIT_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j"$(nproc)" --timeout 600
