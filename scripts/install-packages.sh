#!/usr/bin/env bash
# Installs the Debian packages kube-dns builds and tests with, if any is
# missing: libevent, ldns and OpenSSL (the data plane), pkg-config (to find them),
# dig and drill (the tests' DNS clients), curl and openssl (probes and
# certificates in tests), Unbound and Knot DNS (real upstreams for the
# forwarding tests), etcd (a real etcd), libtsan2 (gcc's ThreadSanitizer
# for the C stresses), clang-format (the C linter), iptables and iproute2
# (node-cache's rules and the tests' network namespaces). The one list: CI, the
# demo, the tests and the benchmarks all call this script.
# Needs root when something is missing.
# Usage: scripts/install-packages.sh [extra packages...]
set -euo pipefail
packages=(libevent-dev libldns-dev libssl-dev pkg-config bind9-dnsutils ldnsutils curl openssl unbound knot etcd-server
  etcd-client libtsan2 clang-format iptables iproute2 "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
