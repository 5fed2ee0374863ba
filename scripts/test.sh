#!/usr/bin/env bash
# Runs every test: the linters (swift-format with .swift-format,
# clang-format with .clang-format), the Swift suites (record model, Kubernetes API client
# and simulator, the data plane in process, the kube-dns binary end to end
# with dig and curl, the deploy manifests), then the C packet path fuzzed
# under AddressSanitizer and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh
# The manifests are checked against the Kubernetes schemas offline, and
# /metrics with the Prometheus client library's parser (both from PyPI).
python3 -c "import kubernetes_validate" 2>/dev/null || python3 -m pip install --quiet kubernetes-validate
python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install --quiet prometheus-client
swift-format lint --strict --recursive --configuration .swift-format Sources Tests Package.swift
clang-format --dry-run -Werror CSupport/CDataPlane/*.[ch] CSupport/CDataPlane/include/*.h Tests/CDataPlane/*.[ch] Benchmarks/*.c
swift build --build-tests
swift test --skip-build
Tests/CDataPlane/run.sh "${FUZZ_SECONDS:-60}"
# The image and the pods of deploy/, for real, with podman.
scripts/test-image.sh
