#!/usr/bin/env bash
# shellcheck disable=SC2317  # stop() and cleanup() run from traps
# `make run`: the module in the stock Debian nginx on http://localhost:7001, in front of the
# development backend (tools/dev_backend.py), everything under run/ at the repository root.
# Prints a ready-to-paste curl; Ctrl-C stops nginx and the backend. Safe to run again: stale
# pid files and sockets of an earlier run are cleaned up. Never touches /var/lib/nginx,
# /var/log/nginx or /run/nginx.pid (docs/testing.md).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
run="$root/run"
sock="$run/backend.sock"
module="$root/build/ngx_http_wa_pair_module.so"
python=/usr/bin/python3
nginx=/usr/sbin/nginx
nginx_args=(-p "$run/" -c "$run/nginx.conf" -e "$run/logs/error.log")
nginx_pid='' backend_pid=''

say() { echo "run.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# A child that has exited stays a zombie until waited for, so `kill -0` is not enough.
running() {
    local state
    state=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

stop() {  # SIGTERM, then SIGKILL after 5 s
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do running "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    trap - INT TERM EXIT
    stop "$nginx_pid"
    stop "$backend_pid"
    rm -f "$sock" "$run/backend.pid" "$run/nginx.pid"
}

# A pid file whose process is gone is stale: remove it. A live one means a run is still going.
check_pid_file() {
    local file=$1 pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && running "$pid" && grep -qaF "$run" "/proc/$pid/cmdline"; then
        die "$(basename "$file" .pid) of an earlier 'make run' is still running (pid $pid): stop it with Ctrl-C in its terminal, or: kill $pid"
    fi
    rm -f "$file"
}

port_open() { (exec 3<>/dev/tcp/127.0.0.1/7001) 2>/dev/null; }

[ -f "$module" ] || die "$module is missing: build the module first (make)"
[ -x "$nginx" ] || die "$nginx is missing: apt-get install nginx"
case "$run" in *[\"\\\$$'\n']*) die "nginx.conf cannot quote this path: $run" ;; esac

mkdir -p "$run/logs" "$run/temp"
chmod 755 "$run" "$run/logs" "$run/temp"  # workers (nobody when started as root) need the socket
check_pid_file "$run/nginx.pid"
check_pid_file "$run/backend.pid"
port_open && die "127.0.0.1:7001 is already in use"

if [ ! -s "$run/jwt.secret" ]; then
    (umask 077 && "$python" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$run/jwt.secret.new")
    mv "$run/jwt.secret.new" "$run/jwt.secret"
fi
chmod 600 "$run/jwt.secret"

trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

"$python" "$root/tools/dev_backend.py" --socket "$sock" &  # removes a stale socket itself
backend_pid=$!
echo "$backend_pid" > "$run/backend.pid"
for _ in $(seq 50); do
    curl -sf --unix-socket "$sock" http://localhost/_stats > /dev/null && break
    running "$backend_pid" || die "the development backend did not start"
    sleep 0.1
done

user="# user: nginx's default (workers run as nobody when started as root)"
if [ "$(id -u)" = 0 ] && ! runuser -u nobody -- test -w "$sock" 2> /dev/null; then
    user="user root;  # the user nobody cannot reach $sock"
    say "note: the user nobody cannot reach $sock, so the demo's workers run as root"
fi
esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }
sed -e "s|@RUN@|$(esc "$run")|g" -e "s|@MODULE@|$(esc "$module")|g" -e "s|@USER@|$(esc "$user")|" \
    "$root/conf/nginx-run.conf" > "$run/nginx.conf"

"$nginx" -t "${nginx_args[@]}" || die "nginx -t failed; see above and $run/logs/error.log"
"$nginx" "${nginx_args[@]}" &
nginx_pid=$!
until port_open; do
    if ! running "$nginx_pid"; then
        tail -n 5 "$run/logs/error.log" >&2 || true
        die "nginx did not start; see $run/logs/error.log"
    fi
    sleep 0.1
done

token=$("$python" "$root/tools/mint_jwt.py" --secret-file "$run/jwt.secret" --device-id demo-device --ttl 86400)
cat <<EOF

ngx_wa_pair demo: nginx on http://localhost:7001 (pid $nginx_pid), development backend on
$sock. Logs: $run/logs/. Try it (a token for device demo-device, valid 24 h):

curl --request POST 'http://localhost:7001/devices/me/login-code' --header "Authorization: $token" --header "Content-Type: application/json" --data '{"phone":"6281234567890"}'

Ctrl-C stops nginx and the backend.
EOF

status=0
wait -n "$nginx_pid" "$backend_pid" || status=$?
say "$(running "$nginx_pid" && echo "the development backend" || echo nginx) exited (status $status); stopping"
exit "$status"
