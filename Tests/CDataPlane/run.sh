#!/usr/bin/env bash
# The C data plane under sanitizers:
# 1. the packet path (parse, lookup, reply writer, table) fuzzed with
#    libFuzzer under AddressSanitizer and UBSan, from the seed corpus here,
#    and likewise what upstreams send (checks, cache entries, replies made
#    from them), for half as long, and the rules that run before any
#    answer (a query rewritten, its reply mapped back, templates), for
#    half as long;
# 2. the table builders' refusals, and who frees a delta's shards
#    (table_builder_test.c), under AddressSanitizer and UBSan;
# 3. the server's threads, sockets and table publication (server_stress.c),
#    and the forwarder with its shared cache (forward_stress.c), under
#    ThreadSanitizer (gcc) and under AddressSanitizer and UBSan.
# Usage: Tests/CDataPlane/run.sh [fuzz seconds]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-30}"
out=.build/cdataplane
mkdir -p "$out"
src=CSupport/CDataPlane
# Every C file of the CDataPlane target, as Package.swift builds it, and
# the libraries its module maps link.
sources="$(ls $src/*.c) Tests/CDataPlane/fixture_table.c"
flags="-g -O1 -D_GNU_SOURCE -I$src/include -I$src -ITests/CDataPlane"
libs="-levent_core -levent_pthreads -levent_openssl -lssl -lcrypto -lldns -lpthread"

build() { # output, compiler and flags...
  local output=$1
  shift
  "$@" 2> "$out/build.log" || { cat "$out/build.log"; exit 1; }
}

# Builds the libFuzzer harness Tests/CDataPlane/HARNESS.c under
# AddressSanitizer and UBSan and runs it for SECONDS from its seed corpus
# Tests/CDataPlane/CORPUS, inputs up to MAX_LEN bytes; a finding ends the run.
fuzz() { # harness corpus seconds max_len
  local harness=$1 corpus=$2
  mkdir -p "$out/$corpus"
  build "$out/$harness" clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    $sources "Tests/CDataPlane/$harness.c" $libs -o "$out/$harness"
  if ! "$out/$harness" -seed=1 -artifact_prefix="$out/" -max_total_time="$3" -max_len="$4" \
    "$out/$corpus" "Tests/CDataPlane/$corpus" > "$out/$harness.log" 2>&1; then
    tail -n 40 "$out/$harness.log"
    exit 1
  fi
  grep "^Done" "$out/$harness.log"
}

fuzz query_fuzzer corpus "$seconds" 600
# Both read replies with ldns, which leaks reading some malformed ones
# (ldns_leaks.supp).
ldns_leaks="suppressions=$PWD/Tests/CDataPlane/ldns_leaks.supp"
LSAN_OPTIONS="$ldns_leaks" fuzz upstream_reply_fuzzer upstream_corpus "$(( (seconds + 1) / 2 ))" 2000
LSAN_OPTIONS="$ldns_leaks" fuzz stages_fuzzer stages_corpus "$(( (seconds + 1) / 2 ))" 1000

build "$out/table_builder_test" clang $flags -fsanitize=address,undefined \
  -fno-sanitize-recover=undefined $sources Tests/CDataPlane/table_builder_test.c $libs -o "$out/table_builder_test"
"$out/table_builder_test"

build "$out/stress_tsan" gcc $flags -fsanitize=thread $sources Tests/CDataPlane/server_stress.c $libs \
  -o "$out/stress_tsan"
TSAN_OPTIONS="halt_on_error=1" "$out/stress_tsan"

build "$out/stress_asan" clang $flags -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  $sources Tests/CDataPlane/server_stress.c $libs -o "$out/stress_asan"
"$out/stress_asan"

build "$out/forward_tsan" gcc $flags -fsanitize=thread $sources Tests/CDataPlane/forward_stress.c $libs \
  -o "$out/forward_tsan"
TSAN_OPTIONS="halt_on_error=1" "$out/forward_tsan"

build "$out/forward_asan" clang $flags -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  $sources Tests/CDataPlane/forward_stress.c $libs -o "$out/forward_asan"
"$out/forward_asan"
