#!/usr/bin/env bash
# /healthz and /metrics while the DNS workers are saturated: kube-dns with
# two workers on both CPUs, loadgen flooding it from both, and 200 probes
# of each endpoint over one keep-alive-free HTTP client (Python's
# http.client, a new connection per probe, as the kubelet makes them).
# Prints p50, p99 and the largest probe time.
# Usage: Benchmarks/probes.sh [SECONDS]   (default 20)
# SCRATCH=DIR: the release build's scratch path (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
out=Benchmarks/out/probes
rm -rf "$out"
mkdir -p "$out"
scripts/install-packages.sh psmisc
scratch="${SCRATCH:-.build}"
swift build -c release --scratch-path "$scratch" --product kube-dns
gcc -O2 -std=gnu11 -o "$out/loadgen" Benchmarks/loadgen.c
source Benchmarks/common.sh
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$scratch/release/kube-dns" --kube-objects deploy/demo/cluster.yaml --threads 2 --nameservers "" \
  --config-dir /nonexistent --dns-bind-address 127.0.0.1 --dns-port 5320 --healthz-port 5321 \
  --metrics-port 5322 2> "$out/kube-dns.log" &
pids+=($!)
wait_for_answer 5320 kubernetes.default.svc.cluster.local
printf 'kubernetes.default.svc.cluster.local A\nfrontend.shop.svc.cluster.local A\n' > "$out/queries.txt"
for cpu in 0 1; do
  taskset -c "$cpu" "$out/loadgen" 127.0.0.1 5320 "$out/queries.txt" "$((seconds + 5))" 512 > "$out/loadgen-$cpu.txt" &
  pids+=($!)
done
sleep 2
python3 - "$out/results.md" <<'PY'
import http.client, statistics, sys, time
lines = ["Probes while loadgen floods the DNS workers from both CPUs (200 each, a new connection per probe):", "",
         "| endpoint | p50 ms | p99 ms | max ms | non-200 |", "|---|---|---|---|---|"]
for port, path in ((5321, "/healthz"), (5321, "/readiness"), (5322, "/metrics")):
    times, bad = [], 0
    for _ in range(200):
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        connection.close()
        times.append((time.perf_counter() - start) * 1000)
        bad += response.status != 200
        time.sleep(0.05)
    times.sort()
    lines.append(f"| {path} | {statistics.median(times):.2f} | {times[int(len(times) * 0.99) - 1]:.2f} | {times[-1]:.2f} | {bad} |")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
wait "${pids[1]}" "${pids[2]}" || true
echo "loadgen during the probes: $(cat "$out"/loadgen-*.txt | sed 's/.*qps=\([0-9.]*\).*/\1/' | awk '{s += $1} END {print s}') q/s" >> "$out/results.md"
cat "$out/results.md"
