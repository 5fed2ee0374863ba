#!/usr/bin/env bash
# What the rules that run before any answer cost on the names they do not
# match: kube-dns serving the same cluster from the same Corefile, plain
# and with each rule configured (rewrite exact, rewrite regex, template,
# autopath @kubernetes with pods verified, whose clients here are no
# pods, and all of them at once), against Knot DNS on the same records, each
# server on CPU 1 with one worker, loadgen on CPU 0, in the same run. The
# questions are the cluster's names (none of which the rules match);
# reported: queries/s, and user and total CPU per query, with the
# difference to the plain Corefile. Results go to Benchmarks/out/stages.
#
# Usage: Benchmarks/stages.sh [SERVICES (10000)] [SECONDS per run (10)]
# SCRATCH=DIR: the release build's scratch path (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
services="${1:-10000}"
seconds="${2:-10}"
out=Benchmarks/out/stages
rm -rf "$out"
mkdir -p "$out/knot"
root=$(pwd)

scripts/install-packages.sh knot dnsperf psmisc
scratch="${SCRATCH:-.build}"
swift build -c release --scratch-path "$scratch" --product kube-dns
kube_dns="$scratch/release/kube-dns"
gcc -O2 -std=gnu11 -o "$out/loadgen" Benchmarks/loadgen.c
python3 Benchmarks/generate.py "$services" 100 "$out"
"$kube_dns" records --kube-objects "$out/cluster.json" --cluster-zone-only | grep -v '^;' > "$out/knot/cluster.local.zone"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
source Benchmarks/common.sh

# User CPU ticks of a process and its threads.
user_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12}'; }

cat > "$out/knot/knot.conf" <<CONF
server:
    listen: 127.0.0.1@5330
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
CONF

# The variants: the rules each adds in front of `kubernetes cluster.local`.
declare -A rules
rules[plain]=""
rules[rewrite-exact]='rewrite name exact api.example. kubernetes.default.svc.cluster.local.'
rules[rewrite-regex]='rewrite name regex ^(.*)-([a-z]+)\.corp\.example\.$ {1}.{2}.svc.cluster.local answer auto'
rules[template]='template IN A . {
    match "^ip-([0-9]+)-([0-9]+)-([0-9]+)-([0-9]+)[.]example[.]$"
    answer "{{ .Name }} 60 IN A {{ index .Match 1 }}.{{ index .Match 2 }}.{{ index .Match 3 }}.{{ index .Match 4 }}"
    fallthrough
}'
rules[autopath]='autopath @kubernetes'
rules[all]="${rules[rewrite-exact]}
${rules[rewrite-regex]}
${rules[template]}
${rules[autopath]}"
variants=(plain rewrite-exact rewrite-regex template autopath all)
# autopath @kubernetes walks pods' search paths: it needs pods verified.
kubernetes_of() { case "$1" in autopath | all) printf 'kubernetes cluster.local {\n    pods verified\n}' ;; *) printf 'kubernetes cluster.local' ;; esac; }

declare -A pid_of port_of
port=5331
for variant in "${variants[@]}"; do
  printf '.:%d {\n%s\n%s\n}\n' "$port" "${rules[$variant]}" "$(kubernetes_of "$variant")" > "$out/$variant.Corefile"
  taskset -c 1 "$kube_dns" -conf "$out/$variant.Corefile" --kube-objects "$out/cluster.json" --threads 1 \
    2> "$out/$variant.log" &
  pids+=($!)
  pid_of[$variant]=$!
  port_of[$variant]=$port
  port=$((port + 1))
done
taskset -c 1 knotd -c "$out/knot/knot.conf" 2> "$out/knot.log" &
pids+=($!)
knot=$!
for variant in "${variants[@]}"; do wait_for_answer "${port_of[$variant]}" svc-1.ns-1.svc.cluster.local; done
wait_for_answer 5330 svc-1.ns-1.svc.cluster.local
for pid in $(pstree -p "$knot" | grep -o '([0-9]*)' | tr -d '()'); do taskset -a -p -c 1 "$pid" > /dev/null; done

results="$out/runs.tsv"
printf 'server\tqps\tuser_us_per_query\tcpu_us_per_query\n' > "$results"
measure() { # name pid port
  local name=$1 pid=$2 port=$3 before after user_before user_after user cpu
  before=$(ticks "$pid")
  user_before=$(user_ticks "$pid")
  run_load loadgen "$out/loadgen" "$port" "$out/queries.txt" "$seconds" "$out/$name.txt"
  after=$(ticks "$pid")
  user_after=$(user_ticks "$pid")
  cpu=$(cpu_per_query "$before" "$after" "$answered")
  user=$(cpu_per_query "$user_before" "$user_after" "$answered")
  printf '%s\t%s\t%s\t%s\n' "$name" "$qps" "$user" "$cpu" >> "$results"
  echo "$name: $qps q/s, $user us user CPU/query, $cpu us CPU/query"
}
# Five rounds, the servers taking turns from a place that moves each round.
servers=("${variants[@]}" knot)
for round in 1 2 3 4 5; do
  for k in "${!servers[@]}"; do
    name=${servers[$(( (k + round) % ${#servers[@]} ))]}
    if [ "$name" = knot ]; then measure knot "$knot" 5330; else measure "$name" "${pid_of[$name]}" "${port_of[$name]}"; fi
  done
done

python3 - "$results" "$services" "$seconds" > "$out/results.md" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])][1:]
def med(server, column):
    return statistics.median(float(r[column]) for r in rows if r[0] == server)
print(f"{sys.argv[2]} services, the cluster's names (none matched by the rules), loadgen, {sys.argv[3]} s runs,"
      " medians of 5 rounds; one worker per server on CPU 1.\n")
print("| server | q/s | user CPU µs/query | added user µs | CPU µs/query | q/s vs Knot |")
print("|---|---|---|---|---|---|")
plain, knot = med("plain", 2), med("knot", 1)
for server in ["plain", "rewrite-exact", "rewrite-regex", "template", "autopath", "all", "knot"]:
    qps, user, cpu = med(server, 1), med(server, 2), med(server, 3)
    added = "" if server in ("plain", "knot") else f"{user - plain:+.3f}"
    print(f"| {server} | {qps:,.0f} | {user:.3f} | {added} | {cpu:.2f} | {qps / knot:.2f}× |")
PY
cat "$out/results.md"
