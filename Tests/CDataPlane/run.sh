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
mkdir -p "$out/corpus"
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

build "$out/query_fuzzer" clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  $sources Tests/CDataPlane/query_fuzzer.c $libs -o "$out/query_fuzzer"
if ! "$out/query_fuzzer" -seed=1 -artifact_prefix="$out/" -max_total_time="$seconds" -max_len=600 \
  "$out/corpus" Tests/CDataPlane/corpus > "$out/fuzz.log" 2>&1; then
  tail -n 40 "$out/fuzz.log"
  exit 1
fi
grep "^Done" "$out/fuzz.log"

mkdir -p "$out/upstream_corpus"
build "$out/upstream_reply_fuzzer" clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  $sources Tests/CDataPlane/upstream_reply_fuzzer.c $libs -o "$out/upstream_reply_fuzzer"
if ! LSAN_OPTIONS="suppressions=$PWD/Tests/CDataPlane/ldns_leaks.supp" "$out/upstream_reply_fuzzer" -seed=1 -artifact_prefix="$out/" -max_total_time="$(( (seconds + 1) / 2 ))" \
  -max_len=2000 "$out/upstream_corpus" Tests/CDataPlane/upstream_corpus > "$out/upstream_fuzz.log" 2>&1; then
  tail -n 40 "$out/upstream_fuzz.log"
  exit 1
fi
grep "^Done" "$out/upstream_fuzz.log"

mkdir -p "$out/stages_corpus"
build "$out/stages_fuzzer" clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  $sources Tests/CDataPlane/stages_fuzzer.c $libs -o "$out/stages_fuzzer"
if ! LSAN_OPTIONS="suppressions=$PWD/Tests/CDataPlane/ldns_leaks.supp" "$out/stages_fuzzer" -seed=1 -artifact_prefix="$out/" -max_total_time="$(( (seconds + 1) / 2 ))" \
  -max_len=1000 "$out/stages_corpus" Tests/CDataPlane/stages_corpus > "$out/stages_fuzz.log" 2>&1; then
  tail -n 40 "$out/stages_fuzz.log"
  exit 1
fi
grep "^Done" "$out/stages_fuzz.log"

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
