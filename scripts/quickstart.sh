#!/usr/bin/env bash
# Quick start: install what is missing, build, and run virtkit against the
# embedded in-memory driver test:///default.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" -DVIRTKIT_BUILD_TESTS=OFF -DVIRTKIT_BUILD_BENCH=OFF
virtkit="${VIRTKIT_BUILD_DIR:-$root/build}/bin/virtkit"
demo="$root/docs/examples/demo.xml"

set -x
"$virtkit" plugins
"$virtkit" -c test:///default list --all
"$virtkit" -c test:///default "define $demo; start demo; list --all; suspend demo; domstate demo --reason; resume demo; dominfo demo; shutdown demo; undefine demo; list --all"
