#!/usr/bin/env bash
# Configures (or reconfigures) and builds portsight: deploy/build.sh [BUILDDIR [MESON OPTIONS...]]
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${1:-build}
shift || true
if [ -f "$builddir/build.ninja" ]; then
    meson setup --reconfigure "$builddir" "$@"
else
    meson setup "$builddir" "$@"
fi
meson compile -C "$builddir"
