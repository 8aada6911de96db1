#!/usr/bin/env bash
# Builds every libFuzzer target in test/fuzz/ with clang (ASan + UBSan) into build/fuzz/.
# Run one: build/fuzz/fuzz_request -max_total_time=300 -max_len=8192 build/fuzz/corpus_request
set -euo pipefail
cd "$(dirname "$0")/.."
out=${FUZZ_OUT:-build/fuzz}
mkdir -p "$out/obj"
pkgs="libuv jansson yaml-0.1 libcurl openssl libproc2"
cflags="-g -O1 -std=c17 -D_GNU_SOURCE -Iinternal -I. -fsanitize=fuzzer-no-link,address,undefined $(pkg-config --cflags $pkgs)"
objs=()
for src in internal/*/*.c; do
    o="$out/obj/$(echo "$src" | tr / _).o"
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ]; then clang $cflags -c "$src" -o "$o"; fi
    objs+=("$o")
done
for t in test/fuzz/fuzz_*.c; do
    name=$(basename "$t" .c)
    clang $cflags -fsanitize=fuzzer "$t" "${objs[@]}" $(pkg-config --libs $pkgs) -lhttp_parser -lm \
        -o "$out/$name"
    echo "built $out/$name"
done
