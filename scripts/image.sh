#!/usr/bin/env bash
# Builds the kube-dns image without registry access (this machine has
# none): kube-dns in release mode with the Swift runtime linked in
# (--static-swift-stdlib, as deploy/Containerfile builds it), a Debian 12
# base made by mmdebstrap from deploy/runtime-packages.txt, then
# deploy/Containerfile's runtime stage on that base, with podman. Where the
# base images can be pulled, `podman build -f deploy/Containerfile .` makes
# the same image.
# Usage: scripts/image.sh [TAG]   (default kube-dns-swift:0.1.0)
# SCRATCH=DIR: the static release build's scratch path (default .build-static).
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-kube-dns-swift:0.1.0}"
scratch="${SCRATCH:-.build-static}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$(pwd)/deploy/containers.conf}"

scripts/install-packages.sh podman runc mmdebstrap
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product kube-dns
binary="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)/kube-dns"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=$(grep -v '^#' deploy/runtime-packages.txt | paste -sd, -)
mkdir -p "$work/context/deploy/legacy"
mmdebstrap --quiet --variant=minbase --include="$packages" bookworm "$work/context/base.tar"

# The context holds what the runtime stage copies, at the same paths.
cp "$binary" "$work/context/kube-dns"
cp deploy/legacy/etcdctl "$work/context/deploy/legacy/etcdctl"
# The base as Debian's own images are made: the root file system added to
# an empty image, with the PATH their images set.
{
  echo "FROM scratch"
  echo "ADD base.tar /"
  echo "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  sed -n '/^FROM runtime-base$/,$p' deploy/Containerfile | tail -n +2 |
    sed 's|^COPY --from=build /kube-dns |COPY kube-dns |'
} > "$work/context/Containerfile"
grep -q '^COPY kube-dns ' "$work/context/Containerfile" || { echo "deploy/Containerfile's runtime stage changed shape" >&2; exit 1; }
podman build --quiet --layers=false -f "$work/context/Containerfile" -t "$tag" "$work/context" > /dev/null
echo "built $tag"
