#!/bin/sh
# Part of `npm test`: the Debian packages the tests use as oracles and peers
# (iproute2/bridge, nft, strace for fixtures, the official Go plugins for
# interop and differential tests, podman/runc/busybox-static for the real
# engine test). Installed when missing and we are root; otherwise listed, and
# the tests that need them say so and skip.
set -u
packages="iproute2 strace nftables iptables containernetworking-plugins podman runc busybox-static"
missing=""
for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test dependencies:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null || { echo "apt-get install failed" >&2; exit 1; }
else
  echo "missing test dependencies (tests that need them will skip):$missing" >&2
fi
