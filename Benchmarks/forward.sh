#!/usr/bin/env bash
# Forwarded names answered from the cache: kube-dns against Unbound and
# dnsmasq configured as caching forwarders to the same upstream (Knot DNS
# serving NAMES names), each server on CPU 1 with one worker, the load on
# CPU 0, in the same run. Also kube-dns answering cluster names from its
# table, the authoritative path the cache is compared with, and `kube-dns
# node-cache` serving NodeLocal DNSCache's Corefile (deploy/nodelocaldns)
# in front of the flag-configured kube-dns, with the node's upstream Knot.
# Then the share of a pod's queries (glibc's search path with ndots:5)
# that reach the cluster DNS through node-cache, with NodeLocal's denial
# caching and without it.
# Usage: Benchmarks/forward.sh [NAMES] [SECONDS]   (defaults 1000 and 10)
# SCRATCH=DIR: the release build's scratch path (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
names="${1:-1000}"
seconds="${2:-10}"
out=Benchmarks/out/forward
rm -rf "$out"
mkdir -p "$out/knot" "$out/unbound" "$out/node-cache/kube-dns"
root=$(pwd)

scripts/install-packages.sh knot unbound dnsmasq-base dnsperf psmisc
scratch="${SCRATCH:-.build}"
swift build -c release --scratch-path "$scratch" --product kube-dns
gcc -O2 -std=gnu11 -o "$out/loadgen" Benchmarks/loadgen.c
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

source Benchmarks/common.sh

# The upstream's zone, and the questions: every name once per pass, one in
# eight in mixed case (so answers echo the client's letters).
{
  echo '$ORIGIN bench.test.'
  echo '$TTL 86400'
  echo '@ IN SOA ns.bench.test. admin.bench.test. 1 3600 600 86400 3600'
  echo '@ IN NS ns.bench.test.'
  echo 'ns IN A 127.0.0.1'
  for i in $(seq 0 $((names - 1))); do echo "host-$i IN A 198.51.$((i / 250)).$((i % 250 + 1))"; done
} > "$out/knot/bench.test.zone"
for i in $(seq 0 $((names - 1))); do
  if [ $((i % 8)) -eq 0 ]; then echo "HOST-$i.Bench.Test A"; else echo "host-$i.bench.test A"; fi
done > "$out/forwarded.txt"
printf '%s A\n' kubernetes.default.svc.cluster.local kube-dns.kube-system.svc.cluster.local \
  frontend.shop.svc.cluster.local > "$out/cluster.txt"

cat > "$out/knot/knot.conf" <<CONF
server:
    listen: 127.0.0.1@5311
    rundir: $root/$out/knot
database:
    storage: $root/$out/knot
log:
  - target: stderr
    any: error
zone:
  - domain: bench.test
    file: $root/$out/knot/bench.test.zone
    zonefile-sync: -1
    journal-content: none
CONF
cat > "$out/unbound/unbound.conf" <<CONF
server:
  interface: 127.0.0.1@5312
  port: 5312
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$root/$out/unbound"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 0
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  local-zone: "test." nodefault
  msg-cache-size: 64m
  rrset-cache-size: 64m
  do-ip6: no
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@5311
CONF

taskset -c 0 knotd -c "$out/knot/knot.conf" 2> "$out/knot.log" &
pids+=($!)
wait_for_answer 5311 host-1.bench.test
taskset -c 1 "$scratch/release/kube-dns" --kube-objects deploy/demo/cluster.yaml --threads 1 \
  --nameservers 127.0.0.1:5311 --config-dir /nonexistent --cache-size 100000 \
  --dns-bind-address 127.0.0.1 --dns-port 5310 --healthz-port 0 --metrics-port 15309 2> "$out/kube-dns.log" &
pids+=($!); kubedns=$!
taskset -c 1 unbound -d -c "$out/unbound/unbound.conf" 2> "$out/unbound.log" &
pids+=($!); unbound=$!
# dnsmasq's cache holds 10,000 names at most.
taskset -c 1 dnsmasq -k -p 5313 --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
  --server=127.0.0.1#5311 --cache-size=10000 -C /dev/null --pid-file= 2> "$out/dnsmasq.log" &
