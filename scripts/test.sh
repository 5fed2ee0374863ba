#!/usr/bin/env bash
# Runs every test: the Swift suites (record model, objects files, the data
# plane in process, the kube-dns binary end to end with dig), then the C
# packet path fuzzed under AddressSanitizer and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh
swift build --build-tests
swift test --skip-build
Tests/CDataPlane/run.sh "${FUZZ_SECONDS:-60}"
