#!/usr/bin/env bash
# `make bench-cluster`: what an edge (wa_pair_authenticate, the placement map, proxy_pass over
# TLS to the owner host) costs against proxy_pass alone on the same path (docs/scale-out.md).
#
# The files of `make cluster` (tools/cluster_setup.sh); started: owner-1 (1 worker) with its
# development backend, and edge-a (1 worker) with one more location, /proxy: proxy_pass to
# owner-1 through the same upstream block, TLS settings and keepalive, without authentication
# or placement. Paths, each sent the same request (a token for a device placed on owner-1,
# the same JSON body):
#   edge    edge-a's /devices/me/login-code: authenticate, map, placement, proxy_pass -> owner-1
#   proxy   edge-a's /proxy: proxy_pass alone -> owner-1
#   owner   owner-1 directly over TLS (a reference: the path without an edge)
# The owner answers every request from its zone (one device, one number: after the first
# call, its live code; the engine gives codes an hour long), so the engine's speed is not
# measured. wrk from loopback, interleaved rounds, every other round backwards; medians of
# per-round ratios. Then the instructions per request of the edge's two paths (callgrind). Knobs: BENCH_ROUNDS (3), BENCH_DURATION (5s), BENCH_CONNECTIONS (32),
# BENCH_CLUSTER_PORT (7700: edge-a on 7701, owner-1 on 127.0.0.2:7711), BENCH_KEEPALIVE (the
# edge's idle connections kept per owner, make cluster's 64; below the concurrency, the edge
# opens a TLS connection for part of the requests).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
nginx=/usr/sbin/nginx
python=/usr/bin/python3
base=${BENCH_CLUSTER_PORT:-7700}
rounds=${BENCH_ROUNDS:-3}
duration=${BENCH_DURATION:-5s}
conns=${BENCH_CONNECTIONS:-32}

