#!/usr/bin/env bash
# Installs the Debian packages libgroup needs that are not installed yet.
# Runs as root (apt-get); does nothing, and needs no network, when all are present.
set -euo pipefail
packages=(gcc g++ pkg-config meson ninja-build libfabric-dev librdmacm-dev libibverbs-dev
          libcmocka-dev libssl-dev gnuplot-nox iproute2 man-db)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
