#!/usr/bin/env bash
# `make soak`: SOAK_REQUESTS (default 1,000,000) requests through the full path — wrk at
# SOAK_CONNECTIONS (default 32: the Python dev backend is fastest there; make faults runs
# 256) connections, a valid token, JWT verification, body parsing, the call through nginx's
# upstream (a block with keepalive) to tools/dev_backend.py on a Unix socket, the envelope — against one nginx with 2 workers on
# 127.0.0.1:7503. wrk is time-based, so it runs in slices of SOAK_SLICE seconds (default 20)
# until the responses add up. Every response is checked (tools/load/envelope.lua). Prints
# each worker's RSS and open fds before (after a warm-up), after every slice and at the end.
# Fails on an invalid envelope, a request error, a worker exit, an [alert]/[crit], or growth
# beyond 10% + 2 MB of RSS or 32 fds (the backend connections the upstream block keeps alive).
set -uo pipefail
cd "$(dirname "$0")/.."
source tools/load/lib.sh

target=${SOAK_REQUESTS:-1000000}
slice=${SOAK_SLICE:-20}
command -v wrk > /dev/null || die "wrk is not installed (tools/deps.sh)"
make -s module || die "make module failed"
trap cleanup EXIT

run_setup "$root/build/soak" 7503 2 off
backend_start
nginx_start
say "nginx $master, workers $(workers)on 127.0.0.1:$port; backend unix:$sock; target $target requests"

wrk_slice() {
    wrk -t2 -c"${SOAK_CONNECTIONS:-32}" -d"$1"s --timeout 10s -s tools/load/envelope.lua \
        "http://127.0.0.1:$port/devices/me/login-code" -- "$token" > "$2" 2>&1
}
field() { sed -n "s/^$1 //p" "$2"; }
usage_line() { snapshot | awk '{ printf "  %s: rss %d kB fds %d", $1, $3, $2 }'; }

wrk_slice 5 "$run/warmup.txt"
sleep 2
pids_before=$(workers)
snapshot > "$run/before.txt"
say "before:$(usage_line)"

total=0 bad=0 non200=0 errors=0 n=0 started=$SECONDS
while [ "$total" -lt "$target" ]; do
    n=$((n + 1))
    wrk_slice "$slice" "$run/slice-$n.txt"
    got=$(field RESPONSES "$run/slice-$n.txt")
    total=$((total + ${got:-0}))
    bad=$((bad + $(field BAD "$run/slice-$n.txt")))
    non200=$((non200 + $(field STATUS "$run/slice-$n.txt" | awk '$1 != 200 { s += $2 } END { print s + 0 }')))
    field ERRORS "$run/slice-$n.txt" | grep -q 'connect=0 read=0 write=0 timeout=0' || errors=$((errors + 1))
    say "slice $n: $total requests ($(( total / (SECONDS - started) ))/s)$(usage_line)"
    [ "$got" -gt 0 ] 2> /dev/null || die "wrk made no requests ($run/slice-$n.txt)"
done
sleep 3
snapshot > "$run/after.txt"
say "after (3 s idle):$(usage_line)"

failures=()
check() { if "${@:2}"; then say "ok   $1"; else say "FAIL $1"; failures+=("$1"); fi; }
check "$total requests, every response a well-formed 200 envelope" test "$bad" = 0 -a "$non200" = 0
check "no request error in any slice" test "$errors" = 0
check "same worker pids ($pids_before)" test "$(workers)" = "$pids_before"
alerts=$(alarming_lines "$run/logs/error.log" | wc -l)
check "no [alert], [crit], [emerg] or signal exit in the error log ($alerts)" test "$alerts" = 0
join "$run/before.txt" "$run/after.txt" | while read -r pid f1 r1 f2 r2; do
    echo "    worker $pid: rss ${r1} kB -> ${r2} kB, fds $f1 -> $f2"
done
check "RSS per worker within 10% + 2 MB of the baseline" \
    awk 'NR==FNR { r[$1] = $3; next } ($1 in r) && $3 > r[$1] * 1.10 + 2048 { bad = 1 } END { exit bad }' \
    "$run/before.txt" "$run/after.txt"
check "open fds per worker within 32 of the baseline" \
    awk 'NR==FNR { f[$1] = $2; next } ($1 in f) && $2 > f[$1] + 32 { bad = 1 } END { exit bad }' \
    "$run/before.txt" "$run/after.txt"
echo
[ ${#failures[@]} -eq 0 ] || { printf 'FAILED: %s\n' "${failures[@]}"; exit 1; }
echo "make soak: OK ($total requests in $((SECONDS - started)) s)"
