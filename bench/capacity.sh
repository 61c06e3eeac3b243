#!/usr/bin/env bash
# `make capacity`: the figures of docs/scale-out.md's capacity section, measured on the
# configuration of `make cluster` (tools/cluster_setup.sh).
#
# 1. Zone bytes per device: owner-1 with its development backend; bench/zone_fill.py pairs a
#    new device with a new number per request until the zone refuses one (503, full of
#    entries the policy must keep). Every zone size of CAPACITY_ZONES ("1m 4m 32m"), the owner
#    config's wa_pair_zone set to it.
# 2. The placement map at an edge: edge-a with a map of CAPACITY_DEVICES (100000) devices:
#    how long nginx -t and a reload take, and the worker's RSS against a 3-device map.
# CAPACITY_PORT (7750) is the base port of the cluster's files.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
nginx=/usr/sbin/nginx
python=/usr/bin/python3
base=${CAPACITY_PORT:-7750}
zones=${CAPACITY_ZONES:-1m 4m 32m}
devices=${CAPACITY_DEVICES:-100000}

dir=$(mktemp -d /tmp/wa-pair-capacity.XXXXXX)
pids=()
stop_all() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pids=()
}
trap 'stop_all; rm -rf "$dir"' EXIT

CLUSTER_LOG_LEVEL=warn "$root/tools/cluster_setup.sh" "$dir" "$base"
read -r _ owner_addr owner_port < <(grep '^owner-1 ' "$dir/nodes.txt")
read -r _ edge_addr edge_port < <(grep '^edge-a ' "$dir/nodes.txt")
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
start_nginx() {  # start_nginx NODE ADDR PORT
    "$nginx" -p "$dir/$1/" -c "$dir/$1/nginx.conf" -e "$dir/$1/logs/error.log" &
    pids+=($!)
    for _ in $(seq 100); do listening "$2" "$3" && return 0; sleep 0.1; done
    tail -3 "$dir/$1/logs/error.log" >&2
    exit 1
}
bytes() { awk -v s="$1" 'BEGIN {u = tolower(substr(s, length(s))); n = s + 0; print (u == "m" ? n * 1048576 : u == "k" ? n * 1024 : n)}'; }

echo "== zone bytes per device (owner-1, make cluster's policy: per_device=3/h per_phone=3/h)"
printf '%-6s %10s %16s\n' zone devices bytes/device
for size in $zones; do
    sed -i "s/wa_pair_zone pairing:[0-9]*[kKmM]*;/wa_pair_zone pairing:$size;/" "$dir/owner-1/nginx.conf"
    "$python" "$root/tools/dev_backend.py" --socket "$dir/owner-1/engine.sock" &
    pids+=($!)
    for _ in $(seq 50); do [ -S "$dir/owner-1/engine.sock" ] && break; sleep 0.1; done
    start_nginx owner-1 "$owner_addr" "$owner_port"
    read -r stored refusal < <("$python" "$root/bench/zone_fill.py" --url "https://owner-1:$owner_port/devices/me/login-code" \
        --connect "$owner_addr:$owner_port" --ca "$dir/pki/ca.pem" --secret-file "$dir/jwt.secret")
    stop_all
    printf '%-6s %10s %16s   (refused with %s; %s)\n' "$size" "$stored" \
        "$(awk -v b="$(bytes "$size")" -v n="$stored" 'BEGIN {printf "%.0f", b / n}')" "$refusal" \
        "$(grep -c 'is full of entries' "$dir/owner-1/logs/error.log" || true) 'is full' line(s) logged"
    : > "$dir/owner-1/logs/error.log"
done

echo
echo "== the placement map at an edge ($devices devices)"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
worker_of() { awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null; }
measure_edge() {  # prints: nginx -t seconds, reload seconds, worker RSS kB
    local t0 t1 t2 master worker old
    t0=$(date +%s.%N)
    "$nginx" -t -q -p "$dir/edge-a/" -c "$dir/edge-a/nginx.conf" -e "$dir/edge-a/logs/error.log"
    t1=$(date +%s.%N)
    start_nginx edge-a "$edge_addr" "$edge_port"
    master=${pids[-1]}
    for _ in $(seq 100); do worker=$(worker_of "$master"); [ -n "$worker" ] && break; sleep 0.1; done
    old=$worker
    t2=$(date +%s.%N)
    kill -HUP "$master"
    for _ in $(seq 600); do
        worker=$(worker_of "$master")
        [ -n "$worker" ] && [ "$worker" != "$old" ] && ! grep -q "^$old\$" <(tr ' ' '\n' < "/proc/$master/task/$master/children") && break
        sleep 0.05
    done
    local reload
    reload=$(awk -v a="$t2" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
    sleep 0.5
    printf '%.2f %s %s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" "$reload" "$(rss "$(worker_of "$master")")"
    stop_all
}
read -r t_small r_small rss_small < <(measure_edge)
awk -v n="$devices" 'BEGIN {for (i = 0; i < n; i++) printf "device-%08d owner-%d;\n", i, i % 3 + 1}' > "$dir/placement.map"
read -r t_big r_big rss_big < <(measure_edge)
printf '%-22s %10s %10s %14s\n' map "nginx -t s" "reload s" "worker RSS kB"
printf '%-22s %10s %10s %14s\n' "3 devices" "$t_small" "$r_small" "$rss_small"
printf '%-22s %10s %10s %14s\n' "$devices devices" "$t_big" "$r_big" "$rss_big"
echo "placement.map: $(wc -c < "$dir/placement.map") bytes"
