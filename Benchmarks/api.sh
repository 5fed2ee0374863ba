#!/usr/bin/env bash
# The watch benchmarks (Benchmarks/api.py): propagation of changes from the
# API simulator to answers, queries under endpoint churn, and the initial
# sync of a large cluster, the CPU a change costs at two sizes, and
# propagation through the Kubernetes 1.2 pod (kube2sky, etcd, skydns).
# Results go to Benchmarks/out/api.md.
#
# usage: Benchmarks/api.sh [phase ...]   (propagation churn sync updates legacy; default all; soak: 30 min;
#        apicost: what one replica takes from the API server, at 10,000 and 100,000 services;
#        churn_dnsperf: churn under dnsperf, as the issue measures it;
#        and paired, with BASELINE=DIR: CPU per update against the kube-dns in DIR)
# SCRATCH=DIR: the release build's scratch path (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
out=Benchmarks/out
mkdir -p "$out"
scripts/install-packages.sh curl etcd-server dnsperf knot
scratch="${SCRATCH:-.build}"
swift build -c release --scratch-path "$scratch" --product kube-dns
swift build -c release --scratch-path "$scratch" --product kube-api-simulator
gcc -O2 -std=gnu11 -o "$out/loadgen" Benchmarks/loadgen.c
python3 Benchmarks/api.py "$out" "$scratch/release" "$out/loadgen" "$@" | tee "$out/api.md"
