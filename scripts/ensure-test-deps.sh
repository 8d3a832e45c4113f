#!/bin/sh
# Part of `npm test`: the Debian packages the tests use as oracles and peers
# (iproute2/bridge, nft, strace for fixtures, conntrack, the official Go
# plugins for interop and differential tests, podman/runc/busybox-static for
# the real engine test), and the C compiler that builds the agent's native
# client (gcc, libc6-dev): when it was missing, the build is run again; python3
# sends the router advertisements of the bridge RA tests. Installed when missing and we are root; otherwise listed, and
# the tests that need them say so and skip.
set -u
packages="iproute2 strace nftables iptables conntrack containernetworking-plugins podman runc busybox-static gcc libc6-dev python3"
# `sh ensure-test-deps.sh PKG…` ensures just those (the demo: the C compiler).
[ $# -gt 0 ] && packages="$*"
missing=""
for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test dependencies:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null || { echo "apt-get install failed" >&2; exit 1; }
  case "$missing" in *gcc*|*libc6-dev*) echo "rebuilding with the C compiler (the agent's native client)"; node scripts/build-bin.mjs ;; esac
else
  echo "missing test dependencies (tests that need them will skip):$missing" >&2
fi
