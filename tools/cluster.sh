#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup() runs from traps
# `make cluster`: past one host on one machine (docs/scale-out.md). Two stateless edges on
# 127.0.0.1 and three owner hosts on 127.0.0.2-4, each owner nginx with its own development
# backend (tools/dev_backend.py) on a Unix socket, every file under run/cluster/ (written by
# tools/cluster_setup.sh). Prints the curls to try; Ctrl-C stops everything. The ports start
# at CLUSTER_PORT (default 7200: edges on 7201 and 7202, owners on 7211-7213).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
dir="$root/run/cluster"
base=${CLUSTER_PORT:-7200}
python=/usr/bin/python3
nginx=/usr/sbin/nginx
module="$root/build/ngx_http_wa_pair_module.so"
pids=()

say() { echo "cluster: $*" >&2; }
die() { say "$*"; exit 1; }

# A child that has exited stays a zombie until waited for, so `kill -0` is not enough.
running() {
    local state
    state=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

stop() {  # SIGTERM, then SIGKILL after 5 s
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do running "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    trap - INT TERM EXIT
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done   # edges first
    rm -f "$dir"/*/engine.sock "$dir"/*/nginx.pid "$dir/pids"
}

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

[ -f "$module" ] || die "$module is missing: build the module first (make module)"
[ -x "$nginx" ] || die "$nginx is missing: apt-get install nginx"

# A cluster of an earlier run still going: its pids are in run/cluster/pids.
if [ -f "$dir/pids" ]; then
    while read -r pid; do
        if [[ $pid =~ ^[0-9]+$ ]] && running "$pid" && grep -qaF "$dir" "/proc/$pid/cmdline"; then
            die "a cluster of an earlier 'make cluster' is still running (pid $pid): stop it with Ctrl-C in its terminal"
        fi
    done < "$dir/pids"
    rm -f "$dir/pids"
fi

# The user nobody (nginx's workers when started as root) must reach the engines' sockets.
user='# user: the current one'
if [ "$(id -u)" = 0 ]; then
    user="# user: nginx's default (workers run as nobody)"
    if ! runuser -u nobody -- test -x "$root/run" 2>/dev/null; then
        user='user root;  # the user nobody cannot reach run/cluster'
        say "note: the user nobody cannot reach $root/run, so the workers run as root"
    fi
fi
mkdir -p "$root/run" && chmod 755 "$root/run"
CLUSTER_USER=$user "$root/tools/cluster_setup.sh" "$dir" "$base"

while read -r name addr port; do
    listening "$addr" "$port" && die "$addr:$port ($name) is already in use: set CLUSTER_PORT to another base"
done < "$dir/nodes.txt"

trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

# The engines, then the owners, then the edges: each comes up before what calls it.
for node in "$dir"/owner-*; do
    "$python" "$root/tools/dev_backend.py" --socket "$node/engine.sock" 2>> "$node/logs/engine.log" &
    pids+=($!)
    echo "$!" >> "$dir/pids"
done
for node in "$dir"/owner-*; do
    for _ in $(seq 50); do
        curl -sf --unix-socket "$node/engine.sock" http://localhost/_stats > /dev/null && break
        sleep 0.1
    done
    curl -sf --unix-socket "$node/engine.sock" http://localhost/_stats > /dev/null \
        || die "the development backend of $(basename "$node") did not start; see $node/logs/engine.log"
done
for kind in owner edge; do
    while read -r name addr port; do
        [[ $name == $kind-* ]] || continue
        node=$dir/$name
        "$nginx" -t -q -p "$node/" -c "$node/nginx.conf" -e "$node/logs/error.log" \
            || die "nginx -t failed for $name; see above and $node/logs/error.log"
        "$nginx" -p "$node/" -c "$node/nginx.conf" -e "$node/logs/error.log" &
        pids+=($!)
        echo "$!" >> "$dir/pids"
        until listening "$addr" "$port"; do
            running "${pids[-1]}" || die "nginx of $name did not start; see $node/logs/error.log"
            sleep 0.1
        done
    done < "$dir/nodes.txt"
done

mint() { "$python" "$root/tools/mint_jwt.py" --secret-file "$dir/jwt.secret" --device-id "$1" --ttl 86400; }
read -r _ _ edge_a < <(grep '^edge-a ' "$dir/nodes.txt")
read -r _ _ edge_b < <(grep '^edge-b ' "$dir/nodes.txt")
read -r _ owner1_addr owner1_port < <(grep '^owner-1 ' "$dir/nodes.txt")
post() {  # post URL TOKEN [curl options]
    local url=$1 token=$2
    shift 2
    printf "curl %s--request POST '%s' --header \"Authorization: %s\" --header 'Content-Type: application/json' --data '{\"phone\":\"6281234567890\"}'\n" \
        "${*:+$* }" "$url" "$token"
}
cat <<EOF

ngx_wa_pair cluster: edges on http://127.0.0.1:$edge_a and http://127.0.0.1:$edge_b, owner hosts
$(awk '/^owner-/ {printf "%s on https://%s:%s (engine: %s/%s/engine.sock)\n", $1, $2, $3, d, $1}' d="$dir" "$dir/nodes.txt")
Placement: $dir/placement.map. Logs: $dir/*/logs/.

A device placed on owner-1 (token valid 24 h), through edge A, then edge B: the second answer
is the first one's code again, from owner-1's zone (one call to its engine):

$(post "http://127.0.0.1:$edge_a/devices/me/login-code" "$(mint demo-1)")
$(post "http://127.0.0.1:$edge_b/devices/me/login-code" "$(mint demo-1)")

A device no owner holds (not in placement.map): 503 from the edge:

$(post "http://127.0.0.1:$edge_a/devices/me/login-code" "$(mint nobody-knows-me)")

Straight to owner-1, past the edges, with a forged signature: the owner verifies the token itself (401):

$(post "https://owner-1:$owner1_port/devices/me/login-code" "$(mint demo-1 | sed 's/\.[^.]*$/.forged-signature/')" --cacert "$dir/pki/ca.pem" --resolve "owner-1:$owner1_port:$owner1_addr")

Calls each engine received: curl --unix-socket $dir/owner-1/engine.sock http://localhost/_stats
Move demo-1 to owner-2: edit placement.map, then for each edge: kill -HUP \$(cat $dir/edge-a/nginx.pid)

Ctrl-C stops the edges, the owners and their engines.
EOF

status=0
wait -n "${pids[@]}" || status=$?
say "a process of the cluster exited (status $status); stopping"
exit "$status"
