#!/usr/bin/env bash
# `make bench`: what the module costs over plain nginx (docs/performance.md).
#
# One nginx, one worker (bench/nginx.conf.in): `return 200` with the success envelope (the
# ceiling), proxy_pass with keep-alive to a fast backend on a Unix socket (nginx itself,
# in the same worker, serving a fixed native answer: the baseline), the module's full path
# against that same backend (HS256 JWT, JSON body, backend call, envelope), and the
# module's 401 and 400 paths, and RS256 keys from a file against the same keys fetched from a
# JWKS URL. A second nginx ("metrics", on BENCH_PORT + 1) is the same but for a
# wa_pair_metrics location: the module's full path against it is the path with metrics on,
# beside the same path with them off. wrk drives each from loopback, interleaved A B A B within
# one run, several rounds, each compared pair side by side; medians and ratios at the end.
# Then instructions per request of every path under callgrind (repeatable where wall-clock
# figures are not), the request pool's size per call, and the worker's RSS before and after.
#
# Knobs: BENCH_ROUNDS (5), BENCH_DURATION (5s), BENCH_CONNECTIONS (32), BENCH_CALLS (2000);
# BENCH_METRICS_AA=1 renders the second nginx without its wa_pair_metrics location: an A/A
# run, for what two nginx of one configuration differ by on this machine.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
module="$root/build/ngx_http_wa_pair_module.so"
nginx=/usr/sbin/nginx
python=/usr/bin/python3
port=${BENCH_PORT:-7601}
port_metrics=$((port + 1))
rounds=${BENCH_ROUNDS:-5}
duration=${BENCH_DURATION:-5s}
conns=${BENCH_CONNECTIONS:-32}
calls=${BENCH_CALLS:-2000}
aa=${BENCH_METRICS_AA:-}

dir=$(mktemp -d /tmp/wa-pair-bench.XXXXXX)
chmod 755 "$dir"
mkdir -p "$dir/tmp"
declare -A nginx_pids   # instance (main, metrics) -> pid
cleanup() {
    for pid in "${nginx_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
if [ -n "${BENCH_KEEP:-}" ]; then trap - EXIT; echo "bench: keeping $dir"; fi

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/jwt.secret"
token=$("$python" "$root/tools/mint_jwt.py" --secret-file "$dir/jwt.secret" --device-id bench-device --ttl 86400)
# An RSA key pair: its public half as a JWK Set (the file keys, and what /jwks.json serves for
# the fetched keys), an RS256 token of its kid.
rs_token=$("$python" "$root/bench/jwks_key.py" "$dir/jwks.json")

instance_of() { [ "$1" = metrics ] && echo metrics || echo main; }  # a path's nginx
port_of() { [ "$(instance_of "$1")" = metrics ] && echo "$port_metrics" || echo "$port"; }

render() {  # render INSTANCE [error_log level]: $dir/INSTANCE.conf
    local name=$1 metrics=''
    [ "$name" = metrics ] && [ -z "$aa" ] && metrics='        location = /metrics { wa_pair_metrics; }'
    sed -e "s|@DIR@|$dir|g" -e "s|@MODULE@|$module|g" -e "s|@PORT@|$(port_of "$name")|g" \
        -e "s|@NAME@|$name|g" -e "s|@METRICS@|$metrics|" \
        -e "s|error.log\" warn;|error.log\" ${2:-warn};|" "$root/bench/nginx.conf.in" > "$dir/$name.conf"
}

start_nginx() {  # start_nginx INSTANCE [wrapper...]: nginx in the foreground of a background job
    local name=$1
    shift
    rm -f "$dir/$name-backend.sock"
    "$@" "$nginx" -p "$dir/" -c "$dir/$name.conf" -e "$dir/$name-error.log" &
    nginx_pids[$name]=$!
    for _ in $(seq 600); do
        curl -s -o /dev/null "http://127.0.0.1:$(port_of "$name")/return" && return 0
        sleep 0.1
    done
    echo "bench: nginx $name did not start" >&2
    tail -5 "$dir/$name-error.log" >&2
    exit 1
}

stop_nginx() {  # stop_nginx INSTANCE: TERM, and KILL after 10 s (under callgrind a TERM is
                # sometimes never acted on)
    local pid=${nginx_pids[$1]}
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "nginx_pids[$1]"
}

# name  path  token  body  expected status
# Each baseline is sent the same request bytes as the paths compared with it: nginx parsing a
# token header or reading a body is not the module's cost. return and proxy get the full
# path's request (token, JSON body); return_na the 401's (no token). Each compared pair runs
# side by side (return/400, return_na/401, proxy/module, filekeys/fetched, module/metrics), and
# every other round runs the list backwards, so that each pair's order alternates: a drift of
# the machine during a round lands on both sides of a ratio. "metrics" is the full path on
# nginx "metrics" (metrics on); every other path is on nginx "main".
paths=(
    "return|/return|$token|{\"phone\":\"6281234567890\"}|200"
    "reject400|/devices/me/login-code|$token|{\"phone\":\"0812\"}|400"
    "return_na|/return||{\"phone\":\"6281234567890\"}|200"
    "reject401|/devices/me/login-code||{\"phone\":\"6281234567890\"}|401"
    "proxy|/proxy|$token|{\"phone\":\"6281234567890\"}|200"
    "module|/devices/me/login-code|$token|{\"phone\":\"6281234567890\"}|200"
    "filekeys|/filekeys|$rs_token|{\"phone\":\"6281234567890\"}|200"
    "fetched|/fetched|$rs_token|{\"phone\":\"6281234567890\"}|200"
    "metrics|/devices/me/login-code|$token|{\"phone\":\"6281234567890\"}|200"
)

check_path() {
    local name=$1 path=$2 tok=$3 body=$4 want=$5 got
    got=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$(port_of "$name")$path" \
        -H 'Content-Type: application/json' ${tok:+-H "Authorization: Bearer $tok"} --data "${body:-{\}}")
    [ "$got" = "$want" ] || { echo "bench: $name answered $got, expected $want" >&2; exit 1; }
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/${nginx_pids[main]}/status"; }

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} m=(NR+1)/2; if (m==int(m)) print a[m]; else print (a[int(m)]+a[int(m)+1])/2}'; }

