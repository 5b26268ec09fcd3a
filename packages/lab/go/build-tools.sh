#!/usr/bin/env bash
# Builds the lab's Go tools (etcd, kube-apiserver, memberlist-agent) from the published Go modules pinned in
# packages/lab/go/<tool>/go.mod into ${INGOT_LAB_CACHE:-/var/cache/ingot-lab}/<tool>-<version>/<tool>. A tool whose binary
# is already there is reused (the version is part of the path, so a version bump builds anew; memberlist-agent's version
# also carries the first 12 hex digits of sha256(main.go), so an edit to the agent builds anew). Prints the time each step took.
#
#   packages/lab/go/build-tools.sh            # every tool
#   packages/lab/go/build-tools.sh etcd       # only the named ones
#   packages/lab/go/build-tools.sh --print    # print "<tool> <binary path>" lines, build nothing
#
# Needs Go (1.26 here) and the Go module proxy. Cold on 2 cores: etcd about 1.5 min, kube-apiserver about 10-15 min,
# memberlist-agent about 35 s (see packages/lab/README.md for the measured figures). @ingot/lab's startKubernetes() and
# startMemberlistAgent() look in the same place.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${INGOT_LAB_CACHE:-/var/cache/ingot-lab}"
all_tools=(etcd kube-apiserver memberlist-agent)

# The module whose version names the cache directory, per tool.
main_module() {
  case "$1" in
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    kube-apiserver) echo k8s.io/kubernetes ;;
    memberlist-agent) echo github.com/hashicorp/memberlist ;;
    *) echo "build-tools: unknown tool $1 (known: ${all_tools[*]})" >&2; return 1 ;;
  esac
}

# The version of the tool's main module as required in its go.mod (e.g. v1.34.4).
tool_version() {
  local mod
  mod="$(main_module "$1")"
  awk -v m="$mod" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' \
    "$here/$1/go.mod"
}

# The cache directory's version: the main module's, plus the agent's source hash for tools whose main.go is ours.
cache_version() {
  if [ "$1" = memberlist-agent ]; then
    echo "$(tool_version "$1")-$(sha256sum "$here/$1/main.go" | cut -c1-12)"
  else
    tool_version "$1"
  fi
}

binary_path() {
  echo "$cache/$1-$(cache_version "$1")/$1"
}

print_only=0
tools=()
for arg in "$@"; do
  case "$arg" in
    --print) print_only=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) main_module "$arg" >/dev/null; tools+=("$arg") ;;
  esac
done
[ ${#tools[@]} -eq 0 ] && tools=("${all_tools[@]}")

if [ "$print_only" = 1 ]; then
  for t in "${tools[@]}"; do echo "$t $(binary_path "$t")"; done
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-tools: 'go' is not on PATH; install Go 1.26 (https://go.dev/dl/) with access to the Go module proxy" >&2
  exit 1
fi

total_start=$SECONDS
for t in "${tools[@]}"; do
  version="$(tool_version "$t")"
  if [ -z "$version" ]; then
    echo "build-tools: cannot read the version of $(main_module "$t") from $here/$t/go.mod" >&2
    exit 1
  fi
  out="$(binary_path "$t")"
  if [ -x "$out" ]; then
    echo "build-tools: $t $version: cached at $out"
    continue
  fi
  echo "build-tools: $t $version: building into $out"
  start=$SECONDS
  mkdir -p "$(dirname "$out")"
  # Build to a temporary name and rename, so an interrupted build never leaves a binary that looks complete.
  tmp="$out.partial.$$"
  trap 'rm -f "$tmp"' EXIT
  ldflags=(-s)
  if [ "$t" = kube-apiserver ]; then
    # What a release build stamps, so /version (and clients reading it) see v1.34.4 rather than v0.0.0-master.
    minor="${version#v*.}"
    minor="${minor%%.*}"
    ldflags+=(-X "k8s.io/component-base/version.gitVersion=$version" -X k8s.io/component-base/version.gitMajor=1
      -X "k8s.io/component-base/version.gitMinor=$minor" -X k8s.io/component-base/version.gitTreeState=clean)
  fi
  (cd "$here/$t" && go build -mod=readonly -trimpath -ldflags="${ldflags[*]}" -o "$tmp" .)
  mv -f "$tmp" "$out"
  trap - EXIT
  echo "build-tools: $t $version: built in $((SECONDS - start)) s ($(du -h "$out" | cut -f1))"
done
echo "build-tools: done in $((SECONDS - total_start)) s"
