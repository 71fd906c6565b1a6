#!/usr/bin/env bash
# Installs the Debian tools that the real-kernel tests and `pnpm demo --apply` use (and valgrind, for
# the instruction counts of `pnpm bench`), then (through
# scripts/install-kube.sh) etcd and a cached kube-apiserver + kubectl for the real-API-server tests.
# Only as root with apt-get; anywhere else it says what is missing, and those tests skip
# visibly (under CI=true a missing tool fails the run instead).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
packages=(iproute2 nftables iptables ipset wireguard-go wireguard-tools iperf3 iputils-ping libreswan valgrind)
tools=(ip nft iptables-restore ipset wireguard-go wg iperf3 ping ipsec valgrind)

install_tools() {
  local absent=()
  for i in "${!tools[@]}"; do
    if ! PATH="$PATH:/usr/sbin:/sbin" command -v "${tools[$i]}" >/dev/null 2>&1; then
      absent+=("${packages[$i]}")
    fi
  done
  if [ ${#absent[@]} -eq 0 ]; then
    echo "system tools: all present"
    return 0
  fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "system tools: installing ${absent[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A mirror hiccup should not fail a CI run: try three times, a few seconds apart.
    for attempt in 1 2 3; do
      if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${absent[@]}" >/dev/null; then
        echo "system tools: installed"
        return 0
      fi
      echo "system tools: apt-get failed (attempt $attempt of 3)" >&2
      sleep $((attempt * 5))
    done
    return 1
  fi
  echo "system tools: missing ${absent[*]} (needs root and apt-get); the real-kernel tests will skip" >&2
}

install_tools
bash "$here/install-kube.sh"
