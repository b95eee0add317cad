#!/usr/bin/env bash
# The "run the main job" command of the README: installs dependencies,
# builds, and starts prkitd serving a 64 MiB RAM LU on 127.0.0.1 (port 3260,
# or the one given). It prints how to reach it; Ctrl-C stops it.
#   scripts/demo.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ -d build ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build src/target/prkitd src/cli/prkit >/dev/null
exec build/src/target/prkitd --demo --port "${1:-3260}"
