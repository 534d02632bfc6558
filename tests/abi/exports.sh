#!/usr/bin/env bash
# The shared library exports grp_* symbols under the LIBGROUP_0 version node
# and nothing else: internal layers stay hidden.
set -euo pipefail
lib=$1
symbols=$(nm -D --defined-only "$lib" | awk '{print $3}')
strays=$(printf '%s\n' "$symbols" | grep -v -e '^grp_[a-z0-9_]*@@LIBGROUP_0$' -e '^LIBGROUP_0$' || true)
if [ -n "$strays" ]; then
  echo "unexpected exported symbols:"; printf '%s\n' "$strays"; exit 1
fi
count=$(printf '%s\n' "$symbols" | grep -c '^grp_')
[ "$count" -gt 0 ] || { echo "no grp_ symbols exported"; exit 1; }
echo "$count grp_ symbols exported, nothing else"
