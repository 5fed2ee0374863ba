#!/usr/bin/env bash
# The benchmark: kube-dns against Knot DNS and NSD on the same records, in
# the same run, with the machine's ceiling (ceiling.c: a UDP echo doing no
# DNS work) for reference, each server pinned to CPU 1 (one core) and driven from
# CPU 0, first by dnsperf and then by loadgen (ours: dnsperf saturates its
# own core near 200k queries/s). Reports queries/s, mean latency, lost
# queries, and the server's CPU time per answered query (from
# /proc/PID/stat before and after), then kube-dns's RSS at 10,000 and
# 100,000 services. kube-dns also runs configured by kubeadm's default
# Corefile (kube-dns-corefile), and both answer names of an upstream's
# zone (Knot's ext.test) from their caches (the "cache" load). Results go
# to Benchmarks/out/results.md.
#
# usage: Benchmarks/run.sh [SERVICES (10000)] [SECONDS per run (10)]
# (three rounds of six runs: about 20 times SECONDS, plus the builds)
# BASELINE=PATH: another kube-dns binary (a build before a change) measured
# in the same rounds as "kube-dns-base", with its RSS, and compared.
# SCRATCH=DIR: the release build's scratch path (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
services="${1:-10000}"
seconds="${2:-10}"
out=Benchmarks/out
rm -rf "$out"
mkdir -p "$out/knot" "$out/nsd"
root=$(pwd)

scripts/install-packages.sh knot nsd dnsperf psmisc
scratch="${SCRATCH:-.build}"
baseline="${BASELINE:-}"
swift build -c release --scratch-path "$scratch" --product kube-dns
kube_dns="$scratch/release/kube-dns"
gcc -O2 -std=gnu11 -o "$out/loadgen" Benchmarks/loadgen.c
gcc -O2 -std=gnu11 -o "$out/ceiling" Benchmarks/ceiling.c
python3 Benchmarks/generate.py "$services" 100 "$out"
"$kube_dns" records --kube-objects "$out/cluster.json" --cluster-zone-only \
  | grep -v '^;' > "$out/nsd/cluster.local.zone"
cp "$out/nsd/cluster.local.zone" "$out/knot/cluster.local.zone"
# The upstream zone of the cache load: 1,000 names, an hour's TTL.
{
  printf '$ORIGIN ext.test.\n$TTL 3600\n@ SOA ns.ext.test. admin.ext.test. 1 3600 600 86400 60\n@ NS ns.ext.test.\nns A 127.0.0.1\n'
  for i in $(seq 1 1000); do printf 'n%d A 192.0.2.%d\n' "$i" $((i % 250 + 1)); done
} > "$out/knot/ext.test.zone"
for i in $(seq 1 1000); do printf 'n%d.ext.test A\n' "$i"; done > "$out/ext-queries.txt"
# kubeadm's default Corefile, on this run's port, its HTTP endpoints on
# ports of the kernel's choosing, forwarding to Knot.
sed -e 's/^\.:53 {/.:5307 {/' -e 's/^    health {/    health 127.0.0.1:0 {/' -e 's/^    ready$/    ready 127.0.0.1:0/' \
  -e 's/prometheus :9153/prometheus 127.0.0.1:0/' -e 's|forward . /etc/resolv.conf|forward . 127.0.0.1:5301|' \
  Tests/TestSupport/Fixtures/Corefiles/kubeadm > "$out/Corefile"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

source Benchmarks/common.sh
wait_answering() { wait_for_answer "$1" svc-1.ns-1.svc.cluster.local; }

cat > "$out/knot/knot.conf" <<CONF
server:
    listen: 127.0.0.1@5301
    rundir: $root/$out/knot
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: $root/$out/knot
log:
  - target: stderr
    any: error
zone:
  - domain: cluster.local
    file: $root/$out/knot/cluster.local.zone
    zonefile-sync: -1
    journal-content: none
  - domain: ext.test
    file: $root/$out/knot/ext.test.zone
    zonefile-sync: -1
    journal-content: none
CONF

cat > "$out/nsd/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@5302
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$root/$out/nsd"
    database: ""
    pidfile: "$root/$out/nsd/nsd.pid"
    xfrdfile: "$root/$out/nsd/xfrd.state"
    zonelistfile: "$root/$out/nsd/zone.list"
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    verbosity: 0
remote-control:
    control-enable: no
zone:
    name: cluster.local
    zonefile: cluster.local.zone
CONF

taskset -c 1 "$kube_dns" --kube-objects "$out/cluster.json" --threads 1 --nameservers 127.0.0.1:5301 \
  --dns-bind-address 127.0.0.1 --dns-port 5300 --healthz-port 0 --metrics-port 0 2> "$out/kube-dns.log" &
pids+=($!); kubedns=$!
taskset -c 1 "$kube_dns" -conf "$out/Corefile" --kube-objects "$out/cluster.json" --threads 1 \
  2> "$out/kube-dns-corefile.log" &
