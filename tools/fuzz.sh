#!/usr/bin/env bash
# Builds the fuzz targets listed in fuzz/TARGETS and runs each for SECONDS (default 120):
#   tools/fuzz.sh [--quick] [SECONDS] [TARGET...]
# Each run starts from the committed seeds (fuzz/corpus/<target>/, never written) plus what
# earlier runs found (build/fuzz/corpus/<target>/). Prints one line per target with its
# executions and coverage; a crash or a violated invariant fails the run and leaves the input
# in build/fuzz/artifacts/. Ends with "N passed, N failed" (one per target).
set -uo pipefail
cd "$(dirname "$0")/.."

# --quick: the targets built at -O0 with line tables only, in build/fuzz-quick (make test's
# short run: half the compile time; make fuzz keeps -O1 -g for its long runs).
dir=build/fuzz
opt=()
if [ "${1:-}" = --quick ]; then
    dir=build/fuzz-quick
    opt=(FUZZ_DIR="$dir" FUZZ_OPT="-gline-tables-only -O0")
    shift
fi
seconds=${1:-120}
shift || true
mapfile -t all < <(sed -e 's/#.*//' fuzz/TARGETS | awk 'NF { print $1 }')
targets=("${@:-${all[@]}}")

# fuzz/TARGETS is the one list: every fuzz/*.cpp must be in it, and the reverse.
for src in fuzz/*.cpp; do
    name=$(basename "$src" .cpp)
    printf '%s\n' "${all[@]}" | grep -qx "$name" || { echo "fuzz: $src is not listed in fuzz/TARGETS" >&2; exit 1; }
done
for t in "${all[@]}"; do
    [ -f "fuzz/$t.cpp" ] && [ -d "fuzz/corpus/$t" ] || { echo "fuzz: $t needs fuzz/$t.cpp and fuzz/corpus/$t/" >&2; exit 1; }
done

echo "== fuzz: building ${#targets[@]} targets (clang++, -fsanitize=fuzzer,address,undefined)"
mkdir -p "$dir"
if ! make -s -j"$(nproc)" "${opt[@]}" "${targets[@]/#/$dir/bin/}" > $dir.build.log 2>&1; then
    tail -30 $dir.build.log
    echo "0 passed, ${#targets[@]} failed"
    exit 1
fi

mkdir -p $dir/artifacts $dir/logs
passed=0
failed=0
printf '%-16s %8s %12s %10s %8s %8s %8s\n' target seconds execs execs/s cov ft corpus
for t in "${targets[@]}"; do
    mkdir -p "$dir/corpus/$t"
    log=$dir/logs/$t.log
    "$dir/bin/$t" -max_total_time="$seconds" -print_final_stats=1 -max_len=9000 -timeout=10 \
        -rss_limit_mb=2048 -dict=fuzz/fuzz.dict -artifact_prefix="$dir/artifacts/$t-" \
        "$dir/corpus/$t" "fuzz/corpus/$t" > "$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
    printf '%-16s %8s %12s %10s %8s %8s %8s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}"
    if [ $rc -eq 0 ] && [ -n "$execs" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "fuzz: $t FAILED (exit $rc), log $log:"
        grep -E 'ERROR|INVARIANT|runtime error|SUMMARY|Test unit written|^    #[0-9]' "$log" | head -25
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
