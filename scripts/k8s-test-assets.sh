#!/bin/sh
# Prints a directory holding kube-apiserver, kube-controller-manager and etcd for the Kubernetes
# tests (what envtest calls KUBEBUILDER_ASSETS; `setup-envtest use -p path` prints the same):
#
#   export KUBEBUILDER_ASSETS="$(bash scripts/k8s-test-assets.sh)"
#
# The API server binaries come gzipped from the shared folder beside the repository
# (../shared/k8s beside this repository or beside the one it was cloned from, or $PLINTH_K8S_BINARIES), checked against their sha256 and unpacked once into
# a cache directory; etcd is Debian's (etcd-server, installed by install-debian-packages.sh).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
# A clean clone elsewhere (CI's, `git clone . /tmp/x`) finds the folder beside the repository it was cloned from.
source_dir=${PLINTH_K8S_BINARIES:-}
if [ -z "$source_dir" ]; then
  for top in "$repo" "$(git -C "$repo" config --get remote.origin.url 2>/dev/null || true)"; do
    # `git clone . /tmp/x` records the origin as /path/repo/. : the folder itself, resolved.
    case "$top" in /*) top=$(cd "$top" 2>/dev/null && pwd) || continue ;; *) continue ;; esac
    [ -d "$(dirname "$top")/shared/k8s" ] && { source_dir=$(dirname "$top")/shared/k8s; break; }
  done
fi
source_dir=${source_dir:-$(dirname "$repo")/shared/k8s}
version=v1.36.2
cache=${PLINTH_K8S_ASSETS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/plinth/k8s-assets-$version}

fail() {
  echo "k8s-test-assets: $*" >&2
  exit 1
}

[ -d "$source_dir" ] || fail "no $source_dir: it holds kube-apiserver.gz and kube-controller-manager.gz ($version); set PLINTH_K8S_BINARIES to the folder that has them"
etcd=$(command -v etcd || true)
[ -n "$etcd" ] || fail "no etcd on PATH: install Debian's etcd-server (bash scripts/install-debian-packages.sh)"

unpack() {
  name=$1
  sum=$2
  [ -x "$cache/$name" ] && return 0
  [ -f "$source_dir/$name.gz" ] || fail "no $source_dir/$name.gz"
  gunzip -c "$source_dir/$name.gz" > "$cache/$name.tmp"
  echo "$sum  $cache/$name.tmp" | sha256sum -c --quiet - >&2 || { rm -f "$cache/$name.tmp"; fail "$source_dir/$name.gz does not unpack to $name $version (sha256 differs)"; }
  chmod 755 "$cache/$name.tmp"
  mv "$cache/$name.tmp" "$cache/$name"
}

mkdir -p "$cache"
unpack kube-apiserver 4797716d2ad7a3ac6c6a87e1065aef93303a8f83a5e2b3fdaf86b3ebb21fe200
unpack kube-controller-manager 6658508c6414b874520c5a138978aea85415115c5f863404f1092e2ab929bf88
ln -sf "$etcd" "$cache/etcd"
echo "$cache"