dir=$(mktemp -d /tmp/wa-pair-bench-cluster.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

CLUSTER_LOG_LEVEL=warn CLUSTER_OWNER_WORKERS=1 CLUSTER_EDGE_WORKERS=1 \
    "$root/tools/cluster_setup.sh" "$dir" "$base"
echo "bench-device owner-1;" >> "$dir/placement.map"
keepalive=${BENCH_KEEPALIVE:-64}
sed -i "s/^    keepalive [0-9]*;/    keepalive $keepalive;/" "$dir/owners.conf"
read -r _ edge_addr edge_port < <(grep '^edge-a ' "$dir/nodes.txt")
read -r _ owner_addr owner_port < <(grep '^owner-1 ' "$dir/nodes.txt")

# the baseline location, inserted in edge-a before its catch-all location
cat > "$dir/proxy-location.conf" <<CONF
        location = /proxy {
            proxy_pass https://owner-1/devices/me/login-code;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate "$dir/pki/ca.pem";
            proxy_ssl_name owner-1;
            proxy_ssl_server_name on;
        }

CONF
awk -v f="$dir/proxy-location.conf" '/^        location \/ \{/ {while ((getline l < f) > 0) print l} {print}' \
    "$dir/edge-a/nginx.conf" > "$dir/edge-a/nginx.conf.new" && mv "$dir/edge-a/nginx.conf.new" "$dir/edge-a/nginx.conf"
grep -q 'location = /proxy' "$dir/edge-a/nginx.conf" || { echo "bench-cluster: no /proxy in edge-a" >&2; exit 1; }

"$python" "$root/tools/dev_backend.py" --socket "$dir/owner-1/engine.sock" --timeout 3600 &
pids+=($!)
for _ in $(seq 50); do [ -S "$dir/owner-1/engine.sock" ] && break; sleep 0.1; done
for node in owner-1 edge-a; do
    "$nginx" -p "$dir/$node/" -c "$dir/$node/nginx.conf" -e "$dir/$node/logs/error.log" &
    pids+=($!)
done
token=$("$python" "$root/tools/mint_jwt.py" --secret-file "$dir/jwt.secret" --device-id bench-device --ttl 86400)
body='{"phone":"6281234567890"}'
edge_url="http://$edge_addr:$edge_port"
owner_url="https://$owner_addr:$owner_port"
paths=("edge|$edge_url/devices/me/login-code" "proxy|$edge_url/proxy" "owner|$owner_url/devices/me/login-code")

check() {  # check URL: 200 with a code, or the bench stops
    local got
    for _ in $(seq 50); do
        got=$(curl -sk -o /dev/null -w '%{http_code}' -X POST "$1" -H "Authorization: Bearer $token" \
            -H 'Content-Type: application/json' --data "$body") && [ "$got" = 200 ] && return 0
        sleep 0.1
    done
    echo "bench-cluster: $1 answered $got" >&2
    tail -3 "$dir"/*/logs/error.log >&2
    exit 1
}
for p in "${paths[@]}"; do check "${p#*|}"; done

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} m=(NR+1)/2; if (m==int(m)) print a[m]; else print (a[int(m)]+a[int(m)+1])/2}'; }
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
        else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
        else print v }'
}

echo "ngx_wa_pair bench-cluster: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "nginx $($nginx -v 2>&1 | sed 's/.*\///'), edge and owner 1 worker each, TLS between them (keepalive $keepalive);"
echo "wrk -t1 -c$conns -d$duration, $rounds interleaved rounds"
results="$dir/results.txt"
: > "$results"
for round in $(seq "$rounds"); do
    order=("${paths[@]}")
    [ $((round % 2)) = 1 ] || order=("${paths[2]}" "${paths[1]}" "${paths[0]}")
    for p in "${order[@]}"; do
        name=${p%%|*} url=${p#*|}
        out=$(BENCH_TOKEN=$token BENCH_BODY=$body wrk -t1 -c"$conns" -d"$duration" --latency \
            -s "$root/bench/request.lua" "$url")
        rps=$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")
        p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<< "$out")")
        p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<< "$out")")
        bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<< "$out")
        [ -z "$bad" ] || { echo "bench-cluster: $name had $bad answers that were not 200" >&2; exit 1; }
        echo "$round $name $rps $p50 $p99" >> "$results"
        printf 'round %d  %-6s %10s req/s  p50 %7s ms  p99 %7s ms\n' "$round" "$name" "$rps" "$p50" "$p99"
    done
done

echo
echo "medians over $rounds rounds:"
printf '%-6s %12s %10s %10s\n' path req/s p50_ms p99_ms
for p in "${paths[@]}"; do
    name=${p%%|*}
    printf '%-6s %12.0f %10.3f %10.3f\n' "$name" \
        "$(awk -v n="$name" '$2 == n {print $3}' "$results" | median)" \
        "$(awk -v n="$name" '$2 == n {print $4}' "$results" | median)" \
        "$(awk -v n="$name" '$2 == n {print $5}' "$results" | median)"
done
round_ratio() {  # round_ratio A B column: the median of per-round ratios
    awk -v a="$1" -v b="$2" -v c="$3" '$2 == a {x[$1] = $c} $2 == b {y[$1] = $c}
        END {for (r in x) if (y[r] > 0) print x[r] / y[r]}' "$results" | median
}
echo
echo "ratios (median of per-round ratios):"
printf '  edge/proxy_pass alone req/s  %.2f\n' "$(round_ratio edge proxy 3)"
printf '  edge/proxy_pass alone p99    %.2f\n' "$(round_ratio edge proxy 5)"
printf '  edge/owner directly req/s    %.2f  (what the extra hop costs)\n' "$(round_ratio edge owner 3)"
echo "engine calls during the bench: $(curl -s --unix-socket "$dir/owner-1/engine.sock" http://localhost/_stats)"

# Instructions per request at the edge (callgrind counts instructions, which do not move with
# the machine's noise): edge-a alone under callgrind (no master), 200 warm-up calls, then 2000
# sequential keep-alive calls of each edge path.
stop_last() { kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }
stop_last
sed 's/^daemon off;/daemon off;\nmaster_process off;/' "$dir/edge-a/nginx.conf" > "$dir/edge-a/callgrind.conf"
echo
echo "instructions per request in the edge's worker (callgrind, 2000 sequential calls):"
for p in "${paths[@]:0:2}"; do
    name=${p%%|*} path=/${p#*://*/}
    valgrind -q --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/callgrind.$name" \
        "$nginx" -p "$dir/edge-a/" -c "$dir/edge-a/callgrind.conf" -e "$dir/edge-a/logs/error.log" &
    pids+=($!)
    check "${p#*|}"
    "$python" "$root/bench/calls.py" "$edge_port" "$path" "$token" "$body" 200 200 > /dev/null
    callgrind_control -i on "${pids[-1]}" > /dev/null 2>&1
    "$python" "$root/bench/calls.py" "$edge_port" "$path" "$token" "$body" 200 2000 > /dev/null
    callgrind_control -i off "${pids[-1]}" > /dev/null 2>&1
    callgrind_control -d "${pids[-1]}" > /dev/null 2>&1
    stop_last
    total=$(callgrind_annotate "$dir/callgrind.$name.1" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t {gsub(",", "", $1); t = $1} END {print t}')
    printf '  %-6s %8s\n' "$name" "$((total / 2000))"
done