pids+=($!); corefile=$!
if [ -n "$baseline" ]; then
  taskset -c 1 "$baseline" --kube-objects "$out/cluster.json" --threads 1 --nameservers 127.0.0.1:5301 \
    --dns-bind-address 127.0.0.1 --dns-port 5305 --healthz-port 0 --metrics-port 0 2> "$out/kube-dns-base.log" &
  pids+=($!); base=$!
fi
taskset -c 1 knotd -c "$out/knot/knot.conf" 2> "$out/knot.log" &
pids+=($!); knot=$!
taskset -c 1 nsd -d -c "$out/nsd/nsd.conf" 2> "$out/nsd.log" &
pids+=($!); nsd=$!
taskset -c 1 "$out/ceiling" 5304 &
pids+=($!); ceiling=$!
for port in 5300 5301 5302 5307 ${baseline:+5305}; do wait_answering "$port"; done
# knotd and nsd place their own threads and children: pin them all again.
for p in $kubedns $corefile $knot $nsd ${base:-}; do
  for pid in $(pstree -p "$p" | grep -o '([0-9]*)' | tr -d '()'); do taskset -a -p -c 1 "$pid" > /dev/null; done
done

results="$out/runs.tsv"
printf 'server\tload\tqps\tlatency_us\tlost\tcpu_us_per_query\n' > "$results"

measure() { # name pid port load [queries]
  local name=$1 pid=$2 port=$3 load=$4 queries=${5:-$out/queries.txt} before after cpu
  before=$(ticks "$pid")
  run_load "$load" "$out/loadgen" "$port" "$queries" "$seconds" "$out/$name-$load.txt"
  after=$(ticks "$pid")
  cpu=$(cpu_per_query "$before" "$after" "$answered")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$load" "$qps" "$mean_us" "$lost" "$cpu" >> "$results"
  echo "$name $load: $qps q/s, $mean_us us, lost $lost, $cpu us CPU/query"
}

# The caches take the upstream zone's names once before the cache load.
for port in 5300 5307 ${baseline:+5305}; do
  run_load cache "$out/loadgen" "$port" "$out/ext-queries.txt" 1 "$out/warm-$port.txt"
done

# Three rounds, the servers taking turns, so drift on the machine falls on
# all of them; the report takes the median of each.
for round in 1 2 3; do
  for load in dnsperf loadgen; do
    measure kube-dns "$kubedns" 5300 "$load"
    measure kube-dns-corefile "$corefile" 5307 "$load"
    [ -z "$baseline" ] || measure kube-dns-base "$base" 5305 "$load"
    measure knot "$knot" 5301 "$load"
    measure nsd "$nsd" 5302 "$load"
  done
  measure ceiling "$ceiling" 5304 loadgen
  # The cache runs in a turn that moves each round: no server always goes first.
  cache_runs=("kube-dns $kubedns 5300" "kube-dns-corefile $corefile 5307" ${baseline:+"kube-dns-base $base 5305"})
  for k in "${!cache_runs[@]}"; do
    read -r name pid port <<< "${cache_runs[$(( (k + round) % ${#cache_runs[@]} ))]}"
    measure "$name" "$pid" "$port" cache "$out/ext-queries.txt"
  done
done
rss10=$(awk '/VmRSS/ {print $2}' "/proc/$kubedns/status")
rss10base=$([ -z "$baseline" ] || awk '/VmRSS/ {print $2}' "/proc/$base/status")
cleanup
pids=()

# RSS at 100,000 services (10% headless with 3 endpoints): kube-dns, and the baseline.
mkdir -p "$out/100k"
python3 Benchmarks/generate.py 100000 100 "$out/100k" 1000
# Start to first answer, and RSS a second later (the freed heap goes back
# to the system just after the table is swapped in).
big_rss() { # binary port log
  local start loaded
  start=$(date +%s.%N)
  "$1" --kube-objects "$out/100k/cluster.json" --threads 1 \
    --dns-bind-address 127.0.0.1 --dns-port "$2" --healthz-port 0 --metrics-port 0 -v 2 > /dev/null 2> "$3" &
  pids+=($!); big=$!
  wait_answering "$2"
  loaded=$(date +%s.%N)
  sleep 1
  echo "$(awk '/VmRSS/ {print $2}' "/proc/$big/status") $(awk -v a="$start" -v b="$loaded" 'BEGIN {printf "%.1f", b - a}')"
  cleanup
  pids=()
}
read -r rss100 load100 < <(big_rss "$kube_dns" 5303 "$out/kube-dns-100k.log")
rss100base=; load100base=
[ -z "$baseline" ] || read -r rss100base load100base < <(big_rss "$baseline" 5306 "$out/kube-dns-base-100k.log")

python3 Benchmarks/report.py "$results" "$services" "$seconds" "$rss10" "$rss100" "$load100" \
  ${baseline:+"$rss10base" "$rss100base" "$load100base"} > "$out/results.md"
cat "$out/results.md"
