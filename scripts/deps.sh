#!/usr/bin/env bash
# Installs the Debian packages the project builds and tests with, if any is missing.
set -euo pipefail
pkgs=(gcc make pkg-config clang libclang-rt-14-dev libuv1-dev libjansson-dev libyaml-dev
      libcurl4-openssl-dev libssl-dev libhttp-parser-dev libcmocka-dev libproc2-dev bats
      curl python3 procps)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}"