to_ms() {  # wrk latency (e.g. 812.00us, 1.20ms, 2.01s) -> milliseconds
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
        else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
        else print v }'
}

render main warn
render metrics warn
start_nginx main
start_nginx metrics
for _ in $(seq 50); do  # the first fetch of /fetched's keys
    [ -s "$dir/main-jwks-access.log" ] && break
    sleep 0.1
done
for p in "${paths[@]}"; do IFS='|' read -r name path tok body want <<< "$p"; check_path "$name" "$path" "$tok" "$body" "$want"; done

echo "ngx_wa_pair bench: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "nginx $($nginx -v 2>&1 | sed 's/.*\///'), 1 worker (each of 2 nginx); wrk -t1 -c$conns -d$duration, $rounds interleaved rounds"
rss_before=$(rss_kb)

results="$dir/results.txt"
: > "$results"
rss_rounds=()
for round in $(seq "$rounds"); do
    order=("${paths[@]}")
    if [ $((round % 2)) = 0 ]; then
        order=()
        for ((i = ${#paths[@]} - 1; i >= 0; i--)); do order+=("${paths[i]}"); done
    fi
    for p in "${order[@]}"; do
        IFS='|' read -r name path tok body want <<< "$p"
        out=$(BENCH_TOKEN=$tok BENCH_BODY=$body wrk -t1 -c"$conns" -d"$duration" --latency \
            -s "$root/bench/request.lua" "http://127.0.0.1:$(port_of "$name")$path")
        rps=$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")
        served=$(awk '/ requests in / {print $1}' <<< "$out")
        p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<< "$out")")
        p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<< "$out")")
        bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<< "$out")
        errors=$(grep -c 'Socket errors' <<< "$out" || true)
        if [ "$want" = 200 ] && [ -n "$bad" ]; then
            echo "bench: $name had $bad non-2xx answers" >&2; exit 1
        fi
        echo "$round $name $rps $p50 $p99 $served" >> "$results"
        printf 'round %d  %-10s %10s req/s  p50 %7s ms  p99 %7s ms%s\n' "$round" "$name" "$rps" "$p50" "$p99" \
            "$([ "$errors" = 0 ] || echo '  (socket errors)')"
    done
    rss_rounds+=("$(rss_kb)")
    echo "round $round: worker RSS ${rss_rounds[-1]} kB after $(awk '{r += $6} END {printf "%d", r}' "$results") requests"
done
rss_after=$(rss_kb)

echo
echo "medians over $rounds rounds:"
printf '%-10s %12s %10s %10s\n' path req/s p50_ms p99_ms
declare -A RPS P99
for p in "${paths[@]}"; do
    name=${p%%|*}
    RPS[$name]=$(awk -v n="$name" '$2 == n {print $3}' "$results" | median)
    P99[$name]=$(awk -v n="$name" '$2 == n {print $5}' "$results" | median)
    p50=$(awk -v n="$name" '$2 == n {print $4}' "$results" | median)
    printf '%-10s %12.0f %10.3f %10.3f\n' "$name" "${RPS[$name]}" "$p50" "${P99[$name]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# ratios per round, then their median: rounds share the machine's state at that moment