pids+=($!); dnsmasq=$!
# node-cache as the DaemonSet runs it, its pillars filled in for this
# machine (127.0.0.1, port 5314) and the node's upstream given by the
# kube-dns ConfigMap; the cluster's zones go to the kube-dns above.
start_node_cache() { # port corefile-template
  local port=$1 base=$2
  KUBE_DNS_UPSTREAM_SERVICE_HOST=127.0.0.1:5310 taskset -c 1 "$scratch/release/kube-dns" node-cache --threads 1 \
    -localip 127.0.0.1 -setupinterface=false -setupiptables=false -dns.port "$port" -basecorefile "$base" \
    -conf "$base.served" -kubednscm "$out/node-cache/kube-dns" -upstreamsvc kube-dns-upstream \
    -metrics-listen-address "127.0.0.1:$((port + 1000))" 2> "$base.log" &
}
echo '["127.0.0.1:5311"]' > "$out/node-cache/kube-dns/upstreamNameservers"
python3 - "$out/node-cache" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open("deploy/nodelocaldns/nodelocaldns.yaml")))
corefile = next(d for d in docs if d and d["kind"] == "ConfigMap")["data"]["Corefile"]
corefile = (corefile.replace("__PILLAR__LOCAL__DNS__", "127.0.0.1").replace("__PILLAR__DNS__SERVER__", "")
            .replace("__PILLAR__DNS__DOMAIN__", "cluster.local"))
for port, name, denial in ((5314, "Corefile.base", None), (5315, "no-denial.base", "disable denial")):
    text = corefile.replace(":53 {", f":{port} {{").replace(":8080", f":{port + 2000}").replace(":9253", f":{port + 3000}")
    if denial:
        text = text.replace("denial 9984 5", denial)
    open(f"{sys.argv[1]}/{name}", "w").write(text)
PY
start_node_cache 5314 "$out/node-cache/Corefile.base"
pids+=($!); nodecache=$!
start_node_cache 5315 "$out/node-cache/no-denial.base"
pids+=($!); nodecache_nodenial=$!
for port in 5310 5312 5313 5314 5315; do wait_for_answer "$port" host-1.bench.test; done

results="$out/runs.tsv"
printf 'server\tload\tqps\tmean_us\tp50_us\tp99_us\tlost\tcpu_us_per_query\n' > "$results"
measure() { # name pid port queries load
  local name=$1 pid=$2 port=$3 queries=$4 load=$5 before after cpu
  before=$(ticks "$pid")
  run_load "$load" "$out/loadgen" "$port" "$queries" "$seconds" "$out/$name-$load.txt"
  after=$(ticks "$pid")
  cpu=$(cpu_per_query "$before" "$after" "$answered")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$load" "$qps" "$mean_us" "$p50_us" "$p99_us" "$lost" "$cpu" >> "$results"
  echo "$name $load: $qps q/s, mean $mean_us us, p50 $p50_us us, p99 $p99_us us, lost $lost, $cpu us CPU/query"
}

# Warm every cache with each name, then measure hits only.
for port in 5310 5312 5313 5314; do taskset -c 0 "$out/loadgen" 127.0.0.1 "$port" "$out/forwarded.txt" 2 64 > /dev/null; done
for round in 1 2 3; do
  for load in loadgen dnsperf; do
    measure kube-dns-cache "$kubedns" 5310 "$out/forwarded.txt" "$load"
    measure unbound "$unbound" 5312 "$out/forwarded.txt" "$load"
    measure dnsmasq "$dnsmasq" 5313 "$out/forwarded.txt" "$load"
    measure node-cache "$nodecache" 5314 "$out/forwarded.txt" "$load"
    measure kube-dns-cluster "$kubedns" 5310 "$out/cluster.txt" "$load"
  done
