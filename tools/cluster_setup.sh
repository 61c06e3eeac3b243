#!/usr/bin/env bash
# Writes the files of a cluster of 2 edges and 3 owner hosts on one machine (docs/scale-out.md)
# into one directory; starts nothing. Used by `make cluster` (tools/cluster.sh), the tests
# (t/lib/WaPairCluster.pm) and `make bench-cluster`.
#
#   tools/cluster_setup.sh DIR [BASE_PORT]
#
# DIR/nodes.txt     one "<name> <address> <port>" line per nginx:
#                     edge-a 127.0.0.1 BASE+1, edge-b 127.0.0.1 BASE+2,
#                     owner-N 127.0.0.(N+1) BASE+10+N (a loopback address per host)
# DIR/<name>/nginx.conf   each nginx's configuration (conf/cluster-edge.conf, cluster-owner.conf);
#                   an owner's engine listens on DIR/owner-N/engine.sock
# DIR/placement.map devices demo-1, demo-2, demo-3 on owner-1, owner-2, owner-3
# DIR/owners.conf   the edges' upstream block per owner
# DIR/pki/          a CA made for this cluster (its key is deleted once it signed) and each
#                   owner's certificate (DNS:owner-N) and key; made anew at every run
# DIR/jwt.secret    the key every host verifies tokens with: CLUSTER_SECRET_FILE's content,
#                   else a random one made once
# Environment: CLUSTER_SECRET_FILE, CLUSTER_LOG_LEVEL (info), CLUSTER_EDGE_WORKERS (1),
# CLUSTER_OWNER_WORKERS (2), CLUSTER_USER (the USER line; default "user root;" when run as
# root, else a comment), CLUSTER_MODULE (build/ngx_http_wa_pair_module.so).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
dir=${1:?usage: cluster_setup.sh DIR [BASE_PORT]}
base=${2:-7200}
module=${CLUSTER_MODULE:-$root/build/ngx_http_wa_pair_module.so}
level=${CLUSTER_LOG_LEVEL:-info}
owners=3

if ! [[ $base =~ ^[0-9]+$ ]] || [ "$base" -lt 1024 ] || [ "$base" -gt 65500 ]; then
    echo "cluster_setup: bad base port: $base" >&2
    exit 1
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
case "$dir$module" in *[\"\\\$\|\&$'\n']*) echo "cluster_setup: nginx.conf cannot quote $dir" >&2; exit 1 ;; esac
if [ -z "${CLUSTER_USER+x}" ]; then
    if [ "$(id -u)" = 0 ]; then CLUSTER_USER='user root;'; else CLUSTER_USER='# user: the current one'; fi
fi
chmod 755 "$dir"

# ---- the key every host verifies tokens with
if [ -n "${CLUSTER_SECRET_FILE:-}" ]; then
    install -m 0600 "$CLUSTER_SECRET_FILE" "$dir/jwt.secret"
elif [ ! -s "$dir/jwt.secret" ]; then
    (umask 077 && /usr/bin/python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > "$dir/jwt.secret")
fi

# ---- the nodes
: > "$dir/nodes.txt"
echo "edge-a 127.0.0.1 $((base + 1))" >> "$dir/nodes.txt"
echo "edge-b 127.0.0.1 $((base + 2))" >> "$dir/nodes.txt"
for n in $(seq $owners); do echo "owner-$n 127.0.0.$((n + 1)) $((base + 10 + n))" >> "$dir/nodes.txt"; done

# ---- a CA of this cluster and a certificate per owner host (P-256, 30 days)
pki=$dir/pki
rm -rf "$pki" && mkdir -p "$pki" && chmod 755 "$pki"
ossl() { openssl "$@" 2> "$pki/openssl.err" || { cat "$pki/openssl.err" >&2; exit 1; }; }
key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
ossl req -x509 "${key[@]}" -days 30 -sha256 -subj "/CN=wa_pair cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$pki/ca.key" -out "$pki/ca.pem"
for n in $(seq $owners); do
    name=owner-$n
    ossl req -new "${key[@]}" -subj "/CN=$name" -keyout "$pki/$name.key" -out "$pki/$name.csr"
    printf '%s\n' "subjectAltName=DNS:$name" "extendedKeyUsage=serverAuth" \
        "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" > "$pki/$name.ext"
    ossl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 30 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.pem"
    rm -f "$pki/$name.csr" "$pki/$name.ext"
    chmod 600 "$pki/$name.key"
done
rm -f "$pki/ca.key" "$pki/openssl.err"

# ---- the placement map and the edges' upstream blocks
{
    echo "# <device id, as \$wa_pair_device_id shows it> <owner>;  (docs/scale-out.md)"
    for n in $(seq $owners); do echo "demo-$n owner-$n;"; done
} > "$dir/placement.map"
: > "$dir/owners.conf"
while read -r name addr port; do
    # keepalive_timeout below the owner's (75s): the edge closes an idle connection first, so
    # that it never writes a request into one the owner is closing (a POST is not sent twice).
    case $name in owner-*) printf 'upstream %s {\n    server %s:%s;\n    keepalive 64;\n    keepalive_timeout 60s;\n}\n' \
        "$name" "$addr" "$port" >> "$dir/owners.conf" ;; esac
done < "$dir/nodes.txt"

# ---- each nginx's configuration
esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }
while read -r name addr port; do
    node=$dir/$name
    mkdir -p "$node/logs" "$node/temp"
    chmod 755 "$node" "$node/logs" "$node/temp"
    case $name in
        edge-*) template=$root/conf/cluster-edge.conf workers=${CLUSTER_EDGE_WORKERS:-1} ;;
        *) template=$root/conf/cluster-owner.conf workers=${CLUSTER_OWNER_WORKERS:-2} ;;
    esac
    sed -e "s|@MODULE@|$(esc "$module")|g" -e "s|@NODE@|$(esc "$node")|g" -e "s|@CLUSTER@|$(esc "$dir")|g" \
        -e "s|@NAME@|$name|g" -e "s|@LISTEN@|$addr:$port|g" -e "s|@USER@|$(esc "$CLUSTER_USER")|" \
        -e "s|@LOG_LEVEL@|$level|g" -e "s|@WORKERS@|$workers|g" "$template" > "$node/nginx.conf"
done < "$dir/nodes.txt"
