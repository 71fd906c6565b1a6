#!/usr/bin/env bash
# Installs the Debian tools that the real-kernel tests and `pnpm demo --apply` use.
# Only as root with apt-get; anywhere else it says what is missing, and those tests skip
# visibly (under CI=true a missing tool fails the run instead).
set -euo pipefail
packages=(iproute2 nftables iptables ipset wireguard-go wireguard-tools iperf3 iputils-ping libreswan)
tools=(ip nft iptables-restore ipset wireguard-go wg iperf3 ping ipsec)
absent=()
for i in "${!tools[@]}"; do
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "${tools[$i]}" >/dev/null 2>&1; then
    absent+=("${packages[$i]}")
  fi
done
if [ ${#absent[@]} -eq 0 ]; then
  echo "system tools: all present"
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system tools: installing ${absent[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${absent[@]}" >/dev/null
  echo "system tools: installed"
else
  echo "system tools: missing ${absent[*]} (needs root and apt-get); the real-kernel tests will skip" >&2
fi