done
# A node's pods asking through node-cache with glibc's search path
# (namespace shop, ndots:5; A and AAAA for each candidate until a name
# exists): 40% a service of their namespace, 30% of another namespace,
# 30% a name outside the cluster (three cluster candidates first, all
# NXDOMAIN). 2,000 queries a second for 20 s; the share that reaches the
# cluster DNS, from its request counter.
python3 - "$out/mix.txt" "$names" <<'PY'
import random, sys
out, names = sys.argv[1], int(sys.argv[2])
search = ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"]
rng = random.Random(7)
lines = []
for _ in range(5000):
    draw = rng.random()
    if draw < 0.4:
        candidates = [f"{rng.choice(['frontend', 'cart', 'payments'])}.{search[0]}"]
    elif draw < 0.7:
        name = rng.choice(["postgres.data", "cache.data", "kubernetes.default", "kube-dns.kube-system"])
        candidates = [f"{name}.{search[0]}", f"{name}.{search[1]}"]
    else:
        name = f"host-{rng.randrange(names)}.bench.test"
        candidates = [f"{name}.{domain}" for domain in search] + [name]
    for candidate in candidates:
        lines += [f"{candidate} A", f"{candidate} AAAA"]
open(out, "w").write("\n".join(lines) + "\n")
PY
cluster_requests() { curl -s http://127.0.0.1:15309/metrics | awk '/^coredns_dns_requests_total[{]/ {s += $2} END {print s}'; }
printf 'node-cache\tqueries\tcluster_dns_requests\n' > "$out/mix.tsv"
for variant in 5314:denial-5s 5315:no-denial; do
  before=$(cluster_requests)
  line=$(taskset -c 0 "$out/loadgen" 127.0.0.1 "${variant%%:*}" "$out/mix.txt" 20 256 2000)
  after=$(cluster_requests)
  printf '%s\t%s\t%s\n' "${variant#*:}" "$(loadgen_field "$line" received)" "$((after - before))" >> "$out/mix.tsv"
done

python3 - "$results" "$names" "$seconds" > "$out/results.md" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])][1:]
names, seconds = sys.argv[2], sys.argv[3]
def med(server, load, column):
    values = [float(r[column]) for r in rows if r[0] == server and r[1] == load and r[column] != "-"]
    return statistics.median(values) if values else float("nan")
print(f"Cache hits, {names} forwarded names, loads of {seconds} s, medians of 3 rounds; one worker per server on CPU 1.\n")
for load in ("loadgen", "dnsperf"):
    # loadgen has percentiles; dnsperf reports only the mean.
    if load == "loadgen":
        print(f"| {load} | q/s | p50 µs | p99 µs | lost | CPU µs/query |")
        print("|---|---|---|---|---|---|")
    else:
        print(f"| {load} | q/s | mean µs | lost | CPU µs/query |")
        print("|---|---|---|---|---|")
    for server in ("kube-dns-cache", "kube-dns-cluster", "node-cache", "unbound", "dnsmasq"):
        latency = f"{med(server, load, 4):.0f} | {med(server, load, 5):.0f}" if load == "loadgen" else f"{med(server, load, 3):.0f}"
        print(f"| {server} | {med(server, load, 2):,.0f} | {latency} | {med(server, load, 6):.0f} | {med(server, load, 7):.2f} |")
    ours = med("kube-dns-cache", load, 2)
    print(f"\nkube-dns cache hits ({load}): {ours / med('unbound', load, 2):.2f}× Unbound's q/s, "
          f"{ours / med('dnsmasq', load, 2):.2f}× dnsmasq's, {ours / med('kube-dns-cluster', load, 2):.2f}× its own cluster answers; "
          f"CPU per query {med('kube-dns-cache', load, 7) / med('unbound', load, 7):.2f}× Unbound's, "
          f"{med('kube-dns-cache', load, 7) / med('dnsmasq', load, 7):.2f}× dnsmasq's.\n")
    nc = med("node-cache", load, 2)
    print(f"node-cache cache hits ({load}): {nc / med('kube-dns-cache', load, 2):.2f}× the flag-configured kube-dns's q/s, "
          f"{nc / med('unbound', load, 2):.2f}× Unbound's; CPU per query {med('node-cache', load, 7) / med('unbound', load, 7):.2f}× "
          f"Unbound's.\n")
mix = [line.rstrip("\n").split("\t") for line in open(sys.argv[1].replace("runs.tsv", "mix.tsv"))][1:]
print("A pod's lookups through node-cache (namespace shop, ndots:5, 2,000 queries/s for 20 s):\n")
print("| node-cache | queries answered | reached the cluster DNS | share |")
print("|---|---:|---:|---:|")
for variant, queries, reached in mix:
    print(f"| {variant} | {int(queries):,} | {int(reached):,} | {int(reached) / int(queries):.1%} |")
print()
PY
cat "$out/results.md"
