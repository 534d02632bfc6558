#!/usr/bin/env bash
# Configures (once) and builds one build directory: build.sh DIR [meson options...]
set -euo pipefail
dir=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$root/$dir/build.ninja" ]; then
  meson setup "$root/$dir" "$root" "$@" >/dev/null
fi
ninja -C "$root/$dir" >/dev/null