round_ratio() {  # round_ratio A B column
    awk -v a="$1" -v b="$2" -v c="$3" '$2 == a {x[$1] = $c} $2 == b {y[$1] = $c}
        END {for (r in x) if (y[r] > 0) print x[r] / y[r]}' "$results" | median
}
echo
echo "ratios (median of per-round ratios; target in brackets):"
printf '  module/proxy_pass req/s   %.2f  [>= 0.95]\n' "$(round_ratio module proxy 3)"
printf '  module/proxy_pass p99     %.2f  [<= 1.20]\n' "$(round_ratio module proxy 5)"
printf '  401/return req/s          %.2f  [>= 0.85]  (return without a token, as the 401 request)\n' "$(round_ratio reject401 return_na 3)"
printf '  400/return req/s          %.2f  [>= 0.85]\n' "$(round_ratio reject400 return 3)"
printf '  fetched/file keys req/s   %.2f  [>= 0.95]  (RS256; the keys of a JWKS URL against the same in a file)\n' "$(round_ratio fetched filekeys 3)"
printf '  fetched/file keys p99     %.2f\n' "$(round_ratio fetched filekeys 5)"
printf '  metrics on/off req/s      %.2f  [>= 0.98]  (the full path, nginx "metrics" / nginx "main")\n' \
    "$(round_ratio metrics module 3)"
echo
echo "worker RSS: ${rss_before} kB before, ${rss_after} kB after $(awk '{n++; r += $6} END {printf "%d wrk runs, %d requests", n, r}' "$results"); after each round: ${rss_rounds[*]} kB"
# The metrics nginx counted what it answered (wrk counts only the answers it read in time).
if [ -n "$aa" ]; then
    echo "metrics: an A/A run (BENCH_METRICS_AA): nginx \"metrics\" counts nothing"
else
    counted=$(curl -s "http://127.0.0.1:$port_metrics/metrics" |
        awk '/^wa_pair_requests_total\{.*status="200"/ {n += $NF} END {printf "%d", n}')
    echo "metrics: nginx \"metrics\" counted $counted answers of 200, wrk read $(awk '$2 == "metrics" {r += $6} END {printf "%d", r}' "$results") (+1 check)"
fi
stop_nginx main
stop_nginx metrics

# The request pool per call: nginx's debug log names every block a pool takes from the OS.
render main debug
start_nginx main
: > "$dir/main-error.log"
check_path module /devices/me/login-code "$token" '{"phone":"6281234567890"}' 200
sleep 0.2
stop_nginx main
awk '/\*[0-9]+ (posix_memalign|malloc): / {split($NF, a, ":"); sub(/ .*/, "", a[2]); n++; bytes += a[2]}
     END {printf "request + connection pools of one full-path call: %d bytes in %d blocks (nginx debug log)\n", bytes, n}' \
    "$dir/main-error.log"

# Instructions per request of every path: callgrind counts instructions, not seconds. One
# nginx under callgrind per path, a warm-up, then BENCH_CALLS sequential keep-alive calls.
instructions() {  # instructions NAME PATH TOKEN BODY STATUS: prints per request; keeps the profile
    local name=$1 path=$2 tok=$3 body=$4 want=$5 total instance pid port_n
    instance=$(instance_of "$name")
    port_n=$(port_of "$name")
    start_nginx "$instance" valgrind -q --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/callgrind.$name"
    pid=${nginx_pids[$instance]}
    "$python" "$root/bench/calls.py" "$port_n" "$path" "$tok" "${body:-{\}}" "$want" 200 > /dev/null   # warm-up
    callgrind_control -i on "$pid" > /dev/null 2>&1
    "$python" "$root/bench/calls.py" "$port_n" "$path" "$tok" "${body:-{\}}" "$want" "$calls" > /dev/null
    callgrind_control -i off "$pid" > /dev/null 2>&1
    callgrind_control -d "$pid" > /dev/null 2>&1
    stop_nginx "$instance"
    # the dump of the measured calls
    callgrind_annotate "$dir/callgrind.$name.1" > "$dir/annotate.$name.txt" 2>/dev/null
    total=$(awk '/PROGRAM TOTALS/ && !t {gsub(",", "", $1); t = $1} END {print t}' "$dir/annotate.$name.txt")
    printf '  %-10s %8s\n' "$name" "$((total / calls))"
}

render main warn
render metrics warn
echo
echo "instructions per request under callgrind ($calls sequential calls per path; the worker and the backend server in it):"
for p in "${paths[@]}"; do
    IFS='|' read -r name path tok body want <<< "$p"
    instructions "$name" "$path" "$tok" "$body" "$want"
done
echo "top functions of the full path by own instructions:"
awk '/^-+$/ {s++} s >= 3 && NF > 1 && $1 ~ /[0-9]/ && !/PROGRAM TOTALS/ && n++ < 15 {sub(/ \[.*/, ""); print "  " substr($0, 1, 150)}' \
    "$dir/annotate.module.txt"
