#!/bin/sh
# run_fuzz.sh SOURCE_ROOT [SECONDS]: builds the AIS libFuzzer target with clang (address and
# undefined sanitizers), seeds it from the shared AIS captures (or fuzz/ais/seeds when they are
# absent) and runs it for SECONDS (default 60). Exit 77 (skip) when clang or libFuzzer is missing.
set -eu
src=$1
secs=${2:-60}
clang=$(command -v clang || true)
if [ -z "$clang" ]; then
    echo "SKIP: clang is not installed"
    exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-ais-XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! "$clang" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -D_GNU_SOURCE -std=c17 -I"$src/ais" "$src/fuzz/ais/fuzz_ais.c" "$src/ais/decode.c" \
        "$src/ais/json.c" $(pkg-config --cflags --libs glib-2.0) -lm -o "$work/fuzz-ais" \
        2>"$work/cc.log"; then
    cat "$work/cc.log"
    echo "SKIP: clang cannot build a libFuzzer target here (libclang-rt missing?)"
    exit 77
fi
mkdir "$work/corpus"
data=${PS_SHARED_DATA:-$src/../shared/data}/ais
if [ -d "$data" ]; then
    # Seeds: chunks of 16 lines of every capture (multi-sentence groups mostly stay together).
    i=0
    for f in "$data"/gpsd/sample.aivdm "$data"/gpsd/*.log "$data"/libais/*.nmea "$data"/libais/test.aivdm; do
        [ -f "$f" ] || continue
        split -l 16 -a 4 "$f" "$work/corpus/seed$i-"
        i=$((i + 1))
    done
else
    cp "$src"/fuzz/ais/seeds/* "$work/corpus/"
fi
echo "corpus: $(ls "$work/corpus" | wc -l) seeds; running $secs s"
rc=0
ASAN_OPTIONS=detect_leaks=1 "$work/fuzz-ais" -max_total_time="$secs" -max_len=4096 -timeout=10 \
    -rss_limit_mb=1024 -print_final_stats=1 "$work/corpus" >"$work/fuzz.log" 2>&1 || rc=$?
tail -25 "$work/fuzz.log"
exit $rc
