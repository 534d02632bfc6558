#!/usr/bin/env bash
# Configures (once) and builds one build directory: build.sh DIR [meson options...]
set -euo pipefail
dir=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$root/$dir/build.ninja" ]; then
  meson setup "$root/$dir" "$root" "$@" >/dev/null
fi
# Quiet when it works; the compiler's words when it does not.
if ! out=$(ninja -C "$root/$dir" 2>&1); then echo "$out" | tail -40 >&2; exit 1; fi
