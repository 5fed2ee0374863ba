#!/usr/bin/env bash
# Tests the image and the manifests for real: builds the image
# (scripts/image.sh: a static release build, ~15 min the first time, then
# incremental in .build-static), then runs Tests/KubeDNSTests/ImagePodTests:
# the image as a cluster runs it, and the legacy, drop-in and CoreDNS pods
# played with podman, each in a network namespace of the test's own.
# Removes the images it made (the one it built, and podman's pause image
# for pods if it was not there before).
# SCRATCH=DIR: the static release build's scratch path (default .build-static).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=localhost/kube-dns-swift:test-$$
export CONTAINERS_CONF="$(pwd)/deploy/containers.conf"
scripts/install-packages.sh podman runc mmdebstrap iproute2
images_before=$(podman images --quiet --no-trunc | sort -u)
remove_new_images() {
  comm -13 <(echo "$images_before") <(podman images --quiet --no-trunc | sort -u) | xargs -r podman rmi --force > /dev/null
}
trap remove_new_images EXIT
scripts/image.sh "$tag"
swift build --build-tests
KUBE_DNS_IMAGE="$tag" swift test --skip-build --filter ImagePodTests
