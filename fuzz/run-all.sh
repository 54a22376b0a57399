#!/usr/bin/env bash
# fuzz/run-all.sh BUILDDIR [SECONDS]: runs every libFuzzer target built in BUILDDIR (configured
# with CC=clang -Dfuzz=true) for SECONDS each (default 30), each on a temporary copy of its seed
# corpus so the committed seeds are not changed. Fails on the first crash, leak or UB report.
set -euo pipefail
builddir=$1
secs=${2:-30}
src=$(cd "$(dirname "$0")/.." && pwd)
# leaks inside the system's decoders that no input check can avoid (see the file)
export LSAN_OPTIONS="suppressions=$src/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
found=0
for exe in "$builddir"/fuzz/*/fuzz-*; do
    [ -x "$exe" ] && [ -f "$exe" ] || continue
    found=$((found + 1))
    module=$(basename "$(dirname "$exe")")
    work=$(mktemp -d)
    for seeds in "$src/fuzz/$module/seeds" "$src/fuzz/$module/corpus"; do
        [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
    done
    echo "== $(basename "$exe"): $secs s, $(ls "$work" | wc -l) seeds"
    if ! "$exe" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 "$work" >"$work.log" 2>&1; then
        tail -40 "$work.log"
        echo "fuzz: $(basename "$exe") failed"
        exit 1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work.log" || true
    rm -rf "$work" "$work.log"
done
if [ "$found" -eq 0 ]; then
    echo "fuzz: no targets in $builddir/fuzz"
    exit 1
fi
echo "fuzz: $found targets ran clean"
