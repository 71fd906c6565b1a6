#!/usr/bin/env bash
# Builds kube-apiserver and kubectl v1.20.2 for the real-API-server tests (testing/kube.ts) from
# Debian bookworm's `kubernetes` source package, offline, and caches them outside the repository:
# $ISTHMUS_KUBE_CACHE/bin (default /var/cache/isthmus-kube/bin). etcd comes from apt etcd-server.
# Idempotent: when both binaries are there and report v1.20.2 it exits at once. The first build
# takes 10-15 minutes on 2 cores. Only as root with apt-get; anywhere else it says what is missing
# and exits 0, and those tests skip visibly (under CI=true they fail instead).
set -euo pipefail
CACHE="${ISTHMUS_KUBE_CACHE:-/var/cache/isthmus-kube}"
WANT=v1.20.2
BIN="$CACHE/bin"
GO=/usr/lib/go-1.19/bin/go
REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
MIRROR="${ISTHMUS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
say() { echo "kube: $*"; }

has_version() { # binary, version args...
  [ -x "$1" ] && "$@" 2>/dev/null | grep -qF "$WANT"
}
built() {
  has_version "$BIN/kube-apiserver" --version && has_version "$BIN/kubectl" version --client --short
}

# Each missing tool and the apt package that provides it.
absent=()
[ -x /usr/bin/etcd ] || absent+=(etcd-server)
[ -x "$GO" ] || absent+=(golang-1.19-go)
[ -f "$REFLECT2/reflect2.go" ] || absent+=(golang-github-modern-go-reflect2-dev)
command -v dpkg-source >/dev/null 2>&1 || absent+=(dpkg-dev)
command -v make >/dev/null 2>&1 || absent+=(make)
# Kubernetes' build copies its generated tools and binaries with rsync.
command -v rsync >/dev/null 2>&1 || absent+=(rsync)

if built && [ -x /usr/bin/etcd ]; then
  say "kube-apiserver and kubectl $WANT in $BIN, etcd $(/usr/bin/etcd --version | head -1 | cut -d' ' -f3)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  missing=()
  built || missing+=("$BIN/{kube-apiserver,kubectl} $WANT")
  missing+=("${absent[@]}")
  echo "kube: missing ${missing[*]} (needs root and apt-get: sudo bash scripts/install-kube.sh);" \
    "the real-API-server tests will skip" >&2
  exit 0
fi

mkdir -p "$CACHE"
# Two runs at once (two checkouts, a CI retry) would build into the same tree.
exec 9>"$CACHE/.lock"
flock 9
if built && [ -x /usr/bin/etcd ]; then
  say "built by a concurrent run"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if [ ${#absent[@]} -gt 0 ]; then
  say "apt-get install ${absent[*]}"
  # A mirror hiccup should not fail a CI run: try three times, a few seconds apart.
  for attempt in 1 2 3; do
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${absent[@]}" >/dev/null; then
      break
    fi
    echo "kube: apt-get failed (attempt $attempt of 3)" >&2
    [ "$attempt" -eq 3 ] && exit 1
    sleep $((attempt * 5))
  done
fi

# A private apt configuration with a deb-src entry, so /etc/apt and the system's lists stay untouched.
APT="$CACHE/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$APT/sources.list" <<EOF
deb [signed-by=$keyring] $MIRROR bookworm main
deb-src [signed-by=$keyring] $MIRROR bookworm main
EOF
apt_private=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o APT::Sandbox::User=root)

LOG="$CACHE/build.log"
: >"$LOG"
fail() {
  echo "kube: $1 failed; last lines of $LOG:" >&2
  tail -n 40 "$LOG" >&2
  exit 1
}

mkdir -p "$CACHE/src"
tree=$(find "$CACHE/src" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | sort | tail -n 1)
if [ -z "$tree" ] || [ ! -f "$tree/Makefile" ]; then
  say "apt-get source kubernetes (bookworm, ~35 MB)"
  for attempt in 1 2 3; do
    if (cd "$CACHE/src" && apt-get "${apt_private[@]}" update -qq &&
      apt-get "${apt_private[@]}" source -qq kubernetes) >>"$LOG" 2>&1; then
      break
    fi
    [ "$attempt" -eq 3 ] && fail "apt-get source kubernetes"
    echo "kube: apt-get source failed (attempt $attempt of 3)" >&2
    sleep $((attempt * 5))
  done
  tree=$(find "$CACHE/src" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | sort | tail -n 1)
  [ -n "$tree" ] && [ -f "$tree/Makefile" ] || fail "unpacking the kubernetes source"
fi

# The vendored reflect2 1.0.1 corrupts memory under Go >= 1.18; Debian ships 1.0.2 as source.
vendored="$tree/vendor/github.com/modern-go/reflect2"
if ! cmp -s "$vendored/reflect2.go" "$REFLECT2/reflect2.go"; then
  say "replacing vendored reflect2 with Debian's 1.0.2"
  rm -rf "$vendored.orig" && mv "$vendored" "$vendored.orig" && mkdir "$vendored"
  cp "$REFLECT2"/*.go "$REFLECT2"/*.s "$vendored/"
  cp "$vendored.orig/LICENSE" "$vendored/"
  rm -rf "$vendored.orig"
fi

say "building kube-apiserver and kubectl with go 1.19, offline (10-15 min the first time; log: $LOG)"
start=$(date +%s)
(
  cd "$tree"
  export PATH="/usr/lib/go-1.19/bin:$PATH" GOPROXY=off GOFLAGS= GO111MODULE=off CGO_ENABLED=0 HOME="$CACHE/home"
  mkdir -p "$HOME"
  # A build cut off earlier can leave empty tool binaries behind that make takes as built.
  rm -rf _output/bin
  make WHAT="cmd/kube-apiserver cmd/kubectl"
) >>"$LOG" 2>&1 || fail "make"

mkdir -p "$BIN"
for b in kube-apiserver kubectl; do
  cp "$tree/_output/bin/$b" "$BIN/.$b.new" && mv -f "$BIN/.$b.new" "$BIN/$b"
done
built || fail "version check ($BIN/kube-apiserver --version)"
say "built kube-apiserver and kubectl $WANT into $BIN in $(($(date +%s) - start)) s"
