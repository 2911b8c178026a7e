#!/usr/bin/env bash
# Installs the Debian packages squall needs to build, test and benchmark.
# Only packages that are missing are installed; `apt-get update` runs first.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config
  libcurl4-openssl-dev libev-dev libyaml-dev libnl-3-dev libnl-route-3-dev
  libjansson-dev libmicrohttpd-dev libssl-dev libcmocka-dev)
test_pkgs=(iproute2 iptables nginx openssl curl python3 procps chromium)
extra_pkgs=()
case "${1:-build}" in
  build) pkgs=("${build_pkgs[@]}") ;;
  test)  pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" clang libclang-rt-14-dev) ;;
  bench) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" wrk apache2-utils hey linux-perf) ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}" "${extra_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
