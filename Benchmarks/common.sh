# Shared by the benchmark scripts (sourced).

# CPU ticks (user + system) of a process and all its descendants.
ticks() {
  local total=0 pid
  for pid in $(pstree -p -T "$1" | grep -o '([0-9]*)' | tr -d '()'); do
    [ -r "/proc/$pid/stat" ] || continue
    # utime and stime are fields 14 and 15; count them after the command
    # name, which may hold spaces ("nsd: server 1").
    total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}

# Waits until a server on 127.0.0.1:PORT answers NAME with NOERROR.
wait_for_answer() { # port name
  for _ in $(seq 1 300); do
    dig +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" A 2>/dev/null | grep -q "status: NOERROR" && return 0
    sleep 0.1
  done
  echo "server on port $1 does not answer $2" >&2
  exit 1
}

# A field of loadgen's line ("sent=N received=N lost=N ... qps=Q ...").
loadgen_field() { # line name
  echo "$1" | sed "s/.*[ ^]$2=\([0-9.]*\).*/\1/;s/^$2=\([0-9.]*\).*/\1/"
}

# CPU microseconds per answered query from ticks before and after.
cpu_per_query() { # ticks-before ticks-after answered
  awk -v t=$(($2 - $1)) -v hz="$(getconf CLK_TCK)" -v n="$3" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}'
}

# Runs LOAD (dnsperf, or our loadgen built at LOADGEN) on CPU 0 against
# 127.0.0.1:PORT, asking the questions of FILE for SECONDS; its output goes
# to OUTPUT. Sets qps, mean_us, p50_us and p99_us (loadgen's; "-" for
# dnsperf, which reports only the mean), lost and answered.
run_load() { # load loadgen port file seconds output
  local load=$1 loadgen=$2 port=$3 file=$4 seconds=$5 output=$6 line
  if [ "$load" = dnsperf ]; then
    taskset -c 0 dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$seconds" -q 500 > "$output" 2>&1
    qps=$(awk '/Queries per second:/ {print $4}' "$output")
    mean_us=$(awk '/Average Latency \(s\):/ {printf "%.1f", $4 * 1e6}' "$output")
    p50_us=-
    p99_us=-
    lost=$(awk '/Queries lost:/ {print $3}' "$output")
    answered=$(awk '/Queries completed:/ {print $3}' "$output")
  else
    line=$(taskset -c 0 "$loadgen" 127.0.0.1 "$port" "$file" "$seconds" 256)
    echo "$line" > "$output"
    qps=$(loadgen_field "$line" qps)
    mean_us=$(loadgen_field "$line" mean_latency_us)
    p50_us=$(loadgen_field "$line" p50_latency_us)
    p99_us=$(loadgen_field "$line" p99_latency_us)
    lost=$(loadgen_field "$line" lost)
    answered=$(loadgen_field "$line" received)
  fi
}
