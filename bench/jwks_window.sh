#!/usr/bin/env bash
# `make bench-jwks`: keys fetched from a JWKS URL, under load. One nginx with a master and 2
# workers (bench/nginx.conf.in otherwise): /fetched verifies RS256 tokens with the keys of its
# own /jwks.json (wa_pair_jwt_jwks_url, refresh=1m), /filekeys with the same keys from a file.
# The set served at /jwks.json changes every 20 s (a second key comes and goes), so every
# refresh brings a new set that each worker parses, and its verified tokens are forgotten.
# wrk runs BENCH_WINDOW seconds (65) on each path, fetched first: each window holds at least
# one refresh. Prints p99 and the slowest request of both, side by side, and the fetches of
# /jwks.json per refresh period (its access log): one per period, whatever the workers.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
module="$root/build/ngx_http_wa_pair_module.so"
nginx=/usr/sbin/nginx
python=/usr/bin/python3
port=${BENCH_PORT:-7631}
window=${BENCH_WINDOW:-65}
conns=${BENCH_CONNECTIONS:-32}

dir=$(mktemp -d /tmp/wa-pair-bench-jwks.XXXXXX)
chmod 755 "$dir"
mkdir -p "$dir/tmp"
nginx_pid=''
rotator=''
cleanup() {
    [ -z "$rotator" ] || kill "$rotator" 2>/dev/null || true
    [ -z "$nginx_pid" ] || kill -QUIT "$nginx_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/jwt.secret"
token=$("$python" "$root/bench/jwks_key.py" "$dir/jwks-one.json" "$dir/jwks-two.json")
cp "$dir/jwks-one.json" "$dir/jwks.json"
sed -e "s|@DIR@|$dir|g" -e "s|@MODULE@|$module|g" -e "s|@PORT@|$port|g" -e "s|@NAME@|main|g" -e "s|@METRICS@||" \
    -e 's|^master_process off;|master_process on;|' -e 's|^worker_processes 1;|worker_processes 2;|' \
    "$root/bench/nginx.conf.in" > "$dir/nginx.conf"

"$nginx" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/main-error.log" &
nginx_pid=$!
for _ in $(seq 100); do
    [ -s "$dir/main-jwks-access.log" ] && break
    sleep 0.1
done
[ -s "$dir/main-jwks-access.log" ] || { echo "bench-jwks: no first fetch" >&2; tail -5 "$dir/main-error.log" >&2; exit 1; }
started=$(date +%s)

( n=0; while sleep 20; do   # a changed set for every refresh
      n=$((n + 1)); src=$([ $((n % 2)) = 1 ] && echo two || echo one)
      cp "$dir/jwks-$src.json" "$dir/jwks.json.tmp" && mv "$dir/jwks.json.tmp" "$dir/jwks.json"
  done ) &
rotator=$!

to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
        else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
        else print v }'
}

echo "ngx_wa_pair bench-jwks: $(nproc) cores; nginx with 2 workers; wrk -t1 -c$conns -d${window}s per path"
for path in fetched filekeys; do
    before=$(wc -l < "$dir/main-jwks-access.log")
    out=$(BENCH_TOKEN=$token wrk -t1 -c"$conns" -d"${window}s" --latency -s "$root/bench/request.lua" \
        "http://127.0.0.1:$port/$path")
    fetches=$(( $(wc -l < "$dir/main-jwks-access.log") - before ))
    bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<< "$out")
    [ -z "$bad" ] || { echo "bench-jwks: $path had $bad non-2xx answers" >&2; exit 1; }
    printf '%-9s %9s req/s  p99 %7s ms  slowest %8s ms  fetches of /jwks.json meanwhile: %d\n' "$path" \
        "$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")" \
        "$(to_ms "$(awk '$1 == "99%" {print $2}' <<< "$out")")" \
        "$(to_ms "$(awk '$1 == "Latency" {print $4}' <<< "$out")")" "$fetches"
done
elapsed=$(( $(date +%s) - started ))
total=$(wc -l < "$dir/main-jwks-access.log")
echo "fetches of /jwks.json by 2 workers with refresh=1m: $total in the ${elapsed} s since the first" \
     "(one per refresh period: $((1 + elapsed / 60)) or $((2 + elapsed / 60)))"
grep -E '\[(alert|crit|emerg)\]' "$dir/main-error.log" && { echo "bench-jwks: alarming lines in the error log" >&2; exit 1; }
exit 0
