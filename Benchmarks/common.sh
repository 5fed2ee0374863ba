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
