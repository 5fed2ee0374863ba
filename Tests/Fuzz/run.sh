#!/usr/bin/env bash
# Fuzzes the C packet path (parse, lookup, reply) with libFuzzer under
# AddressSanitizer and UndefinedBehaviorSanitizer, from the seed corpus in
# the tree. Usage: Tests/Fuzz/run.sh [seconds]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-30}"
out=.build/fuzz
mkdir -p "$out/corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_GNU_SOURCE -ICSupport/CDataPlane/include -ICSupport/CDataPlane \
  CSupport/CDataPlane/query.c CSupport/CDataPlane/answer.c CSupport/CDataPlane/table.c \
  CSupport/CDataPlane/arena.c CSupport/CDataPlane/wire.c Tests/Fuzz/query_fuzzer.c -lldns -o "$out/query_fuzzer" 2> "$out/build.log" \
  || { cat "$out/build.log"; exit 1; }
"$out/query_fuzzer" -seed=1 -artifact_prefix="$out/" -max_total_time="$seconds" -max_len=600 -print_final_stats=1 \
  "$out/corpus" Tests/Fuzz/corpus 2>&1 | tail -n 12
